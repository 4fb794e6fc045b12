// Covers H.248.1 Annex D.1.2 (retransmission timers estimated from measured round trips) with the
// RFC 6298 estimator: first RTO from normalMGExecutionTime, SRTT/RTTVAR smoothing, Karn back-off.
import Testing
@testable import H248Client

@Suite("RTT estimator (H.248.1 Annex D.1.2, RFC 6298)")
struct RTTEstimatorTests {
    @Test("specs.md §11.6: before any sample, RTO = max(normalMGExecutionTime + 2·RTT, 500 ms)")
    func initial() {
        var t = H248TransactionTimers()
        t.normalMGExecutionTime = .milliseconds(200)
        t.initialRoundTripTime = .milliseconds(100)
        #expect(RTTEstimator(timers: t).retransmissionTimeout == .milliseconds(500))
        t.normalMGExecutionTime = .milliseconds(800)
        #expect(RTTEstimator(timers: t).retransmissionTimeout == .milliseconds(1000))
    }

    @Test("RFC 6298 §2.2-2.3: first sample SRTT=R, RTTVAR=R/2; then 7/8, 3/4 smoothing; RTO = SRTT + 4·RTTVAR")
    func smoothing() {
        var t = H248TransactionTimers()
        t.minimumRetransmissionTimeout = .milliseconds(10)
        var e = RTTEstimator(timers: t)
        e.recordSample(.milliseconds(100))
        #expect(e.smoothedRTT == .milliseconds(100))
        #expect(e.rttVariation == .milliseconds(50))
        #expect(e.retransmissionTimeout == .milliseconds(300))
        e.recordSample(.milliseconds(200))
        // RTTVAR = 3/4·50 + 1/4·100 = 62.5; SRTT = 7/8·100 + 1/8·200 = 112.5
        #expect(e.rttVariation == .microseconds(62_500))
        #expect(e.smoothedRTT == .microseconds(112_500))
        #expect(e.retransmissionTimeout == .microseconds(362_500))
    }

    @Test("RFC 6298 §5.5 / Karn: back-off doubles the next RTO until a valid sample, capped at the maximum")
    func backoff() {
        var e = RTTEstimator(timers: H248TransactionTimers())
        e.recordSample(.milliseconds(100))
        #expect(e.retransmissionTimeout == .milliseconds(500))
        e.recordRetransmission()
        #expect(e.retransmissionTimeout == .seconds(1))
        e.recordRetransmission()
        e.recordRetransmission()
        e.recordRetransmission()
        #expect(e.retransmissionTimeout == .seconds(4))
        e.recordSample(.milliseconds(100))
        #expect(e.backoffExponent == 0)
        #expect(e.retransmissionTimeout == .milliseconds(500))
    }

    @Test("Configuration: validate() rejects inconsistent timers")
    func validate() throws {
        try H248TransactionTimers().validate()
        var t = H248TransactionTimers()
        t.maximumRetransmissionTimeout = .milliseconds(100)
        #expect(throws: H248ClientError.self) { try t.validate() }
        var u = H248TransactionTimers()
        u.longTimer = .zero
        #expect(throws: H248ClientError.self) { try u.validate() }
    }
}
