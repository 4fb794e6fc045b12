// Covers: RFC 3261 §16.6 (forwarding: step 3 Max-Forwards, step 4 Record-Route, step 8 Via), §16.4 /
// §16.12 (Route removal, also inside a comma-separated line), §16.7 step 3 (top Via removal on
// responses), §16.3 step 3 (483 on Max-Forwards 0), §20.14 (Content-Length after a body change),
// RFC 3327 (Path). Every untouched byte stays identical: checked on every fixture that parses.
import Foundation
import Testing
@testable import SIPCore

private let proxyVia = "SIP/2.0/TCP pcscf.example.net:5060;branch=z9hG4bK-test-1"
private let proxyRR = "<sip:pcscf.example.net:5060;lr>"

/// Untouched-bytes check: removing the inserted lines from `output` and putting back the original
/// bytes of the edited ranges gives back the original message.
private func reconstruct(_ output: [UInt8], inserted: [[UInt8]]) -> [UInt8] {
    var out = output
    for line in inserted {
        if let r = find(line, in: out) { out.removeSubrange(r) }
    }
    return out
}

private func find(_ needle: [UInt8], in hay: [UInt8]) -> Range<Int>? {
    guard !needle.isEmpty, hay.count >= needle.count else { return nil }
    for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle {
        return i..<(i + needle.count)
    }
    return nil
}

private func parse(_ s: String) throws -> SIPMessage { try SIPParser.parse(Array(s.utf8)) }

@Suite("SIPSplice: byte-preserving forwarding (RFC 3261 §16.6, §16.7)")
struct SIPSpliceTests {
    @Test("RFC 3261 §16.6: +Via +Record-Route, top Route removed, Max-Forwards-1; every other byte identical",
          arguments: Fixtures.sipCases)
    func proxySpliceKeepsUntouchedBytes(_ name: String) throws {
        guard case .success(let m) = Fixtures.parse(Fixtures.bytes(name)) else { return }
        var s = SIPSplice(m)
        if m.isRequest {
            s.insertTopVia(proxyVia)
            s.insertRecordRoute(proxyRR)
            let hadRoute = !m.routes.isEmpty
            if hadRoute { try s.removeTopRoute() }
            let mf = m.maxForwards
            do { try s.decrementMaxForwards() } catch {
                #expect(mf == 0 && error.disposition.statusCode == 483, "\(name): \(error)")
                return
            }
            let out = s.bytes()
            // The forwarded message is still valid for us and for libosip2.
            let fwd = try SIPParser.parse(out)
            #expect(fwd.topVia?.branch == "z9hG4bK-test-1")
            #expect(fwd.recordRoutes.first?.uri == "sip:pcscf.example.net:5060;lr")
            #expect(fwd.vias.count == m.vias.count + 1)
            #expect(fwd.routes.count == max(0, m.routes.count - (hadRoute ? 1 : 0)))
            if let mf { #expect(fwd.maxForwards == mf - 1) } else { #expect(fwd.maxForwards == 70) }
            #expect(Array(fwd.body) == Array(m.body))
            // Untouched bytes: compare header line by header line, skipping only the edited ones.
            let viaLine = Array("Via: \(proxyVia)\r\n".utf8), rrLine = Array("Record-Route: \(proxyRR)\r\n".utf8)
            let fwdLines = fwd.headers.map { Array(fwd.bytes[$0.lineRange]) }.filter { $0 != viaLine && $0 != rrLine }
            let editedNames: Set<SIPHeaderName> = [.maxForwards, .route]
            let keptOriginal = m.headers.filter { !editedNames.contains($0.name) }.map { Array(m.bytes[$0.lineRange]) }
            let keptForwarded = zip(fwd.headers, fwd.headers.map { Array(fwd.bytes[$0.lineRange]) })
                .filter { !editedNames.contains($0.0.name) && $0.1 != viaLine && $0.1 != rrLine }.map(\.1)
            #expect(keptOriginal == keptForwarded, "\(name): an untouched header line changed")
            #expect(fwdLines.count == m.headers.count + (m.maxForwards == nil ? 1 : 0)
                    - (hadRoute && m.routes.count == 1 ? 1 : 0)
                    - (hadRoute && m.routes.count > 1 && m.fields(.route).count > 1 && m.elementRanges(of: m.fields(.route)[0]).count == 1 ? 1 : 0))
            #expect(Array(out[0..<m.startLineRange.upperBound]) == Array(m.bytes[m.startLineRange]))
            // Whole-message check: the original bytes with exactly these edits applied (from the end).
            var edits: [(Range<Int>, [UInt8])] = []
            let firstVia = m.headers.first { $0.name == .via }!
            edits.append((firstVia.lineRange.lowerBound..<firstVia.lineRange.lowerBound, viaLine))
            let rrAt = m.headers.first { $0.name == .recordRoute }?.lineRange.lowerBound ?? m.headers.last { $0.name == .via }!.lineRange.upperBound
            edits.append((rrAt..<rrAt, rrLine))
            if let route = m.headers.first(where: { $0.name == .route }) {
                let el = m.elementRanges(of: route)
                edits.append((el.count == 1 ? route.lineRange : el[0].lowerBound..<el[1].lowerBound, []))
            }
            if let mfLine = m.headers.first(where: { $0.name == .maxForwards }), let mf {
                edits.append((mfLine.valueRange, Array(String(mf - 1).utf8)))
            } else {
                edits.append((m.headerBlockEnd..<m.headerBlockEnd, Array("Max-Forwards: 70\r\n".utf8)))
            }
            var expected = m.bytes
            for (r, b) in edits.enumerated().sorted(by: { $0.element.0.lowerBound != $1.element.0.lowerBound ? $0.element.0.lowerBound > $1.element.0.lowerBound : $0.offset > $1.offset }).map(\.element) {
                expected.replaceSubrange(r, with: b)
            }
            #expect(out == expected, "\(name): forwarded bytes differ from original + intended edits")
        } else {
            try s.removeTopVia()
            let out = s.bytes()
            let fwd = try SIPParser.scan(out)
            #expect(fwd.vias.count == m.vias.count - 1)
            // Only the top Via bytes are gone.
            let top = m.headers.first { $0.name == .via }!
            let el = m.elementRanges(of: top)
            let removed = el.count == 1 ? top.lineRange : el[0].lowerBound..<el[1].lowerBound
            #expect(out == Array(m.bytes[..<removed.lowerBound]) + Array(m.bytes[removed.upperBound...]))
        }
    }

    @Test("RFC 3261 §16.6: only the inserted lines are new (byte reconstruction on IMS fixtures)",
          arguments: Fixtures.sipCases.filter { $0.hasPrefix("ims/") })
    func insertionsOnlyAddLines(_ name: String) throws {
        let m = try SIPParser.parse(Fixtures.bytes(name))
        var s = SIPSplice(m)
        s.insertTopVia(proxyVia)
        s.insertRecordRoute(proxyRR)
        s.insertPath("<sip:term@pcscf.example.net;lr>")
        s.addHeader("P-Charging-Vector", "icid-value=abc")
        let out = s.bytes()
        let inserted = [Array("Via: \(proxyVia)\r\n".utf8), Array("Record-Route: \(proxyRR)\r\n".utf8),
                        Array("Path: <sip:term@pcscf.example.net;lr>\r\n".utf8), Array("P-Charging-Vector: icid-value=abc\r\n".utf8)]
        #expect(reconstruct(out, inserted: inserted) == m.bytes)
        #expect(out.count == m.bytes.count + inserted.reduce(0) { $0 + $1.count })
    }

    @Test("RFC 3261 §16.4/§16.12: removing Route entries that share one comma-separated line")
    func routeRemovalInsideLine() throws {
        let base = "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\nRoute: <sip:p1;lr>, <sip:p2;lr> ,<sip:p3;lr>\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        let m = try parse(base)
        func removing(_ idx: [Int]) throws -> String {
            var s = SIPSplice(m)
            for i in idx { try s.removeRoute(at: i) }
            return String(decoding: s.bytes(), as: UTF8.self)
        }
        #expect(try removing([0]).contains("Route: <sip:p2;lr> ,<sip:p3;lr>\r\n"))
        #expect(try removing([1]).contains("Route: <sip:p1;lr>, <sip:p3;lr>\r\n"))
        #expect(try removing([2]).contains("Route: <sip:p1;lr>, <sip:p2;lr>\r\n"))
        #expect(try removing([0, 1]).contains("Route: <sip:p3;lr>\r\n"))
        #expect(try removing([1, 2]).contains("Route: <sip:p1;lr>\r\n"))
        let all = try removing([0, 1, 2])
        #expect(!all.contains("Route"))
        #expect(all == base.replacingOccurrences(of: "Route: <sip:p1;lr>, <sip:p2;lr> ,<sip:p3;lr>\r\n", with: ""))
        var s = SIPSplice(m)
        try s.removeTopRoute(); try s.removeTopRoute()
        #expect(String(decoding: s.bytes(), as: UTF8.self).contains("Route: <sip:p3;lr>\r\n"))
        var t = SIPSplice(m)
        #expect(throws: SIPSplice.Failure.self) { try t.removeRoute(at: 3) }
    }

    @Test("RFC 3261 §16.7 step 3: top Via removed from a comma-combined compact `v:` line, the rest kept")
    func topViaInCombinedLine() throws {
        let m = try SIPParser.parse(Fixtures.bytes("ims/invite-compact-folded"))
        var s = SIPSplice(m)
        try s.removeTopVia()
        let out = String(decoding: s.bytes(), as: UTF8.self)
        #expect(out.contains("v: SIP/2.0/TCP [2001:db8:10::6]:5060;branch=z9hG4bK-inner-1;received=2001:db8:10::6\r\n"))
        let fwd = try SIPParser.parse(Array(out.utf8))
        #expect(fwd.vias.map(\.branch) == ["z9hG4bK-inner-1"])
    }

    @Test("RFC 3261 §16.3 step 3 / RFC 4475 §3.3.11: Max-Forwards 0 gives 483; absent Max-Forwards gets 70")
    func maxForwardsRules() throws {
        let zero = try SIPParser.parse(Fixtures.bytes("torture/zeromf"))
        var s = SIPSplice(zero)
        #expect(throws: SIPSplice.Failure(reason: "Max-Forwards is 0", disposition: .respond(status: 483, reason: "Too Many Hops"))) {
            try s.decrementMaxForwards()
        }
        let wsinv = try SIPParser.parse(Fixtures.bytes("torture/wsinv"))
        var w = SIPSplice(wsinv)
        try w.decrementMaxForwards()
        #expect(String(decoding: w.bytes(), as: UTF8.self).contains("MaX-fOrWaRdS: 67\r\n"))
        let noMF = try parse("OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: y\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
        var n = SIPSplice(noMF)
        try n.decrementMaxForwards()
        #expect(try SIPParser.parse(n.bytes()).maxForwards == 70)
    }

    @Test("RFC 3261 §20.14: replacing the body rewrites Content-Length (also compact `l:`) and nothing else")
    func replaceBody() throws {
        for name in ["ims/invite-msrp-bfcp", "ims/invite-compact-folded"] {
            let m = try SIPParser.parse(Fixtures.bytes(name))
            var s = SIPSplice(m)
            let body = Array("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=message 9 TCP/MSRP *\r\n".utf8)
            s.replaceBody(body)
            let out = s.bytes()
            let fwd = try SIPParser.parse(out)
            #expect(fwd.contentLength == body.count)
            #expect(Array(fwd.body) == body)
            #expect(fwd.headers.count == m.headers.count)
            // Head identical except the Content-Length value.
            let cl = m.headers.first { $0.name == .contentLength }!
            #expect(Array(out[..<cl.valueRange.lowerBound]) == Array(m.bytes[..<cl.valueRange.lowerBound]))
            let newCL = Array(String(body.count).utf8)
            #expect(Array(out[cl.valueRange.lowerBound..<(cl.valueRange.lowerBound + newCL.count)]) == newCL)
            #expect(Array(out[(cl.valueRange.lowerBound + newCL.count)..<fwd.bodyRange.lowerBound]) == Array(m.bytes[cl.valueRange.upperBound..<m.bodyRange.lowerBound]))
        }
    }

    @Test("add, replace and remove headers by name (compact forms count as the same header, RFC 3261 §7.3.3)")
    func addReplaceRemove() throws {
        let m = try SIPParser.parse(Fixtures.bytes("ims/invite-compact-folded"))
        var s = SIPSplice(m)
        s.replaceHeader("Supported", "100rel")          // written as `k:` in the fixture
        s.removeHeader("Subject")                       // written as `s:`
        s.removeHeader("P-Preferred-Identity")          // folded, comma-combined
        s.addHeader("P-Asserted-Identity", "<sip:+15550001111@ims.example.net>")
        let out = try SIPParser.parse(s.bytes())
        #expect(out.supported == ["100rel"])
        #expect(out.fields(.subject).isEmpty)
        #expect(out.pPreferredIdentities.isEmpty)
        #expect(out.pAssertedIdentities.map(\.uri) == ["sip:+15550001111@ims.example.net"])
        #expect(out.name(of: out.fields(.supported)[0]) == "k")
        #expect(out.headers.count == m.headers.count - 1)
        // Unknown header names match case-insensitively.
        let u = try SIPParser.parse(Fixtures.bytes("torture/wsinv"))
        var t = SIPSplice(u)
        t.removeHeader("newfangledheader")
        t.replaceHeader("UNKNOWNHEADERWITHUNUSUALVALUE", "x")
        let o = String(decoding: t.bytes(), as: UTF8.self)
        #expect(!o.contains("NewFangledHeader"))
        #expect(o.contains("UnknownHeaderWithUnusualValue: x\r\n"))
    }

    @Test("one line cannot be removed as a whole and element-wise at once (edits never overlap)")
    func conflictingEdits() throws {
        let m = try SIPParser.parse(Fixtures.bytes("ims/invite-msrp-bfcp"))
        var s = SIPSplice(m)
        s.removeHeader("Route")
        #expect(throws: SIPSplice.Failure.self) { try s.removeTopRoute() }
        #expect(!String(decoding: s.bytes(), as: UTF8.self).contains("Route:"))
    }
}
