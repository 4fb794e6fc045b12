/// Header field names the P-CSCF reads or edits. Names are case-insensitive (RFC 3261 §7.3.1) and
/// several have a compact form (RFC 3261 §7.3.3, §20; RFC 3515 `r`, RFC 6665 `o`/`u`, RFC 4028 `x`).
/// Every other name is `.other`; its spelling stays in the message bytes.
public enum SIPHeaderName: UInt8, Sendable, Hashable, CaseIterable {
    case via, from, to, callID, cseq, maxForwards, route, recordRoute, path, serviceRoute, contact
    case contentType, contentLength, contentEncoding, subject, supported, require, proxyRequire
    case expires, timestamp, warning, allow, event, referTo, sessionExpires
    case pAssertedIdentity, pPreferredIdentity, pAssociatedURI, pAccessNetworkInfo, pChargingVector
    case pChargingFunctionAddresses, pVisitedNetworkID
    case securityClient, securityServer, securityVerify
    case wwwAuthenticate, authorization, proxyAuthenticate, proxyAuthorization
    case other

    /// Canonical long form, used when the proxy writes a header line.
    public var canonical: String {
        switch self {
        case .via: "Via"
        case .from: "From"
        case .to: "To"
        case .callID: "Call-ID"
        case .cseq: "CSeq"
        case .maxForwards: "Max-Forwards"
        case .route: "Route"
        case .recordRoute: "Record-Route"
        case .path: "Path"
        case .serviceRoute: "Service-Route"
        case .contact: "Contact"
        case .contentType: "Content-Type"
        case .contentLength: "Content-Length"
        case .contentEncoding: "Content-Encoding"
        case .subject: "Subject"
        case .supported: "Supported"
        case .require: "Require"
        case .proxyRequire: "Proxy-Require"
        case .expires: "Expires"
        case .timestamp: "Timestamp"
        case .warning: "Warning"
        case .allow: "Allow"
        case .event: "Event"
        case .referTo: "Refer-To"
        case .sessionExpires: "Session-Expires"
        case .pAssertedIdentity: "P-Asserted-Identity"
        case .pPreferredIdentity: "P-Preferred-Identity"
        case .pAssociatedURI: "P-Associated-URI"
        case .pAccessNetworkInfo: "P-Access-Network-Info"
        case .pChargingVector: "P-Charging-Vector"
        case .pChargingFunctionAddresses: "P-Charging-Function-Addresses"
        case .pVisitedNetworkID: "P-Visited-Network-ID"
        case .securityClient: "Security-Client"
        case .securityServer: "Security-Server"
        case .securityVerify: "Security-Verify"
        case .wwwAuthenticate: "WWW-Authenticate"
        case .authorization: "Authorization"
        case .proxyAuthenticate: "Proxy-Authenticate"
        case .proxyAuthorization: "Proxy-Authorization"
        case .other: ""
        }
    }

    /// Compact form letter (RFC 3261 §7.3.3 and the extensions above), if any.
    public var compact: UInt8? {
        switch self {
        case .via: UInt8(ascii: "v")
        case .callID: UInt8(ascii: "i")
        case .contentLength: UInt8(ascii: "l")
        case .from: UInt8(ascii: "f")
        case .to: UInt8(ascii: "t")
        case .contact: UInt8(ascii: "m")
        case .supported: UInt8(ascii: "k")
        case .subject: UInt8(ascii: "s")
        case .contentType: UInt8(ascii: "c")
        case .contentEncoding: UInt8(ascii: "e")
        case .event: UInt8(ascii: "o")
        case .referTo: UInt8(ascii: "r")
        case .sessionExpires: UInt8(ascii: "x")
        default: nil
        }
    }

    /// Case-insensitive comparison of `p[start...]` with a lower-case ASCII literal of the same length.
    @inline(__always)
    private static func eq(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ lower: StaticString) -> Bool {
        let l = UnsafeRawPointer(lower.utf8Start)
        let n = lower.utf8CodeUnitCount
        guard let base = p.baseAddress else { return false }
        let a = UnsafeRawPointer(base + start)
        if n < 8 {
            for k in 0..<n {
                let lc = l.load(fromByteOffset: k, as: UInt8.self)
                if a.load(fromByteOffset: k, as: UInt8.self) | ((lc & 0x40) >> 1) != lc { return false }
            }
            return true
        }
        // 8-byte words, the last one overlapping. Case is folded only where the literal has a letter
        // (bit 0x40 set): a '-' must match '-' exactly, so a matching name is always a token.
        @inline(__always) func word(_ o: Int) -> Bool {
            let lw = l.loadUnaligned(fromByteOffset: o, as: UInt64.self)
            let fold = (lw & 0x4040_4040_4040_4040) >> 1
            return a.loadUnaligned(fromByteOffset: o, as: UInt64.self) | fold == lw
        }
        var k = 0
        while k + 8 <= n {
            if !word(k) { return false }
            k += 8
        }
        return k == n || word(n - 8)
    }

    /// Classifies the name bytes `p[start..<end]` (no allocation): dispatch on length, then compare.
    @inline(__always)
    static func classify(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> SIPHeaderName {
        let s = start
        switch end - start {
        case 1:
            let c = p[s]
            guard (c | 0x20) &- 0x61 < 26 else { return .other }
            switch c | 0x20 {
            case UInt8(ascii: "v"): return .via
            case UInt8(ascii: "i"): return .callID
            case UInt8(ascii: "l"): return .contentLength
            case UInt8(ascii: "f"): return .from
            case UInt8(ascii: "t"): return .to
            case UInt8(ascii: "m"): return .contact
            case UInt8(ascii: "k"): return .supported
            case UInt8(ascii: "s"): return .subject
            case UInt8(ascii: "c"): return .contentType
            case UInt8(ascii: "e"): return .contentEncoding
            case UInt8(ascii: "o"): return .event
            case UInt8(ascii: "r"): return .referTo
            case UInt8(ascii: "x"): return .sessionExpires
            default: return .other
            }
        case 2: return eq(p, s, "to") ? .to : .other
        case 3: return eq(p, s, "via") ? .via : .other
        case 4:
            if eq(p, s, "from") { return .from }
            if eq(p, s, "cseq") { return .cseq }
            if eq(p, s, "path") { return .path }
            return .other
        case 5:
            if eq(p, s, "route") { return .route }
            if eq(p, s, "allow") { return .allow }
            if eq(p, s, "event") { return .event }
            return .other
        case 7:
            if eq(p, s, "call-id") { return .callID }
            if eq(p, s, "contact") { return .contact }
            if eq(p, s, "subject") { return .subject }
            if eq(p, s, "require") { return .require }
            if eq(p, s, "expires") { return .expires }
            if eq(p, s, "warning") { return .warning }
            return .other
        case 8: return eq(p, s, "refer-to") ? .referTo : .other
        case 9:
            if eq(p, s, "supported") { return .supported }
            if eq(p, s, "timestamp") { return .timestamp }
            return .other
        case 12:
            if eq(p, s, "max-forwards") { return .maxForwards }
            if eq(p, s, "record-route") { return .recordRoute }
            if eq(p, s, "content-type") { return .contentType }
            return .other
        case 13:
            if eq(p, s, "service-route") { return .serviceRoute }
            if eq(p, s, "proxy-require") { return .proxyRequire }
            if eq(p, s, "authorization") { return .authorization }
            return .other
        case 14: return eq(p, s, "content-length") ? .contentLength : .other
        case 15:
            if eq(p, s, "security-client") { return .securityClient }
            if eq(p, s, "security-server") { return .securityServer }
            if eq(p, s, "security-verify") { return .securityVerify }
            if eq(p, s, "session-expires") { return .sessionExpires }
            return .other
        case 16:
            if eq(p, s, "content-encoding") { return .contentEncoding }
            if eq(p, s, "p-associated-uri") { return .pAssociatedURI }
            if eq(p, s, "www-authenticate") { return .wwwAuthenticate }
            return .other
        case 17: return eq(p, s, "p-charging-vector") ? .pChargingVector : .other
        case 18: return eq(p, s, "proxy-authenticate") ? .proxyAuthenticate : .other
        case 19:
            if eq(p, s, "p-asserted-identity") { return .pAssertedIdentity }
            if eq(p, s, "proxy-authorization") { return .proxyAuthorization }
            return .other
        case 20:
            if eq(p, s, "p-preferred-identity") { return .pPreferredIdentity }
            if eq(p, s, "p-visited-network-id") { return .pVisitedNetworkID }
            return .other
        case 21: return eq(p, s, "p-access-network-info") ? .pAccessNetworkInfo : .other
        case 29: return eq(p, s, "p-charging-function-addresses") ? .pChargingFunctionAddresses : .other
        default: return .other
        }
    }

    /// Classifies a name given as text (for add/replace/remove by name).
    public init(text: String) {
        let bytes = Array(text.utf8)
        self = bytes.withUnsafeBufferPointer { SIPHeaderName.classify($0, 0, $0.count) }
    }
}
