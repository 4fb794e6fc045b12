// The CSeq translation of the IMS-ALG (pure, Sources/ALGServer/ALGDialog.swift): after the proxy inserted
// a request of its own into one direction of a dialog (its re-INVITE removing a failed stream), the
// sender's later requests must still reach the other party with increasing CSeq numbers (RFC 3261
// §12.2.1.1), above the proxy's, or a strict UAS answers 500 (§12.2.2); the responses go back with the
// sender's own number (§8.2.6.2); the ACK of a 2xx carries its INVITE's number (§13.2.2.4), and the CANCEL
// and non-2xx ACK the proxy builds from the forwarded INVITE carry the translated one (§9.1, §17.1.1.3).
import ProxyRuntime
import SIPCore
import SIPProxy
import Testing
@testable import ALGServer

@Suite("ALGCSeqTranslation (RFC 3261 §12.2.1.1, §12.2.2, §8.2.6.2, §13.2.2.4)")
struct ALGCSeqTranslationTests {
    static func parse(_ text: String) throws -> SIPMessage {
        try SIPParser.parse(Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8))
    }

    @Test("RFC 3261 §12.2.1.1/§12.2.2: with no request inserted, the caller's numbers pass unchanged")
    func noInsertion() {
        var t = ALGCSeqTranslation(dialogCreating: 1)
        #expect(t.forward(2, method: "UPDATE") == nil)
        #expect(t.forward(3, method: "INVITE") == nil)
        #expect(t.forward(3, method: "ACK") == nil)
        #expect(t.forward(7, method: "BYE") == nil)
        #expect(t.offset == 0)
    }

    @Test("RFC 3262 §7.2: a PRACK's RAck names its INVITE by the number the UAS saw: after the proxy's insertion, the caller's re-INVITE 2 went on as 3, so RAck 1 2 INVITE goes on as 1 3 INVITE; the untranslated dialog-creating INVITE, other methods and malformed values are left alone")
    func rackFollowsTheInvite() {
        var t = ALGCSeqTranslation(dialogCreating: 1)
        #expect(t.forwardRAck("1 1 INVITE") == nil, "no translation yet")
        #expect(t.insert() == 2)
        #expect(t.forward(2, method: "INVITE") == 3)
        #expect(t.forwardRAck("1 2 INVITE") == "1 3 INVITE")
        #expect(t.forwardRAck("7  2\tINVITE") == "7 3 INVITE")
        #expect(t.forward(3, method: "PRACK") == 4)
        #expect(t.forwardRAck("1 1 INVITE") == nil, "not the INVITE the 18x answered")
        #expect(t.forwardRAck("1 2 UPDATE") == nil)
        #expect(t.forwardRAck("1 x INVITE") == nil)
        #expect(t.forwardRAck("1 2") == nil)
    }

    @Test("RFC 3261 §12.2.2: after the proxy's re-INVITE (caller's INVITE 1 → proxy's 2) the caller's own next BYE 2 reaches the callee as 3, above the proxy's 2")
    func callerAfterInsertion() {
        var t = ALGCSeqTranslation(dialogCreating: 1)
        let proxy = t.insert()
        #expect(proxy == 2)
        #expect(t.offset == 1, "one request inserted")
        let bye = t.forward(2, method: "BYE")
        #expect(bye == 3)
        #expect(bye.map { $0 > 2 } == true)
    }

    @Test("RFC 3261 §12.2.1.1: the offset counts the requests the proxy inserted after the party's last one; each translated number is above every number sent before")
    func severalInsertions() {
        var t = ALGCSeqTranslation(dialogCreating: 5)
        #expect(t.insert() == 6)
        #expect(t.insert() == 7)
        #expect(t.offset == 2)
        #expect(t.forward(6, method: "INVITE") == 8)
        #expect(t.insert() == 9)
        #expect(t.offset == 3, "the party's INVITE 6 went as 8; the proxy's 9 is three above 6")
        #expect(t.forward(7, method: "BYE") == 10)
    }

    @Test("RFC 3261 §12.2.1.1: towards the caller, a callee that never sent a request may start anywhere from 0: the proxy's first request is 1 and the callee's first lands above it")
    func calleeWithoutRequests() {
        var t = ALGCSeqTranslation()
        #expect(t.insert() == 1)
        #expect(t.offset == 2)
        var zero = t
        #expect(zero.forward(0, method: "BYE") == 2)
        #expect(t.forward(1, method: "BYE") == 3)
    }

    @Test("RFC 3261 §13.2.2.4, §9.1: the ACK of a 2xx and a CANCEL take the number their INVITE was sent with, even after a later insertion")
    func ackAndCancel() {
        var t = ALGCSeqTranslation(dialogCreating: 1)
        _ = t.insert()
        #expect(t.forward(2, method: "INVITE") == 3)
        _ = t.insert()                                   // the proxy inserts again before the ACK
        #expect(t.forward(2, method: "ACK") == 3)
        #expect(t.forward(2, method: "CANCEL") == 3)
        #expect(t.lastSent == 4, "ACK and CANCEL do not take a new number")
    }

    @Test("RFC 3261 §8.1.1.5: numbers stay below 2**31; a request the offset would push beyond is forwarded unchanged and the proxy inserts nothing beyond (no trap)")
    func bounds() {
        let max = ALGCSeqTranslation.maximumNumber
        var t = ALGCSeqTranslation(dialogCreating: max - 1)
        #expect(t.insert() == max)
        #expect(t.forward(max, method: "BYE") == nil, "max + 1 is not a CSeq number")
        #expect(t.insert() == nil)
        var u = ALGCSeqTranslation(dialogCreating: max)
        #expect(u.insert() == nil)
    }

    @Test("RFC 3261 §12.2.2, over sequences of the party's requests and the proxy's insertions: what reaches the other party strictly increases",
          arguments: [
              "r1 i r2 r3 i i r4 r9",
              "i r0 r1 i r2",
              "r10 i i i r11 i r12 r40",
              "i i r5 i",
          ])
    func increasing(_ script: String) {
        var t = ALGCSeqTranslation()
        var sent: [UInt32] = []
        for step in script.split(separator: " ") {
            if step == "i" {
                if let n = t.insert() { sent.append(n) }
            } else if let n = UInt32(step.dropFirst()) {
                sent.append(t.forward(n, method: "INFO") ?? n)
            }
        }
        #expect(zip(sent, sent.dropFirst()).allSatisfy { $0 < $1 }, "sent: \(sent)")
    }

    @Test("RFC 3261 §16.6 splice: only the CSeq line changes (its method text kept), every other byte forwarded as received; the response gets the request's number back (§8.2.6.2)")
    func splice() throws {
        let bye = try Self.parse("""
        BYE sip:bob@192.0.2.9:5060 SIP/2.0
        v: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-1
        Max-Forwards: 70
        f: <sip:alice@ims.test>;tag=a1
        t: <sip:bob@ims.test>;tag=b1
        i: c1
        CSeq:   2   BYE
        l: 0


        """)
        var s = SIPSplice(bye)
        ALGCSeqTranslation.rewrite(&s, number: 3)
        let out = String(decoding: s.bytes(), as: UTF8.self)
        let inLines = String(decoding: bye.bytes, as: UTF8.self).components(separatedBy: "\r\n")
        let outLines = out.components(separatedBy: "\r\n")
        #expect(inLines.count == outLines.count)
        let changed = zip(inLines, outLines).filter { $0 != $1 }
        #expect(changed.count == 1)
        #expect(changed.first?.1 == "CSeq:   3 BYE")
        let forwarded = try SIPParser.parse(s.bytes())
        #expect(forwarded.cseq?.number == 3 && forwarded.cseq?.method == "BYE")

        let ok = try Self.parse("""
        SIP/2.0 200 OK
        Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-1
        From: <sip:alice@ims.test>;tag=a1
        To: <sip:bob@ims.test>;tag=b1
        Call-ID: c1
        CSeq: 3 BYE
        Content-Length: 0


        """)
        let back = try #require(ALGCSeqTranslation.responseNumber(ok, request: bye))
        #expect(back == 2)
        var r = SIPSplice(ok)
        ALGCSeqTranslation.rewrite(&r, number: back)
        #expect(String(decoding: r.bytes(), as: UTF8.self).contains("\r\nCSeq: 2 BYE\r\n"))
        #expect(ALGCSeqTranslation.responseNumber(bye, request: bye) == nil, "same number: nothing to do")
    }

    @Test("RFC 3261 §9.1, §17.1.1.3: the CANCEL and the non-2xx ACK the proxy builds from a forwarded re-INVITE carry its translated number")
    func hopByHop() throws {
        let invite = try Self.parse("""
        INVITE sip:bob@192.0.2.9:5060 SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-p
        Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-2
        Max-Forwards: 69
        From: <sip:alice@ims.test>;tag=a1
        To: <sip:bob@ims.test>;tag=b1
        Call-ID: c1
        CSeq: 2 INVITE
        Content-Length: 0


        """)
        var s = SIPSplice(invite)
        ALGCSeqTranslation.rewrite(&s, number: 3)
        let forwarded = s.bytes()
        let cancel = try SIPParser.parse(try #require(ProxyCancelBuilder.cancel(forRequest: forwarded)))
        #expect(cancel.cseq?.number == 3 && cancel.cseq?.method == "CANCEL")
        let busy = try Self.parse("""
        SIP/2.0 486 Busy Here
        Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-p
        From: <sip:alice@ims.test>;tag=a1
        To: <sip:bob@ims.test>;tag=b1
        Call-ID: c1
        CSeq: 3 INVITE
        Content-Length: 0


        """)
        let ack = try SIPParser.parse(try #require(ProxyACKBuilder.ack(invite: try SIPParser.parse(forwarded), response: busy)))
        #expect(ack.cseq?.number == 3 && ack.cseq?.method == "ACK")
    }
}
