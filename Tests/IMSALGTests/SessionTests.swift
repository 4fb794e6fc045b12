// ALG session state machine: every transition with the FakeMGC and explicit `now` values.
// Clauses: TS 23.334 §5.11.2.2 / §8 (seed 000), seed 003 (MSRP), seed 004 (BFCP), RFC 3261 §13.2.2.4,
// §16.6, §16.7, RFC 3264 §8.2, RFC 4028 §10, H.248.8 error codes.
import Foundation
import SDPCore
import SDPRewrite
import Testing
@testable import IMSALG

@Suite("ALG session state machine")
struct SessionTests {
    static let t0 = Duration.seconds(1000)

    /// Originating MSRP e2ae offer through to a confirmed dialog.
    static func establishedMSRP() throws -> SessionHarness {
        var h = SessionHarness()
        h.send(.offerReceived(sdp: try SDPFx.rewrite("01"), from: .access, now: t0))
        h.send(.answerReceived(sdp: try SDPFx.rewrite("02"), dialogTag: "b1", isFinal: true, now: t0 + .seconds(2)))
        return h
    }

    @Test("seed 003 / TS 33.328 §7.2.1: originating MSRP e2ae offer -> Reserve (context CHOOSE), answer -> Configure, 2xx establishes")
    func originatingMSRP() throws {
        var h = SessionHarness()
        let a1 = h.send(.offerReceived(sdp: try SDPFx.rewrite("01"), from: .access, now: Self.t0))
        guard case .reserve(let ctx, let req, let existing) = try #require(h.mgc.nonReleases.first) else {
            Issue.record("expected reserve"); return
        }
        #expect(ctx == .choose)
        #expect(existing.isEmpty)
        #expect(req.streams.map(\.action) == [.reserve])
        #expect(req.streams.first?.access?.transport == .tcpTLSMSRP)
        #expect(req.streams.first?.access?.requestLocalFingerprint == true)
        let offer = try #require(h.forwarded(a1).first)
        #expect(offer.1 == .core)
        #expect(offer.0.contains("m=message 40001 TCP/MSRP"))
        #expect(!offer.0.contains("a=fingerprint"))
        #expect(h.machine.state == .awaitingAnswer)
        #expect(h.machine.contextID == "ctx1")

        let a2 = h.send(.answerReceived(sdp: try SDPFx.rewrite("02"), dialogTag: "b1", isFinal: true, now: Self.t0 + .seconds(1)))
        guard case .configure(let c2, let req2, let ex2) = try #require(h.mgc.nonReleases.last) else {
            Issue.record("expected configure"); return
        }
        #expect(c2 == "ctx1")
        #expect(ex2 == [MGCStreamTerminations(index: 0, access: "ctx1/0/a", core: "ctx1/0/c")])
        #expect(req2.streams.first?.core?.remote == RemoteEndpoint(address: "203.0.113.5", port: 7654))
        // Seed 003 row "ALG sends active in its answer to the UE" -> the AGW is TLS client.
        #expect(req2.streams.first?.access?.startTLSAsClient == true)
        let answer = try #require(h.forwarded(a2).first)
        #expect(answer.1 == .access)
        #expect(answer.0.contains("m=message 40000 TCP/TLS/MSRP"))
        #expect(answer.0.contains("a=fingerprint:sha-256 AB:CD:EF"))
        #expect(h.machine.state == .established)
        #expect(h.machine.confirmedTag == "b1")
        #expect(h.mgc.releases.isEmpty)
    }

    @Test("seed 004 terminating BFCP: core offer -> Reserve with Establish-TLS on access, UE answer -> Configure with its fingerprint")
    func terminatingBFCP() throws {
        var h = SessionHarness()
        let a1 = h.send(.offerReceived(sdp: try SDPFx.rewrite("07"), from: .core, now: Self.t0))
        guard case .reserve(_, let req, _) = try #require(h.mgc.nonReleases.first) else { Issue.record("reserve"); return }
        #expect(req.streams.first?.access?.startTLSAsClient == true)   // seed 004 term. steps 2-4
        #expect(req.streams.first?.core?.remote == RemoteEndpoint(address: "203.0.113.5", port: 7700))
        let offer = try #require(h.forwarded(a1).first)
        #expect(offer.1 == .access)
        #expect(offer.0.contains("TCP/TLS/BFCP"))
        #expect(offer.0.contains("a=3ge2ae:applied"))
        let a2 = h.send(.answerReceived(sdp: try SDPFx.rewrite("08"), dialogTag: "ue", isFinal: true, now: Self.t0 + .seconds(1)))
        guard case .configure(_, let req2, _) = try #require(h.mgc.nonReleases.last) else { Issue.record("configure"); return }
        #expect(req2.streams.first?.access?.remoteFingerprints?.isEmpty == false)   // seed 004 term. steps 14-16
        let answer = try #require(h.forwarded(a2).first)
        #expect(answer.1 == .core)
        #expect(answer.0.contains("m=application 40001 TCP/BFCP"))
        #expect(!answer.0.contains("a=fingerprint"))
        #expect(h.machine.state == .established)
    }

    @Test("H.248.8 error on Add maps per GatewayErrorMapping (488/500/503) and releases what the AGW created",
          arguments: [(515, 488, "304 "), (526, 488, "370 "), (510, 503, "399 "), (411, 500, "399 "), (444, 488, "399 ")])
    func addError(code: Int, status: Int, warn: String) throws {
        var h = SessionHarness()
        h.mgc.script = [.reply(.failure(.error(code: code, text: "x", contextID: "ctx9")))]
        let out = h.send(.offerReceived(sdp: try SDPFx.rewrite("01"), from: .access, now: Self.t0))
        let r = try #require(h.rejection(out))
        #expect(r.status == status)
        #expect(r.warning.hasPrefix(warn + "pcscf.test \"IMS-AGW error \(code)"))
        #expect(h.mgc.releases == [.context("ctx9")])
        #expect(out.last == .done)
        #expect(h.machine.state == .terminated)
        #expect(h.forwarded(out).isEmpty)
    }

    @Test("H.248.8 error on Add without a created context: 500, nothing to release")
    func addErrorNoContext() throws {
        var h = SessionHarness()
        h.mgc.script = [.reply(.failure(.error(code: 400, text: "syntax")))]
        let out = h.send(.offerReceived(sdp: try SDPFx.rewrite("01"), from: .access, now: Self.t0))
        #expect(h.rejection(out)?.status == 500)
        #expect(h.mgc.releases.isEmpty)
        #expect(h.machine.state == .terminated)
    }

    @Test("Iq timeout on Add -> 503 + Warning 399 and release of whatever the operation created")
    func timeout() throws {
        var h = SessionHarness()
        h.mgc.script = [.reply(.failure(.timeout))]
        let out = h.send(.offerReceived(sdp: try SDPFx.rewrite("01"), from: .access, now: Self.t0))
        let r = try #require(h.rejection(out))
        #expect(r.status == 503)
        #expect(r.warning == "399 pcscf.test \"IMS-AGW did not answer\"")
        let addID = try #require(h.mgc.calls.first?.id)
        #expect(h.mgc.releases == [.outcomeOf(addID)])
        #expect(out.last == .done)
    }

    @Test("Iq timeout on the answer's Configure: context released, dialog ended with BYE")
    func configureTimeout() throws {
        var h = SessionHarness()
        h.send(.offerReceived(sdp: try SDPFx.rewrite("01"), from: .access, now: Self.t0))
        h.mgc.script = [.reply(.failure(.timeout))]
        let out = h.send(.answerReceived(sdp: try SDPFx.rewrite("02"), dialogTag: "b1", isFinal: true, now: Self.t0))
        #expect(h.byeWarning(out)?.contains("did not answer") == true)
        #expect(h.mgc.releases == [.context("ctx1")])
        #expect(h.machine.state == .terminated)
    }

    @Test("CANCEL before the answer releases the context (no context left)")
    func cancelBeforeAnswer() throws {
        var h = SessionHarness()
        h.send(.offerReceived(sdp: try SDPFx.rewrite("01"), from: .access, now: Self.t0))
        let out = h.send(.cancel)
        #expect(h.mgc.releases == [.context("ctx1")])
        #expect(out == [.done])
        #expect(h.send(.bye).isEmpty)   // terminated: later events ignored
    }

    @Test("CANCEL while the Add is still outstanding releases its outcome")
    func cancelDuringAdd() throws {
        var h = SessionHarness()
        h.mgc.script = [.hold]
        h.send(.offerReceived(sdp: try SDPFx.rewrite("01"), from: .access, now: Self.t0))
        #expect(h.machine.state == .offerAwaitingGateway)
        let addID = try #require(h.machine.pendingOperation)
        h.send(.cancel)
        #expect(h.mgc.releases == [.outcomeOf(addID)])
        // The late reply is ignored.
        #expect(h.machine.handle(.gatewayReplied(addID, .success(MGCReply(contextID: "ctx1")))).isEmpty)
    }

    @Test("Final error response to the INVITE releases everything")
    func finalError() throws {
        var h = SessionHarness()
        h.send(.offerReceived(sdp: try SDPFx.rewrite("01"), from: .access, now: Self.t0))
        let out = h.send(.finalErrorResponse(status: 486))
        #expect(out == [.done])
        #expect(h.mgc.releases == [.context("ctx1")])
    }

    @Test("BYE releases the context")
    func bye() throws {
        var h = try Self.establishedMSRP()
        let out = h.send(.bye)
        #expect(out == [.done])
        #expect(h.mgc.releases == [.context("ctx1")])
        #expect(h.machine.contextID == nil)
    }

    @Test("RFC 4028 §10: session timer expiry -> BYE and release")
    func sessionTimer() throws {
        var h = try Self.establishedMSRP()
        let out = h.send(.sessionTimerExpired(now: Self.t0 + .seconds(1800)))
        #expect(h.byeWarning(out) == "399 pcscf.test \"session timer expired\"")
        #expect(h.mgc.releases == [.context("ctx1")])
        #expect(out.last == .done)
    }

    @Test("RFC 3261 §16.6 Timer C: a dialog that never completes is reaped at setupTimeout, not before")
    func reaper() throws {
        var h = SessionHarness(configuration: .init(warningAgent: "pcscf.test", setupTimeout: .seconds(180)), now: Self.t0)
        h.send(.offerReceived(sdp: try SDPFx.rewrite("01"), from: .access, now: Self.t0))
        #expect(h.send(.tick(now: Self.t0 + .seconds(179))).isEmpty)
        #expect(h.machine.state == .awaitingAnswer)
        let out = h.send(.tick(now: Self.t0 + .seconds(180)))
        #expect(h.rejection(out)?.status == 408)
        #expect(h.mgc.releases == [.context("ctx1")])
        #expect(out.last == .done)
        // An established session is never reaped by tick.
        var e = try Self.establishedMSRP()
        #expect(e.send(.tick(now: Self.t0 + .seconds(100_000))).isEmpty)
    }

    @Test("TLS failure on one of several streams: Subtract its terminations and re-INVITE with port 0 (RFC 3264 §8.2)")
    func tlsFailureOneOfTwo() throws {
        var h = SessionHarness()
        let o = h.send(.offerReceived(sdp: try SDPFx.rewrite("18"), from: .access, now: Self.t0))
        #expect(h.forwarded(o).count == 1)
        let a = h.send(.answerReceived(sdp: SDPFx.mixedAnswer, dialogTag: "b1", isFinal: true, now: Self.t0))
        #expect(h.forwarded(a).count == 1)
        #expect(h.machine.state == .established)
        #expect(h.machine.terminations.count == 3)
        let out = h.send(.gatewayEvent(.tlsFailure(termination: "ctx1/1/a")))
        #expect(out == [.sendReINVITERemovingStream(index: 1)])
        #expect(h.mgc.releases == [.terminations(context: "ctx1", ids: ["ctx1/1/a", "ctx1/1/c"])])
        #expect(h.machine.terminations[1] == nil)
        #expect(h.machine.state == .established)
    }

    @Test("TLS/TCP failure on the only stream -> BYE and release of the context")
    func tlsFailureOnly() throws {
        var h = try Self.establishedMSRP()
        let out = h.send(.gatewayEvent(.tcpFailure(termination: "ctx1/0/c")))
        #expect(h.byeWarning(out)?.contains("TCP establishment failed on m-line 0") == true)
        #expect(h.mgc.releases == [.context("ctx1")])
        #expect(out.last == .done)
        // Unknown termination: ignored.
        var g = try Self.establishedMSRP()
        #expect(g.send(.gatewayEvent(.tlsFailure(termination: "other"))).isEmpty)
    }

    @Test("Gateway restart ends the session on both sides without Subtract; out-of-service subtracts")
    func gatewayRestart() throws {
        var h = try Self.establishedMSRP()
        let out = h.send(.gatewayEvent(.gatewayRestarted))
        #expect(out == [.sendBYE(warning: "399 pcscf.test \"IMS-AGW restarted\""), .done])
        #expect(h.mgc.releases.isEmpty)
        var p = SessionHarness()
        p.send(.offerReceived(sdp: try SDPFx.rewrite("01"), from: .access, now: Self.t0))
        let o2 = p.send(.gatewayEvent(.outOfService))
        #expect(p.rejection(o2)?.status == 503)
        #expect(p.mgc.releases == [.context("ctx1")])
    }

    @Test("RFC 3261 §16.7 forking: early answers reconfigure (last answer wins), the 2xx dialog's answer is applied, others discarded")
    func forking() throws {
        var h = SessionHarness()
        h.send(.offerReceived(sdp: try SDPFx.rewrite("01"), from: .access, now: Self.t0))
        let answerA = try SDPFx.rewrite("02")
        let answerB = answerA.replacingOccurrences(of: "203.0.113.5", with: "203.0.113.77")
        let e1 = h.send(.answerReceived(sdp: answerA, dialogTag: "A", isFinal: false, now: Self.t0))
        #expect(h.forwarded(e1).count == 1)
        #expect(h.machine.appliedTag == "A")
        #expect(h.machine.state == .awaitingAnswer)
        let e2 = h.send(.answerReceived(sdp: answerB, dialogTag: "B", isFinal: false, now: Self.t0))
        #expect(h.forwarded(e2).count == 1)
        guard case .configure(_, let reqB, _) = try #require(h.mgc.nonReleases.last) else { Issue.record("configure"); return }
        #expect(reqB.streams.first?.core?.remote?.address == "203.0.113.77")
        #expect(h.machine.appliedTag == "B")
        #expect(Set(h.machine.earlyDialogs.keys) == ["A", "B"])
        let configures = h.mgc.nonReleases.count
        // The 2xx comes on dialog A without a body (answer was in A's reliable 18x): A's answer is re-applied.
        let fin = h.send(.answerReceived(sdp: nil, dialogTag: "A", isFinal: true, now: Self.t0 + .seconds(3)))
        #expect(h.mgc.nonReleases.count == configures + 1)
        guard case .configure(_, let reqA, _) = try #require(h.mgc.nonReleases.last) else { Issue.record("configure"); return }
        #expect(reqA.streams.first?.core?.remote?.address == "203.0.113.5")
        #expect(h.forwarded(fin).count == 1)
        #expect(h.machine.state == .established)
        #expect(h.machine.confirmedTag == "A")
        #expect(h.machine.earlyDialogs.isEmpty)
        // A late answer from the discarded dialog B changes nothing.
        #expect(h.send(.answerReceived(sdp: answerB, dialogTag: "B", isFinal: false, now: Self.t0)).isEmpty)
        #expect(h.mgc.releases.isEmpty)
    }

    @Test("RFC 3262 §5 / RFC 6337 §2.2: the callee's offer (reliable 18x, from the core) answered in the PRACK (not final); the 2xx without body (sdp nil) confirms that dialog with no AGW operation")
    func offerIn18xAnswerInPRACKThen2xxWithoutBody() throws {
        var h = SessionHarness()
        let offer = h.send(.offerReceived(sdp: try SDPFx.rewrite("03"), from: .core, now: Self.t0))
        guard case .reserve = try #require(h.mgc.nonReleases.first) else { Issue.record("reserve"); return }
        #expect(h.forwarded(offer).map(\.1) == [.access])
        #expect(h.machine.state == .awaitingAnswer)
        let prack = h.send(.answerReceived(sdp: try SDPFx.rewrite("04"), dialogTag: "B", isFinal: false, now: Self.t0))
        #expect(h.forwarded(prack).map(\.1) == [.core])
        #expect(h.machine.state == .awaitingAnswer)
        let n = h.mgc.calls.count
        let fin = h.send(.answerReceived(sdp: nil, dialogTag: "B", isFinal: true, now: Self.t0 + .seconds(1)))
        #expect(h.mgc.calls.count == n, "no second Configure")
        #expect(h.machine.state == .established)
        #expect(h.machine.confirmedTag == "B")
        #expect(fin.allSatisfy { if case .mgc = $0 { false } else { true } })
    }

    @Test("RFC 3262 §5 / RFC 6337 §3.1: a re-offer answered in a reliable 18x of the confirmed dialog (not final); the 2xx without body (sdp nil) takes that applied answer and re-establishes the session, no second Configure")
    func reofferAnsweredIn18xThen2xxWithoutBody() throws {
        var h = SessionHarness()
        h.send(.offerReceived(sdp: try SDPFx.rewrite("01"), from: .access, now: Self.t0))
        let answer = try SDPFx.rewrite("02")
        h.send(.answerReceived(sdp: answer, dialogTag: "A", isFinal: true, now: Self.t0))
        #expect(h.machine.state == .established)
        h.send(.offerReceived(sdp: try SDPFx.rewrite("01").replacingOccurrences(of: "o=alice 2890844526 2890844526", with: "o=alice 2890844526 2890844527"), from: .access, now: Self.t0))
        #expect(h.machine.state == .awaitingAnswer)
        let reanswer = answer.replacingOccurrences(of: "203.0.113.5", with: "203.0.113.9")
        let early = h.send(.answerReceived(sdp: reanswer, dialogTag: "A", isFinal: false, now: Self.t0))
        #expect(h.forwarded(early).count == 1)
        #expect(h.machine.state == .awaitingAnswer)
        let n = h.mgc.calls.count
        h.send(.answerReceived(sdp: nil, dialogTag: "A", isFinal: true, now: Self.t0))
        #expect(h.mgc.calls.count == n)
        #expect(h.machine.state == .established, "without the applied answer the 2xx without body would leave the re-offer pending")
    }

    @Test("Forking: the same answer repeated (18x then 2xx) needs no second Configure")
    func forkingSameAnswer() throws {
        var h = SessionHarness()
        h.send(.offerReceived(sdp: try SDPFx.rewrite("01"), from: .access, now: Self.t0))
        let answer = try SDPFx.rewrite("02")
        h.send(.answerReceived(sdp: answer, dialogTag: "A", isFinal: false, now: Self.t0))
        let n = h.mgc.calls.count
        let fin = h.send(.answerReceived(sdp: answer, dialogTag: "A", isFinal: true, now: Self.t0))
        #expect(h.mgc.calls.count == n)
        #expect(h.forwarded(fin).count == 1)
        #expect(h.machine.state == .established)
    }

    @Test("Malformed offer (RewriteError) -> 488 + Warning, nothing reserved")
    func malformedOffer() throws {
        var h = SessionHarness()
        let out = h.send(.offerReceived(sdp: try SDPFx.rewrite("30"), from: .access, now: Self.t0))
        #expect(h.rejection(out)?.status == 488)
        #expect(h.mgc.calls.isEmpty)
        #expect(out.last == .done)
    }

    @Test("Re-offer refused by the far end keeps the session and releases only what it reserved")
    func reofferRefused() throws {
        var h = try Self.establishedMSRP()
        let before = h.mgc.calls.count
        let re = try SDPFx.rewrite("01").replacingOccurrences(of: "a=connection:new", with: "a=connection:existing")
        let out = h.send(.offerReceived(sdp: re, from: .access, now: Self.t0 + .seconds(10)))
        #expect(h.forwarded(out).count == 1)
        #expect(h.mgc.calls.count == before + 1)
        let end = h.send(.finalErrorResponse(status: 488))
        #expect(end.isEmpty)
        #expect(h.machine.state == .established)
        #expect(h.mgc.releases.isEmpty)   // nothing new was reserved (configure of the existing stream)
    }

    @Test("GatewayErrorMapping: unknown codes -> 500; Warning text bounded and without quotes")
    func mappingTable() {
        let r = GatewayErrorMapping.rejection(for: .error(code: 999, text: String(repeating: "\"a", count: 200)), agent: "p")
        #expect(r.status == 500)
        #expect(r.warning.hasPrefix("399 p \"IMS-AGW error 999: "))
        #expect(r.warning.utf8.count <= GatewayErrorMapping.maxWarningTextBytes + 10)
        #expect(r.warning.dropFirst(7).dropLast().contains("\"") == false)
    }

    @Test("FakeMGC as MGCClient records the operation")
    func clientProtocol() async {
        let mgc = FakeMGC()
        let op = MGCOperation.release(.context("c"))
        _ = await mgc.perform(op, id: MGCOperationID(rawValue: 7))
        #expect(mgc.calls.map(\.id) == [MGCOperationID(rawValue: 7)])
    }
}
