// Outgoing H.248 transaction (we are the requester), H.248.1 §8.2 and Annex D.1:
//   idle → awaitingResponse (retransmit with exponential back-off, UDP only)
//        → pending (Pending received: normal retransmission stops, provisional timer runs)
//        → completed (Reply received; response ack due) / failed (LONG-TIMER, pending limit)
// The machine never touches bytes: the driver keeps the encoded request and resends it when told.

/// How the requester must acknowledge a reply (H.248.1 §8.2.3 TransactionResponseAck, Annex D.1.4).
public enum ResponseAckDisposition: Sendable, Hashable {
    /// Send TransactionResponseAck now: the reply had ImmAckRequired, or it followed a Pending
    /// (Annex D.1.4 "an immediate confirmation shall be sent").
    case immediate
    /// Ack it, but it may wait for the batcher (UDP: frees the responder's reply cache early).
    case batched
    /// No ack needed (reliable transport, no ImmAckRequired).
    case none
}

/// Result of a completed outgoing transaction.
public struct OutgoingTransactionOutcome: Sendable, Hashable {
    /// Request → first response (Pending or Reply) time, only when the request was sent once
    /// (Karn's rule). Feed it to `RTTEstimator.recordSample`.
    public var roundTripSample: Duration?
    /// True if the request had to be sent more than once (feed `RTTEstimator.recordRetransmission`).
    public var wasRetransmitted: Bool
    /// Pendings received before the reply.
    public var pendingCount: Int
    public var ack: ResponseAckDisposition
}

/// State machine of one outgoing transaction, keyed by its transaction id.
public struct OutgoingTransactionStateMachine: Sendable {
    public enum Action: Sendable, Hashable {
        /// Transmit the request for the first time.
        case send
        /// Send the same encoded request again (`attempt` counts transmissions, first = 1).
        case retransmit(attempt: Int)
        /// The reply arrived: hand it to the caller; acknowledge as `outcome.ack` says.
        case complete(OutgoingTransactionOutcome)
        /// The transaction failed (timeout = `.transactionTimeout`, too many Pendings =
        /// `.pendingLimitExceeded` with H.248.8 506, or `.transactionCancelled`).
        case fail(H248ClientError)
        /// A repeated reply after completion (our ack was lost): acknowledge again.
        case sendResponseAck(ResponseAckDisposition)
        /// Completed and kept long enough to absorb repeated replies: the driver may drop the machine.
        case forget
        /// Nothing to do (late Pending, early timer, …).
        case none
    }

    struct Awaiting: Sendable, Hashable {
        var firstSentAt: H248Instant
        var attempts: Int
        var currentTimeout: Duration
        var nextRetransmissionAt: H248Instant?
        var giveUpAt: H248Instant
    }

    struct Pending: Sendable, Hashable {
        var firstSentAt: H248Instant
        var attempts: Int
        var pendingCount: Int
        var roundTripSample: Duration?
        var provisionalDeadline: H248Instant?
        var giveUpAt: H248Instant
    }

    struct Completed: Sendable, Hashable {
        var keepUntil: H248Instant
        var hadPending: Bool
    }

    enum State: Sendable, Hashable {
        case idle
        case awaitingResponse(Awaiting)
        case pending(Pending)
        case completed(Completed)
        case finished
    }

    public let transactionID: UInt32
    public let transport: H248TransportKind
    private let timers: H248TransactionTimers
    private var state: State = .idle

    public init(transactionID: UInt32, transport: H248TransportKind, timers: H248TransactionTimers) {
        self.transactionID = transactionID
        self.transport = transport
        self.timers = timers
    }

    /// The earliest instant at which `timerFired` has something to do (nil = no timer).
    public var nextDeadline: H248Instant? {
        switch state {
        case .idle, .finished: return nil
        case .awaitingResponse(let a): return .earliest(a.nextRetransmissionAt, a.giveUpAt)
        case .pending(let p): return .earliest(p.provisionalDeadline, p.giveUpAt)
        case .completed(let c): return c.keepUntil
        }
    }

    /// True once the reply arrived (the machine may still absorb repeated replies).
    public var isCompleted: Bool {
        if case .completed = state { return true }
        return false
    }

    /// True once nothing more can happen (failed, cancelled, or forgotten after completion).
    public var isFinished: Bool { state == .finished }

    /// Sends the request. `retransmissionTimeout` comes from the peer's `RTTEstimator`
    /// (ignored on reliable transports, which never retransmit: H.248.1 Annex D.2, H.248.4).
    public mutating func start(now: H248Instant, retransmissionTimeout: Duration) -> Action {
        guard case .idle = state else {
            preconditionFailure("OutgoingTransactionStateMachine.start called twice for \(transactionID)")
        }
        let timeout = clampTimeout(retransmissionTimeout)
        state = .awaitingResponse(Awaiting(
            firstSentAt: now, attempts: 1, currentTimeout: timeout,
            nextRetransmissionAt: transport.isReliable ? nil : now + timeout,
            giveUpAt: now + timers.longTimer))
        return .send
    }

    /// Drives the retransmission, provisional and LONG-TIMER timers. Call at (or after) `nextDeadline`.
    public mutating func timerFired(now: H248Instant) -> Action {
        switch state {
        case .idle, .finished:
            return .none

        case .awaitingResponse(var a):
            // Annex D.1.3: give up after LONG-TIMER (retransmissions included).
            if now >= a.giveUpAt {
                state = .finished
                return .fail(H248ClientError(
                    .transactionTimeout,
                    "transaction \(transactionID): no reply within LONG-TIMER \(timers.longTimer) after \(a.attempts) transmission(s)"))
            }
            guard let due = a.nextRetransmissionAt, now >= due else { return .none }
            // Annex D.1.2: exponential back-off, capped at maximumRetransmissionTimeout.
            a.attempts += 1
            a.currentTimeout = Swift.min(a.currentTimeout * 2, timers.maximumRetransmissionTimeout)
            a.nextRetransmissionAt = now + a.currentTimeout
            state = .awaitingResponse(a)
            return .retransmit(attempt: a.attempts)

        case .pending(var p):
            if now >= p.giveUpAt {
                state = .finished
                return .fail(H248ClientError(
                    .transactionTimeout,
                    "transaction \(transactionID): no reply within LONG-TIMER \(timers.longTimer) after the last of \(p.pendingCount) Pending(s)"))
            }
            guard let due = p.provisionalDeadline, now >= due else { return .none }
            // Annex D.1.4: after Pending the requester repeats on the (longer) provisional timer.
            p.attempts += 1
            p.provisionalDeadline = now + provisionalWait()
            state = .pending(p)
            return .retransmit(attempt: p.attempts)

        case .completed(let c):
            guard now >= c.keepUntil else { return .none }
            state = .finished
            return .forget
        }
    }

    /// A `Pending = <tid>{}` for this transaction arrived (H.248.1 §8.2.3, Annex D.1.4).
    public mutating func pendingReceived(now: H248Instant) -> Action {
        switch state {
        case .idle, .finished, .completed:
            // Annex D.1.4: "Receipt of a Transaction Pending after receipt of a reply shall be ignored."
            return .none

        case .awaitingResponse(let a):
            return acceptPending(Pending(
                firstSentAt: a.firstSentAt, attempts: a.attempts, pendingCount: 0,
                roundTripSample: a.attempts == 1 ? now - a.firstSentAt : nil,
                provisionalDeadline: nil, giveUpAt: a.giveUpAt), now: now)

        case .pending(let p):
            return acceptPending(p, now: now)
        }
    }

    private mutating func acceptPending(_ previous: Pending, now: H248Instant) -> Action {
        var p = previous
        p.pendingCount += 1
        // Annex E.2 root/MGOriginatedPendingLimit: past the limit the transaction has failed (506).
        guard p.pendingCount <= timers.mgOriginatedPendingLimit else {
            state = .finished
            return .fail(H248ClientError(
                .pendingLimitExceeded, h248ErrorCode: H248ErrorCodes.pendingsExceeded,
                "transaction \(transactionID): \(p.pendingCount) Pendings exceed MGOriginatedPendingLimit \(timers.mgOriginatedPendingLimit)"))
        }
        // Stop normal retransmission; restart the provisional timer and the overall bound.
        p.provisionalDeadline = transport.isReliable ? nil : now + provisionalWait()
        p.giveUpAt = now + timers.longTimer
        state = .pending(p)
        return .none
    }

    /// The Reply for this transaction arrived (H.248.1 §8.2.2). `immAckRequired` is the reply's
    /// ImmAckRequired flag.
    public mutating func replyReceived(now: H248Instant, immAckRequired: Bool) -> Action {
        switch state {
        case .idle, .finished:
            return .none

        case .awaitingResponse(let a):
            let outcome = OutgoingTransactionOutcome(
                roundTripSample: a.attempts == 1 ? now - a.firstSentAt : nil,
                wasRetransmitted: a.attempts > 1, pendingCount: 0,
                ack: ackDisposition(immAckRequired: immAckRequired, hadPending: false))
            state = .completed(Completed(keepUntil: now + timers.longTimer, hadPending: false))
            return .complete(outcome)

        case .pending(let p):
            let outcome = OutgoingTransactionOutcome(
                roundTripSample: p.attempts == 1 ? p.roundTripSample : nil,
                wasRetransmitted: p.attempts > 1, pendingCount: p.pendingCount,
                ack: ackDisposition(immAckRequired: immAckRequired, hadPending: true))
            state = .completed(Completed(keepUntil: now + timers.longTimer, hadPending: true))
            return .complete(outcome)

        case .completed(let c):
            // A repeated reply: the responder did not see our ack (Annex D.1.3). Ack again; the
            // reply itself is not delivered twice.
            let ack = ackDisposition(immAckRequired: immAckRequired, hadPending: c.hadPending)
            return ack == .none ? .none : .sendResponseAck(ack)
        }
    }

    /// The caller gave up (association lost, shutdown).
    public mutating func cancel() -> Action {
        switch state {
        case .idle, .awaitingResponse, .pending:
            state = .finished
            return .fail(H248ClientError(.transactionCancelled, "transaction \(transactionID) cancelled"))
        case .completed, .finished:
            state = .finished
            return .none
        }
    }

    private func ackDisposition(immAckRequired: Bool, hadPending: Bool) -> ResponseAckDisposition {
        if immAckRequired || (hadPending && !transport.isReliable) { return .immediate }
        return transport.isReliable ? .none : .batched
    }

    /// Wait after a Pending before repeating the request: the MG's provisional timer plus the
    /// current network allowance.
    private func provisionalWait() -> Duration {
        timers.mgProvisionalResponseTimerValue + timers.minimumRetransmissionTimeout
    }

    private func clampTimeout(_ d: Duration) -> Duration {
        Swift.min(Swift.max(d, timers.minimumRetransmissionTimeout), timers.maximumRetransmissionTimeout)
    }
}
