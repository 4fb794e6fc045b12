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
    public var value: Substring
    public var ending: SDPLineEnding

    public init(type: UInt8, value: Substring, ending: SDPLineEnding = .crlf) {
        self.type = type
        self.value = value
        self.ending = ending
    }

    public init(_ type: Character, _ value: String, ending: SDPLineEnding = .crlf) {
        self.type = type.asciiValue ?? UInt8(ascii: "x")
        self.value = Substring(value)
        self.ending = ending
    }

    /// The type letter as a Character.
    public var typeCharacter: Character { Character(Unicode.Scalar(type)) }

    /// For `a=` lines: the attribute name (before the first `:`), else empty.
    public var attributeName: Substring {
        guard type == ASCII.a else { return value[value.startIndex..<value.startIndex] }
        if let colon = value.utf8.firstIndex(of: ASCII.colon) { return value[value.startIndex..<colon] }
        return value
    }

    /// For `a=` lines: the attribute value (after the first `:`), or nil for a property attribute.
    public var attributeValue: Substring? {
        guard type == ASCII.a, let colon = value.utf8.firstIndex(of: ASCII.colon) else { return nil }
        return value[value.utf8.index(after: colon)...]
    }

    /// True for an `a=` line whose name equals `name` (ASCII case-insensitive).
    @inlinable
    public func isAttribute(_ name: StaticString) -> Bool {
        guard type == ASCII.a else { return false }
        return SDPText.nameMatches(value, name)
    }

    /// The line as text, without terminator (`a=setup:actpass`).
    public var text: String { String(typeCharacter) + "=" + value }
}

/// ASCII byte constants used by the scanners.
public enum ASCII {
    public static let a = UInt8(ascii: "a"), b = UInt8(ascii: "b"), c = UInt8(ascii: "c")
    public static let i = UInt8(ascii: "i"), k = UInt8(ascii: "k"), m = UInt8(ascii: "m")
    public static let o = UInt8(ascii: "o"), s = UInt8(ascii: "s"), t = UInt8(ascii: "t")
    public static let v = UInt8(ascii: "v")
    public static let cr: UInt8 = 0x0D, lf: UInt8 = 0x0A, space: UInt8 = 0x20, tab: UInt8 = 0x09
    public static let colon = UInt8(ascii: ":"), equals = UInt8(ascii: "="), slash = UInt8(ascii: "/")
    public static let dollar = UInt8(ascii: "$"), dash = UInt8(ascii: "-"), zero = UInt8(ascii: "0")
    public static let nine = UInt8(ascii: "9")
}

/// Small allocation-free text helpers over UTF-8 views.
public enum SDPText {
    /// True when `text` starts with `name` and the next byte is `:` or the end (attribute name match,
    /// ASCII case-insensitive; RFC 8866 §5.13 att-field is a token).
    @inlinable
    public static func nameMatches(_ text: Substring, _ name: StaticString) -> Bool {
        let n = name.utf8CodeUnitCount
        return name.withUTF8Buffer { nb -> Bool in
            var idx = text.utf8.startIndex
            let end = text.utf8.endIndex
            for k in 0..<n {
                guard idx < end else { return false }
                if lower(text.utf8[idx]) != lower(nb[k]) { return false }
                idx = text.utf8.index(after: idx)
            }
            return idx == end || text.utf8[idx] == ASCII.colon
        }
    }

    /// ASCII case-insensitive equality of a whole substring with a literal.
    @inlinable
    public static func equalsIgnoringCase(_ text: Substring, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard text.utf8.count == n else { return false }
        return literal.withUTF8Buffer { nb -> Bool in
            var k = 0
            for byte in text.utf8 {
                if lower(byte) != lower(nb[k]) { return false }
                k += 1
            }
            return true
        }
    }

    @inlinable
    public static func lower(_ b: UInt8) -> UInt8 {
        (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b
    }

    /// Splits on single spaces (RFC 8866 uses exactly one SP between fields; runs of SP are tolerated).
    @inlinable
    public static func fields(_ text: Substring) -> [Substring] {
        var result: [Substring] = []
        result.reserveCapacity(6)
        var start = text.utf8.startIndex
        var idx = start
        let end = text.utf8.endIndex
        while idx < end {
            if text.utf8[idx] == ASCII.space {
                if idx > start { result.append(text[start..<idx]) }
                idx = text.utf8.index(after: idx)
                start = idx
            } else {
                idx = text.utf8.index(after: idx)
            }
        }
        if idx > start { result.append(text[start..<idx]) }
        return result
    }

    /// Parses 1*DIGIT into a UInt64, bounded by `SDPLimits.maxNumberDigits`; nil when not all digits.
    @inlinable
    public static func number(_ text: Substring) -> UInt64? {
        let count = text.utf8.count
        guard count > 0, count <= SDPLimits.maxNumberDigits else { return nil }
        var value: UInt64 = 0
        for byte in text.utf8 {
            guard byte >= ASCII.zero, byte <= ASCII.nine else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(byte - ASCII.zero))
            if o1 || o2 { return nil }
            value = s
        }
        return value
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
        guard !text.utf8.isEmpty else { return false }
        for b in text.utf8 where !isTokenChar(b) { return false }
        return true
    }
}
