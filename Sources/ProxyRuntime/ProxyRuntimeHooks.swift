// Asynchronous hooks of the running proxy (issue 7): where the P-CSCF layer (registration store, an
// actor) and the ALG session layer (which waits on a media gateway) plug into `ProxyServer`.
// The synchronous hooks of `SIPProxyCore` (`RequestPolicy`, `ResponsePolicy`, `BodyRewriter`) stay for
// pure policies; these run in the driver, before the core, and may suspend.
//
// Order for a request (RFC 3261 §16): transport -> server transaction (retransmissions absorbed,
// 100 Trying for INVITE, §16.2) -> `processRequest` -> `rewriteBody` (when there is a body) -> core
// (§16.3 validation, §16.4 Route pre-processing, §16.6 forwarding edits) -> client transaction.
// Order for a response: client transaction -> core (§16.7 step 3: our Via removed) -> `processResponse`
// -> `rewriteBody` -> response context (§16.7) -> server transaction.
public import NIOCore
public import SIPCore
public import SIPProxy
public import SIPTransport

/// The flow a message arrived on, or a flow to send over (RFC 3261 §18.2.2; RFC 5626 flows; TS 24.229
/// §5.2: terminating requests reach the UE over the connection it registered on).
public struct ProxyFlow: Sendable, Hashable, CustomStringConvertible {
    public var side: SIPSide
    public var transport: SIPTransportKind
    /// Our address on that flow.
    public var local: SocketAddress?
    /// The peer's address (for UDP the destination of datagrams sent on this flow).
    public var remote: SocketAddress
    /// The transport's flow token: a connection id for TCP/TLS, listener + peer for UDP.
    public var token: SIPFlowToken

    public init(side: SIPSide, transport: SIPTransportKind, local: SocketAddress?, remote: SocketAddress, token: SIPFlowToken) {
        self.side = side; self.transport = transport; self.local = local; self.remote = remote; self.token = token
    }

    public init(_ inbound: SIPInbound) {
        self.init(side: inbound.side, transport: inbound.transport, local: inbound.local, remote: inbound.remote, token: inbound.flow)
    }

    public var description: String { "\(side)/\(transport.rawValue)/\(remote)/\(token)" }
}

/// Identifies one request handled by the proxy (its server transaction). The same id is given to the
/// response hooks of that request, so a hook can keep per-request state (e.g. REGISTER -> 200 OK).
public struct ProxyRequestID: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "req-\(rawValue)" }
}

/// What the request hook sees besides the request.
public struct ProxyRequestContext: Sendable {
    public var id: ProxyRequestID
    /// Where the request arrived (side gm/mw, transport, peer address, flow token).
    public var inbound: ProxyFlow

    public init(id: ProxyRequestID, inbound: ProxyFlow) { self.id = id; self.inbound = inbound }
}

/// The edits and the target a request hook chooses. Start from `ProxyRequestEdits(request)` (no
/// change: routing defaults apply) and change what is needed.
public struct ProxyRequestEdits: Sendable {
    /// Header (and body) edits on the request as received: strip/insert P-Asserted-Identity, Path,
    /// P-Charging-Vector... Do not edit Via, Max-Forwards, Route values naming this proxy or
    /// Record-Route: the core does (RFC 3261 §16.4, §16.6).
    public var splice: SIPSplice
    /// New Request-URI (retargeting, RFC 3261 §16.5). Nil: unchanged.
    public var requestURI: String?
    /// Route values (`<sip:...;lr>`) to pre-load above the received Route set (RFC 3261 §16.6 step 6,
    /// e.g. the Service-Route or an outbound proxy). The first becomes the next hop.
    public var preloadedRoutes: [String]
    /// Send to the host/port/transport of this URI without changing Request-URI or Route (an outbound
    /// proxy or a fixed next hop). Takes precedence over Route and the Request-URI for the destination.
    public var nextHop: String?
    /// The side to send from (gm towards UEs, mw towards the core). Nil: the routing default.
    public var outboundSide: SIPSide?
    /// Send over this existing flow (a UE's registration flow). Takes precedence over `nextHop`; if the
    /// flow is gone the client transaction reports a transport error and the request is answered 503
    /// (RFC 3261 §17.1.4, §16.7 step 5). Only `token` is used for stream flows; for UDP `remote` too.
    public var flow: ProxyFlow?
    /// Record-Route this request. Nil: the configuration decides (dialog-creating requests).
    public var recordRoute: Bool?

    public init(_ request: SIPMessage) {
        splice = SIPSplice(request)
        requestURI = nil
        preloadedRoutes = []
        nextHop = nil
        outboundSide = nil
        flow = nil
        recordRoute = nil
    }
}

/// What to do with a request.
public enum ProxyRequestDecision: Sendable {
    /// Forward it with these edits and target.
    case forward(ProxyRequestEdits)
    /// Answer it ourselves with this response and do not forward: a rejection (403, 404, 480, 420...
    /// with Warning and extra header lines) or a local answer. The To tag comes from the proxy's
    /// generator (RFC 3261 §8.2.6.2). For ACK nothing is sent.
    case respond(ProxyReject)
}

/// What the response hook sees besides the response.
public struct ProxyResponseContext: Sendable {
    /// The request this response answers (the id given to `processRequest`).
    public var requestID: ProxyRequestID
    /// The request as received (before any edits), e.g. the REGISTER whose 200 OK creates a binding.
    public var request: SIPMessage
    /// The flow the request arrived on (the UE's flow for a REGISTER from Gm).
    public var requestInbound: ProxyFlow
    /// The flow the response arrived on.
    public var responseInbound: ProxyFlow
    /// The status code of the response.
    public var status: Int

    public init(requestID: ProxyRequestID, request: SIPMessage, requestInbound: ProxyFlow, responseInbound: ProxyFlow, status: Int) {
        self.requestID = requestID; self.request = request; self.requestInbound = requestInbound
        self.responseInbound = responseInbound; self.status = status
    }
}

/// What to do with a response.
public enum ProxyResponseDecision: Sendable {
    /// Forward it with these edits. The splice is over the response with our Via already removed
    /// (RFC 3261 §16.7 step 3); e.g. add Security-Server lines, strip P-headers.
    case forward(SIPSplice)
    /// Do not forward it; the branch counts as having received this rejection's status, and if that
    /// is final the response context may send it upstream (RFC 3261 §16.7).
    case replace(ProxyReject)
}

/// What the body hook sees besides the body.
public struct ProxyBodyContext: Sendable {
    public var requestID: ProxyRequestID
    /// `.request(from:to:)` with the sides (access = gm, core = mw), or `.response`.
    public var direction: ProxyDirection
    /// The request (as received) the body belongs to or answers.
    public var request: SIPMessage
    /// The flow the request arrived on.
    public var requestInbound: ProxyFlow
    /// For responses, the status code; nil for requests.
    public var status: Int?

    public init(requestID: ProxyRequestID, direction: ProxyDirection, request: SIPMessage, requestInbound: ProxyFlow, status: Int?) {
        self.requestID = requestID; self.direction = direction; self.request = request
        self.requestInbound = requestInbound; self.status = status
    }
}

/// Asynchronous hooks of `ProxyServer`. Every method has a default that changes nothing, so an
/// implementation overrides only what it needs. Hooks run on the hook's own isolation (an actor is
/// fine); the server keeps its state consistent across the suspension (a CANCEL or a retransmission
/// that arrives meanwhile is handled by the transactions).
public protocol ProxyRuntimeHooks: Sendable {
    /// (a)(b)(c) A new request (not a retransmission, not an ACK for a non-2xx, not a CANCEL: those are
    /// handled by the transactions, RFC 3261 §16.10, §17.2.3). Return `.forward(edits)` with header
    /// edits and the target, or `.respond(...)`. ACK for 2xx and in-dialog requests come here too.
    func processRequest(_ request: SIPMessage, context: ProxyRequestContext) async -> ProxyRequestDecision

    /// (d) A response to a forwarded request (provisional or final, our Via removed), before the
    /// response context decides what to send upstream (RFC 3261 §16.7).
    func processResponse(_ response: SIPMessage, context: ProxyResponseContext) async -> ProxyResponseDecision

    /// (e) A body (SDP...) of a request to forward (after `processRequest`) or of a response (after
    /// `processResponse`). May wait (on a media gateway). `.failed(reject)` answers the request with the
    /// rejection (488 Not Acceptable Here, RFC 3261 §21.4.26) or replaces the response.
    func rewriteBody(_ body: ArraySlice<UInt8>, contentType: String, message: SIPMessage, context: ProxyBodyContext) async -> BodyRewriteResult

    /// A request's server transaction sent its final response (forwarded, local, 408 on Timer C,
    /// 487 after CANCEL, 503 on transport failure). Lets a layer release per-request resources.
    func requestCompleted(_ context: ProxyRequestContext, status: Int) async
}

extension ProxyRuntimeHooks {
    public func processRequest(_ request: SIPMessage, context: ProxyRequestContext) async -> ProxyRequestDecision {
        .forward(ProxyRequestEdits(request))
    }

    public func processResponse(_ response: SIPMessage, context: ProxyResponseContext) async -> ProxyResponseDecision {
        .forward(SIPSplice(response))
    }

    public func rewriteBody(_ body: ArraySlice<UInt8>, contentType: String, message: SIPMessage, context: ProxyBodyContext) async -> BodyRewriteResult {
        .unchanged
    }

    public func requestCompleted(_ context: ProxyRequestContext, status: Int) async {}
}

/// Hooks that change nothing (the generic proxy). `ProxyServer` skips the hook calls entirely when it
/// has no hooks, so the generic proxy does not pay for the suspension points.
public struct NoProxyRuntimeHooks: ProxyRuntimeHooks {
    public init() {}
}
