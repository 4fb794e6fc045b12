// A request the proxy itself sends as a UAC inside an existing dialog (issue 9: the IMS-ALG ends a
// session with BYE or removes a failed stream with a re-INVITE, TS 23.334 §5.11.2.2 / seed 000). The
// caller (the ALG) builds it from the dialog as the proxy saw it (RFC 3261 §12.2.1.1: Request-URI =
// remote target, Route = route set, From/To/Call-ID of the dialog, a higher CSeq); `ProxyServer.originate`
// adds the proxy's own Via and Max-Forwards, runs the client transaction (RFC 3261 §17.1) and ACKs a 2xx
// to an INVITE (§13.2.2.4).
import SIPCore
public import SIPProxy
public import SIPTransport

public struct ProxyOriginatedRequest: Sendable, Equatable {
    public var method: String
    /// The remote target of the dialog (RFC 3261 §12.2.1.1).
    public var requestURI: String
    /// The route set in sending order as `<uri>` values. It may include this proxy's own Record-Route
    /// entries: `originate` drops every entry up to and including the last one naming this proxy, so
    /// the dialog's whole route set (as the impersonated UA sees it) can be given.
    public var routeSet: [String]
    /// From, To (with the dialog's tags), Call-ID, Contact, Reason... in order. Not Via, Max-Forwards,
    /// Route, CSeq, Content-Type or Content-Length: `originate` writes those.
    public var headers: [ProxyHeaderLine]
    public var cseq: UInt32
    public var body: [UInt8]
    /// Content-Type of `body` (ignored when the body is empty).
    public var contentType: String?
    /// The side to send from (gm towards the UE, mw towards the core).
    public var side: SIPSide
    /// Send over this flow (the UE's registration flow, TS 24.229 §5.2.6.4); nil: route by the first
    /// remaining Route entry, else the Request-URI.
    public var flow: ProxyFlow?

    public init(method: String, requestURI: String, routeSet: [String], headers: [ProxyHeaderLine], cseq: UInt32,
                body: [UInt8] = [], contentType: String? = nil, side: SIPSide, flow: ProxyFlow? = nil) {
        self.method = method; self.requestURI = requestURI; self.routeSet = routeSet; self.headers = headers
        self.cseq = cseq; self.body = body; self.contentType = contentType; self.side = side; self.flow = flow
    }

    /// The wire form with this Via and Route set (pure). `method` overrides the request's method (the
    /// ACK of a 2xx: same Request-URI, Route, From, To, Call-ID and CSeq number, no body; RFC 3261 §13.2.2.4).
    public func rendered(via: String, routes: [String], method override: String? = nil) -> [UInt8] {
        let m = override ?? method
        var text = "\(m) \(requestURI) SIP/2.0\r\nVia: \(via)\r\nMax-Forwards: 70\r\n"
        for r in routes { text += "Route: \(r)\r\n" }
        for h in headers { text += "\(h.name): \(h.value)\r\n" }
        text += "CSeq: \(cseq) \(m)\r\n"
        let payload = override == nil ? body : []
        if !payload.isEmpty, let ct = contentType { text += "Content-Type: \(ct)\r\n" }
        text += "Content-Length: \(payload.count)\r\n\r\n"
        return Array(text.utf8) + payload
    }
}
