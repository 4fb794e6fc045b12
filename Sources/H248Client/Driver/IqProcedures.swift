// The Iq procedures (TS 23.334 §8, TS 29.334 §5) as H.248 commands, and the typed results and
// errors of the async API. Pure: builds `ActionRequest`s and reads `TransactionReply`s.

import H248Codec

/// A failure the gateway reported in a reply (H.248.1 §7.1.19 Error descriptor), with its code and
/// text kept as sent (449 carries the offending value in its text, TS 29.334 §5.17.1).
public struct IqErrorReply: Sendable, Hashable, CustomStringConvertible {
    public enum Level: String, Sendable, Hashable {
        /// `Reply = N { Error = … }`
        case transaction
        /// `Context = C { …, Error = … }`
        case action
        /// `Add = T { Error = … }`
        case command
        /// Message-level error body (`MEGACO/3 mid Error = …`).
        case message
    }
    public var code: UInt16
    public var text: String?
    public var level: Level
    public var contextID: ContextID?
    public var terminationID: TerminationID?

    public init(code: UInt16, text: String?, level: Level, contextID: ContextID? = nil, terminationID: TerminationID? = nil) {
        self.code = code
        self.text = text
        self.level = level
        self.contextID = contextID
        self.terminationID = terminationID
    }

    public var description: String {
        var s = "H.248 error \(code)"
        if let text { s += " \"\(text)\"" }
        s += " (\(level.rawValue)"
        if let c = contextID { s += ", context \(IqFormat.context(c))" }
        if let t = terminationID { s += ", termination \(t)" }
        return s + ")"
    }
}

/// Errors of the async Iq API.
public enum IqError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The gateway answered with an Error descriptor.
    case errorReply(IqErrorReply)
    /// The transaction failed locally: timeout at LONG-TIMER, Pending limit (506), cancelled.
    case transaction(H248ClientError)
    /// No gateway is registered (or it was lost).
    case notRegistered
    /// No gateway registered within the wait.
    case registrationTimeout
    /// The reply does not have the shape the procedure needs (e.g. no context id chosen).
    case unexpectedReply(String)
    /// The request could not be sent (533 too large, connection gone).
    case transport(H248ClientError)

    public var description: String {
        switch self {
        case .errorReply(let e): return e.description
        case .transaction(let e): return "transaction failed: \(e)"
        case .notRegistered: return "no gateway registered"
        case .registrationTimeout: return "no gateway registered in time"
        case .unexpectedReply(let s): return "unexpected reply: \(s)"
        case .transport(let e): return "transport: \(e)"
        }
    }

    /// The H.248.8 code when the gateway sent one, or the local code (506, 533, …).
    public var h248ErrorCode: UInt16? {
        switch self {
        case .errorReply(let e): return e.code
        case .transaction(let e), .transport(let e): return e.h248ErrorCode
        default: return nil
        }
    }
}

/// One termination to reserve (Add) in the Reserve AGW Connection Point / Reserve and Configure
/// procedures (TS 23.334 §8; TS 29.334 §5.x): LocalControl, Local SDP with `$`, optional Remote SDP,
/// Events (e.g. the mandatory hanging-termination heartbeat) and Signals.
public struct IqTerminationRequest: Sendable, Equatable {
    public var terminationID: TerminationID
    public var streamID: UInt16
    public var mode: StreamMode?
    /// LocalControl properties, e.g. `ipdc/realm`, `ipnapt/latch`.
    public var localControlProperties: [PropertyParm]
    public var local: SDPBlock?
    public var remote: SDPBlock?
    public var events: EventsDescriptor?
    public var signals: SignalsDescriptor?

    public init(terminationID: TerminationID = .choose, streamID: UInt16 = 1, mode: StreamMode? = nil,
                localControlProperties: [PropertyParm] = [], local: SDPBlock? = nil, remote: SDPBlock? = nil,
                events: EventsDescriptor? = nil, signals: SignalsDescriptor? = nil) {
        self.terminationID = terminationID
        self.streamID = streamID
        self.mode = mode
        self.localControlProperties = localControlProperties
        self.local = local
        self.remote = remote
        self.events = events
        self.signals = signals
    }

    var descriptors: [Descriptor] {
        var d: [Descriptor] = []
        let lc: LocalControlDescriptor? = (mode != nil || !localControlProperties.isEmpty)
            ? LocalControlDescriptor(mode: mode, properties: localControlProperties) : nil
        if lc != nil || local != nil || remote != nil {
            d.append(.media(MediaDescriptor(streams: [StreamDescriptor(id: streamID, localControl: lc, local: local, remote: remote)])))
        }
        if let events { d.append(.events(events)) }
        if let signals { d.append(.signals(signals)) }
        return d
    }
}

/// A reserved termination as the gateway answered it (ids resolved, Local SDP resolved).
public struct IqTermination: Sendable, Equatable {
    public var contextID: UInt32
    public var terminationID: TerminationID
    /// The resolved Local SDP of the first stream in the reply, when the gateway returned it.
    public var local: SDPBlock?
}

/// A request from the gateway delivered to the session layer.
public struct IqNotification: Sendable, Equatable {
    public var contextID: ContextID
    public var terminationID: TerminationID
    public var observed: ObservedEventsDescriptor
    /// False when the client answered the Notify with H.248.8 435 (a context/termination it never
    /// reserved): the session layer Subtracts such a leftover (issue 9, TS 23.334 §8).
    public var knownToClient: Bool

    public init(contextID: ContextID, terminationID: TerminationID, observed: ObservedEventsDescriptor, knownToClient: Bool = true) {
        self.contextID = contextID
        self.terminationID = terminationID
        self.observed = observed
        self.knownToClient = knownToClient
    }
}

/// What the client delivers on `IqClient.events`.
public enum IqEvent: Sendable, Equatable {
    case association(AssociationEvent)
    case notify(IqNotification)
}

/// Builders and reply readers for the procedures.
public enum IqProcedures {
    /// Reserve (Add) one or more terminations in one context: `$` for a new one (TS 23.334 §8).
    public static func reserve(_ terms: [IqTerminationRequest], in context: ContextID) -> ActionRequest {
        ActionRequest(contextID: context, commands: terms.map { CommandRequest(.add, $0.terminationID, $0.descriptors) })
    }

    /// Configure AGW Connection Point: Modify with Remote, Mode, and Signals (e.g. establish TLS).
    public static func configure(context: UInt32, termination: TerminationID, streamID: UInt16 = 1,
                                 remote: SDPBlock?, mode: StreamMode?, signals: SignalsDescriptor?) -> ActionRequest {
        let request = IqTerminationRequest(terminationID: termination, streamID: streamID, mode: mode, remote: remote, signals: signals)
        return ActionRequest(contextID: .id(context), commands: [CommandRequest(.modify, termination, request.descriptors)])
    }

    /// Release: Subtract one termination, or `*` for the whole context.
    public static func release(context: UInt32, termination: TerminationID = .all) -> ActionRequest {
        ActionRequest(contextID: .id(context), commands: [CommandRequest(.subtract, termination)])
    }

    /// Empty AuditValue on ROOT in the null context (keep-alive, specs.md §10.4).
    public static func auditRoot() -> ActionRequest {
        ActionRequest(contextID: .null, commands: [CommandRequest(.auditValue, .root, [.audit(AuditDescriptor())])])
    }

    /// `Context = * { AuditValue = * { Audit { } } }`: every live context (the leak check).
    public static func auditAllContexts() -> ActionRequest {
        ActionRequest(contextID: .all, commands: [CommandRequest(.auditValue, .all, [.audit(AuditDescriptor())])])
    }

    /// Throws the first Error descriptor of a reply (transaction, action or command level);
    /// otherwise returns the action replies.
    public static func check(_ reply: TransactionReply) throws(IqError) -> [ActionReply] {
        switch reply.result {
        case .error(let e):
            throw .errorReply(IqErrorReply(code: e.code, text: e.text, level: .transaction))
        case .actions(let actions):
            for action in actions {
                for command in action.replies {
                    for case .error(let e) in command.descriptors {
                        throw .errorReply(IqErrorReply(code: e.code, text: e.text, level: .command,
                                                       contextID: action.contextID, terminationID: command.terminationID))
                    }
                }
                if let e = action.error {
                    throw .errorReply(IqErrorReply(code: e.code, text: e.text, level: .action, contextID: action.contextID))
                }
            }
            return actions
        }
    }

    /// Reads the terminations of an Add reply.
    public static func reservedTerminations(_ actions: [ActionReply]) throws(IqError) -> [IqTermination] {
        var out: [IqTermination] = []
        for action in actions {
            guard case .id(let ctx) = action.contextID else {
                throw .unexpectedReply("Add reply in context \(IqFormat.context(action.contextID)), expected a number")
            }
            for command in action.replies where command.verb == .add {
                guard !command.terminationID.isWildcarded else {
                    throw .unexpectedReply("Add reply names termination '\(command.terminationID)'")
                }
                var local: SDPBlock?
                for case .media(let m) in command.descriptors {
                    local = m.streams.first(where: { $0.local != nil })?.local
                }
                out.append(IqTermination(contextID: ctx, terminationID: command.terminationID, local: local))
            }
        }
        guard !out.isEmpty else { throw .unexpectedReply("Add reply without terminations") }
        return out
    }
}

/// Short human-readable forms for the probe and logs.
public enum IqFormat {
    public static func context(_ c: ContextID) -> String {
        switch c {
        case .null: return "-"
        case .choose: return "$"
        case .all: return "*"
        case .id(let n): return String(n)
        }
    }
}
