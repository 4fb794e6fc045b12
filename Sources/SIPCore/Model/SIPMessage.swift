/// One SIP message as received: the raw bytes plus the byte range of the start line, of every header
/// line and of the body. Typed views (`SIPMessage+Views.swift`) are computed on demand from those
/// ranges, so parsing costs one pass over the head. Forwarding splices these bytes
/// (`SIPSplice`); the message itself is never re-serialised (Docs/sipcore.md).
public struct SIPMessage: Sendable {
    /// The bytes of this message, starting at its start line (leading CRLFs removed, RFC 3261 §7.5)
    /// and ending at the end of the body (bytes after Content-Length dropped, RFC 3261 §18.3).
    public let bytes: [UInt8]
    /// Request line or status line, decoded.
    public let startLine: SIPStartLine
    /// Byte range of the start line, without its CRLF.
    public let startLineRange: Range<Int>
    /// Every header field line in received order (a folded field is one entry).
    public let headers: [SIPHeaderField]
    /// Offset of the empty line that ends the header block (new headers are inserted here).
    public let headerBlockEnd: Int
    /// Byte range of the body (empty when there is none).
    public let bodyRange: Range<Int>

    package init(bytes: [UInt8], startLine: SIPStartLine, startLineRange: Range<Int>, headers: [SIPHeaderField],
                 headerBlockEnd: Int, bodyRange: Range<Int>) {
        self.bytes = bytes
        self.startLine = startLine
        self.startLineRange = startLineRange
        self.headers = headers
        self.headerBlockEnd = headerBlockEnd
        self.bodyRange = bodyRange
    }

    /// True for requests.
    public var isRequest: Bool { if case .request = startLine { return true } else { return false } }
    /// The body bytes.
    public var body: ArraySlice<UInt8> { bytes[bodyRange] }
}

/// The decoded start line (RFC 3261 §7.1, §7.2).
public enum SIPStartLine: Sendable, Equatable {
    /// `Method SP Request-URI SP SIP-Version`; `uri` is the byte range of the Request-URI.
    case request(method: String, uri: Range<Int>)
    /// `SIP-Version SP Status-Code SP Reason-Phrase`; `reason` is the byte range of the phrase.
    case response(status: Int, reason: Range<Int>)
}

/// One header field line. Ranges index `SIPMessage.bytes`. Offsets are stored as UInt32 (messages are
/// bounded by `SIPParseLimits.maxMessageBytes`), so the header table of a typical message stays small.
public struct SIPHeaderField: Sendable, Equatable {
    /// Classified name (`.other` for names the proxy does not model).
    public let name: SIPHeaderName
    private let lineStart: UInt32, lineEnd: UInt32, nameEnd: UInt32, valueStart: UInt32, valueEnd: UInt32

    package init(name: SIPHeaderName, lineRange: Range<Int>, nameEnd: Int, valueRange: Range<Int>) {
        self.name = name
        lineStart = UInt32(truncatingIfNeeded: lineRange.lowerBound)
        lineEnd = UInt32(truncatingIfNeeded: lineRange.upperBound)
        self.nameEnd = UInt32(truncatingIfNeeded: nameEnd)
        valueStart = UInt32(truncatingIfNeeded: valueRange.lowerBound)
        valueEnd = UInt32(truncatingIfNeeded: valueRange.upperBound)
    }

    /// Whole line including folded continuation lines and the final CRLF.
    @inlinable public var lineRange: Range<Int> { Int(lineStartOffset)..<Int(lineEndOffset) }
    /// The name as written (long or compact, any case).
    @inlinable public var nameRange: Range<Int> { Int(lineStartOffset)..<Int(nameEndOffset) }
    /// The value: from the first non-LWS byte after the colon to the last non-LWS byte before the CRLF.
    /// It may contain folds (CRLF followed by SP/HT) and commas joining several values.
    @inlinable public var valueRange: Range<Int> { Int(valueStartOffset)..<Int(valueEndOffset) }

    @usableFromInline var lineStartOffset: UInt32 { lineStart }
    @usableFromInline var lineEndOffset: UInt32 { lineEnd }
    @usableFromInline var nameEndOffset: UInt32 { nameEnd }
    @usableFromInline var valueStartOffset: UInt32 { valueStart }
    @usableFromInline var valueEndOffset: UInt32 { valueEnd }
}
