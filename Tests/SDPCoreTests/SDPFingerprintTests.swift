import Testing
@testable import SDPCore

@Suite("a=fingerprint (RFC 8122 §5)")
struct SDPFingerprintTests {
    static let sha256 = "4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF"

    @Test("RFC 5234 §2.3 / RFC 8122 §5: hash names accepted in any case", arguments: ["sha-256", "SHA-256", "Sha-256"])
    func anyCase(name: String) throws {
        let fp = try Fingerprint(parsing: name + " " + Self.sha256)
        #expect(fp.hash == .sha256)
        #expect(fp.value == "sha-256 " + Self.sha256)
    }

    @Test("RFC 8122 §5 hex digits (RFC 5234 HEXDIG, either case): the nibble table gives the same value as hexValue for all 256 bytes, and above 15 for every non-digit")
    func nibbleTable() throws {
        #expect(Fingerprint.nibbleTable.utf8CodeUnitCount == 256)
        for b in 0...255 {
            let byte = UInt8(b)
            if let v = Fingerprint.hexValue(byte) {
                #expect(Fingerprint.nibble(byte) == v, "byte \(b)")
            } else {
                #expect(Fingerprint.nibble(byte) > 15, "byte \(b)")
            }
        }
        // Every upper- and lower-case spelling of a digest parses to the same bytes.
        let lower = Self.sha256.lowercased()
        let fromLower = try Fingerprint(parsing: "sha-256 " + lower)
        let fromUpper = try Fingerprint(parsing: "sha-256 " + Self.sha256)
        #expect(fromLower == fromUpper)
        #expect(fromLower.value == "sha-256 " + Self.sha256)
    }

    @Test("RFC 8122 §5: digest length must match the hash function")
    func lengthMismatch() {
        #expect { try Fingerprint(parsing: "sha-1 " + Self.sha256) } throws: {
            ($0 as? SDPError)?.code == .fingerprintLengthMismatch && ($0 as? SDPError)?.sipStatus == 488
        }
        #expect { try Fingerprint(parsing: "sha-256 4A:AD") } throws: { ($0 as? SDPError)?.code == .fingerprintLengthMismatch }
    }

    @Test("RFC 8122 §5: unknown hash and malformed hex are rejected with 488")
    func malformed() {
        #expect { try Fingerprint(parsing: "sha-3 " + Self.sha256) } throws: { ($0 as? SDPError)?.code == .unsupportedHashFunction }
        #expect { try Fingerprint(parsing: "sha-256 4A:AZ:" + Self.sha256.dropFirst(6)) } throws: { ($0 as? SDPError)?.code == .malformedFingerprint }
        #expect { try Fingerprint(parsing: "sha-256 4AAD") } throws: { ($0 as? SDPError)?.code == .malformedFingerprint }
        #expect { try Fingerprint(parsing: "sha-256") } throws: { ($0 as? SDPError)?.code == .malformedFingerprint }
        #expect { try Fingerprint(parsing: "sha-256 4A::AD") } throws: { ($0 as? SDPError)?.code == .malformedFingerprint }
    }

    @Test("RFC 8122 §5: all registered lengths", arguments: Fingerprint.HashFunction.allCases)
    func lengths(hash: Fingerprint.HashFunction) throws {
        let hex = (0..<hash.byteCount).map { _ in "0a" }.joined(separator: ":")
        let fp = try Fingerprint(parsing: hash.rawValue.uppercased() + " " + hex)
        #expect(fp.bytes == Array(repeating: 0x0A, count: hash.byteCount))
        #expect(fp.hexString == (0..<hash.byteCount).map { _ in "0A" }.joined(separator: ":"))
    }

    @Test("RFC 8122 §5: a digest keeps its bytes, equality and hash whether stored inline (<= 32 bytes) or not",
          arguments: Fingerprint.HashFunction.allCases)
    func storage(hash: Fingerprint.HashFunction) throws {
        let bytes = (0..<hash.byteCount).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 1) }
        let built = Fingerprint(hash: hash, bytes: bytes)
        #expect(built.bytes == bytes)
        #expect(built.byteCount == hash.byteCount)
        let parsed = try Fingerprint(parsing: built.value)
        #expect(parsed == built)
        #expect(Set([parsed, built]).count == 1)
        var changed = built
        changed.bytes[0] ^= 0xFF
        #expect(changed != built)
        #expect(changed.bytes.dropFirst() == bytes.dropFirst())
        #expect(Fingerprint(hash: hash, bytes: []) != built)
    }
}
