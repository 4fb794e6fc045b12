// The IMS-ALG end to end over real sockets, one parameterised test over the call cases of issue 9: the
// built pcscf-alg binary (`ALGBinaryLab`; Iq on UDP), the OTP megaco MG (Tests/Peers/megaco_mg.escript) as
// the IMS-AGW, a SIPp UE (Gm, TCP; UDP for one CANCEL case) and a SIPp S-CSCF (Mw, UDP) running the pair `ALGCallCase` generates.
// SIPp's check_it regexps check the SDP each side receives; the MG's log shows the H.248 commands; at the
// end the MG's own count must show no context left (`MG LIVE contexts=0 terminations=0`).
// Without sipp or escript: skipped with a reason; under CI=true a failure.
import ALGTestSupport
import Foundation
import H248Client
import IMSALG
import Testing
@testable import ALGServer

enum ALGMedia {
    static let ueFingerprint = "sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF"
    static let farFingerprint = "sha-256 11:22:33:44:55:66:77:88:99:00:AA:BB:CC:DD:EE:FF:11:22:33:44:55:66:77:88:99:00:AA:BB:CC:DD:EE:FF"
    /// The OTP MG's fingerprint ("a=fingerprint:$" resolved) and its media ports (--port-base 41000).
    static let agwFingerprint = "a=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89"
    static let agwPort = "410[0-9][0-9]"

    static func msrp(port: Int, tls: Bool, setup: String, fingerprint: String? = nil, e2ae: Bool = false) -> String {
        var m = "m=message \(port) \(tls ? "TCP/TLS/MSRP" : "TCP/MSRP") *\na=accept-types:message/cpim\n"
        m += "a=path:\(tls ? "msrps" : "msrp")://[local_ip]:\(port)/s\(port);tcp\na=setup:\(setup)\na=connection:new\n"
        if let fingerprint { m += "a=fingerprint:\(fingerprint)\n" }
        m += "a=msrp-cema\n"
        if e2ae { m += "a=3ge2ae:requested\n" }
        return m
    }

    static func bfcp(port: Int, tls: Bool, setup: String, floorctrl: String, fingerprint: String? = nil, e2ae: Bool = false) -> String {
        var m = "m=application \(port) \(tls ? "TCP/TLS/BFCP" : "TCP/BFCP") *\na=setup:\(setup)\na=connection:new\na=floorctrl:\(floorctrl)\n"
        m += "a=confid:4321\na=userid:1234\na=floorid:1 mstrm:10\n"
        if let fingerprint { m += "a=fingerprint:\(fingerprint)\n" }
        if e2ae { m += "a=3ge2ae:requested\n" }
        return m
    }

    static func audio(port: Int) -> String { "m=audio \(port) RTP/AVP 0\na=rtpmap:0 PCMU/8000\na=sendrecv\n" }

    /// What the UE must see of an e2ae stream: TLS on the AGW's access port, the AGW fingerprint,
    /// a=3ge2ae:applied, never the far end's port (TS 33.328 §7.2.1; seed 003).
    static func ueSeesE2AE(_ media: String, farPort: Int) -> [SDPCheck] {
        [.has("m=\(media) \(agwPort) TCP/TLS/"), .has(agwFingerprint), .has("a=3ge2ae:applied"), .lacks("m=\(media) \(farPort) "),
         .has("c=IN IP4 127\\.0\\.0\\.1")]
    }

    /// What the core must see of an e2ae stream: plain TCP on the AGW's core port, no TLS, no fingerprint,
    /// no a=3ge2ae (seed 003: "TCP/MSRP" or "TCP" for the core termination).
    static func coreSeesPlain(_ media: String, uePort: Int) -> [SDPCheck] {
        [.has("m=\(media) \(agwPort) TCP/(MSRP|BFCP) "), .lacks("TLS"), .lacks("fingerprint"), .lacks("3ge2ae"), .lacks("m=\(media) \(uePort) ")]
    }

    static let tlsClient = "signals=tlsbsc/establish"
}

extension ALGCallCase {
    typealias M = ALGMedia

    static let all: [ALGCallCase] = [
        // Seed 003 a=setup table, rows 1-2 (originating: the ALG sends the answer towards the UE).
        ALGCallCase(name: "MSRP e2ae originating, seed 003 row 1: the answer towards the UE says a=setup:active, so the IMS-AGW is the TLS client (Establish TLS in the Modify)",
                    direction: .originating,
                    ueMedia: M.msrp(port: 50000, tls: true, setup: "actpass", fingerprint: M.ueFingerprint, e2ae: true),
                    coreMedia: M.msrp(port: 7654, tls: false, setup: "active"),
                    ueChecks: M.ueSeesE2AE("message", farPort: 7654) + [.has("a=setup:active")],
                    coreChecks: M.coreSeesPlain("message", uePort: 50000),
                    mgLog: ["MG MODIFY", M.tlsClient], mgAdds: 2),
        ALGCallCase(name: "MSRP e2ae originating, seed 003 row 2: the answer towards the UE says a=setup:passive, so the IMS-AGW is the TLS server (no Establish TLS)",
                    direction: .originating,
                    ueMedia: M.msrp(port: 50000, tls: true, setup: "active", fingerprint: M.ueFingerprint, e2ae: true),
                    coreMedia: M.msrp(port: 7654, tls: false, setup: "passive"),
                    ueChecks: M.ueSeesE2AE("message", farPort: 7654) + [.has("a=setup:passive")],
                    coreChecks: M.coreSeesPlain("message", uePort: 50000),
                    mgLog: ["MG MODIFY"], mgLogAbsent: [M.tlsClient], mgAdds: 2),
        // Rows 3-4 (terminating: the ALG receives the UE's answer).
        ALGCallCase(name: "MSRP e2ae terminating, seed 003 row 3: the UE answers a=setup:active, so the IMS-AGW is the TLS server; the core gets the answer as TCP/MSRP",
                    direction: .terminating,
                    ueMedia: M.msrp(port: 50002, tls: true, setup: "active", fingerprint: M.ueFingerprint),
                    coreMedia: M.msrp(port: 7654, tls: false, setup: "actpass"),
                    ueChecks: M.ueSeesE2AE("message", farPort: 7654),
                    coreChecks: M.coreSeesPlain("message", uePort: 50002) + [.has("a=setup:active")],
                    mgLog: ["MG MODIFY"], mgLogAbsent: [M.tlsClient], mgAdds: 2),
        ALGCallCase(name: "MSRP e2ae terminating, seed 003 row 4: the UE answers a=setup:passive, so the IMS-AGW is the TLS client (Establish TLS in the Modify)",
                    direction: .terminating,
                    ueMedia: M.msrp(port: 50002, tls: true, setup: "passive", fingerprint: M.ueFingerprint),
                    coreMedia: M.msrp(port: 7654, tls: false, setup: "actpass"),
                    ueChecks: M.ueSeesE2AE("message", farPort: 7654),
                    coreChecks: M.coreSeesPlain("message", uePort: 50002) + [.has("a=setup:passive")],
                    mgLog: ["MG MODIFY", M.tlsClient], mgAdds: 2),
        // Delayed offer (RFC 3261 §13.2.1, RFC 3264 §4): the UE's INVITE has no SDP, the core offers in
        // the 200 (treated like a terminating offer), the UE answers in the ACK.
        ALGCallCase(name: "MSRP e2ae delayed offer, RFC 3261 §13.2.1: INVITE without SDP; the core's 200 offers TCP/MSRP, the UE gets TCP/TLS/MSRP + AGW fingerprint + a=3ge2ae:applied; the UE's ACK answers TLS, the core gets the ACK as TCP/MSRP without fingerprint",
                    direction: .originating,
                    ueMedia: M.msrp(port: 50004, tls: true, setup: "active", fingerprint: M.ueFingerprint),
                    coreMedia: M.msrp(port: 7654, tls: false, setup: "actpass"),
                    ueChecks: M.ueSeesE2AE("message", farPort: 7654),
                    coreChecks: M.coreSeesPlain("message", uePort: 50004) + [.has("a=setup:active")],
                    delayedOffer: true,
                    mgLog: ["MG MODIFY"], mgLogAbsent: [M.tlsClient], mgAdds: 2),
        // Offer in a reliable 18x (RFC 3262 §5, RFC 6337 §2.2): the UE's INVITE has no SDP, the core's 183
        // (100rel, RSeq 1) offers, the UE's PRACK answers; the 200s and the ACK carry no body.
        ALGCallCase(name: "MSRP e2ae offer in a reliable 183, RFC 3262 §5: INVITE without SDP; the core's 183 (Require: 100rel, RSeq: 1) offers TCP/MSRP, the UE gets TCP/TLS/MSRP + AGW fingerprint + a=3ge2ae:applied; the UE's PRACK (RAck: 1 1 INVITE) answers TLS, the core gets it as TCP/MSRP on the AGW without fingerprint; 200 to the PRACK, 200 to the INVITE without body, ACK, BYE",
                    direction: .originating,
                    ueMedia: M.msrp(port: 50006, tls: true, setup: "active", fingerprint: M.ueFingerprint),
                    coreMedia: M.msrp(port: 7654, tls: false, setup: "actpass"),
                    ueChecks: M.ueSeesE2AE("message", farPort: 7654),
                    coreChecks: M.coreSeesPlain("message", uePort: 50006) + [.has("a=setup:active"), .has("c=IN IP4 127\\.0\\.0\\.1")],
                    offerIn18x: true,
                    callerMsgChecks: [.has("RSeq: *1"), .has("Require: *100rel")],
                    calleeMsgChecks: [.has("RAck: *1 1 INVITE"), .has("CSeq: *2 PRACK")],
                    mgLog: ["MG MODIFY"], mgLogAbsent: [M.tlsClient], mgAdds: 2, mgSubtracts: 2, mgModifies: 2, establishments: 1),
        ALGCallCase(name: "MSRP e2ae offer in a reliable 183 of a terminating call, RFC 3262 §5: the core's INVITE without SDP; the UE's 183 (100rel, RSeq 1) offers TLS with a=3ge2ae:requested, the core gets TCP/MSRP on the AGW; the core's PRACK answers a=setup:active, the UE gets TCP/TLS/MSRP + AGW fingerprint + a=3ge2ae:applied (the AGW is the TLS client: Establish TLS in the Modify); 200s and ACK without body",
                    direction: .terminating,
                    ueMedia: M.msrp(port: 50008, tls: true, setup: "actpass", fingerprint: M.ueFingerprint, e2ae: true),
                    coreMedia: M.msrp(port: 7654, tls: false, setup: "active"),
                    ueChecks: M.ueSeesE2AE("message", farPort: 7654) + [.has("a=setup:active")],
                    coreChecks: M.coreSeesPlain("message", uePort: 50008),
                    offerIn18x: true,
                    callerMsgChecks: [.has("RSeq: *1"), .has("Require: *100rel")],
                    calleeMsgChecks: [.has("RAck: *1 1 INVITE"), .has("CSeq: *2 PRACK")],
                    mgLog: ["MG MODIFY", M.tlsClient], mgAdds: 2, mgSubtracts: 2, mgModifies: 2, establishments: 1),
        ALGCallCase(name: "Malformed answer in the PRACK (SHA-256 fingerprint of 31 bytes, RFC 8122 §5) to the core's reliable 183 offer: 488 with Warning to the PRACK, which never reaches the core; the context is Subtracted; the core's retransmitted 183 is refused (the UE's INVITE ends 488) and nothing is reserved again (RFC 3262 §3/§5)",
                    direction: .originating, ending: .prackAnswerRefused,
                    ueMedia: M.msrp(port: 50016, tls: true, setup: "active",
                                    fingerprint: "sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12"),
                    coreMedia: M.msrp(port: 7654, tls: false, setup: "actpass"),
                    ueChecks: M.ueSeesE2AE("message", farPort: 7654),
                    rejectChecks: [.has("Warning: 399 "), .has("CSeq: *2 PRACK")],
                    offerIn18x: true,
                    mgAdds: 2, mgSubtracts: 2, establishments: 0),
        ALGCallCase(name: "MSRP e2ae answer in a reliable 183, RFC 3262 §5 / RFC 6337 §3.1: the UE's INVITE offers; the core's 183 (100rel, RSeq 1) answers TCP/MSRP, the UE gets TCP/TLS/MSRP + AGW fingerprint + a=3ge2ae:applied; PRACK, 200s and ACK without body: the 200 confirms the session without a second Modify",
                    direction: .originating,
                    ueMedia: M.msrp(port: 50014, tls: true, setup: "active", fingerprint: M.ueFingerprint, e2ae: true),
                    coreMedia: M.msrp(port: 7654, tls: false, setup: "passive"),
                    ueChecks: M.ueSeesE2AE("message", farPort: 7654) + [.has("a=setup:passive")],
                    coreChecks: M.coreSeesPlain("message", uePort: 50014),
                    answerIn18x: true,
                    callerMsgChecks: [.has("RSeq: *1"), .has("Require: *100rel")],
                    calleeMsgChecks: [.has("RAck: *1 1 INVITE"), .has("CSeq: *2 PRACK"), .lacks("Content-Type")],
                    mgLog: ["MG MODIFY"], mgLogAbsent: [M.tlsClient], mgAdds: 2, mgSubtracts: 2, mgModifies: 2, establishments: 1),
        // Seed 004 (BFCP).
        ALGCallCase(name: "BFCP e2ae originating, seed 004 originating flow: TCP/BFCP towards the core, TCP/TLS/BFCP with the AGW fingerprint towards the UE; the UE (offerer) starts TLS, so no Establish TLS",
                    direction: .originating,
                    ueMedia: M.bfcp(port: 50010, tls: true, setup: "actpass", floorctrl: "c-only", fingerprint: M.ueFingerprint, e2ae: true),
                    coreMedia: M.bfcp(port: 7700, tls: false, setup: "active", floorctrl: "s-only"),
                    ueChecks: M.ueSeesE2AE("application", farPort: 7700) + [.has("a=floorctrl:s-only")],
                    coreChecks: M.coreSeesPlain("application", uePort: 50010) + [.has("a=floorctrl:c-only")],
                    mgLog: ["MG MODIFY"], mgLogAbsent: [M.tlsClient], mgAdds: 2),
        ALGCallCase(name: "BFCP e2ae terminating, seed 004 terminating flow: the IMS-AGW is told to start TLS at Reserve (Establish TLS in the Add); the UE's fingerprint goes to the AGW, TCP/BFCP to the core",
                    direction: .terminating,
                    ueMedia: M.bfcp(port: 50012, tls: true, setup: "active", floorctrl: "c-only", fingerprint: M.ueFingerprint),
                    coreMedia: M.bfcp(port: 7700, tls: false, setup: "actpass", floorctrl: "s-only"),
                    ueChecks: M.ueSeesE2AE("application", farPort: 7700),
                    coreChecks: M.coreSeesPlain("application", uePort: 50012),
                    mgLog: ["MG ADD", M.tlsClient], mgAdds: 2),
        // Not e2ae.
        ALGCallCase(name: "e2e passthrough (TCP/TLS/MSRP without a=3ge2ae): proto, both fingerprints and a=setup pass end to end; addresses are the AGW's (specs.md §4.3)",
                    direction: .originating,
                    ueMedia: M.msrp(port: 50000, tls: true, setup: "actpass", fingerprint: M.ueFingerprint),
                    coreMedia: M.msrp(port: 7654, tls: true, setup: "passive", fingerprint: M.farFingerprint),
                    ueChecks: [.has("m=message \(M.agwPort) TCP/TLS/MSRP"), .has("a=fingerprint:sha-256 11:22:33"), .lacks("AB:CD:EF"), .lacks("3ge2ae")],
                    coreChecks: [.has("m=message \(M.agwPort) TCP/TLS/MSRP"), .has("a=fingerprint:sha-256 4A:AD"), .lacks("AB:CD:EF"), .lacks("3ge2ae")],
                    mgLogAbsent: [M.tlsClient], mgAdds: 2),
        ALGCallCase(name: "Plain TCP/MSRP: anchored on the AGW, TCP/MSRP on both sides, no TLS, no fingerprint (specs.md §4 row 4)",
                    direction: .originating,
                    ueMedia: M.msrp(port: 50000, tls: false, setup: "actpass"),
                    coreMedia: M.msrp(port: 7654, tls: false, setup: "passive"),
                    ueChecks: [.has("m=message \(M.agwPort) TCP/MSRP"), .lacks("TLS"), .lacks("fingerprint")],
                    coreChecks: [.has("m=message \(M.agwPort) TCP/MSRP"), .lacks("TLS"), .lacks("m=message 50000")],
                    mgAdds: 2),
        ALGCallCase(name: "A UE that did not register e2ae support (no msrp-tls;mediasec): its a=3ge2ae:requested is e2e, the indicator is stripped, no AGW fingerprint (TS 33.328 §7.1; specs.md §4 row 3)",
                    direction: .originating,
                    ueMedia: M.msrp(port: 50000, tls: true, setup: "actpass", fingerprint: M.ueFingerprint, e2ae: true),
                    coreMedia: M.msrp(port: 7654, tls: true, setup: "passive", fingerprint: M.farFingerprint),
                    ueChecks: [.has("m=message \(M.agwPort) TCP/TLS/MSRP"), .lacks("AB:CD:EF"), .lacks("3ge2ae")],
                    coreChecks: [.has("m=message \(M.agwPort) TCP/TLS/MSRP"), .has("a=fingerprint:sha-256 4A:AD"), .lacks("3ge2ae")],
                    e2aeRegistered: false, mgAdds: 2),
        // Audio and MSRP together, and a stream removed.
        ALGCallCase(name: "Audio and e2ae MSRP in one call: both streams anchored (four terminations); audio on AGW ports both ways, MSRP TLS towards the UE only",
                    direction: .originating,
                    ueMedia: M.audio(port: 49170) + M.msrp(port: 50000, tls: true, setup: "actpass", fingerprint: M.ueFingerprint, e2ae: true),
                    coreMedia: M.audio(port: 6000) + M.msrp(port: 7654, tls: false, setup: "passive"),
                    ueChecks: [.has("m=audio \(M.agwPort) RTP/AVP"), .lacks("m=audio 6000")] + M.ueSeesE2AE("message", farPort: 7654),
                    coreChecks: [.has("m=audio \(M.agwPort) RTP/AVP"), .lacks("m=audio 49170"), .has("m=message \(M.agwPort) TCP/MSRP "), .lacks("TLS")],
                    mgAdds: 4),
        ALGCallCase(name: "A re-INVITE removing a stream (RFC 3264 §8.2 port 0): the MSRP stream's terminations are Subtracted, the core gets m=message 0, audio stays on the AGW",
                    direction: .originating, ending: .reinviteRemoving(index: 1),
                    ueMedia: M.audio(port: 49170) + M.msrp(port: 50000, tls: true, setup: "actpass", fingerprint: M.ueFingerprint, e2ae: true),
                    coreMedia: M.audio(port: 6000) + M.msrp(port: 7654, tls: false, setup: "passive"),
                    ueChecks: M.ueSeesE2AE("message", farPort: 7654),
                    coreChecks: M.coreSeesPlain("message", uePort: 50000),
                    ueReofferChecks: [.has("m=message 0 "), .has("m=audio \(M.agwPort) ")],
                    coreReofferChecks: [.has("m=message 0 "), .has("m=audio \(M.agwPort) ")],
                    mgAdds: 4, mgSubtracts: 4),
        ALGCallCase(name: "CANCEL before the answer: the core rang (180), the UE cancels; 200 to the CANCEL, 487 to the INVITE at the UE, and the context reserved for the offer is Subtracted (RFC 3261 §9, §16.10; TS 23.334 §8 Release)",
                    direction: .originating, ending: .cancel,
                    ueMedia: M.msrp(port: 50000, tls: true, setup: "actpass", fingerprint: M.ueFingerprint, e2ae: true),
                    coreMedia: M.msrp(port: 7654, tls: false, setup: "passive"),
                    coreChecks: M.coreSeesPlain("message", uePort: 50000),
                    mgAdds: 2, mgSubtracts: 2),
        ALGCallCase(name: "CANCEL before the answer, the UE on Gm UDP: 200 to the CANCEL and 487 to the INVITE over UDP, the context Subtracted (RFC 3261 §9, §16.10, §17.2.1; TS 23.334 §8 Release)",
                    direction: .originating, ending: .cancel,
                    ueMedia: M.msrp(port: 50000, tls: true, setup: "actpass", fingerprint: M.ueFingerprint, e2ae: true),
                    coreMedia: M.msrp(port: 7654, tls: false, setup: "passive"),
                    coreChecks: M.coreSeesPlain("message", uePort: 50000),
                    ueUDP: true, mgAdds: 2, mgSubtracts: 2),
        ALGCallCase(name: "Malformed fingerprint (SHA-256 of 31 bytes, RFC 8122 §5): 488 with Warning to the UE, nothing reserved, nothing reaches the core",
                    direction: .originating, ending: .rejected(status: 488),
                    ueMedia: M.msrp(port: 50000, tls: true, setup: "actpass",
                                    fingerprint: "sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12", e2ae: true),
                    coreMedia: "",
                    rejectChecks: [.has("Warning: 3[0-9][0-9] ")],
                    mgAdds: 0),
        // The IMS-AGW reports a TLS establishment failure (seed 000): the ALG acts on it.
        ALGCallCase(name: "TLS failure Notify on one of two streams: the ALG Subtracts the MSRP terminations and re-INVITEs both sides with m=message 0, audio kept (seed 000; RFC 3264 §8.2); the caller's own next BYE (CSeq 2, as the ALG's re-INVITE) reaches the far end as 3 and its 200 comes back as 2 (RFC 3261 §12.2.2, §8.2.6.2)",
                    direction: .originating, ending: .tlsFailureReinvite(index: 1),
                    ueMedia: M.audio(port: 49170) + M.msrp(port: 50000, tls: true, setup: "actpass", fingerprint: M.ueFingerprint, e2ae: true),
                    coreMedia: M.audio(port: 6000) + M.msrp(port: 7654, tls: false, setup: "passive"),
                    ueChecks: M.ueSeesE2AE("message", farPort: 7654),
                    coreChecks: M.coreSeesPlain("message", uePort: 50000),
                    ueReofferChecks: [.has("m=message 0 TCP/TLS/MSRP"), .has("m=audio \(M.agwPort) ")],
                    coreReofferChecks: [.has("m=message 0 TCP/MSRP"), .has("m=audio \(M.agwPort) "), .lacks("TLS")],
                    mgArguments: ["--notify-tls-failure-after-modify", "200"],
                    mgLog: ["event=tlsbsc/estfail", "MG NOTIFY reply ok"], mgAdds: 4, mgSubtracts: 4),
        ALGCallCase(name: "TLS failure Notify on one of two streams of a terminating call: re-INVITE to both sides (the UE over its registration flow); the core's own next BYE (CSeq 2) reaches the UE as 3, its 200 goes back as 2 (RFC 3261 §12.2.2, §8.2.6.2)",
                    direction: .terminating, ending: .tlsFailureReinvite(index: 1),
                    ueMedia: M.audio(port: 49172) + M.msrp(port: 50002, tls: true, setup: "active", fingerprint: M.ueFingerprint),
                    coreMedia: M.audio(port: 6000) + M.msrp(port: 7654, tls: false, setup: "actpass"),
                    ueChecks: M.ueSeesE2AE("message", farPort: 7654),
                    coreChecks: M.coreSeesPlain("message", uePort: 50002),
                    ueReofferChecks: [.has("m=message 0 TCP/TLS/MSRP"), .has("m=audio \(M.agwPort) ")],
                    coreReofferChecks: [.has("m=message 0 TCP/MSRP"), .has("m=audio \(M.agwPort) "), .lacks("TLS")],
                    mgArguments: ["--notify-tls-failure-after-modify", "200"],
                    mgLog: ["event=tlsbsc/estfail", "MG NOTIFY reply ok"], mgAdds: 4, mgSubtracts: 4),
        ALGCallCase(name: "TLS failure Notify on the only stream: the ALG sends BYE to the UE and to the core and releases the context (seed 000; TS 23.334 §8 Release)",
                    direction: .originating, ending: .tlsFailureBye,
                    ueMedia: M.msrp(port: 50000, tls: true, setup: "actpass", fingerprint: M.ueFingerprint, e2ae: true),
                    coreMedia: M.msrp(port: 7654, tls: false, setup: "passive"),
                    ueChecks: M.ueSeesE2AE("message", farPort: 7654),
                    coreChecks: M.coreSeesPlain("message", uePort: 50000),
                    mgArguments: ["--notify-tls-failure-after-modify", "200"],
                    mgLog: ["event=tlsbsc/estfail"], mgAdds: 2, mgSubtracts: 2),
        ALGCallCase(name: "TLS failure Notify on the only stream of a terminating call: BYE to both sides (the UE over its registration flow)",
                    direction: .terminating, ending: .tlsFailureBye,
                    ueMedia: M.msrp(port: 50002, tls: true, setup: "active", fingerprint: M.ueFingerprint),
                    coreMedia: M.msrp(port: 7654, tls: false, setup: "actpass"),
                    ueChecks: M.ueSeesE2AE("message", farPort: 7654),
                    coreChecks: M.coreSeesPlain("message", uePort: 50002),
                    mgArguments: ["--notify-tls-failure-after-modify", "200"],
                    mgLog: ["event=tlsbsc/estfail"], mgAdds: 2, mgSubtracts: 2),
    ]
}

@Suite("IMS-ALG calls end to end: generated SIPp UE and core, OTP MG as IMS-AGW (seeds 000, 003, 004; TS 23.334 §8; TS 33.328 §7.2)", .serialized)
struct ALGCallLiveTests {
    /// Runs one case and audits the gateway.
    @Test("Call case", .timeLimit(.minutes(1)), arguments: ALGCallCase.all)
    func call(_ c: ALGCallCase) async throws {
        guard let sipp = PCSCFLive.requireSIPp(), OTPMG.available() else { return }
        // Debugging aids: ALG_CASE=<substring> runs the matching cases only; ALG_SCENARIO_DIR keeps the XML.
        let env = ProcessInfo.processInfo.environment
        if let only = env["ALG_CASE"], !c.name.contains(only) { return }
        let keep = env["ALG_SCENARIO_DIR"]
        let dir = keep.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory.appendingPathComponent("alg-case-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { if keep == nil { try? FileManager.default.removeItem(at: dir) } }
        let ueFile = dir.appendingPathComponent("ue.xml"), coreFile = dir.appendingPathComponent("core.xml")
        try c.ue.write(to: ueFile, atomically: true, encoding: .utf8)
        try c.core.write(to: coreFile, atomically: true, encoding: .utf8)

        let corePort = PCSCFLive.freePort()
        guard let lab = try await ALGBinaryLab.start(corePort: corePort, gmUDP: c.ueUDP, mgExtra: c.mgArguments) else { return }
        defer { lab.stop() }
        let mg = lab.mg
        async let coreRun = PCSCFLive.run(sipp, scenario: coreFile.path, transport: "u1", port: corePort, remote: nil)
        try await Task.sleep(for: .milliseconds(300))
        let ue = try await PCSCFLive.run(sipp, scenario: ueFile.path, transport: c.ueUDP ? "u1" : "t1", port: PCSCFLive.freePort(),
                                         remote: "127.0.0.1:\(lab.gm)")
        let core = try await coreRun
        if keep != nil { try? "\(core)\n\n\(ue)\n\npcscf-alg:\n\(lab.log)".write(to: dir.appendingPathComponent("sipp.log"), atomically: true, encoding: .utf8) }
        #expect(core.status == 0, "core SIPp: \(core)\nMG: \(mg.text)\npcscf-alg: \(lab.log.suffix(3000))")
        #expect(ue.status == 0, "UE SIPp: \(ue)\nMG: \(mg.text)\npcscf-alg: \(lab.log.suffix(3000))")
        #expect(await mg.addCount(waitingFor: c.mgAdds) == c.mgAdds, "MG: \(mg.text)")
        if let n = c.mgSubtracts { #expect(await mg.lines("MG SUBTRACT", waitingFor: n) == n, "MG: \(mg.text)") }
        if let n = c.mgModifies { #expect(await mg.lines("MG MODIFY", waitingFor: n) == n, "MG: \(mg.text)") }
        for s in c.mgLog { #expect(await mg.contains(s), "MG log has '\(s)': \(mg.text)") }
        for s in c.mgLogAbsent { #expect(!mg.text.contains(s), "MG log lacks '\(s)': \(mg.text)") }
        #expect(await lab.drained(), "the ALG forgot the session: \(lab.log.suffix(3000))")
        if let n = c.establishments { #expect(lab.establishments == n, "sessions established: \(lab.log.suffix(3000))") }
        #expect(await lab.gatewayHoldsNoContext(), "no context left on the IMS-AGW. MG: \(mg.text)")
    }

    @Test("A heartbeat Notify for a context no session knows: the MGC answers it with an error (H.248.8 435) and the ALG Subtracts that context; nothing is left; the pcscf-alg log has one line for the incoming Notify and one for the Subtract (TS 23.334 §8; H.248.36)",
          .timeLimit(.minutes(1)))
    func unknownContextHeartbeat() async throws {
        guard OTPMG.available() else { return }
        let logs = CapturedLogs()
        let service = try await ALGLive.start(corePort: PCSCFLive.freePort(), logger: logs.logger(level: .info))
        let mg = try await ALGLive.gateway(service, extra: ["--orphan-notify-after", "200"])
        #expect(await mg.contains("MG ORPHAN"), "MG: \(mg.text)")
        #expect(await mg.contains("NOTIFY reply error=435"), "MG: \(mg.text)")
        #expect(await mg.contains("MG SUBTRACT ctx=1 term=ip/orphan"), "MG: \(mg.text)")
        let alg = try #require(service.alg)
        // The MG logs its Subtract before its reply reaches the ALG: wait (up to 5 s) for the ALG to note it.
        let deadline = ContinuousClock.now + .seconds(5)
        while await alg.activity.leftoverSubtracts.isEmpty, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        #expect(await alg.activity.leftoverSubtracts == ["1 ok"])
        // Issue 9 logging: one line per Iq transaction, the gateway's own (incoming) ones included.
        #expect(logs.text.components(separatedBy: "iq Notify dir=in ctx=1 term=ip/orphan event=hangterm/thb result=error:435").count == 2, "log: \(logs.text)")
        #expect(logs.text.contains("iq Subtract ctx=1 term=- result=ok"), "log: \(logs.text)")
        let client = try #require(service.iq)
        #expect(try await client.auditContexts().isEmpty, "no context left on the IMS-AGW. MG: \(mg.text)")
        mg.stop()
        await service.shutdown()
    }
}

extension ALGLive {
    /// Polls (up to 5 s) until the ALG holds no session.
    static func drained(_ alg: ALGSessions) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while await alg.count > 0, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return await alg.count == 0
    }
}

extension OTPMG {
    /// Polls (up to 10 s) until the log holds `s`.
    func contains(_ s: String) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while !text.contains(s), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(100)) }
        return text.contains(s)
    }
}
