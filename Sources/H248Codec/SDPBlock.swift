// Local / Remote descriptor contents (H.248.1 §7.1.8: SDP, RFC 4566, with the H.248 extensions
// `$` = "MG chooses" and `-` = "not specified" as values; several `v=` groups = alternatives).

/// The SDP text of a Local or Remote descriptor, kept verbatim line by line so it re-encodes exactly.
/// Line endings are normalised (CRLF, CR or LF in; the encoder writes CRLF), surrounding blank lines and each line's
/// leading/trailing blanks are dropped (SDP lines never start with blanks, RFC 4566 §5).
public struct SDPBlock: Sendable, Equatable, Codable {
    /// The SDP lines without line terminators, e.g. `["v=0", "c=IN IP4 $", ...]`.
    public var lines: [String]

    public init(lines: [String]) {
        self.lines = lines
    }

    /// Normalises `text` (any line endings, indentation, blank lines) into lines.
    public init(text: String) {
        var out: [String] = []
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            let t = raw.drop(while: { $0 == " " || $0 == "\t" })
            var end = t.endIndex
            while end > t.startIndex {
                let p = t.index(before: end)
                if t[p] == " " || t[p] == "\t" { end = p } else { break }
            }
            if end > t.startIndex { out.append(String(t[t.startIndex..<end])) }
        }
        self.lines = out
    }

    /// The SDP text with LF line ends (for display).
    public var text: String {
        lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    /// The SDP text with CRLF line ends (RFC 4566 §5), for SDP parsers.
    public var crlfText: String {
        lines.isEmpty ? "" : lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Hook for a typed SDP parse (e.g. SDPCore's wildcard-tolerant parser) of the CRLF text.
    public func parsed<T, E: Error>(with parser: (String) throws(E) -> T) throws(E) -> T {
        try parser(crlfText)
    }

    /// Splits alternative session descriptions (H.248.1 §7.1.8: repeated `v=` groups).
    public var alternatives: [SDPBlock] {
        var groups: [[String]] = []
        for l in lines {
            if l.hasPrefix("v=") || groups.isEmpty { groups.append([l]) } else { groups[groups.count - 1].append(l) }
        }
        return groups.map { SDPBlock(lines: $0) }
    }
}

import SDPCore

extension SDPBlock {
    /// Typed parse through SDPCore in H.248 mode (`$` / `-` wildcards allowed, H.248.1 §7.1.8),
    /// one `SessionDescription` per alternative group. The raw lines stay the source of truth for
    /// re-encoding, so a message with SDP SDPCore cannot type still decodes and re-encodes exactly.
    public func sessionDescriptions() throws(SDPError) -> [SessionDescription] {
        var out: [SessionDescription] = []
        for alt in alternatives {
            out.append(try SessionDescription(parsing: alt.crlfText, options: .h248))
        }
        return out
    }

    /// The first (usually only) session description, typed.
    public func sessionDescription() throws(SDPError) -> SessionDescription? {
        try sessionDescriptions().first
    }

    /// Builds a Local/Remote block from typed SDP (serialised by SDPCore, then normalised).
    public init(_ sdp: SessionDescription) {
        self.init(text: sdp.serialized())
    }

    /// Builds a block holding several alternatives (H.248.1 §7.1.8: the MG picks one).
    public init(alternatives: [SessionDescription]) {
        self.init(lines: alternatives.flatMap { SDPBlock($0).lines })
    }
}
