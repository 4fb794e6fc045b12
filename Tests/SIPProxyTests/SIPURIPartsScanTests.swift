// SIPURIParts reads ASCII URIs by a byte scan (the proxy's hot path: Request-URI, Route, Record-Route
// on every request); the Character-based reader stays for other text. Both must agree (RFC 3261
// §19.1.1: scheme, host, port, uri-parameters; §25.1 userinfo ends at the last '@' of the host part).
import Foundation
import SIPCore
@testable import SIPProxy
import Testing

@Suite struct SIPURIPartsScanTests {
    static let samples: [String] = [
        "sip:127.0.0.1:15060;lr", "<sip:127.0.0.1:15060;lr>", "sip:service@127.0.0.1:15080",
        "SIPS:User@Host.Example.COM;Transport=TLS;LR", "sip:[2001:db8::1]:5061;transport=tcp",
        "sip:[2001:db8::1]", "sip:[2001:db8::1]x", "sip:[2001:db8::1", "sip:host:0", "sip:host:65536", "sip:host:+5060",
        "sip:host:123456", "sip:host:", "sip:", "sip:@host", "sip:a@b@host;p=1", "sip:user;x=@y@host;lr",
        "  \t<sip:pcscf.core.example.net;lr;;;transport=udp;lr=2>", "\"Bob\" <sip:bob@example.com?subject=x>",
        "tel:+1234", "mailto:x@y", "<sip:unterminated", "sipx:host", "si:host", "sip:host?;x", "sip:h;" ,
        "sip:h;a=b=c;A=d", "sip:h\r\n;lr", "sip:host:0080", "sip:host:1a", "sip:host:99999999999999999999999999",
        "sip:host:-1", "sip:host:65535;lr", "sip:host:5060abc", "sip:caf\u{E9}@host;lr", "sip:host;n\u{301}=1", "<\u{301}sip:host>",
    ] + (0..<40).map { "sip:h;" + String(repeating: "p\($0);", count: 1) + (0..<$0).map { "q\($0)" }.joined(separator: ";") }

    @Test("RFC 3261 §19.1.1: the byte scan reads every sample, and every prefix and suffix of it, like the Character-based reader")
    func scanMatchesGeneralReader() {
        for sample in Self.samples {
            let chars = Array(sample)
            var variants = [sample]
            for i in 0...chars.count {
                variants.append(String(chars[..<i]))
                variants.append(String(chars[i...]))
            }
            for v in variants {
                #expect(SIPURIParts(parsing: v) == SIPURIParts(generalParsing: v), "\(v.debugDescription)")
            }
        }
    }

    @Test("RFC 3261 §19.1.1: host and parameter names lower case, port and parameters read; sips defaults to 5061 (RFC 3263 §4.2)")
    func values() throws {
        let p = try #require(SIPURIParts(parsing: "SIPS:User@Host.Example.COM;Transport=TLS;LR"))
        #expect(p.scheme == "sips")
        #expect(p.host == "host.example.com")
        #expect(p.port == nil && p.effectivePort == 5061)
        #expect(p.parameters == ["transport": "TLS", "lr": ""])
        #expect(p.looseRouting)
        let v6 = try #require(SIPURIParts(parsing: "<sip:[2001:DB8::1]:5070;transport=tcp>"))
        #expect(v6.host == "2001:db8::1" && v6.port == 5070 && v6.effectiveTransport == "TCP")
        #expect(SIPURIParts(parsing: "tel:+1234") == nil)
        #expect(SIPURIParts(parsing: "sip:host:65536") == nil)
    }
}

/// The branch of our Via carries the loop hash as 16 hex digits (RFC 3261 §16.6 step 8, §16.3 step 4 reads it back).
@Suite struct BranchHexTests {
    @Test("RFC 3261 §16.6 step 8: the loop hash is written as 16 lower-case hex digits, zero-padded, and read back")
    func hexMatchesRadixFormatting() {
        var values: [UInt64] = [0, 1, 9, 10, 15, 16, 0xFF, 0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210, .max, .max - 1, 1 << 63]
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<200 { x = x &* 6364136223846793005 &+ 1442695040888963407; values.append(x >> (x % 64)) }
        for v in values {
            let s = String(v, radix: 16)
            let expected = String(repeating: "0", count: 16 - s.count) + s
            #expect(SIPProxyCore.hex(v) == expected)
            #expect(SIPProxyCore.loopHash(ofBranch: SIPProxyCore.magicCookie + SIPProxyCore.hex(v) + ".p1") == v)
        }
    }

    @Test("RFC 3261 §16.3 step 4: the loop hash read from a branch's bytes equals the String reading, on ours and odd branches")
    func bytesMatchString() {
        let hex = SIPProxyCore.hex(0x0123_4567_89AB_CDEF)
        let branches = [SIPProxyCore.magicCookie + hex + ".p1", SIPProxyCore.magicCookie + hex.uppercased() + ".x",
                        SIPProxyCore.magicCookie + hex, SIPProxyCore.magicCookie + hex + "0.p", SIPProxyCore.magicCookie + "+" + hex.dropFirst() + ".p",
                        SIPProxyCore.magicCookie + "-" + String(repeating: "0", count: 15) + ".p", SIPProxyCore.magicCookie + "g" + hex.dropFirst() + ".p",
                        "z9hG4bk" + hex + ".p", "z9hG4bK.", "", "z9hG4bK" + hex.dropLast() + "é.p", "z9hG4bK-1-0", "z9hG4bK" + hex + ".\u{301}"]
        for b in branches {
            #expect(SIPProxyCore.loopHash(ofBranch: Array(b.utf8)[...]) == SIPProxyCore.loopHash(ofBranch: b), "\(b)")
        }
    }
}

/// RFC 3261 §16.6 step 8 / §16.3 step 4: the loop hash reads Proxy-Authorization by its classified header name;
/// that lookup must find the same fields as the text name (compact and any-case spellings included).
@Suite struct LoopHashFieldsTests {
    static func values(_ request: SIPMessage, _ fields: [SIPHeaderField]) -> [String] {
        fields.map { request.value(of: $0) }
    }

    @Test("RFC 3261 §16.6 step 8: the Proxy-Authorization fields the loop hash reads (classified name) are those found by text name, on every request fixture",
          arguments: ProxyRobustnessTests.cases)
    func sameAsTextLookup(_ name: String) throws {
        let bytes = Array(try Data(contentsOf: ProxyFixtures.root.appendingPathComponent("Fixtures/sip/\(name).sip")))
        guard let m = try? SIPParser.scan(bytes), m.isRequest else { return }
        #expect(Self.values(m, m.fields(.proxyAuthorization)) == Self.values(m, m.fields(named: "Proxy-Authorization")))
    }

    @Test("RFC 3261 §16.6 step 8: Proxy-Authorization in any case, twice, is part of the loop hash")
    func proxyAuthorizationAnyCase() throws {
        let text = "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bK-1\r\n"
            + "From: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c@x\r\nCSeq: 1 INVITE\r\n"
            + "proxy-AUTHORIZATION: Digest username=\"a\"\r\nProxy-Authorization: Digest username=\"b\"\r\nMax-Forwards: 70\r\n"
            + "Content-Length: 0\r\n\r\n"
        let m = try SIPParser.scan(Array(text.utf8))
        #expect(m.fields(named: "Proxy-Authorization").count == 2)
        #expect(Self.values(m, m.fields(.proxyAuthorization)) == ["Digest username=\"a\"", "Digest username=\"b\""])
        let without = try SIPParser.scan(Array(text.replacingOccurrences(of: "proxy-AUTHORIZATION: Digest username=\"a\"\r\n", with: "").utf8))
        #expect(SIPProxyCore.loopHash(m) != SIPProxyCore.loopHash(without))
    }
}
