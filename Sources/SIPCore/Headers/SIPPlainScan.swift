// Byte-level fast paths for the header views (Via, name-addr, generic parameters).
//
// The general parsers (`SIPVia(parsing:)`, `SIPNameAddress(parsing:)`, `SIPParameters(parsing:)`)
// walk `Substring`s by `Character`, which costs grapheme breaking on every step. Almost every value
// on the wire is "plain": ASCII with no quoted string, no backslash and no fold. For plain text a
// `Character` is one byte, so a byte scan gives exactly the same result; the fast paths below run
// only on plain text and hand everything else (quotes, folds, non-ASCII, IPv6 references, odd
// spacing) back to the general parser, so behaviour does not change.

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
        while k < r.upperBound {
            let c = p[k]
            if c >= 0x80 || c == 0x22 || c == 0x5C || c == 0x0D || c == 0x0A { return false }
            k += 1
        }
        return true
    }

    @inline(__always) static func isSPHT(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }

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
        var k = r.lowerBound
        while k < r.upperBound { if p[k] == c { return k }; k += 1 }
        return nil
    }

    @inline(__always)
    static func string(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: p[r]), as: UTF8.self)
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
            var end = k
            while end < e, p[end] != 0x3B { end += 1 }
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
        forEachParameter(p, r) { name, value in
            items.append(.init(name: string(p, name), value: value.map { string(p, $0) }))
            return true
        }
        return SIPParameters(items)
    }

    /// The value of the first parameter called `lowerName` in plain `r` (nil when absent or value-less),
    /// as `SIPParameters(parsing:)[name]` would give it.
    static func parameter(_ lowerName: StaticString, _ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String? {
        var out: String?
        forEachParameter(p, r) { name, value in
            guard equalsLower(p, name, lowerName) else { return true }
            out = value.map { string(p, $0) }
            return false
        }
        return out
    }

    /// The parameter part of a plain name-addr / addr-spec (RFC 3261 §20.10: after `>`, or after the
    /// first `;` of an addr-spec), as `SIPNameAddress(parsing:)` splits it; `.parsed(nil)` when that
    /// parser returns nil (empty or `*`).
    static func nameAddress(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> SIPPlainParse<SIPNameAddress?> {
        guard isPlain(p, r) else { return .fallback }
        let t = trim(p, r)
        if t.isEmpty || (t.count == 1 && p[t.lowerBound] == 0x2A) { return .parsed(nil) }
        if let lt = first(0x3C, p, t), let gt = first(0x3E, p, lt..<t.upperBound) {
            let dn = trim(p, t.lowerBound..<lt)
            return .parsed(SIPNameAddress(displayName: dn.isEmpty ? nil : string(p, dn),
                                          uri: string(p, trim(p, (lt + 1)..<gt)),
                                          parameters: parameters(p, (gt + 1)..<t.upperBound), angleBracketed: true))
        }
        let semi = first(0x3B, p, t) ?? t.upperBound
        return .parsed(SIPNameAddress(displayName: nil, uri: string(p, trim(p, t.lowerBound..<semi)),
                                      parameters: parameters(p, semi..<t.upperBound), angleBracketed: false))
    }

    /// The `tag` of a plain name-addr, without building the name-addr (same result as
    /// `SIPNameAddress(parsing:)?.tag`).
    static func nameAddressTag(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> SIPPlainParse<String?> {
        guard isPlain(p, r) else { return .fallback }
        let t = trim(p, r)
        let params: Range<Int>
        if let lt = first(0x3C, p, t), let gt = first(0x3E, p, lt..<t.upperBound) {
            params = (gt + 1)..<t.upperBound
        } else {
            params = (first(0x3B, p, t) ?? t.upperBound)..<t.upperBound
        }
        return .parsed(parameter("tag", p, params))
    }

    /// `SIPVia(parsing:)` of plain text in the usual shape `name/version/transport SP host[:port][;params]`;
    /// anything else (IPv6 reference, LWS around `/`, empty parts, a port that is not 1–9 digits) falls back.
    static func via(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> SIPPlainParse<SIPVia> {
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
        var transport = [UInt8](UnsafeBufferPointer(rebasing: p[r0..<wsp]))
        for i in transport.indices where transport[i] >= 0x61 && transport[i] <= 0x7A { transport[i] -= 0x20 }
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
        return .parsed(SIPVia(protocolNameVersion: string(p, t.lowerBound..<s2),
                              transport: String(decoding: transport, as: UTF8.self),
                              host: string(p, host), port: port, parameters: parameters(p, semi..<t.upperBound)))
    }
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
