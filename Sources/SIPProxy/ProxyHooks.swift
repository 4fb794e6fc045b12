// Hooks where the P-CSCF and session layers plug into the IMS-agnostic core (issue 7 item 3).
// Every hook is pure: it sees the parsed message and edits the splice; no I/O.
public import SIPCore

/// A request or response the proxy refuses, with the response it answers (RFC 3261 §16.3, §16.4,
/// §21; Warning §20.43). Built with `SIPResponseBuilder`.
public struct ProxyReject: Error, Sendable, Equatable {
    public var status: Int
    public var reason: String
    public var warning: SIPResponseBuilder.Warning?
    /// More header lines (e.g. `Unsupported` on 420, RFC 3261 §20.40).
    public var extraHeaders: [ProxyHeaderLine]

    public init(status: Int, reason: String, warning: SIPResponseBuilder.Warning? = nil, extraHeaders: [ProxyHeaderLine] = []) {
        self.status = status
        self.reason = reason
        self.warning = warning
        self.extraHeaders = extraHeaders
    }

    /// The response to send for `request`; `toTag` comes from the injected generator.
    public func response(to request: SIPMessage, toTag: String) -> [UInt8] {
        SIPResponseBuilder.response(to: request, status: status, reason: reason, toTag: toTag, warning: warning,
                                    extraHeaders: extraHeaders.map { ($0.name, $0.value) })
    }
}

/// One `name: value` header line.
public struct ProxyHeaderLine: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) { self.name = name; self.value = value }
}

/// What a request policy may read and change before the request is forwarded.
public struct RequestContext: Sendable {
    /// The listener the request arrived on.
    public let inbound: ProxyListener
    /// The Request-URI after route pre-processing (RFC 3261 §16.4); a policy may retarget it (§16.5).
    public var requestURI: String
    /// The listener to send from. Nil: the core picks one (same side as `inbound`, next hop's transport).
    public var outbound: ProxyListener?
    /// Record-Route this request (initialised from the configuration, §16.6 step 4).
    public var recordRoute: Bool
}

/// Per-request policy (P-CSCF rules: identity assertion, Path/Service-Route, Security-* handling...).
/// Runs after validation and route pre-processing, before the proxy's own forwarding edits.
public protocol RequestPolicy: Sendable {
    /// Edit `splice` and `context`, or return a rejection.
    func process(_ request: SIPMessage, context: inout RequestContext, splice: inout SIPSplice) -> ProxyReject?
}

/// Per-response policy. Runs after our Via has been removed (RFC 3261 §16.7 step 3).
public protocol ResponsePolicy: Sendable {
    /// Edit `splice`, or return a rejection: the response is then not forwarded and the branch counts as
    /// having received the rejection's status.
    func process(_ response: SIPMessage, splice: inout SIPSplice) -> ProxyReject?
}

/// Direction of a message whose body is rewritten.
public enum ProxyDirection: Sendable, Equatable {
    case request(from: ProxySide, to: ProxySide)
    case response
}

/// Result of a body rewrite.
public enum BodyRewriteResult: Sendable, Equatable {
    case unchanged
    case replaced(body: [UInt8], contentType: String?)
    /// The message is refused with this response (e.g. 488 for SDP the ALG cannot handle).
    case failed(ProxyReject)
}

/// SDP (or other) body rewriting, e.g. the IMS-ALG's media anchoring.
public protocol BodyRewriter: Sendable {
    func rewrite(body: ArraySlice<UInt8>, contentType: String, message: SIPMessage, direction: ProxyDirection) -> BodyRewriteResult
}

/// Default hooks: change nothing.
public struct NoRequestPolicy: RequestPolicy {
    public init() {}
    public func process(_ request: SIPMessage, context: inout RequestContext, splice: inout SIPSplice) -> ProxyReject? { nil }
}

public struct NoResponsePolicy: ResponsePolicy {
    public init() {}
    public func process(_ response: SIPMessage, splice: inout SIPSplice) -> ProxyReject? { nil }
}

public struct NoBodyRewriter: BodyRewriter {
    public init() {}
    public func rewrite(body: ArraySlice<UInt8>, contentType: String, message: SIPMessage, direction: ProxyDirection) -> BodyRewriteResult { .unchanged }
}

/// Source of the values the proxy generates (branch uniqueness token, To tags): injected, so the core
/// has no randomness (issue 7 item 3).
public protocol ProxyIDGenerator {
    /// A token unique per client transaction (goes after the loop-detection hash in the branch).
    mutating func branchToken() -> String
    /// A To tag for responses the proxy originates (RFC 3261 §8.2.6.2).
    mutating func tag() -> String
}

/// Deterministic generator (tests, and a base for a seeded one in the driver).
public struct CountingIDGenerator: ProxyIDGenerator, Sendable {
    public var prefix: String
    public private(set) var counter: UInt64 = 0
    public init(prefix: String = "p") { self.prefix = prefix }
    public mutating func branchToken() -> String { counter &+= 1; return "\(prefix)\(counter)" }
    public mutating func tag() -> String { counter &+= 1; return "\(prefix)t\(counter)" }
}
