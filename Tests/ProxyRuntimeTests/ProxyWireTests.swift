import ALGTestSupport
import Foundation
@testable import ProxyRuntime
import SIPCore
import SIPTransport
import Testing

/// What the next hop receives, compared line by line with what the UAC sent.
@Suite("Proxy runtime on the wire (RFC 3261 §16.6)")
struct ProxyWireTests {
    static func invite(uacPort: Int, gmPort: Int, branch: String, pad: Int = 0) -> String {
        let body = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
        return "INVITE sip:bob@example.test SIP/2.0\r\n"
            + "Via: SIP/2.0/UDP 127.0.0.1:\(uacPort);branch=\(branch)\r\n"
            + "Route: <sip:127.0.0.1:\(gmPort);lr>\r\n"
            + "Max-Forwards: 70\r\n"
            + "f: \"Alice\" <sip:alice@example.test>;tag=a1\r\n"
            + "t: <sip:bob@example.test>\r\n"
            + "i: wire-\(branch)@test\r\n"
            + "CSeq: 7 INVITE\r\n"
            + "m: <sip:alice@127.0.0.1:\(uacPort)>\r\n"
            + "X-Custom:   spaced   value ,  with, commas\r\n"
            + (pad > 0 ? "X-Pad: \(String(repeating: "x", count: pad))\r\n" : "")
            + "User-Agent: wire-test\r\n"
            + "c: application/sdp\r\n"
            + "l: \(body.utf8.count)\r\n\r\n" + body
    }

    static func split(_ m: String) -> (head: [String], body: String) {
        let parts = m.components(separatedBy: "\r\n\r\n")
        return (parts[0].components(separatedBy: "\r\n"), parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    @Test("The forwarded INVITE differs from the sent one only in Via added, Max-Forwards decremented, Record-Route added, Route removed (RFC 3261 §16.6 steps 3, 4, 8; §16.4)")
    func forwardedBytesOnlyChangeWhereMeant() async throws {
        let uas = LoopbackSocket.udp(), uac = LoopbackSocket.udp()
        let server = try await startProxy(gm: [.udp], mw: [.udp], nextHopURI: "sip:127.0.0.1:\(uas.localPort)")
        defer { Task { await server.shutdown() } }
        let gm = server.port(.gm, .udp), mw = server.port(.mw, .udp)
        let sent = Self.invite(uacPort: uac.localPort, gmPort: gm, branch: "z9hG4bKwire1")
        uac.sendTo(port: gm, Array(sent.utf8))
        let got = try #require(await receive(uas) { $0.hasPrefix("INVITE") })
        let (sh, sb) = Self.split(sent), (gh, gb) = Self.split(got)
        #expect(gb == sb, "body must be byte-identical")
        #expect(gh[0] == sh[0], "request line unchanged")
        // Lines the proxy adds.
        #expect(gh[1].hasPrefix("Via: SIP/2.0/UDP 127.0.0.1:\(mw);branch=z9hG4bK"), "our Via on top: \(gh[1])")
        let rr = gh.filter { $0.hasPrefix("Record-Route:") }
        // Side changes Gm -> Mw: two entries, outbound on top (RFC 5658 §4).
        #expect(rr == ["Record-Route: <sip:127.0.0.1:\(mw);lr>", "Record-Route: <sip:127.0.0.1:\(gm);lr>"], "\(rr)")
        #expect(gh.contains("Max-Forwards: 69"))
        #expect(!gh.contains { $0.hasPrefix("Route:") })
        // Everything else: same lines, same order, same bytes.
        let expected = sh.dropFirst().filter { !$0.hasPrefix("Route:") && !$0.hasPrefix("Max-Forwards:") }
        let rest = gh.dropFirst(2).filter { !$0.hasPrefix("Record-Route:") && !$0.hasPrefix("Max-Forwards:") }
        #expect(Array(rest) == Array(expected), "\n--- sent\n\(sent)\n--- forwarded\n\(got)")
    }

    @Test("A forwarded request over 1300 bytes leaves over TCP from the Mw TCP listener, and its Via says TCP (RFC 3261 §18.1.1)")
    func largeRequestLeavesOverTCP() async throws {
        let uasTCP = LoopbackSocket.tcpListener(), uac = LoopbackSocket.udp()
        let server = try await startProxy(gm: [.udp], mw: [.udp, .tcp], nextHopURI: "sip:127.0.0.1:\(uasTCP.localPort);transport=udp")
        defer { Task { await server.shutdown() } }
        let sent = Self.invite(uacPort: uac.localPort, gmPort: server.port(.gm, .udp), branch: "z9hG4bKbig", pad: 1400)
        uac.sendTo(port: server.port(.gm, .udp), Array(sent.utf8))
        let conn = try #require(await uasTCP.acceptPeer(timeout: 5))
        let bytes = await conn.receive(atLeast: sent.utf8.count, timeout: 5)
        let got = text(bytes)
        #expect(got.hasPrefix("INVITE sip:bob@example.test SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:\(server.port(.mw, .tcp));branch=z9hG4bK"), "\(got.prefix(300))")
        #expect(got.contains("Record-Route: <sip:127.0.0.1:\(server.port(.mw, .tcp));transport=tcp;lr>"))
    }
}
