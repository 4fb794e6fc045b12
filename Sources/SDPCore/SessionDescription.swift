// RFC 8866 session description kept line by line. Parsing copies nothing (every value is a Substring
// of the input); serialising an unchanged description reproduces the input byte for byte, terminators
// included (RFC 8866 §5: CRLF, with LF tolerated).

/// Parse options. `.standard` is RFC 8866; `.h248` accepts what ITU-T H.248.1 §7.1.8 and Annex C allow
/// inside Local/Remote descriptors: `$` (choose) and `-` (unspecified) for addresses and ports, a
/// missing v= line, and no mandatory o=/s=/t= lines.
public struct SDPParseOptions: Sendable, Equatable {
    public var allowH248Wildcards: Bool
    public var requireVersionLine: Bool
    public var requireMandatoryLines: Bool

    public init(allowH248Wildcards: Bool = false, requireVersionLine: Bool = true, requireMandatoryLines: Bool = true) {
        self.allowH248Wildcards = allowH248Wildcards
        self.requireVersionLine = requireVersionLine
        self.requireMandatoryLines = requireMandatoryLines
    }

    public static let standard = SDPParseOptions()
    public static let h248 = SDPParseOptions(allowH248Wildcards: true, requireVersionLine: false, requireMandatoryLines: false)
}

/// A whole SDP: session-level lines, then one `MediaDescription` per m= line.
///
/// Storage: one byte buffer and one line-record array for the whole SDP, the session lines first,
/// then each media section's. `table` is that store, its window being the session section; `media[i]`
/// is a view of media section `i` over the same store: reading one copies no line, and editing one in
/// place (`sdp.media[i].setPort(…)`) edits the store without copying it. Assigning `sdp.media[i] = m`
/// copies `m`'s lines in. Edit the session lines through `table`'s methods or `lines`; assigning
/// `table` a table that is not this description's own store replaces the whole store (the media
/// sections are then dropped).
public struct SessionDescription: Sendable, Equatable, SDPSection {
    /// The store of the whole SDP; its window is the session-level lines (everything before the first
    /// m=), in input order. (A stored property: reading it costs no copy.)
    public var table: SDPLineTable
    /// Start of each media section, relative to `table.hi`.
    @usableFromInline var starts: [Int]
    /// Number of media-section records after the session window, as left by the last media access
    /// (a mismatch means `table` was replaced by a foreign table).
    @usableFromInline var mediaLines: Int

    @inlinable
    var storeIsValid: Bool { table.lo == 0 && table.records.count &- table.hi == mediaLines }

    /// Media descriptions in input order (their index is the RFC 3264 stream index). Setting it
    /// replaces the media sections only (the session lines stay).
    public var media: MediaList {
        @inlinable get {
            storeIsValid ? MediaList(store: table, starts: starts) : MediaList(store: table.compacted, starts: [])
        }
        set {
            modifyMedia { $0.replaceMedia(with: newValue) }
        }
        @inlinable @inline(__always) _modify {
            if !storeIsValid { dropLostMedia() }
            // The store is moved into the list (no copy, stays unique) and moved back after.
            var list = MediaList()
            swap(&list.view.table, &table)
            swap(&list.starts, &starts)
            defer {
                swap(&list.view.table, &table)
                swap(&list.starts, &starts)
                mediaLines = table.records.count &- table.hi
            }
            yield &list
        }
    }

    @usableFromInline
    mutating func modifyMedia(_ body: (inout MediaList) -> Void) {
        body(&media)
    }

    /// `table` was replaced by a table that is not this store: keep its window as the session lines.
    @usableFromInline
    mutating func dropLostMedia() {
        table = table.compacted
        starts = []
        mediaLines = 0
    }

    /// Number of media descriptions.
    @inlinable public var mediaCount: Int { storeIsValid ? starts.count : 0 }

    public static func == (a: SessionDescription, b: SessionDescription) -> Bool {
        a.table == b.table && a.media == b.media
    }

    /// RFC 8866 §5 session-level order: v o s i u e p c b t r z k a; blank trailing lines last.
    public static func rank(of type: UInt8) -> Int {
        switch type {
        case ASCII.v: return 0
        case ASCII.o: return 1
        case ASCII.s: return 2
        case ASCII.i: return 3
        case UInt8(ascii: "u"): return 4
        case UInt8(ascii: "e"): return 5
        case UInt8(ascii: "p"): return 6
        case ASCII.c: return 7
        case ASCII.b: return 8
        case ASCII.t, UInt8(ascii: "r"): return 9
        case UInt8(ascii: "z"): return 11
        case ASCII.k: return 12
        case ASCII.a: return 13
        case 0: return Int.max
        default: return 14
        }
    }

    /// An empty description (no line, no media section): the same value as
    /// `SessionDescription(table: SDPLineTable(), media: [])`, built without copying anything (e.g. to
    /// swap a description out of a container).
    @inlinable
    public init() {
        self.init(list: MediaList())
    }

    public init(lines: [SDPLine], media: [MediaDescription]) {
        self.init(table: SDPLineTable(lines: lines), media: media)
    }

    public init(table: SDPLineTable, media: [MediaDescription]) {
        self.table = table.compacted
        starts = []
        mediaLines = 0
        if !media.isEmpty { modifyMedia { list in for m in media { list.append(m) } } }
    }

    public init(table: SDPLineTable, media: MediaList) {
        self.table = table.compacted
        starts = []
        mediaLines = 0
        modifyMedia { $0.replaceMedia(with: media) }
    }

    @usableFromInline
    init(list: consuming MediaList) {
        table = list.view.table
        starts = list.starts
        mediaLines = table.records.count &- table.hi
    }

    /// Parses an RFC 8866 SDP (strict: v=0 first, o=, s= and t= present, no wildcards).
    public init(parsing text: String) throws(SDPError) {
        try self.init(parsing: text, options: .standard)
    }

    /// Parses an SDP; with `allowH248Wildcards` the H.248 Local/Remote form is accepted (`$`/`-`
    /// addresses and ports, v= and other mandatory lines optional).
    public init(parsing text: String, allowH248Wildcards: Bool) throws(SDPError) {
        try self.init(parsing: text, options: allowH248Wildcards ? .h248 : .standard)
    }

    public init(parsing text: String, options: SDPParseOptions) throws(SDPError) {
        var text = text
        let byteCount = text.utf8.count
        guard byteCount <= SDPLimits.maxBytes else {
            throw SDPError(.inputTooLarge, detail: "\(byteCount) bytes > \(SDPLimits.maxBytes)")
        }
        guard byteCount > 0 else { throw SDPError(.emptyInput) }

        // One pass over the contiguous UTF-8 bytes splits, bounds and validates every line, and puts
        // each line's record straight into its section's table (SDPScanner.swift).
        var list = MediaList()
        let failure: SDPError? = text.withUTF8 { buf -> SDPError? in
            SessionDescription.scanSections(buf, options: options, into: &list)
        }
        if let failure { throw failure }
        self.init(list: list)
    }

    /// The SDP text. Unchanged descriptions reproduce their input exactly. (A String convenience over
    /// the same writer as `serializedBytes()`; the String validates its UTF-8 once more.)
    public func serialized() -> String {
        guard storeIsValid else { return SessionDescription(table: table, media: []).serialized() }
        return table.records.withUnsafeBufferPointer { rs -> String in
            table.bytes.withUnsafeBufferPointer { bs -> String in
                let fallback = Self.fallbackEnding(rs)
                return String(unsafeUninitializedCapacity: Self.measure(rs, fallback: fallback)) { out -> Int in
                    Self.write(rs, bs, fallback: fallback, into: out)
                }
            }
        }
    }

    /// The SDP as bytes, for the transport (a message body): one allocation of the exact size, no
    /// UTF-8 validation. Unchanged descriptions reproduce their input exactly.
    public func serializedBytes() -> [UInt8] {
        guard storeIsValid else { return SessionDescription(table: table, media: []).serializedBytes() }
        // The store holds every line in document order: one pass over its records, read in place
        // (the writer holds buffer pointers, not a copy of the store: nothing retained).
        return table.records.withUnsafeBufferPointer { rs -> [UInt8] in
            table.bytes.withUnsafeBufferPointer { bs -> [UInt8] in
                let fallback = Self.fallbackEnding(rs)
                // `reserveCapacity` + `append(contentsOf:)` of a sequence that writes itself into the
                // array's spare capacity: this path is specialised here, while
                // `Array(unsafeUninitializedCapacity:)` looks up the standard library's prespecialised
                // `[UInt8]` metadata on every call (≈ 530 instructions).
                let writer = Writer(records: rs, bytes: bs, fallback: fallback, size: Self.measure(rs, fallback: fallback))
                var out: [UInt8] = []
                out.reserveCapacity(writer.size)
                out.append(contentsOf: writer)
                return out
            }
        }
    }

    /// The serialised bytes as a sequence that copies itself in one pass (`_copyContents`).
    private struct Writer: Sequence {
        let records: UnsafeBufferPointer<SDPLineRecord>
        let bytes: UnsafeBufferPointer<UInt8>
        let fallback: SDPLineEnding
        let size: Int

        struct Iterator: IteratorProtocol {
            mutating func next() -> UInt8? { nil }
        }

        func makeIterator() -> Iterator { Iterator() }
        var underestimatedCount: Int { size }

        func _copyContents(initializing out: UnsafeMutableBufferPointer<UInt8>) -> (Iterator, UnsafeMutableBufferPointer<UInt8>.Index) {
            // `out` has room for `size` bytes (the array reserved them); a smaller buffer gets nothing
            // rather than an overflow.
            guard out.count >= size else { return (Iterator(), 0) }
            return (Iterator(), SessionDescription.write(records, bytes, fallback: fallback, into: out))
        }
    }

    /// The terminator for lines without one that are not last: the first one used in the document
    /// (session section first, then the media sections in order), else CRLF.
    private static func fallbackEnding(_ rs: UnsafeBufferPointer<SDPLineRecord>) -> SDPLineEnding {
        for k in 0..<rs.count where rs[k].ending != .none { return rs[k].ending }
        return .crlf
    }

    /// Exact byte size of the serialised document (every record of the store, in order).
    private static func measure(_ rs: UnsafeBufferPointer<SDPLineRecord>, fallback: SDPLineEnding) -> Int {
        // Terminator lengths by raw value (crlf 0, lf 1, none 2), one byte each: a line without one
        // counts the fallback's length, and the last line's (if it has none) is taken back after.
        let fallbackLength = fallback == .crlf ? 2 : (fallback == .lf ? 1 : 0)
        let lengths = 2 | 1 << 8 | fallbackLength << 16
        var size = 0
        for r in rs {
            size &+= (r.type == 0 ? 0 : 2) &+ r.end &- r.start
            size &+= (lengths >> (Int(r.ending.rawValue & 3) &* 8)) & 0xff
        }
        if let l = rs.last, l.ending == .none { size &-= fallbackLength }
        return size
    }

    /// Writes every line of the store into `out` (sized by `measure`); returns the byte count.
    private static func write(_ rs: UnsafeBufferPointer<SDPLineRecord>, _ src: UnsafeBufferPointer<UInt8>,
                              fallback: SDPLineEnding, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        guard let dst = out.baseAddress else { return 0 }
        var d = dst
        let last = rs.count &- 1
        for k in 0..<rs.count {
            let r = rs[k]
            if r.type != 0 {
                d[0] = r.type; d[1] = ASCII.equals; d += 2
            }
            let n = r.end &- r.start
            if n > 0, let s = src.baseAddress { d.update(from: s + r.start, count: n) }
            d += n
            var e = r.ending
            if e == .none, k != last { e = fallback }
            switch e {
            case .crlf: d[0] = ASCII.cr; d[1] = ASCII.lf; d += 2
            case .lf: d[0] = ASCII.lf; d += 1
            case .none: break
            }
        }
        return d - dst
    }

    // MARK: typed session-level fields

    /// o= (RFC 8866 §5.2).
    public var origin: Origin? {
        get {
            guard let i = table.firstIndex(ofType: ASCII.o) else { return nil }
            return try? Origin(parsing: table.value(i), allowWildcards: true)
        }
        set {
            guard let newValue else { table.removeAll { $0.type == ASCII.o }; return }
            if let i = table.firstIndex(ofType: ASCII.o) {
                table.setValue(i, newValue.value)
            } else {
                insertLine(type: ASCII.o, value: newValue.value)
            }
        }
    }

    /// Replaces the o= addrtype and unicast-address fields in place (other fields kept byte for byte).
    public mutating func setOriginAddress(_ address: String) {
        guard let i = table.firstIndex(ofType: ASCII.o) else { return }
        guard let (a, _) = table.withValue(i, { SDPText.fieldRange($0, 4) }) else { return }
        let len = table.valueLength(i)
        SDPText.withBytes(of: address) { ad in
            var ip6 = false
            for k in 0..<ad.count where ad[k] == ASCII.colon { ip6 = true; break }
            let type: StaticString = ip6 ? "IP6" : "IP4"
            table.replace(in: i, from: a, to: len, count: 4 + ad.count) { d in
                d.initialize(from: type.utf8Start, count: 3)
                d[3] = ASCII.space
                if let p = ad.baseAddress, ad.count > 0 { (d + 4).initialize(from: p, count: ad.count) }
            }
        }
    }

    /// The effective c= address of media `index`: its own c= else the session-level one (RFC 8866 §5.7).
    public func effectiveConnectionAddress(ofMedia index: Int) -> Substring? {
        guard media.indices.contains(index) else { return nil }
        return media[index].connectionAddress ?? connectionAddress
    }
}
