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
            for h in HashFunction.all where SDPText.equalsIgnoringCase(name, h.staticName) {
                self = h
                return
            }
            return nil
        }

        /// `allCases`, built once (the synthesised `allCases` allocates an array per call).
        static let all: [HashFunction] = allCases

        /// The hash function named by `name` (ASCII case-insensitive, RFC 5234 §2.3), by length first.
        static func named(_ name: UnsafeBufferPointer<UInt8>) -> HashFunction? {
            switch name.count {
            case 3:
                if SDPText.equalsIgnoringCase(name, "md5") { return .md5 }
                if SDPText.equalsIgnoringCase(name, "md2") { return .md2 }
            case 5: if SDPText.equalsIgnoringCase(name, "sha-1") { return .sha1 }
            case 7:
                if SDPText.equalsIgnoringCase(name, "sha-256") { return .sha256 }
                if SDPText.equalsIgnoringCase(name, "sha-384") { return .sha384 }
                if SDPText.equalsIgnoringCase(name, "sha-512") { return .sha512 }
                if SDPText.equalsIgnoringCase(name, "sha-224") { return .sha224 }
            default: break
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
    /// The digest, stored inline up to `inlineCapacity` (32 bytes, SHA-256, the hash of every
    /// e2ae fingerprint we see): such a fingerprint costs no allocation and copying one retains
    /// nothing. Longer digests (SHA-384, SHA-512) are kept in `overflow`.
    @usableFromInline var digest: (UInt64, UInt64, UInt64, UInt64)
    @usableFromInline var digestCount: UInt8
    @usableFromInline var overflow: [UInt8]?

    /// The digest bytes.
    public var bytes: [UInt8] {
        get { withDigest { Array($0) } }
        set { self = Fingerprint(hash: hash, bytes: newValue) }
    }

    public init(hash: HashFunction, bytes: [UInt8]) {
        if bytes.count <= Self.inlineCapacity {
            self = bytes.withUnsafeBufferPointer { b in
                Fingerprint(hash: hash, digest: b.baseAddress, count: b.count)
            }
        } else {
            self.hash = hash
            digest = (0, 0, 0, 0)
            digestCount = 0
            overflow = bytes
        }
    }

    /// A fingerprint whose `count` digest bytes are at `src`.
    init(hash: HashFunction, digest src: UnsafePointer<UInt8>?, count: Int) {
        var d: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var over: [UInt8]? = nil
        var n: UInt8 = 0
        if let src, count > 0 {
            if count <= Self.inlineCapacity {
                withUnsafeMutableBytes(of: &d) { raw in
                    if let p = raw.baseAddress { p.copyMemory(from: src, byteCount: count) }
                }
                n = UInt8(truncatingIfNeeded: count)
            } else {
                over = Array(UnsafeBufferPointer(start: src, count: count))
            }
        }
        self.hash = hash
        self.digest = d
        self.digestCount = n
        self.overflow = over
    }

    /// Digest bytes stored inline.
    @usableFromInline static var inlineCapacity: Int { 32 }

    /// Runs `body` over the digest bytes.
    @inlinable
    public func withDigest<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let overflow { return try overflow.withUnsafeBufferPointer(body) }
        let n = Int(digestCount)
        return try withUnsafeBytes(of: digest) { raw in
            try body(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: n))
        }
    }

    /// Number of digest bytes.
    public var byteCount: Int { overflow?.count ?? Int(digestCount) }

    public static func == (a: Fingerprint, b: Fingerprint) -> Bool {
        guard a.hash == b.hash, a.byteCount == b.byteCount else { return false }
        return a.withDigest { x in b.withDigest { y in x.elementsEqual(y) } }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(hash)
        withDigest { d in
            hasher.combine(d.count)
            for b in d { hasher.combine(b) }
        }
    }

    /// Parses the attribute value `<hash-func> <hex pairs>`, validating hash name, format and length.
    /// Lower-case hex is accepted on input (lenient); output is upper case (RFC 8122 §5 UHEX).
    public init(parsing value: Substring, line: Int = 0) throws(SDPError) {
        let r = SDPText.withBytes(value) { buf -> Result<Fingerprint, SDPError> in
            Result(catching: { () throws(SDPError) -> Fingerprint in try Fingerprint(bytes: buf, line: line) })
        }
        switch r {
        case .success(let fp): self = fp
        case .failure(let e): throw e
        }
    }

    /// Parses the attribute value bytes `<hash-func> SP <hex pairs>`.
    public init(bytes buf: UnsafeBufferPointer<UInt8>, line: Int = 0) throws(SDPError) {
        var space = -1
        for k in 0..<buf.count where buf[k] == ASCII.space { space = k; break }
        guard space > 0 else {
            throw SDPError(.malformedFingerprint, line: line, detail: "expected <hash-func> <fingerprint>")
        }
        let nameBuf = UnsafeBufferPointer(rebasing: buf[0..<space])
        let found = HashFunction.named(nameBuf)
        guard let hash = found else {
            throw SDPError(.unsupportedHashFunction, line: line, detail: "hash function \(String(decoding: nameBuf.prefix(16), as: UTF8.self))")
        }
        var from = space + 1
        var to = buf.count
        while from < to, buf[from] == ASCII.space { from += 1 }
        while to > from, buf[to - 1] == ASCII.space { to -= 1 }
        // Fast path: the canonical `XX:XX:...:XX` form of exactly the right length, decoded straight into
        // the result. Anything else (or a bad digit) goes through the general loop below for its error.
        let expected = hash.byteCount
        if to - from == expected * 3 - 1, let base = buf.baseAddress {
            // `nibble` maps a hex digit to 0-15 and anything else to a value >= 16, so one test per
            // pair checks both digits (one table load per digit: no branch on the digit's kind).
            @inline(__always) func nibble(_ b: UInt8) -> UInt8 { Fingerprint.nibble(b) }
            // Decoded on the stack, then copied into the array in one append (an append per byte
            // checks capacity and uniqueness each time).
            let decoded = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: expected) { tmp -> Fingerprint? in
                guard let t = tmp.baseAddress else { return nil }
                var q = base + from
                for j in 0..<expected {
                    if j > 0, q[-1] != ASCII.colon { return nil }
                    let hi = nibble(q[0]), lo = nibble(q[1])
                    if (hi | lo) > 15 { return nil }
                    t[j] = hi &<< 4 | lo
                    q += 3
                }
                return Fingerprint(hash: hash, digest: t, count: expected)
            }
            if let decoded {
                self = decoded
                return
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(hash.byteCount)
        var pending: UInt8 = 0
        var digits = 0
        for k in from..<to {
            let b = buf[k]
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
        self.init(hash: hash, bytes: out)
    }

    /// Parses a whole `sha-256 AB:CD:...` text (convenience for configuration and fixtures).
    public init(parsing text: String) throws(SDPError) {
        try self.init(parsing: Substring(text))
    }

    /// Hex digit values by byte: `0x40 + v` for the digits 0-9, A-F and a-f (v = 0...15), `z` for every
    /// other byte (so `nibble` gives 0x3A, above 15). 256 ASCII bytes, indexed by a UInt8: always inside (a computed literal, as `SDPScanner.byteClass`: no
    /// lazy-global check per access).
    static var nibbleTable: StaticString { "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz@ABCDEFGHIzzzzzzzJKLMNOzzzzzzzzzzzzzzzzzzzzzzzzzzJKLMNOzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz" }

    /// The value of hex digit `b` (0-15), or a value above 15 for any other byte (same digits as
    /// `hexValue`).
    @inline(__always)
    static func nibble(_ b: UInt8) -> UInt8 {
        nibbleTable.utf8Start[Int(b)] &- 0x40
    }

    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt8? {
        let d = b &- 0x30
        if d < 10 { return d }
        let l = (b | 0x20) &- 0x61      // A-F and a-f (| 0x20 maps nothing else into a-f)
        return l < 6 ? l &+ 10 : nil
    }

    /// Colon-separated upper-case hex.
    public var hexString: String {
        withDigest { bytes in
            let count = bytes.isEmpty ? 0 : bytes.count * 3 - 1
            return String(unsafeUninitializedCapacity: count) { out in
                let digits: StaticString = "0123456789ABCDEF"
                let d = digits.utf8Start
                var p = 0
                for (k, b) in bytes.enumerated() {
                    if k > 0 { out[p] = ASCII.colon; p += 1 }
                    out[p] = d[Int(b >> 4)]; out[p + 1] = d[Int(b & 0x0F)]; p += 2
                }
                return p
            }
        }
    }

    /// The attribute value, `sha-256 AB:...` (lower-case hash name, RFC 8122 §5).
    public var value: String { text(prefix: "") }

    /// The whole attribute text, `fingerprint:sha-256 AB:...` (one allocation).
    public var attributeText: String { text(prefix: "fingerprint:") }

    /// Number of bytes of `text(prefix:)`.
    func textCount(prefix: StaticString) -> Int {
        prefix.utf8CodeUnitCount + hash.staticName.utf8CodeUnitCount + 1 + (byteCount == 0 ? 0 : byteCount * 3 - 1)
    }

    /// Writes `text(prefix:)` at `d` (textCount(prefix:) bytes).
    func write(prefix: StaticString, to d: UnsafeMutablePointer<UInt8>) {
        let name = hash.staticName
        var p = 0
        d.initialize(from: prefix.utf8Start, count: prefix.utf8CodeUnitCount); p += prefix.utf8CodeUnitCount
        (d + p).initialize(from: name.utf8Start, count: name.utf8CodeUnitCount); p += name.utf8CodeUnitCount
        d[p] = ASCII.space; p += 1
        // `XX` then `:XX` per further byte, through a moving pointer (RFC 8122 §5 UHEX).
        withDigest { bs in
            guard let src = bs.baseAddress, bs.count > 0 else { return }
            @inline(__always) func hex(_ v: UInt8) -> UInt8 { v < 10 ? v &+ 0x30 : v &+ 0x37 }
            var q = d + p
            q[0] = hex(src[0] &>> 4); q[1] = hex(src[0] & 0x0F); q += 2
            var k = 1
            while k < bs.count {
                let b = src[k]
                q[0] = ASCII.colon; q[1] = hex(b &>> 4); q[2] = hex(b & 0x0F); q += 3
                k &+= 1
            }
        }
    }

    func text(prefix: StaticString) -> String {
        let total = textCount(prefix: prefix)
        return String(unsafeUninitializedCapacity: total) { out in
            guard let d = out.baseAddress else { return 0 }
            write(prefix: prefix, to: d)
            return total
        }
    }
    public var description: String { value }
}

extension Fingerprint: Codable {
    /// Encoded as the attribute value text, `"sha-256 AB:CD:..."`.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(parsing: Substring(text))
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(value)
    }
}
