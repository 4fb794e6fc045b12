// Graceful shutdown of the P-CSCF: while draining, new dialog-creating requests get 503 with
// Retry-After (RFC 3261 §21.5.4, §20.33) and in-dialog requests pass; the drain ends when the
// dialogs are gone or at its deadline; then a ServiceChange (Graceful, H.248.1 §7.2.8) goes to the
// gateway. Live: SIPp call up, SIGTERM to the binary, new INVITE 503, BYE passes, exit 0.
#if canImport(Glibc)
import Glibc
#endif
import ALGTestSupport
import Foundation
import H248Client
import H248Codec
import Logging
import ProxyRuntime
import SIPCore
import SIPProxy
import SIPTransport
import Testing
@testable import ALGServer

@Suite("pcscf-alg graceful shutdown (503 Retry-After, drain, ServiceChange)", .serialized)
struct PCSCFShutdownTests {
    static func message(_ text: String) throws -> SIPMessage {
        try SIPParser.parse(Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8))
    }

    static func invite(toTag: String? = nil, callID: String = "d1") -> String {
        """
        INVITE sip:bob@ims.test SIP/2.0
        Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-\(callID)-\(toTag ?? "i")
        Max-Forwards: 70
        From: <sip:alice@ims.test>;tag=a1
        To: <sip:bob@ims.test>\(toTag.map { ";tag=\($0)" } ?? "")
        Call-ID: \(callID)
        CSeq: 1 INVITE
        Contact: <sip:alice@127.0.0.1:5999;transport=tcp>
        Content-Length: 0


        """
    }

    /// Sends `text` over TCP and returns the first final (non-1xx) response, skipping 100 Trying.
    static func finalAnswer(port: Int, _ text: String, timeout: Double = 8) async -> String {
        await LoopbackSocket.tcpExchange(port: port, text, timeout: timeout) { received in
            received.components(separatedBy: "\r\n\r\n").dropLast()
                .first { $0.hasPrefix("SIP/2.0 ") && !$0.hasPrefix("SIP/2.0 1") }.map { $0 + "\r\n\r\n" }
        }
    }

    @Test("Draining refuses only new dialog-creating requests (INVITE, SUBSCRIBE, REFER without To tag) with 503 and Retry-After (RFC 3261 §21.5.4, §20.33)")
    func drainStateRejections() throws {
        let state = PCSCFDrainState()
        let initial = try Self.message(Self.invite())
        #expect(state.rejection(for: initial) == nil, "not draining yet")
        state.beginDraining(retryAfterSeconds: 17)
        let reject = try #require(state.rejection(for: initial))
        #expect(reject.status == 503 && reject.extraHeaders == [ProxyHeaderLine("Retry-After", "17")])
        #expect(state.rejection(for: try Self.message(Self.invite(toTag: "b1"))) == nil, "a re-INVITE is in-dialog")
        let bye = try Self.message(Self.invite(toTag: "b1").replacingOccurrences(of: "INVITE", with: "BYE"))
        #expect(state.rejection(for: bye) == nil)
        let subscribe = try Self.message(Self.invite().replacingOccurrences(of: "INVITE", with: "SUBSCRIBE"))
        #expect(state.rejection(for: subscribe)?.status == 503)
        let message = try Self.message(Self.invite().replacingOccurrences(of: "INVITE", with: "MESSAGE"))
        #expect(state.rejection(for: message) == nil, "MESSAGE creates no dialog")
    }

    @Test("Dialogs are counted from the 2xx to an initial INVITE and end with the final response to their BYE")
    func dialogCount() {
        let state = PCSCFDrainState()
        state.dialogConfirmed(callID: "c1")
        state.dialogConfirmed(callID: "c2")
        #expect(state.dialogCount == 2)
        state.byeForwarded(ProxyRequestID(rawValue: 9), callID: "c1")
        #expect(state.dialogCount == 2, "the BYE's answer has not gone back yet")
        state.requestCompleted(ProxyRequestID(rawValue: 8))
        #expect(state.dialogCount == 2)
        state.requestCompleted(ProxyRequestID(rawValue: 9))
        #expect(state.dialogCount == 1)
    }

    static func startService() async throws -> PCSCFService {
        var logger = Logger(label: "drain-test")
        logger.logLevel = .warning
        let settings = PCSCFServiceConfiguration(
            listeners: [SIPListenerConfiguration(side: .gm, transport: .tcp, host: "127.0.0.1", port: 0),
                        SIPListenerConfiguration(side: .mw, transport: .udp, host: "127.0.0.1", port: 0)],
            coreNextHops: ["sip:127.0.0.1:\(LoopbackSocket.freePort());lr"], domain: "pcscf.test")
        return try await PCSCFService.start(settings, logger: logger)
    }

    @Test("PCSCFService.drain: a new INVITE on the socket gets 503 + Retry-After; the drain ends when the last dialog's BYE completes")
    func drainOverSocket() async throws {
        let service = try await Self.startService()
        defer { Task { await service.shutdown() } }
        service.drainState.dialogConfirmed(callID: "up-1")
        let drain = Task { await service.drain(retryAfterSeconds: 9, deadline: .seconds(20), poll: .milliseconds(10)) }
        #expect(await eventually(timeout: 3) { service.drainState.isDraining })
        let gm = try #require(service.port(.gm, .tcp))
        let answer = await Self.finalAnswer(port: gm, Self.invite(callID: "new-1"))
        #expect(answer.hasPrefix("SIP/2.0 503 "), "\(answer)")
        #expect(answer.contains("\r\nRetry-After: 9\r\n"), "\(answer)")
        #expect(await service.server.counters.requestsForwarded == 0, "the new INVITE was not forwarded")
        service.drainState.byeForwarded(ProxyRequestID(rawValue: 1), callID: "up-1")
        service.drainState.requestCompleted(ProxyRequestID(rawValue: 1))
        #expect(await drain.value == 0)
    }

    @Test("PCSCFService.drain stops at its deadline with the dialogs still up")
    func drainDeadline() async throws {
        let service = try await Self.startService()
        defer { Task { await service.shutdown() } }
        service.drainState.dialogConfirmed(callID: "stuck")
        let started = ContinuousClock.now
        #expect(await service.drain(retryAfterSeconds: 1, deadline: .milliseconds(300), poll: .milliseconds(10)) == 1)
        #expect(ContinuousClock.now - started >= .milliseconds(300))
    }

    @Test("The ServiceChange to the gateway: Context - , ROOT, Method Graceful with Delay, Reason 909 (H.248.1 §7.2.8, §7.2.8.1)")
    func serviceChangeEncoding() throws {
        var shutdown = PCSCFShutdownSettings()
        shutdown.serviceChangeDelay = .seconds(5)
        let graceful = PCSCFService.serviceChangeRequest(shutdown)
        let text = H248Message(version: 3, mid: .address("127.0.0.1", port: 2944),
                               body: .transactions([.request(TransactionRequest(id: 1, actions: [graceful]))])).encoded(.pretty)
        #expect(text.contains("Context = -"), "\(text)")
        #expect(text.contains("ServiceChange = ROOT"), "\(text)")
        #expect(text.contains("Method = Graceful"), "\(text)")
        #expect(text.contains("Reason = \"909 MGC Impending Failure\""), "\(text)")
        #expect(text.contains("Delay = 5"), "\(text)")
        // It parses back (the text the OTP MG reads).
        #expect(throws: Never.self) { _ = try H248TextParser().parse(text) }
        shutdown.serviceChange = .forced
        let forced = H248Message(version: 3, mid: .address("127.0.0.1", port: 2944),
                                 body: .transactions([.request(TransactionRequest(id: 2, actions: [PCSCFService.serviceChangeRequest(shutdown)]))])).encoded(.pretty)
        #expect(forced.contains("Method = Forced") && !forced.contains("Delay"), "\(forced)")
    }

    @Test("Live: SIPp call up, SIGUSR1 dumps the binding (redacted), SIGTERM to pcscf-alg, a new INVITE gets 503 with Retry-After, the call's BYE still passes, exit 0 after the drain")
    func sigtermDrainsLive() async throws {
        guard let sipp = PCSCFLive.requireSIPp() else { return }
        let binary = TestRepository.url(".build/debug/pcscf-alg").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            if LiveTool.isCI { Issue.record("\(binary) not built") } else { print("skipping: \(binary) not built") }
            return
        }
        let gm = PCSCFLive.freePort(), mw = PCSCFLive.freePort(), core = PCSCFLive.freePort()
        let alg = LiveProcess(binary, ["--config", TestRepository.url("Fixtures/config/pcscf-alg.yaml").path,
                                       "--set", "sip.gm.udp=", "--set", "sip.gm.tcp=127.0.0.1:\(gm)", "--set", "sip.mw.udp=127.0.0.1:\(mw)",
                                       "--set", "sip.core_next_hops=sip:127.0.0.1:\(core);lr", "--set", "iq.enabled=false",
                                       "--set", "shutdown.retry_after=42", "--set", "shutdown.drain_timeout=20s"])
        try alg.start()
        defer { alg.stop() }
        #expect(await eventually(timeout: 20) { alg.stderr.contains("pcscf-alg pcscf listening") }, "\(alg.stderr)")
        async let coreRun = PCSCFLive.run(sipp, scenario: "core_call_drain.xml", transport: "u1", port: core, remote: nil,
                                          keys: ["exp": "600"])
        try await Task.sleep(nanoseconds: 300_000_000)
        async let ueRun = PCSCFLive.run(sipp, scenario: "ue_call_drain.xml", transport: "t1", port: PCSCFLive.freePort(),
                                        remote: "127.0.0.1:\(gm)")
        // The call is up once the P-CSCF logged the 200 to the INVITE; then SIGTERM during the UE's 4 s hold.
        #expect(await eventually(timeout: 15) { alg.stderr.contains("RPL 200 INVITE") }, "\(alg.stderr)")
        // SIGUSR1 still dumps the bindings under the ServiceGroup, identities redacted at info.
        kill(alg.process.processIdentifier, SIGUSR1)
        #expect(await eventually(timeout: 5) { alg.stderr.contains("1 binding(s)") }, "\(alg.stderr)")
        #expect(await eventually(timeout: 5) { alg.stderr.contains("binding contact=sip:***@127.0.0.1") }, "\(alg.stderr)")
        #expect(!alg.stderr.contains("identities=sip:alice"), "identities are redacted at info")
        kill(alg.process.processIdentifier, SIGTERM)
        #expect(await eventually(timeout: 5) { alg.stderr.contains("draining") }, "\(alg.stderr)")
        let answer = await Self.finalAnswer(port: gm, Self.invite(callID: "after-sigterm"))
        #expect(answer.hasPrefix("SIP/2.0 503 "), "\(answer)")
        #expect(answer.contains("\r\nRetry-After: 42\r\n"), "\(answer)")
        let (ue, coreResult) = (try await ueRun, try await coreRun)
        #expect(ue.status == 0, "UE SIPp (BYE after SIGTERM): \(ue)")
        #expect(coreResult.status == 0, "core SIPp: \(coreResult)")
        let status = await alg.wait(timeout: 15)
        #expect(status == 0, "exit \(String(describing: status)): \(alg.stderr.suffix(1500))")
        #expect(alg.stderr.contains("drained: no dialog left"), "\(alg.stderr.suffix(1500))")
    }
}

@Suite("Iq gateway allow-list (iq.gateway_allow_list)")
struct IqAllowListTests {
    /// What arrives at `listener` within `timeout` after `sender` sent one datagram to it.
    static func delivered(allow: [String]) async throws -> Bool {
        let inner = try await openH248Transport(H248ListenAddress(kind: .udp, host: "127.0.0.1", port: 0))
        let listener = AllowListH248Transport(inner, allow: allow, logger: Logger(label: "allow-test"))
        defer { Task { await listener.close() } }
        let sender = try await openH248Transport(H248ListenAddress(kind: .udp, host: "127.0.0.1", port: 0))
        defer { Task { await sender.close() } }
        let target = try #require(listener.localAddress)
        let got = Task { () -> Bool in
            for await event in listener.events { if case .message = event { return true } }
            return false
        }
        try sender.send(Array("MEGACO/3 [127.0.0.1]:2945\nTransaction = 1 { }".utf8), to: target)
        let timeout = Task { try? await Task.sleep(for: .milliseconds(700)); got.cancel() }
        defer { timeout.cancel() }
        return await withTaskCancellationHandler { await got.value } onCancel: { got.cancel() }
    }

    @Test("A message from an address in the allow-list reaches the Iq client; one from elsewhere is dropped before decoding")
    func filters() async throws {
        #expect(try await Self.delivered(allow: ["127.0.0.1"]))
        #expect(try await !Self.delivered(allow: ["192.0.2.7"]))
    }
}
