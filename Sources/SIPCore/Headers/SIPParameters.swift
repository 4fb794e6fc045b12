/// `*( SEMI generic-param )` (RFC 3261 §25.1): names compared case-insensitively, values kept as
/// written (quotes removed from quoted-string values).
public struct SIPParameters: Sendable, Equatable {
    public struct Parameter: Sendable, Equatable {
        public var name: String
        public var value: String?
    }
    public var items: [Parameter]

    public init(_ items: [Parameter] = []) { self.items = items }

    /// Value of the first parameter called `name` (nil when absent or value-less).
    public subscript(_ name: String) -> String? {
        items.first { Self.sameName($0.name, name) }?.value
    }
    /// True when a parameter called `name` is present (with or without a value).
    public func contains(_ name: String) -> Bool { items.contains { Self.sameName($0.name, name) } }

    /// `a.lowercased() == b.lowercased()`: ASCII text (every parameter name on the wire in practice) is
    /// compared byte by byte with A-Z folded, which is what `lowercased()` and `==` do on ASCII; other text
    /// goes to `lowercased()` (no String is built for the ASCII case: `branch`, `tag`, `rport` are read per message).
    @inline(__always)
    static func sameName(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        let ascii: Bool? = a.withUTF8 { x in
            b.withUTF8 { y -> Bool? in
                var k = 0
                var equal = x.count == y.count
                while k < x.count { if x[k] >= 0x80 { return nil }; k += 1 }
                k = 0
                while k < y.count { if y[k] >= 0x80 { return nil }; k += 1 }
                k = 0
                while equal, k < x.count {
                    var c = x[k], d = y[k]
                    if c >= 0x41 && c <= 0x5A { c |= 0x20 }
                    if d >= 0x41 && d <= 0x5A { d |= 0x20 }
                    equal = c == d
                    k += 1
                }
                return equal
            }
        }
        return ascii ?? (a.lowercased() == b.lowercased())
    }

    /// Parses `;a=b;c;d="x;y"` (the leading `;` optional). At most `SIPParseLimits.maxElementsPerField` items.
    /// Plain text (ASCII, no quote or fold) is read by a byte scan (`SIPPlainScan.parameters`), the
    /// rest by `init(generalParsing:)`; both give the same result.
    public init(parsing text: Substring) {
        if let v = text.utf8.withContiguousStorageIfAvailable({ p -> SIPParameters? in
            SIPPlainScan.isPlain(p, 0..<p.count) ? SIPPlainScan.parameters(p, 0..<p.count) : nil
        }), let v {
            self = v
            return
        }
        self.init(generalParsing: text)
    }

    /// The general (Character-based) parser.
    init(generalParsing text: Substring) {
        var items: [Parameter] = []
        var rest = text[...]
        while !rest.isEmpty, items.count < SIPParseLimits.maxElementsPerField {
            rest = rest.drop { $0 == ";" || $0 == " " || $0 == "\t" }
            if rest.isEmpty { break }
            // Find the end of this parameter: the next ';' outside quotes.
            var inQuote = false
            var escaped = false
            var end = rest.endIndex
            var idx = rest.startIndex
            while idx < rest.endIndex {
                let c = rest[idx]
                if escaped { escaped = false } else if inQuote && c == "\\" { escaped = true } else if c == "\"" { inQuote.toggle() } else if c == ";" && !inQuote { end = idx; break }
                idx = rest.index(after: idx)
            }
            let piece = rest[rest.startIndex..<end]
            if let eq = piece.firstIndex(of: "=") {
                let name = piece[..<eq].trimmingLWS()
                var value = piece[piece.index(after: eq)...].trimmingLWS()
                if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
                items.append(Parameter(name: String(name), value: String(value)))
            } else {
                items.append(Parameter(name: String(piece.trimmingLWS()), value: nil))
            }
            rest = rest[end...]
        }
        self.items = items
    }
}

extension Substring {
    /// Drops leading and trailing SP/HT/CR/LF.
    func trimmingLWS() -> Substring {
        let isLWS: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
        var s = self
        while let f = s.first, isLWS(f) { s = s.dropFirst() }
        while let l = s.last, isLWS(l) { s = s.dropLast() }
        return s
    }

    /// Index of the first `target` outside quoted strings and `<...>`.
    func firstIndexOutsideQuotes(of target: Character) -> Index? {
        var inQuote = false, escaped = false, angle = false
        var idx = startIndex
        while idx < endIndex {
            let c = self[idx]
            if escaped { escaped = false }
            else if inQuote { if c == "\\" { escaped = true } else if c == "\"" { inQuote = false } }
            else if c == "\"" { inQuote = true }
            else if c == "<" { angle = true }
            else if c == ">" { angle = false }
            else if c == target && !angle { return idx }
            idx = index(after: idx)
        }
        return nil
    }
}
