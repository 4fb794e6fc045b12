// Incoming H.248 transactions (we are the responder), per peer: at-most-once execution over UDP
// (H.248.1 Annex D.1.3):
//  - "a list of the responses that it sent over the last LONG-TIMER seconds, and a list of the
//    transactions that are currently being executed";
//  - a repeated request whose reply is kept → resend the reply, never execute again;
//  - a repeat of a request still executing → Pending (Annex D.1.4), or ignore once the
//    MGCOriginatedPendingLimit is used up;
//  - TransactionResponseAck releases kept replies; the id itself is kept for LONG-TIMER so late
//    duplicates are still recognised and not executed.
// `Reply` is whatever the driver needs to resend (usually the encoded reply message bytes).

/// Named bounds of the client (network input never allocates without a bound).
public enum H248Limits {
    /// Incoming transactions tracked per peer (executing + replied + acknowledged ids within
    /// LONG-TIMER). At 30 s LONG-TIMER this allows ~540 new requests/s from one gateway.
    public static let maximumIncomingTransactionsPerPeer = 16_384
    /// Outgoing transactions in flight per peer.
    public static let maximumOutgoingTransactionsPerPeer = 16_384
}

/// Duplicate detection and reply cache for requests received from one peer.
public struct IncomingTransactionTable<Reply: Sendable & Hashable>: Sendable {
    /// What to do with a received TransactionRequest.
    public enum RequestDisposition: Sendable, Hashable {
        /// New transaction: execute it, then call `replyReady`.
        case execute
        /// Repeat of an answered transaction: send this kept reply again, do not execute.
        case resendReply(Reply)
        /// Repeat of a transaction still executing: send `Pending = <tid>{}`.
        case sendPending
        /// Repeat to drop silently (still executing with the Pending limit used up, or already
        /// acknowledged so the reply copy is gone).
        case ignoreDuplicate
        /// Cannot track another transaction: answer with this error (510), do not execute.
        case reject(H248ClientError)
    }

    /// What to do with a reply the executor produced.
    public enum ReplyDisposition: Sendable, Hashable {
        /// Send it; it is kept for LONG-TIMER or until acknowledged.
        case send
        /// The transaction was not in progress (unknown id or already answered): do not send.
        case drop
    }

    /// Timer-driven output.
    public enum TimerAction: Sendable, Hashable {
        /// Proactive Pending for a transaction executing longer than MGCProvisionalResponseTimerValue.
        case sendPending(transactionID: UInt32)
    }

    struct InProgress: Sendable, Hashable {
        var receivedAt: H248Instant
        var pendingsSent: Int
        var nextPendingAt: H248Instant?
    }

    enum Entry: Sendable, Hashable {
        case inProgress(InProgress)
        case replied(reply: Reply, expiresAt: H248Instant)
        case acknowledged(expiresAt: H248Instant)
    }

    public let maximumEntries: Int
    private let timers: H248TransactionTimers
    private var entries: [UInt32: Entry] = [:]
    /// Expiry queue in reply order (instants are monotone, so it stays sorted).
    private var expiryQueue: [(id: UInt32, expiresAt: H248Instant)] = []
    private var expiryHead = 0
    private var inProgressIDs: Set<UInt32> = []

    public init(timers: H248TransactionTimers, maximumEntries: Int = H248Limits.maximumIncomingTransactionsPerPeer) {
        self.timers = timers
        self.maximumEntries = Swift.max(1, maximumEntries)
    }

    /// Transactions currently tracked (executing, replied or acknowledged).
    public var count: Int { entries.count }
    /// Transactions currently executing.
    public var inProgressCount: Int { inProgressIDs.count }
    /// Replies currently kept for resending.
    public var cachedReplyCount: Int {
        entries.values.reduce(0) { n, e in
            if case .replied = e { return n + 1 }
            return n
        }
    }

    /// A TransactionRequest with `transactionID` arrived.
    public mutating func requestReceived(transactionID id: UInt32, now: H248Instant) -> RequestDisposition {
        expire(now: now)
        switch entries[id] {
        case .replied(let reply, _)?:
            return .resendReply(reply)
        case .acknowledged?:
            return .ignoreDuplicate
        case .inProgress(var p)?:
            guard p.pendingsSent < timers.mgcOriginatedPendingLimit else { return .ignoreDuplicate }
            p.pendingsSent += 1
            p.nextPendingAt = p.pendingsSent < timers.mgcOriginatedPendingLimit
                ? now + timers.mgcProvisionalResponseTimerValue : nil
            entries[id] = .inProgress(p)
            return .sendPending
        case nil:
            guard entries.count < maximumEntries else {
                return .reject(H248ClientError(
                    .transactionTableFull, h248ErrorCode: H248ErrorCodes.insufficientResources,
                    "\(entries.count) incoming transactions tracked (bound \(maximumEntries))"))
            }
            entries[id] = .inProgress(InProgress(
                receivedAt: now, pendingsSent: 0,
                nextPendingAt: timers.mgcOriginatedPendingLimit > 0 ? now + timers.mgcProvisionalResponseTimerValue : nil))
            inProgressIDs.insert(id)
            return .execute
        }
    }

    /// The executor finished `transactionID` with `reply` (a result or an error reply).
    public mutating func replyReady(transactionID id: UInt32, reply: Reply, now: H248Instant) -> ReplyDisposition {
        guard case .inProgress? = entries[id] else { return .drop }
        let expiresAt = now + timers.longTimer
        entries[id] = .replied(reply: reply, expiresAt: expiresAt)
        inProgressIDs.remove(id)
        expiryQueue.append((id, expiresAt))
        return .send
    }

    /// A TransactionResponseAck arrived: release the kept replies it covers (their ids stay known
    /// until their LONG-TIMER expiry). Returns how many replies were released.
    @discardableResult
    public mutating func responseAckReceived(_ ranges: [TransactionAckRange], now: H248Instant) -> Int {
        expire(now: now)
        var released = 0
        for range in ranges {
            if range.count <= UInt64(entries.count) {
                var id = range.first
                while true {
                    released += release(id)
                    if id == range.last { break }
                    id += 1
                }
            } else {
                // A wide range: walk our entries instead of the range (bounded by the table size).
                for id in entries.keys where range.contains(id) {
                    released += release(id)
                }
            }
        }
        return released
    }

    private mutating func release(_ id: UInt32) -> Int {
        guard case .replied(_, let expiresAt)? = entries[id] else { return 0 }
        entries[id] = .acknowledged(expiresAt: expiresAt)
        return 1
    }

    /// Earliest instant at which `timerFired` has work (a Pending due or an entry to expire).
    public var nextDeadline: H248Instant? {
        var deadline: H248Instant? = expiryHead < expiryQueue.count ? expiryQueue[expiryHead].expiresAt : nil
        for id in inProgressIDs {
            if case .inProgress(let p)? = entries[id] {
                deadline = .earliest(deadline, p.nextPendingAt)
            }
        }
        return deadline
    }

    /// Sends due proactive Pendings (Annex D.1.4, root/MGCProvisionalResponseTimerValue, bounded by
    /// MGCOriginatedPendingLimit) and forgets entries older than LONG-TIMER.
    public mutating func timerFired(now: H248Instant) -> [TimerAction] {
        expire(now: now)
        var actions: [TimerAction] = []
        for id in inProgressIDs.sorted() {
            guard case .inProgress(var p)? = entries[id], let due = p.nextPendingAt, now >= due else { continue }
            p.pendingsSent += 1
            p.nextPendingAt = p.pendingsSent < timers.mgcOriginatedPendingLimit
                ? now + timers.mgcProvisionalResponseTimerValue : nil
            entries[id] = .inProgress(p)
            actions.append(.sendPending(transactionID: id))
        }
        return actions
    }

    /// Forgets everything (association lost or gateway restarted).
    public mutating func reset() {
        entries = [:]
        expiryQueue = []
        expiryHead = 0
        inProgressIDs = []
    }

    private mutating func expire(now: H248Instant) {
        while expiryHead < expiryQueue.count, expiryQueue[expiryHead].expiresAt <= now {
            let (id, expiresAt) = expiryQueue[expiryHead]
            switch entries[id] {
            case .replied(_, let e)? where e == expiresAt: entries[id] = nil
            case .acknowledged(let e)? where e == expiresAt: entries[id] = nil
            default: break
            }
            expiryHead += 1
        }
        if expiryHead > 1024 && expiryHead * 2 > expiryQueue.count {
            expiryQueue.removeFirst(expiryHead)
            expiryHead = 0
        }
    }
}
