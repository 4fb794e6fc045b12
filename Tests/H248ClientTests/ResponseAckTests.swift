// Covers H.248.1 §8.2.3 TransactionResponseAck (ranges `K{5001-5003,5007}`, specs.md §11.2) and
// Annex D.1.3 ack batching: flush deadline, maximum batch size, immediate acks, piggybacking.
import Testing
@testable import H248Client

@Suite("TransactionResponseAck batching (H.248.1 §8.2.3, Annex D.1.3)")
struct ResponseAckTests {
    @Test("specs.md §11.2: ids coalesce into ranges K{5001-5003,5007}")
    func coalesce() {
        let r = TransactionAckRange.coalesce([5007, 5002, 5001, 5003, 5002])
        #expect(r.map(\.description) == ["5001-5003", "5007"])
        #expect(TransactionAckRange.coalesce([UInt32.max, 0, UInt32.max - 1]).map(\.description) == ["0", "4294967294-4294967295"])
    }

    @Test("§8.2.3: a descending range is malformed (H.248.8 403)")
    func descending() {
        do {
            _ = try TransactionAckRange(first: 9, last: 3)
            Issue.record("expected invalidAckRange")
        } catch {
            #expect(error.code == .invalidAckRange)
            #expect(error.h248ErrorCode == 403)
        }
    }

    @Test("Annex D.1.3: batched acks wait for the flush deadline")
    func flushDeadline() {
        var b = ResponseAckBatcher(maximumBatchSize: 10, flushDelay: .milliseconds(100))
        #expect(b.add(1, disposition: .batched, now: .zero) == .armTimer(ms(100)))
        #expect(b.add(2, disposition: .batched, now: ms(40)) == .armTimer(ms(100)))
        #expect(b.timerFired(now: ms(99)) == .none)
        #expect(b.timerFired(now: ms(100)) == .send([try! TransactionAckRange(first: 1, last: 2)]))
        #expect(b.pendingCount == 0)
        #expect(b.deadline == nil)
    }

    @Test("Annex D.1.3: a full batch is sent at once")
    func maxBatch() {
        var b = ResponseAckBatcher(maximumBatchSize: 3, flushDelay: .seconds(1))
        _ = b.add(10, disposition: .batched, now: .zero)
        _ = b.add(12, disposition: .batched, now: .zero)
        #expect(b.add(11, disposition: .batched, now: .zero) == .send([try! TransactionAckRange(first: 10, last: 12)]))
    }

    @Test("§8.2.3 ImmAckRequired: an immediate ack flushes with everything collected")
    func immediate() {
        var b = ResponseAckBatcher()
        _ = b.add(5, disposition: .batched, now: .zero)
        #expect(b.add(9, disposition: .immediate, now: ms(1)) == .send([TransactionAckRange(5), TransactionAckRange(9)]))
        #expect(b.add(4, disposition: .none, now: ms(2)) == .none)
        #expect(b.pendingCount == 0)
    }

    @Test("Annex D.1.3: collected acks can be piggybacked on an outgoing message")
    func piggyback() {
        var b = ResponseAckBatcher()
        #expect(b.takeForPiggyback() == [])
        _ = b.add(5, disposition: .batched, now: .zero)
        #expect(b.takeForPiggyback() == [TransactionAckRange(5)])
        #expect(b.timerFired(now: .seconds(1)) == .none)
    }
}
