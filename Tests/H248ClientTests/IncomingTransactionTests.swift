// Covers the responder side of H.248.1 Annex D.1.3 / D.1.4 and §8.2.3:
//  - a repeated request answered from the reply cache, never executed twice;
//  - a repeat of a request still executing → Pending, bounded by MGCOriginatedPendingLimit (Annex E.2);
//  - proactive Pending after MGCProvisionalResponseTimerValue;
//  - replies kept for LONG-TIMER; TransactionResponseAck (single ids and ranges) releases them,
//    while the id stays known until LONG-TIMER so late duplicates are not executed;
//  - bounded table: a full table rejects with 510 instead of growing.
import Testing
@testable import H248Client

private var timers: H248TransactionTimers {
    var t = H248TransactionTimers()
    t.longTimer = .seconds(30)
    t.mgcProvisionalResponseTimerValue = .seconds(1)
    t.mgcOriginatedPendingLimit = 2
    return t
}

@Suite("Incoming transactions and reply cache (H.248.1 Annex D.1.3-D.1.4)")
struct IncomingTransactionTests {
    @Test("Annex D.1.3: a new request executes; its repeat is answered from the cache, not executed")
    func duplicateAnsweredFromCache() {
        var table = IncomingTransactionTable<String>(timers: timers)
        #expect(table.requestReceived(transactionID: 10, now: .zero) == .execute)
        #expect(table.replyReady(transactionID: 10, reply: "P=10{...}", now: ms(5)) == .send)
        #expect(table.requestReceived(transactionID: 10, now: ms(600)) == .resendReply("P=10{...}"))
        #expect(table.requestReceived(transactionID: 10, now: ms(1600)) == .resendReply("P=10{...}"))
        #expect(table.cachedReplyCount == 1)
    }

    @Test("Annex D.1.4: a repeat of a request still executing gets Pending, then is ignored past MGCOriginatedPendingLimit")
    func duplicateInProgress() {
        var table = IncomingTransactionTable<String>(timers: timers)
        #expect(table.requestReceived(transactionID: 11, now: .zero) == .execute)
        #expect(table.requestReceived(transactionID: 11, now: ms(500)) == .sendPending)
        #expect(table.requestReceived(transactionID: 11, now: ms(900)) == .sendPending)
        #expect(table.requestReceived(transactionID: 11, now: ms(1300)) == .ignoreDuplicate)
        #expect(table.replyReady(transactionID: 11, reply: "r", now: ms(2000)) == .send)
    }

    @Test("Annex E.2 MGCProvisionalResponseTimerValue: proactive Pending while executing, at most the limit")
    func proactivePending() {
        var table = IncomingTransactionTable<String>(timers: timers)
        _ = table.requestReceived(transactionID: 12, now: .zero)
        _ = table.requestReceived(transactionID: 13, now: ms(300))
        #expect(table.nextDeadline == ms(1000))
        #expect(table.timerFired(now: ms(999)) == [])
        #expect(table.timerFired(now: ms(1000)) == [.sendPending(transactionID: 12)])
        #expect(table.timerFired(now: ms(1300)) == [.sendPending(transactionID: 13)])
        #expect(table.timerFired(now: ms(2300)) == [.sendPending(transactionID: 12), .sendPending(transactionID: 13)])
        // Limit 2 reached for both: no more Pendings.
        #expect(table.timerFired(now: ms(9000)) == [])
    }

    @Test("Annex D.1.3: replies are kept for LONG-TIMER, then forgotten")
    func expiry() {
        var table = IncomingTransactionTable<String>(timers: timers)
        _ = table.requestReceived(transactionID: 20, now: .zero)
        _ = table.replyReady(transactionID: 20, reply: "r20", now: ms(100))
        #expect(table.nextDeadline == ms(30_100))
        #expect(table.requestReceived(transactionID: 20, now: ms(30_099)) == .resendReply("r20"))
        _ = table.timerFired(now: ms(30_100))
        #expect(table.count == 0)
        // After LONG-TIMER the id is new again (the sender cannot still be retransmitting it).
        #expect(table.requestReceived(transactionID: 20, now: ms(30_200)) == .execute)
    }

    @Test("§8.2.3 TransactionResponseAck: releases the kept reply; a late duplicate is then ignored, not executed")
    func ackReleases() {
        var table = IncomingTransactionTable<String>(timers: timers)
        _ = table.requestReceived(transactionID: 30, now: .zero)
        _ = table.replyReady(transactionID: 30, reply: "r30", now: ms(10))
        #expect(table.responseAckReceived([TransactionAckRange(30)], now: ms(50)) == 1)
        #expect(table.cachedReplyCount == 0)
        #expect(table.requestReceived(transactionID: 30, now: ms(60)) == .ignoreDuplicate)
        #expect(table.count == 1)
        _ = table.timerFired(now: ms(30_010))
        #expect(table.count == 0)
    }

    @Test("§8.2.3 TransactionResponseAck ranges K{5001-5003,5007} release exactly the covered replies")
    func ackRanges() throws {
        var table = IncomingTransactionTable<String>(timers: timers)
        for id: UInt32 in 5001...5008 {
            _ = table.requestReceived(transactionID: id, now: .zero)
            _ = table.replyReady(transactionID: id, reply: "r\(id)", now: ms(1))
        }
        let released = table.responseAckReceived(
            [try TransactionAckRange(first: 5001, last: 5003), TransactionAckRange(5007)], now: ms(2))
        #expect(released == 4)
        #expect(table.requestReceived(transactionID: 5004, now: ms(3)) == .resendReply("r5004"))
        #expect(table.requestReceived(transactionID: 5002, now: ms(3)) == .ignoreDuplicate)
        #expect(table.cachedReplyCount == 4)
    }

    @Test("§8.2.3: a very wide ack range walks the table, not the range")
    func wideRange() throws {
        var table = IncomingTransactionTable<String>(timers: timers)
        _ = table.requestReceived(transactionID: 7, now: .zero)
        _ = table.replyReady(transactionID: 7, reply: "r7", now: ms(1))
        #expect(table.responseAckReceived([try TransactionAckRange(first: 1, last: UInt32.max)], now: ms(2)) == 1)
    }

    @Test("Ack for an executing transaction does not drop it; acks for unknown ids are harmless")
    func ackInProgress() {
        var table = IncomingTransactionTable<String>(timers: timers)
        _ = table.requestReceived(transactionID: 40, now: .zero)
        #expect(table.responseAckReceived([TransactionAckRange(40), TransactionAckRange(41)], now: ms(1)) == 0)
        #expect(table.replyReady(transactionID: 40, reply: "r", now: ms(2)) == .send)
    }

    @Test("A reply for an unknown or already answered id is dropped")
    func replyUnknown() {
        var table = IncomingTransactionTable<String>(timers: timers)
        #expect(table.replyReady(transactionID: 99, reply: "x", now: .zero) == .drop)
        _ = table.requestReceived(transactionID: 98, now: .zero)
        _ = table.replyReady(transactionID: 98, reply: "a", now: ms(1))
        #expect(table.replyReady(transactionID: 98, reply: "b", now: ms(2)) == .drop)
        #expect(table.requestReceived(transactionID: 98, now: ms(3)) == .resendReply("a"))
    }

    @Test("Bounded table: when full, a new request is rejected with 510 and not executed")
    func bounded() {
        var table = IncomingTransactionTable<String>(timers: timers, maximumEntries: 2)
        #expect(table.requestReceived(transactionID: 1, now: .zero) == .execute)
        #expect(table.requestReceived(transactionID: 2, now: .zero) == .execute)
        guard case .reject(let e) = table.requestReceived(transactionID: 3, now: .zero) else {
            Issue.record("expected rejection")
            return
        }
        #expect(e.h248ErrorCode == 510)
        // Space comes back after LONG-TIMER.
        _ = table.replyReady(transactionID: 1, reply: "r1", now: ms(1))
        #expect(table.requestReceived(transactionID: 3, now: ms(30_001)) == .execute)
    }
}
