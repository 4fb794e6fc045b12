// ims-agw killed in the middle of an e2ae MSRP call and started again (issue 10): the new process
// registers with ServiceChange Method=Restart (901 Cold Boot, or 902 Warm Boot with --warm-restart;
// H.248.1 §7.2.8 / TS 29.334 §5.10); pcscf-alg takes it as "the gateway lost its contexts"
// (H.248.1 §11.5) and ends the session: BYE to the UE and to the core with Reason "IMS-AGW restarted"
// (TS 23.334 §5.11.2.2, RFC 3326), no Subtract sent to the new gateway, no session left.

import AGWRuntime
import ALGTestSupport
import Foundation
import H248Client
import IMSAGW
import Logging
import Testing

@Suite("ims-agw restart mid-call: pcscf-alg ends the e2ae MSRP session (H.248.1 §7.2.8, §11.5; TS 23.334 §5.11.2.2)", .serialized)
struct AGWRestartLiveTests {
    @Test("SIGKILL ims-agw during an e2ae MSRP call (MSRP flowing), start it again: ServiceChange Restart 901/902 reaches pcscf-alg, which BYEs both sides with Reason, subtracts nothing and keeps no session",
          arguments: [false, true])
    func restartEndsCall(warm: Bool) async throws {
        let test = "restartEndsCall(\(warm ? "warm" : "cold"))"
        guard let lab = try await AGWLiveLab.start(test, mediaPorts: warm ? 46_650...46_699 : 46_600...46_649) else { return }
        defer { lab.stop() }
        let reason = "IMS-AGW restarted"
        let ue = try lab.scenario("ue_alg_call.xml") { AGWLiveLab.awaitingBYE($0, reason: reason) }
        let core = try lab.scenario("core_alg_call.xml") { AGWLiveLab.checkingBYEReason($0, reason: reason) }
        // The stream is up: one MSRP SEND and its 200 OK each way, TLS access leg ↔ TCP core leg (RFC 4975).
        guard let (server, client, _) = try await lab.startMSRPCall(ue: ue, core: core, hold: 20) else { return }
        let flowing = await eventually(timeout: 15) { client.stdout.contains("SEND in ok") && server.stdout.contains("SEND out ok") }
        #expect(flowing, "client:\n\(client.stdout)\(client.stderr)\nserver:\n\(server.stdout)\(server.stderr)\nAGW:\n\(lab.agw.stderr)")
        guard flowing else { return }

        // No Graceful: the process dies (its TLS and TCP connections are reset by the kernel).
        let dead = await lab.killAGW()
        #expect(dead.process.terminationReason == .uncaughtSignal && dead.process.terminationStatus == SIGKILL)
        #expect(!dead.stderr.contains("Graceful"), "\(dead.stderr)")
        #expect(await eventually(timeout: 5) { client.stdout.contains("closed by peer") }, "the UE's TLS connection ends with the gateway: \(client.stdout)")
        #expect(await eventually(timeout: 5) { server.stdout.contains("closed by peer") }, "the core TCP connection ends with the gateway: \(server.stdout)")

        // The new process registers on the same Iq address: Restart 901 Cold Boot, or 902 Warm Boot.
        try lab.startAGW(extra: warm ? ["--warm-restart"] : [])
        let agw = lab.agw
        let expected = warm ? "902 Warm Boot" : "901 Cold Boot"
        // Promptly: its first transaction id is not its predecessor's, so pcscf-alg does not take the
        // registration for a late duplicate (H.248.1 Annex D.1.1; it did, for LONG-TIMER, with T=1 each time).
        #expect(await eventually(timeout: 5) { agw.stderr.contains("Iq registered with the MGC") }, "\(agw.stderr)")
        #expect(agw.stderr.contains("Iq -> ServiceChange restart \(expected)"), "\(agw.stderr)")
        // pcscf-alg: one gateway-wide event, the session ended by BYE towards both sides, nothing left.
        let alg = lab.alg
        #expect(await eventually(timeout: 10) { alg.stderr.contains("session ended; 0 sessions active") }, "\(alg.stderr.suffix(2500))")
        #expect(alg.stderr.contains("ALG: IMS-AGW restarted (ServiceChange Restart: its contexts are gone): ending 1 of 1 sessions"), "\(alg.stderr.suffix(2500))")
        let result = await lab.finishCall()
        #expect(result.ue == 0 && result.core == 0,
                "UE \(String(describing: result.ue)) core \(String(describing: result.core)): both take the BYE with Reason \"\(reason)\"\n\(result.errors.prefix(2000))")
        #expect(await eventually(timeout: 5) { alg.stderr.contains("originated BYE gm -> 200") && alg.stderr.contains("originated BYE mw -> 200") },
                "\(alg.stderr.suffix(2500))")
        // H.248.1 §11.5: the restarted gateway holds no context, so the MGC sends it no Subtract (nor anything else).
        try await Task.sleep(for: .milliseconds(300))
        #expect(!agw.stderr.contains("Iq T="), "the new gateway got no transaction after its registration: \(agw.stderr)")
        #expect(alg.stderr.components(separatedBy: "session ended").count - 1 == 1, "\(alg.stderr.suffix(2500))")
    }
}

@Suite("AGWRuntime: a restarted gateway does not reuse its predecessor's transaction ids (H.248.1 Annex D.1.1)", .serialized)
struct AGWTransactionIDTests {
    /// The transaction id of the first ServiceChange a fresh runtime sends to a raw UDP MGC.
    static func firstRegistrationID(mgc: LoopbackSocket, configure: (inout AGWRuntimeConfiguration) -> Void = { _ in }) async throws -> UInt32? {
        var c = AGWRuntimeConfiguration(mgc: H248ListenAddress(kind: .udp, host: "127.0.0.1", port: mgc.localPort),
                                        listen: H248ListenAddress(kind: .udp, host: "127.0.0.1", port: LoopbackSocket.freePort()))
        c.gracefulReplyTimeout = .milliseconds(200)
        configure(&c)
        let agw = AGWRuntime(configuration: c, media: AGWSignallingOnlyMedia(address: "127.0.0.1", ports: 43100...43109, fingerprint: "sha-256 AA"),
                             logger: Logger(label: "test"))
        try await agw.start()
        let first = await mgc.receive(timeout: 5)
        await agw.shutdown()
        while await mgc.receive(timeout: 0.3) != nil {}   // its retransmissions and Graceful
        return first.flatMap(AGWRuntimeUDPTests.transactionID)
    }

    @Test("Two processes' first ServiceChanges carry different transaction ids (random start); a configured first id is used as is")
    func randomFirstID() async throws {
        let mgc = LoopbackSocket.udp()
        let a = try #require(try await Self.firstRegistrationID(mgc: mgc))
        let b = try #require(try await Self.firstRegistrationID(mgc: mgc))
        #expect(a != b, "a restarted gateway starting again at the same id would be taken for a duplicate")
        #expect(a <= AGWRuntimeConfiguration.maximumRandomFirstTransactionID && b <= AGWRuntimeConfiguration.maximumRandomFirstTransactionID)
        let fixed = try #require(try await Self.firstRegistrationID(mgc: mgc) { $0.firstTransactionID = 4242 })
        #expect(fixed == 4242)
    }
}
