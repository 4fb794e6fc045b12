// One media description: the m= line and every line up to the next m= (RFC 8866 §5.14).

public struct MediaDescription: Sendable, Equatable, SDPSection {
    /// lines[0] is the m= line; order and unknown lines are kept as received.
    public var lines: [SDPLine]

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

    /// Wraps already-validated lines (lines[0] must be an m= line).
    public init(lines: [SDPLine]) {
        self.lines = lines
    }

    /// A new media description with just an m= line.
    public init(_ mediaLine: MediaLine, ending: SDPLineEnding = .crlf) {
        lines = [SDPLine(type: ASCII.m, value: Substring(mediaLine.value), ending: ending)]
    }

    /// The m= line, parsed (allocates Strings; use the field accessors on hot paths).
    public var mediaLine: MediaLine {
        get {
            (try? MediaLine(parsing: lines[0].value, allowWildcards: true))
                ?? MediaLine(media: String(mediaType), port: .number(0), proto: String(proto), formats: [])
        }
        set { lines[0].value = Substring(newValue.value) }
    }

    /// m= field n (0 media, 1 port[/count], 2 proto, 3... formats), without allocating.
    public func field(_ n: Int) -> Substring {
        SDPText.field(lines[0].value, n)
    }

    /// Replaces m= field n (keeps every other byte of the line).
    public mutating func setField(_ n: Int, _ text: String) {
        let v = lines[0].value
        guard let (a, b) = SDPText.fieldRange(v, n) else { return }
        lines[0].value = Substring(SDPText.replacing(v, a, b, with: text))
    }

    public var mediaType: Substring { field(0) }

    /// The media type as a String, built straight from the bytes (no Substring slicing).
    public var mediaTypeString: String {
        let v = lines[0].value
        return SDPText.withBytes(v) { buf -> String in
            var end = 0
            while end < buf.count, buf[end] != ASCII.space { end += 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: buf[0..<end]), as: UTF8.self)
        }
    }
    public var proto: Substring { field(2) }

    /// The m= port (without port count); nil for a wildcard.
    public var port: SDPPort {
        let v = lines[0].value
        guard let (a, b) = SDPText.fieldRange(v, 1) else { return .number(0) }
        return SDPText.withBytes(v) { buf -> SDPPort in
            var end = b
            for k in a..<b where buf[k] == ASCII.slash { end = k; break }
            if end - a == 1, buf[a] == ASCII.dollar { return .wildcard(.choose) }
            if end - a == 1, buf[a] == ASCII.dash { return .wildcard(.unspecified) }
            return .number(UInt16(clamping: SDPText.number(buf, a, end) ?? 0))
        }
    }

    /// Sets the port and keeps a `/count` suffix.
    public mutating func setPort(_ port: SDPPort) {
        let v = lines[0].value
        guard let (a, b) = SDPText.fieldRange(v, 1) else { return }
        let end = SDPText.withBytes(v) { buf -> Int in
            for k in a..<b where buf[k] == ASCII.slash { return k }
            return b
        }
        lines[0].value = Substring(SDPText.replacing(v, a, end, withPort: port))
    }

    public mutating func setProto(_ proto: String) { setField(2, proto) }

    /// RFC 3264 §6 / §8.2: a port of zero rejects or removes the stream.
    /// (Same result as `port == .number(0)`, read in one pass over the m= bytes.)
    public var isDisabled: Bool {
        SDPText.withBytes(lines[0].value) { buf -> Bool in
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
