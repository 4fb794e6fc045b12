// Typed views of the o=, c=, m= and b= lines (RFC 8866 §5.2, §5.7, §5.14, §5.8), with the H.248
// extensions used inside Local/Remote descriptors (ITU-T H.248.1 §7.1.8: `$` = "MG chooses",
// `-` = "unspecified"/not used).

/// An address or port field that, inside H.248 descriptors, may be `$` (choose) or `-` (unspecified).
public enum SDPWildcard: Sendable, Equatable {
    case choose        // "$"
    case unspecified   // "-"

    public var text: String { self == .choose ? "$" : "-" }

    static func classify(_ s: Substring) -> SDPWildcard? {
        guard s.utf8.count == 1, let b = s.utf8.first else { return nil }
        if b == ASCII.dollar { return .choose }
        if b == ASCII.dash { return .unspecified }
        return nil
    }
}

/// A connection address (c=, o=): a literal address/FQDN or, in H.248 mode, a wildcard.
public enum SDPAddress: Sendable, Equatable, CustomStringConvertible {
    case literal(String)
    case wildcard(SDPWildcard)

    public init(_ text: Substring) {
        if let w = SDPWildcard.classify(text) { self = .wildcard(w) } else { self = .literal(String(text)) }
    }

    public var description: String {
        switch self {
        case .literal(let s): return s
        case .wildcard(let w): return w.text
        }
    }

    public var literal: String? {
        if case .literal(let s) = self { return s }
        return nil
    }

    /// "IP6" for an address containing `:`, else "IP4" (RFC 8866 §5.7 addrtype).
    public static func addressType(for address: String) -> String {
        address.utf8.contains(ASCII.colon) ? "IP6" : "IP4"
    }
}

/// o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (RFC 8866 §5.2).
public struct Origin: Sendable, Equatable {
    public var username: String
    public var sessionID: String
    public var sessionVersion: String
    public var networkType: String
    public var addressType: String
    public var address: SDPAddress

    public init(username: String, sessionID: String, sessionVersion: String,
                networkType: String = "IN", addressType: String, address: SDPAddress) {
        self.username = username
        self.sessionID = sessionID
        self.sessionVersion = sessionVersion
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
    }

    /// Parses an o= value. In strict mode sess-id/version must be digits (RFC 8866 §5.2).
    public init(parsing value: Substring, allowWildcards: Bool = false, line: Int = 0) throws(SDPError) {
        let f = SDPText.fields(value)
        guard f.count == 6 else { throw SDPError(.malformedOrigin, line: line, detail: "o= needs 6 fields") }
        if !allowWildcards {
            guard SDPText.number(f[1]) != nil, SDPText.number(f[2]) != nil else {
                throw SDPError(.malformedOrigin, line: line, detail: "sess-id/sess-version not numeric")
            }
            guard SDPWildcard.classify(f[5]) == nil else {
                throw SDPError(.wildcardNotAllowed, line: line, detail: "o= address")
            }
        }
        guard SDPText.isToken(f[3]), SDPText.isToken(f[4]) else {
            throw SDPError(.malformedOrigin, line: line, detail: "nettype/addrtype")
        }
        username = String(f[0]); sessionID = String(f[1]); sessionVersion = String(f[2])
        networkType = String(f[3]); addressType = String(f[4]); address = SDPAddress(f[5])
    }

    public var value: String {
        "\(username) \(sessionID) \(sessionVersion) \(networkType) \(addressType) \(address)"
    }
}

/// c=<nettype> <addrtype> <connection-address> (RFC 8866 §5.7). `suffix` keeps a multicast
/// `/ttl[/n]` as received.
public struct ConnectionData: Sendable, Equatable {
    public var networkType: String
    public var addressType: String
    public var address: SDPAddress
    public var suffix: String

    public init(networkType: String = "IN", addressType: String, address: SDPAddress, suffix: String = "") {
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
        self.suffix = suffix
    }

    /// A unicast IN connection for `address`, with addrtype derived from it.
    public init(address: String) {
        self.init(addressType: SDPAddress.addressType(for: address), address: .literal(address))
    }

    public init(parsing value: Substring, allowWildcards: Bool = false, line: Int = 0) throws(SDPError) {
        let f = SDPText.fields(value)
        guard f.count == 3, SDPText.isToken(f[0]), SDPText.isToken(f[1]), !f[2].isEmpty else {
            throw SDPError(.malformedConnection, line: line, detail: "c= needs 3 fields")
        }
        var addr = f[2]
        var suffix = ""
        if let slash = addr.utf8.firstIndex(of: ASCII.slash) {
            suffix = String(addr[slash...])
            addr = addr[addr.startIndex..<slash]
            guard !addr.isEmpty else { throw SDPError(.malformedConnection, line: line, detail: "empty address") }
        }
        if !allowWildcards, SDPWildcard.classify(addr) != nil {
            throw SDPError(.wildcardNotAllowed, line: line, detail: "c= address")
        }
        networkType = String(f[0]); addressType = String(f[1]); address = SDPAddress(addr); self.suffix = suffix
    }

    public var value: String {
        // One allocation (string interpolation is several times slower on this hot path).
        let addr = address.description
        return SDPText.withBytes(of: networkType) { nt in
            SDPText.withBytes(of: addressType) { at in
                SDPText.withBytes(of: addr) { ad in
                    SDPText.withBytes(of: suffix) { sf in
                        String(unsafeUninitializedCapacity: nt.count + at.count + ad.count + sf.count + 2) { out in
                            var p = 0
                            SDPText.write(nt, out, &p); out[p] = ASCII.space; p += 1
                            SDPText.write(at, out, &p); out[p] = ASCII.space; p += 1
                            SDPText.write(ad, out, &p)
                            SDPText.write(sf, out, &p)
                            return p
                        }
                    }
                }
            }
        }
    }
}

/// A transport port in an m= line (RFC 8866 §5.14), or an H.248 wildcard.
public enum SDPPort: Sendable, Equatable, CustomStringConvertible {
    case number(UInt16)
    case wildcard(SDPWildcard)

    public var number: UInt16? {
        if case .number(let n) = self { return n }
        return nil
    }

    public var description: String {
        switch self {
        case .number(let n): return String(n)
        case .wildcard(let w): return w.text
        }
    }
}

/// m=<media> <port>[/<number of ports>] <proto> <fmt> ... (RFC 8866 §5.14).
public struct MediaLine: Sendable, Equatable {
    public var media: String
    public var port: SDPPort
    public var portCount: Int?
    public var proto: String
    public var formats: [String]

    public init(media: String, port: SDPPort, portCount: Int? = nil, proto: String, formats: [String]) {
        self.media = media
        self.port = port
        self.portCount = portCount
        self.proto = proto
        self.formats = formats
    }

    public init(parsing value: Substring, allowWildcards: Bool = false, line: Int = 0) throws(SDPError) {
        let f = SDPText.fields(value)
        guard f.count >= (allowWildcards ? 3 : 4) else {
            throw SDPError(.malformedMedia, line: line, detail: "m= needs media, port, proto and a format")
        }
        guard SDPText.isToken(f[0]) else { throw SDPError(.malformedMedia, line: line, detail: "media") }
        let (port, count) = try MediaLine.parsePort(f[1], allowWildcards: allowWildcards, line: line)
        guard MediaLine.isProto(f[2]) else {
            throw SDPError(.malformedMedia, line: line, detail: "proto")
        }
        media = String(f[0]); self.port = port; portCount = count; proto = String(f[2])
        formats = f.dropFirst(3).map(String.init)
    }

    /// proto = token *("/" token) (RFC 8866 §9).
    static func isProto(_ s: Substring) -> Bool {
        guard !s.isEmpty else { return false }
        var lastWasSlash = true
        for b in s.utf8 {
            if b == ASCII.slash {
                if lastWasSlash { return false }
                lastWasSlash = true
            } else {
                guard SDPText.isTokenChar(b) else { return false }
                lastWasSlash = false
            }
        }
        return !lastWasSlash
    }

    static func parsePort(_ s: Substring, allowWildcards: Bool, line: Int) throws(SDPError) -> (SDPPort, Int?) {
        if let w = SDPWildcard.classify(s) {
            guard allowWildcards else { throw SDPError(.wildcardNotAllowed, line: line, detail: "m= port") }
            return (.wildcard(w), nil)
        }
        var portText = s
        var count: Int? = nil
        if let slash = s.utf8.firstIndex(of: ASCII.slash) {
            portText = s[s.startIndex..<slash]
            guard let n = SDPText.number(s[s.utf8.index(after: slash)...]), n >= 1, n <= 65_535 else {
                throw SDPError(.malformedMedia, line: line, detail: "port count")
            }
            count = Int(n)
        }
        guard let p = SDPText.number(portText), p <= 65_535 else {
            throw SDPError(.malformedMedia, line: line, detail: "port")
        }
        return (.number(UInt16(p)), count)
    }

    public var value: String {
        var s = media + " " + port.description
        if let portCount { s += "/\(portCount)" }
        s += " " + proto
        for f in formats { s += " " + f }
        return s
    }
}

/// b=<bwtype>:<bandwidth> (RFC 8866 §5.8; TIAS RFC 3890; RS/RR RFC 3556).
public struct Bandwidth: Sendable, Equatable {
    public enum Kind: Sendable, Equatable, Hashable {
        case applicationSpecific          // AS, kbit/s
        case conferenceTotal              // CT, kbit/s
        case transportIndependent         // TIAS, bit/s
        case rtcpSenders                  // RS, bit/s
        case rtcpReceivers                // RR, bit/s
        case other(String)

        public init(_ token: Substring) {
            if SDPText.equalsIgnoringCase(token, "AS") { self = .applicationSpecific }
            else if SDPText.equalsIgnoringCase(token, "CT") { self = .conferenceTotal }
            else if SDPText.equalsIgnoringCase(token, "TIAS") { self = .transportIndependent }
            else if SDPText.equalsIgnoringCase(token, "RS") { self = .rtcpSenders }
            else if SDPText.equalsIgnoringCase(token, "RR") { self = .rtcpReceivers }
            else { self = .other(String(token)) }
        }

        public var token: String {
            switch self {
            case .applicationSpecific: return "AS"
            case .conferenceTotal: return "CT"
            case .transportIndependent: return "TIAS"
            case .rtcpSenders: return "RS"
            case .rtcpReceivers: return "RR"
            case .other(let s): return s
            }
        }
    }

    public var kind: Kind
    public var value: UInt64

    public init(kind: Kind, value: UInt64) {
        self.kind = kind
        self.value = value
    }

    public init(parsing text: Substring, line: Int = 0) throws(SDPError) {
        guard let colon = text.utf8.firstIndex(of: ASCII.colon) else {
            throw SDPError(.malformedBandwidth, line: line, detail: "b= needs bwtype:bandwidth")
        }
        let type = text[text.startIndex..<colon]
        guard SDPText.isToken(type), let n = SDPText.number(text[text.utf8.index(after: colon)...]) else {
            throw SDPError(.malformedBandwidth, line: line, detail: "b= value")
        }
        kind = Kind(type)
        value = n
    }

    public var text: String { "\(kind.token):\(value)" }

    /// The value of a b= line value `buf` when it is a valid `bwtype:digits` of `kind` (same result as
    /// `try? Bandwidth(parsing:)` then comparing kinds, without allocating).
    @inlinable
    public static func value(ofKind kind: Kind, in buf: UnsafeBufferPointer<UInt8>) -> UInt64? {
        var colon = -1
        for k in 0..<buf.count where buf[k] == ASCII.colon { colon = k; break }
        guard colon > 0, SDPText.isToken(buf, 0, colon), let n = SDPText.number(buf, colon + 1, buf.count) else { return nil }
        let token = UnsafeBufferPointer(rebasing: buf[0..<colon])
        let known: Kind?
        if SDPText.equalsIgnoringCase(token, "AS") { known = .applicationSpecific }
        else if SDPText.equalsIgnoringCase(token, "CT") { known = .conferenceTotal }
        else if SDPText.equalsIgnoringCase(token, "TIAS") { known = .transportIndependent }
        else if SDPText.equalsIgnoringCase(token, "RS") { known = .rtcpSenders }
        else if SDPText.equalsIgnoringCase(token, "RR") { known = .rtcpReceivers }
        else { known = nil }
        if let known {
            switch (known, kind) {
            case (.applicationSpecific, .applicationSpecific), (.conferenceTotal, .conferenceTotal),
                 (.transportIndependent, .transportIndependent), (.rtcpSenders, .rtcpSenders),
                 (.rtcpReceivers, .rtcpReceivers): return n
            default: return nil
            }
        }
        guard case .other(let name) = kind else { return nil }
        let same = SDPText.withBytes(of: name) { nb -> Bool in
            guard nb.count == token.count else { return false }
            for k in 0..<nb.count where nb[k] != token[k] { return false }
            return true
        }
        return same ? n : nil
    }
}
