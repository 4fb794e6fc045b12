// Minimal SIP/SIPS URI reading for routing decisions (RFC 3261 §19.1.1): scheme, host, port and the
// parameters `transport`, `lr`, `maddr`. Bounded: input is at most one header value already limited
// by SIPCore (SIPParseLimits).

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
    public init?(parsing text: String) {
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
        var h = Substring(host)
        if h.first == "[", h.last == "]" { h = h.dropFirst().dropLast() }
        return h.lowercased()
    }

    static func uriHost(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }
}
