// Session 9 (issue #7, call path CPU): the eight-byte (SWAR) scans, the one-walk Via views and the literal
// tokens must give exactly what the byte-by-byte loops and the general views give. Checked on every SIP
// fixture, on ranges that start and end at every offset around the word boundaries, and on edge cases.
import ALGTestSupport
import Foundation
import Testing
@testable import SIPCore

@Suite("Call path scans: SWAR scans and one-walk views equal the byte loops and general views (RFC 3261 §7.3.1, §16.3, §16.7)")
struct CallPathScanTests {
    static let fixtureNames = SIPPlainScanTests.fixtureNames()

    /// Fixture bytes plus hand-made buffers with every interesting byte at every word offset.
    static let buffers: [[UInt8]] = {
        var out = fixtureNames.map { SIPPlainScanTests.fixture($0) }
        for special: UInt8 in [0x22, 0x5C, 0x0D, 0x0A, 0x2C, 0x3C, 0x3E, 0x3B, 0x3A, 0x2F, 0x80, 0xC3, 0xFF, 0x00] {
            for at in 0..<20 {
                var b = Array("abcdefghijklmnopqrstuvwxyz0123".utf8)
                b[at] = special
                out.append(b)
            }
        }
        return out
    }()

    /// Ranges of `n` bytes: every start, lengths 0...24, and every suffix.
    static func ranges(_ n: Int) -> [Range<Int>] {
        var out: [Range<Int>] = []
        for s in 0...n {
            for l in 0...24 where s + l <= n { out.append(s..<(s + l)) }
            out.append(s..<n)
        }
        return out
    }

    // The byte-by-byte loops the SWAR scans replaced.
    static func plainLoop(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Bool {
        for k in r { let c = p[k]; if c >= 0x80 || c == 0x22 || c == 0x5C || c == 0x0D || c == 0x0A { return false } }
        return true
    }
    static func firstLoop(_ c: UInt8, _ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int? {
        for k in r where p[k] == c { return k }
        return nil
    }
    static func lineBreakLoop(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Bool {
        for k in r where p[k] == 0x0D || p[k] == 0x0A { return true }
        return false
    }

    @Test("SWAR isPlain, first, hasLineBreak, isASCII = byte loops on every range of every buffer")
    func swarScans() {
        var checked = 0, mismatches: [String] = []
        for (i, b) in Self.buffers.enumerated() {
            // The first 256 bytes of each fixture (start line, Via, From, To ...) and every hand-made buffer.
            let head = Array(b.prefix(256))
            head.withUnsafeBufferPointer { p in
                for r in Self.ranges(p.count) {
                    let sub = UnsafeBufferPointer(rebasing: p[r])
                    var same = SIPPlainScan.isPlain(p, r) == Self.plainLoop(p, r)
                        && SIPPlainScan.hasLineBreak(p, r) == Self.lineBreakLoop(p, r)
                        && SIPWord.isASCII(sub) == sub.allSatisfy { $0 < 0x80 }
                    for c: UInt8 in [0x3B, 0x3E, 0x2F, 0x80] { same = same && SIPWord.first(c, p, r) == Self.firstLoop(c, p, r) }
                    if !same { mismatches.append("buffer \(i) range \(r)") }
                    checked += 1
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        #expect(checked > 10_000)
    }

    /// The element splitter before the SWAR skip (RFC 3261 §7.3.1: commas in quotes and <...> do not split).
    static func elementsLoop(_ m: SIPMessage, _ f: SIPHeaderField) -> [Range<Int>] {
        var out: [Range<Int>] = []
        let p = m.bytes, end = f.valueRange.upperBound
        var start = f.valueRange.lowerBound, k = start
        var inQuote = false, escaped = false, angle = false
        while k <= end {
            if k < end {
                let c = p[k]
                if escaped { escaped = false; k += 1; continue }
                if inQuote {
                    if c == 0x5C { escaped = true } else if c == 0x22 { inQuote = false }
                    k += 1; continue
                }
                if c == 0x22 { inQuote = true; k += 1; continue }
                if c == 0x3C { angle = true; k += 1; continue }
                if c == 0x3E { angle = false; k += 1; continue }
                if c != 0x2C || angle { k += 1; continue }
            }
            var a = start, e = k
            while a < e, isLWSByte(p[a]) { a += 1 }
            while e > a, isLWSByte(p[e - 1]) { e -= 1 }
            if a < e {
                guard out.count < SIPParseLimits.maxElementsPerField else { return out }
                out.append(a..<e)
            }
            start = k + 1
            k += 1
        }
        return out
    }

    static let elementValues = [
        "a, b", "\"x,y\" <sip:a,b>, c", "<sip:a>,<sip:b>", "\"q\\\",\" , z", "SIP/2.0/UDP h;branch=1,SIP/2.0/UDP g",
        "aaaaaaa,bbbbbbbbbbbbbbb,\"ccccccc,ccc\",<ddddddd,ddd>,e", "\\,x", ",,,", "\"unterminated, a", "<open, b",
    ]

    @Test("RFC 3261 §7.3.1: element ranges with the eight-byte skip = the byte loop, every fixture header and edge values")
    func elementRanges() throws {
        var messages = Self.fixtureNames.compactMap { try? SIPParser.scan(SIPPlainScanTests.fixture($0)) }
        for v in Self.elementValues {
            for pad in 0..<9 {
                let text = "OPTIONS sip:a@b SIP/2.0\r\nX-T: " + String(repeating: "p", count: pad) + v + "\r\n\r\n"
                messages.append(try SIPParser.scan(Array(text.utf8)))
            }
        }
        for m in messages {
            for f in m.headers where m.elementRanges(of: f) != Self.elementsLoop(m, f) { Issue.record("\(m.value(of: f).debugDescription)") }
        }
    }

    static func hopKey(_ h: SIPViaHop?) -> String {
        guard let h else { return "nil" }
        return "\(h.transport)|\(h.host)|\(h.port.map(String.init) ?? "-")|\(h.branch.map { Array($0) }.map { "\($0)" } ?? "-")"
    }

    static let viaMessages: [String] = [
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nVia: junk\r\nVia: SIP/2.0/UDP b\r\n\r\n",
        "SIP/2.0 200 OK\r\nVia: junk, SIP/2.0/UDP b;branch=x\r\n\r\n",
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1, junk\r\n\r\n",
        "SIP/2.0 200 OK\r\nVia:\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nVia: SIP/2.0/TCP b\r\n\r\n",
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP \"q\" a\r\nVia: SIP/2.0/UDP [::1]:5060;branch=y\r\n\r\n",
    ]

    @Test("RFC 3261 §16.7 step 3: topViaHop(countingVias:) = (topViaHop, hasVias(atLeast:)) on every fixture and edge case")
    func topViaHopCounting() throws {
        var messages = Self.fixtureNames.compactMap { try? SIPParser.scan(SIPPlainScanTests.fixture($0)) }
        messages += try Self.viaMessages.map { try SIPParser.scan(Array($0.utf8)) }
        for m in messages {
            for n in 0...3 {
                let (hop, enough) = m.topViaHop(countingVias: n)
                #expect(Self.hopKey(hop) == Self.hopKey(m.topViaHop))
                #expect(enough == m.hasVias(atLeast: n))
                #expect(enough == (m.vias.count >= n))
            }
        }
    }

    @Test("RFC 3261 §16.3 step 4: forEachViaHop(branchFilter:) gives the hops of forEachViaHop whose branch passes, in order")
    func viaHopsFiltered() throws {
        var messages = Self.fixtureNames.compactMap { try? SIPParser.scan(SIPPlainScanTests.fixture($0)) }
        messages += try Self.viaMessages.map { try SIPParser.scan(Array($0.utf8)) }
        let filters: [(ArraySlice<UInt8>?) -> Bool] = [
            { _ in true }, { _ in false }, { $0 != nil }, { $0 == nil }, { ($0?.count ?? 0) % 2 == 0 },
            { $0?.starts(with: "z9hG4bK".utf8) == true },
        ]
        for m in messages {
            var all: [SIPViaHop] = []
            m.forEachViaHop { all.append($0); return true }
            for filter in filters {
                var got: [String] = []
                m.forEachViaHop(branchFilter: filter) { got.append(Self.hopKey($0)); return true }
                #expect(got == all.filter { filter($0.branch) }.map { Self.hopKey($0) })
            }
            // Stopping early stops the walk.
            var seen = 0
            m.forEachViaHop(branchFilter: { _ in true }) { _ in seen += 1; return false }
            #expect(seen == min(all.count, 1))
        }
    }

    @Test("RFC 3261 §16.4: routeURIs = routes.map(\\.uri); CSeq number = cseq.number; on every fixture")
    func routeURIsAndCSeq() throws {
        var messages = Self.fixtureNames.compactMap { try? SIPParser.scan(SIPPlainScanTests.fixture($0)) }
        let extra = "OPTIONS sip:a@b SIP/2.0\r\nRoute: <sip:p1;lr>, *, \"A,B\" <sip:p2>;x=1\r\nRoute: sip:p3;lr\r\n ,<sip:p4>\r\nRoute: caf\u{E9} <sip:p5>\r\nCSeq: 0042 OPTIONS\r\n\r\n"
        messages.append(try SIPParser.scan(Array(extra.utf8)))
        for m in messages {
            #expect(m.routeURIs == m.routes.map(\.uri))
            #expect(m.cseqNumber == m.cseq?.number)
        }
        #expect(try SIPParser.scan(Array(extra.utf8)).routeURIs == ["sip:p1;lr", "sip:p2", "sip:p3", "sip:p4", "sip:p5"])
    }

    @Test("literal tokens (commonString) = the decoded bytes; parameter names compare as lowercased() ==")
    func literalsAndNames() {
        var tokens = ["lr", "tag", "UDP", "TCP", "TLS", "ACK", "BYE", "rport", "PRACK", "branch", "INVITE", "CANCEL",
                      "UPDATE", "SIP/2.0", "OPTIONS", "MESSAGE", "received", "REGISTER", "udp", "Tag", "BRANCH", "",
                      "x", "SIP/2.1", "INVITF", "recEived", "caf\u{E9}", "\u{FF}\u{FE}"]
        for name in Self.fixtureNames.prefix(40) {
            guard let m = try? SIPParser.scan(SIPPlainScanTests.fixture(name)) else { continue }
            for f in m.headers { tokens += m.elementRanges(of: f).map { m.text($0) } }
        }
        for t in tokens {
            let bytes = Array(t.utf8) + [0xFF]
            let viaLiteral = bytes.withUnsafeBufferPointer { SIPPlainScan.commonString($0, 0..<(bytes.count - 1)) }
            #expect(viaLiteral == String(decoding: bytes.dropLast(), as: UTF8.self))
            #expect(Array(viaLiteral.utf8) == Array(t.utf8))
        }
        let names = ["branch", "BRANCH", "Branch", "brancH ", "rport", "RPORT", "tag", "TAG", "t\u{E0}g", "T\u{C0}G",
                     "stra\u{DF}e", "STRASSE", "\u{130}", "i", "", "received"]
        for a in names {
            for b in names { #expect(SIPParameters.sameName(a, b) == (a.lowercased() == b.lowercased()), "\(a) \(b)") }
        }
    }
}
