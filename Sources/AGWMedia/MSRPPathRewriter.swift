// Application-aware MSRP interworking (seed 003 / TR 29.828 §5.1.1.2.4 CR; TS 23.334 §5.19; specs.md
// §6.2-6.3): "modifying the MSRP Path parameter in application (i.e. MSRP) data by inserting its own IP
// address and port information", applied only when statically configured. Pure: bytes in, bytes out,
// no I/O, no clock. One `MSRPPathRewriter` per relay direction frames the byte stream per RFC 4975 §7.1
// (start line, header fields, optional body, end-line) and rewrites the last URI of To-Path and
// From-Path (RFC 4975 §9 MSRP URI; the last URI names the endpoint, RFC 4975 §5.2) so that each peer
// only ever sees the gateway's URI, consistent with the IMS-ALG rewriting a=path in SDP the same way
// (SDPRewrite `MSRPPathRule.rewriteLast`: scheme, host and port replaced; userinfo, session-id,
// transport and parameters kept).
//
// Bad input (a start line that is not MSRP, a header section or a chunk over its bound, a path URI
// that does not parse) throws `MSRPFramingError`; the relay then closes the stream (both connections)
// and counts it: a gateway that cannot frame the stream can no longer rewrite it consistently.

/// The scheme and authority that replace those of a path URI (RFC 4975 §9: msrp-scheme "://" authority).
public struct MSRPAuthority: Sendable, Hashable, CustomStringConvertible {
    /// "msrp" (TCP) or "msrps" (TLS), RFC 4975 §6.
    public var scheme: String
    public var host: String
    public var port: Int

    public init(scheme: String, host: String, port: Int) {
        self.scheme = scheme; self.host = host; self.port = port
    }

    /// The scheme of a transport: msrps over TLS, msrp over plain TCP (RFC 4975 §6).
    public static func scheme(tls: Bool) -> String { tls ? "msrps" : "msrp" }

    /// The authority of an MSRP URI ("msrp://h:p/s;tcp" → msrp, h, p); nil when it does not parse or has no port.
    public init?(uri: String) {
        guard let parts = MSRPURI(uri), let port = parts.port else { return nil }
        self.init(scheme: parts.scheme.lowercased(), host: parts.host, port: port)
    }

    public var description: String { "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}

/// What one relay direction rewrites (bytes read from one termination, written to the other).
public struct MSRPPathRewrite: Sendable, Hashable {
    /// Replaces the last To-Path URI's scheme and authority: the far peer's own URI (its a=path), the
    /// destination behind the gateway.
    public var toPath: MSRPAuthority
    /// Replaces the last From-Path URI's scheme and authority: the gateway's URI on the outgoing side.
    public var fromPath: MSRPAuthority

    public init(toPath: MSRPAuthority, fromPath: MSRPAuthority) {
        self.toPath = toPath; self.fromPath = fromPath
    }
}

/// Why a stream could not be framed or rewritten (the relay closes it).
public enum MSRPFramingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The first line is not `MSRP SP transact-id SP (method | status)` (RFC 4975 §7.1).
    case badStartLine(String)
    /// No end of the header section within `MSRPLimits.maxHeaderBytes`.
    case headerTooLarge
    /// No end-line within `MSRPLimits.maxChunkBytes` of body.
    case chunkTooLarge
    /// A To-Path / From-Path URI that is not an MSRP URI (RFC 4975 §9).
    case badPath(String)
    /// To-Path and From-Path must be the first two header fields (RFC 4975 §7.1 headers rule).
    case missingPath

    public var description: String {
        switch self {
        case .badStartLine(let l): return "MSRP start line '\(l)'"
        case .headerTooLarge: return "MSRP header section over \(MSRPLimits.maxHeaderBytes) bytes"
        case .chunkTooLarge: return "MSRP chunk over \(MSRPLimits.maxChunkBytes) bytes without its end-line"
        case .badPath(let p): return "MSRP path '\(p)'"
        case .missingPath: return "MSRP message without To-Path and From-Path"
        }
    }
}

/// Named bounds of the MSRP framer.
public enum MSRPLimits {
    /// Largest header section (start line and header fields up to the blank line or the end-line).
    /// RFC 4975 §7.1 / §9 set no limit (the ABNF is unbounded): a local bound, far above real
    /// messages (a few paths of RFC 4976 relays and the MIME headers take well under 1 KiB).
    public static let maxHeaderBytes = 16 * 1024
    /// Longest body of one chunk without its end-line. RFC 4975 §7.1 leaves the chunk size to the
    /// sender (a large message is split into chunks, §5.1); bodies stream through without being
    /// buffered, so this bounds only how long the framer searches for an end-line.
    public static let maxChunkBytes = 16 * 1024 * 1024
    /// transact-id = ident = ALPHANUM 3*31ident-char (RFC 4975 §9): 4 to 32 characters.
    public static let transactionIDLength = 4...32
}

/// The streaming framer and rewriter of one relay direction.
public struct MSRPPathRewriter: Sendable {
    public let rule: MSRPPathRewrite
    /// Messages (requests and responses) whose paths were rewritten.
    public private(set) var messages = 0

    private enum State: Sendable { case header, body(endLine: [UInt8], seen: Int) }
    private var state: State = .header
    private var buffer: [UInt8] = []
    /// Header state: where the line scan resumes.
    private var scanned = 0

    public init(rule: MSRPPathRewrite) { self.rule = rule }

    static let crlf: [UInt8] = [13, 10]
    static let magic: [UInt8] = Array("MSRP ".utf8)
    static let dashes = [UInt8](repeating: UInt8(ascii: "-"), count: 7)

    /// Feeds bytes read from the stream; returns the bytes to forward (possibly fewer, kept until a
    /// header section or an end-line is complete).
    public mutating func feed(_ input: [UInt8]) throws(MSRPFramingError) -> [UInt8] {
        buffer += input
        var out: [UInt8] = []
        while true {
            switch state {
            case .header:
                // Every MSRP message starts with "MSRP " (RFC 4975 §7.1): refuse other bytes at once.
                let n = min(buffer.count, Self.magic.count)
                guard Array(buffer[0..<n]) == Array(Self.magic[0..<n]) else {
                    throw .badStartLine(String(decoding: buffer.prefix(32), as: UTF8.self))
                }
                guard let end = try headerEnd() else {
                    if buffer.count > MSRPLimits.maxHeaderBytes { throw .headerTooLarge }
                    return out
                }
                let (rewritten, next) = try rewriteHeader(Array(buffer[0..<end.count]), bodyFollows: end.bodyFollows)
                out += rewritten
                buffer.removeFirst(end.count)
                scanned = 0
                state = next
            case .body(let endLine, let seen):
                if let i = Self.find(endLine, in: buffer) {
                    let after = i + endLine.count
                    // The continuation flag and CRLF after "-------tid" (RFC 4975 §7.1 end-line).
                    guard buffer.count >= after + 3 else {
                        try keep(upTo: i, seen: seen, endLine: endLine, out: &out)
                        return out
                    }
                    let flag = buffer[after]
                    if [UInt8(ascii: "$"), UInt8(ascii: "+"), UInt8(ascii: "#")].contains(flag), buffer[after + 1] == 13, buffer[after + 2] == 10 {
                        out += buffer[0..<(after + 3)]
                        buffer.removeFirst(after + 3)
                        state = .header
                        messages += 1
                        continue
                    }
                    // "-------tid" inside data but not an end-line: forward up to and including it.
                    out += buffer[0..<after]
                    buffer.removeFirst(after)
                    state = .body(endLine: endLine, seen: seen + after)
                    if seen + after > MSRPLimits.maxChunkBytes { throw .chunkTooLarge }
                    continue
                }
                // Keep a tail that could be the start of the end-line.
                let hold = min(buffer.count, endLine.count + 2)
                try keep(upTo: buffer.count - hold, seen: seen, endLine: endLine, out: &out)
                return out
            }
        }
    }

    /// Forwards `buffer[0..<n]` as body bytes.
    private mutating func keep(upTo n: Int, seen: Int, endLine: [UInt8], out: inout [UInt8]) throws(MSRPFramingError) {
        guard n > 0 else { return }
        out += buffer[0..<n]
        buffer.removeFirst(n)
        state = .body(endLine: endLine, seen: seen + n)
        if seen + n > MSRPLimits.maxChunkBytes { throw .chunkTooLarge }
    }

    /// The end of the header section: after the blank line (a body follows) or after an end-line
    /// right after the header fields (no body). nil while incomplete.
    private mutating func headerEnd() throws(MSRPFramingError) -> (count: Int, bodyFollows: Bool)? {
        var lineStart = scanned
        var tid: [UInt8]?
        if lineStart > 0, let t = Self.transactionID(firstLine: Array(buffer[0..<(Self.find(Self.crlf, in: buffer) ?? 0)])) {
            tid = t
        }
        while let rel = Self.find(Self.crlf, in: buffer, from: lineStart) {
            let line = Array(buffer[lineStart..<rel])
            let next = rel + 2
            if lineStart == 0 {
                guard let t = Self.transactionID(firstLine: line) else {
                    throw .badStartLine(String(decoding: line.prefix(64), as: UTF8.self))
                }
                tid = t
            } else if line.isEmpty {
                return (next, true)
            } else if let t = tid, Self.isEndLine(line, tid: t) {
                return (next, false)
            }
            lineStart = next
            scanned = next
        }
        return nil
    }

    /// `MSRP SP transact-id SP ...` → transact-id (RFC 4975 §7.1 req-start / resp-start).
    static func transactionID(firstLine line: [UInt8]) -> [UInt8]? {
        let parts = line.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, Array(parts[0]) == Array("MSRP".utf8), !parts[2].isEmpty,
              MSRPLimits.transactionIDLength.contains(parts[1].count),
              parts[1].allSatisfy({ isIdentChar($0) }), let first = parts[1].first, isAlphaNum(first) else { return nil }
        return Array(parts[1])
    }

    static func isAlphaNum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }
    /// ident-char = ALPHANUM / "." / "-" / "+" / "%" / "=" (RFC 4975 §9).
    static func isIdentChar(_ c: UInt8) -> Bool {
        isAlphaNum(c) || c == UInt8(ascii: ".") || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: "%") || c == UInt8(ascii: "=")
    }

    static func isEndLine(_ line: [UInt8], tid: [UInt8]) -> Bool {
        guard line.count == 7 + tid.count + 1, Array(line.prefix(7)) == dashes, Array(line[7..<(7 + tid.count)]) == tid,
              let flag = line.last else { return false }
        return flag == UInt8(ascii: "$") || flag == UInt8(ascii: "+") || flag == UInt8(ascii: "#")
    }

    /// Rewrites the To-Path and From-Path header fields of a complete header section.
    private mutating func rewriteHeader(_ header: [UInt8], bodyFollows: Bool) throws(MSRPFramingError) -> ([UInt8], State) {
        var lines: [[UInt8]] = []
        var start = 0
        while let i = Self.find(Self.crlf, in: header, from: start) {
            lines.append(Array(header[start..<i]))
            start = i + 2
        }
        guard let first = lines.first, let tid = Self.transactionID(firstLine: first) else {
            throw .badStartLine(String(decoding: (lines.first ?? []).prefix(64), as: UTF8.self))
        }
        var sawTo = false, sawFrom = false
        var out: [UInt8] = []
        out.reserveCapacity(header.count + 64)
        for (n, line) in lines.enumerated() {
            var l = line
            if n > 0, let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                let name = String(decoding: line[0..<colon], as: UTF8.self).lowercased()
                let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingSpaces
                if name == "to-path" {
                    l = Array("To-Path: \(try Self.rewriteLast(value, with: rule.toPath))".utf8); sawTo = true
                } else if name == "from-path" {
                    l = Array("From-Path: \(try Self.rewriteLast(value, with: rule.fromPath))".utf8); sawFrom = true
                }
            }
            out += l
            out += Self.crlf
        }
        guard sawTo, sawFrom else { throw .missingPath }
        if bodyFollows {
            return (out, .body(endLine: Self.crlf + Self.dashes + tid, seen: 0))
        }
        messages += 1
        return (out, .header)
    }

    /// Replaces the scheme and authority of the last URI of a path (RFC 4975 §9 To-Path / From-Path:
    /// URIs separated by SP).
    static func rewriteLast(_ value: String, with authority: MSRPAuthority) throws(MSRPFramingError) -> String {
        var uris = value.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let last = uris.last, var uri = MSRPURI(last) else { throw .badPath(String(value.prefix(120))) }
        uri.scheme = authority.scheme
        uri.host = authority.host
        uri.port = authority.port
        uris[uris.count - 1] = uri.text
        return uris.joined(separator: " ")
    }

    /// Naive search of `needle` in `haystack` from `start` (needles are short: CRLF, an end-line).
    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int = 0) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var i = start
        let last = haystack.count - needle.count
        let first = needle[0]
        while i <= last {
            if haystack[i] == first {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}

/// An MSRP URI split for rewriting (RFC 4975 §9):
/// MSRP-URI = msrp-scheme "://" authority ["/" session-id] ";" transport *( ";" URI-parameter );
/// authority = [userinfo "@"] host [":" port].
struct MSRPURI: Sendable {
    var scheme: String
    var userinfo: String
    var host: String
    var port: Int?
    /// Everything after the authority: ["/" session-id] ";" transport *(";" param).
    var tail: String

    init?(_ text: String) {
        guard let sep = text.range(of: "://") else { return nil }
        let scheme = String(text[text.startIndex..<sep.lowerBound])
        guard ["msrp", "msrps"].contains(scheme.lowercased()) else { return nil }
        let rest = text[sep.upperBound...]
        let authEnd = rest.firstIndex { $0 == "/" || $0 == ";" } ?? rest.endIndex
        let authority = rest[rest.startIndex..<authEnd]
        let tail = String(rest[authEnd...])
        guard tail.contains(";") else { return nil }   // ";" transport is mandatory
        var hostport = authority
        var userinfo = ""
        if let at = authority.lastIndex(of: "@") {
            userinfo = String(authority[authority.startIndex...at])
            hostport = authority[authority.index(after: at)...]
        }
        var host: Substring
        var portText: Substring?
        if hostport.hasPrefix("[") {
            guard let close = hostport.firstIndex(of: "]") else { return nil }
            host = hostport[hostport.index(after: hostport.startIndex)..<close]
            let after = hostport[hostport.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { return nil }
        } else if let colon = hostport.lastIndex(of: ":") {
            host = hostport[hostport.startIndex..<colon]
            portText = hostport[hostport.index(after: colon)...]
        } else {
            host = hostport
        }
        guard !host.isEmpty, host.utf8.count <= 255 else { return nil }
        if let portText {
            guard let p = Int(portText), (0...65535).contains(p) else { return nil }
            self.port = p
        } else {
            self.port = nil
        }
        self.scheme = scheme; self.userinfo = userinfo; self.host = String(host); self.tail = tail
    }

    var text: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return scheme + "://" + userinfo + h + (port.map { ":\($0)" } ?? "") + tail
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
