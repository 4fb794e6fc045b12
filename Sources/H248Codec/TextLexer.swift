// Stage 1 of the text parser: bytes -> a bounded element tree (RFC 3525 B.2 / B.3 lexical rules).
// Every H.248 text construct has the shape
//     [TimeStamp ":"] NAME [relation value] [ "{" element *("," element) "}" ]
// or is a quotedString, or (Local/Remote) an octetString in braces. Stage 2 (TextParser.swift)
// maps the tree to the model and knows the grammar of each descriptor.

/// A byte range of the input with its lexical kind.
struct Lexeme {
    // Int32 storage keeps arena nodes small (messages are bounded far below 2 GiB).
    private var s: Int32
    private var e: Int32
    var quoted: Bool
    init(start: Int, end: Int, quoted: Bool) {
        s = Int32(truncatingIfNeeded: start)
        e = Int32(truncatingIfNeeded: end)
        self.quoted = quoted
    }
    var start: Int {
        get { Int(s) }
        set { s = Int32(truncatingIfNeeded: newValue) }
    }
    var end: Int {
        get { Int(e) }
        set { e = Int32(truncatingIfNeeded: newValue) }
    }
    var isEmpty: Bool { s >= e }
}

enum NodeValue {
    case single(Lexeme)
    case alternatives([Lexeme])
    case list([Lexeme])
    case range(Lexeme, Lexeme)
    /// A message identifier in value position (`[addr]:port`, `<name>:port`): raw byte range.
    case mid(Lexeme)
}

struct Node {
    private var off: Int32
    private var vOff: Int32 = 0
    private var idx: Int32 = 0
    private var endIdx: Int32 = 0
    /// The element is a bare quotedString (error text).
    var isQuotedString = false
    /// The element has a `{...}` child list (its children follow it in the arena).
    var hasBraces = false
    /// Value, kept plain (no references) so nodes copy as bytes: 0 none, 1 single, 2 alternatives,
    /// 3 list, 4 range, 5 mid. Lists live in `Lexer.lists[v2.start..<v2.end]`.
    var valueKind: UInt8 = 0
    var relation: Relation?
    var hasTimestamp = false
    var hasOctets = false
    /// Keyword of `name` (`H248Token.rawValue`), 255 when it is not one; looked up once while lexing.
    var tokenRaw: UInt8 = 255
    var name: Lexeme
    var ts = Lexeme(start: 0, end: 0, quoted: false)
    var v1 = Lexeme(start: 0, end: 0, quoted: false)
    var v2 = Lexeme(start: 0, end: 0, quoted: false)
    var oct = Lexeme(start: 0, end: 0, quoted: false)

    init(offset: Int, isQuotedString: Bool = false, name: Lexeme, index: Int = 0, end: Int = 0) {
        self.off = Int32(truncatingIfNeeded: offset)
        self.isQuotedString = isQuotedString
        self.name = name
        self.idx = Int32(truncatingIfNeeded: index)
        self.endIdx = Int32(truncatingIfNeeded: end)
    }

    /// Byte offset where the element starts (for line/column).
    var offset: Int { Int(off) }
    var valueOffset: Int {
        get { Int(vOff) }
        set { vOff = Int32(truncatingIfNeeded: newValue) }
    }
    /// Position in the arena, and the arena index just after this element's subtree.
    var index: Int {
        get { Int(idx) }
        set { idx = Int32(truncatingIfNeeded: newValue) }
    }
    var end: Int {
        get { Int(endIdx) }
        set { endIdx = Int32(truncatingIfNeeded: newValue) }
    }
    var hasValue: Bool { valueKind != 0 }
    /// observedEvent `TimeStamp ":" name`.
    var timestamp: Lexeme? {
        get { hasTimestamp ? ts : nil }
        set { if let v = newValue { ts = v; hasTimestamp = true } else { hasTimestamp = false } }
    }
    /// Local/Remote octet string (content between the braces).
    var octets: Lexeme? {
        get { hasOctets ? oct : nil }
        set { if let v = newValue { oct = v; hasOctets = true } else { hasOctets = false } }
    }
}

/// RFC 3525 B.3 `SafeChar`: DIGIT / ALPHA / "+" / "-" / "&" / "!" / "_" / "/" / "'" / "?" / "@" /
/// "^" / "`" / "~" / "*" / "$" / "\" / "(" / ")" / "%" / "|" / "." (as two 64-bit masks).
@inline(__always)
func isSafeChar(_ c: UInt8) -> Bool {
    if c < 64 { return (0x83ff_eff2_0000_0000 as UInt64) >> UInt64(c) & 1 == 1 }
    if c < 128 { return (0x57ff_ffff_d7ff_ffff as UInt64) >> UInt64(c - 64) & 1 == 1 }
    return false
}

/// Error-code context: what the lexer was inside when it failed (H.248.8 code choice).
enum ErrorScope {
    case message, transactionRequest, action, command
    var code: H248ErrorCode {
        switch self {
        case .message: .syntaxErrorInMessage
        case .transactionRequest: .syntaxErrorInTransactionRequest
        case .action: .syntaxErrorInAction
        case .command: .syntaxErrorInCommand
        }
    }
}

struct Lexer {
    let b: [UInt8]
    var i: Int
    let limits: H248Limits
    var elements = 0
    /// Set when the current top-level element is a transaction request (for 403/422/442 codes).
    var inRequest = false
    /// All elements in pre-order; a node's children are the following nodes up to `end`.
    var nodes: [Node] = []
    /// Values of `{a,b}` / `[a,b]` lists.
    var lists: [Lexeme] = []
    let tt = TokenTable.shared

    init(bytes: [UInt8], limits: H248Limits) {
        self.b = bytes
        self.i = 0
        self.limits = limits
        nodes.reserveCapacity(min(max(bytes.count / 8, 16), limits.maxElements))
    }

    // MARK: errors and positions

    func position(_ offset: Int) -> (line: Int, column: Int) {
        var line = 1
        var col = 1
        var k = 0
        let end = min(offset, b.count)
        while k < end {
            if b[k] == 10 { line += 1; col = 1 } else { col += 1 }
            k += 1
        }
        return (line, col)
    }

    func fail(_ code: H248ErrorCode, _ reason: String, at offset: Int) -> H248ParseError {
        let p = position(offset)
        return H248ParseError(code, reason, line: p.line, column: p.column)
    }

    func scope(depth: Int) -> ErrorScope {
        guard inRequest else { return .message }
        switch depth {
        case 0: return .message
        case 1: return .transactionRequest
        case 2: return .action
        default: return .command
        }
    }

    func syntax(_ reason: String, depth: Int, at offset: Int) -> H248ParseError {
        fail(scope(depth: depth).code, reason, at: offset)
    }

    // MARK: low level

    @inline(__always) var atEnd: Bool { i >= b.count }
    @inline(__always) var peek: UInt8 { i < b.count ? b[i] : 0 }

    /// Skips LWSP and comments (RFC 3525 B.3 `COMMENT = ";" *(SafeChar/RestChar/WSP/%x22) EOL`).
    mutating func skipWS() {
        while i < b.count {
            let c = b[i]
            if c == 32 || c == 9 || c == 10 || c == 13 {
                i += 1
            } else if c == UInt8(ascii: ";") {
                while i < b.count && b[i] != 10 && b[i] != 13 { i += 1 }
            } else {
                return
            }
        }
    }

    mutating func word(depth: Int) throws(H248ParseError) -> Lexeme {
        let s = i
        while i < b.count && isSafeChar(b[i]) { i += 1 }
        if i == s {
            if atEnd { throw syntax("unexpected end of message", depth: depth, at: s) }
            throw syntax("unexpected character '\(printable(b[s]))'", depth: depth, at: s)
        }
        if i - s > limits.maxTokenBytes {
            throw syntax("token longer than \(limits.maxTokenBytes) bytes", depth: depth, at: s)
        }
        return Lexeme(start: s, end: i, quoted: false)
    }

    /// quotedString = DQUOTE *(SafeChar / RestChar / WSP) DQUOTE (no escapes, RFC 3525 B.3).
    mutating func quoted(depth: Int) throws(H248ParseError) -> Lexeme {
        let open = i
        i += 1
        let s = i
        while i < b.count && b[i] != UInt8(ascii: "\"") {
            if i - s >= limits.maxQuotedBytes {
                throw syntax("quoted string longer than \(limits.maxQuotedBytes) bytes", depth: depth, at: open)
            }
            i += 1
        }
        if atEnd { throw syntax("unterminated quoted string", depth: depth, at: open) }
        let e = i
        i += 1
        return Lexeme(start: s, end: e, quoted: true)
    }

    mutating func valueLexeme(depth: Int) throws(H248ParseError) -> Lexeme {
        if peek == UInt8(ascii: "\"") { return try quoted(depth: depth) }
        return try word(depth: depth)
    }

    func printable(_ c: UInt8) -> String {
        c >= 32 && c < 127 ? String(UnicodeScalar(c)) : "\\x" + String(c, radix: 16)
    }

    // MARK: elements

    /// Parses the message body: 1*element without separators (transactionList or errorDescriptor).
    mutating func topLevel() throws(H248ParseError) -> [Int] {
        var tops: [Int] = []
        while true {
            skipWS()
            if atEnd { break }
            if tops.count >= limits.maxListItems {
                throw fail(.syntaxErrorInMessage, "more than \(limits.maxListItems) transactions", at: i)
            }
            // Error-code scope: a transaction request gets 403/422/442, anything else 400.
            let s = i
            while i < b.count && isSafeChar(b[i]) { i += 1 }
            let name = Lexeme(start: s, end: i, quoted: false)
            i = s
            inRequest = tokenOf(name, in: b, tt) == .transaction
            tops.append(try element(depth: 0))
        }
        if tops.isEmpty { throw fail(.syntaxErrorInMessage, "message has no body", at: i) }
        return tops
    }

    /// Parses one element into the arena; returns its index.
    mutating func element(depth: Int) throws(H248ParseError) -> Int {
        elements += 1
        if elements > limits.maxElements {
            throw syntax("more than \(limits.maxElements) elements", depth: depth, at: i)
        }
        let start = i
        if peek == UInt8(ascii: "\"") {
            let q = try quoted(depth: depth)
            let idx = nodes.count
            nodes.append(Node(offset: start, isQuotedString: true, name: q, index: idx, end: idx + 1))
            return idx
        }
        var node = Node(offset: start, name: try word(depth: depth))
        skipWS()
        if peek == UInt8(ascii: ":") {
            // observedEvent: TimeStamp LWSP COLON LWSP pkgdName
            i += 1
            skipWS()
            node.timestamp = node.name
            node.name = try word(depth: depth)
            skipWS()
        }
        let nameToken = tokenOf(node.name, in: b, tt)
        node.tokenRaw = nameToken?.rawValue ?? 255
        switch peek {
        case UInt8(ascii: "="): node.relation = .equal
        case UInt8(ascii: "#"): node.relation = .notEqual
        case UInt8(ascii: ">"): node.relation = .greater
        case UInt8(ascii: "<"): node.relation = .less
        default: break
        }
        if node.relation != nil {
            i += 1
            skipWS()
            node.valueOffset = i
            let v = try value(depth: depth, nameToken: nameToken)
            switch v {
            case .single(let l): node.valueKind = 1; node.v1 = l
            case .alternatives(let ls), .list(let ls):
                if case .alternatives = v { node.valueKind = 2 } else { node.valueKind = 3 }
                node.v2 = Lexeme(start: lists.count, end: lists.count + ls.count, quoted: false)
                lists.append(contentsOf: ls)
            case .range(let a, let z): node.valueKind = 4; node.v1 = a; node.v2 = z
            case .mid(let l): node.valueKind = 5; node.v1 = l
            }
            skipWS()
        }
        let idx = nodes.count
        node.index = idx
        if peek == UInt8(ascii: "{") {
            i += 1
            if node.valueKind == 0 && (nameToken == .local || nameToken == .remote) {
                node.octets = try octetString(depth: depth, open: i - 1)
            } else {
                if depth + 1 > limits.maxDepth {
                    throw syntax("nesting deeper than \(limits.maxDepth)", depth: depth, at: i - 1)
                }
                node.hasBraces = true
                nodes.append(node)
                try block(depth: depth + 1)
                nodes[idx].end = nodes.count
                return idx
            }
        }
        node.end = idx + 1
        nodes.append(node)
        return idx
    }

    mutating func value(depth: Int, nameToken: H248Token?) throws(H248ParseError) -> NodeValue {
        let c = peek
        if c == UInt8(ascii: "[") || c == UInt8(ascii: "<") {
            if let t = nameToken, t == .serviceChangeAddress || t == .mgcIdToTry {
                return .mid(try midLexeme(depth: depth))
            }
        }
        if c == UInt8(ascii: "{") {
            // alternativeValue: LBRKT VALUE *(COMMA VALUE) RBRKT
            i += 1
            return .alternatives(try valueList(close: UInt8(ascii: "}"), depth: depth).values)
        }
        if c == UInt8(ascii: "[") {
            i += 1
            let r = try valueList(close: UInt8(ascii: "]"), depth: depth)
            if r.isRange {
                guard r.values.count == 2 else { throw syntax("malformed range", depth: depth, at: i) }
                return .range(r.values[0], r.values[1])
            }
            return .list(r.values)
        }
        return .single(try valueLexeme(depth: depth))
    }

    mutating func valueList(close: UInt8, depth: Int) throws(H248ParseError) -> (values: [Lexeme], isRange: Bool) {
        var vals: [Lexeme] = []
        var isRange = false
        skipWS()
        if peek == close { i += 1; return ([], false) }
        while true {
            skipWS()
            vals.append(try valueLexeme(depth: depth))
            if vals.count > limits.maxListItems {
                throw syntax("more than \(limits.maxListItems) values", depth: depth, at: i)
            }
            skipWS()
            let c = peek
            if c == UInt8(ascii: ",") { i += 1; continue }
            if c == UInt8(ascii: ":") && close == UInt8(ascii: "]") && vals.count == 1 { i += 1; isRange = true; continue }
            if c == close { i += 1; return (vals, isRange) }
            throw syntax(atEnd ? "unexpected end of message in value list" : "unexpected '\(printable(c))' in value list",
                         depth: depth, at: i)
        }
    }

    /// `[addr]:port` or `<domain>:port` in value position (ServiceChangeAddress, MgcIdToTry).
    mutating func midLexeme(depth: Int) throws(H248ParseError) -> Lexeme {
        let s = i
        let closer: UInt8 = peek == UInt8(ascii: "[") ? UInt8(ascii: "]") : UInt8(ascii: ">")
        i += 1
        while i < b.count && b[i] != closer {
            if i - s > limits.maxTokenBytes { throw fail(.incorrectIdentifier, "mId too long", at: s) }
            i += 1
        }
        if atEnd { throw fail(.incorrectIdentifier, "unterminated mId", at: s) }
        i += 1
        if peek == UInt8(ascii: ":") {
            i += 1
            while i < b.count && b[i] >= 48 && b[i] <= 57 { i += 1 }
        }
        return Lexeme(start: s, end: i, quoted: false)
    }

    /// Brace list after `{`: element *(COMMA element) `}`, possibly empty.
    mutating func block(depth: Int) throws(H248ParseError) {
        var count = 0
        skipWS()
        if peek == UInt8(ascii: "}") { i += 1; return }
        while true {
            skipWS()
            _ = try element(depth: depth)
            count += 1
            if count > limits.maxListItems {
                throw syntax("more than \(limits.maxListItems) items in a list", depth: depth, at: i)
            }
            skipWS()
            let c = peek
            if c == UInt8(ascii: ",") { i += 1; continue }
            if c == UInt8(ascii: "}") { i += 1; return }
            if atEnd { throw syntax("unexpected end of message: missing '}'", depth: depth, at: i) }
            throw syntax("expected ',' or '}' but found '\(printable(c))'", depth: depth, at: i)
        }
    }

    /// octetString = *(nonEscapeChar) with `\}` as the escaped brace (RFC 3525 B.2).
    mutating func octetString(depth: Int, open: Int) throws(H248ParseError) -> Lexeme {
        let s = i
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "}") {
                let e = i
                i += 1
                return Lexeme(start: s, end: e, quoted: false)
            }
            if c == UInt8(ascii: "\\") { i += 1 }
            i += 1
            if i - s > limits.maxOctetStringBytes {
                throw syntax("Local/Remote descriptor longer than \(limits.maxOctetStringBytes) bytes", depth: depth, at: open)
            }
        }
        throw syntax("unterminated Local/Remote descriptor", depth: depth, at: open)
    }
}

// MARK: allocation-free token lookup

/// Keyword table, flat (no nested references): bucket = length * 32 + (first byte & 31);
/// `entries[bucketStart[k]..<bucketStart[k+1]]` index `offsets`/`tokens`; spellings lower-cased in `bytes`.
struct TokenTable: Sendable {
    let bucketStart: [Int32]
    let offsets: [Int32]
    let tokens: [H248Token]
    let bytes: [UInt8]

    static let shared = TokenTable()

    init() {
        var buckets = [[(String, H248Token)]](repeating: [], count: 33 * 32)
        for tok in H248Token.allCases {
            for form in Set([tok.long.lowercased(), tok.short.lowercased()]) {
                let u = Array(form.utf8)
                if u.count < 33 { buckets[u.count * 32 + Int(u[0] & 31)].append((form, tok)) }
            }
        }
        var bs: [Int32] = []
        var offs: [Int32] = []
        var toks: [H248Token] = []
        var by: [UInt8] = []
        for bucket in buckets {
            bs.append(Int32(offs.count))
            for (form, tok) in bucket {
                offs.append(Int32(by.count))
                toks.append(tok)
                by.append(contentsOf: form.utf8)
            }
        }
        bs.append(Int32(offs.count))
        bucketStart = bs
        offsets = offs
        tokens = toks
        bytes = by
    }
}

/// Case-insensitive keyword lookup of a lexeme (RFC 3525 B.3: tokens are case insensitive).
@inline(__always)
func tokenOf(_ l: Lexeme, in b: [UInt8], _ tt: TokenTable) -> H248Token? {
    let n = l.end - l.start
    guard !l.quoted, n > 0, n < 33 else { return nil }
    let k = n * 32 + Int(b[l.start] & 31)
    var e = Int(tt.bucketStart[k])
    let eEnd = Int(tt.bucketStart[k + 1])
    while e < eEnd {
        let o = Int(tt.offsets[e])
        var j = 0
        while j < n {
            let x = b[l.start + j]
            let y = tt.bytes[o + j]
            if x != y && !(y >= 97 && y <= 122 && (x | 0x20) == y) { break }
            j += 1
        }
        if j == n { return tt.tokens[e] }
        e += 1
    }
    return nil
}

/// The children of an arena node, in order (no allocation).
struct Kids: Sequence {
    let nodes: [Node]
    let start: Int
    let end: Int
    var isEmpty: Bool { start >= end }
    var count: Int {
        var n = 0
        var j = start
        while j < end { n += 1; j = nodes[j].end }
        return n
    }
    struct Iterator: IteratorProtocol {
        let nodes: [Node]
        var j: Int
        let end: Int
        mutating func next() -> Node? {
            guard j < end else { return nil }
            let n = nodes[j]
            j = n.end
            return n
        }
    }
    func makeIterator() -> Iterator { Iterator(nodes: nodes, j: start, end: end) }
}
