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
    public var lines: [SDPLine]
    /// Media descriptions in input order (their index is the RFC 3264 stream index).
    public var media: [MediaDescription]

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
        self.lines = lines
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
        let utf8 = text.utf8
        guard utf8.count <= SDPLimits.maxBytes else {
            throw SDPError(.inputTooLarge, detail: "\(utf8.count) bytes > \(SDPLimits.maxBytes)")
        }
        guard !utf8.isEmpty else { throw SDPError(.emptyInput) }

        var session: [SDPLine] = []
        session.reserveCapacity(12)
        var media: [MediaDescription] = []
        var current: [SDPLine] = []
        var inMedia = false
        var lineNumber = 0
        var sawBlank = false
        var seenO = false, seenS = false, seenT = false
        let wild = options.allowH248Wildcards

        var idx = utf8.startIndex
        let end = utf8.endIndex
        while idx < end {
            lineNumber += 1
            guard lineNumber <= SDPLimits.maxLines else {
                throw SDPError(.tooManyLines, line: lineNumber, detail: "> \(SDPLimits.maxLines) lines")
            }
            let lineStart = idx
            var length = 0
            var ending = SDPLineEnding.none
            var contentEnd = idx
            while idx < end {
                let b = utf8[idx]
                if b == ASCII.lf {
                    ending = .lf
                    contentEnd = idx
                    idx = utf8.index(after: idx)
                    break
                }
                if b == ASCII.cr {
                    let next = utf8.index(after: idx)
                    guard next < end, utf8[next] == ASCII.lf else {
                        throw SDPError(.malformedLine, line: lineNumber, detail: "bare CR")
                    }
                    ending = .crlf
                    contentEnd = idx
                    idx = utf8.index(after: next)
                    break
                }
                if b == 0 { throw SDPError(.malformedLine, line: lineNumber, detail: "NUL byte") }
                length += 1
                guard length <= SDPLimits.maxLineLength else {
                    throw SDPError(.lineTooLong, line: lineNumber, detail: "> \(SDPLimits.maxLineLength) bytes")
                }
                idx = utf8.index(after: idx)
                contentEnd = idx
            }

            if length == 0 {
                // Blank lines are not SDP (RFC 8866 §5) but trail many real bodies: keep them at the end only.
                sawBlank = true
                let blank = SDPLine(type: 0, value: text[lineStart..<lineStart], ending: ending)
                if inMedia { current.append(blank) } else { session.append(blank) }
                continue
            }
            guard !sawBlank else { throw SDPError(.malformedLine, line: lineNumber, detail: "line after a blank line") }
            guard length >= 2 else { throw SDPError(.malformedLine, line: lineNumber, detail: "expected <type>=") }
            let type = utf8[lineStart]
            let second = utf8[utf8.index(after: lineStart)]
            guard type >= UInt8(ascii: "a"), type <= UInt8(ascii: "z"), second == ASCII.equals else {
                throw SDPError(.malformedLine, line: lineNumber, detail: "expected <type>= with a lower-case letter")
            }
            let value = text[utf8.index(lineStart, offsetBy: 2)..<contentEnd]
            let line = SDPLine(type: type, value: value, ending: ending)

            if lineNumber == 1, options.requireVersionLine, type != ASCII.v {
                throw SDPError(.missingVersion, line: 1, detail: "first line must be v=")
            }
            switch type {
            case ASCII.v:
                guard !inMedia else { throw SDPError(.malformedLine, line: lineNumber, detail: "v= inside media") }
                guard SDPText.equalsIgnoringCase(value, "0") else {
                    throw SDPError(.unsupportedVersion, line: lineNumber, detail: "v=\(value)")
                }
            case ASCII.o:
                _ = try Origin(parsing: value, allowWildcards: wild, line: lineNumber)
                seenO = true
            case ASCII.s:
                seenS = true
            case ASCII.t:
                seenT = true
            case ASCII.c:
                _ = try ConnectionData(parsing: value, allowWildcards: wild, line: lineNumber)
            case ASCII.b:
                _ = try Bandwidth(parsing: value, line: lineNumber)
            case ASCII.a:
                try SessionDescription.checkAttribute(value, line: lineNumber)
            case ASCII.m:
                _ = try MediaLine(parsing: value, allowWildcards: wild, line: lineNumber)
                if inMedia {
                    media.append(MediaDescription(lines: current))
                } else {
                    inMedia = true
                }
                guard media.count < SDPLimits.maxMediaDescriptions else {
                    throw SDPError(.tooManyMediaDescriptions, line: lineNumber, detail: "> \(SDPLimits.maxMediaDescriptions)")
                }
                current = [line]
                current.reserveCapacity(16)
                continue
            default:
                break   // other and unknown types are kept as-is
            }
            if inMedia { current.append(line) } else { session.append(line) }
        }
        if inMedia { media.append(MediaDescription(lines: current)) }

        if options.requireMandatoryLines {
            guard seenO else { throw SDPError(.missingMandatoryLine, detail: "o= missing (RFC 8866 §5.2)") }
            guard seenS else { throw SDPError(.missingMandatoryLine, detail: "s= missing (RFC 8866 §5.3)") }
            guard seenT else { throw SDPError(.missingMandatoryLine, detail: "t= missing (RFC 8866 §5.9)") }
        }
        if session.allSatisfy({ $0.type == 0 }) && media.isEmpty {
            throw SDPError(.emptyInput)
        }
        self.lines = session
        self.media = media
    }

    /// RFC 8866 §5.13: attribute = att-field [":" att-value]; att-field is a token.
    static func checkAttribute(_ value: Substring, line: Int) throws(SDPError) {
        var count = 0
        for b in value.utf8 {
            if b == ASCII.colon { break }
            guard SDPText.isTokenChar(b) else {
                throw SDPError(.malformedAttribute, line: line, detail: "attribute name")
            }
            count += 1
        }
        guard count > 0 else { throw SDPError(.malformedAttribute, line: line, detail: "empty attribute name") }
    }

    /// The SDP text. Unchanged descriptions reproduce their input exactly.
    public func serialized() -> String {
        var size = 0
        for l in lines { size += l.value.utf8.count + 4 }
        for m in media { for l in m.lines { size += l.value.utf8.count + 4 } }
        var out = String()
        out.reserveCapacity(size)
        var fallback = preferredEnding
        if fallback == .none {
            for m in media where m.preferredEnding != .none { fallback = m.preferredEnding; break }
        }
        if fallback == .none { fallback = .crlf }
        let lastMedia = media.count - 1
        SessionDescription.append(lines, to: &out, fallback: fallback, isLastSection: media.isEmpty)
        for (k, m) in media.enumerated() {
            SessionDescription.append(m.lines, to: &out, fallback: fallback, isLastSection: k == lastMedia)
        }
        return out
    }

    private static func append(_ lines: [SDPLine], to out: inout String, fallback: SDPLineEnding, isLastSection: Bool) {
        let last = lines.count - 1
        for (k, line) in lines.enumerated() {
            if line.type != 0 {
                out.unicodeScalars.append(Unicode.Scalar(line.type))
                out.append("=")
                out.append(contentsOf: line.value)
            }
            var ending = line.ending
            if ending == .none, !(isLastSection && k == last) { ending = fallback }
            switch ending {
            case .crlf: out.append("\r\n")
            case .lf: out.append("\n")
            case .none: break
            }
        }
    }

    // MARK: typed session-level fields

    /// o= (RFC 8866 §5.2).
    public var origin: Origin? {
        get {
            guard let i = firstIndex(ofType: ASCII.o) else { return nil }
            return try? Origin(parsing: lines[i].value, allowWildcards: true)
        }
        set {
            guard let newValue else { lines.removeAll { $0.type == ASCII.o }; return }
            if let i = firstIndex(ofType: ASCII.o) {
                lines[i].value = Substring(newValue.value)
            } else {
                insertLine(SDPLine(type: ASCII.o, value: Substring(newValue.value), ending: preferredEnding))
            }
        }
    }

    /// The effective c= address of media `index`: its own c= else the session-level one (RFC 8866 §5.7).
    public func effectiveConnectionAddress(ofMedia index: Int) -> Substring? {
        guard media.indices.contains(index) else { return nil }
        return media[index].connectionAddress ?? connectionAddress
    }
}
