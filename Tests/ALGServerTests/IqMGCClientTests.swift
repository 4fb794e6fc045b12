// IqMGCClient: the session layer's MGCClient over IqClient. Pure parts (error and event mapping)
// are unit-tested; the operations run live against the OTP megaco MG peer
// (Tests/Peers/megaco_mg.escript): reserve (fixture spec 9.1), configure (spec 9.2), release, then
// `Context *` audit shows no context. Without `escript`: skipped with a reason, a failure under CI=true.
import ALGTestSupport
import Foundation
import Testing
import H248Client
import H248Codec
import IMSALG
import SDPCore
import SDPRewrite
@testable import ALGServer

@Suite("IqMGCClient: MGCFailure and GatewayEvent mapping")
struct IqMGCClientMappingTests {
    @Test("H.248.8 error reply keeps code, text (449's offending value) and the context created; LONG-TIMER timeout → .timeout; no gateway → 502 (SIP 503)")
    func failures() {
        let e449 = IqError.errorReply(IqErrorReply(code: 449, text: "Unsupported parameter timerx=abc", level: .command,
                                                   contextID: .id(12), terminationID: TerminationID("ip/1")))
        #expect(IqMGCClient.failure(e449) == .error(code: 449, text: "Unsupported parameter timerx=abc", contextID: "12"))
        let timeout = IqError.transaction(H248ClientError(.transactionTimeout, "LONG-TIMER"))
        #expect(IqMGCClient.failure(timeout) == .timeout)
        #expect(IqMGCClient.failure(IqError.notRegistered) == .error(code: 502, text: "Not ready: no IMS-AGW registered"))
        let pendings = IqError.transaction(H248ClientError(.pendingLimitExceeded, h248ErrorCode: 506, "too many Pendings"))
        guard case .error(let code, _, _) = IqMGCClient.failure(pendings) else { Issue.record("expected an error"); return }
        #expect(code == 506)
        #expect(GatewayErrorMapping.rejection(for: IqMGCClient.failure(IqError.notRegistered), agent: "p").status == 503)
    }

    @Test("Notify of the TLS/TCP establishment failure events → GatewayEvent for that context; restart / out of service / loss → every session")
    func events() {
        let tokens = IqPackageTokens()
        func notify(_ name: String) -> IqEvent {
            .notify(IqNotification(contextID: .id(5), terminationID: TerminationID("ip/7"),
                                   observed: ObservedEventsDescriptor(requestID: 1, events: [ObservedEvent(name)])))
        }
        #expect(IqMGCClient.gatewayEvent(notify(tokens.tlsEstablishFailureEvent), tokens: tokens)
                == IqGatewayEventForContext(contextID: "5", event: .tlsFailure(termination: "ip/7")))
        #expect(IqMGCClient.gatewayEvent(notify(tokens.tcpEstablishFailureEvent), tokens: tokens)
                == IqGatewayEventForContext(contextID: "5", event: .tcpFailure(termination: "ip/7")))
        #expect(IqMGCClient.gatewayEvent(notify(tokens.heartbeatEvent), tokens: tokens) == nil)
        #expect(IqMGCClient.gatewayEvent(.association(.gatewayRestarted(version: 3, method: .restart, reason: 901)), tokens: tokens)?.event == .gatewayRestarted)
        #expect(IqMGCClient.gatewayEvent(.association(.outOfService(graceful: false, reason: 905)), tokens: tokens)?.event == .outOfService)
        #expect(IqMGCClient.gatewayEvent(.association(.gatewayLost(reason: "keep-alive")), tokens: tokens)?.event == .outOfService)
        #expect(IqMGCClient.gatewayEvent(.association(.restored), tokens: tokens) == nil)
    }
}

@Suite("IqMGCClient against the OTP megaco MG", .serialized)
struct IqMGCClientLiveTests {
    static var escript: String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/escript"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    @Test("TS 23.334 §8 through MGCClient: reserve (spec 9.1 request), configure (spec 9.2 request), release (context, one termination, outcome of a reserve); Context * audit shows no context",
          .timeLimit(.minutes(1)))
    func reserveConfigureRelease() async throws {
        guard let escript = Self.escript else {
            let reason = "escript (erlang-base + erlang-megaco) not on PATH: OTP MG peer test skipped"
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("\(reason) (CI=true requires it)") } else { print("SKIPPED: \(reason)") }
            return
        }
        let transport = try await openH248Transport(H248ListenAddress(kind: .udp, host: "127.0.0.1", port: 0))
        let port = try #require(transport.localPort)
        var config = IqClientConfiguration(mid: .address("127.0.0.1", port: UInt16(port)), form: .compact)
        config.association.keepAliveInterval = nil
        config.timers.longTimer = .seconds(8)
        let client = IqClient(transport: transport, configuration: config)
        await client.start()
        let mgPortProbe = try await openH248Transport(H248ListenAddress(kind: .udp, host: "127.0.0.1", port: 0))
        let mgPort = try #require(mgPortProbe.localPort)
        await mgPortProbe.close()

        let log = FileManager.default.temporaryDirectory.appendingPathComponent("iq-mgc-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let mg = Process()
        mg.executableURL = URL(fileURLWithPath: escript)
        mg.currentDirectoryURL = TestRepository.root
        mg.arguments = [TestRepository.url("Tests/Peers/megaco_mg.escript").path, "--mgc", "127.0.0.1:\(port)",
                        "--local-port", "\(mgPort)", "--transport", "udp", "--encoding", "compact", "--version", "3", "--duration", "20"]
        let out = try FileHandle(forWritingTo: log)
        mg.standardOutput = out
        mg.standardError = out
        try mg.run()
        defer {
            if mg.isRunning { kill(mg.processIdentifier, SIGKILL) }
            mg.waitUntilExit()
            try? FileManager.default.removeItem(at: log)
        }

        _ = try await client.waitForRegistration(timeout: .seconds(15))
        let mgc = IqMGCClient(client: client)
        let offer = try MappingFixtures.request("01-spec-9.1-msrp-originating-offer")
        let reserved = await mgc.perform(.reserve(context: .choose, request: offer, existing: []), id: MGCOperationID(rawValue: 1))
        guard case .success(let r) = reserved else {
            Issue.record("reserve failed: \(reserved)\nMG log:\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            await client.close()
            return
        }
        let terms = try #require(r.terminations.first)
        #expect(terms.index == 0 && terms.access != nil && terms.core != nil && terms.access != terms.core)
        let answer = try #require(r.answer.stream(0))
        #expect(answer.access?.port != nil && answer.core?.port != nil, "the AGW's addresses and ports")
        #expect(answer.fingerprint != nil, "Local certificate fingerprint returned for the access termination")

        let answerRequest = try MappingFixtures.request("02-spec-9.2-msrp-originating-answer")
        let configured = await mgc.perform(.configure(context: r.contextID, request: answerRequest, existing: r.terminations),
                                           id: MGCOperationID(rawValue: 2))
        guard case .success(let c) = configured else { Issue.record("configure failed: \(configured)"); await client.close(); return }
        #expect(c.contextID == r.contextID)

        let released = await mgc.perform(.release(.context(r.contextID)), id: MGCOperationID(rawValue: 3))
        #expect(released == .success(MGCReply(contextID: r.contextID)))
        #expect(try await client.auditContexts().isEmpty, "no context left on the AGW")

        // A reserve whose session gave up: `.release(.outcomeOf(op))` subtracts what it created;
        // one stream's terminations can be released alone.
        let second = await mgc.perform(.reserve(context: .choose, request: offer, existing: []), id: MGCOperationID(rawValue: 5))
        guard case .success(let r2) = second, let t2 = r2.terminations.first, let access2 = t2.access else {
            Issue.record("second reserve failed: \(second)"); await client.close(); return
        }
        let one = await mgc.perform(.release(.terminations(context: r2.contextID, ids: [access2])), id: MGCOperationID(rawValue: 6))
        #expect(one == .success(MGCReply(contextID: r2.contextID)))
        let byOutcome = await mgc.perform(.release(.outcomeOf(MGCOperationID(rawValue: 5))), id: MGCOperationID(rawValue: 7))
        #expect(byOutcome == .success(MGCReply(contextID: r2.contextID)))
        #expect(try await client.auditContexts().isEmpty, "outcomeOf released the second context")
        let unknownOutcome = await mgc.perform(.release(.outcomeOf(MGCOperationID(rawValue: 99))), id: MGCOperationID(rawValue: 8))
        #expect(unknownOutcome == .success(MGCReply(contextID: "-")), "nothing known to release")

        // A context that does not exist: the AGW's error comes back as MGCFailure with its code.
        let missing = await mgc.perform(.release(.context("999999")), id: MGCOperationID(rawValue: 4))
        guard case .failure(.error(let code, _, _)) = missing else { Issue.record("expected an H.248 error, got \(missing)"); await client.close(); return }
        #expect((400...599).contains(code))
        await client.close()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("MG ADD ") }.count == 4, "access and core added once each, in two reserves")
    }
}
