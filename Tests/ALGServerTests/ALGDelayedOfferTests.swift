// Delayed offer through ALGSessions (RFC 3261 §13.2.1, RFC 3264 §4): an INVITE without SDP, the
// callee's offer in the 2xx, the caller's answer in the ACK. Scripted MGC, no sockets.
import IMSALG
import ProxyRuntime
import SDPRewrite
import SIPCore
import SIPProxy
import Testing
@testable import ALGServer

enum DelayedFx {
    /// The core's offer in the 200 (TCP/MSRP, no fingerprint).
    static let coreOffer = ALGFixture.body("sessions/core-offer-in-200.sdp")
    /// The UE's answer in the ACK (TCP/TLS/MSRP with its fingerprint).
    static let ueAnswer = ALGFixture.body("sessions/ue-answer-in-ack.sdp")

    static func ok() throws -> SIPMessage { try ALGFixture.message("sessions/200-invite-offer.msg") }

    static func ack() throws -> SIPMessage { try ALGFixture.message("sessions/ack-answer.msg") }

    static func ackContext(_ ack: SIPMessage) -> ProxyBodyContext {
        ProxyBodyContext(requestID: ProxyRequestID(rawValue: 0), direction: .request(from: .access, to: .core), request: ack,
                         requestInbound: HookFx.ueFlow, status: nil)
    }
}

@Suite("ALGSessions: delayed offer — offer in the 2xx, answer in the ACK (RFC 3261 §13.2.1, RFC 3264 §4)")
struct ALGDelayedOfferTests {
    @Test("RFC 3261 §13.2.1: INVITE without SDP; 200 offer TCP/MSRP → Reserve, TCP/TLS/MSRP + AGW fingerprint + a=3ge2ae:applied to the UE; retransmitted 200 gets the same; ACK answer → Configure, TCP/MSRP without fingerprint to the core; BYE → Release")
    func offerIn2xxAnswerInACK() async throws {
        let mgc = ScriptedMGC()
        let alg = ALGFx.sessions(mgc)
        let invite = try ALGFx.invite()
        #expect(invite.bodyRange.isEmpty)
        let ok = try DelayedFx.ok()
        let offered = try #require(ALGFx.text(await alg.rewrite(Array(DelayedFx.coreOffer.utf8)[...], message: ok,
                                                               context: ALGFx.answerContext(invite, 200), flags: ALGFx.flags)))
        #expect(await alg.count == 1, "the 2xx offer creates the session")
        #expect(offered.contains("m=message 41000 TCP/TLS/MSRP "), "\(offered)")
        #expect(offered.contains("a=fingerprint:sha-256 AB:CD:EF:01"))
        #expect(offered.contains("a=3ge2ae:applied"))
        #expect(offered.contains("c=IN IP4 192.0.2.1"))
        #expect(!offered.contains("7654 ") && !offered.contains("203.0.113.5"))
        let again = ALGFx.text(await alg.rewrite(Array(DelayedFx.coreOffer.utf8)[...], message: ok,
                                                 context: ALGFx.answerContext(invite, 200), flags: ALGFx.flags))
        #expect(again == offered, "a retransmitted 2xx gets the same rewritten offer, no new AGW operation")
        #expect(await mgc.operations.count == 1)
        await alg.requestCompleted(ALGFx.id, status: 200)
        let ack = try DelayedFx.ack()
        let answered = try #require(ALGFx.text(await alg.rewrite(Array(DelayedFx.ueAnswer.utf8)[...], message: ack,
                                                                context: DelayedFx.ackContext(ack), flags: ALGFx.flags)))
        #expect(answered.contains("m=message 41002 TCP/MSRP "), "\(answered)")
        #expect(answered.contains("c=IN IP4 198.51.100.1"))
        #expect(!answered.contains("fingerprint") && !answered.contains("TLS") && !answered.contains("3ge2ae"))
        let ops = await mgc.operations
        #expect(ops.count == 2, "reserve, configure: \(ops)")
        if ops.count == 2, case .configure = ops[1] {} else { Issue.record("second operation is not a Configure: \(ops)") }
        await alg.bye(try ALGFx.bye())
        #expect(await alg.count == 0)
        #expect(await mgc.releases == [.context("7")])
    }

    @Test("RFC 3261 §14.1 / §13.2.1: a re-INVITE without SDP in an established session: the callee's 2xx offer is a re-offer from that side (UE gets TLS, no new Reserve), the ACK answer reaches the core as TCP/MSRP")
    func reINVITEWithoutSDP() async throws {
        let mgc = ScriptedMGC()
        let alg = ALGFx.sessions(mgc)
        let invite = try ALGFx.invite()
        let ok = try DelayedFx.ok()
        _ = await alg.rewrite(Array(DelayedFx.coreOffer.utf8)[...], message: ok, context: ALGFx.answerContext(invite, 200), flags: ALGFx.flags)
        await alg.requestCompleted(ALGFx.id, status: 200)
        let ack = try DelayedFx.ack()
        _ = await alg.rewrite(Array(DelayedFx.ueAnswer.utf8)[...], message: ack, context: DelayedFx.ackContext(ack), flags: ALGFx.flags)
        #expect(await mgc.operations.count == 2)
        let reinvite = try ALGFixture.message("sessions/reinvite-no-sdp.msg")
        let reContext = ProxyBodyContext(requestID: ProxyRequestID(rawValue: 2), direction: .response, request: reinvite,
                                         requestInbound: HookFx.ueFlow, status: 200)
        let reoffer = DelayedFx.coreOffer.replacingOccurrences(of: "o=bob 2 2", with: "o=bob 2 3")
            .replacingOccurrences(of: "7654", with: "7656")
        let offered = try #require(ALGFx.text(await alg.rewrite(Array(reoffer.utf8)[...], message: ok, context: reContext, flags: ALGFx.flags)))
        #expect(offered.contains("TCP/TLS/MSRP") && offered.contains("a=fingerprint:sha-256 AB:CD:EF:01"), "\(offered)")
        #expect(!offered.contains("7656"))
        #expect(await mgc.operations.filter { if case .reserve = $0 { true } else { false } }.count == 1, "no new Reserve for the re-offer")
        let answered = try #require(ALGFx.text(await alg.rewrite(Array(DelayedFx.ueAnswer.utf8)[...], message: ack,
                                                                context: DelayedFx.ackContext(ack), flags: ALGFx.flags)))
        #expect(answered.contains("TCP/MSRP") && !answered.contains("TLS") && !answered.contains("fingerprint"), "\(answered)")
        #expect(await alg.count == 1)
    }

    @Test("RFC 3261 §13.2.1: an ACK with SDP in a dialog whose 2xx carried no offer is not an answer: passes unchanged (no session)")
    func ackWithoutSession() async throws {
        let mgc = ScriptedMGC()
        let alg = ALGFx.sessions(mgc)
        let ack = try DelayedFx.ack()
        let r = await alg.rewrite(Array(DelayedFx.ueAnswer.utf8)[...], message: ack, context: DelayedFx.ackContext(ack), flags: ALGFx.flags)
        #expect(r == .unchanged)
        #expect(await mgc.operations.isEmpty)
    }
}
