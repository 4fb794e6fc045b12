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


@Suite("Outgoing transaction (H.248.1 §8.2, Annex D.1)")
struct OutgoingTransactionTests {
    @Test("Annex D.1.2: retransmit with exponential back-off 0.5, 1, 2, 4, 4 s (capped at maximum RTO)")
    func backoff() {
        var m = OutgoingTransactionStateMachine(transactionID: 42, transport: .udp, timers: sharedTimers)
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
        var m = OutgoingTransactionStateMachine(transactionID: 1, transport: .udp, timers: sharedTimers)
        _ = m.start(now: .zero, retransmissionTimeout: .seconds(1))
        #expect(m.timerFired(now: ms(999)) == .none)
        #expect(m.timerFired(now: ms(1000)) == .retransmit(attempt: 2))
    }

    @Test("Annex D.1.2: the starting timeout is clamped to [minimum, maximum] RTO")
    func clampStart() {
        var m = OutgoingTransactionStateMachine(transactionID: 1, transport: .udp, timers: sharedTimers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(10))
        #expect(m.nextDeadline == ms(500))
        var n = OutgoingTransactionStateMachine(transactionID: 2, transport: .udp, timers: sharedTimers)
        _ = n.start(now: .zero, retransmissionTimeout: .seconds(60))
        #expect(n.nextDeadline == .seconds(4))
    }

    @Test("Annex D.1.3: no reply within LONG-TIMER → typed timeout error, then nothing more")
    func longTimerTimeout() {
        var m = OutgoingTransactionStateMachine(transactionID: 9, transport: .udp, timers: sharedTimers)
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
        var m = OutgoingTransactionStateMachine(transactionID: 5, transport: .udp, timers: sharedTimers)
        _ = m.start(now: ms(1000), retransmissionTimeout: .milliseconds(500))
        let a = m.replyReceived(now: ms(1120), immAckRequired: false)
        #expect(a == .complete(OutgoingTransactionOutcome(
            roundTripSample: .milliseconds(120), wasRetransmitted: false, pendingCount: 0, ack: .batched)))
        #expect(m.isCompleted)
    }

    @Test("Karn's rule: a retransmitted transaction gives no RTT sample")
    func karn() {
        var m = OutgoingTransactionStateMachine(transactionID: 5, transport: .udp, timers: sharedTimers)
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
        var m = OutgoingTransactionStateMachine(transactionID: 5, transport: .udp, timers: sharedTimers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        guard case .complete(let o) = m.replyReceived(now: ms(50), immAckRequired: true) else {
            Issue.record("expected completion")
            return
        }
        #expect(o.ack == .immediate)
    }

    @Test("Annex D.1.3: a repeated reply after completion is acked again but not delivered twice")
    func duplicateReply() {
        var m = OutgoingTransactionStateMachine(transactionID: 5, transport: .udp, timers: sharedTimers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        _ = m.replyReceived(now: ms(50), immAckRequired: true)
        #expect(m.replyReceived(now: ms(700), immAckRequired: true) == .sendResponseAck(.immediate))
        #expect(m.replyReceived(now: ms(800), immAckRequired: false) == .sendResponseAck(.batched))
    }

    @Test("Annex D.1.3: a completed transaction is forgotten LONG-TIMER after the reply")
    func forget() {
        var m = OutgoingTransactionStateMachine(transactionID: 5, transport: .udp, timers: sharedTimers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        _ = m.replyReceived(now: ms(50), immAckRequired: false)
        #expect(m.nextDeadline == ms(30_050))
        #expect(m.timerFired(now: ms(30_049)) == .none)
        #expect(m.timerFired(now: ms(30_050)) == .forget)
        #expect(m.isFinished)
    }

    @Test("Annex D.1.4: Pending stops normal retransmission; repetition only on the provisional timer")
    func pendingStopsRetransmission() {
        var m = OutgoingTransactionStateMachine(transactionID: 7, transport: .udp, timers: sharedTimers)
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
        var m = OutgoingTransactionStateMachine(transactionID: 7, transport: .udp, timers: sharedTimers)
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
        var m = OutgoingTransactionStateMachine(transactionID: 7, transport: .udp, timers: sharedTimers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        _ = m.pendingReceived(now: ms(80))
        let a = m.replyReceived(now: ms(5000), immAckRequired: false)
        #expect(a == .complete(OutgoingTransactionOutcome(
            roundTripSample: .milliseconds(80), wasRetransmitted: false, pendingCount: 1, ack: .immediate)))
    }

    @Test("Annex D.1.4: Pending after the reply is ignored")
    func pendingAfterReply() {
        var m = OutgoingTransactionStateMachine(transactionID: 7, transport: .udp, timers: sharedTimers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        _ = m.replyReceived(now: ms(80), immAckRequired: false)
        #expect(m.pendingReceived(now: ms(90)) == .none)
        #expect(m.isCompleted)
    }

    @Test("Annex E.2 MGOriginatedPendingLimit: Pending number limit+1 fails the transaction with 506")
    func pendingLimit() {
        var m = OutgoingTransactionStateMachine(transactionID: 8, transport: .udp, timers: sharedTimers)
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
        var m = OutgoingTransactionStateMachine(transactionID: 8, transport: .udp, timers: sharedTimers)
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
        var m = OutgoingTransactionStateMachine(transactionID: 3, transport: transport, timers: sharedTimers)
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
        var m = OutgoingTransactionStateMachine(transactionID: 3, transport: .tcp, timers: sharedTimers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        _ = m.pendingReceived(now: .seconds(20))
        #expect(m.nextDeadline == .seconds(50))
        guard case .complete(let o) = m.replyReceived(now: .seconds(21), immAckRequired: false) else {
            Issue.record("expected completion")
            return
        }
        #expect(o.ack == ResponseAckDisposition.none)
        var n = OutgoingTransactionStateMachine(transactionID: 4, transport: .tcp, timers: sharedTimers)
        _ = n.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        guard case .complete(let p) = n.replyReceived(now: .seconds(1), immAckRequired: true) else {
            Issue.record("expected completion")
            return
        }
        #expect(p.ack == .immediate)
    }

    @Test("Cancel fails an open transaction with .transactionCancelled")
    func cancel() {
        var m = OutgoingTransactionStateMachine(transactionID: 3, transport: .udp, timers: sharedTimers)
        _ = m.start(now: .zero, retransmissionTimeout: .milliseconds(500))
        guard case .fail(let e) = m.cancel() else {
            Issue.record("expected failure")
            return
        }
        #expect(e.code == .transactionCancelled)
        #expect(m.nextDeadline == nil)
    }
}
