// Shared line-level access for the session part and each media part of an SDP (RFC 8866 §5: both
// are ordered lists of `<type>=<value>` lines; c=, b=, k= and a= may appear at either level).

/// A list of SDP lines with RFC 8866 §5 ordering rules for inserted lines.
public protocol SDPSection: Sendable {
    var lines: [SDPLine] { get set }
    /// RFC 8866 §5 position rank of a line type inside this section (for insertion).
    static func rank(of type: UInt8) -> Int
}

extension SDPSection {
    /// The terminator to use for inserted lines: the first terminated line's; `.none` when the section
    /// has none (the serialiser then uses the document's terminator, else CRLF per RFC 8866 §5).
    @inlinable
    public var preferredEnding: SDPLineEnding {
        let ls = lines   // one getter call (these extension methods are not specialised across modules)
        for i in ls.indices where ls[i].ending != .none { return ls[i].ending }
        return .none
    }

    // MARK: generic lines

    @inlinable
    public func firstIndex(ofType type: UInt8) -> Int? {
        lines.firstIndex { $0.type == type }
    }

    /// Inserts `line` after the last line whose RFC 8866 §5 rank is not greater than its own.
    @inlinable
    public mutating func insertLine(_ line: SDPLine) {
        var line = line
        if line.ending == .none { line.ending = preferredEnding }
        let r = Self.rank(of: line.type)
        var index = lines.count
        while index > 0, Self.rank(of: lines[index - 1].type) > r { index -= 1 }
        if index == lines.count, index > 0, lines[index - 1].ending == .none {
            // Keep the original final-terminator choice: the new line takes the "no terminator" role.
            lines[index - 1].ending = line.ending
            line.ending = .none
        }
        lines.insert(line, at: index)
    }

    // MARK: c= (RFC 8866 §5.7)

    /// The first c= line of this section.
    public var connection: ConnectionData? {
        get {
            guard let i = firstIndex(ofType: ASCII.c) else { return nil }
            return try? ConnectionData(parsing: lines[i].value, allowWildcards: true)
        }
        set {
            if let newValue {
                let text = Substring(newValue.value)
                if let i = firstIndex(ofType: ASCII.c) {
                    lines[i].value = text
                } else {
                    insertLine(SDPLine(type: ASCII.c, value: text, ending: preferredEnding))
                }
            } else {
                lines.removeAll { $0.type == ASCII.c }
            }
        }
    }

    /// The address of the first c= line, without parsing the whole line into Strings.
    @inlinable
    public var connectionAddress: Substring? {
        let ls = lines
        guard let i = ls.firstIndex(where: { $0.type == ASCII.c }) else { return nil }
        let v = ls[i].value
        guard let (a, b) = SDPText.fieldRange(v, 2) else { return nil }
        let end = SDPText.withBytes(v) { buf -> Int in
            for k in a..<b where buf[k] == ASCII.slash { return k }
            return b
        }
        return SDPText.slice(v, a, end)
    }

    // MARK: b= (RFC 8866 §5.8, RFC 3890, RFC 3556)

    public var bandwidths: [Bandwidth] {
        lines.compactMap { $0.type == ASCII.b ? try? Bandwidth(parsing: $0.value) : nil }
    }

    /// Value of the first b= line of `kind`.
    @inlinable
    public func bandwidth(_ kind: Bandwidth.Kind) -> UInt64? {
        let ls = lines
        for i in ls.indices where ls[i].type == ASCII.b {
            if let v = SDPText.withBytes(ls[i].value, { Bandwidth.value(ofKind: kind, in: $0) }) { return v }
        }
        return nil
    }

    /// Replaces the first b= of `kind` (or inserts one, RFC 8866 §5 order) ; nil removes all of that kind.
    public mutating func setBandwidth(_ kind: Bandwidth.Kind, _ value: UInt64?) {
        let ls = lines
        let matching = ls.indices.filter {
            ls[$0].type == ASCII.b && SDPText.withBytes(ls[$0].value, { Bandwidth.value(ofKind: kind, in: $0) }) != nil
        }
        guard let value else {
            for i in matching.reversed() { lines.remove(at: i) }
            return
        }
        let text = Substring(Bandwidth(kind: kind, value: value).text)
        if let first = matching.first {
            lines[first].value = text
        } else {
            insertLine(SDPLine(type: ASCII.b, value: text, ending: preferredEnding))
        }
    }

    // MARK: a= (RFC 8866 §5.13)

    /// All attributes in order as (name, value) pairs.
    public var attributes: [(name: Substring, value: Substring?)] {
        lines.compactMap { $0.type == ASCII.a ? ($0.attributeName, $0.attributeValue) : nil }
    }

    // Key-based lookups (no text comparison).

    @inlinable
    public func hasAttribute(_ k: SDPAttributeKey) -> Bool { lines.contains { $0.key == k } }

    @inlinable
    public func attributeValue(_ k: SDPAttributeKey) -> Substring? {
        let ls = lines
        for i in ls.indices where ls[i].key == k {
            return ls[i].attributeValue ?? ls[i].value[ls[i].value.endIndex...]
        }
        return nil
    }

    public func attributeValues(_ k: SDPAttributeKey) -> [Substring] {
        lines.compactMap { $0.key == k ? ($0.attributeValue ?? $0.value[$0.value.endIndex...]) : nil }
    }

    @discardableResult
    @inlinable
    public mutating func removeAttributes(_ k: SDPAttributeKey) -> Int {
        guard lines.contains(where: { $0.key == k }) else { return 0 }
        let before = lines.count
        lines.removeAll { $0.key == k }
        return before - lines.count
    }

    public func hasAttribute(_ name: StaticString) -> Bool {
        let k = SDPAttributeKey.classify(name)
        return lines.contains { $0.matches(k, name) }
    }

    /// Value of the first attribute `name` (empty Substring for a property attribute).
    public func attributeValue(_ name: StaticString) -> Substring? {
        let k = SDPAttributeKey.classify(name)
        for line in lines where line.matches(k, name) {
            return line.attributeValue ?? line.value[line.value.endIndex...]
        }
        return nil
    }

    /// Values of every attribute `name`, in order.
    public func attributeValues(_ name: StaticString) -> [Substring] {
        let k = SDPAttributeKey.classify(name)
        return lines.compactMap { $0.matches(k, name) ? ($0.attributeValue ?? $0.value[$0.value.endIndex...]) : nil }
    }

    /// Removes every attribute `name`; returns how many were removed.
    @discardableResult
    public mutating func removeAttributes(_ name: StaticString) -> Int {
        let k = SDPAttributeKey.classify(name)
        guard lines.contains(where: { $0.matches(k, name) }) else { return 0 }
        let before = lines.count
        lines.removeAll { $0.matches(k, name) }
        return before - lines.count
    }

    /// Appends `a=name[:value]` after the last attribute of this section.
    public mutating func appendAttribute(_ name: String, _ value: String? = nil) {
        let text = value.map { name + ":" + $0 } ?? name
        insertLine(SDPLine(type: ASCII.a, value: Substring(text), ending: preferredEnding))
    }

    /// Sets the first attribute `name` to `value` (removing further ones), or appends it.
    public mutating func setAttribute(_ name: StaticString, _ value: String?) {
        let nameText = name.description
        let text = Substring(value.map { nameText + ":" + $0 } ?? nameText)
        let k = SDPAttributeKey.classify(name)
        if let first = lines.firstIndex(where: { $0.matches(k, name) }) {
            lines[first].value = text
            var i = lines.count - 1
            while i > first {
                if lines[i].matches(k, name) { lines.remove(at: i) }
                i -= 1
            }
        } else {
            insertLine(SDPLine(type: ASCII.a, value: text, ending: preferredEnding))
        }
    }
}
