// Minimal SIP/SIPS URI reading for routing decisions (RFC 3261 §19.1.1): scheme, host, port and the
// parameters `transport`, `lr`, `maddr`. Bounded: input is at most one header value already limited
// by SIPCore (SIPParseLimits).
import SIPCore

/// The routing-relevant parts of a `sip:` / `sips:` URI.
public struct SIPURIParts: Sendable, Equatable {
    /// `sip` or `sips` (lower case).
    public var scheme: String
    /// Host, lower case, IPv6 without brackets.
    public var host: String
    public var port: Int?
    /// URI parameters (after the host part, before `?`), names lower case.
    public var parameters: [String: String]

    /// `transport` parameter, upper case, or nil.
    public var transport: String? { parameters["transport"].map { $0.uppercased() } }
    /// Loose-routing flag `lr` (RFC 3261 §19.1.1).
    public var looseRouting: Bool { parameters["lr"] != nil }
    /// Port, or the default for the scheme/transport (RFC 3263 §4.2: 5060, 5061 for TLS).
    public var effectivePort: Int { port ?? (scheme == "sips" || transport == "TLS" ? 5061 : 5060) }
    /// Transport to use towards this URI (RFC 3263 §4.1 without DNS: explicit, else TLS for sips, else UDP).
    public var effectiveTransport: String { transport ?? (scheme == "sips" ? "TLS" : "UDP") }

    /// Reads `text` (a bare URI or a name-addr's URI); nil when it is not sip/sips or has no host.
    /// ASCII text (every URI on the wire in practice) is read by a byte scan; other text by the
    /// Character-based reader (`init(generalParsing:)`), which gives the same result on ASCII.
    public init?(parsing text: String) {
        let scanned: SIPURIParts?? = text.utf8.withContiguousStorageIfAvailable { Self.scanASCII($0) } ?? nil
        switch scanned {
        case .some(.some(let parts)): self = parts
        case .some(.none): return nil
        case .none: self.init(generalParsing: text)
        }
    }

    /// The byte scan of `init(parsing:)`: `.none` when `p` is not all ASCII (the caller falls back),
    /// `.some(nil)` when it is no sip/sips URI. Same steps and results as `init(generalParsing:)`.
    static func scanASCII(_ p: UnsafeBufferPointer<UInt8>) -> SIPURIParts?? {
        guard SIPWord.isASCII(p) else { return .none }
        func first(_ c: UInt8, _ r: Range<Int>) -> Int? { SIPWord.first(c, p, r) }
        func lower(_ r: Range<Int>) -> String {
            String(unsafeUninitializedCapacity: r.count) { out in
                var j = 0
                for i in r { let c = p[i]; out[j] = (0x41...0x5A).contains(c) ? c | 0x20 : c; j += 1 }
                return r.count
            }
        }
        func text(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: p[r]), as: UTF8.self) }
        var s = 0..<p.count
        if let lt = first(0x3C, s) {                                    // '<'
            guard let gt = first(0x3E, lt..<s.upperBound) else { return .some(nil) }
            s = (lt + 1)..<gt
        }
        var start = s.lowerBound
        while start < s.upperBound, p[start] == 0x20 || p[start] == 0x09 { start += 1 }
        s = start..<s.upperBound
        guard let colon = first(0x3A, s) else { return .some(nil) }
        let schemeRange = s.lowerBound..<colon
        let scheme: String
        if schemeRange.count == 3, p[schemeRange.lowerBound] | 0x20 == 0x73, p[schemeRange.lowerBound + 1] | 0x20 == 0x69,
           p[schemeRange.lowerBound + 2] | 0x20 == 0x70 {
            scheme = "sip"
        } else if schemeRange.count == 4, p[schemeRange.lowerBound] | 0x20 == 0x73, p[schemeRange.lowerBound + 1] | 0x20 == 0x69,
                  p[schemeRange.lowerBound + 2] | 0x20 == 0x70, p[schemeRange.lowerBound + 3] | 0x20 == 0x73 {
            scheme = "sips"
        } else {
            return .some(nil)
        }
        var rest = (colon + 1)..<s.upperBound
        if let q = first(0x3F, rest) { rest = rest.lowerBound..<q }                 // '?'
        let hostPartEnd = first(0x3B, rest) ?? rest.upperBound                     // ';'
        var at = hostPartEnd - 1
        while at >= rest.lowerBound, p[at] != 0x40 { at -= 1 }                     // last '@'
        if at >= rest.lowerBound { rest = (at + 1)..<rest.upperBound }
        let paramsStart = first(0x3B, rest) ?? rest.upperBound
        let hostPort = rest.lowerBound..<paramsStart
        var host: Range<Int>
        var portText: Range<Int>?
        if !hostPort.isEmpty, p[hostPort.lowerBound] == 0x5B {                      // '['
            guard let close = first(0x5D, hostPort) else { return .some(nil) }
            host = (hostPort.lowerBound + 1)..<close
            let after = (close + 1)..<hostPort.upperBound
            if !after.isEmpty {
                guard p[after.lowerBound] == 0x3A else { return .some(nil) }
                portText = (after.lowerBound + 1)..<after.upperBound
            }
        } else if let c = first(0x3A, hostPort) {
            host = hostPort.lowerBound..<c
            portText = (c + 1)..<hostPort.upperBound
        } else {
            host = hostPort
        }
        guard !host.isEmpty else { return .some(nil) }
        var port: Int?
        if let portText {
            // Digits only (the usual port) are read here; anything else (a sign, ...) as `Int(String)` reads it.
            var digits: Int? = portText.isEmpty || portText.count > 5 ? nil : 0
            for i in portText { digits = digits.flatMap { p[i] >= 0x30 && p[i] <= 0x39 ? $0 * 10 + Int(p[i] - 0x30) : nil } }
            guard portText.count <= 5, let v = digits ?? Int(text(portText)), (1...65535).contains(v) else { return .some(nil) }
            port = v
        }
        var params: [String: String] = [:]
        if paramsStart < rest.upperBound {
            var count = 0
            var i = paramsStart + 1
            while i <= rest.upperBound, count < SIPURIParts.maxParameters {
                let end = first(0x3B, i..<rest.upperBound) ?? rest.upperBound
                if end > i {                                                       // empty items are skipped (split)
                    count += 1
                    if let eq = first(0x3D, i..<end) {
                        params[lower(i..<eq)] = text((eq + 1)..<end)
                    } else {
                        params[lower(i..<end)] = ""
                    }
                }
                i = end + 1
            }
        }
        return .some(SIPURIParts(scheme: scheme, host: lower(host), port: port, parameters: params))
    }

    private init(scheme: String, host: String, port: Int?, parameters: [String: String]) {
        self.scheme = scheme; self.host = host; self.port = port; self.parameters = parameters
    }

    /// The Character-based reader (any text).
    init?(generalParsing text: String) {
        var s = Substring(text)
        if let lt = s.firstIndex(of: "<") {
            guard let gt = s[lt...].firstIndex(of: ">") else { return nil }
            s = s[s.index(after: lt)..<gt]
        }
        s = s.drop(while: { $0 == " " || $0 == "\t" })
        guard let colon = s.firstIndex(of: ":") else { return nil }
        let scheme = s[..<colon].lowercased()
        guard scheme == "sip" || scheme == "sips" else { return nil }
        var rest = s[s.index(after: colon)...]
        if let q = rest.firstIndex(of: "?") { rest = rest[..<q] }
        // userinfo ends at the last '@' before any parameter (RFC 3261 §25.1).
        let hostPartEnd = rest.firstIndex(of: ";") ?? rest.endIndex
        if let at = rest[..<hostPartEnd].lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        let paramsStart = rest.firstIndex(of: ";") ?? rest.endIndex
        let hostPort = rest[..<paramsStart]
        var host: Substring
        var portText: Substring?
        if hostPort.first == "[" {
            guard let close = hostPort.firstIndex(of: "]") else { return nil }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if after.first == ":" { portText = after.dropFirst() } else if !after.isEmpty { return nil }
        } else if let c = hostPort.firstIndex(of: ":") {
            host = hostPort[..<c]
            portText = hostPort[hostPort.index(after: c)...]
        } else {
            host = hostPort
        }
        guard !host.isEmpty else { return nil }
        var port: Int?
        if let portText {
            guard portText.count <= 5, let p = Int(portText), (1...65535).contains(p) else { return nil }
            port = p
        }
        var params: [String: String] = [:]
        if paramsStart < rest.endIndex {
            for item in rest[rest.index(after: paramsStart)...].split(separator: ";").prefix(SIPURIParts.maxParameters) {
                if let eq = item.firstIndex(of: "=") {
                    params[item[..<eq].lowercased()] = String(item[item.index(after: eq)...])
                } else {
                    params[item.lowercased()] = ""
                }
            }
        }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port
        self.parameters = params
    }

    /// Parameters read per URI (RFC 3261 §19.1.1 has no limit; bounded here so input cannot grow work).
    public static let maxParameters = 32

    static func normalisedHost(_ host: String) -> String {
        // ASCII without brackets or capitals (an IP address, a lower-case name): already normalised.
        var copy = host
        let unchanged = copy.withUTF8 { u in
            (u.first != 0x5B || u.last != 0x5D) && u.allSatisfy { $0 < 0x80 && !($0 >= 0x41 && $0 <= 0x5A) }
        }
        if unchanged { return host }
        var h = Substring(host)
        if h.first == "[", h.last == "]" { h = h.dropFirst().dropLast() }
        return h.lowercased()
    }

    static func uriHost(_ host: String) -> String {
        // ASCII (every listener host and IP literal): a byte search, no grapheme walk.
        var h = host
        let asciiColon: Bool? = h.withUTF8 { u in
            var colon = false
            for c in u { if c >= 0x80 { return nil }; if c == 0x3A { colon = true } }
            return colon
        }
        let colon = asciiColon ?? host.contains(":")
        return colon ? "[\(host)]" : host
    }
}
