import ALGTestSupport
import Foundation
import NIOCore
import SIPCore
import Testing
@testable import SIPTransport

@Suite("SIPTransport over loopback sockets", .serialized)
struct SIPTransportSocketTests {

    @Test("UDP: a 5000-byte datagram is received and sent back untruncated (platform-notes §3.1, RFC 3261 §18.1.1)")
    func udpLargeDatagramRoundTrip() async throws {
        let service = try await makeService([(.gm, .udp)])
        defer { Task { try? await service.shutdown() } }
        let inbound = InboundCollector(service)
        let peer = TestSocket.udp()
        let body = String(repeating: "0123456789", count: 500)
        let sent = Array(request(body: body).utf8)
        #expect(sent.count > 5000)  // well over NIO's 2048-byte default allocator
        let port = try #require(service.listener(side: .gm, transport: .udp)).port
        peer.sendTo(port: port, sent)

        let m = try await inbound.wait(for: 1)[0]
        #expect(m.side == .gm && m.transport == .udp)
        #expect(Array(m.message.body) == Array(body.utf8))
        #expect(m.remote.port == peer.localPort)
        #expect(m.local.port == port)

        let reply = SIPResponseBuilder.response(to: m.message, status: 200, reason: "OK", toTag: "x",
                                                extraHeaders: [("X-Pad", String(repeating: "p", count: 5000))])
        let result = try await service.send(reply, to: .flow(m.flow))
        #expect(result.transport == .udp)
        let got = try #require(await peer.receive(timeout: 5))
        #expect(got == reply)
        #expect(got.count > 5000)
    }

    @Test("UDP vector reads: a back-to-back burst of large and small datagrams all arrive whole (platform-notes §3.1, RFC 3261 §18.1.2)")
    func udpVectorReadBurstUntruncated() async throws {
        // NIO's recvmmsg path slices one buffer into equal slots and cuts a longer datagram silently:
        // each slot must hold any UDP payload.
        #expect(SIPTransportLimits.udpVectorReadBufferBytes / SIPTransportLimits.udpVectorReadMessageCount
                >= SIPTransportLimits.udpReceiveBufferBytes)
        #expect(SIPTransportLimits.udpReceiveBufferBytes > SIPTransportLimits.udpMaxDatagramBytes)
        let service = try await makeService([(.gm, .udp)])
        defer { Task { try? await service.shutdown() } }
        let inbound = InboundCollector(service)
        let peer = TestSocket.udp()
        let port = try #require(service.listener(side: .gm, transport: .udp)).port
        // Larger than 1/8 of a single-datagram buffer (8 KiB) and than any slot a smaller buffer would give.
        let large = String(repeating: "0123456789", count: 4_000)
        var bodies: [String] = []
        for i in 0..<(2 * SIPTransportLimits.udpVectorReadMessageCount) {
            bodies.append(i % 2 == 0 ? large : "small-\(i)")
        }
        for (i, body) in bodies.enumerated() {
            peer.sendTo(port: port, Array(request(callID: "burst-\(i)", body: body).utf8))
        }
        let got = try await inbound.wait(for: bodies.count)
        #expect(got.count == bodies.count)
        for (i, body) in bodies.enumerated() {
            let m = try #require(got.first { $0.message.callID == "burst-\(i)" })
            #expect(Array(m.message.body) == Array(body.utf8))
            #expect(m.remote.port == peer.localPort)
        }
        #expect(service.counters.malformedDropped == 0 && service.counters.malformedAnswered == 0)
    }

    @Test("TCP framing: two messages in one write, and one drip-fed byte by byte (RFC 3261 §18.3)")
    func tcpFraming() async throws {
        let service = try await makeService([(.mw, .tcp)])
        defer { Task { try? await service.shutdown() } }
        let inbound = InboundCollector(service)
        let port = try #require(service.listener(side: .mw, transport: .tcp)).port
        let client = try TestSocket.tcpConnect(port: port)
        let via = "SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-a"
        client.write(request(via: via, callID: "one", body: "first") + request(via: via, callID: "two"))
        let two = try await inbound.wait(for: 2)
        #expect(two.map { $0.message.callID } == ["one", "two"])
        #expect(String(decoding: two[0].message.body, as: UTF8.self) == "first")
        #expect(two.allSatisfy { $0.side == .mw && $0.transport == .tcp && $0.flow == two[0].flow })

        for byte in Array(request(via: via, callID: "drip", body: "slow").utf8) {
            client.write([byte])
            try await Task.sleep(nanoseconds: 200_000)
        }
        let all = try await inbound.wait(for: 3)
        #expect(all[2].message.callID == "drip")
        #expect(String(decoding: all[2].message.body, as: UTF8.self) == "slow")
        #expect(service.counters.framingErrors == 0)
    }

    @Test("RFC 5626 §3.5.1: a CRLFCRLF ping on a stream is answered with a CRLF pong")
    func keepAlivePingPong() async throws {
        let service = try await makeService([(.gm, .tcp)])
        defer { Task { try? await service.shutdown() } }
        let client = try TestSocket.tcpConnect(port: try #require(service.listener(side: .gm, transport: .tcp)).port)
        client.write("\r\n\r\n")
        #expect(await client.receive(atLeast: 2, timeout: 5) == [0x0D, 0x0A])
        #expect(service.counters.keepAlivePings == 1)
        #expect(await client.receive(timeout: 0.3) == nil)   // nothing more than the pong
    }

    @Test("RFC 3261 §18.2.2: the response goes back over the TCP connection the request came in on")
    func replyOverSameConnection() async throws {
        let service = try await makeService([(.gm, .tcp)])
        defer { Task { try? await service.shutdown() } }
        _ = TestResponder(service)
        let client = try TestSocket.tcpConnect(port: try #require(service.listener(side: .gm, transport: .tcp)).port)
        client.write(request(method: "REGISTER", via: "SIP/2.0/TCP 10.9.9.9:5060;branch=z9hG4bK-r"))
        let got = await client.receive(atLeast: 20, timeout: 5).text
        #expect(got.hasPrefix("SIP/2.0 200 OK\r\n"))
        #expect(got.contains("CSeq: 1 REGISTER"))
        #expect(service.openConnectionCount == 1)
        #expect(service.counters.connectionsOpened == 0)    // no new outgoing connection was made
    }

    @Test("RFC 3261 §18.2.1 received and RFC 3581 §4 rport are stamped on the top Via of requests")
    func viaStamping() async throws {
        let service = try await makeService([(.gm, .udp)])
        defer { Task { try? await service.shutdown() } }
        let inbound = InboundCollector(service)
        let port = try #require(service.listener(side: .gm, transport: .udp)).port
        let peer = TestSocket.udp()
        // sent-by is a name (differs from the source IP) and rport is requested.
        peer.sendTo(port: port, Array(request(via: "SIP/2.0/UDP ue.example.net:5060;rport;branch=z9hG4bK-v1",
                                              callID: "v1").utf8))
        // sent-by equals the source IP and no rport: nothing changes.
        let plain = request(via: "SIP/2.0/UDP 127.0.0.1:\(peer.localPort);branch=z9hG4bK-v2", callID: "v2")
        peer.sendTo(port: port, Array(plain.utf8))
        let ms = try await inbound.wait(for: 2)
        let stamped = try #require(ms.first { $0.message.callID == "v1" }?.message)
        let via = try #require(stamped.topVia)
        #expect(via.received == "127.0.0.1")
        #expect(via.rport == .value(peer.localPort))
        #expect(via.branch == "z9hG4bK-v1")
        #expect(stamped.bytes.text.contains("Via: SIP/2.0/UDP ue.example.net:5060;rport=\(peer.localPort);branch=z9hG4bK-v1;received=127.0.0.1\r\n"))
        let untouched = try #require(ms.first { $0.message.callID == "v2" }?.message)
        #expect(untouched.bytes == Array(plain.utf8))
    }

    @Test("RFC 3261 §18.1.1: a message over the UDP limit goes out over TCP; a small one stays on UDP")
    func oversizeGoesOverTCP() async throws {
        let service = try await makeService([(.mw, .udp)], udpMax: 1300)
        defer { Task { try? await service.shutdown() } }
        let listener = TestSocket.tcpListener()
        let peerUDP = TestSocket.udp()
        let big = Array(request(body: String(repeating: "b", count: 1500)).utf8)
        let tcpTarget = try SocketAddress(ipAddress: "127.0.0.1", port: listener.localPort)
        let r1 = try await service.send(big, to: .address(tcpTarget, transport: .udp, side: .mw))
        #expect(r1.transport == .tcp)
        #expect(r1.flow.connectionID != nil)
        let conn = try #require(await listener.acceptPeer(timeout: 5))
        #expect(await conn.receive(atLeast: big.count, timeout: 5) == big)
        #expect(service.counters.udpToTCPSwitches == 1)
        // A second large message reuses the open connection (connection table keyed by flow).
        let r2 = try await service.send(big, to: .address(tcpTarget, transport: .udp, side: .mw))
        #expect(r2.flow == r1.flow)
        #expect(await conn.receive(atLeast: big.count, timeout: 5) == big)
        #expect(service.counters.connectionsOpened == 1)
        // What the peer sends back on that outgoing connection arrives on the same flow, Mw side.
        let inbound = InboundCollector(service)
        let answer = try SIPParser.parse(big)
        conn.write(SIPResponseBuilder.response(to: answer, status: 200, reason: "OK", toTag: "p"))
        let back = try await inbound.wait(for: 1)[0]
        #expect(back.flow == r1.flow && back.side == .mw && back.transport == .tcp)
        #expect(back.message.statusCode == 200)
        // A datagram over the IPv4 UDP payload ceiling is refused on a datagram flow.
        await #expect(throws: SIPTransportError.messageTooLarge(70_000)) {
            try await service.send([UInt8](repeating: 0x41, count: 70_000),
                                   to: .flow(SIPFlowToken(.datagram(listener: 0, remote: tcpTarget))))
        }

        let small = Array(request().utf8)
        let udpTarget = try SocketAddress(ipAddress: "127.0.0.1", port: peerUDP.localPort)
        let r3 = try await service.send(small, to: .address(udpTarget, transport: .udp, side: .mw))
        #expect(r3.transport == .udp)
        #expect(await peerUDP.receive(timeout: 5) == small)
        #expect(service.transport(forMessageOf: 1301, requested: .udp) == .tcp)
        #expect(service.transport(forMessageOf: 1300, requested: .udp) == .udp)
    }

    @Test("RFC 3261 §21.4.1: a malformed request with a readable head gets a 400 on UDP; junk is dropped and counted")
    func garbageHandling() async throws {
        let service = try await makeService([(.gm, .udp)])
        defer { Task { try? await service.shutdown() } }
        let inbound = InboundCollector(service)
        let port = try #require(service.listener(side: .gm, transport: .udp)).port
        let peer = TestSocket.udp()
        // §8.1.1.5: the CSeq method must match the request method.
        let bad = request(method: "INVITE", callID: "bad").replacingOccurrences(of: "CSeq: 1 INVITE", with: "CSeq: 1 BYE")
        peer.sendTo(port: port, Array(bad.utf8))
        let answer = try #require(await peer.receive(timeout: 5)).text
        #expect(answer.hasPrefix("SIP/2.0 400 "))
        #expect(answer.contains("Call-ID: bad\r\n"))
        #expect(answer.contains("To: <sip:bob@example.net>;tag=bad1\r\n"))
        #expect(service.counters.malformedAnswered == 1)

        peer.sendTo(port: port, [0x00, 0xFF] + Array("hello, this is not SIP\r\n\r\n".utf8))
        #expect(await eventually { service.counters.malformedDropped == 1 })
        #expect(await peer.receive(timeout: 0.3) == nil)
        // A malformed response is never answered either (RFC 3261 §18.3 / §16.7).
        peer.sendTo(port: port, Array("SIP/2.0 200 OK\r\nVia: x\r\n\r\n".utf8))
        #expect(await eventually { service.counters.malformedDropped == 2 })
        #expect(await peer.receive(timeout: 0.3) == nil)
        #expect(inbound.messages.isEmpty)

        // The listener still works afterwards.
        peer.sendTo(port: port, Array(request(callID: "good").utf8))
        #expect(try await inbound.wait(for: 1)[0].message.callID == "good")
    }

    @Test("Stream framing error (no Content-Length, RFC 3261 §18.3): 400 when the head allows, else dropped; the connection closes")
    func streamFramingError() async throws {
        let service = try await makeService([(.gm, .tcp)])
        defer { Task { try? await service.shutdown() } }
        let client = try TestSocket.tcpConnect(port: try #require(service.listener(side: .gm, transport: .tcp)).port)
        client.write("OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n")
        #expect(await client.closedByPeer(timeout: 5))
        #expect(service.counters.framingErrors == 1)
        #expect(service.counters.malformedDropped == 1)

        // A complete head without Content-Length: answered with 400 (RFC 3261 §18.3, §21.4.1), then closed.
        let second = try TestSocket.tcpConnect(port: try #require(service.listener(side: .gm, transport: .tcp)).port)
        let noLength = request(via: "SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-nl", callID: "nolen")
            .replacingOccurrences(of: "Content-Length: 0\r\n", with: "")
        second.write(noLength + "trailing junk that must not be parsed")
        let answer = await second.receive(atLeast: 20, timeout: 5).text
        #expect(answer.hasPrefix("SIP/2.0 400 "))
        #expect(answer.contains("Call-ID: nolen\r\n"))
        #expect(await second.closedByPeer(timeout: 5))
        #expect(service.counters.framingErrors == 2)
        #expect(service.counters.malformedAnswered == 1)
    }

    @Test("Per-connection buffer bound (SIPParseLimits.maxHeaderBlockBytes, RFC 3261 §21.5.14): an endless head closes the connection")
    func perConnectionBufferBound() async throws {
        let service = try await makeService([(.gm, .tcp)])
        defer { Task { try? await service.shutdown() } }
        let client = try TestSocket.tcpConnect(port: try #require(service.listener(side: .gm, transport: .tcp)).port)
        client.write("OPTIONS sip:x SIP/2.0\r\nX-Long: ")
        let filler = [UInt8](repeating: 0x61, count: 4096)
        for _ in 0..<(SIPParseLimits.maxHeaderBlockBytes / filler.count + 1) { client.write(filler) }
        #expect(await client.closedByPeer(timeout: 5))
        #expect(service.counters.framingErrors == 1)
        #expect(service.counters.malformedDropped == 1)
        #expect(await eventually { service.openConnectionCount == 0 })
    }

    @Test("Connection limit: connections over maxConnections are refused and counted")
    func connectionLimit() async throws {
        let service = try await makeService([(.gm, .tcp)], maxConnections: 2)
        defer { Task { try? await service.shutdown() } }
        let port = try #require(service.listener(side: .gm, transport: .tcp)).port
        let a = try TestSocket.tcpConnect(port: port)
        let b = try TestSocket.tcpConnect(port: port)
        // Make sure both are registered before the third arrives.
        a.write("\r\n\r\n"); b.write("\r\n\r\n")
        #expect(await a.receive(atLeast: 2, timeout: 5) == [0x0D, 0x0A])
        #expect(await b.receive(atLeast: 2, timeout: 5) == [0x0D, 0x0A])
        let c = try TestSocket.tcpConnect(port: port)
        #expect(await c.closedByPeer(timeout: 5))
        #expect(service.counters.connectionsRefused == 1)
        #expect(service.openConnectionCount == 2)
        // Outgoing connections count against the same limit.
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: TestSocket.tcpListener().localPort)
        await #expect(throws: SIPTransportError.connectionLimit(2)) {
            try await service.send([0x0D, 0x0A, 0x0D, 0x0A], to: .address(target, transport: .tcp, side: .gm))
        }
    }

    @Test("Back-pressure: a connection whose peer does not read becomes congested instead of queueing without bound")
    func congestion() async throws {
        let service = try await makeService([(.mw, .tcp)])
        defer { Task { try? await service.shutdown() } }
        let listener = TestSocket.tcpListener()
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: listener.localPort)
        let chunk = [UInt8](repeating: 0x41, count: 64 << 10)
        var sent = 0
        var congested = false
        while sent < 2_000, !congested {      // 125 MiB at most: far above kernel buffers + the high mark
            do { try await service.send(chunk, to: .address(target, transport: .tcp, side: .mw)); sent += 1 }
            catch SIPTransportError.congested { congested = true }
            if sent % 16 == 0 { try await Task.sleep(nanoseconds: 1_000_000) }
        }
        #expect(congested)
        #expect(sent > 0)
        let peer = try #require(await listener.acceptPeer(timeout: 5))
        // Draining the peer makes the connection writable again.
        _ = await peer.receive(atLeast: sent * chunk.count, timeout: 10)
        var writable = false
        for _ in 0..<200 where !writable {
            writable = (try? await service.send(chunk, to: .address(target, transport: .tcp, side: .mw))) != nil
            if !writable { try await Task.sleep(nanoseconds: 10_000_000) }
        }
        #expect(writable)
    }

    @Test("Idle stream connections are reaped after the configured idle timeout")
    func idleReaping() async throws {
        let service = try await makeService([(.gm, .tcp)], idle: .milliseconds(300))
        defer { Task { try? await service.shutdown() } }
        let client = try TestSocket.tcpConnect(port: try #require(service.listener(side: .gm, transport: .tcp)).port)
        client.write("\r\n\r\n")
        #expect(await client.receive(atLeast: 2, timeout: 5) == [0x0D, 0x0A])
        #expect(service.openConnectionCount == 1)
        #expect(await client.closedByPeer(timeout: 5))
        #expect(service.counters.connectionsReaped == 1)
        #expect(await eventually { service.openConnectionCount == 0 })
    }

    @Test("Gm and Mw listener sets: each inbound message carries the side of the listener it came in on")
    func sidesAreKept() async throws {
        let service = try await makeService([(.gm, .udp), (.mw, .udp)])
        defer { Task { try? await service.shutdown() } }
        let inbound = InboundCollector(service)
        let peer = TestSocket.udp()
        peer.sendTo(port: try #require(service.listener(side: .gm, transport: .udp)).port, Array(request(callID: "g").utf8))
        _ = try await inbound.wait(for: 1)
        peer.sendTo(port: try #require(service.listener(side: .mw, transport: .udp)).port, Array(request(callID: "m").utf8))
        let ms = try await inbound.wait(for: 2)
        #expect(ms.map { "\($0.message.callID ?? "")\($0.side)" } == ["ggm", "mmw"])
    }
}

@Suite("SIPTransportConfiguration")
struct SIPTransportConfigurationTests {
    @Test("validate() rejects out-of-range limits before anything is bound")
    func validation() async throws {
        let l = [SIPListenerConfiguration(side: .gm, transport: .udp, host: "127.0.0.1", port: 0)]
        #expect(throws: Never.self) { try SIPTransportConfiguration(listeners: l).validate() }
        #expect(throws: SIPTransportConfigurationError.self) { try SIPTransportConfiguration(listeners: []).validate() }
        #expect(throws: SIPTransportConfigurationError.self) { try SIPTransportConfiguration(listeners: l, udpMaxMessageBytes: 70_000).validate() }
        #expect(throws: SIPTransportConfigurationError.self) { try SIPTransportConfiguration(listeners: l, maxConnections: 0).validate() }
        #expect(throws: SIPTransportConfigurationError.self) { try SIPTransportConfiguration(listeners: l, idleTimeout: .zero).validate() }
        let service = SIPTransportService(configuration: SIPTransportConfiguration(listeners: l, maxConnections: 0))
        await #expect(throws: SIPTransportConfigurationError.self) { try await service.start() }
        #expect(service.listeners.isEmpty)
        try? await service.shutdown()
    }
}

@Suite("SIPViaStamp (pure)")
struct SIPViaStampTests {
    @Test("RFC 3581 §4: rport value set and received added even when the host matches; existing received replaced")
    func stampRules() throws {
        let m = try SIPParser.parse(Array(request(via: "SIP/2.0/UDP 10.0.0.1:5060 ; received=1.1.1.1;rport; branch=z9hG4bKx").utf8))
        let out = try #require(SIPViaStamp.stamp(m, sourceIP: "10.0.0.1", sourcePort: 4000))
        #expect(out.text.contains("Via: SIP/2.0/UDP 10.0.0.1:5060 ; received=10.0.0.1;rport=4000; branch=z9hG4bKx\r\n"))
        let m2 = try SIPParser.parse(Array(request(via: "SIP/2.0/UDP [::1]:5060;branch=z9hG4bKy").utf8))
        #expect(SIPViaStamp.stamp(m2, sourceIP: "::1", sourcePort: 1) == nil)
    }
}
