// One SIPp scenario pair per IMS-ALG call case, generated from the case (issue 9 end-to-end tests): the
// UE (Gm, TCP) and the S-CSCF / far end (Mw, UDP) register, one of them calls, the other answers, and the
// call ends the way the case says (BYE, a re-INVITE removing a stream, CANCEL, a rejection, or the
// requests the IMS-ALG originates after the IMS-AGW reported a TLS failure). The SDP each side sends and
// the SIPp regexps (check_it / check_it_inverse) each side applies to what it receives come from the case,
// so one builder serves every row instead of a pair of near-identical XML files per row.
import Foundation
import Testing
@testable import ALGServer

/// One regexp a SIPp side applies to the SDP body it receives (check_it, or check_it_inverse).
struct SDPCheck: Sendable {
    var regexp: String
    var inverse = false
    static func has(_ r: String) -> SDPCheck { SDPCheck(regexp: r) }
    static func lacks(_ r: String) -> SDPCheck { SDPCheck(regexp: r, inverse: true) }
}

struct ALGCallCase: Sendable, CustomTestStringConvertible {
    enum Direction: Sendable { case originating, terminating }
    enum Ending: Sendable, Equatable {
        /// The caller ends the call with BYE.
        case byeFromCaller
        /// The caller re-INVITEs with this m-line at port 0 (RFC 3264 §8.2), then ends with BYE.
        case reinviteRemoving(index: Int)
        /// The UE cancels after the 180 (RFC 3261 §9).
        case cancel
        /// The P-CSCF answers the UE's INVITE with this status (nothing reaches the core).
        case rejected(status: Int)
        /// The MG reports a TLS failure after the answer: the ALG re-INVITEs both sides without this
        /// m-line, then the caller ends with BYE with its own next CSeq (2, the number the ALG used for
        /// it): the callee must get 3 (RFC 3261 §12.2.2) and the caller its 200 with 2.
        case tlsFailureReinvite(index: Int)
        /// The MG reports a TLS failure on the only stream: the ALG sends BYE to both sides.
        case tlsFailureBye
        /// `offerIn18x`: the caller's PRACK answer is refused 488 (`rejectChecks` on it) and never reaches
        /// the callee; the callee's retransmitted 183 is refused too, so the caller's INVITE ends 488 (ACKed);
        /// the callee, never PRACKed, ends its INVITE with 500 (RFC 3262 §3).
        case prackAnswerRefused
    }

    var name: String
    var direction: Direction
    var ending: Ending = .byeFromCaller
    /// The m-sections (after `t=0 0`) the UE sends: its offer (originating) or answer (terminating).
    var ueMedia: String
    /// The m-sections the far end sends.
    var coreMedia: String
    /// Regexps on the SDP the UE receives (the answer, or the offer).
    var ueChecks: [SDPCheck] = []
    var coreChecks: [SDPCheck] = []
    /// Regexps on the SDP of the second exchange (re-INVITE or its 200) each side receives.
    var ueReofferChecks: [SDPCheck] = []
    var coreReofferChecks: [SDPCheck] = []
    /// Regexps on the UE's final response (`rejected`).
    var rejectChecks: [SDPCheck] = []
    /// The UE registers e2ae support (Security-Client msrp-tls;mediasec, bfcp-tls;mediasec).
    var e2aeRegistered = true
    /// Delayed offer (RFC 3261 §13.2.1): the INVITE carries no SDP, the callee's 200 the offer
    /// (`coreMedia`/`ueMedia` of the callee), the caller's ACK the answer; `ueChecks`/`coreChecks` of the
    /// caller apply to the 200, those of the callee to the ACK.
    var delayedOffer = false
    /// Offer in a reliable 18x (RFC 3262 §5, RFC 6337 §2.2): the INVITE carries no SDP, the callee's 183
    /// (`Require: 100rel`, `RSeq: 1`) the offer, the caller's PRACK (`RAck: 1 1 INVITE`) the answer; the
    /// 200s (to the PRACK and to the INVITE) and the ACK carry no body. `ueChecks`/`coreChecks` of the
    /// caller apply to the 183, those of the callee to the PRACK; `msgChecks*` to the whole message.
    var offerIn18x = false
    /// Answer in a reliable 18x (RFC 3262 §5, RFC 6337 §3.1): the INVITE carries the offer, the callee's
    /// 183 (`Require: 100rel`, `RSeq: 1`) the answer; the PRACK, the 200s and the ACK carry no body.
    var answerIn18x = false
    private var reliable18x: Bool { offerIn18x || answerIn18x }
    /// Regexps on the whole 183 the caller receives / the whole PRACK the callee receives (`offerIn18x`,
    /// `answerIn18x`).
    var callerMsgChecks: [SDPCheck] = []
    var calleeMsgChecks: [SDPCheck] = []
    /// The UE's Gm transport is UDP (default TCP).
    var ueUDP = false
    var mgArguments: [String] = []
    /// Substrings the MG log must hold (its H.248 commands), and the number of Adds.
    var mgLog: [String] = []
    var mgLogAbsent: [String] = []
    var mgAdds: Int
    /// The number of Subtract lines expected (nil: not counted).
    var mgSubtracts: Int? = nil
    /// The number of Modify lines expected (nil: not counted): one per termination of each Configure.
    var mgModifies: Int? = nil
    /// The number of times the ALG's session reached `established` (nil: not checked).
    var establishments: UInt64? = nil

    var testDescription: String { name }

    // MARK: The scenario pair

    var ue: String { scenario(side: .ue) }
    var core: String { scenario(side: .core) }

    enum Party { case ue, core }

    private func caller(_ p: Party) -> Bool { (p == .ue) == (direction == .originating) }

    private func scenario(side p: Party) -> String {
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<scenario name=\"\(Self.escape(name)) (\(p))\">\n"
        x += p == .ue ? ueRegister : coreRegister
        // The registration's captures (used by a terminating call only): referenced so SIPp accepts them.
        var refs: [String] = p == .core ? ["path", "cidall", "cid"] : []
        let isCaller = caller(p)
        let media = p == .ue ? ueMedia : coreMedia
        let checks = p == .ue ? ueChecks : coreChecks
        let reChecks = p == .ue ? ueReofferChecks : coreReofferChecks
        if case .rejected = ending {
            if p == .ue { x += invite(p, media: media) + rejected(&refs) }
            return x + Self.close(refs)
        }
        if isCaller {
            if p == .core { x += "  <pause milliseconds=\"300\"/>\n" }
            x += invite(p, media: delayedOffer || offerIn18x ? nil : media)
            if ending == .cancel { return x + cancelFromCaller(p) + Self.close(refs) }
            if reliable18x {
                // RFC 3262 §4: the caller PRACKs the reliable 183, with the answer to its offer (§5) if it has one.
                let on183 = Self.merge(Self.actions(checks, prefix: "a", into: &refs),
                                       Self.actions(callerMsgChecks, prefix: "m", search: "msg", into: &refs))
                x += "  <recv response=\"100\" optional=\"true\"/>\n  <recv response=\"183\" rrs=\"true\">\n" + on183 + "  </recv>\n"
                x += prack(p, cseq: 2, rack: "1 1 INVITE", sdp: offerIn18x ? media : nil)
                if ending == .prackAnswerRefused {
                    x += "  <recv response=\"488\">\n" + Self.actions(rejectChecks, prefix: "w", search: "msg", into: &refs) + "  </recv>\n"
                    x += "  <recv response=\"488\"/>\n" + nonOKAck(p)
                    return x + Self.close(refs)
                }
                // The 200 to the PRACK, then the 200 to the INVITE (no body: the exchange is complete).
                x += "  <recv response=\"200\"/>\n  <recv response=\"200\">\n"
                    + Self.actions([.lacks("Content-Type")], prefix: "z", search: "msg", into: &refs) + "  </recv>\n"
                x += ack(p, cseq: 1)
                x += bye(p, cseq: 3)
                return x + Self.close(refs)
            }
            x += "  <recv response=\"100\" optional=\"true\"/>\n  <recv response=\"180\" optional=\"true\"/>\n"
            var okActions = Self.actions(checks, prefix: "a", into: &refs)
            if case .tlsFailureReinvite = ending {
                // The callee's To (with its tag) for the caller's BYE after the ALG's re-INVITE.
                okActions = Self.merge(okActions, "    <action>\n      <ereg regexp=\".*\" search_in=\"hdr\" header=\"To:\" assign_to=\"calleeto\"/>\n    </action>\n")
                refs.append("calleeto")
            }
            x += "  <recv response=\"200\" rrs=\"true\">\n" + okActions + "  </recv>\n"
            x += ack(p, cseq: 1, sdp: delayedOffer ? media : nil)
        } else if reliable18x {
            // The 200 to the INVITE goes after the PRACK's, so it takes the INVITE's Vias and Record-Route
            // from here (RFC 3261 §8.2.6.2, §12.1.1).
            let capture = "    <action>\n"
                + "      <ereg regexp=\".*\" search_in=\"hdr\" header=\"Via:\" occurrence=\"1\" assign_to=\"invvia\"/>\n"
                + "      <ereg regexp=\".*\" search_in=\"hdr\" header=\"Via:\" occurrence=\"2\" assign_to=\"invvia2\"/>\n"
                + "      <ereg regexp=\".*\" search_in=\"hdr\" header=\"Record-Route:\" occurrence=\"1\" assign_to=\"invrr\"/>\n"
                + "      <ereg regexp=\".*\" search_in=\"hdr\" header=\"Record-Route:\" occurrence=\"2\" assign_to=\"invrr2\"/>\n"
                + "    </action>\n"
            refs += ["invvia", "invvia2", "invrr", "invrr2"]
            let onInvite = answerIn18x ? Self.merge(Self.actions(checks, prefix: "o", into: &refs), capture) : capture
            x += "  <recv request=\"INVITE\" rrs=\"true\">\n" + onInvite + "  </recv>\n"
            // RFC 3262 §3: retransmitted (same RSeq) until the PRACK comes.
            let reliable183 = response(p, status: "183 Session Progress", tag: true, sdp: media, retrans: ending != .prackAnswerRefused,
                                       extra: "Require: 100rel\nRSeq: 1\n")
            x += reliable183
            if ending == .prackAnswerRefused {
                // RFC 3262 §3: the 183 retransmitted (same RSeq), by hand (SIPp's own retransmissions would go on
                // past the wait). No PRACK may arrive (a request SIPp does not await is a failure): the wait
                // times out, and the INVITE ends with 500 (RFC 3262 §3), which the proxy ACKs.
                x += "  <pause milliseconds=\"1000\"/>\n" + reliable183
                x += "  <recv request=\"UPDATE\" timeout=\"2000\" ontimeout=\"1\"/>\n  <label id=\"1\"/>\n"
                x += Self.send("""
                SIP/2.0 500 Server Internal Error
                [last_Via:]
                [last_From:]
                [last_To:];tag=[pid]e[call_number]
                [last_Call-ID:]
                [last_CSeq:]
                Content-Length: 0

                """) + "  <recv request=\"ACK\"/>\n"
                return x + Self.close(refs)
            }
            x += "  <recv request=\"PRACK\">\n" + Self.merge(Self.actions(offerIn18x ? checks : [], prefix: "k", into: &refs),
                                                             Self.actions(calleeMsgChecks, prefix: "n", search: "msg", into: &refs)) + "  </recv>\n"
            x += response(p, status: "200 OK", tag: false, sdp: nil)
            let contact = p == .ue ? ueContact : "<sip:bob@[local_ip]:[local_port]>"
            x += "  <pause milliseconds=\"200\"/>\n" + Self.send("""
            SIP/2.0 200 OK
            Via: [$invvia]
            Via: [$invvia2]
            Record-Route: [$invrr]
            Record-Route: [$invrr2]
            [last_From:]
            [last_To:]
            [last_Call-ID:]
            CSeq: 1 INVITE
            Contact: \(contact)
            Content-Length: 0

            """, retrans: true)
            x += "  <recv request=\"ACK\"/>\n" + byeReceived(p)
            return x + Self.close(refs)
        } else {
            var actions = delayedOffer ? "" : Self.actions(checks, prefix: "o", into: &refs)
            if ending == .cancel {
                // The 487 goes after the CANCEL, so it takes the INVITE's Via values from here (RFC 3261 §9.2:
                // the response to the INVITE, with all its Vias). A SIPp ereg on a header reads one occurrence
                // only: the proxy's Via and the caller's are captured one by one. With the first alone, the
                // proxy found no Via left after removing its own and (rightly, §16.7 step 3) did not forward
                // the 487: the caller never got it.
                let via = "      <ereg regexp=\".*\" search_in=\"hdr\" header=\"Via:\" occurrence=\"1\" assign_to=\"invvia\"/>\n"
                    + "      <ereg regexp=\".*\" search_in=\"hdr\" header=\"Via:\" occurrence=\"2\" assign_to=\"invvia2\"/>\n"
                actions = actions.isEmpty ? "    <action>\n" + via + "    </action>\n" : actions.replacingOccurrences(of: "    </action>\n", with: via + "    </action>\n")
                refs += ["invvia", "invvia2"]
            }
            x += "  <recv request=\"INVITE\" rrs=\"true\">\n" + actions + "  </recv>\n"
            x += response(p, status: "180 Ringing", tag: true, sdp: nil)
            if ending == .cancel { return x + cancelAtCallee(p) + Self.close(refs) }
            x += response(p, status: "200 OK", tag: true, sdp: media, retrans: true)
            x += delayedOffer ? "  <recv request=\"ACK\">\n" + Self.actions(checks, prefix: "k", into: &refs) + "  </recv>\n"
                : "  <recv request=\"ACK\"/>\n"
        }
        switch ending {
        case .byeFromCaller:
            x += isCaller ? bye(p, cseq: 2) : byeReceived(p)
        case .reinviteRemoving(let index):
            let reoffer = ALGReofferSDP.removingStream(index, from: Self.body(p, media)) ?? ""
            if isCaller {
                x += "  <pause milliseconds=\"100\"/>\n" + inDialogInvite(p, sdp: reoffer, cseq: 2)
                x += "  <recv response=\"100\" optional=\"true\"/>\n  <recv response=\"200\">\n" + Self.actions(reChecks, prefix: "r", into: &refs) + "  </recv>\n"
                x += ack(p, cseq: 2) + bye(p, cseq: 3)
            } else {
                x += "  <recv request=\"INVITE\">\n" + Self.actions(reChecks, prefix: "r", into: &refs) + "  </recv>\n"
                x += response(p, status: "200 OK", tag: false, sdp: reoffer, rawBody: true, retrans: true)
                x += "  <recv request=\"ACK\"/>\n" + byeReceived(p)
            }
        case .tlsFailureReinvite(let index):
            // The IMS-ALG's re-INVITE (each side is offered what it was last sent, this m-line at port 0).
            let reanswer = ALGReofferSDP.removingStream(index, from: Self.body(p, media)) ?? ""
            // RFC 3261 §12.2.1.1: the ALG speaks for the other party with that party's next CSeq: 2 towards
            // the callee (the caller's INVITE was 1), 1 towards the caller (the callee sent no request).
            let reNumber = isCaller ? 1 : 2
            let reCSeq = Self.actions([SDPCheck.has("CSeq: *" + String(reNumber) + " INVITE")], prefix: "s", search: "msg", into: &refs)
            x += "  <recv request=\"INVITE\">\n" + Self.merge(Self.actions(reChecks, prefix: "r", into: &refs), reCSeq) + "  </recv>\n"
            x += response(p, status: "200 OK", tag: false, sdp: reanswer, rawBody: true, retrans: true)
            x += "  <recv request=\"ACK\"/>\n"
            if isCaller {
                // The caller's own next CSeq, 2 (not knowing the ALG used 2 for it); its 200 comes back with 2
                // (RFC 3261 §8.2.6.2).
                let okCSeq = Self.actions([.has("CSeq: *2 BYE")], prefix: "b", search: "msg", into: &refs)
                x += "  <pause milliseconds=\"300\"/>\n" + bye(p, cseq: 2, to: "To: [$calleeto]", okActions: okCSeq)
            } else {
                // RFC 3261 §12.2.2: above the ALG's re-INVITE (2), so a strict UAS takes it: 3.
                x += "  <recv request=\"BYE\">\n" + Self.actions([.has("CSeq: *3 BYE")], prefix: "y", search: "msg", into: &refs)
                    + "  </recv>\n" + response(p, status: "200 OK", tag: false, sdp: nil)
            }
        case .tlsFailureBye:
            x += byeReceived(p)
        case .cancel, .rejected, .prackAnswerRefused:
            break
        }
        return x + Self.close(refs)
    }

    // MARK: Pieces

    private var uePrefix: String { "SIP/2.0/\(ueUDP ? "UDP" : "TCP") [local_ip]:[local_port]" }
    private var ueContact: String { "<sip:alice@[local_ip]:[local_port]\(ueUDP ? "" : ";transport=tcp")>" }

    private var ueRegister: String {
        let sec = e2aeRegistered ? "Security-Client: msrp-tls;mediasec, bfcp-tls;mediasec\nRequire: mediasec\nProxy-Require: mediasec\n"
            : "Security-Client: sdes-srtp;mediasec\nRequire: mediasec\nProxy-Require: mediasec\n"
        var x = ""
        for (cseq, auth) in [(1, "nonce=\"\",response=\"\""), (2, "nonce=\"abc\",response=\"0123\"")] {
            let verify = cseq == 2 ? sec.replacingOccurrences(of: "Security-Client", with: "Security-Verify").split(separator: "\n").first.map { "\($0)\n" } ?? "" : ""
            x += Self.send("""
            REGISTER sip:ims.test SIP/2.0
            Via: \(uePrefix);branch=[branch]
            Max-Forwards: 70
            From: <sip:alice@ims.test>;tag=[pid]reg[call_number]
            To: <sip:alice@ims.test>
            Call-ID: reg///[call_id]
            CSeq: \(cseq) REGISTER
            Contact: \(ueContact)
            Expires: 600
            \(sec)\(verify)Supported: path
            Authorization: Digest username="alice@ims.test",realm="ims.test",uri="sip:ims.test",\(auth)
            Content-Length: 0

            """, retrans: true)
            x += "  <recv response=\"\(cseq == 1 ? 401 : 200)\"/>\n"
        }
        return x
    }

    private var coreRegister: String {
        var x = "  <recv request=\"REGISTER\"/>\n"
        x += Self.send("""
        SIP/2.0 401 Unauthorized
        [last_Via:]
        [last_From:]
        [last_To:];tag=[pid]reg[call_number]
        [last_Call-ID:]
        [last_CSeq:]
        WWW-Authenticate: Digest realm="ims.test", nonce="abc", algorithm=AKAv1-MD5, qop="auth"
        Content-Length: 0

        """)
        x += """
          <recv request="REGISTER">
            <action>
              <ereg regexp="&lt;sip:term@[^&gt;]*&gt;" search_in="hdr" header="Path:" assign_to="path"/>
              <ereg regexp="///(.*)$" search_in="hdr" header="Call-ID:" assign_to="cidall,cid"/>
            </action>
          </recv>

        """
        x += Self.send("""
        SIP/2.0 200 OK
        [last_Via:]
        [last_From:]
        [last_To:];tag=[pid]reg[call_number]
        [last_Call-ID:]
        [last_CSeq:]
        [last_Contact:];expires=600
        [last_Path:]
        Service-Route: <sip:orig@[local_ip]:[local_port];lr>
        P-Associated-URI: <sip:alice@ims.test>, <tel:+15551234>
        Content-Length: 0

        """)
        return x
    }

    /// The caller's dialog identifiers.
    private func ids(_ p: Party) -> (via: String, from: String, to: String, callID: String, contact: String, ruri: String, route: String) {
        if p == .ue {
            return (uePrefix, "<sip:alice@ims.test>;tag=[pid]c[call_number]", "<sip:bob@ims.test>", "inv///[call_id]",
                    ueContact, "sip:bob@ims.test", "")
        }
        return ("SIP/2.0/UDP [local_ip]:[local_port]", "<sip:bob@ims.test>;tag=[pid]c[call_number]", "<sip:alice@ims.test>",
                "mt///[$cid]", "<sip:bob@[local_ip]:[local_port]>", "sip:alice@ims.test", "Route: [$path]\n")
    }

    static func body(_ p: Party, _ media: String) -> String {
        let user = p == .ue ? "alice" : "bob"
        return "v=0\no=\(user) 2890844526 2890844526 IN IP4 [local_ip]\ns=-\nc=IN IP4 [local_ip]\nt=0 0\n" + media
    }

    private func invite(_ p: Party, media: String?) -> String {
        let i = ids(p)
        let head = """
        INVITE \(i.ruri) SIP/2.0
        Via: \(i.via);branch=z9hG4bK-[pid]-[call_number]-inv
        \(i.route)Max-Forwards: 70
        From: \(i.from)
        To: \(i.to)
        Call-ID: \(i.callID)
        CSeq: 1 INVITE
        Contact: \(i.contact)\(reliable18x ? "\nSupported: 100rel" : "")
        """
        // RFC 3261 §13.2.1: without media the INVITE carries no offer (the delayed-offer case).
        guard let media else { return Self.send(head + "\nContent-Length: 0\n", retrans: true) }
        return Self.send(head + "\nContent-Type: application/sdp\nContent-Length: [len]\n\n" + Self.body(p, media), retrans: true)
    }

    private func inDialogInvite(_ p: Party, sdp: String, cseq: Int) -> String {
        let i = ids(p)
        return Self.send("""
        INVITE [next_url] SIP/2.0
        Via: \(i.via);branch=[branch]
        [routes]
        Max-Forwards: 70
        From: \(i.from)
        [last_To:]
        Call-ID: \(i.callID)
        CSeq: \(cseq) INVITE
        Contact: \(i.contact)
        Content-Type: application/sdp
        Content-Length: [len]

        \(sdp)
        """, retrans: true)
    }

    private func ack(_ p: Party, cseq: Int, sdp: String? = nil) -> String {
        let i = ids(p)
        if let sdp {
            return Self.send("""
            ACK [next_url] SIP/2.0
            Via: \(i.via);branch=[branch]
            [routes]
            Max-Forwards: 70
            From: \(i.from)
            [last_To:]
            Call-ID: \(i.callID)
            CSeq: \(cseq) ACK
            Content-Type: application/sdp
            Content-Length: [len]

            \(Self.body(p, sdp))
            """)
        }
        return Self.send("""
        ACK [next_url] SIP/2.0
        Via: \(i.via);branch=[branch]
        [routes]
        Max-Forwards: 70
        From: \(i.from)
        [last_To:]
        Call-ID: \(i.callID)
        CSeq: \(cseq) ACK
        Content-Length: 0

        """)
    }

    /// RFC 3261 §17.1.1.3: the ACK of a non-2xx final to the INVITE (its Via branch, the response's To).
    private func nonOKAck(_ p: Party) -> String {
        let i = ids(p)
        return Self.send("""
        ACK \(i.ruri) SIP/2.0
        Via: \(i.via);branch=z9hG4bK-[pid]-[call_number]-inv
        \(i.route)Max-Forwards: 70
        From: \(i.from)
        [last_To:]
        Call-ID: \(i.callID)
        CSeq: 1 ACK
        Content-Length: 0

        """)
    }

    /// RFC 3262 §7.2: the PRACK of the reliable 18x (RAck: its RSeq, then the INVITE's CSeq), with the answer.
    private func prack(_ p: Party, cseq: Int, rack: String, sdp: String?) -> String {
        let i = ids(p)
        guard let sdp else {
            return Self.send("""
            PRACK [next_url] SIP/2.0
            Via: \(i.via);branch=[branch]
            [routes]
            Max-Forwards: 70
            From: \(i.from)
            [last_To:]
            Call-ID: \(i.callID)
            CSeq: \(cseq) PRACK
            RAck: \(rack)
            Content-Length: 0

            """, retrans: true)
        }
        return Self.send("""
        PRACK [next_url] SIP/2.0
        Via: \(i.via);branch=[branch]
        [routes]
        Max-Forwards: 70
        From: \(i.from)
        [last_To:]
        Call-ID: \(i.callID)
        CSeq: \(cseq) PRACK
        RAck: \(rack)
        Content-Type: application/sdp
        Content-Length: [len]

        \(Self.body(p, sdp))
        """, retrans: true)
    }

    private func bye(_ p: Party, cseq: Int, to: String = "[last_To:]", okActions: String = "") -> String {
        let i = ids(p)
        return "  <pause milliseconds=\"100\"/>\n" + Self.send("""
        BYE [next_url] SIP/2.0
        Via: \(i.via);branch=[branch]
        [routes]
        Max-Forwards: 70
        From: \(i.from)
        \(to)
        Call-ID: \(i.callID)
        CSeq: \(cseq) BYE
        Content-Length: 0

        """, retrans: true) + (okActions.isEmpty ? "  <recv response=\"200\"/>\n" : "  <recv response=\"200\">\n" + okActions + "  </recv>\n")
    }

    private func byeReceived(_ p: Party) -> String {
        "  <recv request=\"BYE\"/>\n" + response(p, status: "200 OK", tag: false, sdp: nil)
    }

    /// A response to the last request received (the callee's To tag on the first ones).
    private func response(_ p: Party, status: String, tag: Bool, sdp: String?, rawBody: Bool = false, retrans: Bool = false,
                          extra: String = "") -> String {
        let contact = p == .ue ? ueContact : "<sip:bob@[local_ip]:[local_port]>"
        var m = "SIP/2.0 \(status)\n[last_Via:]\n[last_From:]\n[last_To:]\(tag ? ";tag=[pid]e[call_number]" : "")\n[last_Call-ID:]\n[last_CSeq:]\n"
        if tag { m += "[last_Record-Route:]\n" }
        m += "Contact: \(contact)\n" + extra
        if let sdp {
            m += "Content-Type: application/sdp\nContent-Length: [len]\n\n" + (rawBody ? sdp : Self.body(p, sdp))
        } else {
            m += "Content-Length: 0\n\n"
        }
        return Self.send(m, retrans: retrans)
    }

    private func rejected(_ refs: inout [String]) -> String {
        guard case .rejected(let status) = ending else { return "" }
        return "  <recv response=\"100\" optional=\"true\"/>\n  <recv response=\"\(status)\">\n"
            + Self.actions(rejectChecks, prefix: "w", search: "msg", into: &refs) + "  </recv>\n" + Self.send("""
        ACK sip:bob@ims.test SIP/2.0
        Via: \(uePrefix);branch=z9hG4bK-[pid]-[call_number]-inv
        Max-Forwards: 70
        From: <sip:alice@ims.test>;tag=[pid]c[call_number]
        [last_To:]
        Call-ID: inv///[call_id]
        CSeq: 1 ACK
        Content-Length: 0

        """)
    }

    /// The UE cancels once the far end rings (RFC 3261 §9.1: same Via branch as the INVITE).
    private func cancelFromCaller(_ p: Party) -> String {
        let i = ids(p)
        return "  <recv response=\"100\" optional=\"true\"/>\n  <recv response=\"180\"/>\n" + Self.send("""
        CANCEL \(i.ruri) SIP/2.0
        Via: \(i.via);branch=z9hG4bK-[pid]-[call_number]-inv
        \(i.route)Max-Forwards: 70
        From: \(i.from)
        To: \(i.to)
        Call-ID: \(i.callID)
        CSeq: 1 CANCEL
        Content-Length: 0

        """, retrans: true) + "  <recv response=\"200\"/>\n  <recv response=\"487\"/>\n" + Self.send("""
        ACK \(i.ruri) SIP/2.0
        Via: \(i.via);branch=z9hG4bK-[pid]-[call_number]-inv
        \(i.route)Max-Forwards: 70
        From: \(i.from)
        [last_To:]
        Call-ID: \(i.callID)
        CSeq: 1 ACK
        Content-Length: 0

        """)
    }

    private func cancelAtCallee(_ p: Party) -> String {
        "  <recv request=\"CANCEL\"/>\n" + response(p, status: "200 OK", tag: false, sdp: nil) + Self.send("""
        SIP/2.0 487 Request Terminated
        Via: [$invvia]
        Via: [$invvia2]
        [last_From:]
        [last_To:];tag=[pid]e[call_number]
        [last_Call-ID:]
        CSeq: 1 INVITE
        Content-Length: 0

        """) + "  <recv request=\"ACK\"/>\n"
    }

    // MARK: XML

    /// A `<send>`; a message without body ends with the empty line, one with a body with its last line.
    static func send(_ message: String, retrans: Bool = false) -> String {
        var m = message
        while m.hasSuffix("\n") { m.removeLast() }
        m += m.contains("\n\n") ? "\n" : "\n\n"
        return "  <send\(retrans ? " retrans=\"500\"" : "")>\n    <![CDATA[\n\(m)]]>\n  </send>\n"
    }

    static func actions(_ checks: [SDPCheck], prefix: String, search: String = "body", into refs: inout [String]) -> String {
        guard !checks.isEmpty else { return "" }
        var x = "    <action>\n"
        for c in checks {
            let v = "\(prefix)\(refs.count)"
            refs.append(v)
            x += "      <ereg regexp=\"\(escape(c.regexp))\" search_in=\"\(search)\" \(c.inverse ? "check_it_inverse" : "check_it")=\"true\" assign_to=\"\(v)\"/>\n"
        }
        return x + "    </action>\n"
    }

    /// One `<action>` block from two (either may be empty).
    static func merge(_ a: String, _ b: String) -> String {
        guard !a.isEmpty, !b.isEmpty else { return a + b }
        return a.replacingOccurrences(of: "    </action>\n", with: "") + b.replacingOccurrences(of: "    <action>\n", with: "")
    }

    static func close(_ refs: [String]) -> String {
        (refs.isEmpty ? "" : "  <Reference variables=\"\(refs.joined(separator: ","))\"/>\n") + "</scenario>\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
