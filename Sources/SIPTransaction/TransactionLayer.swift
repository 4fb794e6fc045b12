// The transaction layer driver: owns the transactions and their timers, matches messages to
// transactions (RFC 3261 §17.1.3, §17.2.3, §9.2), creates server transactions for new requests
// and reports what the TU (the proxy core) must know. Pure: every entry point takes `now`; the
// outputs are values that an impure shell executes.

/// Configuration of a `TransactionLayer`.
public struct TransactionLayerConfiguration: Sendable, Equatable {
    /// T1, T2, T4 and the derived timers.
    public var timers: TransactionTimers
    /// Maximum number of live transactions (client + server). A new request beyond it is
    /// rejected statelessly with 503 (RFC 3261 §21.5.4); a new client transaction throws.
    public var maximumTransactions: Int
    /// True for a proxy: INVITE client transactions run timer C (RFC 3261 §16.6 step 11).
    public var runsTimerC: Bool

    /// Default bound on live transactions. At the RFC's default T1 a non-INVITE server
    /// transaction lives 64*T1 = 32 s after its final response on UDP (§17.2.2 timer J), so this
    /// bound sustains about 2000 requests/s over UDP before it rejects.
    public static let defaultMaximumTransactions = 65_536

    public init(
        timers: TransactionTimers = TransactionTimers(),
        maximumTransactions: Int = TransactionLayerConfiguration.defaultMaximumTransactions,
        runsTimerC: Bool = true
    ) {
        self.timers = timers
        self.maximumTransactions = maximumTransactions
        self.runsTimerC = runsTimerC
    }

    /// Checks the configuration; run once at start-up.
    public func validate() throws(TransactionError) {
        try timers.validate()
        guard maximumTransactions > 0 else {
            throw TransactionError(.invalidConfiguration, "maximumTransactions must be positive")
        }
    }
}

/// Why the layer dropped a message without passing it anywhere.
public enum TransactionDiscardReason: Hashable, Sendable {
    /// A response that matches no client transaction. RFC 6026 updates RFC 3261 §18.1.2 (and the
    /// stateless forwarding of stray 2xx by proxies): such a response is silently discarded; 2xx
    /// retransmissions are caught by the Accepted state (timer M) instead.
    case strayResponse
    /// A response whose status code is outside 100-699 (RFC 3261 §7.2, §21).
    case invalidStatusCode
}

/// What the layer asks its shell and its TU to do.
public enum TransactionLayerOutput<Payload: Sendable, Peer: Sendable>: Sendable {
    /// Send this message over the transport to `peer`.
    case transmit(TransactionMessage<Payload>, to: Peer, reliable: Bool, transaction: TransactionID)
    /// A new request created server transaction `TransactionID` (RFC 3261 §17.2.3: "If the
    /// request is not matched ... it is passed to the core"). Not used for CANCEL and ACK.
    case newRequest(TransactionID, TransactionMessage<Payload>, from: Peer)
    /// A new CANCEL created server transaction `TransactionID`; `invite` is the INVITE server
    /// transaction it refers to (RFC 3261 §9.2), nil when none matches (the TU answers 481).
    case cancelRequest(TransactionID, TransactionMessage<Payload>, from: Peer, invite: TransactionID?)
    /// A response for client transaction `TransactionID`, to the TU.
    case response(TransactionID, TransactionMessage<Payload>)
    /// An ACK for the TU: either matched to an INVITE server transaction in Accepted (RFC 6026
    /// §7.1), or matched to no transaction (an ACK for a 2xx, RFC 3261 §17.2.3 / §16.10), when
    /// `transaction` is nil.
    case ack(TransactionMessage<Payload>, from: Peer, transaction: TransactionID?)
    /// Timer B, F or H fired: the transaction timed out (RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1).
    case timeout(TransactionID, TransactionTimer)
    /// The transport failed for this transaction (RFC 3261 §17.1.4, §17.2.4).
    case transportError(TransactionID)
    /// Timer C fired for an INVITE client transaction (RFC 3261 §16.8).
    case timerC(TransactionID, provisionalReceived: Bool)
    /// The transaction terminated and was destroyed.
    case terminated(TransactionID)
    /// The request could not get a transaction (limit reached): answer it statelessly with
    /// `status` (503) to `peer`.
    case rejectStateless(TransactionMessage<Payload>, status: Int, to: Peer, reliable: Bool)
    /// The message was dropped.
    case discarded(TransactionMessage<Payload>, reason: TransactionDiscardReason)
}

extension TransactionLayerOutput: Equatable where Payload: Equatable, Peer: Equatable {}

/// The transaction layer (RFC 3261 §17) of one shard.
///
/// `Payload` is the opaque message representation, `Peer` the transport address/flow a message
/// came from or goes to. All methods are pure functions of the state and their arguments.
public struct TransactionLayer<Payload: Sendable, Peer: Sendable>: Sendable {
    /// Builds the ACK for a non-2xx final response from the INVITE and the response
    /// (RFC 3261 §17.1.1.3). `TransactionMessage.nonSuccessACK(invite:response:payload:)` gives
    /// the start line and matching fields the ACK must carry.
    public typealias ACKFactory =
        @Sendable (_ invite: TransactionMessage<Payload>, _ response: TransactionMessage<Payload>) ->
        TransactionMessage<Payload>

    enum Machine: Sendable {
        case inviteClient(InviteClientTransaction<Payload>)
        case nonInviteClient(NonInviteClientTransaction<Payload>)
        case inviteServer(InviteServerTransaction<Payload>)
        case nonInviteServer(NonInviteServerTransaction<Payload>)

        /// Feeds `event` to the machine and appends its actions to `actions`.
        mutating func handle(_ event: TransactionEvent<Payload>, into actions: inout [TransactionAction<Payload>]) {
            // `consume self`: the machine is moved out of the enum and back, not copied (a copy retained
            // and released every message the machine holds, on every event).
            switch consume self {
            case .inviteClient(var machine):
                machine.handle(event, into: &actions)
                self = .inviteClient(machine)
            case .nonInviteClient(var machine):
                machine.handle(event, into: &actions)
                self = .nonInviteClient(machine)
            case .inviteServer(var machine):
                machine.handle(event, into: &actions)
                self = .inviteServer(machine)
            case .nonInviteServer(var machine):
                machine.handle(event, into: &actions)
                self = .nonInviteServer(machine)
            }
        }

        var state: TransactionState {
            switch self {
            case .inviteClient(let machine): return machine.state
            case .nonInviteClient(let machine): return machine.state
            case .inviteServer(let machine): return machine.state
            case .nonInviteServer(let machine): return machine.state
            }
        }

        var kind: TransactionKind {
            switch self {
            case .inviteClient: return .inviteClient
            case .nonInviteClient: return .nonInviteClient
            case .inviteServer: return .inviteServer
            case .nonInviteServer: return .nonInviteServer
            }
        }

        /// The request the machine still holds (nil once no retransmission or ACK needs it).
        var request: TransactionMessage<Payload>? {
            switch self {
            case .inviteClient(let machine): return machine.request
            case .nonInviteClient(let machine): return machine.request
            case .inviteServer(let machine): return machine.request
            case .nonInviteServer(let machine): return machine.request
            }
        }

        var isClient: Bool { kind == .inviteClient || kind == .nonInviteClient }
    }

    /// One live transaction: its fixed facts and its state; mutated only through `uniqueEntry(at:)`
    /// (copy on write). The facts are a `let`; the state is `@exclusivity(unchecked)`: the layer is a
    /// value, a box is reached only through the layer's own `entries` and never during another access
    /// to it, so the dynamic check (a thread-local access set, on every read and write) can never fire.
    ///
    /// The fields have no generic type of their own besides `Peer` and `Machine` (the matching facts are
    /// a non-generic struct): the deinit of a generic class runs unspecialised, and every generic field
    /// type there costs a metadata lookup per destroyed transaction.
    final class EntryBox: @unchecked Sendable {
        let peer: Peer
        let reliable: Bool
        let facts: TransactionEntryFacts
        @exclusivity(unchecked) var machine: Machine
        /// The To tag of the last response the server transaction sent: an RFC 2543 ACK matches
        /// when its To tag equals it (§17.2.3).
        @exclusivity(unchecked) var responseToTag: String?
        /// Live generation per running timer; a queued timer whose generation differs is stale.
        @exclusivity(unchecked) var timerGenerations: TimerGenerations

        init(
            peer: Peer, reliable: Bool, facts: TransactionEntryFacts, machine: Machine, responseToTag: String? = nil,
            timerGenerations: TimerGenerations = TimerGenerations()
        ) {
            self.peer = peer
            self.reliable = reliable
            self.facts = facts
            self.machine = machine
            self.responseToTag = responseToTag
            self.timerGenerations = timerGenerations
        }

        func copy() -> EntryBox {
            EntryBox(peer: peer, reliable: reliable, facts: facts, machine: machine, responseToTag: responseToTag,
                     timerGenerations: timerGenerations)
        }
    }

    /// The box of the entry at `index`, copied first when another copy of the layer shares it.
    @inline(__always) private mutating func uniqueEntry(at index: Dictionary<TransactionID, EntryBox>.Index) -> EntryBox {
        if !isKnownUniquelyReferenced(&entries.values[index]) {
            entries.values[index] = entries.values[index].copy()
        }
        return entries.values[index]
    }

    /// The live generation of each of the 13 timers of one transaction, inline (no per-transaction
    /// dictionary: allocating and hashing one per transaction was a visible share of the proxy's CPU).
    /// nil: the timer is not running. Generations start at 1, so 0 is stored for nil.
    struct TimerGenerations: Sendable {
        private var slots: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                            UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

        subscript(timer: TransactionTimer) -> UInt64? {
            get {
                let value = withUnsafeBytes(of: slots) { $0.load(fromByteOffset: Self.offset(timer), as: UInt64.self) }
                return value == 0 ? nil : value
            }
            set {
                let offset = Self.offset(timer)
                withUnsafeMutableBytes(of: &slots) { $0.storeBytes(of: newValue ?? 0, toByteOffset: offset, as: UInt64.self) }
            }
        }

        /// The running timers, in declaration order.
        var running: [TransactionTimer] { TransactionTimer.allCases.filter { self[$0] != nil } }

        @inline(__always) private static func offset(_ timer: TransactionTimer) -> Int {
            let index: Int
            switch timer {
            case .timerA: index = 0
            case .timerB: index = 1
            case .timerC: index = 2
            case .timerD: index = 3
            case .timerE: index = 4
            case .timerF: index = 5
            case .timerG: index = 6
            case .timerH: index = 7
            case .timerI: index = 8
            case .timerJ: index = 9
            case .timerK: index = 10
            case .timerL: index = 11
            case .timerM: index = 12
            }
            return index * MemoryLayout<UInt64>.stride
        }
    }

    public let configuration: TransactionLayerConfiguration
    private let makeACK: ACKFactory
    /// The live transactions. Each entry is boxed: the table's values stay one pointer wide, so growing the
    /// table moves pointers, not whole entries with their messages (at 500 calls/s the table holds tens of
    /// thousands of entries for the 64*T1 of timers H/J/L/M, and each resize moved all of them). The layer
    /// keeps value semantics: a box shared with a copy of the layer is copied before it is mutated
    /// (`uniqueEntry(at:)`).
    private var entries: [TransactionID: EntryBox] = [:]
    private var clientIndex: [ClientTransactionKey: TransactionID] = [:]
    private var serverIndex: [ServerTransactionKey: TransactionID] = [:]
    private var legacyIndex: [RFC2543TransactionKey: [TransactionID]] = [:]
    private var timerQueue = TimerQueue()
    /// The action array the machines append to, kept between events (emptied, capacity kept) so an
    /// event allocates no array.
    private var scratchActions: [TransactionAction<Payload>] = []
    private var nextID: UInt64 = 1
    private var nextGeneration: UInt64 = 1
    /// The latest time seen; time never runs backwards inside the layer.
    public private(set) var currentTime: TransactionInstant

    public init(configuration: TransactionLayerConfiguration, start: TransactionInstant = .zero, makeACK: @escaping ACKFactory) {
        self.configuration = configuration
        self.makeACK = makeACK
        self.currentTime = start
    }

    // MARK: Introspection

    /// Number of live transactions.
    public var count: Int { entries.count }

    /// The state of a live transaction, nil once it terminated.
    public func state(of id: TransactionID) -> TransactionState? { entries[id]?.machine.state }

    /// The kind of a live transaction.
    public func kind(of id: TransactionID) -> TransactionKind? { entries[id]?.machine.kind }

    /// The timers currently running for a transaction.
    public func runningTimers(of id: TransactionID) -> Set<TransactionTimer> {
        Set(entries[id]?.timerGenerations.running ?? [])
    }

    /// The earliest instant at which `advance(to:)` has work to do, nil when no timer runs. It may
    /// be early (a cancelled timer still queued); waking early is harmless.
    public var nextDeadline: TransactionInstant? { timerQueue.first?.deadline }

    /// Number of queued timer entries, including stale ones awaiting lazy removal.
    var queuedTimerCount: Int { timerQueue.count }

    // MARK: Matching (RFC 3261 §17.1.3, §17.2.3, §9.2)

    /// The client transaction a response belongs to (RFC 3261 §17.1.3).
    public func clientTransaction(matching response: TransactionMessage<Payload>) -> TransactionID? {
        guard let key = ClientTransactionKey(response: response) else { return nil }
        return clientIndex[key]
    }

    /// The server transaction a request belongs to (RFC 3261 §17.2.3, with the RFC 2543 fallback).
    public func serverTransaction(matching request: TransactionMessage<Payload>) -> TransactionID? {
        serverTransaction(matching: request, key: ServerTransactionKey(request: request))
    }

    /// As `serverTransaction(matching:)`, with the request's §17.2.3 key already built.
    private func serverTransaction(matching request: TransactionMessage<Payload>, key serverKey: ServerTransactionKey?) -> TransactionID? {
        if let serverKey {
            return serverIndex[serverKey]
        }
        guard let key = RFC2543TransactionKey(request: request) else { return nil }
        let isACK = request.method == .ack
        return legacyIndex[key]?.first { id in
            guard let box = entries[id] else { return false }
            if isACK {
                // §17.2.3: "the To tag of the ACK matches the To tag of the response sent by the
                // server transaction."
                return (box.responseToTag ?? box.facts.requestToTag) == request.headers.toTag
            }
            return box.facts.requestToTag == request.headers.toTag
        }
    }

    /// The INVITE server transaction a CANCEL refers to (RFC 3261 §9.2): "the transaction that
    /// would have matched the CANCEL under §17.2.3 if its method were INVITE" (with the magic
    /// cookie: same branch and sent-by; without: Request-URI, Call-ID, To, From tag, CSeq number
    /// and top Via of the INVITE).
    public func inviteTransaction(cancelledBy cancel: TransactionMessage<Payload>) -> TransactionID? {
        let via = cancel.headers.topVia
        if via.hasMagicCookie, let branch = via.branch {
            return serverIndex[ServerTransactionKey(branch: branch, sentBy: via.sentBy, method: .invite)]
        }
        guard let key = RFC2543TransactionKey(request: cancel)?.asInvite() else { return nil }
        return legacyIndex[key]?.first { id in
            guard let box = entries[id], box.machine.kind == .inviteServer else { return false }
            return box.facts.requestToTag == cancel.headers.toTag
        }
    }

    // MARK: Inputs

    /// A message arrived from the transport (`reliable`: it came over TCP/TLS/SCTP).
    public mutating func receive(
        _ message: TransactionMessage<Payload>, from peer: Peer, reliable: Bool, now: TransactionInstant
    ) -> [TransactionLayerOutput<Payload, Peer>] {
        var outputs: [TransactionLayerOutput<Payload, Peer>] = []
        fireDueTimers(upTo: now, into: &outputs)
        let time = currentTime
        if let code = message.statusCode {
            guard ResponseClass(statusCode: code) != nil else {
                outputs.append(.discarded(message, reason: .invalidStatusCode))
                return outputs
            }
            // §17.1.3 / §18.1.2 as changed by RFC 6026: a response matching no client transaction
            // is discarded.
            guard let id = clientTransaction(matching: message) else {
                outputs.append(.discarded(message, reason: .strayResponse))
                return outputs
            }
            apply(.received(message), to: id, at: time, into: &outputs)
        } else {
            // The §17.2.3 key is built once, for the lookup and for a new transaction.
            let serverKey = ServerTransactionKey(request: message)
            if let id = serverTransaction(matching: message, key: serverKey) {
                // §17.2.3: a matching request (retransmission or ACK) goes to its server transaction.
                apply(.received(message), to: id, at: time, into: &outputs)
            } else if message.method == .ack {
                // An ACK that matches no server transaction is the ACK for a 2xx: it is not part of
                // any transaction (RFC 3261 §17) and goes to the core (§16.10 forwards it statelessly).
                outputs.append(.ack(message, from: peer, transaction: nil))
            } else {
                createServerTransaction(for: message, key: serverKey, from: peer, reliable: reliable, at: time, into: &outputs)
            }
        }
        fireDueTimers(upTo: now, into: &outputs)
        return outputs
    }

    /// The TU starts a client transaction by sending `request` to `peer`.
    public mutating func sendRequest(
        _ request: TransactionMessage<Payload>, to peer: Peer, reliable: Bool, now: TransactionInstant
    ) throws(TransactionError) -> (TransactionID, [TransactionLayerOutput<Payload, Peer>]) {
        guard let method = request.requestMethod else {
            throw TransactionError(.wrongMessageKind, "a client transaction starts with a request")
        }
        guard method != .ack else {
            throw TransactionError(.ackIsNotATransaction, "ACK is sent by the TU outside any transaction (RFC 3261 §17)")
        }
        guard let branch = request.headers.topVia.branch else {
            throw TransactionError(.wrongMessageKind, "the top Via needs a branch (RFC 3261 §8.1.1.7)")
        }
        let key = ClientTransactionKey(branch: branch, method: method)
        // The key is claimed for the id the transaction will get (one hash for the check and the
        // insertion); the claim is undone when a check fails.
        let id = TransactionID(rawValue: nextID)
        if let existing = clientIndex.updateValue(id, forKey: key) {
            clientIndex[key] = existing
            throw TransactionError(.duplicateClientTransaction, "branch \(branch) \(method) is in use")
        }
        guard entries.count < configuration.maximumTransactions else {
            clientIndex[key] = nil
            throw TransactionError(.tooManyTransactions, "limit \(configuration.maximumTransactions) reached")
        }
        var outputs: [TransactionLayerOutput<Payload, Peer>] = []
        fireDueTimers(upTo: now, into: &outputs)
        let machine: Machine
        if method == .invite {
            machine = .inviteClient(InviteClientTransaction(
                request: request, reliable: reliable, timers: configuration.timers, usesTimerC: configuration.runsTimerC))
        } else {
            machine = .nonInviteClient(NonInviteClientTransaction(
                request: request, reliable: reliable, timers: configuration.timers))
        }
        nextID &+= 1  // `id` is taken (no transaction is created while timers fire)
        let box = EntryBox(
            peer: peer, reliable: reliable,
            facts: TransactionEntryFacts(clientKey: key, serverKey: nil, legacyKey: nil,
                         requestToTag: request.headers.toTag, cancelTarget: nil),
            machine: machine)
        entries[id] = box
        start(box, id: id, into: &outputs)
        fireDueTimers(upTo: now, into: &outputs)
        return (id, outputs)
    }

    /// The TU sends `response` on server transaction `id`.
    public mutating func sendResponse(
        _ response: TransactionMessage<Payload>, on id: TransactionID, now: TransactionInstant
    ) throws(TransactionError) -> [TransactionLayerOutput<Payload, Peer>] {
        guard response.statusCode != nil else {
            throw TransactionError(.wrongMessageKind, "a server transaction sends responses")
        }
        guard let index = entries.index(forKey: id), !entries.values[index].machine.isClient else {
            throw TransactionError(.unknownTransaction, "no server transaction \(id)")
        }
        var outputs: [TransactionLayerOutput<Payload, Peer>] = []
        // Timers that fire may remove entries, which moves the others: look `id` up again then.
        let current = fireDueTimers(upTo: now, into: &outputs) ? entries.index(forKey: id) : index
        if let current {
            let before = outputs.count
            let box = uniqueEntry(at: current)
            if !run(.sendResponse(response), on: box, id: id, at: currentTime, into: &outputs) {
                // Remember the To tag of a response actually sent: an RFC 2543 ACK must carry it (§17.2.3).
                if let tag = response.headers.toTag,
                    outputs[before...].contains(where: { if case .transmit = $0 { return true } else { return false } })
                {
                    box.responseToTag = tag
                }
            } else {
                removeEntry(at: current, id: id)
            }
        }
        fireDueTimers(upTo: now, into: &outputs)
        return outputs
    }

    /// The transport reports that it could not send a message of transaction `id`.
    public mutating func transportError(on id: TransactionID, now: TransactionInstant) -> [TransactionLayerOutput<Payload, Peer>] {
        var outputs: [TransactionLayerOutput<Payload, Peer>] = []
        fireDueTimers(upTo: now, into: &outputs)
        apply(.transportError, to: id, at: currentTime, into: &outputs)
        fireDueTimers(upTo: now, into: &outputs)
        return outputs
    }

    /// Time advanced to `now`: fire every timer that is due, in deadline order.
    public mutating func advance(to now: TransactionInstant) -> [TransactionLayerOutput<Payload, Peer>] {
        var outputs: [TransactionLayerOutput<Payload, Peer>] = []
        fireDueTimers(upTo: now, into: &outputs)
        return outputs
    }

    // MARK: Internals

    private mutating func allocateID() -> TransactionID {
        let id = TransactionID(rawValue: nextID)
        nextID &+= 1
        return id
    }

    private mutating func createServerTransaction(
        for request: TransactionMessage<Payload>, key serverKey: ServerTransactionKey?, from peer: Peer, reliable: Bool,
        at time: TransactionInstant,
        into outputs: inout [TransactionLayerOutput<Payload, Peer>]
    ) {
        guard let method = request.requestMethod else { return }
        guard entries.count < configuration.maximumTransactions else {
            // Bounded state: beyond the limit the request is answered statelessly with 503.
            outputs.append(.rejectStateless(request, status: TransactionError(.tooManyTransactions, "").sipStatus, to: peer, reliable: reliable))
            return
        }
        let legacyKey = serverKey == nil ? RFC2543TransactionKey(request: request) : nil
        let cancelTarget = method == .cancel ? inviteTransaction(cancelledBy: request) : nil
        let machine: Machine =
            method == .invite
            ? .inviteServer(InviteServerTransaction(request: request, reliable: reliable, timers: configuration.timers))
            : .nonInviteServer(NonInviteServerTransaction(request: request, reliable: reliable, timers: configuration.timers))
        let id = allocateID()
        let box = EntryBox(
            peer: peer, reliable: reliable,
            facts: TransactionEntryFacts(clientKey: nil, serverKey: serverKey, legacyKey: legacyKey,
                         requestToTag: request.headers.toTag, cancelTarget: cancelTarget),
            machine: machine)
        entries[id] = box
        if let serverKey { serverIndex[serverKey] = id }
        if let legacyKey { legacyIndex[legacyKey, default: []].append(id) }
        start(box, id: id, into: &outputs)
    }

    /// Runs the `.start` event of a transaction just added to `entries` as `box`, at the layer's time.
    private mutating func start(_ box: EntryBox, id: TransactionID, into outputs: inout [TransactionLayerOutput<Payload, Peer>]) {
        if run(.start, on: box, id: id, at: currentTime, into: &outputs), let index = entries.index(forKey: id) {
            removeEntry(at: index, id: id)
        }
    }

    /// Feeds `event` to transaction `id` and appends the outputs of its actions to `outputs` (one array
    /// per call of the public entry points, not one per transaction event).
    private mutating func apply(
        _ event: TransactionEvent<Payload>, to id: TransactionID, at time: TransactionInstant,
        into outputs: inout [TransactionLayerOutput<Payload, Peer>]
    ) {
        guard let index = entries.index(forKey: id) else { return }
        if run(event, on: uniqueEntry(at: index), id: id, at: time, into: &outputs) {
            removeEntry(at: index, id: id)
        }
    }

    /// Feeds `event` to the transaction in `box` (mutated in place: no move of the entry out of the
    /// table and back) and executes its actions. Returns true when the transaction terminated: the
    /// caller then removes its entry. Inserts and removes no entry itself, so the caller's index
    /// stays valid.
    private mutating func run(
        _ event: TransactionEvent<Payload>, on box: EntryBox, id: TransactionID, at time: TransactionInstant,
        into outputs: inout [TransactionLayerOutput<Payload, Peer>]
    ) -> Bool {
        var actions: [TransactionAction<Payload>] = []
        swap(&actions, &scratchActions)
        defer {
            // Emptied element by element: `removeAll(keepingCapacity:)` goes through the generic
            // `replaceSubrange`, several times the cost for the two or three actions of an event.
            while actions.popLast() != nil {}
            swap(&actions, &scratchActions)
        }
        box.machine.handle(event, into: &actions)
        let peer = box.peer, reliable = box.reliable, isClient = box.machine.isClient
        var terminated = false
        for action in actions {
            switch action {
            case .send(let message):
                outputs.append(.transmit(message, to: peer, reliable: reliable, transaction: id))
            case .sendACK(let response):
                guard let invite = box.machine.request else { break }
                let ack = makeACK(invite, response)
                outputs.append(.transmit(ack, to: peer, reliable: reliable, transaction: id))
            case .startTimer(let timer, let duration):
                let generation = nextGeneration
                nextGeneration &+= 1
                box.timerGenerations[timer] = generation
                timerQueue.push(deadline: time + duration, transaction: id, timer: timer, generation: generation)
            case .cancelTimer(let timer):
                box.timerGenerations[timer] = nil
            case .passToTU(let message):
                if isClient {
                    outputs.append(.response(id, message))
                } else if message.isRequest, message.method == .ack {
                    outputs.append(.ack(message, from: peer, transaction: id))
                } else if message.method == .cancel {
                    outputs.append(.cancelRequest(id, message, from: peer, invite: box.facts.cancelTarget))
                } else {
                    outputs.append(.newRequest(id, message, from: peer))
                }
            case .timeout(let timer):
                outputs.append(.timeout(id, timer))
            case .transportError:
                outputs.append(.transportError(id))
            case .timerCExpired(let provisionalReceived):
                outputs.append(.timerC(id, provisionalReceived: provisionalReceived))
            case .terminated:
                terminated = true
                outputs.append(.terminated(id))
            }
        }
        return terminated
    }

    /// Removes the terminated transaction at `index` and its matching keys: §17.1.1.2 / §17.2.1,
    /// destroyed the instant it enters Terminated.
    private mutating func removeEntry(at index: Dictionary<TransactionID, EntryBox>.Index, id: TransactionID) {
        // The keys are read through the box (a copy of the whole facts struct retained and released
        // every key and tag of it).
        let box = entries.remove(at: index).value
        if let key = box.facts.clientKey, let i = clientIndex.index(forKey: key), clientIndex.values[i] == id {
            clientIndex.remove(at: i)
        }
        if let key = box.facts.serverKey, let i = serverIndex.index(forKey: key), serverIndex.values[i] == id {
            serverIndex.remove(at: i)
        }
        if let key = box.facts.legacyKey {
            legacyIndex[key]?.removeAll { $0 == id }
            if legacyIndex[key]?.isEmpty == true { legacyIndex[key] = nil }
        }
    }

    /// Fires due timers up to `now` (each at its own deadline, so retransmission schedules are
    /// exact) and moves the layer's time forward.
    /// Returns true when a timer fired (entries may have been removed: indexes into `entries` are stale).
    @discardableResult
    private mutating func fireDueTimers(upTo now: TransactionInstant, into outputs: inout [TransactionLayerOutput<Payload, Peer>]) -> Bool {
        var fired = false
        while let item = timerQueue.first, item.isDue(at: now) {
            _ = timerQueue.popFirst()
            guard let i = entries.index(forKey: item.transaction), entries.values[i].timerGenerations[item.timer] == item.generation else {
                continue  // stale: cancelled, restarted or its transaction is gone
            }
            fired = true
            let box = uniqueEntry(at: i)
            box.timerGenerations[item.timer] = nil
            let deadline = item.deadline
            let fireTime = deadline > currentTime ? deadline : currentTime
            currentTime = fireTime
            if run(.timerFired(item.timer), on: box, id: item.transaction, at: fireTime, into: &outputs) {
                removeEntry(at: i, id: item.transaction)
            }
        }
        if now > currentTime { currentTime = now }
        compactTimerQueueIfNeeded()
        return fired
    }

    /// Keeps the lazily-cleaned deadline list bounded relative to the live transactions.
    private mutating func compactTimerQueueIfNeeded() {
        let bound = 8 * entries.count + 1024
        guard timerQueue.count > bound else { return }
        let entries = self.entries
        timerQueue.compact { item in
            entries[item.transaction]?.timerGenerations[item.timer] == item.generation
        }
    }
}

/// The matching facts of a transaction, fixed when it is created (non-generic, see `EntryBox`).
struct TransactionEntryFacts: Sendable {
    let clientKey: ClientTransactionKey?
    let serverKey: ServerTransactionKey?
    let legacyKey: RFC2543TransactionKey?
    /// The To tag of the request that created a server transaction (RFC 2543 matching).
    let requestToTag: String?
    /// For a CANCEL server transaction: the INVITE server transaction it refers to.
    let cancelTarget: TransactionID?
}

extension TransactionMessage {
    /// The start line and matching fields of the ACK that RFC 3261 §17.1.1.3 requires for a
    /// non-2xx final response to `invite`: the Request-URI, Call-ID, From tag and CSeq number of
    /// the INVITE (CSeq method ACK), the To tag of the response, and a single Via equal to the
    /// INVITE's top Via. The adapter supplies the serialised `payload` (which must also copy the
    /// INVITE's Route header fields).
    public static func nonSuccessACK(
        invite: TransactionMessage<Payload>, response: TransactionMessage<Payload>, payload: Payload
    ) -> TransactionMessage<Payload> {
        TransactionMessage(
            startLine: .request(method: .ack, requestURI: invite.requestURI ?? ""),
            headers: TransactionHeaderFields(
                topVia: invite.headers.topVia,
                callID: invite.headers.callID,
                cseq: CSeqField(number: invite.headers.cseq.number, method: .ack),
                fromTag: invite.headers.fromTag,
                toTag: response.headers.toTag),
            payload: payload)
    }
}
