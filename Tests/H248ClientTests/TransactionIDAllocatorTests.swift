// Covers H.248.1 §8.2.1: transaction ids unique within the sender, never 0, wrapping safely at the
// top of the range and skipping ids still in use.
import Testing
@testable import H248Client

@Suite("Transaction id allocation (H.248.1 §8.2.1)")
struct TransactionIDAllocatorTests {
    @Test("§8.2.1: ids are unique among those in use and start at 1 (0 never used)")
    func unique() throws {
        var a = TransactionIDAllocator()
        #expect(try a.allocate() == 1)
        #expect(try a.allocate() == 2)
        var z = TransactionIDAllocator(range: 0...5)
        #expect(try z.allocate() == 1)
    }

    @Test("§8.2.1: wraps from the top of the range to the bottom, skipping ids still in use")
    func wrapSkip() throws {
        var a = TransactionIDAllocator(range: 1...4, first: 3)
        #expect(try a.allocate() == 3)
        #expect(try a.allocate() == 4)
        #expect(try a.allocate() == 1)
        a.release(4)
        #expect(try a.allocate() == 2)
        #expect(try a.allocate() == 4)
        #expect(throws: H248ClientError.self) { try a.allocate() }
        a.release(3)
        #expect(try a.allocate() == 3)
    }

    @Test("§8.2.1: wrapping at UInt32.max does not trap")
    func wrapAtMax() throws {
        var a = TransactionIDAllocator(first: UInt32.max)
        #expect(try a.allocate() == UInt32.max)
        #expect(try a.allocate() == 1)
    }
}
