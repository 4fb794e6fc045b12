// The MGC operations the ALG session state machine asks for (TS 23.334 §8 "Reserve/Configure/Release
// AGW Connection Point"; TS 29.334 Iq profile). They mirror SDPRewrite's `GatewayRequest`: the H248Client
// adapter turns `.reserve` into Add (plus Modify/Subtract for the other streams of the request),
// `.configure` into Modify (Subtract for `release` streams) and `.release` into Subtract.
// Pure data: no I/O here.
import SDPCore
import SDPRewrite

/// Identifies one MGC operation of one session (allocated by the state machine, deterministically).
public struct MGCOperationID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "op\(rawValue)" }
}

/// The H.248 context an operation applies to.
public enum MGCContextRef: Sendable, Equatable {
    /// CHOOSE (`$`): the AGW allocates a new context (first Reserve of a session).
    case choose
    case existing(String)
}

/// The AGW terminations of one stream (m-line index), as learnt from Add replies.
public struct MGCStreamTerminations: Sendable, Equatable {
    public var index: Int
    public var access: String?
    public var core: String?
    public init(index: Int, access: String? = nil, core: String? = nil) {
        self.index = index
        self.access = access
        self.core = core
    }
    public var all: [String] { [access, core].compactMap { $0 } }
}

/// What to release.
public enum MGCReleaseTarget: Sendable, Equatable {
    /// Subtract every termination of the context (H.248 Subtract with TerminationID `*`).
    case context(String)
    /// Subtract these terminations only (one stream removed).
    case terminations(context: String, ids: [String])
    /// Whatever the given operation created, if it ever completes (its reply timed out or arrived after
    /// the session gave up): the adapter subtracts it when the late reply arrives, or audits the AGW.
    case outcomeOf(MGCOperationID)
}

/// One operation towards the IMS-AGW.
public enum MGCOperation: Sendable, Equatable {
    /// At least one stream of `request` has action `reserve` (H.248 Add, "Reserve (and Configure) AGW
    /// Connection Point"); the other streams are configured/released in the same transaction.
    /// `existing` lists the terminations already known for the other streams.
    case reserve(context: MGCContextRef, request: GatewayRequest, existing: [MGCStreamTerminations])
    /// Modify existing terminations ("Configure AGW Connection Point"); `release` streams are subtracted.
    case configure(context: String, request: GatewayRequest, existing: [MGCStreamTerminations])
    /// Subtract ("Release AGW Connection Point").
    case release(MGCReleaseTarget)
}

/// A successful reply to `.reserve` or `.configure`.
public struct MGCReply: Sendable, Equatable {
    public var contextID: String
    /// Terminations created (Add) per stream; streams not listed keep the terminations they had.
    public var terminations: [MGCStreamTerminations]
    /// Local addresses/ports and the AGW fingerprint per stream (SDPRewrite's type).
    public var answer: GatewayAnswer

    public init(contextID: String, terminations: [MGCStreamTerminations] = [], answer: GatewayAnswer = GatewayAnswer()) {
        self.contextID = contextID
        self.terminations = terminations
        self.answer = answer
    }
}

/// A failed MGC operation.
public enum MGCFailure: Sendable, Equatable {
    /// H.248 error descriptor (H.248.8 code and text). `contextID`: a context the AGW did create before
    /// failing (several commands in one transaction), so that it can be released.
    case error(code: Int, text: String, contextID: String? = nil)
    /// No reply within the Iq transaction timers (H.248.1 §F.3 / normal MG execution time).
    case timeout
}

public enum MGCResult: Sendable, Equatable {
    case success(MGCReply)
    case failure(MGCFailure)
}

/// What the H248Client adapter implements (later); the state machine never calls it itself: it returns
/// `.mgc(id, operation)` actions and the driver feeds the result back as `.gatewayReplied(id, result)`.
public protocol MGCClient: Sendable {
    func perform(_ operation: MGCOperation, id: MGCOperationID) async -> MGCResult
}

/// Gateway-originated events concerning one session (H.248 Notify / ServiceChange).
public enum GatewayEvent: Sendable, Equatable {
    /// TLS establishment failed on a termination (Notify of the TLS failure event; seed 000 AGW duties).
    case tlsFailure(termination: String)
    /// TCP establishment failed on a termination.
    case tcpFailure(termination: String)
    /// H.248.36 termination heartbeat (TS 23.334 "Notify termination heartbeat"): the session it
    /// concerns needs nothing; one for a context no session knows makes the driver Subtract it.
    case heartbeat(termination: String)
    /// ServiceChange Restart on Root: the AGW lost its contexts.
    case gatewayRestarted
    /// ServiceChange Forced/Graceful out-of-service.
    case outOfService
}
