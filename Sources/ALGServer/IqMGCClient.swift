// The ALG session layer's `MGCClient` (IMSALG) over the Iq client (H248Client): MGCOperation →
// one H.248 transaction through `IqGatewayMapping`; H.248 errors → `MGCFailure`; the gateway's
// Notify / ServiceChange (IqEvent) → `GatewayEvent` for the sessions concerned.
// TS 23.334 §8 procedures; H.248.8 codes kept as sent (449's text included).

import H248Client
import H248Codec
import IMSALG
import Logging
import SDPCore
import SDPRewrite

/// A gateway event with the context it concerns (nil: every session on that gateway).
public struct IqGatewayEventForContext: Sendable, Equatable {
    public var contextID: String?
    public var event: GatewayEvent
    /// The gateway it came from (set by `IqPooledMGCClient`; nil from a single `IqMGCClient`).
    public var gateway: String?

    public init(contextID: String?, event: GatewayEvent, gateway: String? = nil) {
        self.contextID = contextID
        self.event = event
        self.gateway = gateway
    }
}

/// `MGCClient` over one `IqClient` (one gateway; with several, one adapter per pool member).
public actor IqMGCClient: MGCClient {
    public nonisolated let client: IqClient
    public nonisolated let mapping: IqGatewayMapping
    /// Contexts created by each reserve (for `.release(.outcomeOf(id))`), bounded.
    private var outcomes: [MGCOperationID: String] = [:]
    private var outcomeOrder: [MGCOperationID] = []

    /// Outcomes remembered for `.outcomeOf` releases; the oldest are forgotten beyond it.
    public static let maximumRememberedOutcomes = 4_096

    /// One info line per Iq transaction (`IqTransactionLog.line`); nil: no log.
    private nonisolated let logger: Logger?

    public init(client: IqClient, mapping: IqGatewayMapping = IqGatewayMapping(), logger: Logger? = nil) {
        self.client = client
        self.mapping = mapping
        self.logger = logger
    }

    public nonisolated func perform(_ operation: MGCOperation, id: MGCOperationID) async -> MGCResult {
        guard let logger, logger.logLevel <= .info else { return await run(operation, id: id) }
        let started = ContinuousClock.now
        let result = await run(operation, id: id)
        logger.info("\(Self.logLine(operation, result, latency: ContinuousClock.now - started))")
        return result
    }

    /// `iq Add ctx=12 term=ip/1,ip/2 result=ok latency=3ms` (command as sent: Reserve = Add,
    /// Configure = Modify, Release = Subtract; TS 23.334 §8).
    static func logLine(_ operation: MGCOperation, _ result: MGCResult, latency: Duration) -> String {
        let command: String
        var context: String
        switch operation {
        case .reserve(let c, _, _):
            command = "Add"
            if case .existing(let e) = c { context = e } else { context = "$" }
        case .configure(let c, _, _): command = "Modify"; context = c
        case .release(let target):
            command = "Subtract"
            switch target {
            case .context(let c), .terminations(let c, _): context = c
            case .outcomeOf: context = "$"
            }
        }
        var terms: [String] = []
        let outcome: String
        switch result {
        case .success(let reply):
            if reply.contextID != "-" { context = reply.contextID }
            terms = reply.terminations.flatMap { [$0.access, $0.core].compactMap { $0 } }
            outcome = "ok"
        case .failure(.error(let code, _, _)): outcome = "error:\(code)"
        case .failure(.timeout): outcome = "timeout"
        }
        if case .release(.terminations(_, let ids)) = operation { terms = ids }
        return IqTransactionLog.line(command: command, context: context, terminations: terms, result: outcome, latency: latency)
    }

    private func run(_ operation: MGCOperation, id: MGCOperationID) async -> MGCResult {
        do {
            switch operation {
            case .reserve(let context, let request, let existing):
                let ctx: ContextID
                switch context {
                case .choose: ctx = .choose
                case .existing(let c): ctx = try Self.contextNumber(c)
                }
                let action = try mapping.action(for: request, context: ctx, existing: existing.map(Self.terminations))
                let reply = try await client.transact([action], recordsReservations: true)
                let result = try Self.reply(to: request, reply: reply, mapping: mapping)
                remember(id, result.contextID)
                return .success(result)
            case .configure(let context, let request, let existing):
                let action = try mapping.action(for: request, context: try Self.contextNumber(context), existing: existing.map(Self.terminations))
                let reply = try await client.transact([action], recordsReservations: false)
                var result = try Self.reply(to: request, reply: reply, mapping: mapping)
                result.contextID = context
                return .success(result)
            case .release(let target):
                switch target {
                case .context(let c):
                    guard case .id(let n) = try Self.contextNumber(c) else { return Self.badContext(c) }
                    try await client.release(context: n)
                    return .success(MGCReply(contextID: c))
                case .terminations(let c, let ids):
                    guard case .id(let n) = try Self.contextNumber(c) else { return Self.badContext(c) }
                    for t in ids { try await client.release(context: n, termination: TerminationID(t)) }
                    return .success(MGCReply(contextID: c))
                case .outcomeOf(let op):
                    // The reserve completed after the session gave up: subtract what it created. A
                    // reserve that timed out has no outcome here (IqClient drops a reply after
                    // LONG-TIMER); the periodic `Context *` audit finds such leftovers.
                    guard let c = outcomes.removeValue(forKey: op) else { return .success(MGCReply(contextID: "-")) }
                    guard case .id(let n) = try Self.contextNumber(c) else { return Self.badContext(c) }
                    try await client.release(context: n)
                    return .success(MGCReply(contextID: c))
                }
            }
        } catch {
            return .failure(Self.failure(error))
        }
    }

    private func remember(_ id: MGCOperationID, _ context: String) {
        outcomes[id] = context
        outcomeOrder.append(id)
        if outcomeOrder.count > Self.maximumRememberedOutcomes {
            outcomes[outcomeOrder.removeFirst()] = nil
        }
    }

    // MARK: Pure parts

    static func contextNumber(_ text: String) throws(IqMappingError) -> ContextID {
        guard let n = UInt32(text), n != 0, n != UInt32.max else { throw IqMappingError("context '\(text)' is not an H.248 context id") }
        return .id(n)
    }

    static func badContext(_ c: String) -> MGCResult {
        .failure(.error(code: Int(H248ErrorCodes.syntaxErrorInCommand), text: "context '\(c)' is not an H.248 context id"))
    }

    static func terminations(_ t: MGCStreamTerminations) -> IqStreamTerminations {
        IqStreamTerminations(index: t.index, access: t.access.map { TerminationID($0) }, core: t.core.map { TerminationID($0) })
    }

    /// Error mapping: an Error descriptor keeps its H.248.8 code and text (and the context the AGW
    /// created before failing); a local timeout is `.timeout`; no gateway is 502 "Not ready"
    /// (→ SIP 503); other local failures carry their own H.248.8 code (506, 510, 533).
    public static func failure(_ error: any Error) -> MGCFailure {
        switch error {
        case let e as IqError:
            switch e {
            case .errorReply(let r):
                var context: String?
                if case .id(let n)? = r.contextID { context = String(n) }
                return .error(code: Int(r.code), text: r.text ?? "", contextID: context)
            case .transaction(let t) where t.code == .transactionTimeout:
                return .timeout
            case .transaction(let t), .transport(let t):
                return .error(code: Int(t.h248ErrorCode ?? H248ErrorCodes.insufficientResources), text: t.diagnostics)
            case .notRegistered, .registrationTimeout:
                return .error(code: 502, text: "Not ready: no IMS-AGW registered")
            case .unexpectedReply(let s):
                return .error(code: Int(H248ErrorCodes.syntaxErrorInMessage), text: "unexpected reply: \(s)")
            }
        case let e as IqMappingError:
            return .error(code: Int(H248ErrorCodes.syntaxErrorInCommand), text: e.text)
        default:
            return .error(code: Int(H248ErrorCodes.insufficientResources), text: "\(error)")
        }
    }

    /// Reads a successful reply: context, the terminations each Add created (commands are answered
    /// in request order, H.248.1 §8.2.2), and the AGW's Local per stream as a `GatewayAnswer`.
    static func reply(to request: GatewayRequest, reply: TransactionReply, mapping: IqGatewayMapping) throws -> MGCReply {
        let actions = try IqProcedures.check(reply)
        guard let action = actions.first else { throw IqError.unexpectedReply("reply without an action") }
        guard case .id(let ctx) = action.contextID else {
            throw IqError.unexpectedReply("reply in context \(IqFormat.context(action.contextID))")
        }
        var replies = action.replies[...]
        var terminations: [MGCStreamTerminations] = []
        var answers: [StreamAnswer] = []
        for stream in request.streams {
            var t = MGCStreamTerminations(index: stream.index)
            var locals: [IqTerminationSide: SDPBlock] = [:]
            let sides: [(IqTerminationSide, TerminationRequest?)] = [(.access, stream.access), (.core, stream.core)]
            switch stream.action {
            case .reserve, .configure, .replace:
                for case let (side, _?) in sides {
                    guard let r = replies.popFirst() else { throw IqError.unexpectedReply("fewer command replies than commands") }
                    for case .media(let m) in r.descriptors {
                        if let l = m.streams.first(where: { $0.local != nil })?.local { locals[side] = l }
                    }
                    if stream.action == .reserve {
                        if side == .access { t.access = r.terminationID.text } else { t.core = r.terminationID.text }
                    }
                }
            case .release:
                // Subtract replies for the known terminations (0, 1 or 2 of them).
                while let next = replies.first, next.verb == .subtract { replies = replies.dropFirst() }
            }
            if !t.all.isEmpty { terminations.append(t) }
            if !locals.isEmpty { answers.append(mapping.answer(stream: stream.index, access: locals[.access], core: locals[.core])) }
        }
        return MGCReply(contextID: String(ctx), terminations: terminations, answer: GatewayAnswer(streams: answers))
    }

    /// `IqEvent` → `GatewayEvent` (pure): TLS/TCP establishment failure Notifies (tokens
    /// configurable), gateway restart, out of service or lost. Other events concern no session.
    public static func gatewayEvent(_ event: IqEvent, tokens: IqPackageTokens) -> IqGatewayEventForContext? {
        switch event {
        case .notify(let n):
            let context: String? = if case .id(let c) = n.contextID { String(c) } else { nil }
            for e in n.observed.events {
                if e.name.lowercased() == tokens.tlsEstablishFailureEvent.lowercased() {
                    return IqGatewayEventForContext(contextID: context, event: .tlsFailure(termination: n.terminationID.text))
                }
                if e.name.lowercased() == tokens.tcpEstablishFailureEvent.lowercased() {
                    return IqGatewayEventForContext(contextID: context, event: .tcpFailure(termination: n.terminationID.text))
                }
            }
            // Any other Notify on a termination (the H.248.36 heartbeat above all) still names its
            // context: the sessions Subtract a context none of them knows.
            if context != nil, !n.terminationID.isRoot {
                return IqGatewayEventForContext(contextID: context, event: .heartbeat(termination: n.terminationID.text))
            }
            return nil
        case .association(let a):
            switch a {
            case .gatewayRestarted: return IqGatewayEventForContext(contextID: nil, event: .gatewayRestarted)
            case .outOfService, .gatewayLost: return IqGatewayEventForContext(contextID: nil, event: .outOfService)
            default: return nil
            }
        }
    }

    /// The log line of a transaction the gateway originated (issue 9 logging: one line per Iq
    /// transaction, the incoming ones too): a Notify (H.248.1 §7.2.7) with its context, termination,
    /// observed events and the answer the client gave it (ok, or error:435 for a context/termination
    /// it never reserved, H.248.8). `iq Notify dir=in ctx=3 term=ip/5 event=tlsbsc/estfail result=ok`.
    /// Association events (ServiceChange) are logged where the registration is handled.
    static func incomingLogLine(_ event: IqEvent) -> String? {
        guard case .notify(let n) = event else { return nil }
        let events = n.observed.events.map(\.name)
        return "iq Notify dir=in ctx=\(IqFormat.context(n.contextID)) term=\(n.terminationID.text)"
            + " event=\(events.isEmpty ? "-" : events.joined(separator: ","))"
            + " result=\(n.knownToClient ? "ok" : "error:\(H248ErrorCodes.terminationNotInContext)")"
    }

    /// The gateway events of this client's `events` stream, mapped (the stream has one consumer:
    /// use this instead of `client.events`, not beside it). Each Notify from the gateway is logged
    /// (`incomingLogLine`, info).
    public nonisolated func gatewayEvents() -> AsyncStream<IqGatewayEventForContext> {
        let source = client.events
        let tokens = mapping.tokens
        let logger = self.logger
        return AsyncStream { continuation in
            let task = Task {
                for await e in source {
                    if let logger, logger.logLevel <= .info, let line = Self.incomingLogLine(e) { logger.info("\(line)") }
                    if let mapped = Self.gatewayEvent(e, tokens: tokens) { continuation.yield(mapped) }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// `MGCClient` over several gateways (`IqGatewayPool`): a session's first reserve (`.choose`) picks
/// its gateway with the pool's documented choice (round-robin over those in service by default);
/// the context id handed to the session layer is `<gateway name>/<H.248 context>`, so every later
/// operation of that session goes to the same gateway without the session layer knowing there are
/// several.
public actor IqPooledMGCClient: MGCClient {
    public nonisolated let pool: IqGatewayPool
    public nonisolated let adapters: [String: IqMGCClient]
    /// Which gateway each reserve went to (for `.release(.outcomeOf)`), bounded like IqMGCClient's.
    private var reserveGateway: [MGCOperationID: String] = [:]
    private var reserveOrder: [MGCOperationID] = []

    public init(pool: IqGatewayPool, mapping: IqGatewayMapping = IqGatewayMapping()) {
        self.pool = pool
        var adapters: [String: IqMGCClient] = [:]
        for g in pool.gateways { adapters[g.name] = IqMGCClient(client: g.client, mapping: mapping) }
        self.adapters = adapters
    }

    /// `<gateway>/<context>` → (gateway, context); nil when malformed or the gateway is unknown.
    public nonisolated func split(_ context: String) -> (gateway: String, adapter: IqMGCClient, context: String)? {
        guard let slash = context.lastIndex(of: "/") else { return nil }
        let name = String(context[..<slash])
        guard let adapter = adapters[name] else { return nil }
        return (name, adapter, String(context[context.index(after: slash)...]))
    }

    public nonisolated func perform(_ operation: MGCOperation, id: MGCOperationID) async -> MGCResult {
        await run(operation, id: id)
    }

    private func run(_ operation: MGCOperation, id: MGCOperationID) async -> MGCResult {
        switch operation {
        case .reserve(.choose, let request, let existing):
            guard let g = await pool.selectForNewSession(), let adapter = adapters[g.name] else {
                return .failure(.error(code: 502, text: "Not ready: no IMS-AGW in service"))
            }
            reserveGateway[id] = g.name
            reserveOrder.append(id)
            if reserveOrder.count > IqMGCClient.maximumRememberedOutcomes { reserveGateway[reserveOrder.removeFirst()] = nil }
            return Self.prefix(await adapter.perform(.reserve(context: .choose, request: request, existing: existing), id: id), g.name)
        case .reserve(.existing(let c), let request, let existing):
            guard let s = split(c) else { return Self.unknown(c) }
            return Self.prefix(await s.adapter.perform(.reserve(context: .existing(s.context), request: request, existing: existing), id: id), s.gateway)
        case .configure(let c, let request, let existing):
            guard let s = split(c) else { return Self.unknown(c) }
            return Self.prefix(await s.adapter.perform(.configure(context: s.context, request: request, existing: existing), id: id), s.gateway)
        case .release(.context(let c)):
            guard let s = split(c) else { return Self.unknown(c) }
            return Self.prefix(await s.adapter.perform(.release(.context(s.context)), id: id), s.gateway)
        case .release(.terminations(let c, let ids)):
            guard let s = split(c) else { return Self.unknown(c) }
            return Self.prefix(await s.adapter.perform(.release(.terminations(context: s.context, ids: ids)), id: id), s.gateway)
        case .release(.outcomeOf(let op)):
            guard let name = reserveGateway.removeValue(forKey: op), let adapter = adapters[name] else {
                return .success(MGCReply(contextID: "-"))
            }
            return Self.prefix(await adapter.perform(.release(.outcomeOf(op)), id: id), name)
        }
    }

    static func unknown(_ c: String) -> MGCResult {
        .failure(.error(code: Int(H248ErrorCodes.syntaxErrorInCommand), text: "context '\(c)' names no configured IMS-AGW"))
    }

    /// Puts the gateway name in front of every context id of a result.
    static func prefix(_ result: MGCResult, _ gateway: String) -> MGCResult {
        switch result {
        case .success(var r):
            if r.contextID != "-" { r.contextID = "\(gateway)/\(r.contextID)" }
            return .success(r)
        case .failure(.error(let code, let text, let ctx?)):
            return .failure(.error(code: code, text: text, contextID: "\(gateway)/\(ctx)"))
        case .failure:
            return result
        }
    }

    /// Every gateway's events, merged; context ids prefixed like the session layer knows them.
    /// A gateway-wide event (restart, out of service) carries `gateway` and a nil context: it
    /// concerns the sessions whose context starts with `<gateway>/`.
    public nonisolated func gatewayEvents() -> AsyncStream<IqGatewayEventForContext> {
        let adapters = self.adapters
        return AsyncStream { continuation in
            let task = Task {
                await withTaskGroup(of: Void.self) { group in
                    for (name, adapter) in adapters {
                        group.addTask {
                            for await var e in adapter.gatewayEvents() {
                                e.gateway = name
                                if let c = e.contextID { e.contextID = "\(name)/\(c)" }
                                continuation.yield(e)
                            }
                        }
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
