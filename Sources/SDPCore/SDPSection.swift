// Shared line-level access for the session part and each media part of an SDP (RFC 8866 §5: both
// are ordered lists of `<type>=<value>` lines; c=, b=, k= and a= may appear at either level).

/// A list of SDP lines with RFC 8866 §5 ordering rules for inserted lines. The lines are stored in an
/// `SDPLineTable` (one byte buffer, plain line records); `lines` materialises them.
public protocol SDPSection: Sendable {
    var table: SDPLineTable { get set }
    /// RFC 8866 §5 position rank of a line type inside this section (for insertion).
    static func rank(of type: UInt8) -> Int
}

extension SDPSection {
    /// The lines, materialised (each value is a new String; use the table on hot paths).
    public var lines: [SDPLine] {
        get { table.lines }
        set { table.replaceLines(with: SDPLineTable(lines: newValue)) }
    }

    /// The terminator to use for inserted lines: the first terminated line's; `.none` when the section
    /// has none (the serialiser then uses the document's terminator, else CRLF per RFC 8866 §5).
    @inlinable
    public var preferredEnding: SDPLineEnding { table.preferredEnding }

    // MARK: generic lines

    @inlinable
    public func firstIndex(ofType type: UInt8) -> Int? { table.firstIndex(ofType: type) }

    /// Inserts `line` after the last line whose RFC 8866 §5 rank is not greater than its own.
    public mutating func insertLine(_ line: SDPLine) {
        table.insertLine(type: line.type, value: String(line.value), ending: line.ending, rank: Self.rank)
    }

    /// Inserts a `type=value` line in RFC 8866 §5 order with the section's terminator.
    @inlinable
    public mutating func insertLine(type: UInt8, value: String) {
        table.insertLine(type: type, value: value, ending: .none, rank: Self.rank)
    }

    // MARK: c= (RFC 8866 §5.7)

    /// The first c= line of this section.
    public var connection: ConnectionData? {
        get {
            guard let i = table.firstIndex(ofType: ASCII.c) else { return nil }
            return try? ConnectionData(parsing: table.value(i), allowWildcards: true)
        }
        set {
            if let newValue {
                let text = newValue.value
                if let i = table.firstIndex(ofType: ASCII.c) {
                    table.setValue(i, text)
                } else {
                    insertLine(type: ASCII.c, value: text)
                }
            } else {
                table.removeAll { $0.type == ASCII.c }
            }
        }
    }

    /// Inserts `a=fingerprint:<fp>` before the first line with attribute key `before`, else after
    /// the last attribute.
    public mutating func insertFingerprint(_ fp: Fingerprint, before k: SDPAttributeKey) {
        // (The terminator is read by the table: `table.preferredEnding` here went through the
        // protocol's getter, which copied the table: a retain and a release of each buffer.)
        table.insertFingerprint(fp, before: k, rank: Self.rank)
    }

    /// Sets the connection address (c=IN IP4|IP6 address) without building a `ConnectionData`.
    @inlinable
    public mutating func setConnectionAddress(_ address: String) {
        table.setConnectionAddress(address, rank: Self.rank)
    }

    /// The address of the first c= line.
    @inlinable
    public var connectionAddress: Substring? { table.connectionAddress }

    /// Byte range of the first c= address (line index, from, to), or nil.
    @inlinable
    public var connectionAddressRange: (line: Int, from: Int, to: Int)? { table.connectionAddressRange }

    // MARK: b= (RFC 8866 §5.8, RFC 3890, RFC 3556)

    public var bandwidths: [Bandwidth] {
        var out: [Bandwidth] = []
        for i in 0..<table.count where table.type(i) == ASCII.b {
            if let b = try? Bandwidth(parsing: table.value(i)) { out.append(b) }
        }
        return out
    }

    /// Value of the first b= line of `kind`.
    @inlinable
    public func bandwidth(_ kind: Bandwidth.Kind) -> UInt64? { table.bandwidth(kind) }

    /// Replaces the first b= of `kind` (or inserts one, RFC 8866 §5 order) ; nil removes all of that kind.
    public mutating func setBandwidth(_ kind: Bandwidth.Kind, _ value: UInt64?) {
        var matching: [Int] = []
        for i in 0..<table.count where table.type(i) == ASCII.b {
            if table.withValue(i, { Bandwidth.value(ofKind: kind, in: $0) }) != nil { matching.append(i) }
        }
        guard let value else {
            for i in matching.reversed() { table.remove(at: i) }
            return
        }
        let text = Bandwidth(kind: kind, value: value).text
        if let first = matching.first {
            table.setValue(first, text)
        } else {
            insertLine(type: ASCII.b, value: text)
        }
    }

    // MARK: a= (RFC 8866 §5.13)

    /// All attributes in order as (name, value) pairs.
    public var attributes: [(name: Substring, value: Substring?)] {
        var out: [(name: Substring, value: Substring?)] = []
        for i in 0..<table.count where table.type(i) == ASCII.a {
            let l = table.line(i)
            out.append((l.attributeName, l.attributeValue))
        }
        return out
    }

    // Key-based lookups (no text comparison).

    @inlinable
    public func hasAttribute(_ k: SDPAttributeKey) -> Bool { table.contains(k) }

    public func attributeValue(_ k: SDPAttributeKey) -> Substring? {
        guard let i = table.firstIndex(of: k) else { return nil }
        return table.attributeValueOrEmpty(i)
    }

    public func attributeValues(_ k: SDPAttributeKey) -> [Substring] {
        var out: [Substring] = []
        for i in 0..<table.count where table.key(i) == k { out.append(table.attributeValueOrEmpty(i)) }
        return out
    }

    @discardableResult
    @inlinable
    public mutating func removeAttributes(_ k: SDPAttributeKey) -> Int { table.removeAll(k) }

    public func hasAttribute(_ name: StaticString) -> Bool {
        let k = SDPAttributeKey.classify(name)
        for i in 0..<table.count where table.matches(i, k, name) { return true }
        return false
    }

    /// Value of the first attribute `name` (empty Substring for a property attribute).
    public func attributeValue(_ name: StaticString) -> Substring? {
        let k = SDPAttributeKey.classify(name)
        for i in 0..<table.count where table.matches(i, k, name) { return table.attributeValueOrEmpty(i) }
        return nil
    }

    /// Values of every attribute `name`, in order.
    public func attributeValues(_ name: StaticString) -> [Substring] {
        let k = SDPAttributeKey.classify(name)
        var out: [Substring] = []
        for i in 0..<table.count where table.matches(i, k, name) { out.append(table.attributeValueOrEmpty(i)) }
        return out
    }

    /// Removes every attribute `name`; returns how many were removed.
    @discardableResult
    public mutating func removeAttributes(_ name: StaticString) -> Int {
        let k = SDPAttributeKey.classify(name)
        var removed = 0
        var i = table.count - 1
        while i >= 0 {
            if table.matches(i, k, name) { table.remove(at: i); removed += 1 }
            i -= 1
        }
        return removed
    }

    /// Appends `a=name[:value]` after the last attribute of this section.
    public mutating func appendAttribute(_ name: String, _ value: String? = nil) {
        insertLine(type: ASCII.a, value: value.map { name + ":" + $0 } ?? name)
    }

    /// Sets the first attribute `name` to `value` (removing further ones), or appends it.
    public mutating func setAttribute(_ name: StaticString, _ value: String?) {
        table.setAttribute(name, SDPAttributeKey.classify(name), value, rank: Self.rank)
    }
}

extension SDPLineTable {
    @inlinable
    public var preferredEnding: SDPLineEnding {
        for i in lo..<hi where records[i].ending != .none { return records[i].ending }
        return .none
    }

    /// Inserts a line after the last line whose rank is not greater than its own (RFC 8866 §5 order).
    /// `.none` as `ending` means "the section's terminator".
    public mutating func insertLine(type: UInt8, value: String, ending: SDPLineEnding, rank: (UInt8) -> Int) {
        let (a, b) = appendBytes(of: value)
        insertLine(type: type, range: (a, b), ending: ending, rank: rank)
    }

    /// `insertLine` for a value already appended to the buffer at `range`.
    @usableFromInline
    mutating func insertLine(type: UInt8, range: (Int, Int), ending: SDPLineEnding, rank: (UInt8) -> Int,
                             key: SDPAttributeKey? = nil) {
        var ending = ending
        if ending == .none { ending = preferredEnding }
        let r = rank(type)
        var index = count
        while index > 0, rank(rec(index - 1).type) > r { index -= 1 }
        if index == count, index > 0, rec(index - 1).ending == .none {
            // Keep the original final-terminator choice: the new line takes the "no terminator" role.
            records[lo &+ index - 1].ending = ending
            ending = .none
        }
        insertRecord(type: type, range.0, range.1, ending: ending, at: index, key: key)
    }

    /// (line, from, to) of the address of the first c= line (without a `/ttl` suffix).
    @inlinable
    public var connectionAddressRange: (line: Int, from: Int, to: Int)? {
        guard let i = firstIndex(ofType: ASCII.c) else { return nil }
        return withValue(i) { buf -> (line: Int, from: Int, to: Int)? in
            guard let (a, b) = SDPText.fieldRange(buf, 2) else { return nil }
            var end = b
            for k in a..<b where buf[k] == ASCII.slash { end = k; break }
            return (i, a, end)
        }
    }

    public var connectionAddress: Substring? {
        guard let (i, a, b) = connectionAddressRange else { return nil }
        return withValue(i) { Substring(String(decoding: UnsafeBufferPointer(rebasing: $0[a..<b]), as: UTF8.self)) }
    }

    /// The address of the first c= line as a String (no Substring).
    public var connectionAddressString: String? {
        guard let (i, a, b) = connectionAddressRange else { return nil }
        return withValue(i) { String(decoding: UnsafeBufferPointer(rebasing: $0[a..<b]), as: UTF8.self) }
    }

    /// True when the first c= address equals `literal` byte for byte.
    @inlinable
    public func connectionAddressEquals(_ literal: StaticString) -> Bool {
        guard let (i, a, b) = connectionAddressRange else { return false }
        let n = literal.utf8CodeUnitCount
        guard b - a == n else { return false }
        return withValue(i) { buf -> Bool in
            let p = literal.utf8Start
            for k in 0..<n where buf[a + k] != p[k] { return false }
            return true
        }
    }

    /// Writes `c=IN IP4|IP6 <address>` into the first c= line, or inserts one.
    public mutating func setConnectionAddress(_ address: String, rank: (UInt8) -> Int) {
        let range = SDPText.withBytes(of: address) { ad -> (Int, Int) in
            var ip6 = false
            for k in 0..<ad.count where ad[k] == ASCII.colon { ip6 = true; break }
            let prefix: StaticString = ip6 ? "IN IP6 " : "IN IP4 "
            return appendValue(count: 7 + ad.count) { _, d in
                d.initialize(from: prefix.utf8Start, count: 7)
                if let p = ad.baseAddress, ad.count > 0 { (d + 7).initialize(from: p, count: ad.count) }
            }
        }
        if let i = firstIndex(ofType: ASCII.c) {
            repoint(i, range.0, range.1)
        } else {
            insertLine(type: ASCII.c, range: range, ending: .none, rank: rank)
        }
    }

    /// Inserts `a=fingerprint:<fp>` (RFC 8122 §5) before the first line with attribute key `before`
    /// (with `ending`), or else after the last attribute (RFC 8866 §5 order given by `rank`).
    public mutating func insertFingerprint(_ fp: Fingerprint, before k: SDPAttributeKey, ending: SDPLineEnding,
                                           rank: (UInt8) -> Int) {
        let range = appendValue(count: fp.textCount(prefix: "fingerprint:")) { _, d in fp.write(prefix: "fingerprint:", to: d) }
        // The line's attribute key is known (its name is written here): not classified again.
        if let at = firstIndex(of: k) {
            insertRecord(type: ASCII.a, range.0, range.1, ending: ending, at: at, key: .fingerprint)
        } else {
            insertLine(type: ASCII.a, range: range, ending: .none, rank: rank, key: .fingerprint)
        }
    }

    /// `insertFingerprint` with this section's own terminator (`preferredEnding`).
    public mutating func insertFingerprint(_ fp: Fingerprint, before k: SDPAttributeKey, rank: (UInt8) -> Int) {
        insertFingerprint(fp, before: k, ending: preferredEnding, rank: rank)
    }

    @inlinable
    public func bandwidth(_ kind: Bandwidth.Kind) -> UInt64? {
        for i in 0..<count where rec(i).type == ASCII.b {
            if let v = withValue(i, { Bandwidth.value(ofKind: kind, in: $0) }) { return v }
        }
        return nil
    }
}
