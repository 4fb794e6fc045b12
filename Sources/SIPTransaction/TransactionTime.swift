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

    /// Compares the attosecond counts as `Duration` lays them out (signed high half, unsigned low
    /// half): the same order as `Duration`'s `<`, which is an opaque runtime call.
    public static func < (lhs: TransactionInstant, rhs: TransactionInstant) -> Bool {
        (lhs.sinceOrigin._high, lhs.sinceOrigin._low) < (rhs.sinceOrigin._high, rhs.sinceOrigin._low)
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

/// A deadline list: timer entries popped in (deadline, insertion order) order. Cancelled timers are
/// removed lazily: an entry is stale when its generation no longer matches the live generation its
/// owner keeps for that timer.
///
/// The layer starts timers at non-decreasing times with a handful of distinct durations (T1 and its
/// doublings, T2, T4, 64*T1, timers C and D, zero), so the deadlines pushed for one duration come in
/// order. The queue keeps them in sorted runs: a push appends to the run whose last deadline is the
/// latest one not after the new deadline (a new run when none fits, up to `maximumRuns`), a pop takes
/// the earliest of the run heads. Both cost a scan of a few runs instead of a sift through a heap
/// of every queued timer (the bench's 8000 timers took 13 levels per pop). Items that fit no run
/// once `maximumRuns` are in use (out-of-order pushes, as tests make) go to a binary heap, so
/// any push order pops in the same order as a single heap.
///
/// Entries are trivially copyable and order by plain integer comparisons (the deadline's 128-bit
/// attosecond count as its two halves, then the insertion sequence): `Duration`'s comparison
/// operators are opaque calls into the runtime.
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

    /// A sorted run, consumed from `head`.
    private struct Run: Sendable {
        var items: [Item] = []
        var head = 0
        /// Items not yet popped (`items.count - head`), kept so a scan reads no array.
        var live = 0
        /// The deadline of the last item, valid when `live > 0`.
        var tailHigh: Int64 = 0
        var tailLow: UInt64 = 0
        var isEmpty: Bool { live == 0 }

        mutating func append(_ item: Item) {
            items.append(item)
            live += 1
            tailHigh = item.deadlineHigh
            tailLow = item.deadlineLow
        }
    }

    /// Bound on the number of runs (the layer uses about a dozen distinct durations).
    static let maximumRuns = 24

    private var runs: [Run] = []
    /// Items that fit no run: a binary min-heap.
    private var heap: [Item] = []
    private var nextSequence: UInt64 = 0
    /// Where the earliest item is: a run index, `heapSource`, or `noSource` when empty.
    private var minSource = TimerQueue.noSource
    private static let heapSource = -1
    private static let noSource = -2

    private(set) var count = 0

    var first: Item? {
        switch minSource {
        case Self.noSource: return nil
        case Self.heapSource: return heap[0]
        default: return runs[minSource].items[runs[minSource].head]
        }
    }

    mutating func push(deadline: TransactionInstant, transaction: TransactionID, timer: TransactionTimer, generation: UInt64) {
        let item = Item(deadline: deadline, sequence: nextSequence, transaction: transaction, timer: timer, generation: generation)
        nextSequence &+= 1
        let earliest = first
        // Best fit: the run whose last deadline is the latest one not after the new deadline; else an
        // empty run; else a new run; else the heap.
        var chosen = -1, emptyRun = -1
        runs.withUnsafeBufferPointer { runs in
            var bestHigh = Int64.min, bestLow = UInt64.min
            for index in runs.indices {
                guard runs[index].live > 0 else {
                    if emptyRun < 0 { emptyRun = index }
                    continue
                }
                let tail = (runs[index].tailHigh, runs[index].tailLow)
                guard tail <= (item.deadlineHigh, item.deadlineLow) else { continue }
                if chosen >= 0, tail < (bestHigh, bestLow) { continue }
                chosen = index
                (bestHigh, bestLow) = tail
            }
        }
        if chosen < 0 { chosen = emptyRun }
        if chosen < 0, runs.count < Self.maximumRuns {
            runs.append(Run())
            chosen = runs.count - 1
        }
        let source: Int
        if chosen >= 0 {
            runs[chosen].append(item)
            source = chosen
        } else {
            heap.append(item)
            siftUp(heap.count - 1)
            source = Self.heapSource
        }
        count += 1
        if let earliest, !item.precedes(earliest) { return }
        minSource = source
    }

    mutating func popFirst() -> Item? {
        let item: Item
        switch minSource {
        case Self.noSource:
            return nil
        case Self.heapSource:
            item = heap[0]
            let last = heap.removeLast()
            if !heap.isEmpty { siftDown(last, from: 0) }
        default:
            let index = minSource
            item = runs[index].items[runs[index].head]
            runs[index].head += 1
            runs[index].live -= 1
            if runs[index].isEmpty {
                runs[index].items.removeAll(keepingCapacity: true)
                runs[index].head = 0
            } else if runs[index].head >= 1024, runs[index].head * 2 >= runs[index].items.count {
                // Drop the consumed prefix (amortised: it is at least half the run).
                runs[index].items.removeFirst(runs[index].head)
                runs[index].head = 0
            }
        }
        count -= 1
        updateMinSource()
        return item
    }

    /// Finds the source of the earliest item.
    private mutating func updateMinSource() {
        var source = heap.isEmpty ? Self.noSource : Self.heapSource
        var earliest = heap.first
        runs.withUnsafeBufferPointer { runs in
            for index in runs.indices where runs[index].live > 0 {
                let head = runs[index].items[runs[index].head]
                if let current = earliest, !head.precedes(current) { continue }
                earliest = head
                source = index
            }
        }
        minSource = source
    }

    /// Drops every item for which `isLive` is false, keeping the order.
    mutating func compact(keeping isLive: (Item) -> Bool) {
        for index in runs.indices {
            runs[index].items = runs[index].items[runs[index].head...].filter(isLive)
            runs[index].head = 0
            runs[index].live = runs[index].items.count
            if let tail = runs[index].items.last { (runs[index].tailHigh, runs[index].tailLow) = (tail.deadlineHigh, tail.deadlineLow) }
        }
        heap.removeAll { !isLive($0) }
        var index = heap.count / 2
        while index > 0 {
            index -= 1
            siftDown(heap[index], from: index)
        }
        count = heap.count + runs.reduce(0) { $0 + $1.items.count }
        updateMinSource()
    }

    /// Moves the heap item at `start` up to its place.
    private mutating func siftUp(_ start: Int) {
        heap.withUnsafeMutableBufferPointer { heap in
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

    /// Places `item` in the heap's hole at `start`, moving smaller children up.
    private mutating func siftDown(_ item: Item, from start: Int) {
        heap.withUnsafeMutableBufferPointer { heap in
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
