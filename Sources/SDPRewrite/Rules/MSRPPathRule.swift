// MSRP a=path handling (RFC 4975 §8.1, §9 MSRP URI; RFC 6714 §4 CEMA; TS 23.334 §5.19; seed 003
// application-aware interworking; specs.md §6.2). The last URI of a=path identifies the endpoint
// that sent the SDP; it is the only one an ALG may replace.
import SDPCore

public enum MSRPPathRule {
    /// Replaces host and port (and optionally the scheme) of the last MSRP URI of `path`, keeping
    /// userinfo, session-id and transport. Returns nil when the URI does not parse.
    /// MSRP-URI = msrp-scheme "://" authority ["/" session-id] ";" transport *( ";" URI-parameter )
    public static func rewriteLast(_ path: Substring, scheme: String?, host: String?, port: UInt16?) -> String? {
        var uris = SDPText.fields(path)
        guard let last = uris.last, let rewritten = rewrite(uri: last, scheme: scheme, host: host, port: port) else { return nil }
        uris.removeLast()
        return (uris.map(String.init) + [rewritten]).joined(separator: " ")
    }

    static func rewrite(uri: Substring, scheme: String?, host: String?, port: UInt16?) -> String? {
        guard let sep = uri.firstRange(of: "://") else { return nil }
        let oldScheme = uri[uri.startIndex..<sep.lowerBound]
        guard SDPText.equalsIgnoringCase(oldScheme, "msrp") || SDPText.equalsIgnoringCase(oldScheme, "msrps") else { return nil }
        let rest = uri[sep.upperBound...]
        // authority ends at "/" or ";"
        let authEnd = rest.firstIndex { $0 == "/" || $0 == ";" } ?? rest.endIndex
        let authority = rest[rest.startIndex..<authEnd]
        let tail = rest[authEnd...]
        guard tail.contains(";") else { return nil }   // ";" transport is mandatory
        var userinfo = ""
        var hostport = authority
        if let at = authority.lastIndex(of: "@") {
            userinfo = String(authority[authority.startIndex...at])
            hostport = authority[authority.index(after: at)...]
        }
        guard !hostport.isEmpty else { return nil }
        var newHostPort = String(hostport)
        if let host {
            let h = host.contains(":") ? "[\(host)]" : host
            newHostPort = port.map { "\(h):\($0)" } ?? h
        }
        return (scheme ?? String(oldScheme)) + "://" + userinfo + newHostPort + tail
    }
}
