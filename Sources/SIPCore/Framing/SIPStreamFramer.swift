/// Cuts SIP messages out of a TCP/TLS byte stream (RFC 3261 §18.3: the header block ends at the first
/// empty line and Content-Length, mandatory on streams, gives the body size). Pure: no NIO, no I/O.
///
/// Also recognises RFC 5626 §3.5.1 keep-alives between messages: a double CRLF "ping" yields `.ping`
/// (the transport answers with a single CRLF "pong"), a single CRLF yields `.pong`. A lone CRLF at the
/// end of the buffered bytes waits for the next byte, since it may be the first half of a ping.
public struct SIPStreamFramer: Sendable {
    /// One unit cut from the stream.
    public enum Frame: Sendable, Equatable {
        /// One complete message (head + Content-Length body bytes), ready for `SIPParser.parse`.
        case message([UInt8])
        /// RFC 5626 §3.5.1 ping (CRLFCRLF): answer with `SIPStreamFramer.pong`.
        case ping
        /// RFC 5626 §3.5.1 pong (a single CRLF).
        case pong
    }

    /// The bytes a server sends to answer a ping (RFC 5626 §3.5.1).
    public static let pong: [UInt8] = [0x0D, 0x0A]

    public let limits: SIPParseLimits
    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// Where the search for CRLFCRLF resumes (so drip-fed input is scanned once).
    private var scanIndex = 0
    /// Set after an unrecoverable framing error: the connection must be closed.
    public private(set) var failed = false

    public init(limits: SIPParseLimits = .default) { self.limits = limits }

    /// Bytes buffered but not yet returned.
    public var bufferedCount: Int { buffer.count - readIndex }

    /// Adds bytes read from the connection. The buffer never holds more than one message bound plus
    /// what one read delivers: `next()` fails as soon as a message exceeds its bounds.
    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if readIndex > 0 && readIndex * 2 >= buffer.count {
            buffer.removeSubrange(0..<readIndex)
            scanIndex -= readIndex
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Returns the next frame, nil when more bytes are needed. A thrown error is fatal for the
    /// connection (the stream cannot be re-synchronised); its disposition says what to answer first.
    public mutating func next() throws(SIPParseError) -> Frame? {
        guard !failed else { throw SIPParseError(.malformedHeader, disposition: .drop, detail: "framer already failed") }
        let n = buffer.count
        var i = readIndex
        // Keep-alives between messages.
        if i < n, buffer[i] == 0x0D {
            guard i + 1 < n else { return nil }
            if buffer[i + 1] == 0x0A {
                guard i + 2 < n else { return nil }            // CRLF alone so far: ping or pong?
                if buffer[i + 2] == 0x0D {
                    guard i + 3 < n else { return nil }
                    if buffer[i + 3] == 0x0A { consume(to: i + 4); return .ping }
                }
                consume(to: i + 2)
                return .pong
            }
        }
        // Header block: find CRLFCRLF from scanIndex.
        i = max(scanIndex, readIndex)
        var headerEnd = -1
        let limit = min(n, readIndex + limits.maxHeaderBlockBytes)
        while i + 3 < limit {
            if buffer[i] == 0x0D, buffer[i + 1] == 0x0A, buffer[i + 2] == 0x0D, buffer[i + 3] == 0x0A { headerEnd = i + 4; break }
            i += 1
        }
        if headerEnd < 0 {
            scanIndex = max(readIndex, i)
            if n - readIndex >= limits.maxHeaderBlockBytes {
                return try fail(.headerBlockTooLarge, .messageTooLarge, "no end of header block within \(limits.maxHeaderBlockBytes) bytes")
            }
            return nil
        }
        // Content-Length (long or compact `l`), all occurrences agreeing.
        let contentLength = try readContentLength(from: readIndex, to: headerEnd)
        guard let contentLength else {
            return try fail(.badContentLength, .badRequest, "stream message without Content-Length (RFC 3261 §18.3)")
        }
        guard contentLength <= limits.maxBodyBytes, headerEnd - readIndex + contentLength <= limits.maxMessageBytes else {
            return try fail(.bodyTooLarge, .messageTooLarge, "Content-Length \(contentLength) over the bound")
        }
        let end = headerEnd + contentLength
        guard end <= n else { scanIndex = headerEnd - 4; return nil }
        let message = Array(buffer[readIndex..<end])
        consume(to: end)
        return .message(message)
    }

    private mutating func consume(to index: Int) {
        readIndex = index
        scanIndex = index
        if readIndex == buffer.count { buffer.removeAll(keepingCapacity: true); readIndex = 0; scanIndex = 0 }
    }

    private mutating func fail(_ code: SIPParseError.Code, _ disposition: SIPErrorDisposition, _ detail: String) throws(SIPParseError) -> Frame? {
        failed = true
        let isResponse = buffer[readIndex...].starts(with: "SIP/".utf8)
        throw SIPParseError(code, disposition: disposition, detail: detail, isResponse: isResponse)
    }

    /// Scans the header lines in `[start, end)` for Content-Length / `l` (folded values not supported
    /// for this header: a fold makes the value non-numeric and fails).
    private mutating func readContentLength(from start: Int, to end: Int) throws(SIPParseError) -> Int? {
        var result: Int? = nil
        var lineStart = start
        var i = start
        while i < end {
            if buffer[i] == 0x0A {
                if let v = try contentLength(line: lineStart, end: i) {
                    if let r = result, r != v { _ = try fail(.badContentLength, .badRequest, "conflicting Content-Length values") }
                    result = v
                }
                lineStart = i + 1
            }
            i += 1
        }
        return result
    }

    private mutating func contentLength(line s: Int, end e: Int) throws(SIPParseError) -> Int? {
        var k = s
        while k < e, SIPParser.isToken(buffer[k]) { k += 1 }
        let nameLen = k - s
        let isCL: Bool
        if nameLen == 1 { isCL = buffer[s] | 0x20 == UInt8(ascii: "l") }
        else if nameLen == 14 {
            isCL = zip(buffer[s..<k], "content-length".utf8).allSatisfy { $0 | 0x20 == $1 }
        } else { isCL = false }
        guard isCL else { return nil }
        while k < e, SIPParser.isWSP(buffer[k]) { k += 1 }
        guard k < e, buffer[k] == UInt8(ascii: ":") else { return nil }
        k += 1
        var last = e
        if last > k, buffer[last - 1] == 0x0D { last -= 1 }
        while k < last, SIPParser.isWSP(buffer[k]) { k += 1 }
        while last > k, SIPParser.isWSP(buffer[last - 1]) { last -= 1 }
        let v: Int? = buffer.withUnsafeBufferPointer { SIPParser.parseDigits($0, k..<last, maxDigits: SIPParseLimits.maxContentLengthDigits) }
        guard let v else { _ = try fail(.badContentLength, .badRequest, "Content-Length is not 1*DIGIT"); return nil }
        return v
    }
}
