// The request / final-response log lines of the running proxy (Kamailio style: one line per request
// received, one per final response sent). Identities (From/To/P-Asserted-Identity and the user part
// of the Request-URI) are personal data: at info and above they are redacted (`***`); only a logger
// at debug or trace shows them, on a separate `identities` line.
public import SIPCore

public enum ProxyLogFormat {
    /// What replaces a user part.
    public static let redacted = "***"

    /// `sip:alice@ims.example;transport=tcp` → `sip:***@ims.example;transport=tcp`; `tel:+331234` → `tel:***`;
    /// a URI without user part is unchanged.
    public static func redactUser(_ uri: String) -> String {
        guard let colon = uri.firstIndex(of: ":") else { return uri }
        let scheme = uri[..<colon].lowercased()
        let rest = uri[uri.index(after: colon)...]
        if scheme == "tel" {
            let end = rest.firstIndex(where: { $0 == ";" || $0 == ">" }) ?? rest.endIndex
            return "tel:" + redacted + rest[end...]
        }
        // The user part ends at the last '@' before any header part (RFC 3261 §19.1.1; a user part
        // may itself contain ';', as in `+331234;npdi@host`).
        let hostEnd = rest.firstIndex(where: { $0 == "?" || $0 == ">" }) ?? rest.endIndex
        guard let at = rest[..<hostEnd].lastIndex(of: "@") else { return uri }
        return uri[...colon] + redacted + rest[at...]
    }

    /// `REQ INVITE ruri=sip:***@host from=sip:***@host ftag=… src=gm/udp:1.2.3.4:5060 cid=…`.
    public static func request(_ request: SIPMessage, source: String, redact: Bool) -> String {
        let ruri = request.requestURI ?? "-"
        let from = request.from?.uri ?? "-"
        return "REQ \(request.method ?? "?") ruri=\(redact ? redactUser(ruri) : ruri) from=\(redact ? redactUser(from) : from) "
            + "ftag=\(request.from?.tag ?? "-") ttag=\(request.to?.tag ?? "-") src=\(source) cid=\(request.callID ?? "-")"
    }

    /// `RPL 200 INVITE ruri=… from=… ftag=… dst=gm/udp:1.2.3.4:5060 cid=…` (the final response to `request`).
    public static func finalResponse(_ status: Int, to request: SIPMessage, destination: String, redact: Bool) -> String {
        let ruri = request.requestURI ?? "-"
        let from = request.from?.uri ?? "-"
        return "RPL \(status) \(request.method ?? "?") ruri=\(redact ? redactUser(ruri) : ruri) from=\(redact ? redactUser(from) : from) "
            + "ftag=\(request.from?.tag ?? "-") dst=\(destination) cid=\(request.callID ?? "-")"
    }

    /// The debug-only line with every identity of the request.
    public static func identities(_ request: SIPMessage) -> String {
        let pai = request.pAssertedIdentities.map(\.uri).joined(separator: ",")
        return "identities from=\(request.from?.uri ?? "-") to=\(request.to?.uri ?? "-") pai=\(pai.isEmpty ? "-" : pai) "
            + "ruri=\(request.requestURI ?? "-") cid=\(request.callID ?? "-")"
    }
}
