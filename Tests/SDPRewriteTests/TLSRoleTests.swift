import Testing
import SDPCore
@testable import SDPRewrite

@Suite("TCP and TLS roles (RFC 4145 §4, seed 000 NOTE 2, seed 003 table, seed 004 flows)")
struct TLSRoleTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var direction: CallDirection
        var answerSetup: String
        var agwTLSClient: Bool
        var testDescription: String { "\(direction.rawValue) answer a=setup:\(answerSetup) -> AGW TLS \(agwTLSClient ? "client" : "server")" }
    }

    /// Seed 003 (TR 29.828 §5.1.1.2.4) four rows: ALG sends answer to UE with active -> client, passive -> server;
    /// UE answers active -> server, passive -> client.
    static let seed003: [Row] = [
        Row(direction: .originating, answerSetup: "active", agwTLSClient: true),
        Row(direction: .originating, answerSetup: "passive", agwTLSClient: false),
        Row(direction: .terminating, answerSetup: "active", agwTLSClient: false),
        Row(direction: .terminating, answerSetup: "passive", agwTLSClient: true),
    ]

    @Test("Seed 003 MSRP table: the TCP-active side is the TLS client", arguments: seed003)
    func msrpSeed003(row: Row) throws {
        var s = RewriteSession(flags: .all)
        let (req, sdp) = row.direction == .originating
            ? try T.exchange(&s, offer: T.ueMSRP(), answer: T.coreMSRP(setup: row.answerSetup), direction: .originating)
            : try T.exchange(&s, offer: T.coreMSRP(), answer: T.ueMSRP(setup: row.answerSetup, requested: false), direction: .terminating)
        #expect(req.streams[0].access?.startTLSAsClient == row.agwTLSClient)
        if row.direction == .originating {
            // The a=setup the ALG sends to the UE is the one the table keys on (proxy mode keeps it).
            #expect(try sdp.media[0].setupRole()?.rawValue == row.answerSetup)
        }
    }

    @Test("Seed 003 / specs.md pitfall 2: the MSRP TLS role is unknown in the offer-time request")
    func msrpUnknownAtOffer() throws {
        var s = RewriteSession(flags: .all)
        let (req, _) = try T.exchange(&s, offer: T.ueMSRP(), direction: .originating)
        #expect(req.streams[0].access?.startTLSAsClient == nil)
        #expect(req.streams[0].access?.requestLocalFingerprint == true)
    }

    @Test("Seed 004 BFCP: the SDP offerer is the TLS client whatever a=setup says", arguments: ["active", "passive"])
    func bfcpOffererIsClient(setup: String) throws {
        var orig = RewriteSession(flags: .all)
        let (o1, _) = try T.exchange(&orig, offer: T.ueBFCP(), direction: .originating)
        #expect(o1.streams[0].access?.startTLSAsClient == false)      // UE offerer starts TLS (seed 004 orig step 12)
        let r1 = try orig.receive(T.coreBFCP(setup: setup), kind: .answer, direction: .originating)
        #expect(r1.streams[0].access?.startTLSAsClient == false)
        var term = RewriteSession(flags: .all)
        let (o2, _) = try T.exchange(&term, offer: T.coreBFCP(), direction: .terminating)
        #expect(o2.streams[0].access?.startTLSAsClient == true)       // seed 004 term steps 2-4: set at Reserve
        let ueAnswer = T.sdp(T.head("10.1.1.10") + ["m=application 9 TCP/TLS/BFCP *", "a=setup:\(setup)", "a=floorctrl:c-only", "a=fingerprint:\(T.ueFP)"])
        let r2 = try term.receive(ueAnswer, kind: .answer, direction: .terminating)
        #expect(r2.streams[0].access?.startTLSAsClient == true)
    }

    @Test("specs.md §5.3 [U]: the BFCP TLS-role rule is configurable")
    func bfcpRuleConfigurable() throws {
        var p = RewritePolicy()
        p.bfcpTLSRole = .tcpActiveIsClient
        var s = RewriteSession(policy: p, flags: .all)
        let (req, _) = try T.exchange(&s, offer: T.ueBFCP(), answer: T.coreBFCP(setup: "active"), direction: .originating)
        #expect(req.streams[0].access?.startTLSAsClient == true)   // AGW TCP-active towards the UE
    }

    @Test("RFC 4145 §4 defaults / seed 003 NOTE 1: absent a=setup means offerer active, answerer passive")
    func missingSetup() throws {
        #expect(TCPRoleRule.effectiveOfferRole(nil) == .active)
        #expect(TCPRoleRule.effectiveAnswerRole(nil) == .passive)
        var s = RewriteSession(flags: .all)
        let (offerReq, _) = try T.exchange(&s, offer: T.ueMSRP(setup: nil), direction: .originating)
        #expect(offerReq.streams[0].access?.tcp?.synTriggersPeer == true)   // the UE (offerer) connects first
        let ans = try s.receive(T.coreMSRP(setup: nil), kind: .answer, direction: .originating)
        #expect(ans.streams[0].access?.startTLSAsClient == false)             // UE TCP client => UE TLS client
        let fwd = try s.applyGatewayAnswer(GatewayAnswer())
        #expect(try fwd.media[0].setupRole() == nil)                          // defaults kept end to end
    }

    @Test("RFC 4145 §4: a session-level a=setup applies to every m-line without its own, in the offer and in the answer")
    func sessionLevelSetup() throws {
        let ueHead = T.head("10.1.1.10"), coreHead = T.head("203.0.113.5")
        let ueMedia = ["m=message 50000 TCP/TLS/MSRP *", "a=accept-types:message/cpim", "a=path:msrps://10.1.1.10:50000/a1;tcp",
                       "a=fingerprint:\(T.ueFP)", "a=msrp-cema", "a=3ge2ae:requested"]
        let coreMedia = ["m=message 7654 TCP/MSRP *", "a=accept-types:message/cpim", "a=path:msrp://203.0.113.5:7654/b1;tcp", "a=msrp-cema"]
        // The same roles, once on the m-line and once at session level only.
        var onMedia = RewriteSession(flags: .all)
        let mediaOffer = try T.exchange(&onMedia, offer: T.sdp(ueHead + [ueMedia[0], "a=setup:passive"] + ueMedia.dropFirst()),
                                        direction: .originating).0
        let mediaAnswer = try onMedia.receive(T.sdp(coreHead + [coreMedia[0], "a=setup:passive"] + coreMedia.dropFirst()),
                                              kind: .answer, direction: .originating)
        var onSession = RewriteSession(flags: .all)
        let sessionOffer = try T.exchange(&onSession, offer: T.sdp(ueHead + ["a=setup:passive"] + ueMedia), direction: .originating).0
        let sessionAnswer = try onSession.receive(T.sdp(coreHead + ["a=setup:passive"] + coreMedia), kind: .answer, direction: .originating)
        #expect(sessionOffer == mediaOffer)
        #expect(sessionAnswer == mediaAnswer)
        // A passive offerer: the answerer's side connects first (not the RFC 4145 default of an active offerer).
        #expect(sessionOffer.streams[0].core?.tcp?.synTriggersPeer == true)
        #expect(sessionOffer.streams[0].access?.tcp?.synTriggersPeer == false)
        // A media-level a=setup overrides the session-level one.
        var both = RewriteSession(flags: .all)
        let overridden = try T.exchange(&both, offer: T.sdp(ueHead + ["a=setup:active", ueMedia[0], "a=setup:passive"] + ueMedia.dropFirst()),
                                        direction: .originating).0
        #expect(overridden == mediaOffer)
    }

    @Test("Seed 000 b) / seed 004 steps 2-4: SYN-trigger interlinkage on the answerer side for actpass, corrected by the answer")
    func interlinkage() {
        #expect(TCPRoleRule.synTriggerSide(offererSide: .access, offerRole: .actpass, answerRole: nil) == .core)
        #expect(TCPRoleRule.synTriggerSide(offererSide: .core, offerRole: .actpass, answerRole: nil) == .access)
        #expect(TCPRoleRule.synTriggerSide(offererSide: .access, offerRole: .actpass, answerRole: .some(.passive)) == .access)
        #expect(TCPRoleRule.synTriggerSide(offererSide: .access, offerRole: .holdconn, answerRole: nil) == nil)
    }

    @Test("Seed 000 a): explicit-connect mode tells the AGW where to send the SYN instead of interlinkage")
    func explicitConnect() throws {
        var p = RewritePolicy()
        p.tcpHandling = .proxyExplicitConnect
        var s = RewriteSession(policy: p, flags: .all)
        let (req, _) = try T.exchange(&s, offer: T.ueMSRP(), answer: T.coreMSRP(setup: "active"), direction: .originating)
        #expect(req.streams[0].access?.tcp?.connect == true)     // AGW connects to the UE
        #expect(req.streams[0].core?.tcp?.connect == false)      // the core connects to the AGW
        #expect(req.streams[0].access?.tcp?.synTriggersPeer == false && req.streams[0].core?.tcp?.synTriggersPeer == false)
    }

    @Test("TS 23.334 §6.2.18.4 merge mode: a=setup:passive to the UE, AGW TCP server on the access side")
    func mergeMode() throws {
        var p = RewritePolicy()
        p.tcpHandling = .merge
        var s = RewriteSession(policy: p, flags: .all)
        let (req, sdp) = try T.exchange(&s, offer: T.ueMSRP(), answer: T.coreMSRP(setup: "passive"), direction: .originating)
        #expect(try sdp.media[0].setupRole() == .passive)
        #expect(req.streams[0].access?.tcp?.setup == .passive)
        #expect(req.streams[0].access?.startTLSAsClient == false)
        #expect(req.streams[0].core?.tcp?.connect == true)     // core answered passive: the AGW connects on the core side
    }

    @Test("Seed 000: e2ae TCP handling is state-aware (a=setup:actpass to the AGW on both terminations)")
    func stateAware() throws {
        var s = RewriteSession(flags: .all)
        let (req, _) = try T.exchange(&s, offer: T.ueMSRP(), direction: .originating)
        #expect(req.streams[0].access?.tcp?.setup == .actpass && req.streams[0].core?.tcp?.setup == .actpass)
    }
}
