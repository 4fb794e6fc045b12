// The IMS-ALG end to end (issue 9): the P-CSCF in process with Iq on an ephemeral UDP port, the OTP
// megaco MG (Tests/Peers/megaco_mg.escript) registered to it as the IMS-AGW, a SIPp UE (Gm, TCP) and a
// SIPp S-CSCF (Mw, UDP). The SIPp regexps (check_it / check_it_inverse) check the SDP each side gets;
// the test then audits the gateway (`Context *`): no context may be left.
// Without sipp or escript: skipped with a reason; under CI=true a failure.
import ALGTestSupport
import Foundation
import H248Client
import IMSALG
import Logging
import SDPRewrite
import SIPTransport
import Testing
@testable import ALGServer

enum ALGLive {
    /// A P-CSCF with Gm TCP (or UDP), Mw UDP, the core SIPp as next hop and Iq on 127.0.0.1:0 (UDP, compact).
    static func start(corePort: Int, gmUDP: Bool = false, logger given: Logger? = nil) async throws -> PCSCFService {
        var logger = given ?? Logger(label: "alg-live")
        if given == nil { logger.logLevel = ProcessInfo.processInfo.environment["ALG_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning }
        var policy = RewritePolicy.default
        policy.indicateAppliedInAnswer = true   // [U] a=3ge2ae:applied in the answer to the UE too
        let iq = PCSCFIqSettings(listen: H248ListenAddress(kind: .udp, host: "127.0.0.1", port: 0), form: .compact,
                                 waitForGateway: nil, longTimer: .seconds(5),
                                 session: ALGSessionConfiguration(policy: policy, setupTimeout: .seconds(60)))
        let settings = PCSCFServiceConfiguration(
            listeners: [SIPListenerConfiguration(side: .gm, transport: gmUDP ? .udp : .tcp, host: "127.0.0.1", port: 0),
                        SIPListenerConfiguration(side: .mw, transport: .udp, host: "127.0.0.1", port: 0)],
            coreNextHops: ["sip:127.0.0.1:\(corePort);lr"], domain: "pcscf.test", sweepInterval: .milliseconds(200), iq: iq)
        return try await PCSCFService.start(settings, logger: logger)
    }

    /// Starts the MG peer towards the service's Iq port and waits for its registration.
    static func gateway(_ service: PCSCFService, extra: [String] = []) async throws -> OTPMG {
        let iqPort = try #require(service.iqPort)
        let mg = try OTPMG(mgcPort: iqPort, localPort: try await OTPMG.freePort(), duration: 30,
                           extra: ["--port-base", "41000", "--media-ip", "127.0.0.1"] + extra)
        let client = try #require(service.iq)
        _ = try await client.waitForRegistration(timeout: .seconds(15))
        return mg
    }
}

@Suite("IMS-ALG end to end: SIPp UE and core, OTP MG as IMS-AGW (TS 23.334 §5.11.2.2, §8; TS 33.328 §7.2.1)", .serialized)
struct ALGSessionLiveTests {
    @Test("Originating e2ae MSRP call: the core gets TCP/MSRP on the AGW's core port (no TLS, fingerprint, 3ge2ae); the UE's 200 has TCP/TLS/MSRP on the AGW's access port, the AGW fingerprint and a=3ge2ae:applied; after BYE no context is left (TS 33.328 §7.2.1, TS 23.334 §8)",
          .timeLimit(.minutes(1)))
    func originatingMSRP() async throws {
        guard let sipp = PCSCFLive.requireSIPp(), OTPMG.available() else { return }
        let corePort = PCSCFLive.freePort()
        let service = try await ALGLive.start(corePort: corePort)
        let mg = try await ALGLive.gateway(service)
        let (core, ue) = try await PCSCFLive.pair(sipp, service: service, corePort: corePort, core: "core_alg_call.xml",
                                                  ue: "ue_alg_call.xml", keys: ["exp": "600"])
        let log = mg.text
        #expect(core.status == 0, "S-CSCF SIPp: \(core)\nMG: \(log)")
        #expect(ue.status == 0, "UE SIPp: \(ue)\nMG: \(log)")
        // Reserve (Add of access + core), Configure on the answer (Modify), Release on BYE (Subtract).
        #expect(await mg.addCount(waitingFor: 2) == 2, "MG: \(log)")
        #expect(await mg.lines("MG MODIFY", waitingFor: 1) >= 1, "MG: \(log)")
        #expect(await mg.lines("MG SUBTRACT", waitingFor: 1) >= 1, "MG: \(log)")
        #expect(await service.alg?.count == 0, "the ALG forgot the session")
        let client = try #require(service.iq)
        #expect(try await client.auditContexts().isEmpty, "no context left on the IMS-AGW. MG: \(log)")
        mg.stop()
        await service.shutdown()
    }

    @Test("Originating e2ae BFCP call of `make demo` (ue_alg_bfcp.xml / core_alg_bfcp.xml): TCP/BFCP on the AGW's core port towards the core; TCP/TLS/BFCP, the AGW fingerprint and a=3ge2ae:applied towards the UE; nothing left after BYE (seed 004 originating flow)",
          .timeLimit(.minutes(1)))
    func originatingBFCPDemoPair() async throws {
        guard let sipp = PCSCFLive.requireSIPp(), OTPMG.available() else { return }
        let corePort = PCSCFLive.freePort()
        let service = try await ALGLive.start(corePort: corePort)
        let mg = try await ALGLive.gateway(service)
        let (core, ue) = try await PCSCFLive.pair(sipp, service: service, corePort: corePort, core: "core_alg_bfcp.xml",
                                                  ue: "ue_alg_bfcp.xml", keys: ["exp": "600"])
        #expect(core.status == 0, "S-CSCF SIPp: \(core)\nMG: \(mg.text)")
        #expect(ue.status == 0, "UE SIPp: \(ue)\nMG: \(mg.text)")
        #expect(await mg.addCount(waitingFor: 2) == 2, "MG: \(mg.text)")
        #expect(await mg.lines("MG SUBTRACT", waitingFor: 1) >= 1, "MG: \(mg.text)")
        let client = try #require(service.iq)
        #expect(try await client.auditContexts().isEmpty, "no context left on the IMS-AGW. MG: \(mg.text)")
        mg.stop()
        await service.shutdown()
    }

    @Test("Terminating e2ae MSRP call: the UE gets TCP/TLS/MSRP on the AGW's access port with the AGW fingerprint and a=3ge2ae:applied (flags from the binding of the public identity); the core gets the UE's answer as TCP/MSRP; BYE from the core releases the context (TS 33.328 §7.2.1, TS 24.229 §5.2.6.4)",
          .timeLimit(.minutes(1)))
    func terminatingMSRP() async throws {
        guard let sipp = PCSCFLive.requireSIPp(), OTPMG.available() else { return }
        let corePort = PCSCFLive.freePort()
        let service = try await ALGLive.start(corePort: corePort)
        let mg = try await ALGLive.gateway(service)
        let (core, ue) = try await PCSCFLive.pair(sipp, service: service, corePort: corePort, core: "core_alg_terminate.xml",
                                                  ue: "ue_alg_answer.xml", keys: ["exp": "600"])
        let log = mg.text
        #expect(core.status == 0, "S-CSCF SIPp: \(core)\nMG: \(log)")
        #expect(ue.status == 0, "UE SIPp: \(ue)\nMG: \(log)")
        #expect(await mg.addCount(waitingFor: 2) == 2, "MG: \(log)")
        #expect(await mg.lines("MG SUBTRACT", waitingFor: 1) >= 1, "MG: \(log)")
        #expect(await service.alg?.count == 0, "the ALG forgot the session")
        let client = try #require(service.iq)
        #expect(try await client.auditContexts().isEmpty, "no context left on the IMS-AGW. MG: \(log)")
        mg.stop()
        await service.shutdown()
    }

    @Test("The IMS-AGW refuses the Add (H.248.8 510): the UE's INVITE is answered 503 with Warning 399 naming the gateway error, nothing reaches the core, no context is left (GatewayErrorMapping; RFC 3261 §21.5.4, §20.43)",
          .timeLimit(.minutes(1)))
    func gatewayRefusesAdd() async throws {
        guard let sipp = PCSCFLive.requireSIPp(), OTPMG.available() else { return }
        let corePort = PCSCFLive.freePort()
        let service = try await ALGLive.start(corePort: corePort)
        let mg = try await ALGLive.gateway(service, extra: ["--fail-add-every", "1", "--fail-add-code", "510"])
        let (core, ue) = try await PCSCFLive.pair(sipp, service: service, corePort: corePort, core: "core_register.xml",
                                                  ue: "ue_alg_reject.xml", keys: ["exp": "600"])
        let log = mg.text
        #expect(core.status == 0, "S-CSCF SIPp: \(core)")
        #expect(ue.status == 0, "UE SIPp: \(ue)\nMG: \(log)")
        #expect(log.contains("error=510"), "the MG refused the Add. MG: \(log)")
        #expect(await service.server.counters.requestsForwarded == 2, "only the two REGISTERs reached the core")
        #expect(await service.alg?.count == 0)
        let client = try #require(service.iq)
        #expect(try await client.auditContexts().isEmpty, "no context left on the IMS-AGW. MG: \(log)")
        mg.stop()
        await service.shutdown()
    }
}
