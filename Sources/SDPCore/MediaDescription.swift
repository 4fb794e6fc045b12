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

/// The media descriptions of a `SessionDescription`, and the store of the whole SDP: one byte buffer
/// and one record array holding the session lines (`store`'s window) followed by each media section
/// (`starts[k]` is where section k starts, counted from the end of the session lines; section k ends
/// where section k+1 starts, the last one at the end of the records).
///
/// `list[k]` is a view of section k over the store (no line is copied). `list[k].x()` on a mutable
/// list edits the store in place. Assigning `list[k] = m` copies `m`'s lines in. Mutate a section
/// only through `list[k]` (in place, or by assignment): a `MediaDescription` reached through
/// `inout list[k]` must not be replaced by another value as a whole (`m = other` inside a function
/// taking `inout MediaDescription`); assign `list[k] = other` instead.
public struct MediaList: RandomAccessCollection, Sendable, Equatable, ExpressibleByArrayLiteral {
    /// The whole SDP's store (as the table of a media view, so that `list[k]` can lend it in place);
    /// outside an access to `list[k]` its window is the session section.
    @usableFromInline var view: MediaDescription
    /// Start of each media section, relative to `view.table.hi`.
    @usableFromInline var starts: [Int]

    @inlinable
    init(store: SDPLineTable, starts: [Int]) {
        self.view = MediaDescription(table: store)
        self.starts = starts
    }

    /// An empty list (no session lines, no media).
    @inlinable
    public init() {
        view = MediaDescription(table: SDPLineTable())
        starts = []
    }

    public init(_ media: some Sequence<MediaDescription>) {
        self.init()
        for m in media { append(m) }
    }

    public init(arrayLiteral elements: MediaDescription...) {
        self.init(elements)
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { starts.count }
    @inlinable public var count: Int { starts.count }
    @inlinable public var isEmpty: Bool { starts.isEmpty }

    /// Record bounds of section k in the view.table.
    @inlinable
    func bounds(_ k: Int) -> (Int, Int) {
        let a = view.table.hi &+ starts[k]
        let b = k &+ 1 < starts.count ? view.table.hi &+ starts[k &+ 1] : view.table.records.count
        return (a, b)
    }

    @inlinable
    public subscript(k: Int) -> MediaDescription {
        get {
            let (a, b) = bounds(k)
            return MediaDescription(table: SDPLineTable(bytes: view.table.bytes, records: view.table.records, lo: a, hi: b))
        }
        set {
            self[k].table.replaceLines(with: newValue.table)
        }
        // The store is lent in place as section k's view (no copy, stays unique); inlined, so the
        // coroutine needs no heap frame.
        @inline(__always)
        _modify {
            let (a, b) = bounds(k)
            let sessionEnd = view.table.hi
            let total = view.table.records.count
            view.table.lo = a
            view.table.hi = b
            defer {
                // Usual case: no line added or removed; otherwise the later sections move.
                if view.table.lo == a, view.table.hi == b, view.table.records.count == total {
                    view.table.lo = 0
                    view.table.hi = sessionEnd
                } else {
                    endAccess(k, a, b, sessionEnd: sessionEnd, total: total)
                }
            }
            yield &view
        }
    }

    /// After an in-place access to section k (window a..<b of `total` records): the window goes back
    /// to the session section and the later sections move by the lines added or removed.
    @usableFromInline
    mutating func endAccess(_ k: Int, _ a: Int, _ b: Int, sessionEnd: Int, total: Int) {
        let delta = (view.table.hi &- view.table.lo) &- (b &- a)
        if view.table.lo == a, view.table.records.count == total &+ delta {
            view.table.lo = 0
            view.table.hi = sessionEnd
            if delta != 0 {
                var j = k &+ 1
                while j < starts.count { starts[j] &+= delta; j &+= 1 }
            }
        } else {
            // The view was replaced as a whole (see the type's note): the rest of the store went
            // with it. Keep what was yielded back as the only media section.
            assertionFailure("MediaList: a media view was replaced through inout; assign list[k] = m instead")
            let t = view.table
            view = MediaDescription(table: SDPLineTable())
            starts = []
            append(MediaDescription(table: t))
        }
    }

    public static func == (x: MediaList, y: MediaList) -> Bool {
        guard x.count == y.count else { return false }
        for k in 0..<x.count where !(x[k].table == y[k].table) { return false }
        return true
    }

    /// Appends a copy of `m`'s lines as the last media section.
    public mutating func append(_ m: MediaDescription) {
        starts.append(view.table.records.count &- view.table.hi)
        self[starts.count &- 1].table.replaceLines(with: m.table)
    }

    public mutating func append(contentsOf media: some Sequence<MediaDescription>) {
        for m in media { append(m) }
    }

    /// Inserts a copy of `m`'s lines as media section `k`.
    public mutating func insert(_ m: MediaDescription, at k: Int) {
        guard k < starts.count else { append(m); return }
        let (a, _) = bounds(k)
        starts.insert(a &- view.table.hi, at: k)
        self[k].table.replaceLines(with: m.table)
    }

    /// Removes media section `k` and returns it (as a value of its own).
    @discardableResult
    public mutating func remove(at k: Int) -> MediaDescription {
        let removed = MediaDescription(table: self[k].table.compacted)
        let (a, b) = bounds(k)
        view.table.records.removeSubrange(a..<b)
        starts.remove(at: k)
        var j = k
        while j < starts.count { starts[j] &-= (b &- a); j &+= 1 }
        return removed
    }

    @discardableResult
    public mutating func removeLast() -> MediaDescription { remove(at: starts.count &- 1) }

    /// Removes every media section (the session lines stay).
    public mutating func removeAll() {
        view.table.records.removeSubrange(view.table.hi..<view.table.records.count)
        starts.removeAll()
    }

    /// Removes the media sections for which `drop` is true.
    public mutating func removeAll(where drop: (MediaDescription) throws -> Bool) rethrows {
        var k = starts.count &- 1
        while k >= 0 {
            if try drop(self[k]) { remove(at: k) }
            k &-= 1
        }
    }

    /// Replaces every media section by copies of `other`'s.
    mutating func replaceMedia(with other: MediaList) {
        removeAll()
        for m in other { append(m) }
    }
}

extension MediaDescription {
    /// Runs `body` over this description in place (see `SessionDescription.withMedia`).
    @inlinable
    public mutating func lend<R, E: Error>(_ body: (borrowing MediaDescription) throws(E) -> R) throws(E) -> R {
        try body(self)
    }
}

extension SessionDescription {
    /// Runs `body` over media description `k` read in place: no view is built, so nothing is
    /// retained or released (`media[k]` returns a view that holds a reference to the store). Needs
    /// mutable access; nothing is changed.
    @inlinable
    public mutating func withMedia<R, E: Error>(_ k: Int, _ body: (borrowing MediaDescription) throws(E) -> R) throws(E) -> R {
        try media[k].lend(body)
    }
}
