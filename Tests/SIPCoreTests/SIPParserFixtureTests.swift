// Covers: RFC 4475 §3.1.1 (valid torture messages parse), §3.1.2 (invalid ones map to 400/505/drop),
// RFC 3261 §7.3.1/§7.3.3 (folding, compact forms, comma lists), §8.1.1 (mandatory headers),
// §18.3 (Content-Length and datagram framing), §21.5.14 (513), TS 24.229 IMS header fields.
// Each fixture Fixtures/sip/<folder>/<name>.sip has <name>.expected.json: decoded fields or the error.
// UPDATE_GOLDEN=1 rewrites the expectations (review the diff before committing).
import Foundation
import Testing
@testable import SIPCore

@Suite("SIPParser over Fixtures/sip (RFC 4475, IMS, limits)")
struct SIPParserFixtureTests {
    @Test("every fixture parses to its expected fields or expected error", arguments: Fixtures.sipCases)
    func fixtureMatchesExpectation(_ name: String) throws {
        let bytes = Fixtures.bytes(name)
        let actual = Fixtures.canonical(Fixtures.describe(Fixtures.parse(bytes)))
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try Data((actual + "\n").utf8).write(to: Fixtures.expectedURL(name))
            return
        }
        let expected = try #require(Fixtures.expected(name), "missing \(name).expected.json")
        #expect(Fixtures.canonical(expected) == actual)
    }

    @Test("every fixture has an expectation and every expectation a fixture (no orphans)")
    func noOrphans() throws {
        #expect(Fixtures.sipCases.count >= 70)
        for folder in Fixtures.sipFolders {
            let dir = Fixtures.root.appendingPathComponent("Fixtures/sip/\(folder)")
            let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            for json in names where json.hasSuffix(".expected.json") {
                let base = String(json.dropLast(".expected.json".count))
                #expect(names.contains(base + ".sip"), "orphan \(folder)/\(json)")
            }
            for sip in names where sip.hasSuffix(".sip") {
                #expect(names.contains(String(sip.dropLast(4)) + ".expected.json"), "no expectation for \(folder)/\(sip)")
            }
        }
    }

    @Test("RFC 3261 §18.3: a parsed message keeps its bytes exactly (datagram bytes after the body are dropped)",
          arguments: Fixtures.sipCases)
    func keepsRawBytes(_ name: String) throws {
        let bytes = Fixtures.bytes(name)
        guard case .success(let m) = Fixtures.parse(bytes) else { return }
        // Leading CRLFs (RFC 3261 §7.5) are the only bytes dropped in front.
        var skip = 0
        while skip + 1 < bytes.count, bytes[skip] == 0x0D, bytes[skip + 1] == 0x0A { skip += 2 }
        #expect(Array(bytes[skip..<(skip + m.bytes.count)]) == m.bytes)
        #expect(m.bodyRange.upperBound == m.bytes.count)
        // Header ranges tile the head: start line, then every header line back to back, then the blank line.
        var cursor = m.startLineRange.upperBound
        while cursor < m.bytes.count, m.bytes[cursor] == 0x0D || m.bytes[cursor] == 0x0A { cursor += 1; if m.bytes[cursor - 1] == 0x0A { break } }
        for h in m.headers {
            #expect(h.lineRange.lowerBound == cursor, "gap before a header line in \(name)")
            #expect(h.nameRange.lowerBound == h.lineRange.lowerBound)
            #expect(h.valueRange.lowerBound >= h.nameRange.upperBound && h.valueRange.upperBound <= h.lineRange.upperBound)
            cursor = h.lineRange.upperBound
        }
        #expect(cursor == m.headerBlockEnd)
    }

    @Test("libosip2 accepts every message SIPParser accepts (it ran as the validator)", arguments: Fixtures.sipCases)
    func libosip2AgreesOnAccepted(_ name: String) throws {
        guard case .success(let m) = Fixtures.parse(Fixtures.bytes(name)) else { return }
        #expect(m.bytes.withUnsafeBytes { LibOSIP2.parseAndFree($0) })
    }
}
