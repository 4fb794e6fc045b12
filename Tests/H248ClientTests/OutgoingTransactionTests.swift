// Covers the requester side of H.248.1 §8.2 / Annex D.1 (UDP application-level framing):
//  - D.1.2 retransmission with exponential back-off from the RTT estimate, capped;
//  - D.1.3 LONG-TIMER bounds the transaction: timeout surfaces as a typed error;
//  - D.1.4 Pending stops retransmission, restarts the provisional timer; repetition on the
//    provisional timer; Pending after the reply ignored; reply after Pending acked at once;
//  - Annex E.2 root/MGOriginatedPendingLimit: one Pending too many fails with 506;
//  - §8.2.3 ImmAckRequired → immediate TransactionResponseAck, otherwise batched (UDP);
//  - Annex D.2 / H.248.4 reliable transports: no retransmission, only the overall timer;
//  - RFC 6298 / Karn: RTT sample only when sent once.
import Testing
@testable import H248Client

private func ms(_ v: Int64) -> H248Instant { .milliseconds(v) }

private var timers: H248TransactionTimers {
    var t = H248TransactionTimers()
    t.longTimer = .seconds(30)
    t.minimumRetransmissionTimeout = .milliseconds(500)
    t.maximumRetransmissionTimeout = .seconds(4)
    t.mgProvisionalResponseTimerValue = .seconds(2)
    t.mgOriginatedPendingLimit = 3
    return t
}

@Suite("Outgoing transaction (H.248.1 §8.2, Annex D.1)")
struct OutgoingTransactionTests {
    @Test("Annex D.1.2: retransmit with exponential back-off 0.5, 1, 2, 4, 4 s (capped at maximum RTO)")
    func backoff() {
        var m = OutgoingTransactionStateMachine(transactionID: 42, transport: .udp, timers: timers)
        #expect(m.start(now: .zero, retransmissionTimeout: .milliseconds(500)) == .send)
        var sendTimes: [H248Instant] = []
        var attempts: [Int] = []
        while let d = m.nextDeadline, d < .seconds(16) {
            if case .retransmit(let n) = m.timerFired(now: d) {
                sendTimes.append(d)
                attempts.append(n)
            }
        }
        #expect(sendTimes == [ms(500), ms(1500), ms(3500), ms(7500), ms(11_500), ms(15_500)])
        #expect(attempts == [2, 3, 4, 5, 6, 7])
    }

    @Test("Annex D.1.2: an early timer call does nothing")
    func earlyTimer() {
        var m = OutgoingTransactionStateMachine(transactionID: 1, transport: .udp, timers: timers)
        _ = m.start(now: .zero, retransmissionTimeout: .seconds(1))
        #expect(m.timerFired(now: ms(999)) == .none)
        #expect(m.timerFired(now: ms(1000)) == .retransmit(attempt: 2))
    }

    @Test("Annex D.1.2: the starting timeout is clamped to [minimum, maximum] RTO")
    func clampStart() {
        var m = OutgoingTransactionStateMachine(transactionID: 1, transport: .udp, timers: timers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(10))
        #expect(m.nextDeadline == ms(500))
        var n = OutgoingTransactionStateMachine(transactionID: 2, transport: .udp, timers: timers)
        _ = n.start(now: .zero, retransmissionTimeout: .seconds(60))
        #expect(n.nextDeadline == .seconds(4))
    }

    @Test("Annex D.1.3: no reply within LONG-TIMER → typed timeout error, then nothing more")
    func longTimerTimeout() {
        var m = OutgoingTransactionStateMachine(transactionID: 9, transport: .udp, timers: timers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        var last: OutgoingTransactionStateMachine.Action = .none
        var guardCount = 0
        while let d = m.nextDeadline, guardCount < 100 {
            last = m.timerFired(now: d)
            guardCount += 1
        }
        guard case .fail(let error) = last else {
            Issue.record("expected a failure, got \(last)")
            return
        }
        #expect(error.code == .transactionTimeout)
        #expect(m.isFinished)
        #expect(m.replyReceived(now: .seconds(31), immAckRequired: false) == .none)
    }

    @Test("§8.2.2 / RFC 6298 Karn: reply to a request sent once gives an RTT sample and a batched ack")
    func replyWithSample() {
        var m = OutgoingTransactionStateMachine(transactionID: 5, transport: .udp, timers: timers)
        _ = m.start(now: ms(1000), retransmissionTimeout: .milliseconds(500))
        let a = m.replyReceived(now: ms(1120), immAckRequired: false)
        #expect(a == .complete(OutgoingTransactionOutcome(
            roundTripSample: .milliseconds(120), wasRetransmitted: false, pendingCount: 0, ack: .batched)))
        #expect(m.isCompleted)
    }

    @Test("Karn's rule: a retransmitted transaction gives no RTT sample")
    func karn() {
        var m = OutgoingTransactionStateMachine(transactionID: 5, transport: .udp, timers: timers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        #expect(m.timerFired(now: ms(500)) == .retransmit(attempt: 2))
        guard case .complete(let o) = m.replyReceived(now: ms(600), immAckRequired: false) else {
            Issue.record("expected completion")
            return
        }
        #expect(o.roundTripSample == nil)
        #expect(o.wasRetransmitted)
    }

    @Test("§8.2.3: ImmAckRequired → immediate TransactionResponseAck")
    func immAck() {
        var m = OutgoingTransactionStateMachine(transactionID: 5, transport: .udp, timers: timers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        guard case .complete(let o) = m.replyReceived(now: ms(50), immAckRequired: true) else {
            Issue.record("expected completion")
            return
        }
        #expect(o.ack == .immediate)
    }

    @Test("Annex D.1.3: a repeated reply after completion is acked again but not delivered twice")
    func duplicateReply() {
        var m = OutgoingTransactionStateMachine(transactionID: 5, transport: .udp, timers: timers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        _ = m.replyReceived(now: ms(50), immAckRequired: true)
        #expect(m.replyReceived(now: ms(700), immAckRequired: true) == .sendResponseAck(.immediate))
        #expect(m.replyReceived(now: ms(800), immAckRequired: false) == .sendResponseAck(.batched))
    }

    @Test("Annex D.1.3: a completed transaction is forgotten LONG-TIMER after the reply")
    func forget() {
        var m = OutgoingTransactionStateMachine(transactionID: 5, transport: .udp, timers: timers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        _ = m.replyReceived(now: ms(50), immAckRequired: false)
        #expect(m.nextDeadline == ms(30_050))
        #expect(m.timerFired(now: ms(30_049)) == .none)
        #expect(m.timerFired(now: ms(30_050)) == .forget)
        #expect(m.isFinished)
    }

    @Test("Annex D.1.4: Pending stops normal retransmission; repetition only on the provisional timer")
    func pendingStopsRetransmission() {
        var m = OutgoingTransactionStateMachine(transactionID: 7, transport: .udp, timers: timers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        #expect(m.pendingReceived(now: ms(200)) == .none)
        // The 500 ms retransmission no longer happens; next is provisional: 200 + 2000 + 500.
        #expect(m.nextDeadline == ms(2700))
        #expect(m.timerFired(now: ms(500)) == .none)
        #expect(m.timerFired(now: ms(2700)) == .retransmit(attempt: 2))
        #expect(m.nextDeadline == ms(5200))
    }

    @Test("Annex D.1.4: each Pending restarts the provisional timer and the overall bound")
    func pendingRestartsTimers() {
        var m = OutgoingTransactionStateMachine(transactionID: 7, transport: .udp, timers: timers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        _ = m.pendingReceived(now: ms(100))
        _ = m.pendingReceived(now: ms(2000))
        #expect(m.nextDeadline == ms(4500))
        _ = m.pendingReceived(now: ms(29_000))
        // Still alive past the original LONG-TIMER (30 s from the first send): next repetition at
        // 29 + 2.5 s, give-up at 29 + 30 s.
        #expect(m.timerFired(now: ms(30_001)) == .none)
        #expect(m.nextDeadline == ms(31_500))
        #expect(m.timerFired(now: ms(31_500)) == .retransmit(attempt: 2))
    }

    @Test("Annex D.1.4: a reply after Pending needs an immediate ack; RTT sample from the first Pending")
    func replyAfterPending() {
        var m = OutgoingTransactionStateMachine(transactionID: 7, transport: .udp, timers: timers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        _ = m.pendingReceived(now: ms(80))
        let a = m.replyReceived(now: ms(5000), immAckRequired: false)
        #expect(a == .complete(OutgoingTransactionOutcome(
            roundTripSample: .milliseconds(80), wasRetransmitted: false, pendingCount: 1, ack: .immediate)))
    }

    @Test("Annex D.1.4: Pending after the reply is ignored")
    func pendingAfterReply() {
        var m = OutgoingTransactionStateMachine(transactionID: 7, transport: .udp, timers: timers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        _ = m.replyReceived(now: ms(80), immAckRequired: false)
        #expect(m.pendingReceived(now: ms(90)) == .none)
        #expect(m.isCompleted)
    }

    @Test("Annex E.2 MGOriginatedPendingLimit: Pending number limit+1 fails the transaction with 506")
    func pendingLimit() {
        var m = OutgoingTransactionStateMachine(transactionID: 8, transport: .udp, timers: timers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        #expect(m.pendingReceived(now: ms(100)) == .none)
        #expect(m.pendingReceived(now: ms(200)) == .none)
        #expect(m.pendingReceived(now: ms(300)) == .none)
        guard case .fail(let e) = m.pendingReceived(now: ms(400)) else {
            Issue.record("expected failure on the 4th Pending (limit 3)")
            return
        }
        #expect(e.code == .pendingLimitExceeded)
        #expect(e.h248ErrorCode == 506)
        #expect(m.isFinished)
    }

    @Test("Annex D.1.4 + D.1.3: after Pending, silence until LONG-TIMER → timeout")
    func pendingThenSilence() {
        var m = OutgoingTransactionStateMachine(transactionID: 8, transport: .udp, timers: timers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        _ = m.pendingReceived(now: ms(1000))
        var last: OutgoingTransactionStateMachine.Action = .none
        var retransmits = 0
        while let d = m.nextDeadline {
            last = m.timerFired(now: d)
            if case .retransmit = last { retransmits += 1 }
        }
        guard case .fail(let e) = last else {
            Issue.record("expected timeout")
            return
        }
        #expect(e.code == .transactionTimeout)
        #expect(retransmits == 11)  // every 2.5 s between 1 s and 31 s
    }

    @Test("Annex D.2 / H.248.4: reliable transports never retransmit; only the overall timer runs",
          arguments: [H248TransportKind.tcp, .sctp])
    func reliable(transport: H248TransportKind) {
        var m = OutgoingTransactionStateMachine(transactionID: 3, transport: transport, timers: timers)
        #expect(m.start(now: .zero, retransmissionTimeout: .milliseconds(500)) == .send)
        #expect(m.nextDeadline == .seconds(30))
        #expect(m.timerFired(now: .seconds(10)) == .none)
        guard case .fail(let e) = m.timerFired(now: .seconds(30)) else {
            Issue.record("expected timeout")
            return
        }
        #expect(e.code == .transactionTimeout)
    }

    @Test("Annex D.2: reliable transport, Pending restarts the overall timer; no ack unless ImmAckRequired")
    func reliablePending() {
        var m = OutgoingTransactionStateMachine(transactionID: 3, transport: .tcp, timers: timers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        _ = m.pendingReceived(now: .seconds(20))
        #expect(m.nextDeadline == .seconds(50))
        guard case .complete(let o) = m.replyReceived(now: .seconds(21), immAckRequired: false) else {
            Issue.record("expected completion")
            return
        }
        #expect(o.ack == ResponseAckDisposition.none)
        var n = OutgoingTransactionStateMachine(transactionID: 4, transport: .tcp, timers: timers)
        _ = n.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        guard case .complete(let p) = n.replyReceived(now: .seconds(1), immAckRequired: true) else {
            Issue.record("expected completion")
            return
        }
        #expect(p.ack == .immediate)
    }

    @Test("Cancel fails an open transaction with .transactionCancelled")
    func cancel() {
        var m = OutgoingTransactionStateMachine(transactionID: 3, transport: .udp, timers: timers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        guard case .fail(let e) = m.cancel() else {
            Issue.record("expected failure")
            return
        }
        #expect(e.code == .transactionCancelled)
        #expect(m.nextDeadline == nil)
    }
}

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

@Suite("Outgoing transaction table per peer (H.248.1 §8.2.1, Annex D.1)")
struct OutgoingTransactionTableTests {
    @Test("§8.2.1 + Annex D.1.2: begin allocates unique ids and sends; the RTO comes from the peer's estimator")
    func beginUsesEstimator() throws {
        var t = OutgoingTransactionTable(transport: .udp, timers: timers)
        let (a, actionsA) = try t.begin(now: .zero)
        let (b, _) = try t.begin(now: .zero)
        #expect(a != b)
        #expect(actionsA == [.send(transactionID: a)])
        #expect(t.nextDeadline == ms(500))
        #expect(t.timerFired(now: ms(500)) == [.retransmit(transactionID: a, attempt: 2), .retransmit(transactionID: b, attempt: 2)])
        #expect(t.openCount == 2)
    }

    @Test("Annex D.1.2 / RFC 6298: a Karn-valid sample feeds the estimator; later transactions use it")
    func sampleFeedsEstimator() throws {
        var timers = H248TransactionTimers()
        timers.minimumRetransmissionTimeout = .milliseconds(100)
        var t = OutgoingTransactionTable(transport: .udp, timers: timers)
        let (a, _) = try t.begin(now: .zero)
        let actions = t.replyReceived(transactionID: a, immAckRequired: true, now: ms(40))
        #expect(actions == [
            .completed(transactionID: a, OutgoingTransactionOutcome(
                roundTripSample: .milliseconds(40), wasRetransmitted: false, pendingCount: 0, ack: .immediate)),
            .sendResponseAck([TransactionAckRange(a)]),
        ])
        #expect(t.estimator.smoothedRTT == .milliseconds(40))
        // Next transaction: RTO = SRTT + 4·RTTVAR = 40 + 4·20 = 120 ms (not the 500 ms default).
        let (c, _) = try t.begin(now: ms(100))
        #expect(t.nextDeadline == ms(220))
        #expect(t.timerFired(now: ms(220)) == [.retransmit(transactionID: c, attempt: 2)])
    }

    @Test("§8.2.3: batched acks leave as one TransactionResponseAck at the flush deadline; ImmAckRequired flushes at once")
    func acks() throws {
        var t = OutgoingTransactionTable(
            transport: .udp, timers: timers, ackBatcher: ResponseAckBatcher(maximumBatchSize: 10, flushDelay: .milliseconds(50)))
        let (a, _) = try t.begin(now: .zero)
        let (b, _) = try t.begin(now: .zero)
        let (c, _) = try t.begin(now: .zero)
        _ = t.replyReceived(transactionID: a, immAckRequired: false, now: ms(10))
        _ = t.replyReceived(transactionID: b, immAckRequired: false, now: ms(20))
        #expect(t.nextDeadline == ms(60))
        #expect(t.timerFired(now: ms(60)) == [.sendResponseAck(TransactionAckRange.coalesce([a, b]))])
        let actions = t.replyReceived(transactionID: c, immAckRequired: true, now: ms(70))
        #expect(actions.last == .sendResponseAck([TransactionAckRange(c)]))
    }

    @Test("Annex D.1.3: unknown or forgotten ids are ignored; a repeated reply is acked, not delivered again")
    func unknownAndRepeated() throws {
        var t = OutgoingTransactionTable(transport: .udp, timers: timers)
        #expect(t.replyReceived(transactionID: 999, immAckRequired: true, now: .zero) == [])
        let (a, _) = try t.begin(now: .zero)
        _ = t.replyReceived(transactionID: a, immAckRequired: true, now: ms(10))
        #expect(t.replyReceived(transactionID: a, immAckRequired: true, now: ms(700)) == [.sendResponseAck([TransactionAckRange(a)])])
        _ = t.timerFired(now: ms(30_010))
        #expect(t.trackedCount == 0)
        #expect(t.replyReceived(transactionID: a, immAckRequired: true, now: ms(30_020)) == [])
    }

    @Test("Annex D.1.3: a timed-out transaction fails once; its id stays out of use for another LONG-TIMER")
    func timeoutQuarantine() throws {
        var t = OutgoingTransactionTable(
            transport: .tcp, timers: timers, allocator: TransactionIDAllocator(range: 1...2))
        let (a, _) = try t.begin(now: .zero)
        #expect(t.timerFired(now: .seconds(30)).map { action -> Bool in
            if case .failed(a, let e) = action { return e.code == .transactionTimeout }
            return false
        } == [true])
        let (b, _) = try t.begin(now: .seconds(31))
        #expect(b != a)
        _ = t.replyReceived(transactionID: b, immAckRequired: false, now: .seconds(32))
        _ = t.timerFired(now: .seconds(62))  // b forgotten, a released
        let (c, _) = try t.begin(now: .seconds(63))
        #expect(c == a)
    }

    @Test("Bound: begin throws 510 when maximumInFlight transactions are tracked; cancelAll fails the open ones")
    func boundAndCancel() throws {
        var t = OutgoingTransactionTable(transport: .udp, timers: timers, maximumInFlight: 2)
        let (a, _) = try t.begin(now: .zero)
        let (b, _) = try t.begin(now: .zero)
        do {
            _ = try t.begin(now: .zero)
            Issue.record("expected transactionTableFull")
        } catch {
            #expect(error.h248ErrorCode == 510)
        }
        let cancelled = t.cancelAll()
        #expect(cancelled.count == 2)
        #expect(cancelled.contains { if case .failed(a, _) = $0 { return true } else { return false } })
        #expect(cancelled.contains { if case .failed(b, _) = $0 { return true } else { return false } })
        #expect(t.trackedCount == 0)
    }
}
