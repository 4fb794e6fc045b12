// Stage 2 of the text parser: element tree -> model, following RFC 3525 B.2 (H.248.1 Annex B)
// production by production. Malformed input throws H248ParseError with the H.248.8 code.

/// Parses H.248 text messages, pretty or compact tokens in any mix (TS 29.334 §5.9 NOTE 1).
public struct H248TextParser: Sendable {
    public var limits: H248Limits

    public init(limits: H248Limits = .default) {
        self.limits = limits
    }

    public func parse(_ text: String) throws(H248ParseError) -> H248Message {
        try parse(bytes: Array(text.utf8))
    }

    public func parse(bytes: [UInt8]) throws(H248ParseError) -> H248Message {
        // The element arena stores 32-bit offsets: the bound never exceeds Int32.max, whatever is configured.
        let maxBytes = min(limits.maxMessageBytes, Int(Int32.max))
        if bytes.count > maxBytes {
            throw H248ParseError(.syntaxErrorInMessage, "message longer than \(maxBytes) bytes",
                                 line: 1, column: 1)
        }
        var m = Mapper(lx: Lexer(bytes: bytes, limits: limits))
        return try m.message()
    }
}

extension H248Message {
    /// Parses a text-encoded message (either token form).
    public init(parsing text: String, limits: H248Limits = .default) throws(H248ParseError) {
        self = try H248TextParser(limits: limits).parse(text)
    }
}

struct Mapper {
    var lx: Lexer
    let b: [UInt8]
    var nodes: [Node] = []
    var lists: [Lexeme] = []
    let tt = TokenTable.shared

    init(lx: Lexer) {
        self.lx = lx
        self.b = lx.b
    }

    /// The node's value as an enum (lists rebuilt from the lexer's value arena).
    func val(_ n: Node) -> NodeValue? {
        switch n.valueKind {
        case 1: return .single(n.v1)
        case 2: return .alternatives(Array(lists[n.v2.start..<n.v2.end]))
        case 3: return .list(Array(lists[n.v2.start..<n.v2.end]))
        case 4: return .range(n.v1, n.v2)
        case 5: return .mid(n.v1)
        default: return nil
        }
    }

    func kids(_ n: Node) -> Kids {
        n.hasBraces ? Kids(nodes: nodes, start: n.index + 1, end: n.end) : Kids(nodes: nodes, start: 0, end: 0)
    }

    // MARK: helpers

    func fail(_ code: H248ErrorCode, _ reason: String, _ offset: Int) -> H248ParseError {
        lx.fail(code, reason, at: offset)
    }

    func str(_ l: Lexeme) -> String {
        String(decoding: b[l.start..<l.end], as: UTF8.self)
    }

    func tok(_ n: Node) -> H248Token? {
        n.tokenRaw == 255 ? nil : H248Token(rawValue: n.tokenRaw)
    }

    func tok(_ l: Lexeme) -> H248Token? { tokenOf(l, in: b, tt) }

    func uint(_ l: Lexeme, max: UInt64) -> UInt64? {
        guard !l.quoted, l.end > l.start, l.end - l.start <= 10 else { return nil }
        var v: UInt64 = 0
        for k in l.start..<l.end {
            let c = b[k]
            guard c >= 48 && c <= 57 else { return nil }
            v = v * 10 + UInt64(c - 48)
        }
        return v <= max ? v : nil
    }

    func singleValue(_ n: Node, _ code: H248ErrorCode) throws(H248ParseError) -> Lexeme {
        guard n.relation == .equal, case .single(let l)? = val(n) else {
            throw fail(code, "'\(str(n.name))' needs '= value'", n.offset)
        }
        return l
    }

    func uintValue(_ n: Node, max: UInt64, _ code: H248ErrorCode) throws(H248ParseError) -> UInt64 {
        let l = try singleValue(n, code)
        guard let v = uint(l, max: max) else {
            throw fail(code, "'\(str(l))' is not a number in 0...\(max)", n.valueOffset)
        }
        return v
    }

    func h248Value(_ l: Lexeme) -> H248Value {
        l.quoted ? .quoted(str(l)) : .token(str(l))
    }

    func noChildren(_ n: Node, _ code: H248ErrorCode) throws(H248ParseError) {
        if n.hasBraces || n.octets != nil {
            throw fail(code, "unexpected '{' after '\(str(n.name))'", n.offset)
        }
    }

    // MARK: message header (RFC 3525 B.2 megacoMessage / message / mId)

    mutating func message() throws(H248ParseError) -> H248Message {
        lx.skipWS()
        let hs = lx.i
        let head = try lx.word(depth: 0)
        // MegacopToken SLASH Version
        var slash = head.start
        while slash < head.end && b[slash] != UInt8(ascii: "/") { slash += 1 }
        let proto = Lexeme(start: head.start, end: slash, quoted: false)
        guard tok(proto) == .megaco else {
            if tok(proto) == nil && str(proto).uppercased() == "AU" || str(proto).uppercased().hasPrefix("AU=") {
                throw fail(.notImplemented, "authentication header not supported", hs)
            }
            throw fail(.syntaxErrorInMessage, "message must start with MEGACO/<version> or !/<version>", hs)
        }
        let vl = Lexeme(start: slash + 1, end: head.end, quoted: false)
        guard slash < head.end, vl.end - vl.start <= 2, let version = uint(vl, max: 99), version >= 1 else {
            throw fail(.syntaxErrorInMessage, "bad protocol version", hs)
        }
        let sep = lx.i
        lx.skipWS()
        if lx.i == sep { throw fail(.syntaxErrorInMessage, "missing separator after version", sep) }
        let midStart = lx.i
        let mid = try parseHeaderMID()
        if lx.i == midStart { throw fail(.incorrectIdentifier, "missing mId", midStart) }
        let tops = try lx.topLevel()
        nodes = lx.nodes
        lists = lx.lists
        lx.nodes = []
        let body = try messageBody(tops.map { nodes[$0] })
        return H248Message(version: Int(version), mid: mid, body: body)
    }

    mutating func parseHeaderMID() throws(H248ParseError) -> MID {
        let s = lx.i
        let c = lx.peek
        if c == UInt8(ascii: "[") || c == UInt8(ascii: "<") {
            let l = try lx.midLexeme(depth: 0)
            return try mid(l)
        }
        // mtpAddress = MTPToken LBRKT 4*8(HEXDIG) RBRKT
        let w = try lx.word(depth: 0)
        if lx.peek == UInt8(ascii: "{"), str(w).uppercased() == "MTP" {
            lx.i += 1
            let hs = lx.i
            while lx.i < b.count && lx.i - hs <= 8 && b[lx.i] != UInt8(ascii: "}") { lx.i += 1 }
            guard lx.peek == UInt8(ascii: "}") else { throw fail(.incorrectIdentifier, "bad MTP address", s) }
            let hex = String(decoding: b[hs..<lx.i], as: UTF8.self)
            lx.i += 1
            guard (4...8).contains(hex.utf8.count), hex.allSatisfy(\.isHexDigit) else {
                throw fail(.incorrectIdentifier, "bad MTP address", s)
            }
            return .mtp(hex)
        }
        return .device(str(w))
    }

    /// `[addr]:port`, `<domain>:port`, or a device name (RFC 3525 B.2 mId).
    func mid(_ l: Lexeme) throws(H248ParseError) -> MID {
        guard l.end > l.start else { throw fail(.incorrectIdentifier, "empty mId", l.start) }
        let open = b[l.start]
        let closer: UInt8
        if open == UInt8(ascii: "[") { closer = UInt8(ascii: "]") }
        else if open == UInt8(ascii: "<") { closer = UInt8(ascii: ">") }
        else { return .device(str(l)) }
        var k = l.start + 1
        while k < l.end && b[k] != closer { k += 1 }
        guard k < l.end, k > l.start + 1 else { throw fail(.incorrectIdentifier, "malformed mId", l.start) }
        let inner = Lexeme(start: l.start + 1, end: k, quoted: false)
        var port: UInt16?
        if k + 1 < l.end {
            guard b[k + 1] == UInt8(ascii: ":"),
                  let p = uint(Lexeme(start: k + 2, end: l.end, quoted: false), max: 65535) else {
                throw fail(.incorrectIdentifier, "bad port in mId", l.start)
            }
            port = UInt16(p)
        }
        for x in inner.start..<inner.end {
            let c = b[x]
            let ok: Bool
            if open == UInt8(ascii: "[") {
                // IPv4address / IPv6address: digits, hex, '.', ':'
                ok = (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) || c == 46 || c == 58
            } else {
                // domainName = "<" (ALPHA / DIGIT) *63(ALPHA / DIGIT / "-" / ".") ">"
                ok = (c >= 48 && c <= 57) || (c | 0x20 >= 97 && c | 0x20 <= 122) || c == 45 || c == 46
            }
            if !ok { throw fail(.incorrectIdentifier, "invalid character in mId", x) }
        }
        if open == UInt8(ascii: "<") && inner.end - inner.start > 64 {
            throw fail(.incorrectIdentifier, "domain name longer than 64 characters", l.start)
        }
        return open == UInt8(ascii: "[") ? .address(str(inner), port: port) : .domain(str(inner), port: port)
    }

    // MARK: body and transactions (RFC 3525 B.2 messageBody, transactionList)

    func messageBody(_ nodes: [Node]) throws(H248ParseError) -> MessageBody {
        if nodes.count == 1, tok(nodes[0]) == .error {
            return .error(try errorDescriptor(nodes[0], .syntaxErrorInMessage))
        }
        var ts: [Transaction] = []
        ts.reserveCapacity(nodes.count)
        for n in nodes {
            switch tok(n) {
            case .transaction: ts.append(.request(try transactionRequest(n)))
            case .reply: ts.append(.reply(try transactionReply(n)))
            case .pending:
                let id = try transactionID(n, .syntaxErrorInMessage)
                if !kids(n).isEmpty { throw fail(.syntaxErrorInMessage, "Pending must be empty", n.offset) }
                ts.append(.pending(id))
            case .responseAck: ts.append(.responseAck(try responseAck(n)))
            case .segment:
                try noChildren(n, .syntaxErrorInMessage)
                let (id, seg, complete) = try segmentedID(n)
                guard let seg else { throw fail(.syntaxErrorInMessage, "Segment needs a segment number", n.offset) }
                ts.append(.segmentReply(SegmentReply(transactionID: id, segmentNumber: seg, segmentationComplete: complete)))
            default:
                throw fail(.syntaxErrorInMessage, "expected Transaction, Reply, Pending or TransactionResponseAck", n.offset)
            }
        }
        return .transactions(ts)
    }

    func transactionID(_ n: Node, _ code: H248ErrorCode) throws(H248ParseError) -> UInt32 {
        UInt32(try uintValue(n, max: UInt64(UInt32.max), code))
    }

    func transactionRequest(_ n: Node) throws(H248ParseError) -> TransactionRequest {
        let id = try transactionID(n, .syntaxErrorInTransactionRequest)
        guard case let children = kids(n), !children.isEmpty else {
            throw fail(.syntaxErrorInTransactionRequest, "transaction request without actions", n.offset)
        }
        var actions: [ActionRequest] = []
        actions.reserveCapacity(children.count)
        for c in children {
            guard tok(c) == .context else {
                throw fail(.syntaxErrorInTransactionRequest, "expected Context", c.offset)
            }
            actions.append(try actionRequest(c))
        }
        return TransactionRequest(id: id, actions: actions)
    }

    /// `TransactionID [SLASH SegmentNumber [SLASH SegmentationCompleteToken]]` (H.248.1 v3 B.2).
    func segmentedID(_ n: Node) throws(H248ParseError) -> (UInt32, UInt16?, Bool) {
        let l = try singleValue(n, .syntaxErrorInMessage)
        var parts: [Lexeme] = []
        var s = l.start
        for k in l.start...l.end where k == l.end || b[k] == UInt8(ascii: "/") {
            parts.append(Lexeme(start: s, end: k, quoted: false))
            s = k + 1
        }
        guard parts.count <= 3, let id = uint(parts[0], max: UInt64(UInt32.max)) else {
            throw fail(.syntaxErrorInMessage, "bad transaction id '\(str(l))'", n.valueOffset)
        }
        var seg: UInt16?
        if parts.count >= 2 {
            guard let v = uint(parts[1], max: UInt64(UInt16.max)) else {
                throw fail(.syntaxErrorInMessage, "bad segment number", n.valueOffset)
            }
            seg = UInt16(v)
        }
        if parts.count == 3 && tok(parts[2]) != .segmentationComplete {
            throw fail(.syntaxErrorInMessage, "expected END or & after the segment number", n.valueOffset)
        }
        return (UInt32(id), seg, parts.count == 3)
    }

    func transactionReply(_ n: Node) throws(H248ParseError) -> TransactionReply {
        let (id, seg, complete) = try segmentedID(n)
        let children = kids(n)
        guard !children.isEmpty else {
            throw fail(.syntaxErrorInMessage, "transaction reply without content", n.offset)
        }
        var imm = false
        var actions: [ActionReply] = []
        var k = 0
        for c in children {
            defer { k += 1 }
            switch tok(c) {
            case .immAckRequired where k == 0:
                try noChildren(c, .syntaxErrorInMessage)
                imm = true
            case .error where (k == 0 || (imm && k == 1)) && c.end == n.end:
                // transactionReply: [ImmAckRequired COMMA] (errorDescriptor / actionReplyList) — the error is last.
                return TransactionReply(id: id, immAckRequired: imm, segmentNumber: seg, segmentationComplete: complete,
                                        result: .error(try errorDescriptor(c, .syntaxErrorInMessage)))
            case .context:
                actions.append(try actionReply(c))
            default:
                throw fail(.syntaxErrorInMessage, "expected Context or Error in Reply", c.offset)
            }
        }
        if actions.isEmpty { throw fail(.syntaxErrorInMessage, "transaction reply without actions", n.offset) }
        return TransactionReply(id: id, immAckRequired: imm, segmentNumber: seg, segmentationComplete: complete,
                                result: .actions(actions))
    }

    func responseAck(_ n: Node) throws(H248ParseError) -> [AckRange] {
        guard !n.hasValue, case let children = kids(n), !children.isEmpty else {
            throw fail(.syntaxErrorInMessage, "TransactionResponseAck needs { transactionAck list }", n.offset)
        }
        var out: [AckRange] = []
        for c in children {
            try noChildren(c, .syntaxErrorInMessage)
            // transactionAck = TransactionID / (TransactionID "-" TransactionID)
            var dash = c.name.start
            while dash < c.name.end && b[dash] != UInt8(ascii: "-") { dash += 1 }
            let a = uint(Lexeme(start: c.name.start, end: dash, quoted: false), max: UInt64(UInt32.max))
            var z = a
            if dash < c.name.end { z = uint(Lexeme(start: dash + 1, end: c.name.end, quoted: false), max: UInt64(UInt32.max)) }
            guard c.relation == nil, !c.isQuotedString, let first = a, let last = z, first <= last else {
                throw fail(.syntaxErrorInMessage, "bad transaction id range", c.offset)
            }
            out.append(AckRange(UInt32(first), UInt32(last)))
        }
        return out
    }

    // MARK: actions

    func contextID(_ n: Node, _ code: H248ErrorCode) throws(H248ParseError) -> ContextID {
        let l = try singleValue(n, code)
        if l.end - l.start == 1 && !l.quoted {
            switch b[l.start] {
            case UInt8(ascii: "-"): return .null
            case UInt8(ascii: "$"): return .choose
            case UInt8(ascii: "*"): return .all
            default: break
            }
        }
        guard let v = uint(l, max: UInt64(UInt32.max)) else {
            throw fail(.incorrectIdentifier, "bad ContextID '\(str(l))'", n.valueOffset)
        }
        return .id(UInt32(v))
    }

    /// Context properties (RFC 3525 B.2 contextProperty; v3 ContextAttr). Returns false if `c` is not one.
    func contextProperty(_ c: Node, into a: inout ContextAttributes?, _ code: H248ErrorCode) throws(H248ParseError) -> Bool {
        switch tok(c) {
        case .priority:
            let v = try uintValue(c, max: 15, code)
            a = a ?? ContextAttributes()
            a?.priority = UInt8(v)
        case .emergency:
            try noChildren(c, code)
            a = a ?? ContextAttributes()
            a?.emergency = true
        case .emergencyOff:
            try noChildren(c, code)
            a = a ?? ContextAttributes()
            a?.emergency = false
        case .iepsCall:
            let v = try onOff(c, code)
            a = a ?? ContextAttributes()
            a?.iepsCall = v
        case .topology:
            let t = try topology(c, code)
            a = a ?? ContextAttributes()
            a?.topology = t
        case .contextAttr:
            let ps = try kids(c).map { (p) throws(H248ParseError) -> PropertyParm in try propertyParm(p, code) }
            a = a ?? ContextAttributes()
            a?.properties = ps
        default:
            return false
        }
        return true
    }

    func onOff(_ n: Node, _ code: H248ErrorCode) throws(H248ParseError) -> Bool {
        let l = try singleValue(n, code)
        switch tok(l) {
        case .on: return true
        case .off: return false
        default: throw fail(.unknownValue, "expected ON or OFF", n.valueOffset)
        }
    }

    func topology(_ n: Node, _ code: H248ErrorCode) throws(H248ParseError) -> [TopologyTriple] {
        let c = Array(kids(n))
        guard !c.isEmpty, c.count % 3 == 0 else {
            throw fail(code, "Topology needs triples { termA, termB, direction }", n.offset)
        }
        var out: [TopologyTriple] = []
        var k = 0
        while k < c.count {
            let dirNode = c[k + 2]
            let dir: TopologyTriple.Direction
            switch tok(dirNode) {
            case .isolate: dir = .isolate
            case .oneway: dir = .oneway
            case .bothway: dir = .bothway
            default: throw fail(.unknownValue, "unknown topology direction", dirNode.offset)
            }
            out.append(TopologyTriple(TerminationID(str(c[k].name)), TerminationID(str(c[k + 1].name)), dir))
            k += 3
        }
        return out
    }

    func actionRequest(_ n: Node) throws(H248ParseError) -> ActionRequest {
        let cid = try contextID(n, .syntaxErrorInAction)
        guard case let children = kids(n), !children.isEmpty else {
            throw fail(.syntaxErrorInAction, "Context without commands", n.offset)
        }
        var attrs: ContextAttributes?
        var audit: [ContextAuditItem]?
        var cmds: [CommandRequest] = []
        cmds.reserveCapacity(children.count)
        for c in children {
            if let (verb, opt, wild) = commandVerb(c) {
                cmds.append(try commandRequest(c, verb, optional: opt, wildcard: wild))
            } else if tok(c) == .contextAudit {
                var items: [ContextAuditItem] = []
                for i in kids(c) {
                    try noChildren(i, .syntaxErrorInAction)
                    switch tok(i) {
                    case .topology: items.append(.topology)
                    case .emergency: items.append(.emergency)
                    case .priority: items.append(.priority)
                    case .iepsCall: items.append(.iepsCall)
                    default:
                        guard !i.isQuotedString, i.relation == nil else {
                            throw fail(.syntaxErrorInAction, "unsupported ContextAudit item", i.offset)
                        }
                        items.append(.property(str(i.name)))
                    }
                }
                audit = items
            } else if try contextProperty(c, into: &attrs, .syntaxErrorInAction) {
                continue
            } else {
                throw fail(.unknownCommand, "unknown command '\(str(c.name))'", c.offset)
            }
        }
        return ActionRequest(contextID: cid, attributes: attrs, contextAudit: audit, commands: cmds)
    }

    func actionReply(_ n: Node) throws(H248ParseError) -> ActionReply {
        let cid = try contextID(n, .syntaxErrorInMessage)
        var attrs: ContextAttributes?
        var replies: [CommandReply] = []
        var err: ErrorDescriptor?
        for c in kids(n) {
            if let (verb, _, _) = commandVerb(c) {
                replies.append(try commandReply(c, verb))
            } else if tok(c) == .error {
                err = try errorDescriptor(c, .syntaxErrorInMessage)
            } else if try contextProperty(c, into: &attrs, .syntaxErrorInMessage) {
                continue
            } else {
                throw fail(.unknownCommand, "unknown command reply '\(str(c.name))'", c.offset)
            }
        }
        return ActionReply(contextID: cid, attributes: attrs, replies: replies, error: err)
    }

    /// Command token with optional `O-` / `W-` prefixes (H.248.1 Annex B, optional/wildcard return).
    func commandVerb(_ n: Node) -> (CommandVerb, Bool, Bool)? {
        guard !n.isQuotedString else { return nil }
        var l = n.name
        var opt = false
        var wild = false
        while l.end - l.start > 2 && b[l.start + 1] == UInt8(ascii: "-") {
            let p = b[l.start] | 0x20
            if p == UInt8(ascii: "o") { opt = true } else if p == UInt8(ascii: "w") { wild = true } else { break }
            l.start += 2
        }
        switch tok(l) {
        case .add: return (.add, opt, wild)
        case .modify: return (.modify, opt, wild)
        case .subtract: return (.subtract, opt, wild)
        case .move: return (.move, opt, wild)
        case .auditValue: return (.auditValue, opt, wild)
        case .auditCapability: return (.auditCapabilities, opt, wild)
        case .notify: return (.notify, opt, wild)
        case .serviceChange: return (.serviceChange, opt, wild)
        default: return nil
        }
    }

    func terminationID(_ n: Node) throws(H248ParseError) -> TerminationID {
        guard n.relation == .equal, case .single(let l)? = val(n), !l.quoted else {
            throw fail(.syntaxErrorInCommand, "command needs '= TerminationID'", n.offset)
        }
        return TerminationID(str(l))
    }

    // MARK: commands (RFC 3525 B.2 commandRequest / commandReply)

    func commandRequest(_ n: Node, _ verb: CommandVerb, optional: Bool, wildcard: Bool) throws(H248ParseError) -> CommandRequest {
        let tid = try terminationID(n)
        var ds: [Descriptor] = []
        var seen: UInt32 = 0
        for c in kids(n) {
            let d = try descriptor(c, inReply: false)
            guard legal(d, in: verb) else {
                throw fail(.descriptorNotLegal, "descriptor '\(str(c.name))' not legal in this command", c.offset)
            }
            let bit = UInt32(1) << kindBit(d)
            if seen & bit != 0 {
                throw fail(.descriptorTwice, "descriptor '\(str(c.name))' appears twice", c.offset)
            }
            seen |= bit
            ds.append(d)
        }
        // Mandatory descriptors (RFC 3525 B.2 auditRequest, notifyRequest, serviceChangeRequest).
        let need: (Int, String)? = switch verb {
        case .auditValue, .auditCapabilities: (kindBit(.audit(AuditDescriptor())), "Audit")
        case .notify: (kindBit(.observedEvents(ObservedEventsDescriptor(requestID: 0, events: []))), "ObservedEvents")
        case .serviceChange: (kindBit(.services(ServiceChangeParameters())), "Services")
        default: nil
        }
        if let need, seen & (UInt32(1) << need.0) == 0 {
            throw fail(.syntaxErrorInCommand, "command needs a \(need.1) descriptor", n.offset)
        }
        return CommandRequest(verb, tid, ds, optional: optional, wildcardReturn: wildcard)
    }

    func commandReply(_ n: Node, _ verb: CommandVerb) throws(H248ParseError) -> CommandReply {
        let tid = try terminationID(n)
        var ds: [Descriptor] = []
        for c in kids(n) {
            ds.append(try descriptor(c, inReply: true))
        }
        return CommandReply(verb, tid, ds)
    }

    func kindBit(_ d: Descriptor) -> Int {
        switch d {
        case .media: 0
        case .events: 1
        case .signals: 2
        case .observedEvents: 3
        case .statistics: 4
        case .audit: 5
        case .packages: 6
        case .error: 7
        case .services: 8
        case .auditItem: 9
        }
    }

    /// Which descriptors each command request may carry (RFC 3525 B.2 ammParameter etc.).
    func legal(_ d: Descriptor, in verb: CommandVerb) -> Bool {
        switch verb {
        case .add, .modify, .move:
            switch d {
            case .media, .events, .signals, .audit, .statistics: return true
            default: return false
            }
        case .subtract, .auditValue, .auditCapabilities:
            if case .audit = d { return true }
            return false
        case .notify:
            switch d {
            case .observedEvents, .error: return true
            default: return false
            }
        case .serviceChange:
            if case .services = d { return true }
            return false
        }
    }

    // MARK: descriptors

    func descriptor(_ n: Node, inReply: Bool) throws(H248ParseError) -> Descriptor {
        let code = H248ErrorCode.syntaxErrorInCommand
        let t = tok(n)
        // A bare descriptor name in a reply is an auditItem (RFC 3525 B.2 auditReturnParameter).
        if inReply, !n.hasBraces, !n.hasValue, n.octets == nil, let t, let item = auditItem(t) {
            return .auditItem(item)
        }
        switch t {
        case .media: return .media(try media(n))
        case .events: return .events(try events(n))
        case .signals: return .signals(try signals(n))
        case .observedEvents: return .observedEvents(try observedEvents(n))
        case .statistics: return .statistics(try propertyList(n, code))
        case .audit: return .audit(try audit(n))
        case .packages: return .packages(try packages(n))
        case .error: return .error(try errorDescriptor(n, code))
        case .services: return .services(try services(n))
        case .digitMap, .modem, .mux, .eventBuffer:
            throw fail(.notImplemented, "descriptor '\(str(n.name))' not implemented", n.offset)
        default:
            throw fail(.unknownDescriptor, "unknown descriptor '\(str(n.name))'", n.offset)
        }
    }

    func auditItem(_ t: H248Token) -> AuditItem? {
        switch t {
        case .media: .media
        case .modem: .modem
        case .mux: .mux
        case .events: .events
        case .signals: .signals
        case .digitMap: .digitMap
        case .statistics: .statistics
        case .observedEvents: .observedEvents
        case .eventBuffer: .eventBuffer
        case .packages: .packages
        default: nil
        }
    }

    func errorDescriptor(_ n: Node, _ code: H248ErrorCode) throws(H248ParseError) -> ErrorDescriptor {
        // errorDescriptor = ErrorToken EQUAL ErrorCode LBRKT [quotedString] RBRKT; ErrorCode = 1*4(DIGIT)
        let l = try singleValue(n, code)
        guard l.end - l.start <= 4, let v = uint(l, max: 9999) else {
            throw fail(code, "bad error code", n.valueOffset)
        }
        var text: String?
        if n.hasBraces {
            let c = kids(n)
            if let q = c.first(where: { _ in true }) {
                guard q.end == n.end else { throw fail(code, "Error takes one quoted string", n.offset) }
                guard q.isQuotedString else { throw fail(code, "error text must be a quoted string", q.offset) }
                text = str(q.name)
            }
        }
        return ErrorDescriptor(code: UInt16(v), text: text)
    }

    func propertyParm(_ n: Node, _ code: H248ErrorCode) throws(H248ParseError) -> PropertyParm {
        guard !n.isQuotedString, let rel = n.relation, let v = val(n), !n.hasBraces, n.timestamp == nil else {
            throw fail(code, "expected 'name = value'", n.offset)
        }
        let pv: ParameterValue
        switch v {
        case .single(let l): pv = .single(h248Value(l))
        case .alternatives(let ls): pv = .alternatives(ls.map(h248Value))
        case .list(let ls): pv = .list(ls.map(h248Value))
        case .range(let a, let z): pv = .range(h248Value(a), h248Value(z))
        case .mid(let l): pv = .single(.token(str(l)))
        }
        return PropertyParm(str(n.name), rel, pv)
    }

    func propertyList(_ n: Node, _ code: H248ErrorCode) throws(H248ParseError) -> [PropertyParm] {
        guard !n.hasValue else { throw fail(code, "unexpected value", n.offset) }
        var out: [PropertyParm] = []
        for c in kids(n) { out.append(try propertyParm(c, code)) }
        return out
    }

    func media(_ n: Node) throws(H248ParseError) -> MediaDescriptor {
        let code = H248ErrorCode.syntaxErrorInCommand
        guard !n.hasValue, n.hasBraces, case let children = kids(n) else {
            throw fail(code, "Media needs { ... }", n.offset)
        }
        var m = MediaDescriptor()
        var shorthand: StreamDescriptor?
        for c in children {
            switch tok(c) {
            case .stream:
                let id = try uintValue(c, max: UInt64(UInt16.max), code)
                var s = StreamDescriptor(id: UInt16(id))
                for p in kids(c) { try streamParm(p, into: &s) }
                m.streams.append(s)
            case .terminationState:
                if m.terminationState != nil { throw fail(.descriptorTwice, "TerminationState twice", c.offset) }
                m.terminationState = try terminationState(c)
            default:
                var s = shorthand ?? StreamDescriptor(id: nil)
                try streamParm(c, into: &s)
                shorthand = s
            }
        }
        if let s = shorthand { m.streams.insert(s, at: 0) }
        return m
    }

    func streamParm(_ n: Node, into s: inout StreamDescriptor) throws(H248ParseError) {
        let code = H248ErrorCode.syntaxErrorInCommand
        switch tok(n) {
        case .localControl:
            if s.localControl != nil { throw fail(.descriptorTwice, "LocalControl twice", n.offset) }
            s.localControl = try localControl(n)
        case .local:
            if s.local != nil { throw fail(.descriptorTwice, "Local twice", n.offset) }
            s.local = try sdp(n)
        case .remote:
            if s.remote != nil { throw fail(.descriptorTwice, "Remote twice", n.offset) }
            s.remote = try sdp(n)
        case .statistics:
            s.statistics = try propertyList(n, code)
        default:
            throw fail(.unknownDescriptor, "unknown stream parameter '\(str(n.name))'", n.offset)
        }
    }

    func sdp(_ n: Node) throws(H248ParseError) -> SDPBlock {
        guard let o = n.octets else {
            throw fail(.syntaxErrorInCommand, "Local/Remote needs { SDP }", n.offset)
        }
        // Same normalisation as SDPBlock(text:), straight from the message bytes, unescaping `\}`.
        let text = b.withUnsafeBufferPointer {
            SDPBlock.normalize(UnsafeBufferPointer(rebasing: $0[o.start..<o.end]), unescapeBraces: true)
        }
        return SDPBlock(normalized: text)
    }

    func localControl(_ n: Node) throws(H248ParseError) -> LocalControlDescriptor {
        let code = H248ErrorCode.syntaxErrorInCommand
        var lc = LocalControlDescriptor()
        for c in kids(n) {
            switch tok(c) {
            case .mode:
                let l = try singleValue(c, code)
                switch tok(l) {
                case .sendOnly: lc.mode = .sendOnly
                case .receiveOnly: lc.mode = .receiveOnly
                case .sendReceive: lc.mode = .sendReceive
                case .inactive: lc.mode = .inactive
                case .loopback: lc.mode = .loopback
                default: throw fail(.unknownValue, "unknown stream mode '\(str(l))'", c.valueOffset)
                }
            case .reservedValue: lc.reserveValue = try onOff(c, code)
            case .reservedGroup: lc.reserveGroup = try onOff(c, code)
            default: lc.properties.append(try propertyParm(c, code))
            }
        }
        return lc
    }

    func terminationState(_ n: Node) throws(H248ParseError) -> TerminationStateDescriptor {
        let code = H248ErrorCode.syntaxErrorInCommand
        var ts = TerminationStateDescriptor()
        for c in kids(n) {
            switch tok(c) {
            case .serviceStates:
                let l = try singleValue(c, code)
                switch tok(l) {
                case .test: ts.serviceState = .test
                case .outOfSvc: ts.serviceState = .outOfService
                case .inSvc: ts.serviceState = .inService
                default: throw fail(.unknownValue, "unknown service state '\(str(l))'", c.valueOffset)
                }
            case .buffer:
                let l = try singleValue(c, code)
                switch tok(l) {
                case .lockStep: ts.bufferLockStep = true
                case .off: ts.bufferLockStep = false
                default: throw fail(.unknownValue, "unknown buffer control '\(str(l))'", c.valueOffset)
                }
            default: ts.properties.append(try propertyParm(c, code))
            }
        }
        return ts
    }

    func events(_ n: Node, embedded: Bool = false) throws(H248ParseError) -> EventsDescriptor {
        let code = H248ErrorCode.syntaxErrorInCommand
        guard n.hasValue else {
            if n.hasBraces { throw fail(code, "Events needs '= RequestID'", n.offset) }
            return EventsDescriptor(requestID: nil, events: [])
        }
        let rid = UInt32(try uintValue(n, max: UInt64(UInt32.max), code))
        var out: [RequestedEvent] = []
        for c in kids(n) {
            guard !c.isQuotedString, c.relation == nil, c.timestamp == nil else {
                throw fail(code, "expected requested event 'pkg/event'", c.offset)
            }
            var ev = RequestedEvent(str(c.name))
            for p in kids(c) {
                switch tok(p) {
                case .stream: ev.streamID = UInt16(try uintValue(p, max: UInt64(UInt16.max), code))
                case .keepActive: ev.keepActive = true
                case .embed where !embedded:
                    for e in kids(p) {
                        switch tok(e) {
                        case .signals: ev.embeddedSignals = try signals(e)
                        case .events: ev.embeddedEvents = try events(e, embedded: true)
                        default: throw fail(.unknownDescriptor, "only Signals and Events may be embedded", e.offset)
                        }
                    }
                case .embed, .digitMap, .eventBuffer:
                    throw fail(.notImplemented, "'\(str(p.name))' in events not implemented", p.offset)
                default: ev.parameters.append(try propertyParm(p, code))
                }
            }
            out.append(ev)
        }
        return EventsDescriptor(requestID: rid, events: out)
    }

    func signal(_ c: Node) throws(H248ParseError) -> Signal {
        let code = H248ErrorCode.syntaxErrorInCommand
        guard !c.isQuotedString, c.relation == nil, c.timestamp == nil else {
            throw fail(code, "expected signal 'pkg/signal'", c.offset)
        }
        var s = Signal(str(c.name))
        for p in kids(c) {
            switch tok(p) {
            case .stream: s.streamID = UInt16(try uintValue(p, max: UInt64(UInt16.max), code))
            case .keepActive: s.keepActive = true
            case .duration: s.duration = UInt32(try uintValue(p, max: UInt64(UInt32.max), code))
            case .signalType:
                let l = try singleValue(p, code)
                switch tok(l) {
                case .brief: s.type = .brief
                case .onOff: s.type = .onOff
                case .timeOut: s.type = .timeOut
                default: throw fail(.unknownValue, "unknown signal type '\(str(l))'", p.valueOffset)
                }
            case .notifyCompletion:
                let ls: [Lexeme]
                switch val(p) {
                case .single(let l)?: ls = [l]
                case .alternatives(let a)?: ls = a
                default: throw fail(code, "NotifyCompletion needs '= { ... }'", p.offset)
                }
                var out: [NotifyCompletion] = []
                for l in ls {
                    switch tok(l) {
                    case .timeOut: out.append(.timeOut)
                    case .intByEvent: out.append(.interruptedByEvent)
                    case .intBySigDescr: out.append(.interruptedByNewSignalsDescriptor)
                    case .otherReason: out.append(.otherReason)
                    case .iteration: out.append(.iteration)
                    default: throw fail(.unknownValue, "unknown NotifyCompletion '\(str(l))'", p.valueOffset)
                    }
                }
                s.notifyCompletion = out
            case .spaDirection:
                let l = try singleValue(p, code)
                switch tok(l) {
                case .external: s.direction = .external
                case .internal: s.direction = .internal
                case .both: s.direction = .both
                default: throw fail(.unknownValue, "unknown signal direction '\(str(l))'", p.valueOffset)
                }
            case .spaRequestID: s.requestID = UInt32(try uintValue(p, max: UInt64(UInt32.max), code))
            case .intersignal: s.intersignalDelay = UInt16(try uintValue(p, max: UInt64(UInt16.max), code))
            default: s.parameters.append(try propertyParm(p, code))
            }
        }
        return s
    }

    func signals(_ n: Node) throws(H248ParseError) -> SignalsDescriptor {
        let code = H248ErrorCode.syntaxErrorInCommand
        guard !n.hasValue else { throw fail(code, "unexpected value after Signals", n.offset) }
        var items: [SignalItem] = []
        for c in kids(n) {
            if tok(c) == .signalList {
                let id = UInt16(try uintValue(c, max: UInt64(UInt16.max), code))
                var sigs: [Signal] = []
                for s in kids(c) { sigs.append(try signal(s)) }
                items.append(.list(id: id, signals: sigs))
            } else {
                items.append(.signal(try signal(c)))
            }
        }
        return SignalsDescriptor(items)
    }

    func observedEvents(_ n: Node) throws(H248ParseError) -> ObservedEventsDescriptor {
        let code = H248ErrorCode.syntaxErrorInCommand
        let rid = UInt32(try uintValue(n, max: UInt64(UInt32.max), code))
        var out: [ObservedEvent] = []
        for c in kids(n) {
            guard !c.isQuotedString, c.relation == nil else {
                throw fail(code, "expected observed event '[timestamp:]pkg/event'", c.offset)
            }
            var ev = ObservedEvent(str(c.name))
            if let t = c.timestamp {
                guard let ts = TimeStamp(str(t)) else { throw fail(code, "bad timestamp '\(str(t))'", c.offset) }
                ev.timestamp = ts
            }
            for p in kids(c) {
                if tok(p) == .stream {
                    ev.streamID = UInt16(try uintValue(p, max: UInt64(UInt16.max), code))
                } else {
                    ev.parameters.append(try propertyParm(p, code))
                }
            }
            out.append(ev)
        }
        return ObservedEventsDescriptor(requestID: rid, events: out)
    }

    func audit(_ n: Node) throws(H248ParseError) -> AuditDescriptor {
        var items: [AuditItem] = []
        for c in kids(n) {
            if c.hasBraces {
                // v2+ indAuditParameter with contents (H.248.1 v2 B.2 indAudPackagesDescriptor etc.).
                switch tok(c) {
                case .packages: items.append(.packagesOf(try packages(c)))
                case .statistics:
                    var names: [PackageItemName] = []
                    for s in kids(c) {
                        guard !s.isQuotedString, !s.hasValue, !s.hasBraces else {
                            throw fail(.syntaxErrorInCommand, "expected statistic name", s.offset)
                        }
                        names.append(str(s.name))
                    }
                    items.append(.statisticsOf(names))
                default:
                    throw fail(.notImplemented, "individual audit of '\(str(c.name))' not implemented", c.offset)
                }
                continue
            }
            try noChildren(c, .syntaxErrorInCommand)
            if let t = tok(c), let item = auditItem(t) {
                items.append(item)
            } else if !c.isQuotedString, c.relation == nil, str(c.name).contains("/") {
                items.append(.item(str(c.name)))
            } else {
                throw fail(.unknownDescriptor, "unknown audit item '\(str(c.name))'", c.offset)
            }
        }
        return AuditDescriptor(items)
    }

    func packages(_ n: Node) throws(H248ParseError) -> [PackageVersion] {
        var out: [PackageVersion] = []
        for c in kids(n) {
            // packagesItem = NAME "-" UINT16
            var dash = c.name.end - 1
            while dash > c.name.start && b[dash] != UInt8(ascii: "-") { dash -= 1 }
            guard !c.isQuotedString, c.relation == nil, dash > c.name.start,
                  let v = uint(Lexeme(start: dash + 1, end: c.name.end, quoted: false), max: UInt64(UInt16.max)) else {
                throw fail(.syntaxErrorInCommand, "expected package 'name-version'", c.offset)
            }
            out.append(PackageVersion(String(decoding: b[c.name.start..<dash], as: UTF8.self), UInt16(v)))
        }
        return out
    }

    func services(_ n: Node) throws(H248ParseError) -> ServiceChangeParameters {
        let code = H248ErrorCode.syntaxErrorInCommand
        var p = ServiceChangeParameters()
        for c in kids(n) {
            switch tok(c) {
            case .method:
                let l = try singleValue(c, code)
                switch tok(l) {
                case .failover: p.method = .failover
                case .forced: p.method = .forced
                case .graceful: p.method = .graceful
                case .restart: p.method = .restart
                case .disconnected: p.method = .disconnected
                case .handOff: p.method = .handOff
                default:
                    let s = str(l)
                    guard s.hasPrefix("X-") || s.hasPrefix("X+") || s.hasPrefix("x-") || s.hasPrefix("x+") else {
                        throw fail(.unknownValue, "unknown ServiceChange method '\(s)'", c.valueOffset)
                    }
                    p.method = .other(s)
                }
            case .reason: p.reason = h248Value(try singleValue(c, code))
            case .delay: p.delay = UInt32(try uintValue(c, max: UInt64(UInt32.max), code))
            case .serviceChangeAddress:
                switch val(c) {
                case .mid(let l)?: p.address = .mid(try mid(l))
                case .single(let l)? where !l.quoted:
                    if let port = uint(l, max: 65535) { p.address = .port(UInt16(port)) } else { p.address = .mid(.device(str(l))) }
                default: throw fail(code, "bad ServiceChangeAddress", c.offset)
                }
            case .profile:
                let l = try singleValue(c, code)
                var slash = l.end - 1
                while slash > l.start && b[slash] != UInt8(ascii: "/") { slash -= 1 }
                guard slash > l.start, let v = uint(Lexeme(start: slash + 1, end: l.end, quoted: false), max: 99) else {
                    throw fail(code, "Profile must be name/version", c.valueOffset)
                }
                p.profile = ServiceChangeProfile(name: String(decoding: b[l.start..<slash], as: UTF8.self), version: Int(v))
            case .version:
                let l = try singleValue(c, code)
                guard l.end - l.start <= 2, let v = uint(l, max: 99) else {
                    throw fail(code, "Version must be 1*2DIGIT", c.valueOffset)
                }
                p.version = Int(v)
            case .mgcIdToTry:
                switch val(c) {
                case .mid(let l)?: p.mgcIdToTry = try mid(l)
                case .single(let l)? where !l.quoted: p.mgcIdToTry = .device(str(l))
                default: throw fail(code, "bad MgcIdToTry", c.offset)
                }
            default:
                if c.relation == nil, !c.hasBraces, !c.isQuotedString, let ts = TimeStamp(str(c.name)) {
                    p.timestamp = ts
                } else if c.relation != nil, !c.isQuotedString, c.name.end - c.name.start > 2,
                          b[c.name.start] | 0x20 == UInt8(ascii: "x"),
                          b[c.name.start + 1] == UInt8(ascii: "-") || b[c.name.start + 1] == UInt8(ascii: "+") {
                    p.extensions.append(try propertyParm(c, code))
                } else {
                    throw fail(.unknownValue, "unknown ServiceChange parameter '\(str(c.name))'", c.offset)
                }
            }
        }
        return p
    }
}
