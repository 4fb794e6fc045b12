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
        let v = lines[0].value
        var k = 0
        var start = v.utf8.startIndex
        var idx = start
        let end = v.utf8.endIndex
        while idx < end {
            if v.utf8[idx] == ASCII.space {
                if idx > start {
                    if k == n { return v[start..<idx] }
                    k += 1
                }
                idx = v.utf8.index(after: idx)
                start = idx
            } else {
                idx = v.utf8.index(after: idx)
            }
        }
        if idx > start, k == n { return v[start..<idx] }
        return v[end..<end]
    }

    /// Replaces m= field n (keeps every other byte of the line).
    public mutating func setField(_ n: Int, _ text: String) {
        let v = lines[0].value
        let old = field(n)
        guard !old.isEmpty || n == 0 else { return }
        var s = String(v[v.startIndex..<old.startIndex])
        s += text
        s += v[old.endIndex...]
        lines[0].value = Substring(s)
    }

    public var mediaType: Substring { field(0) }
    public var proto: Substring { field(2) }

    /// The m= port (without port count); nil for a wildcard.
    public var port: SDPPort {
        let f = field(1)
        let p = f.utf8.firstIndex(of: ASCII.slash).map { f[f.startIndex..<$0] } ?? f
        if let w = SDPWildcard.classify(p) { return .wildcard(w) }
        return .number(UInt16(clamping: SDPText.number(p) ?? 0))
    }

    /// Sets the port and keeps a `/count` suffix.
    public mutating func setPort(_ port: SDPPort) {
        let f = field(1)
        let suffix = f.utf8.firstIndex(of: ASCII.slash).map { String(f[$0...]) } ?? ""
        setField(1, port.description + suffix)
    }

    public mutating func setProto(_ proto: String) { setField(2, proto) }

    /// RFC 3264 §6 / §8.2: a port of zero rejects or removes the stream.
    public var isDisabled: Bool { port == .number(0) }
}
