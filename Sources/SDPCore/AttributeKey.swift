// Attribute names the IMS-ALG reads, classified once per line at parse time so lookups compare a
// byte instead of re-reading text (RFC 8866 §5.13 att-field; names matched ASCII case-insensitively).

public enum SDPAttributeKey: UInt8, Sendable, Equatable {
    case notAttribute = 0, other
    case setup, connection, fingerprint, e2ae, path, msrpCEMA, acceptTypes
    case floorctrl, confid, userid, floorid, label, rtcp, crypto
    case sendrecv, sendonly, recvonly, inactive

    @usableFromInline static let table: [(StaticString, SDPAttributeKey)] = [
        ("setup", .setup), ("connection", .connection), ("fingerprint", .fingerprint), ("3ge2ae", .e2ae),
        ("path", .path), ("msrp-cema", .msrpCEMA), ("accept-types", .acceptTypes), ("floorctrl", .floorctrl),
        ("confid", .confid), ("userid", .userid), ("floorid", .floorid), ("label", .label), ("rtcp", .rtcp),
        ("crypto", .crypto), ("sendrecv", .sendrecv), ("sendonly", .sendonly), ("recvonly", .recvonly),
        ("inactive", .inactive),
    ]

    /// Length of the canonical name (the attribute value starts one byte after it).
    public var nameLength: Int {
        switch self {
        case .notAttribute, .other: return 0
        case .path, .rtcp: return 4
        case .setup, .label: return 5
        case .e2ae, .confid, .userid, .crypto: return 6
        case .floorid: return 7
        case .sendrecv, .sendonly, .recvonly, .inactive: return 8
        case .msrpCEMA, .floorctrl: return 9
        case .connection: return 10
        case .fingerprint: return 11
        case .acceptTypes: return 12
        }
    }

    /// Classifies the name bytes buf[from..<to] (switch on length, then compare candidates).
    @inlinable
    public static func classify(_ buf: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> SDPAttributeKey {
        @inline(__always) func eq(_ lit: StaticString) -> Bool {
            let p = lit.utf8Start
            // Equal bytes (the usual lower-case spelling) cost one compare; a differing byte is
            // compared again case-folded (the literals are lower case).
            for k in 0..<lit.utf8CodeUnitCount {
                let b = buf[from + k]
                if b != p[k], SDPText.lower(b) != p[k] { return false }
            }
            return true
        }
        switch to - from {
        case 4: return eq("path") ? .path : eq("rtcp") ? .rtcp : .other
        case 5: return eq("setup") ? .setup : eq("label") ? .label : .other
        case 6: return eq("3ge2ae") ? .e2ae : eq("confid") ? .confid : eq("userid") ? .userid : eq("crypto") ? .crypto : .other
        case 7: return eq("floorid") ? .floorid : .other
        case 8:
            if eq("sendrecv") { return .sendrecv }
            if eq("sendonly") { return .sendonly }
            if eq("recvonly") { return .recvonly }
            return eq("inactive") ? .inactive : .other
        case 9: return eq("msrp-cema") ? .msrpCEMA : eq("floorctrl") ? .floorctrl : .other
        case 10: return eq("connection") ? .connection : .other
        case 11: return eq("fingerprint") ? .fingerprint : .other
        case 12: return eq("accept-types") ? .acceptTypes : .other
        default: return .other
        }
    }

    /// Classifies an `a=` line value (name up to the first `:`).
    @inlinable
    public static func classify(value: Substring) -> SDPAttributeKey {
        SDPText.withBytes(value) { buf -> SDPAttributeKey in
            var end = buf.count
            for k in 0..<buf.count where buf[k] == ASCII.colon { end = k; break }
            return classify(buf, 0, end)
        }
    }

    /// Classifies a literal name (lower-case literals expected).
    @inlinable
    public static func classify(_ name: StaticString) -> SDPAttributeKey {
        let n = name.utf8CodeUnitCount
        return classify(UnsafeBufferPointer(start: name.utf8Start, count: n), 0, n)
    }
}
