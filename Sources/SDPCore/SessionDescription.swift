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
public struct SessionDescription: Sendable, Equatable, SDPSection {
    /// Session-level lines (everything before the first m=), in input order.
    public var table: SDPLineTable
    /// Media descriptions in input order (their index is the RFC 3264 stream index).
    public var media: [MediaDescription]

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

    public init(lines: [SDPLine], media: [MediaDescription]) {
        self.table = SDPLineTable(lines: lines)
        self.media = media
    }

    public init(table: SDPLineTable, media: [MediaDescription]) {
        self.table = table
        self.media = media
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

        // One pass over the contiguous UTF-8 bytes splits, bounds and validates every line into plain
        // records; then each section's bytes are copied into its own buffer (records rebased).
        var records: [SDPLineRecord] = []
        records.reserveCapacity(byteCount / 24 + 4)
        var sessionTable = SDPLineTable()
        var media: [MediaDescription] = []
        let failure: SDPError? = text.withUTF8 { buf -> SDPError? in
            if let e = SessionDescription.scan(buf, options: options, into: &records) { return e }
            // Section boundaries: the session part, then one part per m= line.
            var first = 0
            var k = 0
            let n = records.count
            var sessionDone = false
            while first < n {
                k = first + 1
                while k < n, records[k].type != ASCII.m { k += 1 }
                if !sessionDone, records[first].type != ASCII.m {
                    sessionTable = SessionDescription.section(buf, records, first, k)
                    sessionDone = true
                } else {
                    if media.isEmpty { media.reserveCapacity(4) }
                    media.append(MediaDescription(table: SessionDescription.section(buf, records, first, k)))
                }
                sessionDone = true
                first = k
            }
            return nil
        }
        if let failure { throw failure }
        self.table = sessionTable
        self.media = media
    }

    /// The table of records[from..<to]: their bytes (from the first value's line start to the last
    /// terminator) copied into one buffer, offsets rebased.
    static func section(_ buf: UnsafeBufferPointer<UInt8>, _ records: [SDPLineRecord], _ from: Int, _ to: Int) -> SDPLineTable {
        let first = records[from]
        let base = first.type == 0 ? first.start : first.start - 2
        let end = records[to - 1].end
        let bytes = SDPBytes(copying: UnsafeBufferPointer(rebasing: buf[base..<end]), spare: 128)
        var out = [SDPLineRecord]()
        out.reserveCapacity(to - from + 4)
        for i in from..<to {
            var r = records[i]
            r.start -= base
            r.end -= base
            out.append(r)
        }
        return SDPLineTable(bytes: bytes, records: out)
    }

    /// Splits and validates (RFC 8866 §5 grammar, `SDPLimits` bounds). Returns the first error.
    static func scan(_ buf: UnsafeBufferPointer<UInt8>, options: SDPParseOptions, into records: inout [SDPLineRecord]) -> SDPError? {
        let n = buf.count
        var pos = 0
        var lineNumber = 0
        var sawBlank = false
        var inMedia = false
        var mediaCount = 0
        var seenO = false, seenS = false, seenT = false
        let wild = options.allowH248Wildcards
        while pos < n {
            lineNumber += 1
            guard lineNumber <= SDPLimits.maxLines else {
                return SDPError(.tooManyLines, line: lineNumber, detail: "> \(SDPLimits.maxLines) lines")
            }
            let start = pos
            var end = n
            var ending = SDPLineEnding.none
            var k = pos
            lineScan: while k < n {
                // Skip 8 bytes at a time while none is below 0x0E (SWAR "has byte less than" test;
                // exact: it never misses such a byte).
                if let base = buf.baseAddress {
                    while k &+ 8 <= n {
                        let w = UnsafeRawPointer(base + k).loadUnaligned(as: UInt64.self)
                        if (w &- 0x0E0E_0E0E_0E0E_0E0E) & ~w & 0x8080_8080_8080_8080 != 0 { break }
                        k &+= 8
                    }
                }
                let stop = Swift.min(k &+ 8, n)
                while k < stop {
                    let b = buf[k]
                    if b < 0x0E {
                        if b == ASCII.lf { end = k; ending = .lf; break lineScan }
                        if b == ASCII.cr {
                            guard k + 1 < n, buf[k + 1] == ASCII.lf else {
                                return SDPError(.malformedLine, line: lineNumber, detail: "bare CR")
                            }
                            end = k; ending = .crlf; break lineScan
                        }
                        if b == 0 { return SDPError(.malformedLine, line: lineNumber, detail: "NUL byte") }
                    }
                    k += 1
                }
            }
            pos = ending == .crlf ? end + 2 : (ending == .lf ? end + 1 : n)
            let length = end - start
            guard length <= SDPLimits.maxLineLength else {
                return SDPError(.lineTooLong, line: lineNumber, detail: "> \(SDPLimits.maxLineLength) bytes")
            }
            if length == 0 {
                // Blank lines are not SDP (RFC 8866 §5) but trail many real bodies: keep them at the end only.
                sawBlank = true
                records.append(SDPLineRecord(start: start, end: start, type: 0, ending: ending, key: .notAttribute))
                continue
            }
            guard !sawBlank else { return SDPError(.malformedLine, line: lineNumber, detail: "line after a blank line") }
            let type = buf[start]
            guard length >= 2, type >= UInt8(ascii: "a"), type <= UInt8(ascii: "z"), buf[start + 1] == ASCII.equals else {
                return SDPError(.malformedLine, line: lineNumber, detail: "expected <type>= with a lower-case letter")
            }
            if lineNumber == 1, options.requireVersionLine, type != ASCII.v {
                return SDPError(.missingVersion, line: 1, detail: "first line must be v=")
            }
            let v = start + 2
            var key = SDPAttributeKey.notAttribute
            switch type {
            case ASCII.v:
                if inMedia { return SDPError(.malformedLine, line: lineNumber, detail: "v= inside media") }
                guard end - v == 1, buf[v] == ASCII.zero else {
                    return SDPError(.unsupportedVersion, line: lineNumber, detail: "v= must be 0")
                }
            case ASCII.o:
                if let e = checkOrigin(buf, v, end, wild: wild, line: lineNumber) { return e }
                seenO = true
            case ASCII.s: seenS = true
            case ASCII.t: seenT = true
            case ASCII.c:
                if let e = checkConnection(buf, v, end, wild: wild, line: lineNumber) { return e }
            case ASCII.b:
                if let e = checkBandwidth(buf, v, end, line: lineNumber) { return e }
            case ASCII.a:
                var nameLength = 0
                defer { key = SDPAttributeKey.classify(buf, v, v + nameLength) }
                for j in v..<end {
                    if buf[j] == ASCII.colon { break }
                    guard SDPText.isTokenChar(buf[j]) else {
                        return SDPError(.malformedAttribute, line: lineNumber, detail: "attribute name")
                    }
                    nameLength += 1
                }
                if nameLength == 0 { return SDPError(.malformedAttribute, line: lineNumber, detail: "empty attribute name") }
            case ASCII.m:
                if let e = checkMedia(buf, v, end, wild: wild, line: lineNumber) { return e }
                inMedia = true
                mediaCount += 1
                guard mediaCount <= SDPLimits.maxMediaDescriptions else {
                    return SDPError(.tooManyMediaDescriptions, line: lineNumber, detail: "> \(SDPLimits.maxMediaDescriptions)")
                }
            default:
                break   // other and unknown types are kept as-is
            }
            records.append(SDPLineRecord(start: v, end: end, type: type, ending: ending, key: key))
        }
        if options.requireMandatoryLines {
            guard seenO else { return SDPError(.missingMandatoryLine, detail: "o= missing (RFC 8866 §5.2)") }
            guard seenS else { return SDPError(.missingMandatoryLine, detail: "s= missing (RFC 8866 §5.3)") }
            guard seenT else { return SDPError(.missingMandatoryLine, detail: "t= missing (RFC 8866 §5.9)") }
        }
        if !records.contains(where: { $0.type != 0 }) { return SDPError(.emptyInput) }
        return nil
    }

    /// Space-separated field ranges of buf[from..<to], at most `max` (the rest is counted only).
    static func fieldRanges(_ buf: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int,
                            _ body: (_ index: Int, _ start: Int, _ end: Int) -> Bool) -> Int {
        var count = 0
        var s = from
        var k = from
        while k <= to {
            if k == to || buf[k] == ASCII.space {
                if k > s {
                    if !body(count, s, k) { return -1 }
                    count += 1
                }
                s = k + 1
            }
            k += 1
        }
        return count
    }

    static func isWildcard(_ buf: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        e - s == 1 && (buf[s] == ASCII.dollar || buf[s] == ASCII.dash)
    }

    /// RFC 8866 §5.2 o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>.
    static func checkOrigin(_ buf: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int, wild: Bool, line: Int) -> SDPError? {
        var bad: SDPError? = nil
        let count = fieldRanges(buf, from, to) { i, s, e in
            switch i {
            case 1, 2:
                if !wild, SDPText.number(buf, s, e) == nil { bad = SDPError(.malformedOrigin, line: line, detail: "sess-id/sess-version not numeric") }
            case 3, 4:
                if !SDPText.isToken(buf, s, e) { bad = SDPError(.malformedOrigin, line: line, detail: "nettype/addrtype") }
            case 5:
                if !wild, isWildcard(buf, s, e) { bad = SDPError(.wildcardNotAllowed, line: line, detail: "o= address") }
            default: break
            }
            return bad == nil
        }
        if let bad { return bad }
        return count == 6 ? nil : SDPError(.malformedOrigin, line: line, detail: "o= needs 6 fields")
    }

    /// RFC 8866 §5.7 c=<nettype> <addrtype> <connection-address>.
    static func checkConnection(_ buf: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int, wild: Bool, line: Int) -> SDPError? {
        var bad: SDPError? = nil
        let count = fieldRanges(buf, from, to) { i, s, e in
            switch i {
            case 0, 1:
                if !SDPText.isToken(buf, s, e) { bad = SDPError(.malformedConnection, line: line, detail: "nettype/addrtype") }
            case 2:
                var a = e
                for j in s..<e where buf[j] == ASCII.slash { a = j; break }
                if a == s { bad = SDPError(.malformedConnection, line: line, detail: "empty address") }
                else if !wild, isWildcard(buf, s, a) { bad = SDPError(.wildcardNotAllowed, line: line, detail: "c= address") }
            default: break
            }
            return bad == nil
        }
        if let bad { return bad }
        return count == 3 ? nil : SDPError(.malformedConnection, line: line, detail: "c= needs 3 fields")
    }

    /// RFC 8866 §5.8 b=<bwtype>:<bandwidth>.
    static func checkBandwidth(_ buf: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int, line: Int) -> SDPError? {
        var colon = -1
        for j in from..<to where buf[j] == ASCII.colon { colon = j; break }
        guard colon > from, SDPText.isToken(buf, from, colon), SDPText.number(buf, colon + 1, to) != nil else {
            return SDPError(.malformedBandwidth, line: line, detail: "b= needs bwtype:digits")
        }
        return nil
    }

    /// RFC 8866 §5.14 m=<media> <port>[/<number of ports>] <proto> 1*(SP <fmt>).
    static func checkMedia(_ buf: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int, wild: Bool, line: Int) -> SDPError? {
        var bad: SDPError? = nil
        let count = fieldRanges(buf, from, to) { i, s, e in
            switch i {
            case 0:
                if !SDPText.isToken(buf, s, e) { bad = SDPError(.malformedMedia, line: line, detail: "media") }
            case 1:
                if isWildcard(buf, s, e) {
                    if !wild { bad = SDPError(.wildcardNotAllowed, line: line, detail: "m= port") }
                } else {
                    var slash = e
                    for j in s..<e where buf[j] == ASCII.slash { slash = j; break }
                    if let p = SDPText.number(buf, s, slash), p <= 65_535 {
                        if slash < e, (SDPText.number(buf, slash + 1, e) ?? 0) < 1 || (SDPText.number(buf, slash + 1, e) ?? 0) > 65_535 {
                            bad = SDPError(.malformedMedia, line: line, detail: "port count")
                        }
                    } else {
                        bad = SDPError(.malformedMedia, line: line, detail: "port")
                    }
                }
            case 2:
                var lastSlash = true
                for j in s..<e {
                    if buf[j] == ASCII.slash {
                        if lastSlash { bad = SDPError(.malformedMedia, line: line, detail: "proto"); break }
                        lastSlash = true
                    } else if !SDPText.isTokenChar(buf[j]) {
                        bad = SDPError(.malformedMedia, line: line, detail: "proto"); break
                    } else {
                        lastSlash = false
                    }
                }
                if bad == nil, lastSlash { bad = SDPError(.malformedMedia, line: line, detail: "proto") }
            default: break
            }
            return bad == nil
        }
        if let bad { return bad }
        return count >= (wild ? 3 : 4) ? nil : SDPError(.malformedMedia, line: line, detail: "m= needs media, port, proto and a format")
    }

    /// The SDP text. Unchanged descriptions reproduce their input exactly.
    public func serialized() -> String {
        var fallback = table.preferredEnding
        if fallback == .none {
            for m in media where m.table.preferredEnding != .none { fallback = m.table.preferredEnding; break }
        }
        if fallback == .none { fallback = .crlf }
        // Exact size first, then one allocation written in place.
        let lastMedia = media.count - 1
        var size = SessionDescription.measure(table, last: media.isEmpty, fallback: fallback)
        for k in media.indices { size += SessionDescription.measure(media[k].table, last: k == lastMedia, fallback: fallback) }
        return String(unsafeUninitializedCapacity: size) { out -> Int in
            var p = SessionDescription.write(table, last: media.isEmpty, fallback: fallback, into: out, at: 0)
            for k in media.indices {
                p = SessionDescription.write(media[k].table, last: k == lastMedia, fallback: fallback, into: out, at: p)
            }
            return p
        }
    }

    private static func measure(_ t: SDPLineTable, last: Bool, fallback: SDPLineEnding) -> Int {
        var size = 0
        let rs = t.records
        for k in rs.indices {
            size += (rs[k].type == 0 ? 0 : 2) + rs[k].end - rs[k].start
            var e = rs[k].ending
            if e == .none, !(last && k == rs.count - 1) { e = fallback }
            size += e == .crlf ? 2 : (e == .lf ? 1 : 0)
        }
        return size
    }

    private static func write(_ t: SDPLineTable, last: Bool, fallback: SDPLineEnding,
                              into out: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        let rs = t.records
        return t.bytes.withUnsafeBufferPointer { src -> Int in
            var p = start
            guard let dst = out.baseAddress else { return p }
            for k in rs.indices {
                let r = rs[k]
                if r.type != 0 {
                    out[p] = r.type; out[p + 1] = ASCII.equals; p += 2
                }
                let n = r.end - r.start
                if n > 0, let s = src.baseAddress { (dst + p).update(from: s + r.start, count: n) }
                p += n
                var e = r.ending
                if e == .none, !(last && k == rs.count - 1) { e = fallback }
                switch e {
                case .crlf: out[p] = ASCII.cr; out[p + 1] = ASCII.lf; p += 2
                case .lf: out[p] = ASCII.lf; p += 1
                case .none: break
                }
            }
            return p
        }
    }

    // MARK: typed session-level fields

    /// o= (RFC 8866 §5.2).
    public var origin: Origin? {
        get {
            guard let i = table.firstIndex(ofType: ASCII.o) else { return nil }
            return try? Origin(parsing: table.value(i), allowWildcards: true)
        }
        set {
            guard let newValue else { table.records.removeAll { $0.type == ASCII.o }; return }
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
        let type: StaticString = address.utf8.contains(ASCII.colon) ? "IP6" : "IP4"
        let len = table.valueLength(i)
        SDPText.withBytes(of: address) { ad in
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
