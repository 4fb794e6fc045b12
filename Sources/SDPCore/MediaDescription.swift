// One media description: the m= line and every line up to the next m= (RFC 8866 §5.14).

public struct MediaDescription: Sendable, Equatable, SDPSection {
    /// Line 0 is the m= line; order and unknown lines are kept as received.
    public var table: SDPLineTable

    /// RFC 8866 §5 media-level order: m= i= c= b= k= a=; blank trailing lines last.
    public static func rank(of type: UInt8) -> Int {
        switch type {
        case ASCII.m: return 0
        case ASCII.i: return 1
        case ASCII.c: return 2
        case ASCII.b: return 3
        case ASCII.k: return 4
        case ASCII.a: return 5
        case 0: return Int.max
        default: return 6
        }
    }

    public static func == (a: MediaDescription, b: MediaDescription) -> Bool { a.table == b.table }

    /// Wraps already-validated lines (lines[0] must be an m= line).
    public init(lines: [SDPLine]) {
        table = SDPLineTable(lines: lines)
    }

    public init(table: SDPLineTable) {
        self.table = table
    }

    /// A new media description with just an m= line.
    public init(_ mediaLine: MediaLine, ending: SDPLineEnding = .crlf) {
        self.init(lines: [SDPLine(type: ASCII.m, value: Substring(mediaLine.value), ending: ending)])
    }

    /// The m= line, parsed (allocates Strings; use the field accessors on hot paths).
    public var mediaLine: MediaLine {
        get {
            (try? MediaLine(parsing: table.value(0), allowWildcards: true))
                ?? MediaLine(media: String(mediaType), port: .number(0), proto: String(proto), formats: [])
        }
        set { table.setValue(0, newValue.value) }
    }

    /// Byte range of m= field n (0 media, 1 port[/count], 2 proto, 3... formats).
    @inlinable
    public func fieldRange(_ n: Int) -> (Int, Int)? {
        table.withValue(0) { SDPText.fieldRange($0, n) }
    }

    /// Runs `body` over the bytes of m= field n (empty when absent).
    @inlinable
    public func withField<R>(_ n: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try table.withValue(0) { buf in
            guard let (a, b) = SDPText.fieldRange(buf, n) else { return try body(UnsafeBufferPointer(rebasing: buf[0..<0])) }
            return try body(UnsafeBufferPointer(rebasing: buf[a..<b]))
        }
    }

    /// m= field n (0 media, 1 port[/count], 2 proto, 3... formats).
    public func field(_ n: Int) -> Substring {
        withField(n) { Substring(String(decoding: $0, as: UTF8.self)) }
    }

    /// Replaces m= field n (keeps every other byte of the line).
    public mutating func setField(_ n: Int, _ text: String) {
        guard let (a, b) = fieldRange(n) else { return }
        table.replace(in: 0, from: a, to: b, with: text)
    }

    public var mediaType: Substring { field(0) }

    /// The media type as a String, built straight from the bytes.
    public var mediaTypeString: String { withField(0) { String(decoding: $0, as: UTF8.self) } }
    public var proto: Substring { field(2) }

    /// The m= port (without port count); nil for a wildcard.
    public var port: SDPPort {
        table.withValue(0) { buf -> SDPPort in
            guard let (a, b) = SDPText.fieldRange(buf, 1) else { return .number(0) }
            var end = b
            for k in a..<b where buf[k] == ASCII.slash { end = k; break }
            if end - a == 1, buf[a] == ASCII.dollar { return .wildcard(.choose) }
            if end - a == 1, buf[a] == ASCII.dash { return .wildcard(.unspecified) }
            return .number(UInt16(clamping: SDPText.number(buf, a, end) ?? 0))
        }
    }

    /// Sets the port and keeps a `/count` suffix.
    public mutating func setPort(_ port: SDPPort) {
        guard let (a, end) = table.withValue(0, { buf -> (Int, Int)? in
            guard let (a, b) = SDPText.fieldRange(buf, 1) else { return nil }
            for k in a..<b where buf[k] == ASCII.slash { return (a, k) }
            return (a, b)
        }) else { return }
        switch port {
        case .number(let n):
            let len = SDPText.decimalLength(UInt64(n))
            table.replace(in: 0, from: a, to: end, count: len) { d in
                var v = UInt64(n), k = len - 1
                repeat { d[k] = UInt8(truncatingIfNeeded: v % 10) &+ ASCII.zero; v /= 10; k -= 1 } while v > 0
            }
        case .wildcard(let w):
            table.replace(in: 0, from: a, to: end, count: 1) { d in d[0] = w == .choose ? ASCII.dollar : ASCII.dash }
        }
    }

    public mutating func setProto(_ proto: String) { setField(2, proto) }

    /// RFC 3264 §6 / §8.2: a port of zero rejects or removes the stream.
    /// (Same result as `port == .number(0)`, read in one pass over the m= bytes.)
    public var isDisabled: Bool {
        table.withValue(0) { buf -> Bool in
            let n = buf.count
            var k = 0
            while k < n, buf[k] == ASCII.space { k += 1 }
            while k < n, buf[k] != ASCII.space { k += 1 }       // media
            while k < n, buf[k] == ASCII.space { k += 1 }
            let a = k
            guard a < n else { return true }                     // no port field: .number(0)
            var end = a
            while end < n, buf[end] != ASCII.space, buf[end] != ASCII.slash { end += 1 }
            if end - a == 1, buf[a] == ASCII.dollar || buf[a] == ASCII.dash { return false }
            return (SDPText.number(buf, a, end) ?? 0) == 0
        }
    }
}
