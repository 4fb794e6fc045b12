// All outgoing transactions towards one peer: id allocation (§8.2.1), one
// OutgoingTransactionStateMachine per request (Annex D.1), the peer's RTT estimator (D.1.2) and the
// TransactionResponseAck batcher (§8.2.3). Pure; the driver maps ids to encoded requests and callers.

/// Per-peer composition of the outgoing machines, the id allocator, the RTT estimator and the ack batcher.
public struct OutgoingTransactionTable: Sendable {
    public enum Action: Sendable, Hashable {
        /// Send the request of this transaction for the first time.
        case send(transactionID: UInt32)
        /// Send the same encoded request again.
        case retransmit(transactionID: UInt32, attempt: Int)
        /// The reply arrived: deliver it to the caller (exactly once per transaction).
        case completed(transactionID: UInt32, OutgoingTransactionOutcome)
        /// The transaction failed: surface the error to the caller.
        case failed(transactionID: UInt32, H248ClientError)
        /// Send one TransactionResponseAck with these ranges (or piggyback them).
        case sendResponseAck([TransactionAckRange])
    }

    public let transport: H248TransportKind
    public let timers: H248TransactionTimers
    public let maximumInFlight: Int
    public private(set) var estimator: RTTEstimator
    private var allocator: TransactionIDAllocator
    private var batcher: ResponseAckBatcher
    private var machines: [UInt32: OutgoingTransactionStateMachine] = [:]
    /// Ids of failed transactions, released at the given instant.
    private var quarantine: [UInt32: H248Instant] = [:]

    public init(
        transport: H248TransportKind, timers: H248TransactionTimers,
        allocator: TransactionIDAllocator = TransactionIDAllocator(),
        ackBatcher: ResponseAckBatcher = ResponseAckBatcher(),
        maximumInFlight: Int = H248Limits.maximumOutgoingTransactionsPerPeer
    ) {
        self.transport = transport
        self.timers = timers
        self.maximumInFlight = Swift.max(1, maximumInFlight)
        self.estimator = RTTEstimator(timers: timers)
        self.allocator = allocator
        self.batcher = ackBatcher
    }

    /// Transactions not yet forgotten (open, or completed and still absorbing repeated replies).
    public var trackedCount: Int { machines.count }

    /// Transactions still waiting for their reply.
    public var openCount: Int { machines.values.reduce(0) { $0 + ($1.isCompleted ? 0 : 1) } }

    /// Allocates an id and starts its transaction. Throws `.transactionTableFull` (510) when
    /// `maximumInFlight` transactions are tracked, or `.transactionIDsExhausted`.
    public mutating func begin(now: H248Instant) throws(H248ClientError) -> (transactionID: UInt32, actions: [Action]) {
        guard machines.count < maximumInFlight else {
            throw H248ClientError(
                .transactionTableFull, h248ErrorCode: H248ErrorCodes.insufficientResources,
                "\(machines.count) outgoing transactions tracked (bound \(maximumInFlight))")
        }
        let id = try allocator.allocate()
        var machine = OutgoingTransactionStateMachine(transactionID: id, transport: transport, timers: timers)
        let action = machine.start(now: now, retransmissionTimeout: estimator.retransmissionTimeout)
        machines[id] = machine
        var actions: [Action] = []
        apply(action, id: id, now: now, into: &actions)
        return (id, actions)
    }

    /// `Pending = id {}` arrived. Unknown ids are ignored.
    public mutating func pendingReceived(transactionID id: UInt32, now: H248Instant) -> [Action] {
        drive(id, now: now) { $0.pendingReceived(now: now) }
    }

    /// `Reply = id {…}` arrived. Unknown ids are ignored (a reply we never asked for, or one
    /// arriving after LONG-TIMER).
    public mutating func replyReceived(transactionID id: UInt32, immAckRequired: Bool, now: H248Instant) -> [Action] {
        drive(id, now: now) { $0.replyReceived(now: now, immAckRequired: immAckRequired) }
    }

    /// Earliest instant at which `timerFired` has work.
    public var nextDeadline: H248Instant? {
        var deadline = batcher.deadline
        for machine in machines.values { deadline = .earliest(deadline, machine.nextDeadline) }
        for releaseAt in quarantine.values { deadline = .earliest(deadline, releaseAt) }
        return deadline
    }

    /// Fires every due machine timer (in transaction-id order) and the ack flush timer.
    public mutating func timerFired(now: H248Instant) -> [Action] {
        var actions: [Action] = []
        let due = machines.compactMap { id, m in m.nextDeadline.flatMap { $0 <= now ? id : nil } }.sorted()
        for id in due {
            guard var machine = machines[id] else { continue }
            let action = machine.timerFired(now: now)
            machines[id] = machine
            apply(action, id: id, now: now, into: &actions)
        }
        if case .send(let ranges) = batcher.timerFired(now: now) { actions.append(.sendResponseAck(ranges)) }
        for (id, releaseAt) in quarantine where releaseAt <= now {
            quarantine[id] = nil
            allocator.release(id)
        }
        return actions
    }

    /// Takes the batched acks to piggyback on a message about to be sent.
    public mutating func takeAcksForPiggyback() -> [TransactionAckRange] { batcher.takeForPiggyback() }

    /// Fails every open transaction (association lost, shutdown) and forgets all of them.
    public mutating func cancelAll() -> [Action] {
        var actions: [Action] = []
        for id in machines.keys.sorted() {
            guard var machine = machines[id] else { continue }
            if case .fail(let e) = machine.cancel() { actions.append(.failed(transactionID: id, e)) }
            allocator.release(id)
        }
        machines = [:]
        return actions
    }

    private mutating func drive(
        _ id: UInt32, now: H248Instant, _ event: (inout OutgoingTransactionStateMachine) -> OutgoingTransactionStateMachine.Action
    ) -> [Action] {
        guard var machine = machines[id] else { return [] }
        let action = event(&machine)
        machines[id] = machine
        var actions: [Action] = []
        apply(action, id: id, now: now, into: &actions)
        return actions
    }

    private mutating func apply(
        _ action: OutgoingTransactionStateMachine.Action, id: UInt32, now: H248Instant, into actions: inout [Action]
    ) {
        switch action {
        case .send:
            actions.append(.send(transactionID: id))
        case .retransmit(let attempt):
            actions.append(.retransmit(transactionID: id, attempt: attempt))
        case .complete(let outcome):
            if let sample = outcome.roundTripSample { estimator.recordSample(sample) }
            if outcome.wasRetransmitted { estimator.recordRetransmission() }
            actions.append(.completed(transactionID: id, outcome))
            ack(id, outcome.ack, now: now, into: &actions)
        case .fail(let error):
            if error.code == .transactionTimeout { estimator.recordRetransmission() }
            machines[id] = nil
            // The peer may still answer this id (e.g. after a Pending-limit failure): keep the id
            // out of use for another LONG-TIMER so a late reply cannot match a new transaction.
            quarantine[id] = now + timers.longTimer
            actions.append(.failed(transactionID: id, error))
        case .sendResponseAck(let disposition):
            ack(id, disposition, now: now, into: &actions)
        case .forget:
            machines[id] = nil
            allocator.release(id)
        case .none:
            break
        }
    }

    private mutating func ack(_ id: UInt32, _ disposition: ResponseAckDisposition, now: H248Instant, into actions: inout [Action]) {
        if case .send(let ranges) = batcher.add(id, disposition: disposition, now: now) {
            actions.append(.sendResponseAck(ranges))
        }
    }
}
