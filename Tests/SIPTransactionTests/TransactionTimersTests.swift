// Covers: RFC 3261 Appendix A Table 4 and §17.1.1.2 / §17.1.2.2 / §17.2.1 / §17.2.2 timer values,
// RFC 6026 §7.1 / §7.2 (timers L, M), RFC 3261 §16.6 step 11 (timer C > 3 min); configurable
// T1, T2, T4 with validation.

import Testing

@testable import SIPTransaction

@Suite("TransactionTimers (RFC 3261 Table 4, RFC 6026)")
struct TransactionTimersTests {
    @Test("RFC 3261 Table 4: defaults T1 = 500 ms, T2 = 4 s, T4 = 5 s; timer C default exceeds 3 min")
    func defaults() throws {
        let timers = TransactionTimers()
        #expect(timers.t1 == .milliseconds(500))
        #expect(timers.t2 == .seconds(4))
        #expect(timers.t4 == .seconds(5))
        #expect(timers.timerC > .seconds(180))
        try timers.validate()
    }

    @Test("RFC 3261 Table 4 / RFC 6026: derived timer values on an unreliable transport (default T1, T2, T4)")
    func unreliableTable() {
        let timers = TransactionTimers()
        #expect(timers.timerAInitial == .milliseconds(500))  // A: initially T1
        #expect(timers.timerB == .seconds(32))  // B: 64*T1
        #expect(timers.timerD(reliable: false) == .seconds(32))  // D: > 32 s for UDP
        #expect(timers.timerEInitial == .milliseconds(500))  // E: initially T1
        #expect(timers.timerF == .seconds(32))  // F: 64*T1
        #expect(timers.timerGInitial == .milliseconds(500))  // G: initially T1
        #expect(timers.timerH == .seconds(32))  // H: 64*T1
        #expect(timers.timerI(reliable: false) == .seconds(5))  // I: T4 for UDP
        #expect(timers.timerJ(reliable: false) == .seconds(32))  // J: 64*T1 for UDP
        #expect(timers.timerK(reliable: false) == .seconds(5))  // K: T4 for UDP
        #expect(timers.timerL == .seconds(32))  // L: 64*T1 (RFC 6026)
        #expect(timers.timerM == .seconds(32))  // M: 64*T1 (RFC 6026)
    }

    @Test("RFC 3261 Table 4: timers D, I, J, K are zero on reliable transports")
    func reliableZeros() {
        let timers = TransactionTimers()
        #expect(timers.timerD(reliable: true) == .zero)
        #expect(timers.timerI(reliable: true) == .zero)
        #expect(timers.timerJ(reliable: true) == .zero)
        #expect(timers.timerK(reliable: true) == .zero)
    }

    @Test("RFC 3261 §17.1.2.2 / §17.2.1: E and G back off as MIN(2*previous, T2)")
    func cappedDoubling() {
        let timers = TransactionTimers()
        #expect(timers.cappedDoubling(.milliseconds(500)) == .seconds(1))
        #expect(timers.cappedDoubling(.seconds(2)) == .seconds(4))
        #expect(timers.cappedDoubling(.seconds(4)) == .seconds(4))
    }

    @Test("RFC 3261 §17.1.1.1: a configured T1 scales every 64*T1 timer")
    func configuredT1() throws {
        let timers = TransactionTimers(t1: .milliseconds(100), t2: .seconds(1), t4: .seconds(2))
        try timers.validate()
        #expect(timers.timerB == .milliseconds(6400))
        #expect(timers.timerF == .milliseconds(6400))
        #expect(timers.timerH == .milliseconds(6400))
        #expect(timers.timerJ(reliable: false) == .milliseconds(6400))
        #expect(timers.timerL == .milliseconds(6400))
        #expect(timers.timerM == .milliseconds(6400))
        #expect(timers.timerI(reliable: false) == .seconds(2))
        #expect(timers.cappedDoubling(.milliseconds(800)) == .seconds(1))
    }

    @Test("RFC 3261 §17.1.1.2 / §16.6: validation rejects T2 < T1, timer D < 32 s, timer C ≤ 3 min, T1 ≤ 0")
    func validation() {
        #expect(throws: TransactionError.self) { try TransactionTimers(t1: .seconds(5), t2: .seconds(4)).validate() }
        #expect(throws: TransactionError.self) { try TransactionTimers(timerDUnreliable: .seconds(31)).validate() }
        #expect(throws: TransactionError.self) { try TransactionTimers(timerC: .seconds(180)).validate() }
        #expect(throws: TransactionError.self) { try TransactionTimers(t1: .zero).validate() }
        #expect(throws: TransactionError.self) { try TransactionTimers(t4: .zero).validate() }
        #expect(throws: TransactionError.self) {
            try TransactionLayerConfiguration(maximumTransactions: 0).validate()
        }
    }

    @Test("RFC 3261 Table 4: timer names A to M")
    func letters() {
        #expect(TransactionTimer.allCases.map(\.letter).joined() == "ABCDEFGHIJKLM")
    }
}
