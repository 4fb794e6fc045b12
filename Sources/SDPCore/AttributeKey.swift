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
    ///
    /// Each candidate is compared as one or two little-endian words: the first 4 (or 8) bytes and the
    /// last 4 (overlapping when the name is shorter than 8 or 12). A letter of the lower-case literal
    /// matches either case: its byte is compared after OR 0x20 (`mask` has 0x20 at letter positions
    /// only), which maps exactly 'A'-'Z' onto 'a'-'z' there; other bytes (digits, '-') are compared as
    /// they are. Every load lies inside buf[from..<to].
    @inlinable
    public static func classify(_ buf: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> SDPAttributeKey {
        let len = to &- from
        guard len >= 4, len <= 12, from >= 0, to <= buf.count, let base = buf.baseAddress else { return .other }
        let p = UnsafeRawPointer(base + from)
        @inline(__always) func u32(_ off: Int) -> UInt32 { UInt32(littleEndian: p.loadUnaligned(fromByteOffset: off, as: UInt32.self)) }
        @inline(__always) func u64() -> UInt64 { UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)) }
        let all32: UInt32 = 0x2020_2020
        let all64: UInt64 = 0x2020_2020_2020_2020
        switch len {
        case 4:
            let a = u32(0) | all32
            return a == 0x6874_6170 ? .path : a == 0x7063_7472 ? .rtcp : .other
        case 5:
            let a = u32(0) | all32, b = u32(1) | all32
            if a == 0x7574_6573, b == 0x7075_7465 { return .setup }
            if a == 0x6562_616C, b == 0x6C65_6261 { return .label }
            return .other
        case 6:
            let a = u32(0), b = u32(2)
            if a | 0x0020_2000 == 0x3265_6733, b | 0x2020_0020 == 0x6561_3265 { return .e2ae }
            let al = a | all32, bl = b | all32
            if al == 0x666E_6F63, bl == 0x6469_666E { return .confid }
            if al == 0x7265_7375, bl == 0x6469_7265 { return .userid }
            if al == 0x7079_7263, bl == 0x6F74_7079 { return .crypto }
            return .other
        case 7:
            return u32(0) | all32 == 0x6F6F_6C66 && u32(3) | all32 == 0x6469_726F ? .floorid : .other
        case 8:
            switch u64() | all64 {
            case 0x7663_6572_646E_6573: return .sendrecv
            case 0x796C_6E6F_646E_6573: return .sendonly
            case 0x796C_6E6F_7663_6572: return .recvonly
            case 0x6576_6974_6361_6E69: return .inactive
            default: return .other
            }
        case 9:
            let a = u64(), b = u32(5) | all32
            if a | 0x2020_2000_2020_2020 == 0x6D65_632D_7072_736D, b == 0x616D_6563 { return .msrpCEMA }
            if a | all64 == 0x7274_6372_6F6F_6C66, b == 0x6C72_7463 { return .floorctrl }
            return .other
        case 10:
            return u64() | all64 == 0x6974_6365_6E6E_6F63 && u32(6) | all32 == 0x6E6F_6974 ? .connection : .other
        case 11:
            return u64() | all64 == 0x7270_7265_676E_6966 && u32(7) | all32 == 0x746E_6972 ? .fingerprint : .other
        case 12:
            return u64() | 0x2000_2020_2020_2020 == 0x742D_7470_6563_6361 && u32(8) | all32 == 0x7365_7079 ? .acceptTypes : .other
        default:
            return .other
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
