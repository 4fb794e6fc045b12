import ALGTestSupport
import Foundation
import NIOCore
@testable import ProxyRuntime
import SIPCore
import SIPTransport
import SIPTransaction
import Testing

/// SIPp UAC → proxy Gm → proxy Mw → SIPp UAS (the next hop), over real loopback sockets.
@Suite("Proxy runtime with SIPp (RFC 3261 §16)", .serialized)
struct ProxySIPpTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var uas: String
        var uac: String
        var kind: SIPTransportKind
        var testDescription: String { "\(name) over \(kind.rawValue)" }
    }

    /// T1 of 2 s: on a loaded CI machine a SIPp peer may answer after 500 ms; a retransmitted INVITE then
    /// reaches a SIPp UAS that already moved on and it aborts the call. Retransmission timing itself is
    /// covered with the manual clock (ProxyTimerTests).
    static let t1: Duration = .seconds(2)

    static let cases: [Case] = [SIPTransportKind.udp, .tcp].flatMap { k in [
        Case(name: "call INVITE/180/200/ACK/BYE, in-dialog by Record-Route (§16.6 step 4, §16.4, §16.12)", uas: "uas_call.xml", uac: "uac_call.xml", kind: k),
        Case(name: "CANCEL after 180: 200 by the proxy, CANCEL down the branch, 487 up (§16.10, §9.1)", uas: "uas_cancel.xml", uac: "uac_cancel.xml", kind: k),
        Case(name: "486: UAS gets the proxy's ACK, UAC's ACK absorbed (§17.1.1.3, §17.2.1)", uas: "uas_486.xml", uac: "uac_486.xml", kind: k),
        Case(name: "2xx retransmission forwarded (§16.7 step 5, RFC 6026 §8)", uas: "uas_call_2xx_twice.xml", uac: "uac_call.xml", kind: k),
    ] }

    @Test("SIPp scenario through the proxy", arguments: cases)
    func scenario(_ c: Case) async throws {
        guard let tools = liveTools(["sipp"], for: "proxy SIPp \(c.uas)") else { return }
        let uasPort = freePort()
        let t = c.kind.rawValue.lowercased()
        let server = try await startProxy(gm: [c.kind], mw: [c.kind], nextHopURI: "sip:127.0.0.1:\(uasPort);transport=\(t)", t1: Self.t1)
        let calls = 5
        let result = try await SIPpPair.run(sipp: tools["sipp"]!, uas: c.uas, uac: c.uac, mode: c.kind == .udp ? "u1" : "t1",
                                             uasPort: uasPort, proxyPort: server.port(.gm, c.kind), calls: calls)
        let counters = await server.counters
        await server.shutdown()
        #expect(result.succeeded, "\(result.description)")
        switch c.uas {
        case "uas_486.xml":
            // The UAC's ACK for the 486 ends at the proxy (RFC 3261 §17.2.1): nothing stateless forwarded.
            #expect(counters.statelessForwards == 0)
        case "uas_call_2xx_twice.xml":
            // 180, 200, 200 again (the retransmission) and the BYE's 200, per call; over UDP SIPp answers a
            // re-sent ACK by re-sending its 200, so there may be more laps (each forwarded).
            #expect(counters.responsesForwarded >= 4 * calls, "\(counters)")
            #expect(counters.statelessForwards >= calls)   // ACK for 2xx (§16.11)
        case "uas_cancel.xml":
            #expect(counters.cancelsReceived == calls)
        default:
            // 180, 200 and the BYE's 200 per call (more if SIPp retransmitted a 200 under load).
            #expect(counters.responsesForwarded >= 3 * calls, "\(counters)")
            #expect(counters.statelessForwards >= calls)
        }
    }

    @Test("A large INVITE (> 1300 bytes) from UDP is forwarded over TCP to a TCP UAS, Via names TCP (RFC 3261 §18.1.1)")
    func udpToTCPSwitch() async throws {
        guard let tools = liveTools(["sipp"], for: "proxy UDP->TCP switch") else { return }
        let uasPort = freePort()
        // The next hop says UDP; the UAS listens on TCP only: only the size rule makes the call work.
        let server = try await startProxy(gm: [.udp], mw: [.udp, .tcp], nextHopURI: "sip:127.0.0.1:\(uasPort);transport=udp", t1: Self.t1)
        let pad = String(repeating: "p", count: 1400)
        // UAC over UDP, UAS over TCP: run them separately (SIPpPair uses one mode).
        let result = try await runMixed(tools["sipp"]!, uasMode: "t1", uacMode: "u1", uasPort: uasPort,
                                        proxyPort: server.port(.gm, .udp), calls: 3, pad: pad)
        let switches = server.transport.counters.udpToTCPSwitches
        let counters = await server.counters
        await server.shutdown()
        #expect(result.succeeded, "\(result.description)")
        #expect(counters.requestsForwarded >= 3)
        // The driver picked the TCP listener itself (Via: SIP/2.0/TCP), so the transport had nothing to switch.
        #expect(switches == 0)
    }

    func runMixed(_ sipp: String, uasMode: String, uacMode: String, uasPort: Int, proxyPort: Int, calls: Int, pad: String) async throws -> SIPpPair {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("proxy-sipp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let sc = SIPpPair.scenarios
        let common = ["-i", "127.0.0.1", "-m", "\(calls)", "-timeout", "15", "-timeout_error", "-nostdin", "-trace_err", "-mi", "127.0.0.1"]
        let uas = LiveProcess(sipp, ["-sf", sc.appendingPathComponent("uas_call.xml").path, "-t", uasMode, "-p", "\(uasPort)", "-mp", "\(freePort(span: 4))"] + common, directory: dir)
        try uas.start()
        _ = await eventually(timeout: 5) { !LoopbackSocket.canBindTCP(port: uasPort) }
        let uac = LiveProcess(sipp, ["-sf", sc.appendingPathComponent("uac_call.xml").path, "-t", uacMode, "-p", "\(freePort())", "-mp", "\(freePort(span: 4))",
                                     "-r", "10", "-key", "pad", pad] + common + ["127.0.0.1:\(proxyPort)"], directory: dir)
        try uac.start()
        let uacStatus = await uac.wait(timeout: 25)
        let uasStatus = await uas.wait(timeout: 5)
        return SIPpPair(uasStatus: uasStatus, uacStatus: uacStatus, uasLog: uas.stderr.suffix(800).description, uacLog: uac.stderr.suffix(800).description)
    }

    @Test("Garbage and truncated messages on Gm (UDP and TCP) while calls run: every call still succeeds (RFC 3261 §16.3, §18.3)")
    func garbageWhileCalling() async throws {
        guard let tools = liveTools(["sipp"], for: "proxy garbage") else { return }
        let uasPort = freePort()
        let server = try await startProxy(gm: [.udp, .tcp], mw: [.udp], nextHopURI: "sip:127.0.0.1:\(uasPort);transport=udp", t1: Self.t1)
        let gmUDP = server.port(.gm, .udp), gmTCP = server.port(.gm, .tcp)
        let junk = Task.detached { await sendGarbage(udpPort: gmUDP, tcpPort: gmTCP, rounds: 30) }
        let result = try await SIPpPair.run(sipp: tools["sipp"]!, uas: "uas_call.xml", uac: "uac_call.xml", mode: "u1",
                                             uasPort: uasPort, proxyPort: gmUDP, calls: 20, rate: 10)
        let sent = await junk.value
        let t = server.transport.counters
        let counters = await server.counters
        await server.shutdown()
        #expect(result.succeeded, "\(result.description)")
        #expect(sent > 0)
        #expect(t.malformedAnswered + t.malformedDropped + t.framingErrors > 0, "\(t)")
        #expect(counters.responsesForwarded >= 3 * 20)
    }

    @Test("TLS on Gm through a socat shim (SIPp has no TLS): calls succeed (RFC 3261 §26.3.1, §18.2.2)")
    func tlsShim() async throws {
        guard let tools = liveTools(["sipp", "socat"], for: "proxy TLS shim") else { return }
        let uasPort = freePort()
        let server = try await startProxy(gm: [.tls], mw: [.udp], nextHopURI: "sip:127.0.0.1:\(uasPort);transport=udp", t1: Self.t1)
        let shimPort = freePort()
        let shim = LiveProcess(tools["socat"]!, ["TCP-LISTEN:\(shimPort),reuseaddr,bind=127.0.0.1",
                                                 "OPENSSL:127.0.0.1:\(server.port(.gm, .tls)),verify=0"])
        try shim.start()
        defer { shim.stop() }
        #expect(await eventually(timeout: 5) { !LoopbackSocket.canBindTCP(port: shimPort) })
        // UAC over TCP into socat; the UAS on UDP behind Mw.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("proxy-sipp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let sc = SIPpPair.scenarios, sipp = tools["sipp"]!
        let common = ["-i", "127.0.0.1", "-m", "5", "-timeout", "15", "-timeout_error", "-nostdin", "-trace_err", "-mi", "127.0.0.1"]
        let uas = LiveProcess(sipp, ["-sf", sc.appendingPathComponent("uas_call.xml").path, "-t", "u1", "-p", "\(uasPort)", "-mp", "\(freePort(span: 4))"] + common, directory: dir)
        try uas.start()
        _ = await eventually(timeout: 5) { !LoopbackSocket.canBindUDP(port: uasPort) }
        let uac = LiveProcess(sipp, ["-sf", sc.appendingPathComponent("uac_call.xml").path, "-t", "t1", "-p", "\(freePort())", "-mp", "\(freePort(span: 4))",
                                     "-r", "10", "-key", "pad", "x"] + common + ["127.0.0.1:\(shimPort)"], directory: dir)
        try uac.start()
        let uacStatus = await uac.wait(timeout: 25)
        let uasStatus = await uas.wait(timeout: 5)
        let t = server.transport.counters
        await server.shutdown()
        #expect(uacStatus == 0 && uasStatus == 0, "uac=\(String(describing: uacStatus)) uas=\(String(describing: uasStatus)) \(uac.stderr.suffix(500)) \(uas.stderr.suffix(500))")
        #expect(t.connectionsAccepted >= 1 && t.tlsHandshakeFailures == 0, "\(t)")
    }

    @Test("The built binary `pcscf-alg proxy` runs SIPp's built-in uac/uas calls and exits 0 on SIGTERM")
    func binary() async throws {
        guard let tools = liveTools(["sipp"], for: "pcscf-alg proxy binary") else { return }
        let binary = TestRepository.url(".build/debug/pcscf-alg").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            if LiveTool.isCI { Issue.record("\(binary) not built (swift build --build-tests builds it)") } else { print("skipping: \(binary) not built") }
            return
        }
        let uasPort = freePort()
        let proxy = LiveProcess(binary, ["proxy", "--gm", "udp:127.0.0.1:0", "--gm", "tcp:127.0.0.1:0", "--mw", "udp:127.0.0.1:0",
                                         "--next-hop", "sip:127.0.0.1:\(uasPort);transport=udp", "--log-level", "warning"])
        try proxy.start()
        defer { proxy.stop() }
        #expect(await eventually(timeout: 20) { proxy.stderr.contains("pcscf-alg proxy listening") }, "\(proxy.stderr)")
        // "gm=udp:127.0.0.1:PORT"
        let line = proxy.stderr.split(separator: "\n").first { $0.contains("pcscf-alg proxy listening") } ?? ""
        let gm = line.split(separator: " ").first { $0.hasPrefix("gm=udp:") }.flatMap { ProxyListenSpec(parsing: String($0.dropFirst(3))) }
        let gmPort = try #require(gm?.port)
        let result = try await SIPpPair.run(sipp: tools["sipp"]!, uas: "-sn uas", uac: "-sn uac", mode: "u1", uasPort: uasPort,
                                             proxyPort: gmPort, calls: 10, rate: 20)
        #expect(result.succeeded, "\(result.description)")
        proxy.process.terminate()
        let status = await proxy.wait(timeout: 10)
        #expect(status == 0, "exit \(String(describing: status)): \(proxy.stderr.suffix(800))")
        // --log-level warning: no per-message lines.
        #expect(!proxy.stderr.contains(" info "))
    }
}

/// Sends junk, truncated and malformed SIP to the proxy's Gm listeners. Returns how many it sent.
func sendGarbage(udpPort: Int, tcpPort: Int, rounds: Int) async -> Int {
    let udp = LoopbackSocket.udp()
    var rng = SplitMix64(seed: 7)
    var sent = 0
    let truncated = "INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKjunk\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: junk\r\nCSeq: 1 INV"
    let badLength = "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKjunk2\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: junk2\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 999\r\n\r\nshort"
    let noVia = "BYE sip:bob@127.0.0.1 SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: junk3\r\nCSeq: 1 BYE\r\n\r\n"
    let strayResponse = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKnotours\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>;tag=2\r\nCall-ID: stray\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    for i in 0..<rounds {
        var random = [UInt8](repeating: 0, count: 20 + rng.below(600))
        for j in random.indices { random[j] = UInt8(truncatingIfNeeded: rng.next()) }
        udp.sendTo(port: udpPort, random)
        udp.sendTo(port: udpPort, Array(truncated.utf8))
        udp.sendTo(port: udpPort, Array(badLength.utf8))
        udp.sendTo(port: udpPort, Array(noVia.utf8))
        udp.sendTo(port: udpPort, Array(strayResponse.utf8))
        sent += 5
        if i % 5 == 0, let tcp = try? LoopbackSocket.tcpConnect(port: tcpPort) {
            tcp.write(truncated)          // never completed; the connection is closed under it
            tcp.write(random)
            sent += 1
        }
        try? await Task.sleep(nanoseconds: 50_000_000)
    }
    return sent
}
