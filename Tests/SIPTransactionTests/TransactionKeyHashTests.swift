// The server transaction table is keyed by what the peer chose (RFC 3261 §17.2.3: branch, sent-by,
// method), so its hash must spread keys that share a branch: otherwise one peer could fill the table
// with colliding keys (same branch, other sent-by or method) and make every lookup a long probe.

import Testing

@testable import SIPTransaction

@Suite("Transaction key hashing (RFC 3261 §17.2.3 matching keys under peer control)")
struct TransactionKeyHashTests {
    @Test("Server keys with one branch and different sent-by or method hash apart (§17.2.3)")
    func serverKeysSharingABranchSpread() {
        let branch = "z9hG4bK-same-branch"
        var keys: [ServerTransactionKey] = []
        for i in 0..<64 {
            keys.append(ServerTransactionKey(branch: branch, sentBy: ViaSentBy(host: "h\(i).example", port: 5060), method: .options))
            keys.append(ServerTransactionKey(branch: branch, sentBy: ViaSentBy(host: "h.example", port: 5060),
                                             method: TransactionMethod("M\(i)")))
        }
        #expect(Set(keys).count == 128)
        // Seeded SipHash: 128 distinct keys give 128 distinct hash values (a branch-only hash gives 1).
        #expect(Set(keys.map(\.hashValue)).count == 128)
    }

    @Test("A server key equals only the same branch, sent-by and method (ACK counts as INVITE, §17.2.3)")
    func serverKeyEquality() {
        let via = ViaSentBy(host: "ue.example", port: 5060)
        #expect(ServerTransactionKey(branch: "z9hG4bKa", sentBy: via, method: .ack)
                == ServerTransactionKey(branch: "z9hG4bKa", sentBy: via, method: .invite))
        #expect(ServerTransactionKey(branch: "z9hG4bKa", sentBy: via, method: .bye)
                != ServerTransactionKey(branch: "z9hG4bKa", sentBy: ViaSentBy(host: "ue.example", port: 5061), method: .bye))
    }
}
