// The pure parts of the requests the IMS-ALG originates (issue 9): the in-dialog request built from the
// dialog as the proxy saw it (RFC 3261 §12.2.1.1) and the port-0 re-offer (RFC 3264 §8, §8.2).
import IMSALG
import ProxyRuntime
import SDPRewrite
import Testing
@testable import ALGServer

@Suite("ALGDialogRecord and ALGReofferSDP (RFC 3261 §12.2.1.1, RFC 3264 §8.2)")
struct ALGDialogTests {
    static func dialog() -> ALGDialogRecord {
        var d = ALGDialogRecord(callID: "c1", callerSide: .access, callerFrom: "<sip:alice@ims.test>;tag=a1",
                                callerTarget: "sip:alice@10.0.0.1:5060;transport=tcp", callerCSeq: 1)
        d.calleeTo = "<sip:bob@ims.test>;tag=b1"
        d.calleeTarget = "sip:bob@192.0.2.9:5060"
        d.recordRoute = ["<sip:s-cscf.test;lr>", "<sip:mo@127.0.0.1:5070;lr>", "<sip:127.0.0.1:5060;transport=tcp;lr>"]
        return d
    }

    @Test("RFC 3261 §12.2.1.1: towards the callee the proxy speaks as the caller (From/To, callee Contact as Request-URI, Record-Route reversed, caller CSeq + 1); towards the caller as the callee (route set in order, the callee's CSeq)")
    func requestsBothWays() throws {
        var d = Self.dialog()
        let coreBuilt = d.request("BYE", towards: .core)
        let core = try #require(coreBuilt)
        #expect(core.requestURI == "sip:bob@192.0.2.9:5060")
        #expect(core.routeSet == ["<sip:127.0.0.1:5060;transport=tcp;lr>", "<sip:mo@127.0.0.1:5070;lr>", "<sip:s-cscf.test;lr>"])
        #expect(core.headers.first { $0.name == "From" }?.value == "<sip:alice@ims.test>;tag=a1")
        #expect(core.headers.first { $0.name == "To" }?.value == "<sip:bob@ims.test>;tag=b1")
        #expect(core.cseq == 2 && core.side == .mw && core.flow == nil)
        let ueBuilt = d.request("INVITE", towards: .access, sdp: "v=0\r\n")
        let ue = try #require(ueBuilt)
        #expect(ue.requestURI == "sip:alice@10.0.0.1:5060;transport=tcp")
        #expect(ue.routeSet == d.recordRoute)
        #expect(ue.headers.first { $0.name == "From" }?.value == "<sip:bob@ims.test>;tag=b1")
        #expect(ue.headers.first { $0.name == "Contact" }?.value == "<sip:bob@192.0.2.9:5060>", "the callee's target is kept")
        #expect(ue.cseq == 1 && ue.side == .gm && ue.contentType == "application/sdp")
        let againBuilt = d.request("BYE", towards: .core)
        let again = try #require(againBuilt)
        #expect(again.cseq == 3, "each request takes the next CSeq")
    }

    @Test("No request before the dialog is confirmed by a 2xx (RFC 3261 §12.1)")
    func unconfirmed() {
        var d = ALGDialogRecord(callID: "c1", callerSide: .core, callerFrom: "<sip:b@x>;tag=1", callerTarget: "sip:b@x", callerCSeq: 5)
        let none = d.request("BYE", towards: .access)
        #expect(none == nil)
    }

    @Test("RFC 3264 §8.2: the m-line of the index gets port 0 and o= its next version, with CRLF or LF line ends; a missing index is nil",
          arguments: ["\r\n", "\n"])
    func removingStream(_ eol: String) throws {
        let sdp = ["v=0", "o=a 1 7 IN IP4 1.2.3.4", "s=-", "c=IN IP4 1.2.3.4", "t=0 0", "m=audio 4000 RTP/AVP 0",
                   "m=message 4002 TCP/TLS/MSRP *", "a=setup:active", ""].joined(separator: eol)
        let out = try #require(ALGReofferSDP.removingStream(1, from: sdp))
        #expect(out.contains("m=message 0 TCP/TLS/MSRP *"))
        #expect(out.contains("m=audio 4000 RTP/AVP 0"))
        #expect(out.contains("o=a 1 8 IN IP4 1.2.3.4"))
        #expect(out.contains(eol))
        #expect(ALGReofferSDP.removingStream(2, from: sdp) == nil)
    }

    @Test("The wire form: our Via and Max-Forwards first, the routes, the dialog headers, CSeq, Content-Length; the ACK of a 2xx has no body")
    func rendered() throws {
        var d = Self.dialog()
        let rBuilt = d.request("INVITE", towards: .core, sdp: "v=0\r\n")
        let r = try #require(rBuilt)
        let text = String(decoding: r.rendered(via: "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx", routes: ["<sip:s-cscf.test;lr>"]), as: UTF8.self)
        #expect(text.hasPrefix("INVITE sip:bob@192.0.2.9:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx\r\nMax-Forwards: 70\r\nRoute: <sip:s-cscf.test;lr>\r\n"))
        #expect(text.contains("CSeq: 2 INVITE\r\n") && text.hasSuffix("Content-Length: 5\r\n\r\nv=0\r\n"))
        let ack = String(decoding: r.rendered(via: "v", routes: [], method: "ACK"), as: UTF8.self)
        #expect(ack.contains("CSeq: 2 ACK\r\n") && ack.hasSuffix("Content-Length: 0\r\n\r\n") && !ack.contains("Content-Type"))
    }
}
