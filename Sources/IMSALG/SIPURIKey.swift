/// The parts of a SIP/SIPS/tel URI that decide whether two URIs name the same resource for the
/// P-CSCF's purposes (RFC 3261 §19.1.4, simplified: scheme, user, host, port; URI parameters and
/// headers are ignored; host compared case-insensitively; a missing port is the scheme's default).
/// Used to match Route entries against our own URIs, Contacts between a REGISTER and its 200, and a
/// Request-URI against registered contacts and identities.
public struct SIPURIKey: Hashable, Sendable, CustomStringConvertible {
    public var scheme: String
    /// User part (sip/sips) or the global/local number (tel), parameters removed; nil when absent.
    public var user: String?
    /// Host, lower-cased (IPv6 references keep their brackets); empty for tel.
    public var host: String
    /// Port; the scheme default (5060 sip, 5061 sips) when absent; 0 for tel.
    public var port: Int

    /// Longest URI text considered (RFC 3261 §21.5.14 spirit: bounded work on network input).
    public static let maxURIBytes = 2048

    public init?(_ text: String) {
        var t = Substring(text).trimmingCharacters(in: " \t")
        guard !t.isEmpty, t.utf8.count <= Self.maxURIBytes else { return nil }
        if t.first == "<", t.last == ">" { t = t.dropFirst().dropLast() }
        guard let colon = t.firstIndex(of: ":") else { return nil }
        let scheme = t[..<colon].lowercased()
        var rest = t[t.index(after: colon)...]
        switch scheme {
        case "tel":
            let end = rest.firstIndex(where: { $0 == ";" || $0 == "?" }) ?? rest.endIndex
            let number = rest[..<end].filter { $0 != "-" && $0 != "." && $0 != "(" && $0 != ")" }
            guard !number.isEmpty else { return nil }
            self.scheme = scheme; user = String(number); host = ""; port = 0
        case "sip", "sips":
            if let q = rest.firstIndex(of: "?") { rest = rest[..<q] }
            var hostPart = rest
            if let at = rest.lastIndex(of: "@") {
                var u = rest[..<at]
                if let c = u.firstIndex(of: ":") { u = u[..<c] }       // password (RFC 3261 §19.1.1)
                if let s = u.firstIndex(of: ";") { u = u[..<s] }       // user parameters (e.g. phone-context)
                user = u.isEmpty ? nil : String(u)
                hostPart = rest[rest.index(after: at)...]
            } else {
                user = nil
            }
            if let s = hostPart.firstIndex(of: ";") { hostPart = hostPart[..<s] }
            var h: Substring
            var p: Substring? = nil
            if hostPart.first == "[" {
                guard let close = hostPart.firstIndex(of: "]") else { return nil }
                h = hostPart[...close]
                let after = hostPart[hostPart.index(after: close)...]
                if after.first == ":" { p = after.dropFirst() } else if !after.isEmpty { return nil }
            } else if let c = hostPart.firstIndex(of: ":") {
                h = hostPart[..<c]; p = hostPart[hostPart.index(after: c)...]
            } else {
                h = hostPart
            }
            guard !h.isEmpty else { return nil }
            let defaultPort = scheme == "sips" ? 5061 : 5060
            if let p {
                guard p.count <= 5, let n = Int(p), n > 0, n <= 65535 else { return nil }
                port = n
            } else {
                port = defaultPort
            }
            self.scheme = scheme; host = h.lowercased()
        default:
            return nil
        }
    }

    /// Host and port only (used for "is this Route entry one of ours").
    public var hostPort: String { "\(host):\(port)" }

    /// The identity form used to index public identities: `sip:user@host` or `tel:number` (port
    /// ignored: public user identities are not bound to a port, TS 23.003 §13.4).
    public var identity: String { scheme == "tel" ? "tel:\(user ?? "")" : "\(scheme == "sips" ? "sip" : scheme):\(user ?? "")@\(host)" }

    public var description: String { scheme == "tel" ? identity : "\(scheme):\(user.map { $0 + "@" } ?? "")\(host):\(port)" }
}

extension Substring {
    func trimmingCharacters(in set: String) -> Substring {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return s
    }
}
