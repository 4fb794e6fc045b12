// TransactionResponseAck ranges and the ack batcher (H.248.1 §8.2.3, Annex D.1.3; text form
// `K{5001-5003,5007}`, specs.md §11.2: transactionAck = TransactionID / (TransactionID "-" TransactionID)).

/// One `transactionAck` item: a single id or an inclusive range `first-last`.
public struct TransactionAckRange: Sendable, Hashable, CustomStringConvertible {
    public let first: UInt32
    public let last: UInt32

    /// A range from the wire. `first > last` is malformed (H.248.8 403: syntax error in
    /// transaction): ranges do not wrap.
    public init(first: UInt32, last: UInt32) throws(H248ClientError) {
        guard first <= last else {
            throw H248ClientError(
                .invalidAckRange, h248ErrorCode: H248ErrorCodes.syntaxErrorInTransactionRequest,
                "TransactionResponseAck range \(first)-\(last) is descending")
        }
        self.first = first
        self.last = last
    }

    public init(_ single: UInt32) {
        first = single
        last = single
    }

    public func contains(_ id: UInt32) -> Bool { id >= first && id <= last }

    /// Number of ids covered (up to 2^32, hence UInt64).
    public var count: UInt64 { UInt64(last) - UInt64(first) + 1 }

    /// Text form used in `K{…}`.
    public var description: String { first == last ? "\(first)" : "\(first)-\(last)" }

    /// Sorts, de-duplicates and merges ids into the fewest ranges.
    public static func coalesce(_ ids: some Sequence<UInt32>) -> [TransactionAckRange] {
        let sorted = Set(ids).sorted()
        var ranges: [TransactionAckRange] = []
        var start: UInt32?
        var end: UInt32 = 0
        for id in sorted {
            if let s = start {
                if end != UInt32.max && id == end + 1 {
                    end = id
                } else {
                    ranges.append(TransactionAckRange(unchecked: s, end))
                    start = id
                    end = id
                }
            } else {
                start = id
                end = id
            }
        }
        if let s = start { ranges.append(TransactionAckRange(unchecked: s, end)) }
        return ranges
    }

    private init(unchecked first: UInt32, _ last: UInt32) {
        self.first = first
        self.last = last
    }
}

/// Collects acks for replies that did not ask for an immediate one and releases them as one
/// TransactionResponseAck when the batch is full or the flush deadline passes (Annex D.1.3 allows
/// acks to be batched or piggybacked). An immediate ack flushes everything collected with it.
public struct ResponseAckBatcher: Sendable {
    public enum Action: Sendable, Hashable {
        case none
        /// Arm (or keep) the flush timer for this instant.
        case armTimer(H248Instant)
        /// Send one TransactionResponseAck carrying these ranges now.
        case send([TransactionAckRange])
    }

    /// Default flush delay: short against the responder's reply retention (LONG-TIMER) and the
    /// minimum retransmission timeout, so a batched ack reaches it before its first repetition.
    public static let defaultFlushDelay: Duration = .milliseconds(100)
    /// Default batch size; keeps one `K{…}` well inside a UDP datagram.
    public static let defaultMaximumBatchSize = 64

    public let maximumBatchSize: Int
    public let flushDelay: Duration
    private var ids: [UInt32] = []
    public private(set) var deadline: H248Instant?

    public init(maximumBatchSize: Int = defaultMaximumBatchSize, flushDelay: Duration = defaultFlushDelay) {
        self.maximumBatchSize = Swift.max(1, maximumBatchSize)
        self.flushDelay = flushDelay
    }

    /// Ids waiting to be acknowledged.
    public var pendingCount: Int { ids.count }

    /// Adds the ack for `transactionID` as `disposition` says (see `ResponseAckDisposition`).
    public mutating func add(_ transactionID: UInt32, disposition: ResponseAckDisposition, now: H248Instant) -> Action {
        switch disposition {
        case .none:
            return .none
        case .immediate:
            ids.append(transactionID)
            return .send(flush())
        case .batched:
            ids.append(transactionID)
            if ids.count >= maximumBatchSize { return .send(flush()) }
            if let deadline { return .armTimer(deadline) }
            let d = now + flushDelay
            deadline = d
            return .armTimer(d)
        }
    }

    /// The flush timer fired.
    public mutating func timerFired(now: H248Instant) -> Action {
        guard let deadline, now >= deadline, !ids.isEmpty else { return .none }
        return .send(flush())
    }

    /// Takes the collected acks to piggyback on a message about to be sent anyway.
    public mutating func takeForPiggyback() -> [TransactionAckRange] {
        ids.isEmpty ? [] : flush()
    }

    private mutating func flush() -> [TransactionAckRange] {
        let ranges = TransactionAckRange.coalesce(ids)
        ids.removeAll(keepingCapacity: true)
        deadline = nil
        return ranges
    }
}
