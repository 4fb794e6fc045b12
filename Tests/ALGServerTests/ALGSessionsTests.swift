// ALGSessions (the shell around ALGSessionStateMachine on the proxy) with a scripted MGC: no sockets.
import ALGTestSupport
import Foundation
import IMSALG
import NIOCore
import ProxyRuntime
import SDPCore
import SDPRewrite
import SIPCore
import SIPProxy
import Testing
@testable import ALGServer

/// Records operations; reserve/configure succeed with AGW addresses unless scripted to fail; a reserve
/// can be held until `open()` (to end the session while the gateway works).
actor ScriptedMGC: MGCClient {
    var operations: [MGCOperation] = []
    var failAdd: MGCFailure?
    var holdReserve = false
    private var held: CheckedContinuation<Void, Never>?

    func setFailAdd(_ f: MGCFailure?) { failAdd = f }
    func setHold(_ h: Bool) { holdReserve = h }
    func open() { held?.resume(); held = nil }
    var isHolding: Bool { held != nil }
    var releases: [MGCReleaseTarget] { operations.compactMap { if case .release(let t) = $0 { t } else { nil } } }

    nonisolated func perform(_ operation: MGCOperation, id: MGCOperationID) async -> MGCResult {
        await run(operation)
    }

    private func run(_ op: MGCOperation) async -> MGCResult {
        operations.append(op)
        switch op {
        case .reserve(_, let request, _):
            if let f = failAdd { return .failure(f) }
            if holdReserve { await withCheckedContinuation { held = $0 } }
            var reply = MGCReply(contextID: "7")
            for s in request.streams where s.action == .reserve {
                reply.terminations.append(MGCStreamTerminations(index: s.index, access: "ip/\(2 * s.index + 1)", core: "ip/\(2 * s.index + 2)"))
                reply.answer.streams.append(StreamAnswer(index: s.index, access: LocalEndpoint(address: "192.0.2.1", port: 41000),
                                                         core: LocalEndpoint(address: "198.51.100.1", port: 41002),
                                                         fingerprint: s.access?.requestLocalFingerprint == true ? ALGFx.fingerprint : nil))
            }
            return .success(reply)
        case .configure(let c, _, _):
            return .success(MGCReply(contextID: c))
        case .release:
            return .success(MGCReply(contextID: "7"))
        }
    }
}

enum ALGFx {
    static let fingerprint = try! Fingerprint(parsing:
        "sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:EF")
    static let flags = MediaSecurityFlags(ue: [.msrpTLS, .bfcpTLS], network: [.msrpTLS, .bfcpTLS])
    static let offer = ALGFixture.body("sessions/ue-offer.sdp")
    static let answer = ALGFixture.body("sessions/core-answer.sdp")

    static func invite() throws -> SIPMessage { try ALGFixture.message("sessions/invite.msg") }

    static func ok() throws -> SIPMessage { try ALGFixture.message("sessions/200-invite.msg") }

    static func bye() throws -> SIPMessage { try ALGFixture.message("sessions/bye.msg") }

    static let id = ProxyRequestID(rawValue: 1)
    static func offerContext(_ invite: SIPMessage) -> ProxyBodyContext {
        ProxyBodyContext(requestID: id, direction: .request(from: .access, to: .core), request: invite,
                         requestInbound: HookFx.ueFlow, status: nil)
    }
    static func answerContext(_ invite: SIPMessage, _ status: Int) -> ProxyBodyContext {
        ProxyBodyContext(requestID: id, direction: .response, request: invite, requestInbound: HookFx.ueFlow, status: status)
    }

    static func text(_ r: BodyRewriteResult) -> String? {
        if case .replaced(let body, _) = r { return String(decoding: body, as: UTF8.self) }
        return nil
    }

    static func sessions(_ mgc: ScriptedMGC) -> ALGSessions {
        var policy = RewritePolicy.default
        policy.indicateAppliedInAnswer = true
        return ALGSessions(mgc: mgc, configuration: ALGSessionConfiguration(policy: policy, warningAgent: "pcscf.test"),
                           now: { .seconds(1) })
    }
}

@Suite("ALGSessions: SDP of a dialog through the session state machine and an MGC (TS 23.334 §8, TS 33.328 §7.2.1)")
struct ALGSessionsTests {
    @Test("No MGC configured: PCSCFHooks passes SDP unchanged (the ALG is optional)")
    func noALGPassesThrough() async throws {
        let hooks = try HookFx.hooks(TestNow())
        let invite = try ALGFx.invite()
        let r = await hooks.rewriteBody(Array(ALGFx.offer.utf8)[...], contentType: "application/sdp", message: invite,
                                        context: ALGFx.offerContext(invite))
        #expect(r == .unchanged)
        #expect(await hooks.alg == nil)
    }

    @Test("Offer → Reserve, TCP/MSRP on the AGW core address to the core; 200 answer → Configure, TCP/TLS/MSRP + AGW fingerprint + a=3ge2ae:applied to the UE; 2xx retransmission gets the same; BYE → Release of the context")
    func offerAnswerBye() async throws {
        let mgc = ScriptedMGC()
        let alg = ALGFx.sessions(mgc)
        let invite = try ALGFx.invite()
        let offered = try #require(ALGFx.text(await alg.rewrite(Array(ALGFx.offer.utf8)[...], message: invite,
                                                               context: ALGFx.offerContext(invite), flags: ALGFx.flags)))
        #expect(offered.contains("m=message 41002 TCP/MSRP "))
        #expect(offered.contains("c=IN IP4 198.51.100.1"))
        #expect(!offered.contains("fingerprint") && !offered.contains("3ge2ae") && !offered.contains("TLS"))
        let ok = try ALGFx.ok()
        let answered = try #require(ALGFx.text(await alg.rewrite(Array(ALGFx.answer.utf8)[...], message: ok,
                                                                context: ALGFx.answerContext(invite, 200), flags: ALGFx.flags)))
        #expect(answered.contains("m=message 41000 TCP/TLS/MSRP "))
        #expect(answered.contains("a=fingerprint:sha-256 AB:CD:EF:01"))
        #expect(answered.contains("a=3ge2ae:applied"))
        #expect(!answered.contains("7654 "))
        let again = ALGFx.text(await alg.rewrite(Array(ALGFx.answer.utf8)[...], message: ok,
                                                 context: ALGFx.answerContext(invite, 200), flags: ALGFx.flags))
        #expect(again == answered, "a retransmitted 2xx gets the same rewritten answer, no new AGW operation")
        await alg.requestCompleted(ALGFx.id, status: 200)
        #expect(await alg.count == 1, "a 2xx keeps the session")
        await alg.bye(try ALGFx.bye())
        #expect(await alg.count == 0)
        let ops = await mgc.operations
        #expect(ops.count == 3, "reserve, configure, release: \(ops)")
        #expect(await mgc.releases == [.context("7")])
    }

    @Test("RFC 3311 §5.1 with RFC 3264 §8: an UPDATE of the confirmed dialog re-offers the same MSRP stream on hold (a=connection:existing, a=sendonly): rewritten like a re-INVITE (TCP/MSRP on the AGW core address, no second Reserve); its 200 answer goes to the UE as TCP/TLS/MSRP with the AGW fingerprint and a=recvonly; BYE releases the one context")
    func updateReofferInConfirmedDialog() async throws {
        let mgc = ScriptedMGC()
        let alg = ALGFx.sessions(mgc)
        let invite = try ALGFx.invite()
        _ = try #require(ALGFx.text(await alg.rewrite(Array(ALGFx.offer.utf8)[...], message: invite,
                                                     context: ALGFx.offerContext(invite), flags: ALGFx.flags)))
        _ = try #require(ALGFx.text(await alg.rewrite(Array(ALGFx.answer.utf8)[...], message: try ALGFx.ok(),
                                                     context: ALGFx.answerContext(invite, 200), flags: ALGFx.flags)))
        await alg.requestCompleted(ALGFx.id, status: 200)

        let update = try ALGFixture.message("sessions/update.msg")
        let updateID = ProxyRequestID(rawValue: 2)
        let offerContext = ProxyBodyContext(requestID: updateID, direction: .request(from: .access, to: .core), request: update,
                                            requestInbound: HookFx.ueFlow, status: nil)
        let reoffered = try #require(ALGFx.text(await alg.rewrite(Array(ALGFixture.body("sessions/ue-update-offer.sdp").utf8)[...],
                                                                  message: update, context: offerContext, flags: ALGFx.flags)),
                                     "an UPDATE offer in the session is rewritten, never passed unchanged")
        #expect(reoffered.contains("m=message 41002 TCP/MSRP "))
        #expect(reoffered.contains("c=IN IP4 198.51.100.1"))
        #expect(reoffered.contains("a=sendonly"))
        #expect(!reoffered.contains("fingerprint") && !reoffered.contains("3ge2ae") && !reoffered.contains("TLS"))

        let answerContext = ProxyBodyContext(requestID: updateID, direction: .response, request: update,
                                             requestInbound: HookFx.ueFlow, status: 200)
        let answered = try #require(ALGFx.text(await alg.rewrite(Array(ALGFixture.body("sessions/core-update-answer.sdp").utf8)[...],
                                                                 message: try ALGFixture.message("sessions/200-update.msg"),
                                                                 context: answerContext, flags: ALGFx.flags)))
        #expect(answered.contains("m=message 41000 TCP/TLS/MSRP "))
        #expect(answered.contains("a=fingerprint:sha-256 AB:CD:EF:01"))
        #expect(answered.contains("a=recvonly"))
        #expect(!answered.contains("7654 ") && !answered.contains("203.0.113.5"))
        await alg.requestCompleted(updateID, status: 200)
        #expect(await alg.count == 1)

        let reserves = await mgc.operations.filter { if case .reserve = $0 { true } else { false } }
        #expect(reserves.count == 1, "the stream kept by the UPDATE needs no second Reserve")
        await alg.bye(try ALGFx.bye())
        #expect(await alg.count == 0)
        #expect(await mgc.releases == [.context("7")])
    }

    @Test("The AGW refuses the Add (H.248.8 510): the offer is refused 503 with Warning 399 \"IMS-AGW error 510\"; the session is gone (GatewayErrorMapping)")
    func gatewayError() async throws {
        let mgc = ScriptedMGC()
        await mgc.setFailAdd(.error(code: 510, text: "Insufficient resources"))
        let alg = ALGFx.sessions(mgc)
        let invite = try ALGFx.invite()
        let r = await alg.rewrite(Array(ALGFx.offer.utf8)[...], message: invite, context: ALGFx.offerContext(invite), flags: ALGFx.flags)
        guard case .failed(let reject) = r else { Issue.record("expected a rejection, got \(r)"); return }
        #expect(reject.status == 503)
        #expect(reject.extraHeaders.first { $0.name == "Warning" }?.value.hasPrefix("399 pcscf.test \"IMS-AGW error 510") == true)
        #expect(await alg.count == 0)
        await alg.requestCompleted(ALGFx.id, status: 503)
        #expect(await mgc.releases.isEmpty, "nothing was created, nothing to release")
    }

    @Test("CANCEL (487) while the Add is outstanding: the session ends and the context the Add then creates is released (no context left behind, TS 23.334 §8)")
    func cancelDuringReserve() async throws {
        let mgc = ScriptedMGC()
        await mgc.setHold(true)
        let alg = ALGFx.sessions(mgc)
        let invite = try ALGFx.invite()
        let offer = Task { await alg.rewrite(Array(ALGFx.offer.utf8)[...], message: invite, context: ALGFx.offerContext(invite), flags: ALGFx.flags) }
        for _ in 0..<200 where !(await mgc.isHolding) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(await mgc.isHolding)
        await alg.requestCompleted(ALGFx.id, status: 487)
        #expect(await alg.count == 0)
        await mgc.open()
        _ = await offer.value
        let releases = await mgc.releases
        #expect(releases.contains(.context("7")), "releases: \(releases)")
        #expect(await alg.count == 0)
    }

    @Test("An SDP body above the bound is refused 488 before any AGW operation (ALGSessions.maximumSDPBytes)")
    func oversizeRefused() async throws {
        let mgc = ScriptedMGC()
        let alg = ALGFx.sessions(mgc)
        let invite = try ALGFx.invite()
        let big = [UInt8](repeating: 0x61, count: ALGSessions.maximumSDPBytes + 1)
        let r = await alg.rewrite(big[...], message: invite, context: ALGFx.offerContext(invite), flags: ALGFx.flags)
        guard case .failed(let reject) = r else { Issue.record("expected 488, got \(r)"); return }
        #expect(reject.status == 488)
        #expect(await mgc.operations.isEmpty)
    }
}

/// Records the requests the ALG originates and answers them 200.
actor RecordingOriginator: ALGRequestOriginator {
    var requests: [ProxyOriginatedRequest] = []
    func originate(_ request: ProxyOriginatedRequest) async -> Int {
        requests.append(request)
        return 200
    }
}

@Suite("ALGSessions CSeq translation after the ALG's own re-INVITE (RFC 3261 §12.2.1.1, §12.2.2)")
struct ALGSessionsCSeqTests {
    static let audio = "m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

    static func message(_ startLine: String, from: String, to: String, cseq: String, contact: Bool = false) throws -> SIPMessage {
        try HookFx.parse("""
            \(startLine)
            Via: SIP/2.0/TCP 127.0.0.1:40123;branch=z9hG4bK-\(cseq.replacingOccurrences(of: " ", with: ""))
            Max-Forwards: 70
            From: \(from)
            To: \(to)
            Call-ID: call-1
            CSeq: \(cseq)
            \(contact ? "Contact: <sip:x@127.0.0.1:40123;transport=tcp>\n" : "")Content-Length: 0


            """)
    }

    static let alice = "<sip:alice@ims.test>;tag=a1", bobNoTag = "<sip:bob@ims.test>", bob = "<sip:bob@ims.test>;tag=b1"

    /// An established audio + MSRP call (INVITE offer, 200 answer) whose MSRP stream then fails TLS on the gateway,
    /// so the ALG re-INVITEs both sides (port 0 for that stream); the originator records those re-INVITEs.
    static func afterALGReINVITE() async throws -> (ALGSessions, RecordingOriginator) {
        let alg = ALGFx.sessions(ScriptedMGC())
        let originator = RecordingOriginator()
        await alg.attach(originator: originator)
        let invite = try message("INVITE sip:bob@ims.test SIP/2.0", from: alice, to: bobNoTag, cseq: "1 INVITE", contact: true)
        let offer = ALGFx.offer.replacingOccurrences(of: "t=0 0\r\n", with: "t=0 0\r\n" + audio)
        _ = try #require(ALGFx.text(await alg.rewrite(Array(offer.utf8)[...], message: invite, context: ALGFx.offerContext(invite), flags: ALGFx.flags)))
        let ok = try message("SIP/2.0 200 OK", from: alice, to: bob, cseq: "1 INVITE", contact: true)
        let answer = ALGFx.answer.replacingOccurrences(of: "t=0 0\r\n", with: "t=0 0\r\n" + audio)
        _ = try #require(ALGFx.text(await alg.rewrite(Array(answer.utf8)[...], message: ok, context: ALGFx.answerContext(invite, 200), flags: ALGFx.flags)))
        await alg.requestCompleted(ALGFx.id, status: 200)
        // The MSRP stream is index 1: its access termination is ip/3 (ScriptedMGC: 2 * index + 1).
        await alg.gatewayEvent(IqGatewayEventForContext(contextID: "7", event: .tlsFailure(termination: "ip/3")))
        await alg.settle()
        return (alg, originator)
    }

    @Test("RFC 3261 §12.2.2: TLS failure on one of two streams → the ALG re-INVITEs the callee with the caller's next CSeq (2) and the caller with 1; then the caller's own BYE 2 is forwarded as 3, a callee request 1 as 3, the ACK of the caller's 2xx keeps 1")
    func translatedAfterReINVITE() async throws {
        let (alg, originator) = try await Self.afterALGReINVITE()
        let (alice, bob, bobNoTag) = (Self.alice, Self.bob, Self.bobNoTag)
        let sent = await originator.requests
        #expect(sent.map(\.method) == ["INVITE", "INVITE"], "\(sent)")
        #expect(sent.first { $0.side == .mw }?.cseq == 2, "towards the callee as the caller: the caller's next")
        #expect(sent.first { $0.side == .gm }?.cseq == 1, "towards the caller as the callee (no request of the callee yet)")

        let ack = try Self.message("ACK sip:bob@203.0.113.5 SIP/2.0", from: alice, to: bob, cseq: "1 ACK")
        #expect(await alg.forwardCSeq(ack) == nil, "the ACK of the dialog-creating INVITE keeps 1 (§13.2.2.4)")
        let info = try Self.message("INFO sip:alice@127.0.0.1 SIP/2.0", from: bob, to: alice, cseq: "1 INFO")
        #expect(await alg.forwardCSeq(info) == 3, "the callee's request lands above the ALG's 1 (offset 2)")
        let bye = try Self.message("BYE sip:bob@203.0.113.5 SIP/2.0", from: alice, to: bob, cseq: "2 BYE")
        #expect(await alg.forwardCSeq(bye) == 3, "the caller's BYE lands above the ALG's 2")
        let outOfDialog = try Self.message("OPTIONS sip:bob@ims.test SIP/2.0", from: alice, to: bobNoTag, cseq: "9 OPTIONS")
        #expect(await alg.forwardCSeq(outOfDialog) == nil, "no To tag: not an in-dialog request")
    }

    @Test("RFC 3262 §7.2 with RFC 3261 §12.2.2: after the ALG's re-INVITE (2 towards the callee), the caller's own re-INVITE 2 goes on as 3; its PRACK 3 (RAck: 1 2 INVITE, for the callee's reliable 18x) goes on as 4 with RAck: 1 3 INVITE, the number the callee saw")
    func prackAfterReINVITE() async throws {
        let (alg, _) = try await Self.afterALGReINVITE()
        let (alice, bob) = (Self.alice, Self.bob)
        let reinvite = try Self.message("INVITE sip:bob@203.0.113.5 SIP/2.0", from: alice, to: bob, cseq: "2 INVITE", contact: true)
        #expect(await alg.forwardCSeq(reinvite) == 3)
        var prack = try Self.message("PRACK sip:bob@203.0.113.5 SIP/2.0", from: alice, to: bob, cseq: "3 PRACK")
        #expect(await alg.forwardRAck(prack) == nil, "no RAck header: nothing to translate")
        prack = try HookFx.parse(String(decoding: prack.bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
            .replacingOccurrences(of: "CSeq: 3 PRACK\n", with: "CSeq: 3 PRACK\nRAck: 1 2 INVITE\n"))
        #expect(await alg.forwardCSeq(prack) == 4)
        #expect(await alg.forwardRAck(prack) == "1 3 INVITE")
    }
}
