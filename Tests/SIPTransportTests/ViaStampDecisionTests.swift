// Session 9: the Via stamp decides whether to add `received` by comparing an ASCII sent-by host with the
// source IP in place. The decision must be the general one (RFC 3261 §18.2.1: `received` when the
// sent-by host differs from the source address, brackets of an IPv6 reference dropped, case ignored;
// RFC 3581 §4: always when `rport` is present).
import Foundation
import SIPCore
import Testing
@testable import SIPTransport

@Suite("SIPViaStamp decision = general comparison (RFC 3261 §18.2.1, RFC 3581 §4)")
struct ViaStampDecisionTests {
    static func reference(_ via: SIPVia, _ sourceIP: String) -> Bool {
        if via.rport != .absent { return true }
        let host = via.host.hasPrefix("[") && via.host.hasSuffix("]") ? String(via.host.dropFirst().dropLast()) : via.host
        return host.lowercased() != sourceIP.lowercased()
    }

    @Test("hosts and source IPs in every case, bracketed, non-ASCII, with and without rport")
    func decision() throws {
        var checked = 0
        let hosts = ["127.0.0.1", "127.0.0.2", "[::1]", "[::1", "::1", "Host.Example.COM", "host.example.com", "[FE80::A]",
                     "caf\u{E9}.example", "CAF\u{C9}.example", "[]", "["]
        let sources = ["127.0.0.1", "::1", "fe80::a", "FE80::A", "host.example.com", "caf\u{E9}.example", "", "127.0.0.10"]
        for host in hosts {
            for param in ["", ";rport", ";rport=9", ";RPORT", ";received=1.2.3.4"] {
                let text = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP \(host):5060;branch=z9hG4bK1\(param)\r\nCall-ID: c\r\n\r\n"
                let m = try SIPParser.scan(Array(text.utf8))
                guard let via = m.topVia else {
                    // No top Via that parses: nothing is stamped.
                    #expect(SIPViaStamp.stamp(m, sourceIP: "127.0.0.1", sourcePort: 5062) == nil)
                    continue
                }
                checked += 1
                for ip in sources {
                    let stamped = SIPViaStamp.stamp(m, sourceIP: ip, sourcePort: 5062) != nil
                    #expect(stamped == Self.reference(via, ip), "\(host) \(param) from \(ip)")
                    // The given Via (the transport parses it once) decides the same.
                    #expect((SIPViaStamp.stampedMessage(m, sourceIP: ip, sourcePort: 5062, limits: .default, topVia: via) != nil) == stamped)
                }
            }
        }
        #expect(checked >= 40)
    }

    @Test("RFC 3581 §4: rport gets the source port's digits")
    func rportDigits() throws {
        let m = try SIPParser.scan(Array("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;rport;branch=z9hG4bK1\r\n\r\n".utf8))
        for port in [0, 7, 5060, 65535] {
            let out = try #require(SIPViaStamp.stamp(m, sourceIP: "10.0.0.1", sourcePort: port))
            #expect(String(decoding: out, as: UTF8.self).contains("Via: SIP/2.0/UDP h;rport=\(port);branch=z9hG4bK1;received=10.0.0.1\r\n"))
        }
    }
}
