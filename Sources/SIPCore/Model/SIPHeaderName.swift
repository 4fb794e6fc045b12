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

    /// Lower-cased long names as bytes, indexed by raw value (built once).
    nonisolated(unsafe) private static let lowerNames: [[UInt8]] = allCases.map { Array($0.canonical.lowercased().utf8) }
    /// Compact letters by ASCII code (lower-case), built once.
    nonisolated(unsafe) private static let compactTable: [SIPHeaderName?] = {
        var t = [SIPHeaderName?](repeating: nil, count: 128)
        for n in allCases { if let c = n.compact { t[Int(c)] = n } }
        return t
    }()

    /// Classifies the name bytes `bytes[range]` (no allocation).
    @inline(__always)
    static func classify(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> SIPHeaderName {
        let n = end - start
        if n == 1 {
            let c = bytes[start] | 0x20
            return c < 128 ? (compactTable[Int(c)] ?? .other) : .other
        }
        let first = bytes[start] | 0x20
        for (i, name) in lowerNames.enumerated() where name.count == n && name.first == first {
            var equal = true
            var j = 1
            while j < n {
                if bytes[start + j] | 0x20 != name[j] { equal = false; break }
                j += 1
            }
            if equal { return SIPHeaderName(rawValue: UInt8(i)) ?? .other }
        }
        return .other
    }

    /// Classifies a name given as text (for add/replace/remove by name).
    public init(text: String) {
        let bytes = Array(text.utf8)
        self = bytes.withUnsafeBufferPointer { SIPHeaderName.classify($0, 0, $0.count) }
    }
}
