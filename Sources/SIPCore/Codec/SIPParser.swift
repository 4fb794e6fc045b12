/// Parses one datagram or one framed stream message into a `SIPMessage`.
///
/// Two passes run over the same bytes:
/// 1. our bounded scanner (this file) finds the start line, every header line (long and compact names,
///    folded lines, comma-combined values) and the body, applies `SIPParseLimits`, and checks what the
///    proxy relies on (RFC 3261 §8.1.1 mandatory headers, §8.1.1.5 CSeq, §18.3 Content-Length);
/// 2. libosip2 (`LibOSIP2.validate`) parses the message fully as the syntax check of record.
/// Cheap checks run first so that junk and oversize input never reach the C parser.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public enum SIPParser {
    /// Parses `bytes` (one UDP datagram, or one message cut by `SIPStreamFramer`).
    /// - Parameter validateWithLibOSIP2: run libosip2 as well (default true; false only for callers that
    ///   already validated these exact bytes, and for measuring the scanner alone).
    public static func parse(_ input: [UInt8], limits: SIPParseLimits = .default,
                             validateWithLibOSIP2: Bool = true) throws(SIPParseError) -> SIPMessage {
        let message = try scan(input, limits: limits)
        try checkSemantics(message)
        if validateWithLibOSIP2 {
            let ok = message.bytes.withUnsafeBytes { LibOSIP2.validate($0) }
            if !ok {
                throw SIPParseError(.rejectedByLibOSIP2, disposition: .badRequest,
                                    detail: "libosip2 osip_message_parse rejected the message",
                                    isResponse: !message.isRequest)
            }
        }
        return message
    }

    // MARK: - Scanner

    @inline(__always) static func isWSP(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }

    /// RFC 3261 §25.1 `token` characters: alphanumerics and `-.!%*_+`'~`.
    @inline(__always) static func isToken(_ c: UInt8) -> Bool {
        switch c {
        case 0x61...0x7A, 0x41...0x5A, 0x30...0x39: return true
        case 0x2D, 0x2E, 0x21, 0x25, 0x2A, 0x5F, 0x2B, 0x60, 0x27, 0x7E: return true
        default: return false
        }
    }

    /// The scanner alone: ranges, limits, start line, Content-Length. No libosip2, no header semantics.
    /// - Parameter lenientVersion: accept a request line whose SIP-Version is not SIP/2.0, so that a
    ///   505 (RFC 3261 §21.5.6, RFC 4475 §3.1.2.16) can be built from the head.
    public static func scan(_ input: [UInt8], limits: SIPParseLimits = .default, lenientVersion: Bool = false) throws(SIPParseError) -> SIPMessage {
        let looksLikeResponse = input.count >= 4 && input[0] == 0x53 && input[1] == 0x49 && input[2] == 0x50 && input[3] == 0x2F
        if input.count > limits.maxMessageBytes {
            throw SIPParseError(.messageTooLarge, disposition: .messageTooLarge,
                                detail: "\(input.count) bytes > \(limits.maxMessageBytes)", isResponse: looksLikeResponse)
        }
        // RFC 3261 §7.5: CRLFs before the start line are ignored.
        var skip = 0
        while skip + 1 < input.count, input[skip] == 0x0D, input[skip + 1] == 0x0A { skip += 2 }
        let bytes = skip == 0 ? input : Array(input[skip...])
        let result: Result<SIPMessage, SIPParseError> = bytes.withUnsafeBufferPointer { buf in
            do throws(SIPParseError) { return .success(try scanBuffer(buf, bytes: bytes, limits: limits, lenientVersion: lenientVersion)) }
            catch { return .failure(error) }
        }
        return try result.get()
    }

    private static func scanBuffer(_ p: UnsafeBufferPointer<UInt8>, bytes: [UInt8], limits: SIPParseLimits, lenientVersion: Bool) throws(SIPParseError) -> SIPMessage {
        let n = p.count
        let isResponse = n >= 4 && p[0] == UInt8(ascii: "S") && p[1] == UInt8(ascii: "I") && p[2] == UInt8(ascii: "P") && p[3] == UInt8(ascii: "/")
        let headLimit = min(n, limits.maxHeaderBlockBytes)

        // Start line.
        var i = headLimit
        if let base = p.baseAddress, headLimit > 0, let hit = memchr(base, 0x0A, headLimit) {
            i = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) - base
        }
        guard i < headLimit else {
            if n > limits.maxHeaderBlockBytes {
                throw SIPParseError(.headerBlockTooLarge, disposition: .messageTooLarge, detail: "no start line within \(limits.maxHeaderBlockBytes) bytes", isResponse: isResponse)
            }
            throw SIPParseError(.notSIP, disposition: .drop, detail: "no line end", isResponse: isResponse)
        }
        let startEnd = (i > 0 && p[i - 1] == 0x0D) ? i - 1 : i
        let startLine = try parseStartLine(p, 0, startEnd, isResponse: isResponse, lenientVersion: lenientVersion)
        i += 1

        // Header lines.
        var headers: [SIPHeaderField] = []
        headers.reserveCapacity(24)
        var headerBlockEnd = -1
        while i < headLimit {
            let lineStart = i
            // Empty line: end of the header block.
            if p[i] == 0x0A || (p[i] == 0x0D && i + 1 < n && p[i + 1] == 0x0A) {
                headerBlockEnd = lineStart
                i += p[i] == 0x0A ? 1 : 2
                break
            }
            if isWSP(p[i]) {
                throw SIPParseError(.malformedHeader, disposition: .badRequest, detail: "continuation line without a header", isResponse: isResponse)
            }
            guard let base = p.baseAddress else { break }
            // Line end (first LF), then the continuation lines of a folded value (RFC 3261 §7.3.1).
            guard let hit = memchr(base + i, 0x0A, headLimit - i) else {
                if n > limits.maxHeaderBlockBytes {
                    throw SIPParseError(.headerBlockTooLarge, disposition: .messageTooLarge, detail: "header block over \(limits.maxHeaderBlockBytes) bytes", isResponse: isResponse)
                }
                throw SIPParseError(.malformedHeader, disposition: .badRequest, detail: "header block not terminated by an empty line", isResponse: isResponse)
            }
            let firstLF = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) - base
            var lf = firstLF
            while lf + 1 < n, isWSP(p[lf + 1]) {
                guard lf + 2 < headLimit, let next = memchr(base + lf + 2, 0x0A, headLimit - lf - 2) else {
                    if n > limits.maxHeaderBlockBytes {
                        throw SIPParseError(.headerBlockTooLarge, disposition: .messageTooLarge, detail: "header block over \(limits.maxHeaderBlockBytes) bytes", isResponse: isResponse)
                    }
                    throw SIPParseError(.malformedHeader, disposition: .badRequest, detail: "header block not terminated by an empty line", isResponse: isResponse)
                }
                lf = UnsafePointer(next.assumingMemoryBound(to: UInt8.self)) - base
            }
            let lineEnd = lf + 1
            // Name: the bytes before the first ':' on the first physical line, then optional WSP.
            guard let colonHit = memchr(base + i, 0x3A, firstLF - i) else {
                throw SIPParseError(.malformedHeader, disposition: .badRequest, detail: "header line \(headers.count + 1) has no colon", isResponse: isResponse)
            }
            let colon = UnsafePointer(colonHit.assumingMemoryBound(to: UInt8.self)) - base
            var nameEnd = colon
            while nameEnd > lineStart, isWSP(p[nameEnd - 1]) { nameEnd -= 1 }
            guard nameEnd > lineStart else {
                throw SIPParseError(.malformedHeader, disposition: .badRequest, detail: "header line \(headers.count + 1) has no name", isResponse: isResponse)
            }
            // Known names match letter for letter (so they are tokens); others are checked here.
            let name = SIPHeaderName.classify(p, lineStart, nameEnd)
            if name == .other {
                for q in lineStart..<nameEnd where !isToken(p[q]) {
                    throw SIPParseError(.malformedHeader, disposition: .badRequest, detail: "header name is not a token", isResponse: isResponse)
                }
            }
            let j = colon + 1
            var valueStart = j
            var valueEnd = lineEnd - 1
            while valueStart < valueEnd, isLWSByte(p[valueStart]) { valueStart += 1 }
            while valueEnd > valueStart, isLWSByte(p[valueEnd - 1]) { valueEnd -= 1 }
            guard headers.count < limits.maxHeaderFields else {
                throw SIPParseError(.tooManyHeaders, disposition: .messageTooLarge, detail: "more than \(limits.maxHeaderFields) header fields", isResponse: isResponse)
            }
            headers.append(SIPHeaderField(name: name, lineRange: lineStart..<lineEnd, nameEnd: nameEnd,
                                          valueRange: valueStart..<valueEnd))
            i = lineEnd
        }
        guard headerBlockEnd >= 0 else {
            if n > limits.maxHeaderBlockBytes {
                throw SIPParseError(.headerBlockTooLarge, disposition: .messageTooLarge, detail: "header block over \(limits.maxHeaderBlockBytes) bytes", isResponse: isResponse)
            }
            throw SIPParseError(.malformedHeader, disposition: .badRequest, detail: "header block not terminated by an empty line", isResponse: isResponse)
        }
        let bodyStart = i

        // Content-Length (RFC 3261 §20.14, §18.3): all occurrences must agree.
        var contentLength: Int? = nil
        for h in headers where h.name == .contentLength {
            guard let v = parseDigits(p, h.valueRange, maxDigits: SIPParseLimits.maxContentLengthDigits) else {
                throw SIPParseError(.badContentLength, disposition: .badRequest, detail: "Content-Length is not 1*DIGIT", isResponse: isResponse)
            }
            if let c = contentLength, c != v {
                throw SIPParseError(.badContentLength, disposition: .badRequest, detail: "conflicting Content-Length values", isResponse: isResponse)
            }
            contentLength = v
        }
        let available = n - bodyStart
        let bodyLength: Int
        if let cl = contentLength {
            if cl > limits.maxBodyBytes {
                throw SIPParseError(.bodyTooLarge, disposition: .messageTooLarge, detail: "Content-Length \(cl) > \(limits.maxBodyBytes)", isResponse: isResponse)
            }
            guard cl <= available else {
                throw SIPParseError(.truncatedBody, disposition: .badRequest, detail: "body shorter than Content-Length (\(available) < \(cl))", isResponse: isResponse)
            }
            bodyLength = cl
        } else {
            // UDP without Content-Length: the body is the rest of the datagram (RFC 3261 §18.3).
            if available > limits.maxBodyBytes {
                throw SIPParseError(.bodyTooLarge, disposition: .messageTooLarge, detail: "body \(available) > \(limits.maxBodyBytes)", isResponse: isResponse)
            }
            bodyLength = available
        }
        let end = bodyStart + bodyLength
        let kept = end == n ? bytes : Array(bytes[0..<end])
        return SIPMessage(bytes: kept, startLine: startLine, startLineRange: 0..<startEnd, headers: headers,
                          headerBlockEnd: headerBlockEnd, bodyRange: bodyStart..<end)
    }

    /// RFC 3261 §7.1 Request-Line / §7.2 Status-Line, single SP separators (RFC 4475 §3.1.2.9, §3.1.2.10).
    private static func parseStartLine(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int, isResponse: Bool, lenientVersion: Bool) throws(SIPParseError) -> SIPStartLine {
        var sp1 = s
        while sp1 < e, p[sp1] != 0x20 { sp1 += 1 }
        var sp2 = e
        if sp1 + 1 < e, let base = p.baseAddress, let hit = memchr(base + sp1 + 1, 0x20, e - sp1 - 1) {
            sp2 = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) - base
        }
        if isResponse {
            // SIP/2.0 SP 3DIGIT SP Reason-Phrase
            guard sp1 < e, sp1 - s == 7, isVersion20(p, s) else {
                throw SIPParseError(.unsupportedVersion, disposition: .drop, detail: "response version is not SIP/2.0", isResponse: true)
            }
            guard sp2 - sp1 == 4, let status = parseDigits(p, (sp1 + 1)..<sp2, maxDigits: 3), (100...699).contains(status) else {
                throw SIPParseError(.malformedStartLine, disposition: .drop, detail: "status code is not 3DIGIT in 100...699 (RFC 3261 §7.2, §21)", isResponse: true)
            }
            let reasonStart = min(sp2 + 1, e)
            return .response(status: status, reason: reasonStart..<e)
        }
        // Method SP Request-URI SP SIP-Version
        guard sp1 > s, sp2 < e, sp2 > sp1 + 1 else {
            guard containsSIP(p, s, e) else { throw SIPParseError(.notSIP, disposition: .drop, detail: "start line is not SIP") }
            throw SIPParseError(.malformedStartLine, disposition: .badRequest, detail: "request line needs Method SP Request-URI SP SIP-Version")
        }
        for k in s..<sp1 where !isToken(p[k]) {
            guard containsSIP(p, s, e) else { throw SIPParseError(.notSIP, disposition: .drop, detail: "start line is not SIP") }
            throw SIPParseError(.malformedStartLine, disposition: .badRequest, detail: "method is not a token")
        }
        let versionStart = sp2 + 1
        // Anything but exactly "SIP/x.y" at the end (extra SP, trailing SP, LWS in the URI) is malformed.
        var k = versionStart
        while k < e, p[k] != 0x20 { k += 1 }
        guard k == e, e - versionStart >= 5, p[versionStart] == UInt8(ascii: "S"), p[versionStart + 1] == UInt8(ascii: "I"),
              p[versionStart + 2] == UInt8(ascii: "P"), p[versionStart + 3] == UInt8(ascii: "/") else {
            guard containsSIP(p, s, e) else { throw SIPParseError(.notSIP, disposition: .drop, detail: "start line is not SIP") }
            throw SIPParseError(.malformedStartLine, disposition: .badRequest, detail: "request line has extra SP or no SIP-Version")
        }
        guard lenientVersion || (e - versionStart == 7 && isVersion20(p, versionStart)) else {
            throw SIPParseError(.unsupportedVersion, disposition: .versionNotSupported, detail: "SIP-Version is not SIP/2.0")
        }
        let method = SIPPlainScan.commonString(p, s..<sp1)
        return .request(method: method, uri: (sp1 + 1)..<sp2)
    }

    @inline(__always) private static func isVersion20(_ p: UnsafeBufferPointer<UInt8>, _ s: Int) -> Bool {
        p[s] == UInt8(ascii: "S") && p[s + 1] == UInt8(ascii: "I") && p[s + 2] == UInt8(ascii: "P") && p[s + 3] == UInt8(ascii: "/")
            && p[s + 4] == UInt8(ascii: "2") && p[s + 5] == UInt8(ascii: ".") && p[s + 6] == UInt8(ascii: "0")
    }

    private static func containsSIP(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        var k = s
        while k + 3 < e {
            if p[k] | 0x20 == UInt8(ascii: "s"), p[k + 1] | 0x20 == UInt8(ascii: "i"), p[k + 2] | 0x20 == UInt8(ascii: "p"), p[k + 3] == UInt8(ascii: "/") { return true }
            k += 1
        }
        return false
    }

    /// `1*DIGIT` with at most `maxDigits` digits (no overflow possible).
    @inline(__always) static func parseDigits(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, maxDigits: Int) -> Int? {
        guard !r.isEmpty, r.count <= maxDigits else { return nil }
        var v = 0
        for k in r {
            let d = p[k] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            v = v * 10 + Int(d)
        }
        return v
    }

    // MARK: - Semantic checks the proxy relies on

    /// RFC 3261 §8.1.1 (mandatory headers), §8.1.1.5 (CSeq below 2**31, method matches the request).
    static func checkSemantics(_ m: SIPMessage) throws(SIPParseError) {
        let response = !m.isRequest
        // One pass: which names are present, and how often the single-valued ones occur.
        var seen: UInt64 = 0
        var repeated = false
        for h in m.headers {
            let bit: UInt64 = 1 << UInt64(h.name.rawValue)
            switch h.name {
            case .from, .to, .callID, .cseq: if seen & bit != 0 { repeated = true }
            default: break
            }
            seen |= bit
        }
        let mask: UInt64 = (1 << UInt64(SIPHeaderName.via.rawValue)) | (1 << UInt64(SIPHeaderName.from.rawValue))
            | (1 << UInt64(SIPHeaderName.to.rawValue)) | (1 << UInt64(SIPHeaderName.callID.rawValue)) | (1 << UInt64(SIPHeaderName.cseq.rawValue))
        if seen & mask != mask {
            for required in [SIPHeaderName.via, .from, .to, .callID, .cseq] where seen & (1 << UInt64(required.rawValue)) == 0 {
                throw SIPParseError(.missingHeader, disposition: .badRequest, detail: "missing \(required.canonical)", isResponse: response)
            }
        }
        guard let method = m.cseqMethodRange else {
            throw SIPParseError(.badCSeq, disposition: .badRequest, detail: "CSeq is not `1*DIGIT LWS Method` below 2**31", isResponse: response)
        }
        if case .request(let requestMethod, _) = m.startLine {
            // Byte comparison with the request line's method (it starts the message).
            let n = requestMethod.utf8.count
            let same = method.count == n && m.bytes.withUnsafeBufferPointer { p in
                var k = 0
                while k < n, p[method.lowerBound + k] == p[k] { k += 1 }
                return k == n
            }
            if !same {
                throw SIPParseError(.cseqMethodMismatch, disposition: .badRequest,
                                    detail: "CSeq method \(m.text(method)) != \(requestMethod)")
            }
        }
        // RFC 3261 §7.3.1 / RFC 4475 §3.3.8: From, To, Call-ID and CSeq are single-valued.
        if repeated {
            throw SIPParseError(.malformedHeader, disposition: .badRequest, detail: "From/To/Call-ID/CSeq repeated", isResponse: response)
        }
    }
}
