import AGWMedia
import ALGTestSupport
import Foundation
import NIOCore
import NIOSSL
import Testing

/// Real sockets on 127.0.0.1. TS 23.334 §5.11.2.2 (seed 000, IMS-AGW duties), TR 29.828 §5.1.1.2.4 (seed 003),
/// TS 23.334 §6.2.10.3.2 (seed 004), TS 33.328 Annex M (seed 002).
@Suite("AGWMedia: MediaPlane over real sockets", .serialized)
struct MediaPlaneTests {
    let ue = try! TLSIdentity.generate(commonName: "ue.test")

    /// The MSRP exchange both ways: UE→core SEND + 200 OK, core→UE SEND + 200 OK.
    func msrpBothWays(ue: TestPeer, core: LoopbackSocket, tag: String) async throws {
        let uePath = "msrps://127.0.0.1:1/ue;tcp", corePath = "msrp://127.0.0.1:2/core;tcp"
        try await ue.send(msrpSend("u\(tag)", to: corePath, from: uePath, body: "hello core \(tag)"))
        let atCore = await core.readUntil("-------u\(tag)$\r\n")
        #expect(atCore.contains("MSRP u\(tag) SEND") && atCore.contains("hello core \(tag)"))
        core.write(msrpOK("u\(tag)", to: uePath, from: corePath))
        #expect(await ue.buffer.waitFor("MSRP u\(tag) 200 OK"))
        core.write(msrpSend("c\(tag)", to: uePath, from: corePath, body: "hello ue \(tag)"))
        #expect(await ue.buffer.waitFor("hello ue \(tag)\r\n-------c\(tag)$"))
        try await ue.send(msrpOK("c\(tag)", to: corePath, from: uePath))
        let okAtCore = await core.readUntil("-------c\(tag)$\r\n")
        #expect(okAtCore.contains("MSRP c\(tag) 200 OK"))
    }

    @Test("Proxy mode (TS 23.334 §5.16 interlinkage): UE TLS accept on access triggers the core SYN; MSRP crosses both ways; key log written")
    func proxyTriggerTLSToTCP() async throws {
        let keylog = FileManager.default.temporaryDirectory.appendingPathComponent("agw-keylog-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: keylog) }
        let plane = try makePlane(keyLog: keylog)
        let events = EventLog(plane)
        let coreListener = LoopbackSocket.tcpListener()
        let access = key("access"), core = key("core")
        let la = try await plane.allocate(MediaAllocation(key: access, transport: .tls, bindHost: "127.0.0.1", setup: .passive, wantsFingerprint: true))
        _ = try await plane.allocate(MediaAllocation(key: core, transport: .tcp, bindHost: "127.0.0.1", setup: .active))
        #expect(la.fingerprint?.hashFunction == "sha-256")
        try await plane.configure(access, remote: MediaRemote(host: "127.0.0.1", port: 9, setup: .active, fingerprint: ue.fingerprint), establishTLS: nil)
        try await plane.configure(core, remote: MediaRemote(host: "127.0.0.1", port: coreListener.localPort, setup: .passive), establishTLS: nil)
        try await plane.interconnect(access, core, mode: .proxy)
        // State-aware: no SYN towards the core before the UE connected.
        #expect(await coreListener.acceptPeer(timeout: 0.3) == nil)
        let uePeer = try await tlsConnect(port: la.port, config: ueTLS(ue, server: false), expectGateway: la.fingerprint)
        let coreSock = try #require(await coreListener.acceptPeer(timeout: 5))
        #expect(await events.wait { $0 == .connected(access) } != nil)
        #expect(await events.wait { $0 == .connected(core) } != nil)
        try await msrpBothWays(ue: uePeer, core: coreSock, tag: "1")
        let stats = await plane.statistics()
        #expect(stats.tlsHandshakes >= 1 && stats.bytesRelayed > 0 && stats.openConnections == 2)
        let log = (try? String(contentsOfFile: keylog, encoding: .utf8)) ?? ""
        #expect(log.contains("CLIENT_") || log.contains("SERVER_"))
        try await uePeer.channel.close()
        #expect(await coreSock.closedByPeer(timeout: 5))
        #expect(await events.wait { $0 == .bearerReleased(access) } != nil)
        await plane.shutdown()
    }

    @Test("TS 23.334 §5.11.2.2: a UE certificate not matching the Remote fingerprint is refused; tlsFailed; the core TCP is released")
    func wrongCertificateRefused() async throws {
        let plane = try makePlane()
        let events = EventLog(plane)
        let coreListener = LoopbackSocket.tcpListener()
        let access = key("access"), core = key("core")
        let la = try await plane.allocate(MediaAllocation(key: access, transport: .tls, bindHost: "127.0.0.1", setup: .passive, wantsFingerprint: true))
        _ = try await plane.allocate(MediaAllocation(key: core, transport: .tcp, bindHost: "127.0.0.1", setup: .active))
        try await plane.configure(access, remote: MediaRemote(host: "127.0.0.1", port: 9, fingerprint: ue.fingerprint), establishTLS: nil)
        try await plane.configure(core, remote: MediaRemote(host: "127.0.0.1", port: coreListener.localPort), establishTLS: nil)
        try await plane.interconnect(access, core, mode: .proxy)
        let intruder = try TLSIdentity.generate(commonName: "intruder.test")
        let peer = try await tlsConnect(port: la.port, config: ueTLS(intruder, server: false), expectGateway: la.fingerprint)
        let coreSock = try #require(await coreListener.acceptPeer(timeout: 5))
        let failed = await events.wait { if case .tlsFailed(access, _) = $0 { return true }; return false }
        #expect(failed != nil)
        if case let .tlsFailed(_, reason)? = failed { #expect(reason.contains("mismatch")) }
        #expect(await coreSock.closedByPeer(timeout: 5))
        #expect(await eventually { peer.buffer.isClosed })
        #expect(!events.all.contains(.connected(access)))
        await plane.shutdown()
    }

    @Test("Seed 004 step 12: the handshake starts before the fingerprint is known; verification waits for the late Configure")
    func lateFingerprint() async throws {
        let plane = try makePlane()
        let events = EventLog(plane)
        let access = key("access"), core = key("core")
        let la = try await plane.allocate(MediaAllocation(key: access, transport: .tls, bindHost: "127.0.0.1", setup: .passive, wantsFingerprint: true))
        let lc = try await plane.allocate(MediaAllocation(key: core, transport: .tcp, bindHost: "127.0.0.1", setup: .passive))
        try await plane.interconnect(access, core, mode: .merge)
        let uePeer = try await tlsConnect(port: la.port, config: ueTLS(ue, server: false), expectGateway: la.fingerprint)
        try await Task.sleep(for: .milliseconds(400))
        #expect(!events.all.contains(.connected(access)))
        try await plane.configure(access, remote: MediaRemote(host: "127.0.0.1", port: 9, fingerprint: ue.fingerprint), establishTLS: nil)
        #expect(await events.wait { $0 == .connected(access) } != nil)
        let coreSock = try LoopbackSocket.tcpConnect(port: lc.port)
        #expect(await events.wait { $0 == .connected(core) } != nil)
        try await msrpBothWays(ue: uePeer, core: coreSock, tag: "late")
        await plane.shutdown()
    }

    @Test("Seed 004 step 12: no fingerprint within tlsVerifyTimeout → tlsFailed")
    func fingerprintNeverArrives() async throws {
        let plane = try makePlane(verifyTimeout: .milliseconds(300))
        let events = EventLog(plane)
        let access = key("access")
        let la = try await plane.allocate(MediaAllocation(key: access, transport: .tls, bindHost: "127.0.0.1", setup: .passive, wantsFingerprint: true))
        _ = try await tlsConnect(port: la.port, config: ueTLS(ue, server: false), expectGateway: la.fingerprint)
        let failed = await events.wait { if case .tlsFailed(access, _) = $0 { return true }; return false }
        if case let .tlsFailed(_, reason)? = failed { #expect(reason.contains("timeout")) } else { Issue.record("no tlsFailed") }
        await plane.shutdown()
    }

    @Test("TR 29.828 §5.1.1.2.4: Establish-TLS makes the gateway TLS client on its own (active) connection; the core SYN is the trigger")
    func gatewayAsTLSClient() async throws {
        let plane = try makePlane()
        let events = EventLog(plane)
        let access = key("access"), core = key("core")
        let la = try await plane.allocate(MediaAllocation(key: access, transport: .tls, bindHost: "127.0.0.1", setup: .active, wantsFingerprint: true))
        let lc = try await plane.allocate(MediaAllocation(key: core, transport: .tcp, bindHost: "127.0.0.1", setup: .passive))
        let server = try await tlsListen(config: ueTLS(ue, server: true), expectGateway: la.fingerprint)
        let uePort = try #require(server.listener.localAddress?.port)
        try await plane.configure(access, remote: MediaRemote(host: "127.0.0.1", port: uePort, setup: .passive, fingerprint: ue.fingerprint), establishTLS: .client)
        try await plane.interconnect(access, core, mode: .proxy)
        try await Task.sleep(for: .milliseconds(200))
        #expect(server.channel.channel == nil)   // waits for the trigger
        let coreSock = try LoopbackSocket.tcpConnect(port: lc.port)
        #expect(await events.wait { $0 == .connected(access) } != nil)
        let ch = try #require(server.channel.channel)
        try await msrpBothWays(ue: TestPeer(channel: ch, buffer: server.accepted), core: coreSock, tag: "client")
        try await server.listener.close()
        await plane.shutdown()
    }

    @Test("TS 23.334 §5.16 TCP merge: server on both sides, the two connections joined; a close releases the other side")
    func mergeMode() async throws {
        let plane = try makePlane(perStream: true)
        let events = EventLog(plane)
        let access = key("access"), core = key("core")
        let la = try await plane.allocate(MediaAllocation(key: access, transport: .tls, bindHost: "127.0.0.1", setup: .passive, wantsFingerprint: true))
        let lc = try await plane.allocate(MediaAllocation(key: core, transport: .tcp, bindHost: "127.0.0.1", setup: .passive))
        try await plane.configure(access, remote: MediaRemote(host: "127.0.0.1", port: 9, fingerprint: ue.fingerprint), establishTLS: nil)
        try await plane.interconnect(access, core, mode: .merge)
        let coreSock = try LoopbackSocket.tcpConnect(port: lc.port)
        // Data sent before the other side is up is held (bounded) and delivered once joined.
        coreSock.write("early\r\n")
        let uePeer = try await tlsConnect(port: la.port, config: ueTLS(ue, server: false), expectGateway: la.fingerprint)
        #expect(await uePeer.buffer.waitFor("early\r\n"))
        try await msrpBothWays(ue: uePeer, core: coreSock, tag: "m")
        // Core closes after data flowed: the access TLS connection is closed and both report bearerReleased.
        coreSock.shutdownBoth()
        #expect(await eventually { uePeer.buffer.isClosed })
        #expect(await events.wait { $0 == .bearerReleased(core) } != nil)
        #expect(await events.wait { $0 == .bearerReleased(access) } != nil)
        await plane.shutdown()
    }

    @Test("TS 23.334 §5.11.2.1 e2e passthrough (tcp↔tcp); core `actpass` with unknown peer role connects only on the access trigger")
    func tcpPassthroughActpassTrigger() async throws {
        let plane = try makePlane()
        let events = EventLog(plane)
        let coreListener = LoopbackSocket.tcpListener()
        let access = key("access"), core = key("core")
        let la = try await plane.allocate(MediaAllocation(key: access, transport: .tcp, bindHost: "127.0.0.1", setup: .passive))
        _ = try await plane.allocate(MediaAllocation(key: core, transport: .tcp, bindHost: "127.0.0.1", setup: .actpass))
        try await plane.configure(core, remote: MediaRemote(host: "127.0.0.1", port: coreListener.localPort), establishTLS: nil)
        try await plane.interconnect(access, core, mode: .proxy)
        #expect(await coreListener.acceptPeer(timeout: 0.3) == nil)
        let ue = try LoopbackSocket.tcpConnect(port: la.port)
        let coreSock = try #require(await coreListener.acceptPeer(timeout: 5))
        ue.write("opaque TLS bytes from the UE")
        #expect(await coreSock.readUntil("from the UE") == "opaque TLS bytes from the UE")
        coreSock.write("and back")
        #expect(await ue.readUntil("back") == "and back")
        #expect(await events.wait { $0 == .connected(core) } != nil)
        await plane.release(access)
        await plane.release(core)
        #expect(await plane.statistics().terminations == 0)
        await plane.shutdown()
    }

    @Test("Back-pressure: 2 MiB across the relay with a 16 KiB buffer bound arrive intact")
    func bulkWithBackPressure() async throws {
        let plane = try makePlane(maxBuffered: 16 * 1024)
        let access = key("access"), core = key("core")
        let la = try await plane.allocate(MediaAllocation(key: access, transport: .tls, bindHost: "127.0.0.1", setup: .passive, wantsFingerprint: true))
        let lc = try await plane.allocate(MediaAllocation(key: core, transport: .tcp, bindHost: "127.0.0.1", setup: .passive))
        try await plane.configure(access, remote: MediaRemote(host: "127.0.0.1", port: 9, fingerprint: ue.fingerprint), establishTLS: nil)
        try await plane.interconnect(access, core, mode: .merge)
        let coreSock = try LoopbackSocket.tcpConnect(port: lc.port)
        let uePeer = try await tlsConnect(port: la.port, config: ueTLS(ue, server: false), expectGateway: la.fingerprint)
        var payload = [UInt8](repeating: 0, count: 2 * 1024 * 1024)
        var rng = SplitMix64(seed: 7)
        for i in payload.indices { payload[i] = UInt8(truncatingIfNeeded: rng.next()) }
        try await uePeer.channel.writeAndFlush(ByteBuffer(bytes: payload))
        let got = await coreSock.receive(atLeast: payload.count, timeout: 20)
        #expect(got.count == payload.count)
        #expect(got == payload)
        await plane.shutdown()
    }

    @Test("TS 33.328 Annex M: a TLS 1.1 client is refused (TLS 1.2/1.3 only) → tlsFailed")
    func tls11Refused() async throws {
        let plane = try makePlane()
        let events = EventLog(plane)
        let access = key("access")
        let la = try await plane.allocate(MediaAllocation(key: access, transport: .tls, bindHost: "127.0.0.1", setup: .passive, wantsFingerprint: true))
        try await plane.configure(access, remote: MediaRemote(host: "127.0.0.1", port: 9, fingerprint: ue.fingerprint), establishTLS: nil)
        _ = try await tlsConnect(port: la.port, config: ueTLS(ue, server: false, maxVersion: .tlsv11), expectGateway: la.fingerprint)
        #expect(await events.wait { if case .tlsFailed(access, _) = $0 { return true }; return false } != nil)
        #expect(!events.all.contains(.connected(access)))
        await plane.shutdown()
    }

    @Test("TCP connect failure of the gateway's own SYN → tcpFailed")
    func connectFailure() async throws {
        let plane = try makePlane()
        let events = EventLog(plane)
        let a = key("a"), b = key("b")
        let closed = LoopbackSocket.freePort()
        _ = try await plane.allocate(MediaAllocation(key: a, transport: .tcp, bindHost: "127.0.0.1", setup: .passive))
        _ = try await plane.allocate(MediaAllocation(key: b, transport: .tcp, bindHost: "127.0.0.1", setup: .active))
        try await plane.configure(b, remote: MediaRemote(host: "127.0.0.1", port: closed), establishTLS: nil)
        try await plane.interconnect(a, b, mode: .merge)
        #expect(await events.wait { if case .tcpFailed(b, _) = $0 { return true }; return false } != nil)
        await plane.shutdown()
    }

    @Test("H.248.37 latching + RTP/RTCP relay over UDP: first source kept, others dropped; RTCP on port+1")
    func udpLatchingRelay() async throws {
        let plane = try makePlane(ports: 12)
        let a = key("rtpA"), b = key("rtpB")
        let la = try await plane.allocate(MediaAllocation(key: a, transport: .udp, bindHost: "127.0.0.1"))
        let lb = try await plane.allocate(MediaAllocation(key: b, transport: .udp, bindHost: "127.0.0.1"))
        #expect(la.port % 2 == 0 && lb.port % 2 == 0)
        let peerA = LoopbackSocket.udp(), peerB = LoopbackSocket.udp(), stranger = LoopbackSocket.udp()
        let peerARtcp = LoopbackSocket.udp(), peerBRtcp = try #require(LoopbackSocket.udp(port: peerB.localPort + 1) ?? Optional(LoopbackSocket.udp()))
        try await plane.configure(a, remote: MediaRemote(host: "127.0.0.1", port: 9), establishTLS: nil)
        try await plane.configure(b, remote: MediaRemote(host: "127.0.0.1", port: peerB.localPort), establishTLS: nil)
        try await plane.interconnect(a, b, mode: .proxy)
        peerA.sendTo(port: la.port, [0x80, 0, 0, 1, 1, 2, 3])
        #expect(await peerB.receive(timeout: 3) == [0x80, 0, 0, 1, 1, 2, 3])
        // B answers: goes to A's latched source (not the configured port 9).
        peerB.sendTo(port: lb.port, [0x80, 0, 0, 2])
        #expect(await peerA.receive(timeout: 3) == [0x80, 0, 0, 2])
        // A different source on A is dropped (latched).
        stranger.sendTo(port: la.port, [0x80, 9, 9, 9])
        #expect(await peerB.receive(timeout: 0.3) == nil)
        // RTCP: A's RTCP socket latches on port+1; B's RTCP goes to B's remote port + 1 when free.
        peerARtcp.sendTo(port: la.port + 1, [0x81, 0xC8])
        if peerBRtcp.localPort == peerB.localPort + 1 {
            #expect(await peerBRtcp.receive(timeout: 3) == [0x81, 0xC8])
        }
        #expect(await plane.statistics().droppedDatagrams >= 1)
        await plane.shutdown()
    }

    @Test("Remote source filtering (H.248.43 / TS 23.334 §5.8): another source is rejected (TCP and UDP)")
    func sourceFiltering() async throws {
        let plane = try makePlane(ports: 12)
        let t = key("tcp"), u = key("udp"), u2 = key("udp2"), t2 = key("tcp2")
        let lt = try await plane.allocate(MediaAllocation(key: t, transport: .tcp, bindHost: "127.0.0.1", setup: .passive))
        _ = try await plane.allocate(MediaAllocation(key: t2, transport: .tcp, bindHost: "127.0.0.1", setup: .passive))
        let lu = try await plane.allocate(MediaAllocation(key: u, transport: .udp, bindHost: "127.0.0.1"))
        _ = try await plane.allocate(MediaAllocation(key: u2, transport: .udp, bindHost: "127.0.0.1"))
        let peer2 = LoopbackSocket.udp()
        try await plane.configure(t, remote: MediaRemote(host: "127.0.0.2", port: 5000, filterSource: true), establishTLS: nil)
        try await plane.configure(u, remote: MediaRemote(host: "127.0.0.2", port: 5000, filterSource: true), establishTLS: nil)
        try await plane.configure(u2, remote: MediaRemote(host: "127.0.0.1", port: peer2.localPort), establishTLS: nil)
        try await plane.interconnect(t, t2, mode: .merge)
        try await plane.interconnect(u, u2, mode: .proxy)
        let s = try LoopbackSocket.tcpConnect(port: lt.port)   // from 127.0.0.1
        #expect(await s.closedByPeer(timeout: 3))
        let sender = LoopbackSocket.udp()
        sender.sendTo(port: lu.port, [1, 2, 3])
        #expect(await peer2.receive(timeout: 0.3) == nil)
        let stats = await plane.statistics()
        #expect(stats.rejectedConnections >= 1 && stats.droppedDatagrams >= 1)
        await plane.shutdown()
    }

    @Test("Port pool bounded: exhaustion → noPortAvailable (H.248.8 510); release frees the port")
    func poolExhaustion() async throws {
        let plane = try makePlane(ports: 2)
        let k1 = key("1"), k2 = key("2"), k3 = key("3")
        _ = try await plane.allocate(MediaAllocation(key: k1, transport: .tcp, bindHost: "127.0.0.1", setup: .passive))
        _ = try await plane.allocate(MediaAllocation(key: k2, transport: .tcp, bindHost: "127.0.0.1", setup: .active))
        await #expect(throws: MediaError.noPortAvailable) {
            _ = try await plane.allocate(MediaAllocation(key: k3, transport: .tcp, bindHost: "127.0.0.1", setup: .passive))
        }
        #expect(MediaError.noPortAvailable.h248ErrorCode == 510)
        await #expect(throws: MediaError.unknownTermination(k3)) {
            try await plane.configure(k3, remote: nil, establishTLS: .client)
        }
        await plane.release(k1)
        _ = try await plane.allocate(MediaAllocation(key: k3, transport: .tcp, bindHost: "127.0.0.1", setup: .passive))
        #expect(await plane.statistics().terminations == 2)
        await plane.shutdown()
    }
}

@Suite("AGWMedia: certificate fingerprints (RFC 8122 §5)")
struct FingerprintTests {
    @Test("RFC 8122 §5: our SHA-256 fingerprint equals `openssl x509 -fingerprint -sha256` of the same DER")
    func matchesOpenSSL() throws {
        guard let openssl = LiveTool.path("openssl") else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("openssl missing under CI") }
            return
        }
        let id = try TLSIdentity.generate(commonName: "fp.test")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("agw-fp-\(UUID().uuidString).der")
        try Data(id.der).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let out = try runProcess(openssl, ["x509", "-inform", "DER", "-in", file.path, "-noout", "-fingerprint", "-sha256"])
        let hex = try #require(out.split(separator: "=").last).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.fingerprint.sdpValue == "sha-256 " + hex)
    }

    @Test("RFC 8122 §5 parsing: case-insensitive hash name, upper-case output, length checked", arguments: [
        ("SHA-256 " + Array(repeating: "ab", count: 32).joined(separator: ":"), true),
        ("sha-1 " + Array(repeating: "0F", count: 20).joined(separator: ":"), true),
        ("sha-256 " + Array(repeating: "AB", count: 31).joined(separator: ":"), false),
        ("md5 " + Array(repeating: "AB", count: 16).joined(separator: ":"), false),
        ("sha-256 ZZ" + String(repeating: ":AB", count: 31), false),
        ("sha-256", false),
        ("sha-256 +F" + String(repeating: ":AB", count: 31), false),
        ("", false),
    ])
    func parse(_ value: String, _ valid: Bool) {
        let fp = try? CertificateFingerprint(sdpValue: value)
        #expect((fp != nil) == valid)
        if let fp {
            #expect(fp.sdpValue == value.lowercased().prefix(while: { $0 != " " }) + " " + value.split(separator: " ")[1].uppercased())
            #expect((try? CertificateFingerprint(sdpValue: fp.sdpValue)) == fp)
        }
    }

    @Test("Per-gateway certificate: every tls allocation returns the same fingerprint; per-stream: distinct")
    func certificateScope() async throws {
        let shared = try makePlane()
        let a = try await shared.allocate(MediaAllocation(key: key("a"), transport: .tls, bindHost: "127.0.0.1", setup: .passive, wantsFingerprint: true))
        let b = try await shared.allocate(MediaAllocation(key: key("b"), transport: .tls, bindHost: "127.0.0.1", setup: .passive, wantsFingerprint: true))
        #expect(a.fingerprint != nil && a.fingerprint == b.fingerprint)
        let c = try await shared.allocate(MediaAllocation(key: key("c"), transport: .tcp, bindHost: "127.0.0.1", setup: .passive, wantsFingerprint: true))
        #expect(c.fingerprint == nil)
        await shared.shutdown()
        let per = try makePlane(perStream: true)
        let d = try await per.allocate(MediaAllocation(key: key("d"), transport: .tls, bindHost: "127.0.0.1", setup: .passive, wantsFingerprint: true))
        let e = try await per.allocate(MediaAllocation(key: key("e"), transport: .tls, bindHost: "127.0.0.1", setup: .passive, wantsFingerprint: true))
        #expect(d.fingerprint != nil && e.fingerprint != nil && d.fingerprint != e.fingerprint)
        await per.shutdown()
    }
}
