// Time as the transaction layer sees it: a monotonic instant passed in by the caller. The pure
// layer never reads a clock (house style §6.6); a shell reads its clock (or a test's manual clock)
// and passes `now`.

/// A point on a monotonic time line with an arbitrary origin.
public struct TransactionInstant: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Time elapsed since the origin of the time line.
    public var sinceOrigin: Duration

    public init(sinceOrigin: Duration) { self.sinceOrigin = sinceOrigin }

    /// The origin.
    public static let zero = TransactionInstant(sinceOrigin: .zero)

    public static func < (lhs: TransactionInstant, rhs: TransactionInstant) -> Bool {
        lhs.sinceOrigin < rhs.sinceOrigin
    }

    public static func + (lhs: TransactionInstant, rhs: Duration) -> TransactionInstant {
        TransactionInstant(sinceOrigin: lhs.sinceOrigin + rhs)
    }

    public static func - (lhs: TransactionInstant, rhs: TransactionInstant) -> Duration {
        lhs.sinceOrigin - rhs.sinceOrigin
    }

    public var description: String { "\(sinceOrigin)" }
}

/// A source of `TransactionInstant`s for the impure shell that drives a `TransactionLayer`
/// (a wrapper around `ContinuousClock` in production, a manual clock in tests).
public protocol TransactionClock: Sendable {
    /// The current instant.
    func now() -> TransactionInstant
}

/// A deadline list: a binary min-heap of timer entries ordered by (deadline, insertion order).
/// Cancelled timers are removed lazily: an entry is stale when its generation no longer matches
/// the live generation its owner keeps for that timer.
///
/// Entries are trivially copyable and order by plain integer comparisons (the deadline's 128-bit
/// attosecond count as its two halves, then the insertion sequence), and the sifts move a hole
/// instead of swapping: `Duration`'s comparison operators are opaque calls into the runtime, and the
/// swaps re-checked the array's uniqueness at every level.
struct TimerQueue: Sendable {
    struct Item: Sendable {
        /// The deadline's attoseconds since the origin, high and low halves (`Duration`'s own layout).
        var deadlineHigh: Int64
        var deadlineLow: UInt64
        var sequence: UInt64
        var transaction: TransactionID
        var generation: UInt64
        var timer: TransactionTimer

        init(deadline: TransactionInstant, sequence: UInt64, transaction: TransactionID, timer: TransactionTimer, generation: UInt64) {
            self.deadlineHigh = deadline.sinceOrigin._high
            self.deadlineLow = deadline.sinceOrigin._low
            self.sequence = sequence
            self.transaction = transaction
            self.generation = generation
            self.timer = timer
        }

        var deadline: TransactionInstant { TransactionInstant(sinceOrigin: Duration(_high: deadlineHigh, low: deadlineLow)) }

        /// True when the deadline is at or before `instant`.
        @inline(__always) func isDue(at instant: TransactionInstant) -> Bool {
            let d = instant.sinceOrigin
            return (deadlineHigh, deadlineLow) <= (d._high, d._low)
        }

        @inline(__always) func precedes(_ other: Item) -> Bool {
            (deadlineHigh, deadlineLow, sequence) < (other.deadlineHigh, other.deadlineLow, other.sequence)
        }
    }

    private(set) var items: [Item] = []
    private var nextSequence: UInt64 = 0

    var count: Int { items.count }
    var first: Item? { items.first }

    mutating func push(deadline: TransactionInstant, transaction: TransactionID, timer: TransactionTimer, generation: UInt64) {
        items.append(Item(deadline: deadline, sequence: nextSequence, transaction: transaction, timer: timer, generation: generation))
        nextSequence &+= 1
        siftUp(items.count - 1)
    }

    mutating func popFirst() -> Item? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty { siftDown(last, from: 0) }
        return top
    }

    /// Drops every item for which `isLive` is false and restores the heap order.
    mutating func compact(keeping isLive: (Item) -> Bool) {
        items.removeAll { !isLive($0) }
        var index = items.count / 2
        while index > 0 {
            index -= 1
            siftDown(items[index], from: index)
        }
    }

    /// Moves the item at `start` up to its place.
    private mutating func siftUp(_ start: Int) {
        items.withUnsafeMutableBufferPointer { heap in
            let item = heap[start]
            var child = start
            while child > 0 {
                let parent = (child - 1) / 2
                guard item.precedes(heap[parent]) else { break }
                heap[child] = heap[parent]
                child = parent
            }
            heap[child] = item
        }
    }

    /// Places `item` in the hole at `start`, moving smaller children up.
    private mutating func siftDown(_ item: Item, from start: Int) {
        items.withUnsafeMutableBufferPointer { heap in
            let count = heap.count
            var hole = start
            while true {
                let left = 2 * hole + 1
                guard left < count else { break }
                var smallest = left
                let right = left + 1
                if right < count, heap[right].precedes(heap[left]) { smallest = right }
                guard heap[smallest].precedes(item) else { break }
                heap[hole] = heap[smallest]
                hole = smallest
            }
            heap[hole] = item
        }
    }
}
