// One SDP line kept exactly as received (RFC 8866 §5: `<type>=<value>` terminated by CRLF; LF alone is
// tolerated by RFC 8866 §5 "parsers SHOULD be tolerant and also accept lines terminated by LF").

/// The terminator that followed a line in the input (kept so an unchanged SDP serialises byte-identically).
public enum SDPLineEnding: UInt8, Sendable, Equatable {
    case crlf
    case lf
    /// The last line of the input had no terminator.
    case none

    var bytes: String {
        switch self {
        case .crlf: return "\r\n"
        case .lf: return "\n"
        case .none: return ""
        }
    }
}

/// One line: its type letter, the text after `=`, and its original terminator.
/// The value is a `Substring` of the parsed input, so parsing copies nothing.
public struct SDPLine: Sendable, Equatable {
    /// ASCII type letter (`v`, `o`, `s`, `c`, `m`, `b`, `a`, ...).
    public var type: UInt8
    /// Everything after `<type>=` up to (not including) the terminator.
    public var value: Substring {
        didSet { key = type == ASCII.a ? SDPAttributeKey.classify(value: value) : .notAttribute }
    }
    public var ending: SDPLineEnding
    /// For `a=` lines, the known attribute this line carries (derived from `value`).
    public private(set) var key: SDPAttributeKey

    public init(type: UInt8, value: Substring, ending: SDPLineEnding = .crlf) {
        self.type = type
        self.value = value
        self.ending = ending
        self.key = type == ASCII.a ? SDPAttributeKey.classify(value: value) : .notAttribute
    }

    /// Parser fast path: the key was classified from the input bytes.
    init(type: UInt8, value: Substring, ending: SDPLineEnding, key: SDPAttributeKey) {
        self.type = type
        self.value = value
        self.ending = ending
        self.key = key
    }

    public init(_ type: Character, _ value: String, ending: SDPLineEnding = .crlf) {
        self.init(type: type.asciiValue ?? UInt8(ascii: "x"), value: Substring(value), ending: ending)
    }

    public static func == (a: SDPLine, b: SDPLine) -> Bool {
        a.type == b.type && a.ending == b.ending && a.value == b.value
    }

    /// The type letter as a Character.
    public var typeCharacter: Character { Character(Unicode.Scalar(type)) }

    /// For `a=` lines: the attribute name (before the first `:`), else empty.
    public var attributeName: Substring {
        guard type == ASCII.a else { return value[value.startIndex..<value.startIndex] }
        if let colon = SDPText.firstOffset(of: ASCII.colon, in: value) { return SDPText.slice(value, 0, colon) }
        return value
    }

    /// For `a=` lines: the attribute value (after the first `:`), or nil for a property attribute.
    public var attributeValue: Substring? {
        if key != .other, key != .notAttribute {
            let n = key.nameLength
            guard value.utf8.count > n else { return nil }
            return value[SDPText.index(value, n + 1)...]
        }
        guard type == ASCII.a, let colon = SDPText.firstOffset(of: ASCII.colon, in: value) else { return nil }
        return value[SDPText.index(value, colon + 1)...]
    }

    /// True for an `a=` line whose name equals `name` (ASCII case-insensitive).
    public func isAttribute(_ name: StaticString) -> Bool {
        matches(SDPAttributeKey.classify(name), name)
    }

    /// True for an `a=` line with the known attribute `k`.
    @inline(__always)
    public func isAttribute(_ k: SDPAttributeKey) -> Bool { key == k }

    /// Match against a pre-classified literal (`k` from `SDPAttributeKey.classify(name)`).
    @inline(__always)
    public func matches(_ k: SDPAttributeKey, _ name: StaticString) -> Bool {
        if k != .other { return key == k }
        return type == ASCII.a && SDPText.nameMatches(value, name)
    }

    /// Runs `body` over the bytes of a known attribute's value (after `name:`); nil for a property
    /// attribute or an unknown key.
    @inlinable
    public func withAttributeValueBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        let n = key.nameLength
        guard n > 0 else { return nil }
        return SDPText.withBytes(value) { buf -> R? in
            guard buf.count > n, buf[n] == ASCII.colon else { return nil }
            return body(UnsafeBufferPointer(rebasing: buf[(n + 1)...]))
        }
    }

    /// The line as text, without terminator (`a=setup:actpass`).
    public var text: String { String(typeCharacter) + "=" + value }
}

/// ASCII byte constants used by the scanners.
public enum ASCII {
    // Computed and inlinable, so each use is a constant (a `static let` is a global reached through
    // an addressor call from other modules).
    @inlinable public static var a: UInt8 { 0x61 }
    @inlinable public static var b: UInt8 { 0x62 }
    @inlinable public static var c: UInt8 { 0x63 }
    @inlinable public static var i: UInt8 { 0x69 }
    @inlinable public static var k: UInt8 { 0x6B }
    @inlinable public static var m: UInt8 { 0x6D }
    @inlinable public static var o: UInt8 { 0x6F }
    @inlinable public static var s: UInt8 { 0x73 }
    @inlinable public static var t: UInt8 { 0x74 }
    @inlinable public static var v: UInt8 { 0x76 }
    @inlinable public static var cr: UInt8 { 0x0D }
    @inlinable public static var lf: UInt8 { 0x0A }
    @inlinable public static var space: UInt8 { 0x20 }
    @inlinable public static var tab: UInt8 { 0x09 }
    @inlinable public static var colon: UInt8 { 0x3A }
    @inlinable public static var equals: UInt8 { 0x3D }
    @inlinable public static var slash: UInt8 { 0x2F }
    @inlinable public static var dollar: UInt8 { 0x24 }
    @inlinable public static var dash: UInt8 { 0x2D }
    @inlinable public static var zero: UInt8 { 0x30 }
    @inlinable public static var nine: UInt8 { 0x39 }
}

/// Small allocation-free text helpers. Hot paths read the UTF-8 bytes through a contiguous buffer
/// (native Swift strings always have one); a copying fallback covers bridged strings.
public enum SDPText {
    /// Runs `body` over the UTF-8 bytes of `text`.
    @inlinable
    public static func withBytes<R>(_ text: Substring, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        // Go through the base String's contiguous storage (cheaper than the Substring slice path).
        let base = text.base
        let start = base.utf8.distance(from: base.startIndex, to: text.startIndex)
        let end = base.utf8.distance(from: base.startIndex, to: text.endIndex)
        if let r = try base.utf8.withContiguousStorageIfAvailable({ buf in
            try body(UnsafeBufferPointer(rebasing: buf[start..<end]))
        }) { return r }
        var copy = String(text)
        return try copy.withUTF8(body)
    }

    /// The index `offset` UTF-8 bytes after the start of `text` (O(1) for native strings).
    @inlinable
    public static func index(_ text: Substring, _ offset: Int) -> String.Index {
        // Offsets are computed on the base String's UTF-8 view (O(1) and much cheaper than the
        // Substring view's generic index(_:offsetBy:)).
        let base = text.base
        let start = base.utf8.distance(from: base.startIndex, to: text.startIndex)
        return base.utf8.index(base.startIndex, offsetBy: start + offset)
    }

    /// Slice of `text` by UTF-8 byte offsets.
    @inlinable
    public static func slice(_ text: Substring, _ from: Int, _ to: Int) -> Substring {
        let base = text.base
        let start = base.utf8.distance(from: base.startIndex, to: text.startIndex)
        let a = base.utf8.index(base.startIndex, offsetBy: start + from)
        let b = base.utf8.index(base.startIndex, offsetBy: start + to)
        return base[a..<b]
    }

    /// Byte offset of the first `byte` in `text`, or nil.
    @inlinable
    public static func firstOffset(of byte: UInt8, in text: Substring) -> Int? {
        withBytes(text) { buf -> Int? in
            for k in 0..<buf.count where buf[k] == byte { return k }
            return nil
        }
    }

    /// True when `text` starts with `name` and the next byte is `:` or the end (attribute name match,
    /// ASCII case-insensitive; RFC 8866 §5.13 att-field is a token).
    @inlinable
    public static func nameMatches(_ text: Substring, _ name: StaticString) -> Bool {
        let n = name.utf8CodeUnitCount
        return withBytes(text) { tb -> Bool in
            guard tb.count >= n, tb.count == n || tb[n] == ASCII.colon else { return false }
            let nb = name.utf8Start
            for k in 0..<n where lower(tb[k]) != lower(nb[k]) { return false }
            return true
        }
    }

    /// ASCII case-insensitive equality of a whole substring with a literal.
    @inlinable
    public static func equalsIgnoringCase(_ text: Substring, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        return withBytes(text) { tb -> Bool in
            guard tb.count == n else { return false }
            let nb = literal.utf8Start
            for k in 0..<n where lower(tb[k]) != lower(nb[k]) { return false }
            return true
        }
    }

    @inlinable
    public static func lower(_ b: UInt8) -> UInt8 {
        (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b
    }

    /// Splits on spaces (RFC 8866 uses exactly one SP between fields; runs of SP are tolerated).
    @inlinable
    public static func fields(_ text: Substring) -> [Substring] {
        var ranges: [(Int, Int)] = []
        ranges.reserveCapacity(8)
        withBytes(text) { buf in
            var start = 0
            for k in 0..<buf.count where buf[k] == ASCII.space {
                if k > start { ranges.append((start, k)) }
                start = k + 1
            }
            if buf.count > start { ranges.append((start, buf.count)) }
        }
        return ranges.map { slice(text, $0.0, $0.1) }
    }

    /// Byte range of field `n` (0-based, space separated), or nil.
    @inlinable
    public static func fieldRange(_ text: Substring, _ n: Int) -> (Int, Int)? {
        withBytes(text) { buf in fieldRange(buf, n) }
    }

    /// Byte range of field `n` (0-based, space separated) of `buf`, or nil.
    @inlinable
    public static func fieldRange(_ buf: UnsafeBufferPointer<UInt8>, _ n: Int) -> (Int, Int)? {
        guard let p = buf.baseAddress else { return nil }
        let count = buf.count
        var k = 0, field = 0
        while true {
            while k < count, p[k] == ASCII.space { k &+= 1 }     // runs of SP are tolerated
            guard k < count else { return nil }
            let start = k
            while k < count, p[k] != ASCII.space { k &+= 1 }
            if field == n { return (start, k) }
            field &+= 1
        }
    }

    /// Field `n` (0-based, space separated), or an empty Substring.
    @inlinable
    public static func field(_ text: Substring, _ n: Int) -> Substring {
        guard let (a, b) = fieldRange(text, n) else { return text[text.endIndex...] }
        return slice(text, a, b)
    }

    /// Parses 1*DIGIT into a UInt64, bounded by `SDPLimits.maxNumberDigits`; nil when not all digits.
    @inlinable
    public static func number(_ text: Substring) -> UInt64? {
        withBytes(text) { number($0, 0, $0.count) }
    }

    /// Parses buf[from..<to] as 1*DIGIT (bounded); nil when not all digits.
    @inlinable
    public static func number(_ buf: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> UInt64? {
        let count = to - from
        // At most `SDPLimits.maxNumberDigits` (19) digits: 10^19 - 1 < UInt64.max, so the wrapping
        // arithmetic below cannot wrap (the `19` keeps that true whatever the limit).
        guard count > 0, count <= SDPLimits.maxNumberDigits, count <= 19, let p = buf.baseAddress else { return nil }
        var value: UInt64 = 0
        var k = from
        while k < to {
            let d = p[k] &- ASCII.zero
            guard d < 10 else { return nil }
            value = value &* 10 &+ UInt64(d)
            k &+= 1
        }
        return value
    }

    /// ASCII case-insensitive equality of a byte buffer with a literal.
    @inlinable
    public static func equalsIgnoringCase(_ tb: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard tb.count == n else { return false }
        guard let t = tb.baseAddress else { return n == 0 }
        let nb = literal.utf8Start
        // Equal bytes (the usual, canonical spelling) cost one compare; only a differing byte is
        // compared again case-folded.
        var k = 0
        while k < n {
            let a = t[k], b = nb[k]
            if a != b, lower(a) != lower(b) { return false }
            k &+= 1
        }
        return true
    }

    /// Builds a String from `text` with bytes [from, to) replaced by `replacement` (one allocation).
    public static func replacing(_ text: Substring, _ from: Int, _ to: Int, with replacement: String) -> String {
        var r = replacement
        return withBytes(text) { buf in
            r.withUTF8 { rb in
                let total = from + rb.count + (buf.count - to)
                return String(unsafeUninitializedCapacity: total) { out in
                    var p = 0
                    for k in 0..<from { out[p] = buf[k]; p += 1 }
                    for k in 0..<rb.count { out[p] = rb[k]; p += 1 }
                    for k in to..<buf.count { out[p] = buf[k]; p += 1 }
                    return p
                }
            }
        }
    }

    /// Number of decimal digits of `n`.
    @inlinable
    public static func decimalLength(_ n: UInt64) -> Int {
        var n = n, c = 1
        while n >= 10 { n /= 10; c += 1 }
        return c
    }

    /// Writes `n` in decimal at out[p...] and advances `p`.
    @inlinable
    public static func writeDecimal(_ n: UInt64, _ out: UnsafeMutableBufferPointer<UInt8>, _ p: inout Int) {
        let len = decimalLength(n)
        var n = n, k = p + len - 1
        repeat { out[k] = UInt8(truncatingIfNeeded: n % 10) &+ ASCII.zero; n /= 10; k -= 1 } while n > 0
        p += len
    }

    /// Copies `src` to out[p...] and advances `p`.
    @inlinable
    public static func write(_ src: UnsafeBufferPointer<UInt8>, _ out: UnsafeMutableBufferPointer<UInt8>, _ p: inout Int) {
        if let s = src.baseAddress, let d = out.baseAddress, src.count > 0 { (d + p).update(from: s, count: src.count) }
        p += src.count
    }

    /// Runs `body` over the UTF-8 bytes of a String (no copy for native strings).
    @inlinable
    public static func withBytes<R>(of text: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let r = try text.utf8.withContiguousStorageIfAvailable(body) { return r }
        var copy = text
        return try copy.withUTF8(body)
    }

    /// `text` with bytes [from, to) replaced by the decimal `n` or a one-byte wildcard (one allocation).
    public static func replacing(_ text: Substring, _ from: Int, _ to: Int, withPort port: SDPPort) -> String {
        withBytes(text) { buf in
            let len: Int
            switch port {
            case .number(let n): len = decimalLength(UInt64(n))
            case .wildcard: len = 1
            }
            return String(unsafeUninitializedCapacity: from + len + (buf.count - to)) { out in
                var p = 0
                write(UnsafeBufferPointer(rebasing: buf[0..<from]), out, &p)
                switch port {
                case .number(let n): writeDecimal(UInt64(n), out, &p)
                case .wildcard(let w): out[p] = w == .choose ? ASCII.dollar : ASCII.dash; p += 1
                }
                write(UnsafeBufferPointer(rebasing: buf[to...]), out, &p)
                return p
            }
        }
    }

    /// ASCII case-insensitive prefix test.
    @inlinable
    public static func hasPrefixIgnoringCase(_ text: Substring, _ prefix: StaticString) -> Bool {
        let n = prefix.utf8CodeUnitCount
        return withBytes(text) { tb -> Bool in
            guard tb.count >= n else { return false }
            let pb = prefix.utf8Start
            for k in 0..<n where lower(tb[k]) != lower(pb[k]) { return false }
            return true
        }
    }

    /// ASCII case-insensitive substring test.
    @inlinable
    public static func containsIgnoringCase(_ text: Substring, _ needle: StaticString) -> Bool {
        let n = needle.utf8CodeUnitCount
        return withBytes(text) { tb -> Bool in
            guard tb.count >= n else { return false }
            let pb = needle.utf8Start
            var i = 0
            while i + n <= tb.count {
                var same = true
                for k in 0..<n where lower(tb[i + k]) != lower(pb[k]) { same = false; break }
                if same { return true }
                i += 1
            }
            return false
        }
    }

    /// RFC 8866 §9 token-char (used for attribute names, proto elements, bwtype).
    @inlinable
    public static func isTokenChar(_ b: UInt8) -> Bool {
        switch b {
        case 0x21, 0x23...0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x30...0x39, 0x41...0x5A, 0x5E...0x7E: return true
        default: return false
        }
    }

    @inlinable
    public static func isToken(_ text: Substring) -> Bool {
        withBytes(text) { isToken($0, 0, $0.count) }
    }

    @inlinable
    public static func isToken(_ buf: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Bool {
        guard to > from else { return false }
        for k in from..<to where !isTokenChar(buf[k]) { return false }
        return true
    }
}
