import SIPCore

/// Stamps the top Via of a received request (RFC 3261 §18.2.1 `received`, RFC 3581 §4 `rport`).
/// Pure: the source address is a parameter. Byte-preserving: only the top Via element is rewritten and
/// only its `received`/`rport` parameters change; every other byte is copied.
public enum SIPViaStamp {
    /// Returns the stamped bytes, or nil when nothing changes (no Via, or sent-by equals the source IP
    /// and no `rport` was asked for).
    ///
    /// - RFC 3261 §18.2.1: add `received=<source IP>` when the sent-by host differs from the source IP.
    /// - RFC 3581 §4: when `rport` is present (with or without value), set it to the source port and add
    ///   `received` even when the host matches.
    public static func stamp(_ message: SIPMessage, sourceIP: String, sourcePort: Int) -> [UInt8]? {
        stampWithRange(message, sourceIP: sourceIP, sourcePort: sourcePort)?.bytes
    }

    /// The stamped request as a message: the header table is the received one with the offsets after the
    /// rewritten Via element moved by the number of bytes inserted (no second scan of the message). nil when
    /// nothing changes (see `stamp`) or when the stamped message no longer fits `limits` (the caller keeps
    /// the received message, as it did when the rescan of the stamped bytes failed).
    ///
    /// - Parameter topVia: `message.topVia` when the caller has parsed it already (not parsed again); nil
    ///   parses it.
    public static func stampedMessage(_ message: SIPMessage, sourceIP: String, sourcePort: Int,
                                      limits: SIPParseLimits, topVia: SIPVia? = nil) -> SIPMessage? {
        guard let (bytes, replaced) = stampWithRange(message, sourceIP: sourceIP, sourcePort: sourcePort, topVia: topVia) else { return nil }
        let delta = bytes.count - message.bytes.count
        let headerBlockEnd = shift(message.headerBlockEnd, replaced, delta)
        // The scanner's bounds: the whole message, and the header block (its empty line must start before
        // maxHeaderBlockBytes). Anything else the scanner checks is outside the rewritten Via element.
        guard bytes.count <= limits.maxMessageBytes, headerBlockEnd < limits.maxHeaderBlockBytes else {
            return try? SIPParser.scan(bytes, limits: limits)
        }
        var headers: [SIPHeaderField] = []
        headers.reserveCapacity(message.headers.count)
        for h in message.headers {
            let line = h.lineRange, value = h.valueRange
            headers.append(SIPHeaderField(
                name: h.name,
                lineRange: shift(line.lowerBound, replaced, delta)..<shift(line.upperBound, replaced, delta),
                nameEnd: shift(h.nameRange.upperBound, replaced, delta),
                valueRange: shift(value.lowerBound, replaced, delta)..<shift(value.upperBound, replaced, delta)))
        }
        let body = message.bodyRange
        return SIPMessage(bytes: bytes, startLine: message.startLine, startLineRange: message.startLineRange, headers: headers,
                          headerBlockEnd: headerBlockEnd,
                          bodyRange: shift(body.lowerBound, replaced, delta)..<shift(body.upperBound, replaced, delta))
    }

    /// An offset of the received message in the stamped one: offsets from the end of the rewritten element
    /// on move by `delta`; those before it (start line, earlier headers, the element's start) stay.
    @inline(__always) private static func shift(_ offset: Int, _ replaced: Range<Int>, _ delta: Int) -> Int {
        offset >= replaced.upperBound ? offset + delta : offset
    }

    /// The stamped bytes and the range of the received bytes that was rewritten (the top Via element).
    static func stampWithRange(_ message: SIPMessage, sourceIP: String, sourcePort: Int,
                               topVia: SIPVia? = nil) -> (bytes: [UInt8], replaced: Range<Int>)? {
        guard message.isRequest, let range = message.topViaRange else { return nil }
        // The Via is read in place (given, or parsed here), not copied.
        func needsReceived(_ via: SIPVia) -> Bool {
            if via.rport != .absent { return true }
            if let differs = asciiHostDiffers(via.host, sourceIP) { return differs }
            let host = via.host.hasPrefix("[") && via.host.hasSuffix("]") ? String(via.host.dropFirst().dropLast()) : via.host
            return host.foldedASCIICase(upper: false) != sourceIP.foldedASCIICase(upper: false)
        }
        guard let needReceived = topVia.map(needsReceived) ?? message.topVia.map(needsReceived), needReceived else { return nil }

        // Split the element at ';' (Via params hold no quoted strings that could contain ';' in
        // practice; IPv6 references contain ':' only), byte by byte.
        let b = message.bytes
        var out: [UInt8] = []
        out.reserveCapacity(b.count + 48)
        out.append(contentsOf: b[..<range.lowerBound])
        var wroteReceived = false
        var segStart = range.lowerBound
        var first = true
        while true {
            // The segment runs to the next ';' or the end of the element (found on the buffer, no Array
            // subscript per byte).
            let segEnd = b.withUnsafeBufferPointer { p in
                var i = segStart
                while i < range.upperBound, p[i] != 0x3B { i += 1 }
                return i
            }
            let seg = b[segStart..<segEnd]
            if first {
                out.append(contentsOf: seg)
                first = false
            } else {
                out.append(0x3B)
                switch paramName(seg) {
                case .rport:
                    out.append(contentsOf: leadingSpace(seg))
                    out.append(contentsOf: "rport=".utf8)
                    if sourcePort >= 0 { appendDecimal(sourcePort, to: &out) } else { out.append(contentsOf: String(sourcePort).utf8) }
                case .received:
                    out.append(contentsOf: leadingSpace(seg))
                    out.append(contentsOf: "received=".utf8)
                    out.append(contentsOf: sourceIP.utf8)
                    wroteReceived = true
                case .other:
                    out.append(contentsOf: seg)
                }
            }
            if segEnd >= range.upperBound { break }
            segStart = segEnd + 1
        }
        if !wroteReceived {
            out.append(contentsOf: ";received=".utf8)
            out.append(contentsOf: sourceIP.utf8)
        }
        out.append(contentsOf: b[range.upperBound...])
        return (out, range)
    }

    private enum ParamName { case rport, received, other }

    /// For ASCII `host` and `sourceIP` (nil otherwise): whether the host, without the brackets of an IPv6
    /// reference, differs from the source IP ignoring ASCII case. On ASCII text this is exactly the
    /// `hasPrefix("[")`/`hasSuffix("]")`, `lowercased()` and `!=` of the general path, without new Strings.
    private static func asciiHostDiffers(_ host: String, _ sourceIP: String) -> Bool? {
        var h = host, s = sourceIP
        return h.withUTF8 { hb in
            s.withUTF8 { sb -> Bool? in
                for c in hb where c >= 0x80 { return nil }
                for c in sb where c >= 0x80 { return nil }
                var lo = 0, hi = hb.count
                if hi > 0, hb[0] == 0x5B, hb[hi - 1] == 0x5D { lo = 1; hi -= 1 }
                guard hi - lo == sb.count else { return true }
                var k = 0
                while k < sb.count {
                    var a = hb[lo + k], b = sb[k]
                    if a >= 0x41 && a <= 0x5A { a |= 0x20 }
                    if b >= 0x41 && b <= 0x5A { b |= 0x20 }
                    if a != b { return true }
                    k += 1
                }
                return false
            }
        }
    }

    /// `String(value)`'s digits appended to `out` for `value >= 0` (no String).
    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        let v = value
        var divisor = 1
        while divisor <= v / 10 { divisor *= 10 }
        repeat { out.append(UInt8(truncatingIfNeeded: v / divisor % 10) &+ 0x30); divisor /= 10 } while divisor > 0
    }

    /// The parameter's name (before '=', LWS trimmed), compared case-insensitively with the two the
    /// stamp rewrites.
    private static func paramName(_ seg: ArraySlice<UInt8>) -> ParamName {
        var lo = seg.startIndex
        var hi = seg.firstIndex(of: 0x3D) ?? seg.endIndex
        while lo < hi, isLWS(seg[lo]) { lo += 1 }
        while hi > lo, isLWS(seg[hi - 1]) { hi -= 1 }
        let name = seg[lo..<hi]
        if matches(name, "rport") { return .rport }
        if matches(name, "received") { return .received }
        return .other
    }

    @inline(__always) private static func isLWS(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }

    private static func matches(_ name: ArraySlice<UInt8>, _ lower: StaticString) -> Bool {
        guard name.count == lower.utf8CodeUnitCount else { return false }
        return lower.withUTF8Buffer { l in
            var i = 0
            for c in name {
                let folded = c >= 0x41 && c <= 0x5A ? c | 0x20 : c
                if folded != l[i] { return false }
                i += 1
            }
            return true
        }
    }

    private static func leadingSpace(_ seg: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let end = seg.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }) ?? seg.endIndex
        return seg[seg.startIndex..<end]
    }
}
