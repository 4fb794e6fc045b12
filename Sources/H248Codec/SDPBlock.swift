// Local / Remote descriptor contents (H.248.1 §7.1.8: SDP, RFC 4566, with the H.248 extensions
// `$` = "MG chooses" and `-` = "not specified" as values; several `v=` groups = alternatives).

/// The SDP text of a Local or Remote descriptor, kept verbatim line by line so it re-encodes exactly.
/// Line endings are normalised (CRLF, CR or LF in; the encoder writes CRLF), surrounding blank lines and each line's
/// leading/trailing blanks are dropped (SDP lines never start with blanks, RFC 4566 §5).
public struct SDPBlock: Sendable, Equatable, Codable {
    /// The normalised SDP: each line terminated by LF, no blank lines (one allocation per block).
    public private(set) var text: String

    /// The SDP lines without line terminators, e.g. `["v=0", "c=IN IP4 $", ...]`.
    public var lines: [String] {
        get { text.split(separator: "\n").map(String.init) }
        set { self = SDPBlock(lines: newValue) }
    }

    public init(lines: [String]) {
        self.init(text: lines.joined(separator: "\n"))
    }

    /// Normalises `text` (any line endings, indentation, blank lines).
    public init(text: String) {
        var t = text
        self.text = t.withUTF8 { SDPBlock.normalize($0, unescapeBraces: false) }
    }

    /// Wraps text already in normal form.
    init(normalized: String) {
        self.text = normalized
    }

    /// Line splitting (CR, LF, CRLF), blank trimming, empty-line removal and optional `\}` unescaping
    /// (RFC 3525 B.2 octetString) in one pass over the bytes.
    static func normalize(_ buf: UnsafeBufferPointer<UInt8>, unescapeBraces: Bool) -> String {
        var out = [UInt8]()
        out.reserveCapacity(buf.count + 1)
        var k = 0
        let n = buf.count
        while k < n {
            while k < n && (buf[k] == 32 || buf[k] == 9 || buf[k] == 10 || buf[k] == 13) { k += 1 }
            let s = k
            while k < n && buf[k] != 10 && buf[k] != 13 { k += 1 }
            var e = k
            while e > s && (buf[e - 1] == 32 || buf[e - 1] == 9) { e -= 1 }
            guard e > s else { continue }
            var j = s
            while j < e {
                if unescapeBraces && buf[j] == UInt8(ascii: "\\") && j + 1 < e && buf[j + 1] == UInt8(ascii: "}") { j += 1 }
                out.append(buf[j])
                j += 1
            }
            out.append(10)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The SDP text with CRLF line ends (RFC 4566 §5), for SDP parsers.
    public var crlfText: String {
        let l = lines
        return l.isEmpty ? "" : l.joined(separator: "\r\n") + "\r\n"
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
