// Storage of one SDP section (session level or one media description, RFC 8866 §5): the section's
// bytes in one `[UInt8]` buffer and a table of plain line records (byte offsets, type, terminator,
// attribute key). Nothing in a record is reference counted, so copying or scanning the table costs no
// retain/release, and reading a line's value is a pointer into the buffer. An edited line gets its new
// value appended to the buffer and its record repointed (the old bytes stay unused until the section
// is dropped; edits are made by the ALG, not by the network, and are few per SDP).

/// One line of a section: its value is `bytes[start..<end]` of the section's buffer.
public struct SDPLineRecord: Sendable, Equatable {
    public var start: Int
    public var end: Int
    /// ASCII type letter; 0 for a trailing blank line.
    public var type: UInt8
    public var ending: SDPLineEnding
    public var key: SDPAttributeKey

    @inlinable
    public init(start: Int, end: Int, type: UInt8, ending: SDPLineEnding, key: SDPAttributeKey) {
        self.start = start
        self.end = end
        self.type = type
        self.ending = ending
        self.key = key
    }
}

/// The lines of one section over one byte buffer. A table may be a window (`lo..<hi`) over the record
/// array of a whole SDP: `SessionDescription` keeps every section's lines in one buffer and one record
/// array, the session section first, then each media section; the session table and each
/// `MediaDescription` reached through `SessionDescription.media` are windows over it. Line indices
/// are relative to the window; inserting or removing a line moves the window's end.
public struct SDPLineTable: Sendable {
    @usableFromInline var bytes: SDPBytes
    /// Every record of the store; this table's lines are `records[lo..<hi]`.
    @usableFromInline var records: [SDPLineRecord]
    @usableFromInline var lo: Int
    @usableFromInline var hi: Int

    @inlinable
    public init() {
        bytes = SDPBytes()
        records = []
        lo = 0
        hi = 0
    }

    @usableFromInline
    init(bytes: SDPBytes, records: [SDPLineRecord]) {
        self.bytes = bytes
        self.records = records
        lo = 0
        hi = records.count
    }

    @usableFromInline
    init(bytes: SDPBytes, records: [SDPLineRecord], lo: Int, hi: Int) {
        self.bytes = bytes
        self.records = records
        self.lo = lo
        self.hi = hi
    }

    /// True when the table's window covers its whole record array.
    @inlinable var isWhole: Bool { lo == 0 && hi == records.count }

    /// Record `i` of the window.
    @inlinable
    func rec(_ i: Int) -> SDPLineRecord { records[lo &+ i] }

    /// Builds a table from materialised lines.
    public init(lines: [SDPLine]) {
        self.init()
        records.reserveCapacity(lines.count)
        for l in lines {
            let (a, b) = appendBytes(of: l.value)
            records.append(SDPLineRecord(start: a, end: b, type: l.type, ending: l.ending, key: l.key))
        }
        hi = records.count
    }

    // MARK: reading

    @inlinable public var count: Int { hi &- lo }
    @inlinable public var isEmpty: Bool { hi == lo }
    @inlinable public func type(_ i: Int) -> UInt8 { rec(i).type }
    @inlinable public func key(_ i: Int) -> SDPAttributeKey { rec(i).key }
    @inlinable public func ending(_ i: Int) -> SDPLineEnding { rec(i).ending }
    @inlinable public func valueLength(_ i: Int) -> Int { let r = rec(i); return r.end - r.start }

    /// Runs `body` over the value bytes of line `i`.
    @inlinable
    public func withValue<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let r = rec(i)
        return try bytes.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[r.start..<r.end]))
        }
    }

    /// Runs `body` over the value of a known attribute (after `name:`) on line `i`; nil for a
    /// property attribute or an unknown key.
    @inlinable
    public func withAttributeValue<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        let r = rec(i)
        let n = r.key.nameLength
        guard n > 0, r.end - r.start > n else { return nil }
        return try bytes.withUnsafeBufferPointer { all -> R? in
            guard all[r.start + n] == ASCII.colon else { return nil }
            return try body(UnsafeBufferPointer(rebasing: all[(r.start + n + 1)..<r.end]))
        }
    }

    /// The value of line `i` as text (a new String; small values are stored inline).
    public func value(_ i: Int) -> Substring {
        Substring(withValue(i) { String(decoding: $0, as: UTF8.self) })
    }

    /// The attribute value of line `i` (after the first `:`), nil for a property attribute or a non-a= line.
    public func attributeValue(_ i: Int) -> Substring? {
        let r = rec(i)
        guard r.type == ASCII.a else { return nil }
        let n = r.key.nameLength
        return withValue(i) { buf -> Substring? in
            var colon = -1
            if n > 0 {
                guard buf.count > n else { return nil }
                colon = n
            } else {
                for k in 0..<buf.count where buf[k] == ASCII.colon { colon = k; break }
                guard colon >= 0 else { return nil }
            }
            return Substring(String(decoding: UnsafeBufferPointer(rebasing: buf[(colon + 1)...]), as: UTF8.self))
        }
    }

    /// Attribute value of line `i`, or an empty Substring for a property attribute.
    @inlinable
    public func attributeValueOrEmpty(_ i: Int) -> Substring { attributeValue(i) ?? "" }

    /// Line `i` materialised.
    public func line(_ i: Int) -> SDPLine {
        let r = rec(i)
        return SDPLine(type: r.type, value: value(i), ending: r.ending, key: r.key)
    }

    /// Every line materialised.
    public var lines: [SDPLine] { (0..<count).map { line($0) } }

    @inlinable
    public func firstIndex(ofType t: UInt8) -> Int? {
        for i in lo..<hi where records[i].type == t { return i &- lo }
        return nil
    }

    @inlinable
    public func firstIndex(of k: SDPAttributeKey) -> Int? {
        for i in lo..<hi where records[i].key == k { return i &- lo }
        return nil
    }

    @inlinable
    public func contains(_ k: SDPAttributeKey) -> Bool { firstIndex(of: k) != nil }

    /// True for line `i` being attribute `name` (pre-classified as `k`; ASCII case-insensitive).
    @inlinable
    public func matches(_ i: Int, _ k: SDPAttributeKey, _ name: StaticString) -> Bool {
        let r = rec(i)
        if k != .other { return r.key == k }
        guard r.type == ASCII.a else { return false }
        return withValue(i) { tb -> Bool in
            let n = name.utf8CodeUnitCount
            guard tb.count >= n, tb.count == n || tb[n] == ASCII.colon else { return false }
            let nb = name.utf8Start
            for j in 0..<n where SDPText.lower(tb[j]) != SDPText.lower(nb[j]) { return false }
            return true
        }
    }

    /// Same lines (type, value bytes, terminator), whatever the buffer layout.
    public static func == (a: SDPLineTable, b: SDPLineTable) -> Bool {
        guard a.count == b.count else { return false }
        return a.bytes.withUnsafeBufferPointer { ab in
            b.bytes.withUnsafeBufferPointer { bb in
                for i in 0..<a.count {
                    let x = a.rec(i), y = b.rec(i)
                    guard x.type == y.type, x.ending == y.ending, x.end - x.start == y.end - y.start else { return false }
                    for k in 0..<(x.end - x.start) where ab[x.start + k] != bb[y.start + k] { return false }
                }
                return true
            }
        }
    }

    // MARK: writing

    /// Appends `count` bytes written by `fill(old, new)` (see `SDPBytes.append`) and returns their range.
    @inlinable
    public mutating func appendValue(count: Int, _ fill: (UnsafePointer<UInt8>?, UnsafeMutablePointer<UInt8>) -> Void) -> (Int, Int) {
        let start = bytes.append(count: count, fill)
        return (start, start + count)
    }

    @usableFromInline
    mutating func appendBytes(of text: Substring) -> (Int, Int) {
        SDPText.withBytes(text) { src in
            let start = bytes.append(contentsOf: src)
            return (start, start + src.count)
        }
    }

    @usableFromInline
    mutating func appendBytes(of text: String) -> (Int, Int) {
        SDPText.withBytes(of: text) { src in
            let start = bytes.append(contentsOf: src)
            return (start, start + src.count)
        }
    }

    /// Replaces the value of line `i` (the attribute key is re-derived for a= lines).
    public mutating func setValue(_ i: Int, _ text: String) {
        let (a, b) = appendBytes(of: text)
        repoint(i, a, b)
    }

    public mutating func setValue(_ i: Int, _ text: Substring) {
        let (a, b) = appendBytes(of: text)
        repoint(i, a, b)
    }

    @usableFromInline
    mutating func repoint(_ i: Int, _ a: Int, _ b: Int) {
        let j = lo &+ i
        records[j].start = a
        records[j].end = b
        if records[j].type == ASCII.a {
            let key = bytes.withUnsafeBufferPointer { buf -> SDPAttributeKey in
                var e = b
                for k in a..<b where buf[k] == ASCII.colon { e = k; break }
                return SDPAttributeKey.classify(buf, a, e)
            }
            records[j].key = key
        }
    }

    /// Replaces bytes [from, to) of line `i`'s value by `count` bytes written by `fill` (at its pointer).
    @inlinable
    public mutating func replace(in i: Int, from: Int, to: Int, count: Int,
                                 _ fill: (UnsafeMutablePointer<UInt8>) -> Void) {
        let r = rec(i)
        // Same length: overwrite in place (every record owns its bytes: each edit appends fresh bytes
        // for the records it creates, none shares another's range).
        if count == to &- from, from >= 0, to <= r.end &- r.start {
            bytes.overwrite(at: r.start &+ from, count: count, fill)
            return
        }
        let total = from + count + (r.end - r.start - to)
        let (a, b) = appendValue(count: total) { old, d in
            if let o = old {
                d.initialize(from: o + r.start, count: from)
                (d + from + count).initialize(from: o + r.start + to, count: r.end - r.start - to)
            }
            fill(d + from)
        }
        records[lo &+ i].start = a
        records[lo &+ i].end = b
    }

    /// Replaces bytes [from, to) of line `i`'s value by `text`.
    public mutating func replace(in i: Int, from: Int, to: Int, with text: String) {
        SDPText.withBytes(of: text) { src in
            replace(in: i, from: from, to: to, count: src.count) { d in
                if let s = src.baseAddress, src.count > 0 { d.initialize(from: s, count: src.count) }
            }
        }
        let r = rec(i)
        if r.type == ASCII.a { repoint(i, r.start, r.end) }
    }

    /// Appends `name[:value]` to the buffer (one copy, no intermediate String); returns its range.
    @usableFromInline
    mutating func appendAttributeText(_ name: StaticString, _ value: String?) -> (Int, Int) {
        let n = name.utf8CodeUnitCount
        guard let value else {
            return appendValue(count: n) { _, d in d.initialize(from: name.utf8Start, count: n) }
        }
        return SDPText.withBytes(of: value) { v in
            appendValue(count: n + 1 + v.count) { _, d in
                d.initialize(from: name.utf8Start, count: n)
                d[n] = ASCII.colon
                if let p = v.baseAddress, v.count > 0 { (d + n + 1).initialize(from: p, count: v.count) }
            }
        }
    }

    /// Inserts a line whose value is already in the buffer at [a, b).
    @usableFromInline
    /// `key`, when given, is the attribute key of the line's value (the caller wrote its name);
    /// otherwise an a= line's name is classified.
    mutating func insertRecord(type: UInt8, _ a: Int, _ b: Int, ending: SDPLineEnding, at index: Int,
                               key: SDPAttributeKey? = nil) {
        records.insert(SDPLineRecord(start: a, end: b, type: type, ending: ending, key: key ?? .notAttribute), at: lo &+ index)
        hi &+= 1
        if type == ASCII.a, key == nil { repoint(index, a, b) }
    }

    /// Sets the first attribute `name` (key `k`) to `value`, removing further ones, or inserts it
    /// (RFC 8866 §5 order given by `rank`).
    public mutating func setAttribute(_ name: StaticString, _ k: SDPAttributeKey, _ value: String?, rank: (UInt8) -> Int) {
        var first = -1
        for i in 0..<count where matches(i, k, name) { first = i; break }
        let (a, b) = appendAttributeText(name, value)
        if first >= 0 {
            repoint(first, a, b)
            var i = count - 1
            while i > first {
                if matches(i, k, name) { remove(at: i) }
                i -= 1
            }
        } else {
            insertLine(type: ASCII.a, range: (a, b), ending: .none, rank: rank)
        }
    }

    /// Inserts a line at `index`.
    public mutating func insert(type: UInt8, value text: String, ending: SDPLineEnding, at index: Int) {
        let (a, b) = appendBytes(of: text)
        records.insert(SDPLineRecord(start: a, end: b, type: type, ending: ending, key: .notAttribute), at: lo &+ index)
        hi &+= 1
        if type == ASCII.a { repoint(index, a, b) }
    }

    public mutating func remove(at i: Int) {
        records.remove(at: lo &+ i)
        hi &-= 1
    }

    /// Removes every line of the window for which `drop` is true (order kept).
    @inlinable
    public mutating func removeAll(where drop: (SDPLineRecord) throws -> Bool) rethrows {
        var w = lo
        for r in lo..<hi where !(try drop(records[r])) {
            if w != r { records[w] = records[r] }
            w += 1
        }
        let removed = hi - w
        if removed > 0 {
            records.removeSubrange(w..<hi)
            hi = w
        }
    }

    /// Replaces the window's lines by those of `other` (its values are copied into this buffer).
    public mutating func replaceLines(with other: SDPLineTable) {
        var fresh: [SDPLineRecord] = []
        fresh.reserveCapacity(other.count)
        other.bytes.withUnsafeBufferPointer { src in
            for i in 0..<other.count {
                let r = other.rec(i)
                let start = bytes.append(contentsOf: UnsafeBufferPointer(rebasing: src[r.start..<r.end]))
                fresh.append(SDPLineRecord(start: start, end: start + (r.end - r.start), type: r.type, ending: r.ending, key: r.key))
            }
        }
        records.replaceSubrange(lo..<hi, with: fresh)
        hi = lo + fresh.count
    }

    /// A table of its own holding just this window's lines.
    public var compacted: SDPLineTable {
        if isWhole { return self }
        var t = SDPLineTable()
        t.replaceLines(with: self)
        return t
    }

    /// Removes every line with attribute key `k`; returns how many.
    @discardableResult
    public mutating func removeAll(_ k: SDPAttributeKey) -> Int {
        guard let first = firstIndex(of: k) else { return 0 }
        // In-place compaction from the first match (order kept).
        var w = lo &+ first
        for r in (w + 1)..<hi where records[r].key != k {
            records[w] = records[r]
            w += 1
        }
        let removed = hi - w
        records.removeSubrange(w..<hi)
        hi = w
        return removed
    }

    @inlinable
    public mutating func setEnding(_ i: Int, _ e: SDPLineEnding) { records[lo &+ i].ending = e }
}
