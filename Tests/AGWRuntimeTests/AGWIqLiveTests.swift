// ims-agw / AGWRuntime over real sockets: driven by an independent MGC (Erlang/OTP megaco,
// Tests/Peers/megaco_mgc.escript), by the real pcscf-alg, and by a raw UDP MGC for the Annex D.1
// reply cache and retransmission rules. Live tools missing: skip with the reason, fail under CI=true.

import AGWRuntime
import ALGTestSupport
import Foundation
import H248Client
import H248Codec
import IMSAGW
import Logging
import Testing

enum Live {
    static func tool(_ name: String, for test: String) -> String? {
        if let p = LiveTool.path(name) { return p }
        if LiveTool.isCI { Issue.record("\(name) is missing and CI=true (\(test))") } else { print("skipping \(test): \(name) not installed") }
        return nil
    }

    /// escript + OTP megaco.
    static func otp(for test: String) -> String? {
        guard let escript = tool("escript", for: test) else { return nil }
        let megaco = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/erlang/lib"))?.contains { $0.hasPrefix("megaco-") } ?? false
        guard megaco else {
            if LiveTool.isCI { Issue.record("erlang-megaco is missing and CI=true (\(test))") } else { print("skipping \(test): erlang-megaco not installed") }
            return nil
        }
        return escript
    }

    static func binary(_ name: String, for test: String) -> String? {
        let path = TestRepository.url(".build/debug/\(name)").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            if LiveTool.isCI { Issue.record("\(path) not built (swift build --build-tests builds it)") } else { print("skipping \(test): \(path) not built") }
            return nil
        }
        return path
    }

    static func stepLine(_ out: String, _ n: Int) -> String {
        out.split(separator: "\n").first { $0.hasPrefix("MGC STEP \(n) ") }.map(String.init) ?? ""
    }
}

@Suite("ims-agw over real sockets (Iq MG side, H.248.1 Annex D)", .serialized)
struct AGWIqLiveTests {
    static let fingerprint = "sha-256 " + (0..<32).map { String(format: "%02X", $0 * 7 % 256) }.joined(separator: ":")

    @Test("OTP megaco MGC drives ims-agw over UDP: 901 registration, Add with $ → port and fingerprint, Modify with Remote, heartbeat Notify, AuditValue, 449 with the value, Subtract, 411, Graceful on SIGTERM")
    func otpMGCOverUDP() async throws {
        guard let escript = Live.otp(for: "otpMGCOverUDP"), let agwPath = Live.binary("ims-agw", for: "otpMGCOverUDP") else { return }
        let mgcPort = LoopbackSocket.freePort()
        let mgc = LiveProcess(escript, [TestRepository.url("Tests/Peers/megaco_mgc.escript").path, "--port", "\(mgcPort)",
                                        "--steps", TestRepository.url("Fixtures/agw/mgc_steps.txt").path, "--linger", "8", "--duration", "40"])
        try mgc.start()
        defer { mgc.stop() }
        #expect(await eventually(timeout: 15) { mgc.stdout.contains("MGC listening") }, "\(mgc.stdout)\(mgc.stderr)")
        let agw = LiveProcess(agwPath, ["--mgc", "udp:127.0.0.1:\(mgcPort)", "--listen", "127.0.0.1:\(LoopbackSocket.freePort())",
                                        "--media-ports", "41000-41099", "--media", "none", "--fingerprint", Self.fingerprint])
        try agw.start()
        defer { agw.stop() }
        #expect(await eventually(timeout: 25) { mgc.stdout.contains("MGC STEP 8 ") }, "MGC:\n\(mgc.stdout)\nAGW:\n\(agw.stderr)")
        let out = mgc.stdout
        #expect(out.contains("SERVICECHANGE method=restart reason=901 Cold Boot version=3 profile=iqprofile/1"))
        // Step 1: Reserve core termination, `$` resolved (H.248.1 §7.1.8).
        #expect(Live.stepLine(out, 1).contains("\"IN IP4 127.0.0.1\""))
        #expect(Live.stepLine(out, 1).contains("\"message 41000 TCP/MSRP *\""))
        // Step 2: a=fingerprint:$ → the media plane's fingerprint (seed 000).
        #expect(Live.stepLine(out, 2).contains("\"fingerprint:\(Self.fingerprint)\""), "\(Live.stepLine(out, 2))")
        #expect(Live.stepLine(out, 2).contains("\"message 41001 TCP/TLS/MSRP *\""))
        #expect(Live.stepLine(out, 3).contains("modReply") && !Live.stepLine(out, 3).contains("ErrorDescriptor"))
        // H.248.36 heartbeat asked with timerx=1 on the core termination.
        #expect(out.contains("MGC NOTIFY term=ip/1 event=hangterm/thb rid=1"))
        // AuditValue Media returns Local and the Remote applied in step 2.
        #expect(Live.stepLine(out, 5).contains("\"IN IP4 10.1.1.10\""))
        // TS 29.334 §5.17.1: 449 with the offending value.
        #expect(Live.stepLine(out, 6).contains("'ErrorDescriptor',449,\"ipnapt/latch=maybe\""), "\(Live.stepLine(out, 6))")
        #expect(Live.stepLine(out, 7).components(separatedBy: "subtractReply").count == 3)
        #expect(Live.stepLine(out, 8).contains("'ErrorDescriptor',411"))
        // SIGTERM: Graceful ServiceChange, then exit 0.
        agw.process.terminate()
        let status = await agw.wait(timeout: 10)
        #expect(status == 0, "\(agw.stderr.suffix(600))")
        #expect(await eventually(timeout: 5) { mgc.stdout.contains("SERVICECHANGE method=graceful reason=905") }, "\(mgc.stdout.suffix(600))")
        // One log line per Iq transaction.
        #expect(await eventually(timeout: 3) { agw.stderr.components(separatedBy: "Iq T=").count - 1 == 7 }, "\(agw.stderr)")
    }

    @Test("OTP megaco MGC over TCP/TPKT (H.248.1 Annex D.2): the MG connects, registers warm (902) with --warm-restart, Add answered")
    func otpMGCOverTCP() async throws {
        guard let escript = Live.otp(for: "otpMGCOverTCP"), let agwPath = Live.binary("ims-agw", for: "otpMGCOverTCP") else { return }
        let mgcPort = LoopbackSocket.freePort()
        let steps = FileManager.default.temporaryDirectory.appendingPathComponent("agw-tcp-steps-\(mgcPort).txt")
        try "Context = $ { Add = $ { Media { Stream = 1 { Local {\nv=0\nc=IN IP4 $\nm=message $ TCP/TLS/BFCP *\na=fingerprint:$\n} } } } }\n"
            .write(to: steps, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: steps) }
        let mgc = LiveProcess(escript, [TestRepository.url("Tests/Peers/megaco_mgc.escript").path, "--port", "\(mgcPort)", "--transport", "tcp",
                                        "--encoding", "compact", "--steps", steps.path, "--linger", "4", "--duration", "30"])
        try mgc.start()
        defer { mgc.stop() }
        #expect(await eventually(timeout: 15) { mgc.stdout.contains("MGC listening") }, "\(mgc.stdout)\(mgc.stderr)")
        let agw = LiveProcess(agwPath, ["--mgc", "tcp:127.0.0.1:\(mgcPort)", "--listen", "127.0.0.1:0", "--encoding", "compact",
                                        "--warm-restart", "--media", "none", "--fingerprint", Self.fingerprint])
        try agw.start()
        defer { agw.stop() }
        #expect(await eventually(timeout: 20) { mgc.stdout.contains("MGC STEP 1 ") }, "MGC:\n\(mgc.stdout)\nAGW:\n\(agw.stderr)")
        #expect(mgc.stdout.contains("SERVICECHANGE method=restart reason=902 Warm Boot"))
        #expect(Live.stepLine(mgc.stdout, 1).contains("TCP/TLS/BFCP"))
        #expect(Live.stepLine(mgc.stdout, 1).contains("\"fingerprint:\(Self.fingerprint)\""))
        agw.process.terminate()
        #expect(await agw.wait(timeout: 10) == 0)
    }

    @Test("The real pcscf-alg (MGC, Iq udp) takes ims-agw's registration; ims-agw exits 0 after Graceful on SIGTERM")
    func pcscfAlgTakesRegistration() async throws {
        guard let pcscf = Live.binary("pcscf-alg", for: "pcscfAlgTakesRegistration"),
              let agwPath = Live.binary("ims-agw", for: "pcscfAlgTakesRegistration") else { return }
        let iqPort = LoopbackSocket.freePort()
        let alg = LiveProcess(pcscf, ["pcscf", "--gm", "udp:127.0.0.1:0", "--mw", "udp:127.0.0.1:0",
                                      "--core-next-hop", "sip:127.0.0.1:\(LoopbackSocket.freePort());lr",
                                      "--iq", "udp:127.0.0.1:\(iqPort)", "--iq-wait", "20"])
        try alg.start()
        defer { alg.stop() }
        #expect(await eventually(timeout: 15) { alg.stderr.contains("Iq: listening") }, "\(alg.stderr)")
        let agw = LiveProcess(agwPath, ["--mgc", "udp:127.0.0.1:\(iqPort)", "--listen", "127.0.0.1:\(LoopbackSocket.freePort())"])
        try agw.start()
        defer { agw.stop() }
        #expect(await eventually(timeout: 20) { alg.stderr.contains("IMS-AGW registered (H.248 version 3)") }, "ALG:\n\(alg.stderr)\nAGW:\n\(agw.stderr)")
        #expect(await eventually(timeout: 5) { agw.stderr.contains("Iq registered with the MGC: version 3") })
        agw.process.terminate()
        #expect(await agw.wait(timeout: 10) == 0)
        #expect(await eventually(timeout: 3) { agw.stderr.contains("Graceful sent, answered") }, "\(agw.stderr)")
    }

    @Test("SCTP towards the MGC (TS 29.334 §5.12: the MG initiates) — skipped where the kernel has no SCTP")
    func sctpInitiation() async throws {
        if let missing = SCTPSocket.probeKernelSupport() {
            print("skipping sctpInitiation: \(missing)")
            return
        }
        let port = LoopbackSocket.freePort()
        let mgc = try H248SCTPTransport.listen(host: "127.0.0.1", port: port, group: .singletonMultiThreadedEventLoopGroup)
        defer { Task { await mgc.close() } }
        let mg = try H248SCTPConnectTransport.connect(host: "127.0.0.1", port: port)
        try mg.send(Array("MEGACO/3 [127.0.0.1]:1\nTransaction = 1 { }".utf8), to: try .init(ipAddress: "127.0.0.1", port: port))
        var got = false
        for await e in mgc.events { if case .message = e { got = true; break } }
        #expect(got)
        await mg.close()
    }
}

/// A raw UDP MGC (the test) against AGWRuntime in process: H.248.1 Annex D.1 rules.
@Suite("AGWRuntime in process: registration retry, reply cache (H.248.1 Annex D.1)", .serialized)
struct AGWRuntimeUDPTests {
    func runtime(mgcPort: Int, listenPort: Int) -> (AGWRuntime, AGWSignallingOnlyMedia) {
        var c = AGWRuntimeConfiguration(mgc: H248ListenAddress(kind: .udp, host: "127.0.0.1", port: mgcPort),
                                        listen: H248ListenAddress(kind: .udp, host: "127.0.0.1", port: listenPort))
        c.registration.initialRetryDelay = .milliseconds(200)
        c.timers.longTimer = .seconds(2)
        c.timers.maximumRetransmissionTimeout = .seconds(1)
        let media = AGWSignallingOnlyMedia(address: "127.0.0.1", ports: 42000...42009, fingerprint: "sha-256 AA:BB")
        return (AGWRuntime(configuration: c, media: media, logger: Logger(label: "test")), media)
    }

    static func transactionID(_ bytes: [UInt8]) -> UInt32? {
        guard let m = try? H248TextParser().parse(bytes: bytes), case .request(let r)? = m.transactions.first else { return nil }
        return r.id
    }

    @Test("Registration is retransmitted until the MGC answers, then a repeated Add is answered from the reply cache, executed once")
    func retryAndReplyCache() async throws {
        let mgc = LoopbackSocket.udp()
        let listen = LoopbackSocket.freePort()
        let (agw, media) = runtime(mgcPort: mgc.localPort, listenPort: listen)
        try await agw.start()
        // The first ServiceChange is ignored: the same transaction comes again (Annex D.1.2) or a new attempt.
        let first = try #require(await mgc.receive(timeout: 5))
        #expect(String(decoding: first, as: UTF8.self).contains("901"))
        let again = try #require(await mgc.receive(timeout: 5))
        let tid = try #require(Self.transactionID(again))
        mgc.sendTo(port: listen, Array("MEGACO/3 [127.0.0.1]:\(mgc.localPort)\nReply = \(tid) { Context = - { ServiceChange = ROOT { Services { Version = 2 } } } }".utf8))
        #expect(await agw.waitUntilRegistered(timeout: .seconds(5)))
        #expect(await agw.negotiatedVersion == 2)
        let add = "MEGACO/2 [127.0.0.1]:\(mgc.localPort)\nTransaction = 77 { Context = $ { Add = $ { Media { Stream = 1 { Local {\nv=0\nc=IN IP4 $\nm=message $ TCP *\n} } } } } }"
        mgc.sendTo(port: listen, Array(add.utf8))
        var replies: [String] = []
        for _ in 0..<20 {
            guard let b = await mgc.receive(timeout: 2) else { break }
            let s = String(decoding: b, as: UTF8.self)
            if s.contains("Reply") && s.contains("77") { replies.append(s); if replies.count == 1 { mgc.sendTo(port: listen, Array(add.utf8)) } }
            if replies.count == 2 { break }
        }
        #expect(replies.count == 2)
        #expect(replies.first == replies.last, "the cached reply is resent byte for byte")
        #expect(replies.first?.contains("m=message 42000 TCP *") == true)
        #expect(await agw.contextCount == 1, "executed once")
        #expect(await agw.answered == 1)
        // A malformed message gets an H.248 error, not a crash (H.248.8 400-series).
        mgc.sendTo(port: listen, Array("MEGACO/3 [127.0.0.1]:1\nTransaction = { Context".utf8))
        // The gateway's TransactionResponseAck for the registration reply (Annex D.1.4) may still arrive first.
        var errText = ""
        for _ in 0..<3 {
            guard let b = await mgc.receive(timeout: 3) else { break }
            errText = String(decoding: b, as: UTF8.self)
            if !errText.contains("TransactionResponseAck") { break }
        }
        #expect(errText.contains("Error = 4"), "\(errText)")
        _ = media
        await agw.shutdown()
    }
}

@Suite("pcscf-alg + ims-agw + SIPp: one e2ae MSRP call signalled through the real gateway (media none)", .serialized)
struct AGWCallSignallingLiveTests {
    @Test("UE (TCP) and S-CSCF (UDP) SIPp: pcscf-alg's Add/Modify/Subtract all answered by ims-agw; the UE sees the gateway's port and fingerprint (TS 23.334 §5.11.2.2)")
    func msrpCallThroughIMSAGW() async throws {
        guard let sipp = Live.tool("sipp", for: "msrpCallThroughIMSAGW"),
              let pcscf = Live.binary("pcscf-alg", for: "msrpCallThroughIMSAGW"),
              let agwPath = Live.binary("ims-agw", for: "msrpCallThroughIMSAGW") else { return }
        let sc = TestRepository.url("Tests/Peers/sipp/pcscf")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("agw-call-\(getpid())-\(LoopbackSocket.freePort())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // The value the shared SIPp UE scenario checks for (the OTP MG's fixed fingerprint).
        let fp = "sha-256 " + Array(repeating: "AB:CD:EF:01:23:45:67:89", count: 4).joined(separator: ":")
        let lab = try await AGWLiveSignalling.start(pcscf: pcscf, agwPath: agwPath,
                                                    agwArguments: ["--media-ports", "41000-41099", "--media", "none", "--fingerprint", fp])
        defer { lab.stop() }
        let agw = lab.agw
        let (ueSipp, coreSipp) = try await lab.startSIPp(sipp, ue: sc.appendingPathComponent("ue_alg_call.xml"),
                                                         core: sc.appendingPathComponent("core_alg_call.xml"), in: dir)
        let ueStatus = await ueSipp.wait(timeout: 40)
        let coreStatus = await coreSipp.wait(timeout: 10)
        let errors = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix("errors.log") }
            .compactMap { try? String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8) }.joined(separator: "\n")
        #expect(ueStatus == 0 && coreStatus == 0, "UE \(String(describing: ueStatus)) core \(String(describing: coreStatus))\n\(errors.prefix(1500))\nAGW:\n\(agw.stderr)")
        let log = agw.stderr
        #expect(log.contains("C=${add=$,add=$} -> ok C=1{add=ip/1,add=ip/2}"), "\(log)")
        #expect(log.contains("C=1{modify=ip/1,modify=ip/2} -> ok"), "\(log)")
        #expect(log.contains("C=1{subtract=*} -> ok C=1{subtract=ip/1,subtract=ip/2}"), "\(log)")
        let ueMessages = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasPrefix("ue_alg_call") && $0.hasSuffix("messages.log") }
            .compactMap { try? String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8) }.joined()
        #expect(ueMessages.contains("a=fingerprint:\(fp)"), "the UE gets the gateway's fingerprint")
    }
}

/// A raw TCP/TPKT MGC (the test) against AGWRuntime: the MG connects (TS 29.334 §5.12 NOTE 1),
/// and when the MGC drops the connection it reconnects and registers again, warm (902).
@Suite("AGWRuntime over TCP/TPKT: connect, association loss, warm re-registration (H.248.1 Annex D.2)", .serialized)
struct AGWRuntimeTCPTests {
    static func tpkt(_ text: String) -> [UInt8] {
        let body = Array(text.utf8)
        let n = body.count + 4
        return [3, 0, UInt8(n >> 8), UInt8(n & 0xFF)] + body
    }

    /// One TPKT payload (RFC 1006 §6) from a stream socket.
    static func readTPKT(_ s: LoopbackSocket) async -> String? {
        let head = await s.receive(atLeast: 4, timeout: 5)
        guard head.count >= 4, head[0] == 3 else { return nil }
        let n = Int(head[2]) << 8 | Int(head[3])
        var body = Array(head.dropFirst(4))
        if body.count < n - 4 { body += await s.receive(atLeast: n - 4 - body.count, timeout: 5) }
        return String(decoding: body.prefix(n - 4), as: UTF8.self)
    }

    @Test("901 on the first connection, 902 after the MGC closed it")
    func reconnectWarm() async throws {
        let listener = LoopbackSocket.tcpListener()
        var c = AGWRuntimeConfiguration(mgc: H248ListenAddress(kind: .tcp, host: "127.0.0.1", port: listener.localPort),
                                        listen: H248ListenAddress(kind: .tcp, host: "127.0.0.1", port: 0))
        c.registration.initialRetryDelay = .milliseconds(100)
        let agw = AGWRuntime(configuration: c, media: AGWSignallingOnlyMedia(address: "127.0.0.1", ports: 43000...43009, fingerprint: "sha-256 AA"),
                             logger: Logger(label: "test"))
        try await agw.start()
        var first: LoopbackSocket? = try #require(await listener.acceptPeer(timeout: 5))
        let sc1 = try #require(await Self.readTPKT(first!))
        #expect(sc1.contains("901"))
        let tid1 = try #require(AGWRuntimeUDPTests.transactionID(Array(sc1.utf8)))
        first!.write(Self.tpkt("MEGACO/3 [127.0.0.1]:1\nReply = \(tid1) { Context = - { ServiceChange = ROOT { Services { Version = 3 } } } }"))
        #expect(await agw.waitUntilRegistered(timeout: .seconds(5)))
        first = nil  // the MGC drops the association
        let second = try #require(await listener.acceptPeer(timeout: 10))
        let sc2 = try #require(await Self.readTPKT(second))
        #expect(sc2.contains("902"), "\(sc2)")
        await agw.shutdown()
    }
}
