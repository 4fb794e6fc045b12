// Covers the per-peer composition of H.248.1 §8.2.1 (unique ids), Annex D.1.2 (RTT estimate drives
// new transactions), Annex D.1.3 (LONG-TIMER, repeated replies, late replies after failure) and
// §8.2.3 (batched / immediate TransactionResponseAck).
import Testing
@testable import H248Client


@Suite("Outgoing transaction table per peer (H.248.1 §8.2.1, Annex D.1)")
struct OutgoingTransactionTableTests {
    @Test("§8.2.1 + Annex D.1.2: begin allocates unique ids and sends; the RTO comes from the peer's estimator")
    func beginUsesEstimator() throws {
        var t = OutgoingTransactionTable(transport: .udp, timers: sharedTimers)
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
            transport: .udp, timers: sharedTimers, ackBatcher: ResponseAckBatcher(maximumBatchSize: 10, flushDelay: .milliseconds(50)))
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
        var t = OutgoingTransactionTable(transport: .udp, timers: sharedTimers)
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
            transport: .tcp, timers: sharedTimers, allocator: TransactionIDAllocator(range: 1...2))
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
        var t = OutgoingTransactionTable(transport: .udp, timers: sharedTimers, maximumInFlight: 2)
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
