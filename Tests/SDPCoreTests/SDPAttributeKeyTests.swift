import Testing
@testable import SDPCore

/// `SDPAttributeKey.classify` (RFC 8866 §5.13 att-field; the ALG matches the names it knows with letters in
/// any case), which the parser runs on every a= line.
@Suite("SDPCore attribute names the ALG reads are classified in any case, other names are .other (RFC 8866 §5.13)")
struct SDPAttributeKeyTests {
    static func key(_ name: String) -> SDPAttributeKey {
        var name = name
        return name.withUTF8 { SDPAttributeKey.classify($0, 0, $0.count) }
    }

    static func text(_ s: StaticString) -> String {
        String(decoding: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount), as: UTF8.self)
    }

    @Test("RFC 8866 §5.13: each known name is classified in lower, upper and mixed case")
    func knownNamesInAnyCase() {
        #expect(SDPAttributeKey.table.count == 18)
        for (name, key) in SDPAttributeKey.table {
            let lower = Self.text(name)
            #expect(Self.key(lower) == key, "\(lower)")
            #expect(Self.key(lower.uppercased()) == key, "\(lower.uppercased())")
            let mixed = String(lower.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.uppercased()) : $0.element })
            #expect(Self.key(mixed) == key, "\(mixed)")
            #expect(SDPAttributeKey.classify(value: Substring(lower + ":x")) == key)
        }
    }

    @Test("RFC 8866 §5.13: other names and near misses are .other")
    func otherNames() {
        let others = ["rtpmap", "fmtp", "ptime", "maxptime", "accept-wrapped-types", "floorctrl2", "setu", "setupp",
                      "sendrecw", "recvonlx", "fingerprinT2", "3GE2AF", "rtcp-mux", "rtcp-fb", "label ", "inactivE-",
                      "x", "", "crypto\u{13}", "pat\u{08}", "\u{13}ge2ae", "msrp_cema", "accept_types", "connectioN!",
                      "sdesrecv", "sendonlz"]
        for name in others {
            #expect(Self.key(name) == .other, "\(name)")
        }
        // Same length, first and last letters as "setup", or a control byte where a letter is: not "setup".
        #expect(Self.key("sXXXp") == .other)
        #expect(Self.key("S\u{13}tuP") == .other)
    }

    @Test("RFC 8866 §5.13: classify reads only buf[from..<to] (a name inside a longer line)")
    func classifiesARange() {
        var line = "a=fingerprint:sha-256 AB"
        let key = line.withUTF8 { SDPAttributeKey.classify($0, 2, 13) }
        #expect(key == .fingerprint)
        let short = line.withUTF8 { SDPAttributeKey.classify($0, 2, 12) }   // "fingerprin"
        #expect(short == .other)
        let outside = line.withUTF8 { SDPAttributeKey.classify($0, 20, 40) }   // past the end
        #expect(outside == .other)
    }
}
