// Transaction id allocation (H.248.1 §8.2.1: "TransactionIDs … are unique within the scope of the
// sender"; text TransactionID = UINT32, specs.md §11.2). Ids in use, including completed ones still
// remembered for LONG-TIMER, must not be handed out again; 0 is never used.

/// Hands out sender-unique transaction ids in increasing order, wrapping from the top of `range`
/// back to its bottom and skipping ids still in use.
public struct TransactionIDAllocator: Sendable {
    public let range: ClosedRange<UInt32>
    private var next: UInt32
    private var inUse: Set<UInt32> = []

    /// `range` must not contain 0 (0 is reserved); `first` is the first id tried (e.g. derived from
    /// the restart count so a restarted MGC does not reuse recent ids).
    public init(range: ClosedRange<UInt32> = 1...UInt32.max, first: UInt32? = nil) {
        let lower = Swift.max(range.lowerBound, 1)
        let r = lower...Swift.max(range.upperBound, lower)
        self.range = r
        if let first, r.contains(first) { next = first } else { next = r.lowerBound }
    }

    /// Ids handed out and not yet released.
    public var inUseCount: Int { inUse.count }

    public func isInUse(_ id: UInt32) -> Bool { inUse.contains(id) }

    /// Returns a fresh id and marks it in use. Throws `.transactionIDsExhausted` only when every id
    /// in `range` is in use. Never loops more than `inUseCount + 1` times.
    public mutating func allocate() throws(H248ClientError) -> UInt32 {
        let size = UInt64(range.upperBound) - UInt64(range.lowerBound) + 1
        guard UInt64(inUse.count) < size else {
            throw H248ClientError(.transactionIDsExhausted, "all \(size) transaction ids are in use")
        }
        while true {
            let candidate = next
            next = candidate == range.upperBound ? range.lowerBound : candidate + 1
            if !inUse.contains(candidate) {
                inUse.insert(candidate)
                return candidate
            }
        }
    }

    /// Marks `id` free again (call once the transaction is forgotten, i.e. LONG-TIMER after completion).
    public mutating func release(_ id: UInt32) {
        inUse.remove(id)
    }
}
