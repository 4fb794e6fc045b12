// Byte-level fast paths for the header views (Via, name-addr, generic parameters).
//
// The general parsers (`SIPVia(parsing:)`, `SIPNameAddress(parsing:)`, `SIPParameters(parsing:)`)
// walk `Substring`s by `Character`, which costs grapheme breaking on every step. Almost every value
// on the wire is "plain": ASCII with no quoted string, no backslash and no fold. For plain text a
// `Character` is one byte, so a byte scan gives exactly the same result; the fast paths below run
// only on plain text and hand everything else (quotes, folds, non-ASCII, IPv6 references, odd
// spacing) back to the general parser, so behaviour does not change.

/// Eight-byte words for the byte scans (SWAR): whether a word holds a given byte, without a loop per byte.
package enum SIPWord {
    @inlinable package static var ones: UInt64 { 0x0101_0101_0101_0101 }
    @inlinable package static var highBits: UInt64 { 0x8080_8080_8080_8080 }

    /// The eight bytes at `base + offset` (any alignment; byte order does not matter to `has`).
    @inlinable @inline(__always)
    package static func load(_ base: UnsafePointer<UInt8>, _ offset: Int) -> UInt64 {
        UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self)
    }

    /// True when one of the eight bytes of `w` equals `c` (the exact zero-byte test: `x - 0x01…` borrows
    /// into a byte's high bit, and `~x` keeps it, only if some byte of `x = w ^ c…` is zero).
    @inlinable @inline(__always)
    package static func has(_ w: UInt64, _ c: UInt8) -> Bool {
        mask(w, c) != 0
    }

    /// Non-zero exactly when one of the eight bytes of `w` equals `c` (the high bits of `has`): masks of
    /// several bytes can be or-ed and tested once.
    @inlinable @inline(__always)
    package static func mask(_ w: UInt64, _ c: UInt8) -> UInt64 {
        let x = w ^ (ones &* UInt64(c))
        return (x &- ones) & ~x & highBits
    }

    /// The index of the first `c` in `p[r]`, whole words without it skipped eight bytes at a time.
    @inlinable @inline(__always)
    package static func first(_ c: UInt8, _ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int? {
        var k = r.lowerBound
        if let base = p.baseAddress {
            while r.upperBound - k >= 8, !has(load(base, k), c) { k += 8 }
        }
        while k < r.upperBound { if p[k] == c { return k }; k += 1 }
        return nil
    }

    /// True when every byte of `p` is ASCII (below 0x80).
    @inlinable @inline(__always)
    package static func isASCII(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        var k = 0
        if let base = p.baseAddress {
            while p.count - k >= 8 {
                if load(base, k) & highBits != 0 { return false }
                k += 8
            }
        }
        while k < p.count { if p[k] >= 0x80 { return false }; k += 1 }
        return true
    }
}

/// Result of a fast path: `fallback` hands the input to the general parser.
enum SIPPlainParse<T> {
    case fallback
    case parsed(T)
}

/// Plain scanning over a byte buffer (indices into `p`).
enum SIPPlainScan {
    /// True when every byte of `r` is ASCII and none is `"`, `\`, CR or LF.
    @inline(__always)
    static func isPlain(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Bool {
        var k = r.lowerBound
        // Eight bytes at a time: none may have the high bit or be one of the four excluded bytes.
        if let base = p.baseAddress {
            while r.upperBound - k >= 8 {
                let w = SIPWord.load(base, k)
                if (w & SIPWord.highBits) | SIPWord.mask(w, 0x22) | SIPWord.mask(w, 0x5C)
                    | SIPWord.mask(w, 0x0D) | SIPWord.mask(w, 0x0A) != 0 { return false }
                k += 8
            }
        }
        while k < r.upperBound {
            let c = p[k]
            if c >= 0x80 || c == 0x22 || c == 0x5C || c == 0x0D || c == 0x0A { return false }
            k += 1
        }
        return true
    }

    @inline(__always) static func isSPHT(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }

    /// True when `p[r]` holds a CR or LF (a fold, or a line end), eight bytes at a time.
    @inline(__always)
    static func hasLineBreak(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Bool {
        var k = r.lowerBound
        if let base = p.baseAddress {
            while r.upperBound - k >= 8 {
                let w = SIPWord.load(base, k)
                if SIPWord.mask(w, 0x0D) | SIPWord.mask(w, 0x0A) != 0 { break }
                k += 8
            }
        }
        while k < r.upperBound { if p[k] == 0x0D || p[k] == 0x0A { return true }; k += 1 }
        return false
    }

    /// `r` without leading and trailing SP/HT (plain text has no CR/LF).
    @inline(__always)
    static func trim(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Range<Int> {
        var a = r.lowerBound, b = r.upperBound
        while a < b, isSPHT(p[a]) { a += 1 }
        while b > a, isSPHT(p[b - 1]) { b -= 1 }
        return a..<b
    }

    @inline(__always)
    static func first(_ c: UInt8, _ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int? {
        SIPWord.first(c, p, r)
    }

    @inline(__always)
    static func string(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: p[r]), as: UTF8.self)
    }

    /// `string(p, r)`, but the few tokens read from nearly every message (Via sent-protocol and transport,
    /// the usual parameter names, the usual methods) come back as their literal: equal to the decoded String (same small-string
    /// value), without decoding and validating the bytes each time.
    @inline(__always)
    static func commonString(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String {
        switch r.count {
        case 2: if same(p, r, "lr") { return "lr" }
        case 3:
            if same(p, r, "tag") { return "tag" }
            if same(p, r, "UDP") { return "UDP" }
            if same(p, r, "TCP") { return "TCP" }
            if same(p, r, "TLS") { return "TLS" }
            if same(p, r, "ACK") { return "ACK" }
            if same(p, r, "BYE") { return "BYE" }
        case 5:
            if same(p, r, "rport") { return "rport" }
            if same(p, r, "PRACK") { return "PRACK" }
        case 6:
            if same(p, r, "branch") { return "branch" }
            if same(p, r, "INVITE") { return "INVITE" }
            if same(p, r, "CANCEL") { return "CANCEL" }
            if same(p, r, "UPDATE") { return "UPDATE" }
        case 7:
            if same(p, r, "SIP/2.0") { return "SIP/2.0" }
            if same(p, r, "OPTIONS") { return "OPTIONS" }
            if same(p, r, "MESSAGE") { return "MESSAGE" }
        case 8:
            if same(p, r, "received") { return "received" }
            if same(p, r, "REGISTER") { return "REGISTER" }
        default: break
        }
        return string(p, r)
    }

    /// `p[r]` equals `literal` byte for byte (the caller checked the length).
    @inline(__always)
    private static func same(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ literal: StaticString) -> Bool {
        let l = literal.utf8Start
        var i = 0
        while i < r.count { if p[r.lowerBound + i] != l[i] { return false }; i += 1 }
        return true
    }

    /// ASCII case-insensitive comparison of `p[r]` with `lowerName` (already lower case ASCII).
    @inline(__always)
    static func equalsLower(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ lowerName: StaticString) -> Bool {
        guard r.count == lowerName.utf8CodeUnitCount else { return false }
        let n = lowerName.utf8Start
        var i = 0
        while i < r.count {
            var c = p[r.lowerBound + i]
            if c >= 0x41 && c <= 0x5A { c |= 0x20 }
            if c != n[i] { return false }
            i += 1
        }
        return true
    }

    /// Walks `;a=b;c` exactly as `SIPParameters(parsing:)` does on plain text: calls `body(name,
    /// value)` per item (value nil when there is no `=`), at most `maxElementsPerField` items;
    /// `body` returns false to stop.
    @inline(__always)
    static func forEachParameter(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>,
                                 _ body: (Range<Int>, Range<Int>?) -> Bool) {
        var k = r.lowerBound
        let e = r.upperBound
        var count = 0
        while k < e, count < SIPParseLimits.maxElementsPerField {
            while k < e, p[k] == 0x3B || isSPHT(p[k]) { k += 1 }
            if k == e { break }
            let end = first(0x3B, p, k..<e) ?? e
            count += 1
            if let eq = first(0x3D, p, k..<end) {
                guard body(trim(p, k..<eq), trim(p, (eq + 1)..<end)) else { return }
            } else {
                guard body(trim(p, k..<end), nil) else { return }
            }
            k = end
        }
    }

    /// `SIPParameters(parsing:)` of plain text.
    static func parameters(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> SIPParameters {
        var items: [SIPParameters.Parameter] = []
        // A Via or name-addr has a few parameters: one allocation instead of growing 1, 2, 4.
        if !r.isEmpty { items.reserveCapacity(4) }
        forEachParameter(p, r) { name, value in
            items.append(.init(name: commonString(p, name), value: value.map { string(p, $0) }))
            return true
        }
        return SIPParameters(items)
    }

    /// The value of the first parameter called `lowerName` in plain `r` (nil when absent or value-less),
    /// as `SIPParameters(parsing:)[name]` would give it.
    static func parameter(_ lowerName: StaticString, _ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String? {
        parameterRange(lowerName, p, r).map { string(p, $0) }
    }

    /// The parameter part of a plain name-addr / addr-spec (RFC 3261 §20.10: after `>`, or after the
    /// first `;` of an addr-spec), as `SIPNameAddress(parsing:)` splits it; `.parsed(nil)` when that
    /// parser returns nil (empty or `*`).
    static func nameAddress(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> SIPPlainParse<SIPNameAddress?> {
        guard case .parsed(let parts) = nameAddressRanges(p, r) else { return .fallback }
        guard let parts else { return .parsed(nil) }
        return .parsed(SIPNameAddress(displayName: parts.displayName.map { string(p, $0) }, uri: string(p, parts.uri),
                                      parameters: parameters(p, parts.parameters), angleBracketed: parts.angleBracketed))
    }

    /// Byte ranges of a plain name-addr / addr-spec (what `nameAddress` builds its `SIPNameAddress` from).
    struct NameAddressRanges {
        var displayName: Range<Int>?
        var uri: Range<Int>
        var parameters: Range<Int>
        var angleBracketed: Bool
    }

    /// The parts of plain text as `SIPNameAddress(parsing:)` splits it; `.parsed(nil)` for empty or `*`.
    static func nameAddressRanges(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> SIPPlainParse<NameAddressRanges?> {
        guard isPlain(p, r) else { return .fallback }
        let t = trim(p, r)
        if t.isEmpty || (t.count == 1 && p[t.lowerBound] == 0x2A) { return .parsed(nil) }
        if let lt = first(0x3C, p, t), let gt = first(0x3E, p, lt..<t.upperBound) {
            let dn = trim(p, t.lowerBound..<lt)
            return .parsed(NameAddressRanges(displayName: dn.isEmpty ? nil : dn, uri: trim(p, (lt + 1)..<gt),
                                             parameters: (gt + 1)..<t.upperBound, angleBracketed: true))
        }
        let semi = first(0x3B, p, t) ?? t.upperBound
        return .parsed(NameAddressRanges(displayName: nil, uri: trim(p, t.lowerBound..<semi),
                                         parameters: semi..<t.upperBound, angleBracketed: false))
    }

    /// The `tag` of a plain name-addr, without building the name-addr (same result as
    /// `SIPNameAddress(parsing:)?.tag`).
    static func nameAddressTag(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> SIPPlainParse<String?> {
        guard case .parsed(let range) = nameAddressTagRange(p, r) else { return .fallback }
        return .parsed(range.map { string(p, $0) })
    }

    /// Byte ranges of a plain Via element (what `via` builds its `SIPVia` from).
    struct ViaRanges {
        var protocolNameVersion: Range<Int>
        var transport: Range<Int>
        var host: Range<Int>
        var port: Int?
        /// The `;params` part (from the first `;` to the end).
        var parameters: Range<Int>
    }

    /// The parts of plain text in the usual Via shape `name/version/transport SP host[:port][;params]`;
    /// anything else (IPv6 reference, LWS around `/`, empty parts, a port that is not 1–9 digits) falls back.
    static func viaRanges(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> SIPPlainParse<ViaRanges> {
        guard isPlain(p, r) else { return .fallback }
        let t = trim(p, r)
        guard let s1 = first(0x2F, p, t), s1 > t.lowerBound,
              let s2 = first(0x2F, p, (s1 + 1)..<t.upperBound), s2 > s1 + 1,
              first(0x20, p, t.lowerBound..<s2) == nil, first(0x09, p, t.lowerBound..<s2) == nil,
              s2 + 1 < t.upperBound else { return .fallback }
        let r0 = s2 + 1
        guard !isSPHT(p[r0]), p[r0] != 0x2F else { return .fallback }
        var wsp = r0
        while wsp < t.upperBound, !isSPHT(p[wsp]) { wsp += 1 }
        guard wsp < t.upperBound else { return .fallback }
        var rs = wsp
        while rs < t.upperBound, isSPHT(p[rs]) { rs += 1 }
        let semi = first(0x3B, p, rs..<t.upperBound) ?? t.upperBound
        let sentBy = trim(p, rs..<semi)
        guard !sentBy.isEmpty, p[sentBy.lowerBound] != 0x5B else { return .fallback }
        let host: Range<Int>
        var port: Int?
        if let colon = first(0x3A, p, sentBy) {
            host = trim(p, sentBy.lowerBound..<colon)
            let digits = trim(p, (colon + 1)..<sentBy.upperBound)
            if !digits.isEmpty {
                guard digits.count <= 9 else { return .fallback }
                var v = 0
                for k in digits {
                    guard p[k] >= 0x30, p[k] <= 0x39 else { return .fallback }
                    v = v * 10 + Int(p[k] - 0x30)
                }
                port = v
            }
        } else {
            host = sentBy
        }
        guard !host.isEmpty else { return .fallback }
        return .parsed(ViaRanges(protocolNameVersion: t.lowerBound..<s2, transport: r0..<wsp, host: host, port: port,
                                 parameters: semi..<t.upperBound))
    }

    /// `p[r]` upper-cased (ASCII letters), as a String; no intermediate array (a transport token fits a
    /// small String).
    @inline(__always)
    static func upperString(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String {
        var k = r.lowerBound
        while k < r.upperBound, !(p[k] >= 0x61 && p[k] <= 0x7A) { k += 1 }
        if k == r.upperBound { return commonString(p, r) }
        return String(unsafeUninitializedCapacity: r.count) { out in
            for i in 0..<r.count {
                let c = p[r.lowerBound + i]
                out[i] = c >= 0x61 && c <= 0x7A ? c - 0x20 : c
            }
            return r.count
        }
    }

    /// `SIPVia(parsing:)` of plain text in the usual shape `name/version/transport SP host[:port][;params]`;
    /// anything else falls back (see `viaRanges`).
    static func via(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> SIPPlainParse<SIPVia> {
        guard case .parsed(let v) = viaRanges(p, r) else { return .fallback }
        return .parsed(SIPVia(protocolNameVersion: commonString(p, v.protocolNameVersion),
                              transport: upperString(p, v.transport),
                              host: string(p, v.host), port: v.port, parameters: parameters(p, v.parameters)))
    }

    /// The value range of the first parameter called `lowerName` in plain `r` (nil when absent or
    /// value-less): the bytes of what `parameter(_:_:_:)` returns.
    static func parameterRange(_ lowerName: StaticString, _ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Range<Int>? {
        var out: Range<Int>?
        forEachParameter(p, r) { name, value in
            guard equalsLower(p, name, lowerName) else { return true }
            out = value
            return false
        }
        return out
    }

    /// The range of the `tag` value of a plain name-addr (the bytes of `nameAddressTag`'s String).
    static func nameAddressTagRange(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> SIPPlainParse<Range<Int>?> {
        guard isPlain(p, r) else { return .fallback }
        let t = trim(p, r)
        let params: Range<Int>
        if let lt = first(0x3C, p, t), let gt = first(0x3E, p, lt..<t.upperBound) {
            params = (gt + 1)..<t.upperBound
        } else {
            params = (first(0x3B, p, t) ?? t.upperBound)..<t.upperBound
        }
        return .parsed(parameterRange("tag", p, params))
    }
}

/// What routing and loop detection read of one Via element (RFC 3261 §16.3 step 4, §16.7 step 3): the
/// transport, sent-by and branch of `SIPVia`, without building its parameter list (the branch stays bytes).
public struct SIPViaHop: Sendable, Equatable {
    /// Transport token, upper-cased (as `SIPVia.transport`).
    public var transport: String
    public var host: String
    public var port: Int?
    /// The bytes of `SIPVia.branch` (nil when it is nil): a slice of the message's bytes for plain text.
    public var branch: ArraySlice<UInt8>?

    public init(transport: String, host: String, port: Int?, branch: ArraySlice<UInt8>?) {
        self.transport = transport
        self.host = host
        self.port = port
        self.branch = branch
    }
}

extension SIPMessage {
    /// The hop of the Via element at byte range `r`: nil when the element does not parse (like `vias`) or
    /// its branch bytes fail `branchFilter` (nil: no branch). For plain elements the filter runs on the
    /// bytes before the hop's Strings are made.
    private func viaHop(at r: Range<Int>, branchFilter: (ArraySlice<UInt8>?) -> Bool = { _ in true }) -> SIPViaHop? {
        let plain = bytes.withUnsafeBufferPointer { p -> SIPPlainParse<SIPViaHop?> in
            guard case .parsed(let v) = SIPPlainScan.viaRanges(p, r) else { return .fallback }
            let branch = SIPPlainScan.parameterRange("branch", p, v.parameters).map { bytes[$0] }
            guard branchFilter(branch) else { return .parsed(nil) }
            return .parsed(SIPViaHop(transport: SIPPlainScan.upperString(p, v.transport), host: SIPPlainScan.string(p, v.host),
                                     port: v.port, branch: branch))
        }
        if case .parsed(let hop) = plain { return hop }
        guard let v = SIPVia(parsing: text(r)[...]) else { return nil }
        let hop = SIPViaHop(transport: v.transport, host: v.host, port: v.port, branch: v.branch.map { Array($0.utf8)[...] })
        return branchFilter(hop.branch) ? hop : nil
    }

    /// Calls `body` with the hop of every Via element that parses, top first (the elements of `vias`, in
    /// order); `body` returns false to stop.
    public func forEachViaHop(_ body: (SIPViaHop) -> Bool) {
        forEachViaHop(branchFilter: { _ in true }, body)
    }

    /// As `forEachViaHop`, but only hops whose branch bytes pass `branchFilter` (nil: no branch) are given
    /// to `body` (RFC 3261 §16.3 step 4 reads the sent-by only of Vias whose branch carries our loop hash).
    public func forEachViaHop(branchFilter: (ArraySlice<UInt8>?) -> Bool, _ body: (SIPViaHop) -> Bool) {
        forEachViaElementRange { r in viaHop(at: r, branchFilter: branchFilter).map(body) ?? true }
    }

    /// The hop of the top Via (nil exactly when `topVia` is nil).
    public var topViaHop: SIPViaHop? { topViaRange.flatMap { viaHop(at: $0) } }

    /// True when at least `n` Via elements parse (`vias.count >= n`), without building them: an element
    /// counts when it parses (`viaHop(at:) != nil`), checked without the hop's Strings.
    public func hasVias(atLeast n: Int) -> Bool {
        var count = 0
        if count >= n { return true }
        forEachViaElementRange { r in
            if viaParses(at: r) { count += 1 }
            return count < n
        }
        return count >= n
    }

    /// `(topViaHop, hasVias(atLeast: n))` in one walk over the Via elements: the top element is parsed once,
    /// the others only checked until `n` parse (RFC 3261 §16.7 step 3 reads both for every response).
    public func topViaHop(countingVias n: Int) -> (hop: SIPViaHop?, atLeast: Bool) {
        var hop: SIPViaHop?
        var count = 0
        forEachViaElementRange { r, isTop in
            if isTop {
                hop = viaHop(at: r)
                if hop != nil { count += 1 }
            } else if viaParses(at: r) {
                count += 1
            }
            return count < n
        }
        return (hop, count >= n)
    }

    /// `viaHop(at: r) != nil`: the plain byte scan's shape, else the general parser on the text.
    private func viaParses(at r: Range<Int>) -> Bool {
        let plain = bytes.withUnsafeBufferPointer { p -> Bool in
            if case .parsed = SIPPlainScan.viaRanges(p, r) { return true }
            return false
        }
        return plain || SIPVia(parsing: text(r)[...]) != nil
    }

    /// The bytes of `text(range)` (folds replaced by SP): a slice of `bytes` when the range has no fold.
    public func unfoldedBytes(_ range: Range<Int>) -> ArraySlice<UInt8> {
        let hasFold = bytes.withUnsafeBufferPointer { SIPPlainScan.hasLineBreak($0, range) }
        return hasFold ? Array(text(range).utf8)[...] : bytes[range]
    }

    /// The bytes of `fromTag` / `toTag` (`name` is `.from` or `.to`), a slice of `bytes` for plain text.
    public func tagBytes(_ name: SIPHeaderName) -> ArraySlice<UInt8>? {
        guard let f = headers.first(where: { $0.name == name }) else { return nil }
        let fast = bytes.withUnsafeBufferPointer { SIPPlainScan.nameAddressTagRange($0, f.valueRange) }
        if case .parsed(let r) = fast { return r.map { bytes[$0] } }
        return SIPNameAddress(parsing: value(of: f)[...])?.tag.map { Array($0.utf8)[...] }
    }

    /// True when the first To field has a tag (`toTag != nil`), without building the tag.
    public var hasToTag: Bool { tagBytes(.to) != nil }

    /// The bytes of `callID`.
    public var callIDBytes: ArraySlice<UInt8>? { headers.first(where: { $0.name == .callID }).map { unfoldedBytes($0.valueRange) } }

    /// The URIs of `routes`, in order (`routes.map(\.uri)`), without building each name-addr's parameters.
    public var routeURIs: [String] {
        var out: [String] = []
        for f in headers where f.name == .route {
            forEachElementRange(of: f) { r in
                let plain = bytes.withUnsafeBufferPointer { p -> SIPPlainParse<String?> in
                    guard case .parsed(let parts) = SIPPlainScan.nameAddressRanges(p, r) else { return .fallback }
                    return .parsed(parts.map { SIPPlainScan.string(p, $0.uri) })
                }
                switch plain {
                case .parsed(let uri): if let uri { out.append(uri) }
                case .fallback: if let a = SIPNameAddress(parsing: text(r)[...]) { out.append(a.uri) }
                }
                return true
            }
        }
        return out
    }

    /// The bytes of `requestURI`.
    public var requestURIBytes: ArraySlice<UInt8>? { if case .request(_, let r) = startLine { return unfoldedBytes(r) } else { return nil } }
}

extension SIPMessage {
    /// The `tag` of the first From field (RFC 3261 §19.3); same as `from?.tag`, read by a byte scan.
    public var fromTag: String? { firstTag(.from) }
    /// The `tag` of the first To field (RFC 3261 §19.3); same as `to?.tag`, read by a byte scan.
    public var toTag: String? { firstTag(.to) }

    private func firstTag(_ name: SIPHeaderName) -> String? {
        guard let f = headers.first(where: { $0.name == name }) else { return nil }
        let fast = bytes.withUnsafeBufferPointer { SIPPlainScan.nameAddressTag($0, f.valueRange) }
        if case .parsed(let tag) = fast { return tag }
        return SIPNameAddress(parsing: value(of: f)[...])?.tag
    }
}

extension String {
    /// `lowercased()` / `uppercased()`, without building a new string when the text is ASCII and already in
    /// that case (hosts, IP addresses and transport tokens almost always are: every message builds a
    /// `TopVia`, every received request compares its Via host with the source address).
    @inlinable
    package func foldedASCIICase(upper: Bool) -> String {
        var copy = self
        let unchanged = copy.withUTF8 { bytes in
            bytes.allSatisfy { c in c < 0x80 && (upper ? !(c >= 0x61 && c <= 0x7A) : !(c >= 0x41 && c <= 0x5A)) }
        }
        if unchanged { return self }
        return upper ? uppercased() : lowercased()
    }
}
