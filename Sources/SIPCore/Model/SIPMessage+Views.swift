/// Typed views computed on demand from the header ranges (nothing here runs during `SIPParser.parse`
/// except `cseq`, which the semantic checks need).
extension SIPMessage {
    // MARK: Raw access

    /// Text of `range` with folds (CRLF/LF + SP/HT) replaced by one SP (RFC 3261 §7.3.1).
    public func text(_ range: Range<Int>) -> String {
        let hasFold = bytes.withUnsafeBufferPointer { SIPPlainScan.hasLineBreak($0, range) }
        if !hasFold { return bytes.withUnsafeBufferPointer { SIPPlainScan.string($0, range) } }
        var out = [UInt8]()
        out.reserveCapacity(range.count)
        var k = range.lowerBound
        while k < range.upperBound {
            let c = bytes[k]
            if c == 0x0D || c == 0x0A {
                while k < range.upperBound, bytes[k] == 0x0D || bytes[k] == 0x0A || bytes[k] == 0x20 || bytes[k] == 0x09 { k += 1 }
                out.append(0x20)
                continue
            }
            out.append(c)
            k += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The header fields called `name` (known names: long or compact form).
    public func fields(_ name: SIPHeaderName) -> [SIPHeaderField] { headers.filter { $0.name == name } }

    /// The header fields whose name is `name` (any header, compared case-insensitively; compact forms of
    /// known names match too).
    public func fields(named name: String) -> [SIPHeaderField] { headerIndices(named: name).map { headers[$0] } }

    /// Name of a header field as written.
    public func name(of field: SIPHeaderField) -> String { String(decoding: bytes[field.nameRange], as: UTF8.self) }
    /// Value of a header field, folds replaced by SP.
    public func value(of field: SIPHeaderField) -> String { text(field.valueRange) }

    /// Byte ranges of the comma-separated elements of a field value (RFC 3261 §7.3.1): commas inside
    /// quoted strings and `<...>` do not split. At most `SIPParseLimits.maxElementsPerField` elements;
    /// empty elements are skipped.
    public func elementRanges(of field: SIPHeaderField) -> [Range<Int>] {
        var out: [Range<Int>] = []
        out.reserveCapacity(4)
        forEachElementRange(of: field) { out.append($0); return true }
        return out
    }

    /// Calls `body` with each element range of `field` in order (same rules and bound as
    /// `elementRanges(of:)`, no allocation); `body` returns false to stop.
    @inline(__always)
    public func forEachElementRange(of field: SIPHeaderField, _ body: (Range<Int>) -> Bool) {
        let end = field.valueRange.upperBound
        bytes.withUnsafeBufferPointer { p in
            var start = field.valueRange.lowerBound
            var k = start
            var inQuote = false, escaped = false, angle = false
            var emitted = 0
            while k <= end {
                // Eight bytes with none of `"` `,` `<` `>` `\` never change the state either.
                if !escaped, let base = p.baseAddress {
                    while end - k >= 8 {
                        let w = SIPWord.load(base, k)
                        if SIPWord.mask(w, 0x22) | SIPWord.mask(w, 0x2C) | SIPWord.mask(w, 0x3C) | SIPWord.mask(w, 0x3E)
                            | SIPWord.mask(w, 0x5C) != 0 { break }
                        k += 8
                    }
                }
                if k < end {
                    let c = p[k]
                    // Fast path: letters, digits, '@', ';', '=' ... never change the state.
                    if !escaped && (c > 0x3E ? c != 0x5C : (c != 0x22 && c != 0x2C && c != 0x3C && c != 0x3E)) { k += 1; continue }
                    if escaped { escaped = false; k += 1; continue }
                    if inQuote {
                        if c == 0x5C { escaped = true } else if c == 0x22 { inQuote = false }
                        k += 1; continue
                    }
                    if c == 0x22 { inQuote = true; k += 1; continue }
                    if c == 0x3C { angle = true; k += 1; continue }
                    if c == 0x3E { angle = false; k += 1; continue }
                    if c != 0x2C || angle { k += 1; continue }
                }
                // An element ends at a top-level comma or at the end of the value.
                var a = start, b = k
                while a < b, isLWSByte(p[a]) { a += 1 }
                while b > a, isLWSByte(p[b - 1]) { b -= 1 }
                if a < b {
                    guard emitted < SIPParseLimits.maxElementsPerField, body(a..<b) else { return }
                    emitted += 1
                }
                start = k + 1
                k += 1
            }
        }
    }

    /// All comma-separated element strings of the fields called `name`, in order.
    public func elements(_ name: SIPHeaderName) -> [String] {
        fields(name).flatMap { f in elementRanges(of: f).map { text($0) } }
    }

    // MARK: Start line

    public var method: String? { if case .request(let m, _) = startLine { return m } else { return nil } }
    public var requestURI: String? { if case .request(_, let r) = startLine { return text(r) } else { return nil } }
    public var statusCode: Int? { if case .response(let s, _) = startLine { return s } else { return nil } }
    public var reasonPhrase: String? { if case .response(_, let r) = startLine { return text(r) } else { return nil } }

    // MARK: Typed views

    /// Every Via value, top first, across lines and commas.
    /// Elements that do not parse are left out. Each element is read from its byte range like `topVia`
    /// (the plain byte scan, else the general parser on its text): the same values as parsing the text of
    /// `elements(.via)`, without a String per element.
    public var vias: [SIPVia] {
        var out: [SIPVia] = []
        forEachViaElementRange { r in
            if let v = via(at: r) { out.append(v) }
            return true
        }
        return out
    }
    public var topVia: SIPVia? { topViaRange.flatMap { via(at: $0) } }

    /// Calls `body` with the byte range of every Via element, top first, across lines and commas; `body`
    /// returns false to stop.
    public func forEachViaElementRange(_ body: (Range<Int>) -> Bool) {
        forEachViaElementRange { r, _ in body(r) }
    }

    /// As `forEachViaElementRange(_:)`, telling `body` whether the element is the top Via (`topViaRange`:
    /// the first element of the first Via field; none is when that field has no element).
    public func forEachViaElementRange(_ body: (Range<Int>, _ isTop: Bool) -> Bool) {
        var firstField = true
        for f in headers where f.name == .via {
            var going = true, isTop = firstField
            forEachElementRange(of: f) { r in
                going = body(r, isTop)
                isTop = false
                return going
            }
            firstField = false
            if !going { return }
        }
    }

    /// The byte range of the top Via element: the first element of the first Via field.
    public var topViaRange: Range<Int>? {
        guard let f = headers.first(where: { $0.name == .via }) else { return nil }
        var first: Range<Int>?
        forEachElementRange(of: f) { first = $0; return false }
        return first
    }

    /// The Via element at byte range `r`: plain text by the byte scan, anything else (folds, quotes,
    /// non-ASCII) by the general parser on its text (folds replaced by SP).
    private func via(at r: Range<Int>) -> SIPVia? {
        if case .parsed(let v) = bytes.withUnsafeBufferPointer({ SIPPlainScan.via($0, r) }) { return v }
        return SIPVia(parsing: text(r)[...])
    }
    public var from: SIPNameAddress? { headers.first(where: { $0.name == .from }).flatMap { SIPNameAddress(parsing: value(of: $0)[...]) } }
    public var to: SIPNameAddress? { headers.first(where: { $0.name == .to }).flatMap { SIPNameAddress(parsing: value(of: $0)[...]) } }
    public var callID: String? { headers.first(where: { $0.name == .callID }).map { value(of: $0) } }

    /// CSeq (RFC 3261 §20.16, number below 2**31 per §8.1.1.5); nil when absent or malformed.
    public var cseq: SIPCSeq? {
        guard let r = cseqParts else { return nil }
        return SIPCSeq(number: r.number, method: bytes.withUnsafeBufferPointer { SIPPlainScan.commonString($0, r.method) })
    }

    /// `cseq?.number`, without building the method String.
    public var cseqNumber: UInt32? { cseqParts?.number }

    /// Byte range of the CSeq method when CSeq is well formed (used by the parser's checks).
    var cseqMethodRange: Range<Int>? { cseqParts?.method }

    private var cseqParts: (number: UInt32, method: Range<Int>)? {
        guard let f = headers.first(where: { $0.name == .cseq }) else { return nil }
        return bytes.withUnsafeBufferPointer { p -> (number: UInt32, method: Range<Int>)? in
            var k = f.valueRange.lowerBound
            let e = f.valueRange.upperBound
            var number: UInt64 = 0
            var digits = 0
            while k < e, p[k] >= 0x30, p[k] <= 0x39 {
                number = number * 10 + UInt64(p[k] - 0x30)
                digits += 1
                if number > SIPParseLimits.maxCSeqNumber { return nil }
                k += 1
            }
            guard digits > 0 else { return nil }
            let methodStart = k
            while k < e, isLWSByte(p[k]) { k += 1 }
            guard k > methodStart, k < e else { return nil }
            let ms = k
            while k < e, SIPParser.isToken(p[k]) { k += 1 }
            guard k == e else { return nil }
            return (UInt32(number), ms..<e)
        }
    }

    /// Max-Forwards 0...255 (RFC 3261 §20.22, RFC 4475 §3.1.2.4); nil when absent or out of range.
    public var maxForwards: Int? {
        guard let f = headers.first(where: { $0.name == .maxForwards }) else { return nil }
        // Leading zeros are legal (RFC 4475 §3.1.1.1 `0068`); at most 10 digits are read.
        return bytes.withUnsafeBufferPointer { SIPParser.parseDigits($0, f.valueRange, maxDigits: SIPParseLimits.maxContentLengthDigits) }
            .flatMap { $0 <= SIPParseLimits.maxMaxForwards ? $0 : nil }
    }

    public var routes: [SIPNameAddress] { nameAddresses(.route) }
    public var recordRoutes: [SIPNameAddress] { nameAddresses(.recordRoute) }
    public var paths: [SIPNameAddress] { nameAddresses(.path) }
    public var serviceRoutes: [SIPNameAddress] { nameAddresses(.serviceRoute) }
    public var pAssertedIdentities: [SIPNameAddress] { nameAddresses(.pAssertedIdentity) }
    public var pPreferredIdentities: [SIPNameAddress] { nameAddresses(.pPreferredIdentity) }
    public var pAssociatedURIs: [SIPNameAddress] { nameAddresses(.pAssociatedURI) }
    public var contacts: [SIPContact] {
        elements(.contact).map { SIPContact(address: SIPNameAddress(parsing: $0[...])) }
    }
    public var contentType: String? { headers.first(where: { $0.name == .contentType }).map { value(of: $0) } }
    /// The Content-Length the scanner validated (nil when absent).
    public var contentLength: Int? {
        guard let f = headers.first(where: { $0.name == .contentLength }) else { return nil }
        return bytes.withUnsafeBufferPointer { SIPParser.parseDigits($0, f.valueRange, maxDigits: SIPParseLimits.maxContentLengthDigits) }
    }
    /// Expires (RFC 3261 §20.19): delta-seconds as UInt32; nil when absent or not a 32-bit number.
    public var expires: UInt32? { headers.first(where: { $0.name == .expires }).flatMap { UInt32(value(of: $0)) } }
    public var pAccessNetworkInfo: [SIPAccessNetworkInfo] {
        elements(.pAccessNetworkInfo).map { e in
            let s = e[...]
            let semi = s.firstIndex(of: ";") ?? s.endIndex
            return SIPAccessNetworkInfo(accessType: String(s[..<semi].trimmingLWS()), parameters: SIPParameters(parsing: s[semi...]))
        }
    }
    /// P-Charging-Vector (RFC 7315 §5.6): `icid-value=...;orig-ioi=...` as parameters.
    public var pChargingVector: SIPParameters? { headers.first(where: { $0.name == .pChargingVector }).map { SIPParameters(parsing: value(of: $0)[...]) } }
    public var securityClient: [SIPSecurityMechanism] { mechanisms(.securityClient) }
    public var securityServer: [SIPSecurityMechanism] { mechanisms(.securityServer) }
    public var securityVerify: [SIPSecurityMechanism] { mechanisms(.securityVerify) }
    public var require: [String] { elements(.require) }
    public var proxyRequire: [String] { elements(.proxyRequire) }
    public var supported: [String] { elements(.supported) }

    private func nameAddresses(_ name: SIPHeaderName) -> [SIPNameAddress] {
        elements(name).compactMap { SIPNameAddress(parsing: $0[...]) }
    }
    private func mechanisms(_ name: SIPHeaderName) -> [SIPSecurityMechanism] {
        elements(name).compactMap { SIPSecurityMechanism(parsing: $0[...]) }
    }
}

@inline(__always) func isLWSByte(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }
