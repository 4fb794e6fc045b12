// Covers the deadline list's ordering contract (house style §6.6, injected time): whatever the push
// order, items pop in (deadline, insertion order) order, the order RFC 3261 §17 timers fire in.
// The queue keeps sorted runs plus a heap for items that fit no run; these tests drive both paths
// (the layer's pattern of a few durations at non-decreasing times, and arbitrary deadlines beyond
// the run bound) against a plain sort, with pops and compaction interleaved.

import Testing

@testable import SIPTransaction

@Suite("TimerQueue ordering against a reference sort")
struct TimerQueueOrderTests {
    /// A fixed linear congruential sequence: deterministic test data, no randomness.
    struct Sequence {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    struct Reference {
        var items: [(deadline: Int, sequence: Int, generation: UInt64)] = []
        var nextSequence = 0
        mutating func push(_ deadline: Int, generation: UInt64) {
            items.append((deadline, nextSequence, generation))
            nextSequence += 1
        }
        mutating func popFirst() -> (deadline: Int, sequence: Int, generation: UInt64)? {
            guard let index = items.indices.min(by: { (items[$0].deadline, items[$0].sequence) < (items[$1].deadline, items[$1].sequence) }) else { return nil }
            return items.remove(at: index)
        }
    }

    enum Pattern: String, CaseIterable, CustomTestStringConvertible {
        /// The layer's pattern: a few durations started at non-decreasing times.
        case fewDurations
        /// Arbitrary deadlines: more out-of-order pushes than the run bound, so the heap is used.
        case arbitrary
        var testDescription: String { rawValue }
    }

    @Test("RFC 3261 §17 timers: pops follow (deadline, insertion order) for any push order, with compaction", arguments: Pattern.allCases)
    func matchesReference(pattern: Pattern) {
        var queue = TimerQueue()
        var reference = Reference()
        var numbers = Sequence(state: pattern == .fewDurations ? 7 : 11)
        let durations = [0, 500, 1_000, 2_000, 4_000, 5_000, 32_000, 181_000]
        var now = 0
        var generation: UInt64 = 0
        for step in 0..<2_000 {
            let deadline: Int
            switch pattern {
            case .fewDurations:
                now += numbers.next(3)
                deadline = now + durations[numbers.next(durations.count)]
            case .arbitrary:
                deadline = numbers.next(1_000_000)
            }
            generation += 1
            queue.push(deadline: at(.milliseconds(deadline)), transaction: TransactionID(rawValue: generation), timer: .timerE, generation: generation)
            reference.push(deadline, generation: generation)
            if numbers.next(3) == 0 {
                let popped = queue.popFirst(), expected = reference.popFirst()
                #expect(popped?.generation == expected?.generation)
                #expect(popped?.deadline == expected.map { at(.milliseconds($0.deadline)) })
            }
            if step % 499 == 498 {
                // Lazy removal of cancelled timers keeps the order of the rest.
                queue.compact { $0.generation % 3 != 0 }
                reference.items.removeAll { $0.generation % 3 == 0 }
            }
            #expect(queue.count == reference.items.count)
        }
        while let expected = reference.popFirst() {
            let popped = queue.popFirst()
            #expect(popped?.generation == expected.generation)
            #expect(queue.first?.generation == reference.items.min { ($0.deadline, $0.sequence) < ($1.deadline, $1.sequence) }?.generation)
        }
        #expect(queue.popFirst() == nil)
        #expect(queue.count == 0)
    }
}
