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
        guard message.isRequest,
              let field = message.headers.first(where: { $0.name == .via }),
              let range = message.elementRanges(of: field).first,
              let via = message.topVia else { return nil }
        let rportPresent = via.rport != .absent
        let host = via.host.hasPrefix("[") && via.host.hasSuffix("]") ? String(via.host.dropFirst().dropLast()) : via.host
        let needReceived = rportPresent || host.lowercased() != sourceIP.lowercased()
        guard needReceived else { return nil }

        let element = Array(message.bytes[range])
        // Split the element at ';' (Via params hold no quoted strings that could contain ';' in
        // practice; IPv6 references contain ':' only).
        var segments: [ArraySlice<UInt8>] = []
        var start = 0
        for i in 0..<element.count where element[i] == 0x3B { segments.append(element[start..<i]); start = i + 1 }
        segments.append(element[start..<element.count])

        var out: [UInt8] = Array(segments[0])
        var wroteReceived = false
        for seg in segments.dropFirst() {
            let name = paramName(seg)
            out.append(0x3B)
            if name == "rport" {
                out.append(contentsOf: leadingSpace(seg))
                out.append(contentsOf: "rport=\(sourcePort)".utf8)
            } else if name == "received" {
                out.append(contentsOf: leadingSpace(seg))
                out.append(contentsOf: "received=\(sourceIP)".utf8)
                wroteReceived = true
            } else {
                out.append(contentsOf: seg)
            }
        }
        if !wroteReceived { out.append(contentsOf: ";received=\(sourceIP)".utf8) }

        var result: [UInt8] = []
        result.reserveCapacity(message.bytes.count + 48)
        result.append(contentsOf: message.bytes[..<range.lowerBound])
        result.append(contentsOf: out)
        result.append(contentsOf: message.bytes[range.upperBound...])
        return result
    }

    private static func paramName(_ seg: ArraySlice<UInt8>) -> String {
        let eq = seg.firstIndex(of: 0x3D) ?? seg.endIndex
        return String(decoding: seg[seg.startIndex..<eq], as: UTF8.self)
            .trimmedLWS().lowercased()
    }

    private static func leadingSpace(_ seg: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let end = seg.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }) ?? seg.endIndex
        return seg[seg.startIndex..<end]
    }
}

extension String {
    fileprivate func trimmedLWS() -> String {
        let chars: Set<Character> = [" ", "\t", "\r", "\n", "\r\n"]
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s = s.dropFirst() }
        while let l = s.last, chars.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
