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
struct TimerQueue: Sendable {
    struct Item: Sendable {
        var deadline: TransactionInstant
        var sequence: UInt64
        var transaction: TransactionID
        var timer: TransactionTimer
        var generation: UInt64

        func precedes(_ other: Item) -> Bool {
            if deadline != other.deadline { return deadline < other.deadline }
            return sequence < other.sequence
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
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let item = items.removeLast()
        if !items.isEmpty { siftDown(0) }
        return item
    }

    /// Drops every item for which `isLive` is false and restores the heap order.
    mutating func compact(keeping isLive: (Item) -> Bool) {
        items.removeAll { !isLive($0) }
        var index = items.count / 2
        while index > 0 {
            index -= 1
            siftDown(index)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].precedes(items[parent]) else { return }
            items.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < items.count, items[left].precedes(items[smallest]) { smallest = left }
            if right < items.count, items[right].precedes(items[smallest]) { smallest = right }
            if smallest == parent { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
