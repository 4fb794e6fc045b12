// The byte-scan fast paths of the header views (SIPPlainScan) against the general Character-based
// parsers, over every header value and element of every SIP fixture, every prefix and suffix of
// them, and hand-written edge cases. The fast paths must give exactly the general parsers' result
// (they only change speed, Docs/benchmarks.md).
import ALGTestSupport
import Foundation
import Testing
@testable import SIPCore

@Suite("SIPPlainScan: byte-scan header views equal the general parsers")
struct SIPPlainScanTests {
    static let edgeCases = [
        "SIP/2.0/UDP host", "SIP/2.0/UDP host:", "SIP/2.0/UDP host:+5", "SIP/2.0/UDP host:-5",
        "SIP/2.0/UDP host : 5060 ; branch = z9 ; rport", "SIP / 2.0 / UDP h", "SIP//2.0/UDP h", "SIP/2.0//UDP h",
        "SIP/2.0/UDP  h;a;;b=;=c;tag", "sip/2.0/udp h:99999999999;branch=x", "SIP/2.0/UDP [::1]:5060;branch=x",
        "SIP/2.0/UDP :5060", "SIP/2.0/UDP h;branch=\"q;x\"", "SIP/2.0/tcp h:0012;BRANCH=Z", "*", "", "  ", "<sip:a>",
        "<sip:a", "sip:a>;tag=1", "a <sip:x;lr>;tag=t;TAG=u", "sip:a;tag", "sip:a;tag=;x", "<sip:a>;tag = b ;x",
        "\"A;B\" <sip:a>;tag=1", "<sip:a>>;tag=2", "x<y<z>;tag=3", "<sip:é>;tag=4", ";;;", "a=b", "tag=1;tag=2",
        "SIP/2.0/UDP h\t;branch=1", "SIP/2.0/UDP\th:1;branch=1", "<sip:a>;tag=1\r\n ;x=2",
        "SIP/2.0/UDP h:1;" + String(repeating: "a;", count: 300) + "branch=x",
    ]

    /// Every header value and comma-separated element of the fixtures, plus the edge cases.
    static let values: [String] = {
        var out = edgeCases
        for name in fixtureNames() {
            guard let m = try? SIPParser.scan(fixture(name)) else { continue }
            for f in m.headers {
                out.append(m.value(of: f))
                out += m.elementRanges(of: f).map { m.text($0) }
            }
        }
        return out
    }()

    static func fixtureNames() -> [String] {
        var out: [String] = []
        for folder in ["torture", "ims", "invalid"] {
            let dir = TestRepository.root.appendingPathComponent("Fixtures/sip/\(folder)")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            out += names.filter { $0.hasSuffix(".sip") }.map { "\(folder)/\(String($0.dropLast(4)))" }
        }
        return out.sorted()
    }

    static func fixture(_ name: String) -> [UInt8] {
        Array((try? Data(contentsOf: TestRepository.root.appendingPathComponent("Fixtures/sip/\(name).sip"))) ?? Data())
    }

    /// The inputs checked for one value: itself and (for short values) every prefix and suffix.
    static func variants(_ v: String) -> [String] {
        let u = Array(v.utf8)
        guard u.count < 200 else { return [v] }
        var out = [v]
        for k in 0..<u.count { out.append(String(decoding: u[..<k], as: UTF8.self)); out.append(String(decoding: u[k...], as: UTF8.self)) }
        return out
    }

    @Test("RFC 3261 §20.42 Via, §20.10 name-addr, §25.1 generic-param: fast path == general parser on fixture values and their cuts")
    func valuesMatchGeneralParsers() {
        #expect(Self.values.count > 500)
        var plainSeen = 0
        for v in Self.values {
            for s in Self.variants(v) {
                let sub = s[...]
                #expect(SIPVia(parsing: sub) == SIPVia(generalParsing: sub), "Via \(s.debugDescription)")
                #expect(SIPNameAddress(parsing: sub) == SIPNameAddress(generalParsing: sub), "name-addr \(s.debugDescription)")
                #expect(SIPParameters(parsing: sub) == SIPParameters(generalParsing: sub), "params \(s.debugDescription)")
                let bytes = Array(s.utf8)
                let fast = bytes.withUnsafeBufferPointer { SIPPlainScan.nameAddressTag($0, 0..<$0.count) }
                if case .parsed(let tag) = fast {
                    plainSeen += 1
                    #expect(tag == SIPNameAddress(generalParsing: sub)?.tag, "tag \(s.debugDescription)")
                }
            }
        }
        // The fast path really runs (most wire values are plain).
        #expect(plainSeen > Self.values.count)
    }

    @Test("RFC 3261 §17.1.3/§17.2.3 matching facts: topVia, vias, fromTag, toTag equal the general parsers on every fixture",
          arguments: fixtureNames())
    func messageViews(_ name: String) throws {
        guard let m = try? SIPParser.scan(Self.fixture(name)) else { return }
        if let f = m.headers.first(where: { $0.name == .via }), let r = m.elementRanges(of: f).first {
            #expect(m.topVia == SIPVia(generalParsing: m.text(r)[...]))
        } else {
            #expect(m.topVia == nil)
        }
        // RFC 3261 §16.3 step 4 / §16.7 step 3 read every Via: the byte-range view equals the general parser
        // on the text of each element (unparsable elements left out).
        #expect(m.vias == m.elements(.via).compactMap { SIPVia(generalParsing: $0[...]) })
        #expect(m.fromTag == m.fields(.from).first.flatMap { SIPNameAddress(generalParsing: m.value(of: $0)[...]) }?.tag)
        #expect(m.toTag == m.fields(.to).first.flatMap { SIPNameAddress(generalParsing: m.value(of: $0)[...]) }?.tag)
    }

    @Test("RFC 3261 §16.3 step 4 / §16.7 step 3: Via hops, tag, Call-ID and Request-URI bytes equal the String views on every fixture",
          arguments: fixtureNames())
    func byteViews(_ name: String) throws {
        guard let m = try? SIPParser.scan(Self.fixture(name)) else { return }
        func hop(_ v: SIPVia) -> SIPViaHop {
            SIPViaHop(transport: v.transport, host: v.host, port: v.port, branch: v.branch.map { Array($0.utf8)[...] })
        }
        var hops: [SIPViaHop] = []
        m.forEachViaHop { hops.append($0); return true }
        #expect(hops.map { SIPViaHop(transport: $0.transport, host: $0.host, port: $0.port, branch: $0.branch.map { Array($0)[...] }) }
                == m.vias.map(hop))
        #expect(m.topViaHop.map { SIPViaHop(transport: $0.transport, host: $0.host, port: $0.port, branch: $0.branch.map { Array($0)[...] }) }
                == m.topVia.map(hop))
        for n in 0...3 { #expect(m.hasVias(atLeast: n) == (m.vias.count >= n)) }
        #expect(m.tagBytes(.from).map { String(decoding: $0, as: UTF8.self) } == m.fromTag)
        #expect(m.tagBytes(.to).map { String(decoding: $0, as: UTF8.self) } == m.toTag)
        #expect(m.hasToTag == (m.toTag != nil))
        #expect(m.callIDBytes.map { String(decoding: $0, as: UTF8.self) } == m.callID)
        #expect(m.requestURIBytes.map { String(decoding: $0, as: UTF8.self) } == m.requestURI)
        for f in m.headers { #expect(String(decoding: m.unfoldedBytes(f.valueRange), as: UTF8.self) == m.value(of: f)) }
    }

    @Test("RFC 3261 §7.3.1: text(_:) of a folded range still replaces the fold by one SP; unfolded ranges are copied")
    func textFolds() throws {
        let m = try SIPParser.scan(Array("OPTIONS sip:a@b SIP/2.0\r\nSubject: one\r\n two\r\nCall-ID: x@y\r\n\r\n".utf8))
        #expect(m.value(of: try #require(m.fields(named: "Subject").first)) == "one two")
        #expect(m.callID == "x@y")
    }
}
