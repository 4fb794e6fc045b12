/// Responses the proxy originates (RFC 3261 §8.2.6, §16.2 100 Trying, §16.3/§16.4 4xx/5xx, §20.43 Warning).
public enum SIPResponseBuilder {
    /// A Warning header value (RFC 3261 §20.43): `warn-code SP warn-agent SP warn-text`.
    public struct Warning: Sendable, Equatable {
        public var code: Int
        public var agent: String
        public var text: String
        public init(code: Int, agent: String, text: String) { self.code = code; self.agent = agent; self.text = text }
        var headerValue: String {
            let escaped = text.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"")
            return "\(code) \(agent) \"\(escaped)\""
        }
    }

    /// Builds a response to `request`.
    ///
    /// RFC 3261 §8.2.6.2: the From, Call-ID, CSeq and Via lines are copied byte for byte, Vias in the
    /// same order; To is copied and gets `;tag=toTag` when it had no tag, for every response except
    /// 100 (Trying). §8.2.6.1: a 100 copies Timestamp. Content-Length is 0 (no body).
    /// - Parameters:
    ///   - toTag: the tag to add (a parameter: this layer has no randomness).
    ///   - extraHeaders: more `(name, value)` lines (e.g. `Retry-After`, `Allow`), written after Warning.
    public static func response(to request: SIPMessage, status: Int, reason: String, toTag: String? = nil,
                                warning: Warning? = nil, extraHeaders: [(String, String)] = []) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out.append(contentsOf: "SIP/2.0 ".utf8)
        appendDecimal(status, to: &out)
        out.append(0x20)
        out.append(contentsOf: reason.utf8)
        out.append(contentsOf: [0x0D, 0x0A])
        let src = request.bytes
        for h in request.headers {
            switch h.name {
            case .via, .from, .callID, .cseq:
                out.append(contentsOf: src[h.lineRange])
            case .to:
                // The To value is parsed only when a tag may be added (never for a 100).
                if status != 100, let toTag, SIPNameAddress(parsing: request.value(of: h)[...])?.tag == nil {
                    out.append(contentsOf: src[h.lineRange.lowerBound..<h.valueRange.upperBound])
                    out.append(contentsOf: ";tag=\(toTag)".utf8)
                    out.append(contentsOf: src[h.valueRange.upperBound..<h.lineRange.upperBound])
                } else {
                    out.append(contentsOf: src[h.lineRange])
                }
            case .timestamp where status == 100:
                out.append(contentsOf: src[h.lineRange])
            default:
                continue
            }
            // A header's bytes may end in a bare LF (lenient input); responses always use CRLF.
            if out.last == 0x0A, out.count >= 2, out[out.count - 2] != 0x0D {
                out.removeLast(); out.append(contentsOf: [0x0D, 0x0A])
            }
        }
        if let warning { out.append(contentsOf: "Warning: \(warning.headerValue)\r\n".utf8) }
        for (n, v) in extraHeaders { out.append(contentsOf: "\(n): \(v)\r\n".utf8) }
        out.append(contentsOf: "Content-Length: 0\r\n\r\n".utf8)
        return out
    }

    /// The response for a parse failure, when the request head was readable enough to answer
    /// (RFC 3261 §8.2.6: needs Via, From, To, Call-ID, CSeq); nil for `.drop` or when one is missing.
    /// Use `SIPParser.scan(_:limits:lenientVersion: true)` to read the head of a message that failed.
    public static func response(for error: SIPParseError, request: SIPMessage, toTag: String?, warningAgent: String) -> [UInt8]? {
        guard case .respond(let status, let reason) = error.disposition, request.isRequest else { return nil }
        // Without these the client cannot match the response (§8.2.6.2, §17.1.3): nothing to send.
        for name in [SIPHeaderName.via, .from, .to, .callID, .cseq] where !request.headers.contains(where: { $0.name == name }) {
            return nil
        }
        return response(to: request, status: status, reason: reason, toTag: toTag,
                        warning: Warning(code: 399, agent: warningAgent, text: error.detail))
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var s = ""
        s.reserveCapacity(count)
        for c in self { if c == target { s += replacement } else { s.append(c) } }
        return s
    }
}
