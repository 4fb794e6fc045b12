// The offer in a reliable 18x, answered in the PRACK, through ALGSessions (RFC 3262 §3/§5, RFC 6337 §2.2
// and §3.1, RFC 3261 §13.2.1): an INVITE without SDP, the callee's offer in a 183 with `Require: 100rel`
// and `RSeq`, the caller's answer in the PRACK, then a 2xx without body that confirms the session. Also the
// offer in the INVITE answered in a reliable 18x (2xx without body, or repeating the answer), and the
// failure paths. Scripted MGC, no sockets; messages and SDP under Fixtures/alg/reliable-18x/.
import ALGTestSupport
import Foundation
import IMSALG
import ProxyRuntime
import SDPRewrite
import SIPCore
import SIPProxy
import Testing
@testable import ALGServer

enum ReliableFx {
    /// A SIP message of the folder (LF in the file; CRLF on the wire).
    static func message(_ name: String) throws -> SIPMessage { try ALGFixture.message("reliable-18x/\(name)") }

    /// An SDP body of the folder (CRLF line ends, as the wire carries it).
    static func sdp(_ name: String) throws -> ArraySlice<UInt8> {
        Array(try ALGFixture.text("reliable-18x/\(name)").replacingOccurrences(of: "\n", with: "\r\n").utf8)[...]
    }

    static let inviteID = ProxyRequestID(rawValue: 1)
    static let prackID = ProxyRequestID(rawValue: 2)

    static func responseContext(_ invite: SIPMessage, _ status: Int) -> ProxyBodyContext {
        ProxyBodyContext(requestID: inviteID, direction: .response, request: invite, requestInbound: HookFx.ueFlow, status: status)
    }

    static func prackContext(_ prack: SIPMessage) -> ProxyBodyContext {
        ProxyBodyContext(requestID: prackID, direction: .request(from: .access, to: .core), request: prack,
                         requestInbound: HookFx.ueFlow, status: nil)
    }

    static func offerContext(_ invite: SIPMessage) -> ProxyBodyContext {
        ProxyBodyContext(requestID: inviteID, direction: .request(from: .access, to: .core), request: invite,
                         requestInbound: HookFx.ueFlow, status: nil)
    }

    /// ALGSessions on a clock the test moves (to show that the reaper leaves an established session alone).
    static func sessions(_ mgc: ScriptedMGC, clock: ManualClock) -> ALGSessions {
        var policy = RewritePolicy.default
        policy.indicateAppliedInAnswer = true
        return ALGSessions(mgc: mgc, configuration: ALGSessionConfiguration(policy: policy, warningAgent: "pcscf.test", setupTimeout: .seconds(180)),
                           now: { clock.now })
    }

    static func reserves(_ ops: [MGCOperation]) -> Int { ops.filter { if case .reserve = $0 { true } else { false } }.count }
    static func configures(_ ops: [MGCOperation]) -> Int { ops.filter { if case .configure = $0 { true } else { false } }.count }

    /// The body hook on the folder's SDP `sdp` carried by `response` (default: the core's reliable 183) to `invite`.
    static func inResponse(_ alg: ALGSessions, _ sdp: String, _ response: SIPMessage, to invite: SIPMessage,
                           status: Int = 183) async throws -> BodyRewriteResult {
        await alg.rewrite(try self.sdp(sdp), message: response, context: responseContext(invite, status), flags: ALGFx.flags)
    }

    /// The body hook on the folder's SDP `sdp` carried by the caller's `prack`.
    static func inPRACK(_ alg: ALGSessions, _ sdp: String, _ prack: SIPMessage) async throws -> BodyRewriteResult {
        await alg.rewrite(try self.sdp(sdp), message: prack, context: prackContext(prack), flags: ALGFx.flags)
    }

    static func rejection(_ r: BodyRewriteResult) -> ProxyReject? {
        if case .failed(let reject) = r { return reject }
        return nil
    }
}

final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Duration = .seconds(1)
    var now: Duration { lock.lock(); defer { lock.unlock() }; return value }
    func advance(_ d: Duration) { lock.lock(); value += d; lock.unlock() }
}

@Suite("ALGSessions: offer in a reliable 18x, answer in the PRACK (RFC 3262 §5, RFC 6337 §2.2/§3.1)")
struct ALGReliableProvisionalTests {
    typealias F = ReliableFx

    @Test("RFC 3262 §7.1: a reliable provisional response is one with Require: 100rel and an RSeq (1..2^31-1); a 183 without them is not")
    func reliability() throws {
        #expect(ALGSessions.reliableRSeq(try F.message("183-reliable.msg")) == 1)
        #expect(ALGSessions.reliableRSeq(try F.message("183-unreliable.msg")) == nil)
    }

    @Test("RFC 3262 §5 / RFC 6337 §2.2: INVITE without SDP; reliable 183 offer TCP/MSRP → Reserve, TCP/TLS/MSRP + AGW fingerprint + a=3ge2ae:applied to the UE; its retransmission (same RSeq) gets the same without a second Reserve; PRACK answer → Configure, TCP/MSRP without fingerprint to the core; 200 without body (through PCSCFHooks.processResponse) confirms with no AGW operation, and the setup reaper leaves the session alone; BYE → Release")
    func offerIn18xAnswerInPRACK() async throws {
        let mgc = ScriptedMGC()
        let clock = ManualClock()
        let alg = F.sessions(mgc, clock: clock)
        let hooks = try HookFx.hooks(TestNow())
        await hooks.attach(alg: alg)
        let invite = try F.message("invite-no-sdp.msg")
        #expect(invite.bodyRange.isEmpty)
        let p183 = try F.message("183-reliable.msg")
        let offered = try #require(ALGFx.text(try await F.inResponse(alg, "core-offer.sdp", p183, to: invite)))
        #expect(await alg.count == 1, "the 18x offer creates the session")
        #expect(offered.contains("m=message 41000 TCP/TLS/MSRP "), "\(offered)")
        #expect(offered.contains("a=fingerprint:sha-256 AB:CD:EF:01"))
        #expect(offered.contains("a=3ge2ae:applied"))
        #expect(offered.contains("c=IN IP4 192.0.2.1"))
        #expect(!offered.contains("7654 ") && !offered.contains("203.0.113.5"))
        // RFC 3262 §3: the UAS retransmits the reliable 18x (same RSeq) until PRACKed.
        let again = ALGFx.text(try await F.inResponse(alg, "core-offer.sdp", p183, to: invite))
        #expect(again == offered)
        #expect(F.reserves(await mgc.operations) == 1, "a retransmitted 18x does not Reserve twice")

        let prack = try F.message("prack.msg")
        #expect(await alg.forwardCSeq(prack) == nil, "no CSeq translation of the PRACK (ALGCSeqTranslation undisturbed)")
        let answered = try #require(ALGFx.text(try await F.inPRACK(alg, "ue-answer.sdp", prack)))
        #expect(answered.contains("m=message 41002 TCP/MSRP "), "\(answered)")
        #expect(answered.contains("c=IN IP4 198.51.100.1"))
        #expect(!answered.contains("fingerprint") && !answered.contains("TLS") && !answered.contains("3ge2ae"))
        var ops = await mgc.operations
        #expect(ops.count == 2 && F.configures(ops) == 1, "reserve, configure: \(ops)")

        let ok = try F.message("200-invite.msg")
        #expect(ok.bodyRange.isEmpty)
        _ = await hooks.processResponse(ok, context: ProxyResponseContext(requestID: F.inviteID, request: invite, requestInbound: HookFx.ueFlow,
                                                                          responseInbound: HookFx.coreFlow, status: 200))
        await alg.requestCompleted(F.inviteID, status: 200)
        ops = await mgc.operations
        #expect(ops.count == 2, "the 2xx without body is no new offer/answer: \(ops)")
        // Established: the setup reaper (RFC 3261 §16.6 Timer C) no longer applies.
        clock.advance(.seconds(400))
        await alg.tick()
        #expect(await alg.count == 1, "the 2xx confirmed the session")
        #expect(await mgc.releases.isEmpty)
        let bye = try F.message("bye.msg")
        #expect(await alg.forwardCSeq(bye) == nil, "the caller's BYE after its PRACK keeps its CSeq")
        await alg.bye(bye)
        #expect(await alg.count == 0)
        #expect(await mgc.releases == [.context("7")])
    }

    @Test("Control for the test above: without the 2xx, the session answered in the PRACK is still unconfirmed and the reaper ends it (Release)")
    func unconfirmedIsReaped() async throws {
        let mgc = ScriptedMGC()
        let clock = ManualClock()
        let alg = F.sessions(mgc, clock: clock)
        let invite = try F.message("invite-no-sdp.msg")
        _ = try await F.inResponse(alg, "core-offer.sdp", try F.message("183-reliable.msg"), to: invite)
        let prack = try F.message("prack.msg")
        _ = try await F.inPRACK(alg, "ue-answer.sdp", prack)
        clock.advance(.seconds(400))
        await alg.tick()
        #expect(await alg.count == 0)
        #expect(await mgc.releases == [.context("7")])
    }

    @Test("RFC 6337 §3.1: the 2xx after the reliable 18x offer may repeat that offer: the UE gets the same rewritten SDP, the session is confirmed, no second Reserve or Configure")
    func twoXXRepeatsOffer() async throws {
        let mgc = ScriptedMGC()
        let clock = ManualClock()
        let alg = F.sessions(mgc, clock: clock)
        let invite = try F.message("invite-no-sdp.msg")
        let offered = ALGFx.text(try await F.inResponse(alg, "core-offer.sdp", try F.message("183-reliable.msg"), to: invite))
        let prack = try F.message("prack.msg")
        _ = try await F.inPRACK(alg, "ue-answer.sdp", prack)
        let repeated = ALGFx.text(try await F.inResponse(alg, "core-offer.sdp", try F.message("200-invite.msg"), to: invite, status: 200))
        #expect(repeated != nil && repeated == offered)
        #expect(await mgc.operations.count == 2)
        clock.advance(.seconds(400))
        await alg.tick()
        #expect(await alg.count == 1, "confirmed by the 2xx")
    }

    @Test("RFC 3261 §13.2.1 / RFC 6337 §3.1: offer in the INVITE, answer in a reliable 183 (Configure); the 2xx repeating the same answer gets the same rewritten SDP without a second Configure; a PRACK without body needs nothing")
    func offerInINVITEAnswerIn18xThen2xxRepeats() async throws {
        let mgc = ScriptedMGC()
        let clock = ManualClock()
        let alg = F.sessions(mgc, clock: clock)
        let invite = try F.message("invite-offer.msg")
        let toCore = try #require(ALGFx.text(await alg.rewrite(try F.sdp("ue-offer.sdp"), message: invite,
                                                              context: F.offerContext(invite), flags: ALGFx.flags)))
        #expect(toCore.contains("TCP/MSRP") && !toCore.contains("TLS"))
        let in18x = try #require(ALGFx.text(try await F.inResponse(alg, "core-answer.sdp", try F.message("183-reliable.msg"), to: invite)))
        #expect(in18x.contains("TCP/TLS/MSRP") && in18x.contains("a=fingerprint:sha-256 AB:CD:EF:01"), "\(in18x)")
        #expect(F.configures(await mgc.operations) == 1)
        let in2xx = ALGFx.text(try await F.inResponse(alg, "core-answer.sdp", try F.message("200-invite.msg"), to: invite, status: 200))
        #expect(in2xx == in18x)
        let ops = await mgc.operations
        #expect(ops.count == 2, "no second Configure: \(ops)")
        clock.advance(.seconds(400))
        await alg.tick()
        #expect(await alg.count == 1, "confirmed by the 2xx")
    }

    @Test("RFC 3262 §5 / RFC 6337 §3.1: offer in the INVITE, answer in a reliable 183; the 2xx without body (through PCSCFHooks) confirms it, no second Configure; a PRACK with SDP then would be a new offer, which the ALG refuses 488 (never forwarded unrewritten)")
    func offerInINVITEAnswerIn18xThen2xxWithoutBody() async throws {
        let mgc = ScriptedMGC()
        let clock = ManualClock()
        let alg = F.sessions(mgc, clock: clock)
        let hooks = try HookFx.hooks(TestNow())
        await hooks.attach(alg: alg)
        let invite = try F.message("invite-offer.msg")
        _ = await alg.rewrite(try F.sdp("ue-offer.sdp"), message: invite, context: F.offerContext(invite), flags: ALGFx.flags)
        _ = try await F.inResponse(alg, "core-answer.sdp", try F.message("183-reliable.msg"), to: invite)
        let prack = try F.message("prack.msg")
        let offerInPRACK = try await F.inPRACK(alg, "ue-offer.sdp", prack)
        #expect(F.rejection(offerInPRACK)?.status == 488)
        _ = await hooks.processResponse(try F.message("200-invite.msg"),
                                        context: ProxyResponseContext(requestID: F.inviteID, request: invite, requestInbound: HookFx.ueFlow,
                                                                      responseInbound: HookFx.coreFlow, status: 200))
        #expect(await mgc.operations.count == 2)
        clock.advance(.seconds(400))
        await alg.tick()
        #expect(await alg.count == 1, "confirmed by the 2xx without body")
        #expect(await mgc.releases.isEmpty)
    }

    @Test("RFC 3261 §13.2.1: a 183 with SDP that is not reliable (no 100rel/RSeq) to an INVITE without SDP is no offer: no session, no AGW operation")
    func unreliable18xIsNoOffer() async throws {
        let mgc = ScriptedMGC()
        let alg = F.sessions(mgc, clock: ManualClock())
        let invite = try F.message("invite-no-sdp.msg")
        let r = try await F.inResponse(alg, "core-offer.sdp", try F.message("183-unreliable.msg"), to: invite)
        #expect(r == .unchanged)
        #expect(await alg.count == 0)
        #expect(await mgc.operations.isEmpty)
    }

    @Test("RFC 3261 §16.7 / TS 23.334 §8: a final non-2xx (486) after the reliable 18x offer releases the context; nothing is left")
    func errorFinalAfter18xOffer() async throws {
        let mgc = ScriptedMGC()
        let alg = F.sessions(mgc, clock: ManualClock())
        let invite = try F.message("invite-no-sdp.msg")
        _ = try await F.inResponse(alg, "core-offer.sdp", try F.message("183-reliable.msg"), to: invite)
        #expect(await alg.count == 1)
        await alg.requestCompleted(F.inviteID, status: 486)
        #expect(await alg.count == 0)
        #expect(await mgc.releases == [.context("7")])
    }

    @Test("RFC 3262 §5 / RFC 8122 §5: a PRACK whose answer is malformed (31-byte SHA-256 fingerprint) gets 488 with a Warning and the context is released; a retransmission of the 18x is refused (488) without a new Reserve")
    func malformedPRACKAnswer() async throws {
        let mgc = ScriptedMGC()
        let alg = F.sessions(mgc, clock: ManualClock())
        let invite = try F.message("invite-no-sdp.msg")
        let p183 = try F.message("183-reliable.msg")
        _ = try await F.inResponse(alg, "core-offer.sdp", p183, to: invite)
        let prack = try F.message("prack.msg")
        let r = try await F.inPRACK(alg, "ue-answer-malformed.sdp", prack)
        let reject = try #require(F.rejection(r))
        #expect(reject.status == 488)
        #expect(reject.extraHeaders.contains { $0.name == "Warning" && $0.value.hasPrefix("399 pcscf.test ") })
        #expect(await alg.count == 0)
        #expect(await mgc.releases == [.context("7")])
        let again = try await F.inResponse(alg, "core-offer.sdp", p183, to: invite)
        #expect(F.rejection(again)?.status == 488)
        #expect(F.reserves(await mgc.operations) == 1, "no Reserve for the retransmitted 18x")
        #expect(await alg.count == 0)
    }

    @Test("TS 23.334 §8 / RFC 3262 §3: the Reserve for a reliable 18x offer fails: the 18x is replaced by the gateway error's rejection, and its retransmission is refused without a second Reserve")
    func reserveFailureFor18xOffer() async throws {
        let mgc = ScriptedMGC()
        await mgc.setFailAdd(.error(code: 510, text: "Insufficient resources", contextID: nil))
        let alg = F.sessions(mgc, clock: ManualClock())
        let invite = try F.message("invite-no-sdp.msg")
        let p183 = try F.message("183-reliable.msg")
        let first = try await F.inResponse(alg, "core-offer.sdp", p183, to: invite)
        #expect(F.rejection(first) != nil)
        #expect(await alg.count == 0)
        let again = try await F.inResponse(alg, "core-offer.sdp", p183, to: invite)
        #expect(F.rejection(again)?.status == 488)
        #expect(F.reserves(await mgc.operations) == 1)
    }

    @Test("RFC 3262 §3 / RFC 3261 §16.7 forking: a reliable 183 of another early dialog (other To tag, also RSeq 1) with another offer is no retransmission: it never gets the first dialog's rewritten offer; the machine refuses a second offer while one is outstanding (500) and reserves nothing more")
    func forkedSecondOfferIsNoRetransmission() async throws {
        let mgc = ScriptedMGC()
        let alg = F.sessions(mgc, clock: ManualClock())
        let invite = try F.message("invite-no-sdp.msg")
        let first = ALGFx.text(try await F.inResponse(alg, "core-offer.sdp", try F.message("183-reliable.msg"), to: invite))
        #expect(first != nil)
        let fork = try await F.inResponse(alg, "core-offer-fork.sdp", try F.message("183-reliable-fork.msg"), to: invite)
        #expect(ALGFx.text(fork) == nil, "the first dialog's offer is not handed to another early dialog")
        #expect(F.rejection(fork)?.status == 500)
        #expect(F.reserves(await mgc.operations) == 1)
        #expect(await alg.count == 1)
        #expect(await mgc.releases.isEmpty)
    }

    @Test("RFC 3262 §4: a PRACK with SDP in a dialog the ALG does not hold passes unchanged")
    func prackWithoutSession() async throws {
        let mgc = ScriptedMGC()
        let alg = F.sessions(mgc, clock: ManualClock())
        let prack = try F.message("prack.msg")
        let r = try await F.inPRACK(alg, "ue-answer.sdp", prack)
        #expect(r == .unchanged)
        #expect(await mgc.operations.isEmpty)
    }
}
