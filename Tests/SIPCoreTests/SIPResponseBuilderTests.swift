// Covers: RFC 3261 §8.2.6.1 (100 Trying copies Timestamp, no To tag), §8.2.6.2 (Via, From, Call-ID,
// CSeq copied exactly, To tag added when absent), §16.2/§16.3 (proxy-originated 100/4xx/5xx),
// §20.43 (Warning), and the parse-error → response mapping (400/513/505 or drop).
import Foundation
import Testing
@testable import SIPCore

@Suite("SIPResponseBuilder (RFC 3261 §8.2.6, §16, §20.43)")
struct SIPResponseBuilderTests {
    @Test("RFC 3261 §8.2.6.2: Via(s), From, Call-ID, CSeq copied byte for byte; To copied (+tag except on 100)",
          arguments: Fixtures.sipCases)
    func copiesHeaders(_ name: String) throws {
        guard case .success(let req) = Fixtures.parse(Fixtures.bytes(name)), req.isRequest else { return }
        for status in [100, 403, 483, 503] {
            let out = SIPResponseBuilder.response(to: req, status: status, reason: "Reason \(status)", toTag: "pcscf-tag-1",
                                                  warning: status == 503 ? .init(code: 399, agent: "pcscf.example.net", text: "AGW \"down\"") : nil)
            #expect(out.withUnsafeBytes { LibOSIP2.parseAndFree($0) }, "\(name) \(status): libosip2 rejected our response")
            let r = try SIPParser.parse(out)
            #expect(r.statusCode == status)
            for hn in [SIPHeaderName.via, .from, .callID, .cseq] {
                #expect(r.fields(hn).map { Array(r.bytes[$0.lineRange]) } == req.fields(hn).map { Array(req.bytes[$0.lineRange]) })
            }
            #expect(r.to?.uri == req.to?.uri)
            if let tag = req.to?.tag { #expect(r.to?.tag == tag) }
            else if status == 100 { #expect(r.to?.tag == nil) }
            else { #expect(r.to?.tag == "pcscf-tag-1") }
            #expect(r.contentLength == 0 && r.body.isEmpty)
            #expect(r.fields(named: "Warning").count == (status == 503 ? 1 : 0))
        }
    }

    @Test("RFC 3261 §20.43: Warning is `code agent \"text\"` with quotes escaped")
    func warningFormat() throws {
        let req = try SIPParser.parse(Fixtures.bytes("ims/invite-msrp-bfcp"))
        let out = String(decoding: SIPResponseBuilder.response(to: req, status: 488, reason: "Not Acceptable Here", toTag: "t1",
            warning: .init(code: 305, agent: "pcscf.example.net", text: "Incompatible \"media\" format")), as: UTF8.self)
        #expect(out.hasPrefix("SIP/2.0 488 Not Acceptable Here\r\n"))
        #expect(out.contains("Warning: 305 pcscf.example.net \"Incompatible \\\"media\\\" format\"\r\n"))
        #expect(out.contains("To: <tel:+15557654321;phone-context=ims.mnc001.mcc001.3gppnetwork.org>;tag=t1\r\n"))
        #expect(out.hasSuffix("Content-Length: 0\r\n\r\n"))
        #expect(!out.contains("Contact") && !out.contains("Route"))
    }

    @Test("RFC 3261 §8.2.6.1: 100 Trying copies Timestamp; other responses do not")
    func timestampOn100() throws {
        let req = try SIPParser.parse(Array("INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: t\r\nCSeq: 1 INVITE\r\nTimestamp: 54\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n".utf8))
        let trying = String(decoding: SIPResponseBuilder.response(to: req, status: 100, reason: "Trying"), as: UTF8.self)
        #expect(trying.contains("Timestamp: 54\r\n"))
        #expect(trying.contains("To: <sip:b@x>\r\n"))
        let busy = String(decoding: SIPResponseBuilder.response(to: req, status: 486, reason: "Busy Here", toTag: "z"), as: UTF8.self)
        #expect(!busy.contains("Timestamp"))
    }

    @Test("parse errors map to the answer the proxy sends: 400 with Warning for requests, nothing for responses")
    func errorResponses() throws {
        let m = try SIPParser.scan(Fixtures.bytes("torture/mismatch01"))
        let err = try #require(throws: SIPParseError.self) { try SIPParser.parse(Fixtures.bytes("torture/mismatch01")) }
        #expect(err.disposition == .badRequest)
        let out = try #require(SIPResponseBuilder.response(for: err, request: m, toTag: "e1", warningAgent: "pcscf.example.net"))
        let r = try SIPParser.parse(out)
        #expect(r.statusCode == 400 && r.to?.tag == "e1" && r.fields(named: "Warning").count == 1)
        // RFC 4475 §3.1.2.16: SIP/7.0 → 505, built from the head read leniently.
        let bad = Fixtures.bytes("torture/badvers")
        let vErr = try #require(throws: SIPParseError.self) { try SIPParser.parse(bad) }
        #expect(vErr.disposition == .versionNotSupported)
        #expect(throws: SIPParseError.self) { try SIPParser.scan(bad) }
        let head = try SIPParser.scan(bad, lenientVersion: true)
        let v505 = try SIPParser.parse(try #require(SIPResponseBuilder.response(for: vErr, request: head, toTag: "v", warningAgent: "p")))
        #expect(v505.statusCode == 505 && v505.callID == "badvers.31417@c.example.com")
        // RFC 4475 §3.3.1: a request without From/To/Call-ID cannot be answered usefully: nothing is built.
        let insuf = Fixtures.bytes("torture/insuf")
        let iErr = try #require(throws: SIPParseError.self) { try SIPParser.parse(insuf) }
        #expect(SIPResponseBuilder.response(for: iErr, request: try SIPParser.scan(insuf), toTag: "t", warningAgent: "p") == nil)
        let resp = try SIPParser.scan(Fixtures.bytes("ims/invite-180"))
        #expect(SIPResponseBuilder.response(for: SIPParseError(.malformedHeader, disposition: .badRequest, detail: "x", isResponse: true),
                                            request: resp, toTag: nil, warningAgent: "p") == nil)
    }
}
