import ALGTestSupport
import Foundation
import SIPCore
import Testing
@testable import SIPTransport

/// `SIPViaStamp.stampedMessage` derives the stamped request's header table from the received one (offsets
/// after the rewritten top Via element move by the bytes inserted) instead of scanning the stamped bytes
/// again. It must give exactly what the scan gives (RFC 3261 §18.2.1 `received`, RFC 3581 §4 `rport`).
@Suite("SIPViaStamp: derived ranges = scan of the stamped bytes (RFC 3261 §18.2.1, RFC 3581 §4)")
struct SIPViaStampRangesTests {
    static let fixtures: [String] = {
        var out: [String] = []
        for folder in ["torture", "ims", "invalid"] {
            let dir = TestRepository.root.appendingPathComponent("Fixtures/sip/\(folder)")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            out += names.filter { $0.hasSuffix(".sip") }.sorted().map { "\(folder)/\($0.dropLast(4))" }
        }
        return out
    }()

    static func expectSame(_ derived: SIPMessage, _ scanned: SIPMessage, _ label: String) {
        #expect(derived.bytes == scanned.bytes, "\(label): bytes")
        #expect(derived.startLine == scanned.startLine, "\(label): start line")
        #expect(derived.startLineRange == scanned.startLineRange, "\(label): start line range")
        #expect(derived.headers == scanned.headers, "\(label): header table")
        #expect(derived.headerBlockEnd == scanned.headerBlockEnd, "\(label): header block end")
        #expect(derived.bodyRange == scanned.bodyRange, "\(label): body range")
    }

    @Test("every request fixture that scans, stamped from an IPv4 and an IPv6 source", arguments: fixtures)
    func fixture(name: String) throws {
        #expect(!Self.fixtures.isEmpty)
        let bytes = try [UInt8](Data(contentsOf: TestRepository.root.appendingPathComponent("Fixtures/sip/\(name).sip")))
        guard let message = try? SIPParser.scan(bytes), message.isRequest else { return }
        for (ip, port) in [("192.0.2.77", 40_123), ("2001:db8::17", 5), ("127.0.0.1", 5060)] {
            let stamped = SIPViaStamp.stamp(message, sourceIP: ip, sourcePort: port)
            let derived = SIPViaStamp.stampedMessage(message, sourceIP: ip, sourcePort: port, limits: .default)
            guard let stamped else {
                #expect(derived == nil, "\(name) from \(ip): nothing to stamp, no message")
                continue
            }
            guard let scanned = try? SIPParser.scan(stamped) else {
                #expect(derived == nil, "\(name) from \(ip): the stamped bytes do not scan, so no message")
                continue
            }
            let d = try #require(derived, "\(name) from \(ip)")
            Self.expectSame(d, scanned, "\(name) from \(ip)")
            // The stamp with the top Via parsed by the caller gives the same message, and the Via as
            // received has the stamped one's sent-protocol, sent-by and branch (SIPInbound.receivedTopVia,
            // RFC 3261 §17.2.3 matching reads only those).
            let received = message.topVia
            let given = SIPViaStamp.stampedMessage(message, sourceIP: ip, sourcePort: port, limits: .default, topVia: received)
            Self.expectSame(try #require(given, "\(name) from \(ip): stamp with the parsed top Via"), d, "\(name) from \(ip), parsed top Via")
            let after = try #require(scanned.topVia, "\(name) from \(ip): stamped top Via")
            #expect(received?.transport == after.transport && received?.host == after.host && received?.port == after.port
                    && received?.branch == after.branch && received?.protocolNameVersion == after.protocolNameVersion,
                    "\(name) from \(ip): matching facts of the top Via unchanged by the stamp")
        }
    }

    @Test("Via not first, a folded Via, several elements, rport and received rewritten, a body after")
    func shapes() throws {
        let texts = [
            "INVITE sip:b@example.com SIP/2.0\r\nMax-Forwards: 70\r\nVia: SIP/2.0/UDP h.example.com:5060;rport;branch=z9hG4bK1, SIP/2.0/UDP x.example\r\nVia: SIP/2.0/TCP y.example;branch=z9hG4bK0\r\nCall-ID: a\r\nCSeq: 1 INVITE\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nContent-Length: 4\r\n\r\nabcd",
            "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h.example.com\r\n ;received=1.2.3.4 ; RPORT=9;branch=z9hG4bK2\r\nCall-ID: a\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nContent-Length: 0\r\n\r\n",
            "BYE sip:b@example.com SIP/2.0\r\nv: SIP/2.0/UDP 10.1.1.1:5070;branch=z9hG4bK3\r\nCall-ID: a\r\nCSeq: 2 BYE\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\n\r\n",
        ]
        for text in texts {
            let message = try SIPParser.scan(Array(text.utf8))
            let stamped = try #require(SIPViaStamp.stamp(message, sourceIP: "198.51.100.9", sourcePort: 6000))
            let derived = try #require(SIPViaStamp.stampedMessage(message, sourceIP: "198.51.100.9", sourcePort: 6000, limits: .default))
            Self.expectSame(derived, try SIPParser.scan(stamped), String(text.prefix(12)))
        }
    }

    @Test("a stamped request over the header block bound is left as received, as the rescan did (RFC 3261 §21.5.14 bounds)")
    func bounds() throws {
        let text = "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bK2\r\nCall-ID: a\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nContent-Length: 0\r\n\r\n"
        let message = try SIPParser.scan(Array(text.utf8))
        var limits = SIPParseLimits.default
        limits.maxHeaderBlockBytes = message.headerBlockEnd + 4
        #expect(SIPViaStamp.stampedMessage(message, sourceIP: "198.51.100.9", sourcePort: 6000, limits: limits) == nil)
    }
}
