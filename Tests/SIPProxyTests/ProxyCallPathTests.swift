// Session 9 (issue #7, call path CPU): the proxy's shortcuts must give what the general code gives:
// the loop hash of a branch (RFC 3261 §16.3 step 4 / §16.6 step 8), the normalised host of a Via sent-by
// (§16.7 step 3), the listener's host:port (§16.6 steps 4 and 8) and the byte comparison of URIs.
import Foundation
import SIPCore
@testable import SIPProxy
import Testing

@Suite("Proxy call path shortcuts equal the general code (RFC 3261 §16.3 step 4, §16.6, §16.7 step 3)")
struct ProxyCallPathTests {
    @Test("RFC 3261 §16.6 step 8: loopHash(ofBranch:) of the bytes = of the String, short, long, non-ASCII and odd branches")
    func branchLoopHash() {
        let hash = SIPProxyCore.hex(0x0123_4567_89ab_cdef)
        let branches = [
            "z9hG4bK" + hash + ".p1", "z9hG4bK" + hash + ".", "z9hG4bK" + hash, "z9hG4bK" + hash.uppercased() + ".x",
            "z9hG4bK-14086-1-1", "z9hG4bK", "", "x", "z9hG4bK\u{E9}\u{E9}\u{E9}\u{E9}\u{E9}\u{E9}\u{E9}\u{E9}.x",
            "z9hG4bK+123456789abcdef.x", "z9hG4bK" + String(hash.dropLast()) + "\u{E9}.x", "Z9HG4BK" + hash + ".p",
            "z9hG4bK" + hash + "\u{301}.p", "z9hG4bK\u{301}" + hash + ".p",
        ]
        for b in branches {
            #expect(SIPProxyCore.loopHash(ofBranch: Array(b.utf8)[...]) == SIPProxyCore.loopHash(ofBranch: b), "\(b.debugDescription)")
        }
        // Invalid UTF-8 bytes: the String path decodes them repaired, as before.
        for bytes: [UInt8] in [[0xFF], Array("z9hG4bK".utf8) + [UInt8](repeating: 0xFF, count: 17), Array("z9hG4bK".utf8) + [0xC3] + Array(hash.utf8) + [0x2E]] {
            #expect(SIPProxyCore.loopHash(ofBranch: bytes[...]) == SIPProxyCore.loopHash(ofBranch: String(decoding: bytes, as: UTF8.self)))
        }
    }

    @Test("RFC 3261 §16.7 step 3: normalisedHost = brackets dropped and lower-cased, ASCII fast path included")
    func normalisedHosts() {
        for h in ["127.0.0.1", "Example.COM", "example.com", "[2001:DB8::1]", "[::1]", "[", "]", "[]", "[x", "x]", "",
                  "caf\u{E9}.example", "CAF\u{C9}.example", "[\u{301}::1]", "\u{130}stanbul"] {
            var s = Substring(h)
            if s.first == "[", s.last == "]" { s = s.dropFirst().dropLast() }
            #expect(SIPURIParts.normalisedHost(h) == s.lowercased(), "\(h.debugDescription)")
        }
    }

    @Test("RFC 3261 §16.6 steps 4 and 8: the listener's host:port follows its host and port (IPv6 in brackets)")
    func listenerHostPort() {
        var l = ProxyListener(host: "127.0.0.1", port: 5060, transport: "udp", side: .access)
        #expect(l.hostPort == "127.0.0.1:5060")
        l.port = 5070
        #expect(l.hostPort == "127.0.0.1:5070")
        l.host = "2001:db8::1"
        #expect(l.hostPort == "[2001:db8::1]:5070")
        #expect(l.recordRouteValue(looseRouting: true) == "<sip:[2001:db8::1]:5070;lr>")
        let v6 = ProxyListener(host: "[2001:DB8::2]", port: 5061, transport: "tls", side: .core)
        #expect(v6.host == "2001:db8::2" && v6.hostPort == "[2001:db8::2]:5061")
        #expect(ProxyListener(host: "a", port: 1, transport: "UDP", side: .access) == ProxyListener(host: "A", port: 1, transport: "udp", side: .access))
    }

    @Test("sameBytes compares UTF-8 bytes (canonically equal Strings with other bytes differ)")
    func sameBytes() {
        #expect(SIPProxyCore.sameBytes("sip:a@b", "sip:a@b"))
        #expect(!SIPProxyCore.sameBytes("sip:a@b", "sip:a@c"))
        #expect(!SIPProxyCore.sameBytes("sip:a@b", "sip:a@bb"))
        #expect("caf\u{E9}" == "cafe\u{301}")
        #expect(!SIPProxyCore.sameBytes("caf\u{E9}", "cafe\u{301}"))
    }
}
