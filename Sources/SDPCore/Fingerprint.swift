// a=fingerprint (RFC 8122 §5, which obsoletes RFC 4572):
//   fingerprint-attribute = "fingerprint" ":" hash-func SP fingerprint
//   fingerprint = 2UHEX *(":" 2UHEX)
// Hash names are ABNF literals, hence case-insensitive (RFC 5234 §2.3): `SHA-256` and `sha-256` are
// the same function. The byte count must match the hash (RFC 8122 §5; FIPS 180-4 digest sizes).

public struct Fingerprint: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Hash functions from the RFC 8122 §5 / IANA "Hash Function Textual Names" registry.
    public enum HashFunction: String, Sendable, Equatable, Hashable, CaseIterable, Codable {
        case md2 = "md2", md5 = "md5", sha1 = "sha-1", sha224 = "sha-224", sha256 = "sha-256"
        case sha384 = "sha-384", sha512 = "sha-512"

        /// Digest length in bytes.
        public var byteCount: Int {
            switch self {
            case .md2, .md5: return 16
            case .sha1: return 20
            case .sha224: return 28
            case .sha256: return 32
            case .sha384: return 48
            case .sha512: return 64
            }
        }

        /// Case-insensitive lookup (RFC 5234 §2.3 literals).
        public init?(name: Substring) {
            for h in HashFunction.allCases where SDPText.equalsIgnoringCase(name, h.staticName) {
                self = h
                return
            }
            return nil
        }

        var staticName: StaticString {
            switch self {
            case .md2: return "md2"
            case .md5: return "md5"
            case .sha1: return "sha-1"
            case .sha224: return "sha-224"
            case .sha256: return "sha-256"
            case .sha384: return "sha-384"
            case .sha512: return "sha-512"
            }
        }
    }

    public var hash: HashFunction
    public var bytes: [UInt8]

    public init(hash: HashFunction, bytes: [UInt8]) {
        self.hash = hash
        self.bytes = bytes
    }

    /// Parses the attribute value `<hash-func> <hex pairs>`, validating hash name, format and length.
    /// Lower-case hex is accepted on input (lenient); output is upper case (RFC 8122 §5 UHEX).
    public init(parsing value: Substring, line: Int = 0) throws(SDPError) {
        guard let space = value.utf8.firstIndex(of: ASCII.space) else {
            throw SDPError(.malformedFingerprint, line: line, detail: "expected <hash-func> <fingerprint>")
        }
        let name = value[value.startIndex..<space]
        guard let hash = HashFunction(name: name) else {
            throw SDPError(.unsupportedHashFunction, line: line, detail: "hash function \(name)")
        }
        var hex = value[value.utf8.index(after: space)...]
        while hex.utf8.first == ASCII.space { hex = hex.dropFirst() }
        while hex.utf8.last == ASCII.space { hex = hex.dropLast() }
        var out: [UInt8] = []
        out.reserveCapacity(hash.byteCount)
        var pending: UInt8 = 0
        var digits = 0
        for b in hex.utf8 {
            if b == ASCII.colon {
                guard digits == 2 else { throw SDPError(.malformedFingerprint, line: line, detail: "hex pair") }
                digits = 0
                continue
            }
            guard let v = Fingerprint.hexValue(b), digits < 2 else {
                throw SDPError(.malformedFingerprint, line: line, detail: "hex pair")
            }
            pending = digits == 0 ? v << 4 : pending | v
            digits += 1
            if digits == 2 {
                guard out.count < SDPLimits.maxFingerprintBytes else {
                    throw SDPError(.fingerprintLengthMismatch, line: line, detail: "too long")
                }
                out.append(pending)
            }
        }
        guard digits == 2 else { throw SDPError(.malformedFingerprint, line: line, detail: "hex pair") }
        guard out.count == hash.byteCount else {
            throw SDPError(.fingerprintLengthMismatch, line: line,
                           detail: "\(hash.rawValue) needs \(hash.byteCount) bytes, got \(out.count)")
        }
        self.hash = hash
        self.bytes = out
    }

    /// Parses a whole `sha-256 AB:CD:...` text (convenience for configuration and fixtures).
    public init(parsing text: String) throws(SDPError) {
        try self.init(parsing: Substring(text))
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }

    private static let hexDigits: [Character] = Array("0123456789ABCDEF")

    /// Colon-separated upper-case hex.
    public var hexString: String {
        var s = String()
        s.reserveCapacity(bytes.count * 3)
        for (k, b) in bytes.enumerated() {
            if k > 0 { s.append(":") }
            s.append(Fingerprint.hexDigits[Int(b >> 4)])
            s.append(Fingerprint.hexDigits[Int(b & 0x0F)])
        }
        return s
    }

    /// The attribute value, `sha-256 AB:...` (lower-case hash name, RFC 8122 §5).
    public var value: String { hash.rawValue + " " + hexString }
    public var description: String { value }
}
