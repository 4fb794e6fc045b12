// The libosip2 syntax check of record (`SIPParser.parse`, RFC 3261 §25 grammar as libosip2 reads it)
// runs osip_message_parse with a per-thread arena (Sources/CLibOSIP2/shim.h) instead of malloc/free per
// node. Its verdict must be exactly libosip2's own: `LibOSIP2.validate` (arena) is compared with
// `LibOSIP2.parseAndFree` (malloc, the raw baseline) on every SIP fixture, on every prefix and suffix
// of them (libosip2's error paths free partly built trees), and on a message larger than the arena.
import Foundation
import Testing
@testable import SIPCore

@Suite("libosip2 validation arena: same verdict as the plain libosip2 parse (RFC 3261 §25 syntax check)")
struct LibOSIP2ArenaTests {
    static func validate(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { LibOSIP2.validate($0) } }
    static func plain(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { LibOSIP2.parseAndFree($0) } }

    @Test("RFC 4475 / IMS fixtures: arena verdict = plain libosip2 verdict, whole, every prefix and every suffix",
          arguments: Fixtures.sipCases)
    func sameVerdict(_ name: String) {
        let bytes = Fixtures.bytes(name)
        #expect(Self.validate(bytes) == Self.plain(bytes), "whole \(name)")
        var mismatches: [String] = []
        for cut in stride(from: 1, to: bytes.count, by: 1) {
            let prefix = Array(bytes[..<cut]), suffix = Array(bytes[cut...])
            if Self.validate(prefix) != Self.plain(prefix) { mismatches.append("prefix \(cut)") }
            if Self.validate(suffix) != Self.plain(suffix) { mismatches.append("suffix \(cut)") }
        }
        #expect(mismatches.isEmpty, "\(name): \(mismatches.prefix(5))")
    }

    @Test("the valid IMS INVITE is accepted and a request line without SIP-Version is refused (both paths)")
    func acceptsAndRefuses() throws {
        let invite = Fixtures.bytes("ims/invite-msrp-bfcp")
        #expect(!invite.isEmpty)
        #expect(Self.validate(invite))
        #expect(Self.plain(invite))
        let broken = Array("INVITE sip:bob@example.com\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n".utf8)
        #expect(!Self.validate(broken))
        #expect(!Self.plain(broken))
    }

    @Test("a message whose C tree outgrows the 256 KiB arena spills to malloc and keeps libosip2's verdict")
    func largerThanArena() {
        let invite = Fixtures.bytes("ims/invite-msrp-bfcp")
        let text = String(decoding: invite, as: UTF8.self)
        guard let split = text.range(of: "\r\n") else { Issue.record("no request line"); return }
        // 6,000 Record-Route header fields: each becomes a parsed route in the tree (well over 256 KiB).
        let extra = String(repeating: "Record-Route: <sip:p1.example.com;lr>\r\n", count: 6_000)
        let big = Array((String(text[..<split.upperBound]) + extra + String(text[split.upperBound...])).utf8)
        #expect(Self.validate(big) == Self.plain(big))
        #expect(Self.validate(big))
        // The arena is still usable afterwards.
        #expect(Self.validate(invite))
    }
}
