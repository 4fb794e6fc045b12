// The Iq MGC client: the shell around the pure machines. It owns one transport and one gateway
// association; decodes/encodes with H248Codec; drives OutgoingTransactionTable (our requests),
// IncomingTransactionTable (the gateway's requests, duplicate detection and reply cache) and
// AssociationStateMachine (registration, keep-alive), with the real clock read here only and
// timers scheduled on the transport's event loop.

import H248Codec
import NIOCore
import NIOPosix

/// Settings of one `IqClient`.
public struct IqClientConfiguration: Sendable {
    /// Token form we send (TS 29.334 §5.9 NOTE 2: chosen per association).
    public var form: H248TextForm = .pretty
    /// Our mId in message headers.
    public var mid: MID
    public var timers = H248TransactionTimers()
    public var association = AssociationConfiguration()
    public var datagramPolicy = H248DatagramPolicy()
    /// How long a batched TransactionResponseAck waits for a message to ride on or for more acks
    /// (H.248.1 §8.2.3; `h248.timers.responseAckDelay`).
    public var responseAckFlushDelay: Duration = ResponseAckBatcher.defaultFlushDelay

    public init(mid: MID, form: H248TextForm = .pretty) {
        self.mid = mid
        self.form = form
    }

    public func validate() throws(H248ClientError) {
        try timers.validate()
        try association.validate()
        try datagramPolicy.validate()
    }
}

extension H248ErrorCodes {
    /// H.248.8 435 "Termination ID is not in specified Context" (Notify for an unknown termination).
    public static let terminationNotInContext: UInt16 = 435
    /// H.248.8 431 "No TerminationID matched a wildcard" (Context * audit with nothing left).
    public static let noTerminationMatchedWildcard: UInt16 = 431
    /// H.248.8 442 "Syntax Error in Command".
    public static let syntaxErrorInCommand: UInt16 = 442
    /// H.248.8 501 "Not Implemented".
    public static let notImplemented: UInt16 = 501
}

/// Bounds of the client (house rule: nothing unbounded).
public enum IqClientLimits {
    /// Transactions we put in one outgoing message. H.248.1 §8 sets no number; 64 keeps a UDP
    /// message of ordinary requests well under the path MTU check (533 otherwise).
    public static let maximumTransactionsPerMessage = 64
}

/// MGC side of Iq towards one gateway, as a typed async API (TS 23.334 §8 procedures).
public actor IqClient {
    public nonisolated let events: AsyncStream<IqEvent>
    public nonisolated let configuration: IqClientConfiguration
    public nonisolated let transport: any H248Transport
    private let eventContinuation: AsyncStream<IqEvent>.Continuation
    private let clock: @Sendable () -> H248Instant
    private let trace: (@Sendable (String) -> Void)?
    private let encoder: H248TextEncoder
    private let parser = H248TextParser()

    private var outgoing: OutgoingTransactionTable
    private var incoming: IncomingTransactionTable<[UInt8]>
    private var association: AssociationStateMachine

    private struct Waiting {
        /// This transaction alone (retransmissions repeat only it, Annex D.1.2).
        var bytes: [UInt8]
        var peer: SocketAddress
        /// Set once the caller waits; a result that comes first is parked in `finished`.
        var continuation: CheckedContinuation<TransactionReply, any Error>?
        var reply: TransactionReply?
        /// Record the reserved terminations when the reply completes, before the caller resumes,
        /// so a Notify that overtakes the caller's continuation still finds them.
        var recordsReservations = false
    }
    private var waiting: [UInt32: Waiting] = [:]
    /// Results of transactions that completed before their caller started waiting (batched sends).
    private var finished: [UInt32: Result<TransactionReply, any Error>] = [:]
    private var gateway: SocketAddress?
    private var registrationWaiters: [Int: CheckedContinuation<Int, any Error>] = [:]
    private var nextWaiterID = 0
    private var timer: Scheduled<Void>?
    private var timerDeadline: H248Instant?
    private var knownTerminations: Set<String> = []
    private var deferredRequests: [AssociationRequest] = []
    private var nextEventsRequestID: UInt32 = 1
    private var inboundTask: Task<Void, Never>?

    /// - Parameter clock: the monotonic clock; default reads `ContinuousClock` from creation.
    public init(transport: any H248Transport, configuration: IqClientConfiguration,
                clock: (@Sendable () -> H248Instant)? = nil, trace: (@Sendable (String) -> Void)? = nil) {
        self.transport = transport
        self.configuration = configuration
        if let clock {
            self.clock = clock
        } else {
            let origin = ContinuousClock.now
            self.clock = { H248Instant(offset: origin.duration(to: ContinuousClock.now)) }
        }
        self.trace = trace
        self.encoder = H248TextEncoder(form: configuration.form)
        self.outgoing = OutgoingTransactionTable(
            transport: transport.kind, timers: configuration.timers,
            ackBatcher: ResponseAckBatcher(flushDelay: configuration.responseAckFlushDelay))
        self.incoming = IncomingTransactionTable(timers: configuration.timers)
        self.association = AssociationStateMachine(configuration: configuration.association)
        (events, eventContinuation) = AsyncStream<IqEvent>.makeStream(bufferingPolicy: .bufferingNewest(1_024))
    }

    /// Binds `address` and starts receiving.
    public static func listen(
        _ address: H248ListenAddress, configuration: IqClientConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        trace: (@Sendable (String) -> Void)? = nil
    ) async throws -> IqClient {
        try configuration.validate()
        let transport = try await openH248Transport(address, group: group, datagramPolicy: configuration.datagramPolicy)
        let client = IqClient(transport: transport, configuration: configuration, trace: trace)
        await client.start()
        return client
    }

    /// Starts consuming the transport's inbound events.
    public func start() {
        guard inboundTask == nil else { return }
        let stream = transport.events
        inboundTask = Task { [weak self] in
            for await event in stream {
                guard let self else { return }
                await self.handle(event)
            }
        }
    }

    public func close() async {
        timer?.cancel()
        timer = nil
        run(outgoing.cancelAll())
        for (_, w) in registrationWaiters { w.resume(throwing: IqError.notRegistered) }
        registrationWaiters = [:]
        await transport.close()
        eventContinuation.finish()
    }

    public var isRegistered: Bool { association.acceptsNewSessions }
    public var negotiatedVersion: Int? { association.negotiatedVersion }
    public var associationState: String { association.stateName }

    // MARK: Registration

    /// Waits until the gateway registers (ServiceChange on ROOT, H.248.1 §7.2.8) and returns the
    /// negotiated version.
    public func waitForRegistration(timeout: Duration) async throws -> Int {
        if association.acceptsNewSessions, let v = association.negotiatedVersion { return v }
        let id = nextWaiterID
        nextWaiterID += 1
        let timeoutTask = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.expireRegistrationWaiter(id)
        }
        defer { timeoutTask.cancel() }
        return try await withCheckedThrowingContinuation { registrationWaiters[id] = $0 }
    }

    private func expireRegistrationWaiter(_ id: Int) {
        registrationWaiters.removeValue(forKey: id)?.resume(throwing: IqError.registrationTimeout)
    }

    // MARK: Procedures (TS 23.334 §8)

    /// Reserve AGW Connection Point / Reserve and Configure: Add each termination in `context`
    /// (`$` = a new context).
    public func reserve(_ terms: [IqTerminationRequest], in context: ContextID = .choose) async throws -> [IqTermination] {
        let reply = try await transact([IqProcedures.reserve(terms, in: context)], recordsReservations: true)
        return try IqProcedures.reservedTerminations(try IqProcedures.check(reply))
    }

    /// Configure AGW Connection Point: Modify with Remote, Mode and Signals.
    @discardableResult
    public func configure(context: UInt32, termination: TerminationID, streamID: UInt16 = 1, remote: SDPBlock? = nil,
                          mode: StreamMode? = nil, signals: SignalsDescriptor? = nil) async throws -> [ActionReply] {
        let reply = try await transact([IqProcedures.configure(context: context, termination: termination, streamID: streamID,
                                                               remote: remote, mode: mode, signals: signals)])
        return try IqProcedures.check(reply)
    }

    /// Release: Subtract one termination, or `*` (the default) for the whole context. Returns the
    /// terminations the gateway subtracted.
    @discardableResult
    public func release(context: UInt32, termination: TerminationID = .all) async throws -> [TerminationID] {
        let reply = try await transact([IqProcedures.release(context: context, termination: termination)])
        let actions = try IqProcedures.check(reply)
        let prefix = "\(context)/"
        if termination.isAll {
            knownTerminations = knownTerminations.filter { !$0.hasPrefix(prefix) }
        } else {
            knownTerminations.remove(Self.key(.id(context), termination))
        }
        return actions.flatMap { $0.replies.filter { $0.verb == .subtract }.map(\.terminationID) }
    }

    /// Empty AuditValue on ROOT (the keep-alive request, sent on demand).
    @discardableResult
    public func auditRoot() async throws -> [ActionReply] {
        try IqProcedures.check(try await transact([IqProcedures.auditRoot()]))
    }

    /// Every live context on the gateway (`Context = * { AuditValue = * }`); an answer 431 (no
    /// termination matched the wildcard) means none, and gives `[]`.
    public func auditContexts() async throws -> [ActionReply] {
        do {
            return try IqProcedures.check(try await transact([IqProcedures.auditAllContexts()]))
        } catch IqError.errorReply(let e) where e.code == H248ErrorCodes.noTerminationMatchedWildcard {
            return []
        }
    }

    /// Sends one transaction with these actions and waits for its reply (or a typed failure).
    public func transact(_ actions: [ActionRequest]) async throws -> TransactionReply {
        try await transact(actions, recordsReservations: false)
    }

    /// As `transact(_:)`; with `recordsReservations` the terminations of a successful Add reply
    /// are remembered (so the gateway's Notify for them is accepted) before the caller resumes.
    public func transact(_ actions: [ActionRequest], recordsReservations: Bool) async throws -> TransactionReply {
        let ids = try begin([actions], recordsReservations: recordsReservations)
        return try await result(of: ids[0])
    }

    /// Several transactions in one message (H.248.1 §8: a message carries one or more
    /// transactions; Annex D.1/D.2). Each request gets its own id, timers and result, in the order
    /// given. Over UDP a retransmission repeats only the transaction concerned. Pending
    /// TransactionResponseAcks are piggy-backed on the message (§8.2.3).
    public func send(_ requests: [[ActionRequest]]) async throws -> [Result<TransactionReply, IqError>] {
        guard !requests.isEmpty else { return [] }
        let ids = try begin(requests, recordsReservations: false)
        var results: [Result<TransactionReply, IqError>] = []
        for id in ids {
            do {
                results.append(.success(try await result(of: id)))
            } catch let e as IqError {
                results.append(.failure(e))
            } catch {
                results.append(.failure(.unexpectedReply("\(error)")))
            }
        }
        return results
    }

    /// Allocates one transaction per request, encodes them (with any batched acks piggy-backed)
    /// into one message and sends it; the ids are returned in request order.
    private func begin(_ requests: [[ActionRequest]], recordsReservations: Bool) throws -> [UInt32] {
        guard association.isRegistered, let peer = gateway else { throw IqError.notRegistered }
        guard requests.count <= IqClientLimits.maximumTransactionsPerMessage else {
            throw IqError.transaction(H248ClientError(
                .invalidConfiguration, "\(requests.count) transactions in one message (bound \(IqClientLimits.maximumTransactionsPerMessage))"))
        }
        // All or nothing: room for every transaction of the batch (510 otherwise), so that no
        // transaction is started and then left unsent.
        guard outgoing.trackedCount + requests.count <= outgoing.maximumInFlight else {
            throw IqError.transaction(H248ClientError(
                .transactionTableFull, h248ErrorCode: H248ErrorCodes.insufficientResources,
                "\(outgoing.trackedCount) outgoing transactions tracked, \(requests.count) more asked (bound \(outgoing.maximumInFlight))"))
        }
        let now = clock()
        var ids: [UInt32] = []
        var transactions: [Transaction] = []
        var deferred: [OutgoingTransactionTable.Action] = []
        for actions in requests {
            let begun: (transactionID: UInt32, actions: [OutgoingTransactionTable.Action])
            do throws(H248ClientError) {
                begun = try outgoing.begin(now: now)
            } catch {
                // Only id exhaustion gets here (room was checked): the ones already started are
                // dropped from `waiting` and expire in the table at LONG-TIMER.
                for id in ids { waiting[id] = nil }
                throw IqError.transaction(error)
            }
            let request = Transaction.request(TransactionRequest(id: begun.transactionID, actions: actions))
            ids.append(begun.transactionID)
            transactions.append(request)
            waiting[begun.transactionID] = Waiting(bytes: encode([request]), peer: peer, continuation: nil,
                                                   recordsReservations: recordsReservations)
            // The first `.send` of every transaction is this one combined message.
            deferred.append(contentsOf: begun.actions.filter { if case .send = $0 { return false }; return true })
        }
        let acks = outgoing.takeAcksForPiggyback()
        if !acks.isEmpty { transactions.insert(.responseAck(acks.map { AckRange($0.first, $0.last) }), at: 0) }
        let bytes = (transactions.count == 1) ? (waiting[ids[0]]?.bytes ?? encode(transactions)) : encode(transactions)
        do throws(H248ClientError) {
            try transport.send(bytes, to: peer)
            trace?("-> \(peer)\n\(String(decoding: bytes, as: UTF8.self))")
        } catch where error.code == .messageTooLarge && ids.count > 1 {
            // Together above the path MTU (Annex D.1, 533): send each transaction in its own
            // message instead; one that is too large alone fails alone. The acks go on their own.
            if !acks.isEmpty { transmit(encode([.responseAck(acks.map { AckRange($0.first, $0.last) })]), to: peer) }
            for id in ids {
                guard let w = waiting[id] else { continue }
                do throws(H248ClientError) {
                    try transport.send(w.bytes, to: peer)
                    trace?("-> \(peer)\n\(String(decoding: w.bytes, as: UTF8.self))")
                } catch {
                    waiting[id] = nil
                    finished[id] = .failure(IqError.transport(error))
                }
            }
        } catch {
            for id in ids {
                waiting[id] = nil
                finished[id] = .failure(IqError.transport(error))
            }
        }
        run(deferred)
        rearmTimer()
        return ids
    }

    /// Waits for the result of transaction `id` (parked already, or delivered later by `run`).
    private func result(of id: UInt32) async throws -> TransactionReply {
        if let done = finished.removeValue(forKey: id) { return try done.get() }
        guard waiting[id] != nil else { throw IqError.unexpectedReply("transaction \(id) is unknown") }
        return try await withCheckedThrowingContinuation { continuation in
            waiting[id]?.continuation = continuation
        }
    }

    /// Hands a result to the waiting caller, or parks it until the caller waits.
    private func resolve(_ id: UInt32, _ w: Waiting, _ result: Result<TransactionReply, any Error>) {
        if let c = w.continuation {
            c.resume(with: result)
        } else {
            finished[id] = result
        }
    }

    // MARK: Inbound

    private func handle(_ event: H248TransportEvent) {
        switch event {
        case .message(let bytes, let from):
            let message: H248Message
            do throws(H248ParseError) {
                message = try parser.parse(bytes: bytes)
            } catch {
                // H.248.8 code of the parse error, as a message-level Error (RFC 3525 B.2 messageBody).
                trace?("<- \(from) undecodable (\(error)); answered with error \(error.code.rawValue)")
                transmit(encode(body: .error(error.errorDescriptor)), to: from)
                return
            }
            trace?("<- \(from)\n\(String(decoding: bytes, as: UTF8.self))")
            switch message.body {
            case .error(let e):
                trace?("gateway sent message-level error \(e.code) \(e.text ?? "")")
            case .transactions(let transactions):
                for t in transactions { handle(t, version: message.version, from: from) }
            }
        case .closed(let peer, let reason):
            if peer == gateway { applyAssociation(association.transportClosed(reason: "\(peer): \(reason)")) }
        case .inputError(let e, let from):
            trace?("input from \(from.map { "\($0)" } ?? "?") refused: \(e)")
        }
        rearmTimer()
    }

    private func handle(_ transaction: Transaction, version: Int, from: SocketAddress) {
        let now = clock()
        switch transaction {
        case .reply(let r):
            if var w = waiting[r.id], w.reply == nil {
                w.reply = r
                waiting[r.id] = w
            }
            run(outgoing.replyReceived(transactionID: r.id, immAckRequired: r.immAckRequired, now: now))
        case .pending(let id):
            run(outgoing.pendingReceived(transactionID: id, now: now))
        case .responseAck(let ranges):
            let valid = ranges.compactMap { try? TransactionAckRange(first: $0.first, last: $0.last) }
            _ = incoming.responseAckReceived(valid, now: now)
        case .request(let request):
            handleRequest(request, version: version, from: from)
        case .segmentReply:
            break
        }
    }

    /// Duplicate detection first (Annex D.1.3: never execute twice), then execution.
    private func handleRequest(_ request: TransactionRequest, version: Int, from peer: SocketAddress) {
        let now = clock()
        switch incoming.requestReceived(transactionID: request.id, now: now) {
        case .execute:
            let reply = execute(request, version: version, from: peer)
            let v = messageVersion(fallback: version)
            let bytes = encode([.reply(reply)], version: v)
            if incoming.replyReady(transactionID: request.id, reply: bytes, now: now) == .send {
                transmitReply(bytes, reply, version: v, to: peer)
            }
            let requests = deferredRequests
            deferredRequests = []
            for r in requests { send(r) }
        case .resendReply(let bytes):
            transmit(bytes, to: peer)
        case .sendPending:
            transmit(encode([.pending(request.id)], version: messageVersion(fallback: version)), to: peer)
        case .ignoreDuplicate:
            break
        case .reject(let e):
            let reply = TransactionReply(id: request.id, result: .error(ErrorDescriptor(code: e.h248ErrorCode ?? H248ErrorCodes.insufficientResources, text: e.diagnostics)))
            transmit(encode([.reply(reply)], version: messageVersion(fallback: version)), to: peer)
        }
    }

    private func execute(_ request: TransactionRequest, version: Int, from peer: SocketAddress) -> TransactionReply {
        if let (context, command) = Self.serviceChange(in: request) {
            return TransactionReply(id: request.id, result: .actions([
                ActionReply(contextID: context, replies: [serviceChange(command, version: version, from: peer)])]))
        }
        if case .rejectRequest(let e) = association.requestReceived() {
            return TransactionReply(id: request.id, result: .error(ErrorDescriptor(code: e.h248ErrorCode ?? H248ErrorCodes.requestBeforeServiceChange, text: e.diagnostics)))
        }
        var actionReplies: [ActionReply] = []
        for action in request.actions {
            var replies: [CommandReply] = []
            var error: ErrorDescriptor?
            for command in action.commands {
                guard command.verb == .notify else {
                    error = ErrorDescriptor(code: H248ErrorCodes.notImplemented, text: "\(command.verb.rawValue) from the gateway is not handled")
                    break
                }
                let observed = command.descriptors.compactMap { d -> ObservedEventsDescriptor? in
                    if case .observedEvents(let o) = d { return o }
                    return nil
                }.first ?? ObservedEventsDescriptor(requestID: 0, events: [])
                if command.terminationID.isRoot {
                    let inactivity = configurationInactivityEvent
                    if observed.events.contains(where: { $0.name.lowercased() == inactivity }) {
                        applyAssociation(association.inactivityNotified())
                    }
                    eventContinuation.yield(.notify(IqNotification(contextID: action.contextID, terminationID: command.terminationID, observed: observed)))
                    replies.append(CommandReply(.notify, command.terminationID))
                } else if knownTerminations.contains(Self.key(action.contextID, command.terminationID)) {
                    eventContinuation.yield(.notify(IqNotification(contextID: action.contextID, terminationID: command.terminationID, observed: observed)))
                    replies.append(CommandReply(.notify, command.terminationID))
                } else {
                    // H.248.8 435: a Notify for a context/termination we do not know. Still reported
                    // (knownToClient false), so that the session layer can Subtract the leftover.
                    eventContinuation.yield(.notify(IqNotification(contextID: action.contextID, terminationID: command.terminationID,
                                                                   observed: observed, knownToClient: false)))
                    replies.append(CommandReply(.notify, command.terminationID, [.error(ErrorDescriptor(
                        code: H248ErrorCodes.terminationNotInContext, text: "Termination ID is not in specified Context"))]))
                }
            }
            actionReplies.append(ActionReply(contextID: action.contextID, replies: replies, error: error))
        }
        return TransactionReply(id: request.id, result: .actions(actionReplies))
    }

    private var configurationInactivityEvent: String { "it/ito" }

    private static func serviceChange(in request: TransactionRequest) -> (ContextID, CommandRequest)? {
        for action in request.actions {
            for command in action.commands where command.verb == .serviceChange { return (action.contextID, command) }
        }
        return nil
    }

    /// Registration and the gateway's other ServiceChanges (H.248.1 §7.2.8, §11.3).
    private func serviceChange(_ command: CommandRequest, version: Int, from peer: SocketAddress) -> CommandReply {
        var params = ServiceChangeParameters()
        for case .services(let p) in command.descriptors { params = p }
        let method: ServiceChangeMethod?
        switch params.method {
        case .restart: method = .restart
        case .failover: method = .failover
        case .forced: method = .forced
        case .graceful: method = .graceful
        case .disconnected: method = .disconnected
        case .handOff: method = .handOff
        case .other, nil: method = nil
        }
        guard let method else {
            return CommandReply(.serviceChange, command.terminationID, [.error(ErrorDescriptor(
                code: H248ErrorCodes.syntaxErrorInCommand, text: "ServiceChangeMethod missing or not supported"))])
        }
        let info = ServiceChangeRequestInfo(
            method: method, reason: params.reasonCode.flatMap { UInt16(exactly: $0) }, terminationID: command.terminationID.text,
            version: params.version, messageVersion: version,
            profile: params.profile.map { H248ProfileID(name: $0.name, version: $0.version) },
            delay: params.delay.map { .seconds(Int64($0)) })
        switch association.serviceChangeReceived(info, now: clock()) {
        case .replyServiceChange(let r, let events, let requests):
            gateway = peer
            var reply = ServiceChangeParameters()
            reply.version = r.version
            reply.profile = r.profile.map { ServiceChangeProfile(name: $0.name, version: $0.version) }
            if events.contains(where: { if case .gatewayRestarted = $0 { return true }; return false }) {
                knownTerminations.removeAll()
            }
            deliver(events)
            deferredRequests.append(contentsOf: requests)
            let descriptors: [Descriptor] = (r.version != nil || r.profile != nil) ? [.services(reply)] : []
            return CommandReply(.serviceChange, command.terminationID, descriptors)
        case .rejectServiceChange(let e):
            return CommandReply(.serviceChange, command.terminationID, [.error(ErrorDescriptor(
                code: e.h248ErrorCode ?? H248ErrorCodes.requestBeforeServiceChange, text: e.diagnostics))])
        case .rejectRequest(let e):
            return CommandReply(.serviceChange, command.terminationID, [.error(ErrorDescriptor(
                code: e.h248ErrorCode ?? H248ErrorCodes.requestBeforeServiceChange, text: e.diagnostics))])
        case let other:
            applyAssociation(other)
            return CommandReply(.serviceChange, command.terminationID)
        }
    }

    // MARK: Actions of the machines

    private func run(_ actions: [OutgoingTransactionTable.Action]) {
        for action in actions {
            switch action {
            case .send(let id), .retransmit(let id, _):
                guard let w = waiting[id] else { continue }
                if case .retransmit(_, let attempt) = action { trace?("retransmit T=\(id) attempt \(attempt)") }
                do throws(H248ClientError) {
                    try transport.send(w.bytes, to: w.peer)
                    if case .send = action { trace?("-> \(w.peer)\n\(String(decoding: w.bytes, as: UTF8.self))") }
                } catch {
                    waiting[id] = nil
                    resolve(id, w, .failure(IqError.transport(error)))
                }
            case .completed(let id, _):
                guard let w = waiting.removeValue(forKey: id) else { continue }
                if let reply = w.reply {
                    if w.recordsReservations, let actions = try? IqProcedures.check(reply),
                       let terms = try? IqProcedures.reservedTerminations(actions) {
                        for t in terms { knownTerminations.insert(Self.key(.id(t.contextID), t.terminationID)) }
                    }
                    resolve(id, w, .success(reply))
                } else {
                    resolve(id, w, .failure(IqError.unexpectedReply("transaction \(id) completed without a reply")))
                }
            case .failed(let id, let e):
                if let w = waiting.removeValue(forKey: id) { resolve(id, w, .failure(IqError.transaction(e))) }
            case .sendResponseAck(let ranges):
                guard let peer = gateway else { continue }
                transmit(encode([.responseAck(ranges.map { AckRange($0.first, $0.last) })]), to: peer)
            }
        }
    }

    private func applyAssociation(_ action: AssociationStateMachine.Action) {
        switch action {
        case .send(let request): send(request)
        case .events(let events): deliver(events)
        case .replyServiceChange(_, let events, let requests):
            deliver(events)
            for r in requests { send(r) }
        case .rejectServiceChange, .rejectRequest, .acceptRequest, .none: break
        }
    }

    private func deliver(_ events: [AssociationEvent]) {
        for event in events {
            eventContinuation.yield(.association(event))
            switch event {
            case .registered(let v, _, _, _), .gatewayRestarted(let v, _, _), .reRegistered(let v, _, _):
                for (_, w) in registrationWaiters { w.resume(returning: v) }
                registrationWaiters = [:]
            case .restored:
                if let v = association.negotiatedVersion {
                    for (_, w) in registrationWaiters { w.resume(returning: v) }
                    registrationWaiters = [:]
                }
            case .gatewayLost, .outOfService:
                knownTerminations.removeAll()
                run(outgoing.cancelAll())
            default:
                break
            }
        }
    }

    private func send(_ request: AssociationRequest) {
        switch request {
        case .keepAliveAudit:
            Task { await self.keepAlive() }
        case .activateInactivityTimer(let mit):
            let rid = nextEventsRequestID
            nextEventsRequestID &+= 1
            let events = EventsDescriptor(requestID: rid, events: [RequestedEvent(configurationInactivityEvent, parameters: [PropertyParm("mit", "\(mit)")])])
            let action = ActionRequest(contextID: .null, commands: [CommandRequest(.modify, .root, [.events(events)])])
            Task { _ = try? await self.transact([action]) }
        }
    }

    /// Keep-alive: an error reply still proves the gateway is alive; only a timeout counts as a failure.
    private func keepAlive() async {
        do {
            _ = try await transact([IqProcedures.auditRoot()])
            applyAssociation(association.keepAliveSucceeded(now: clock()))
        } catch IqError.transaction(let e) where e.code == .transactionTimeout {
            applyAssociation(association.keepAliveFailed(now: clock()))
        } catch {
            applyAssociation(association.keepAliveSucceeded(now: clock()))
        }
        rearmTimer()
    }

    // MARK: Timers (the only clock reads are `clock()`)

    private func rearmTimer() {
        let deadline = [outgoing.nextDeadline, incoming.nextDeadline, association.nextDeadline].compactMap { $0 }.min()
        guard deadline != timerDeadline else { return }
        timer?.cancel()
        timer = nil
        timerDeadline = deadline
        guard let deadline else { return }
        let delay = deadline - clock()
        let c = delay.components
        // +1 ms so the machines see the deadline as reached; capped at one hour (no overflow).
        let ns: Int64 = c.seconds < 0 ? 1_000_000 : min(c.seconds, 3_600) * 1_000_000_000 + c.attoseconds / 1_000_000_000 + 1_000_000
        timer = transport.eventLoop.scheduleTask(in: .nanoseconds(ns)) { [weak self] in
            guard let self else { return }
            Task { await self.timerFired() }
        }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        let now = clock()
        run(outgoing.timerFired(now: now))
        for case .sendPending(let id) in incoming.timerFired(now: now) {
            if let peer = gateway { transmit(encode([.pending(id)]), to: peer) }
        }
        applyAssociation(association.timerFired(now: now))
        rearmTimer()
    }

    // MARK: Encoding

    private func messageVersion(fallback: Int) -> Int {
        association.negotiatedVersion ?? min(max(fallback, configuration.association.supportedVersions.lowerBound),
                                             configuration.association.supportedVersions.upperBound)
    }

    private func encode(_ transactions: [Transaction], version: Int? = nil) -> [UInt8] {
        encode(body: .transactions(transactions), version: version)
    }

    private func encode(body: MessageBody, version: Int? = nil) -> [UInt8] {
        let v = version ?? messageVersion(fallback: configuration.association.supportedVersions.upperBound)
        return encoder.encodeBytes(H248Message(version: v, mid: configuration.mid, body: body))
    }

    /// Sends a reply with the batched TransactionResponseAcks of that gateway piggy-backed
    /// (§8.2.3); the reply cache keeps the bare reply. If the two together cannot be sent (e.g.
    /// above the path MTU), each goes on its own.
    private func transmitReply(_ bytes: [UInt8], _ reply: TransactionReply, version: Int, to peer: SocketAddress) {
        guard peer == gateway else { return transmit(bytes, to: peer) }
        let acks = outgoing.takeAcksForPiggyback()
        guard !acks.isEmpty else { return transmit(bytes, to: peer) }
        let ack = Transaction.responseAck(acks.map { AckRange($0.first, $0.last) })
        let combined = encode([ack, .reply(reply)], version: version)
        do throws(H248ClientError) {
            try transport.send(combined, to: peer)
            trace?("-> \(peer)\n\(String(decoding: combined, as: UTF8.self))")
        } catch {
            transmit(encode([ack], version: version), to: peer)
            transmit(bytes, to: peer)
        }
    }

    private func transmit(_ bytes: [UInt8], to peer: SocketAddress) {
        do throws(H248ClientError) {
            try transport.send(bytes, to: peer)
            trace?("-> \(peer)\n\(String(decoding: bytes, as: UTF8.self))")
        } catch {
            trace?("send to \(peer) failed: \(error)")
        }
    }

    private static func key(_ context: ContextID, _ termination: TerminationID) -> String {
        "\(IqFormat.context(context))/\(termination.text.lowercased())"
    }
}
