// Covers H.248.1 Annex D.1 (one H.248 message per UDP datagram) and TS 29.334 Table 5.12.2 (no
// segmentation over UDP on Iq, so an oversize message fails with H.248.8 533), plus the receive
// buffer guidance of platform-notes §3.1 (NIO truncates datagrams above its allocator size).
import Testing
@testable import H248Client

@Suite("UDP datagram policy (H.248.1 Annex D.1, TS 29.334 Table 5.12.2)")
struct H248DatagramPolicyTests {
    @Test("Annex D.1: maximum message = path MTU - IP - UDP headers (IPv4 1500 → 1472, IPv6 1500 → 1452)")
    func maximumSize() {
        #expect(H248DatagramPolicy().maximumMessageSize == 1472)
        #expect(H248DatagramPolicy(pathMTU: 1500, ipVersion: .v6).maximumMessageSize == 1452)
        #expect(H248DatagramPolicy(pathMTU: 9000).maximumMessageSize == 8972)
        #expect(H248DatagramPolicy(allowIPFragmentation: true).maximumMessageSize == 65_507)
    }

    @Test("TS 29.334 Table 5.12.2: a message over the path MTU fails with 533, one at the limit passes")
    func oversizeIs533() throws {
        let policy = H248DatagramPolicy()
        try policy.checkOutgoing(messageLength: 1472)
        do {
            try policy.checkOutgoing(messageLength: 1473)
            Issue.record("expected messageTooLarge")
        } catch {
            #expect(error.code == .messageTooLarge)
            #expect(error.h248ErrorCode == H248ErrorCodes.responseTooLarge)
            #expect(error.diagnostics.contains("1473"))
            #expect(error.diagnostics.contains("1472"))
        }
    }

    @Test("Annex D.1: empty datagrams are neither sent nor parsed")
    func emptyDatagram() {
        #expect(throws: H248ClientError.self) { try H248DatagramPolicy().checkOutgoing(messageLength: 0) }
        #expect(throws: H248ClientError.self) {
            try H248DatagramPolicy().checkIncoming(datagramLength: 0, receiveBufferSize: 65_536)
        }
    }

    @Test("platform-notes §3.1: a datagram that fills the receive buffer may be truncated and is refused")
    func truncation() throws {
        let policy = H248DatagramPolicy()
        try policy.checkIncoming(datagramLength: 2047, receiveBufferSize: 2048)
        do {
            try policy.checkIncoming(datagramLength: 2048, receiveBufferSize: 2048)
            Issue.record("expected datagramPossiblyTruncated")
        } catch {
            #expect(error.code == .datagramPossiblyTruncated)
        }
        #expect(H248DatagramPolicy.recommendedReceiveBufferSize > 65_507)
    }

    @Test("RFC 791 / RFC 8200: path MTU below the IP minimum is a configuration error")
    func validate() throws {
        try H248DatagramPolicy().validate()
        #expect(throws: H248ClientError.self) { try H248DatagramPolicy(pathMTU: 500).validate() }
        #expect(throws: H248ClientError.self) { try H248DatagramPolicy(pathMTU: 1200, ipVersion: .v6).validate() }
    }
}
