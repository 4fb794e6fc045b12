import Foundation
@testable import ProxyRuntime
import SIPCore
import SIPTransaction
import SIPTransport
import Testing

@Suite("Proxy runtime pure parts")
struct ProxyUnitTests {
    @Test("Listener specs of `pcscf-alg proxy` parse transport:host:port (IPv6 in brackets) and reject junk",
          arguments: [("udp:127.0.0.1:5060", ProxyListenSpec(transport: .udp, host: "127.0.0.1", port: 5060)),
                      ("TCP:[::1]:5070", ProxyListenSpec(transport: .tcp, host: "::1", port: 5070)),
                      ("tls:0.0.0.0:0", ProxyListenSpec(transport: .tls, host: "0.0.0.0", port: 0))])
    func listenSpec(_ text: String, _ expected: ProxyListenSpec) {
        #expect(ProxyListenSpec(parsing: text) == expected)
        #expect(ProxyListenSpec(parsing: expected.description) == expected)
    }

    @Test("Bad listener specs are refused", arguments: ["127.0.0.1:5060", "sctp:127.0.0.1:5060", "udp:127.0.0.1", "udp::5060", "udp:h:70000", "udp:h:-1"])
    func badListenSpec(_ text: String) {
        #expect(ProxyListenSpec(parsing: text) == nil)
    }

    @Test("ACK for a non-2xx: INVITE's Request-URI, top Via, From, Call-ID, Route and CSeq number; the response's To (RFC 3261 §17.1.1.3)")
    func ackForNon2xx() throws {
        let invite = try SIPParser.parse(Array(("INVITE sip:bob@b.test SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKp1\r\n"
            + "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKu1\r\nRoute: <sip:core.test;lr>\r\nMax-Forwards: 69\r\n"
            + "From: <sip:a@a.test>;tag=fa\r\nTo: <sip:bob@b.test>\r\nCall-ID: c1\r\nCSeq: 4 INVITE\r\nContent-Length: 0\r\n\r\n").utf8))
        let busy = try SIPParser.parse(Array(("SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKp1\r\n"
            + "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKu1\r\nFrom: <sip:a@a.test>;tag=fa\r\nTo: <sip:bob@b.test>;tag=tb\r\n"
            + "Call-ID: c1\r\nCSeq: 4 INVITE\r\nContent-Length: 0\r\n\r\n").utf8))
        let ack = try #require(ProxyACKBuilder.ack(invite: invite, response: busy))
        #expect(String(decoding: ack, as: UTF8.self) == "ACK sip:bob@b.test SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKp1\r\n"
            + "Route: <sip:core.test;lr>\r\nFrom: <sip:a@a.test>;tag=fa\r\nCall-ID: c1\r\nTo: <sip:bob@b.test>;tag=tb\r\n"
            + "CSeq: 4 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
        // One Via, the INVITE's branch: the downstream INVITE server transaction matches it (§17.2.3).
        let parsed = try SIPParser.parse(ack)
        #expect(parsed.topVia?.branch == "z9hG4bKp1" && parsed.vias.count == 1)
    }

    @Test("The manual clock only moves when told; the continuous clock is monotonic")
    func clocks() async throws {
        let m = ManualProxyClock()
        #expect(m.now() == .zero)
        m.advance(by: .seconds(2))
        #expect(m.now() == TransactionInstant(sinceOrigin: .seconds(2)))
        let c = ContinuousProxyClock()
        let a = c.now()
        try await c.sleep(until: a + .milliseconds(20))
        #expect(c.now() - a >= .milliseconds(20))
    }
}
