// H.248.1 Annex B text encoder (RFC 3525 B.2 grammar), pretty (long tokens, indented) or compact
// (short tokens, minimal whitespace). Pure: model in, bytes/string out.

/// Encodes `H248Message` values in the text encoding.
public struct H248TextEncoder: Sendable {
    public let form: H248TextForm
    /// Indentation unit of the pretty form.
    public let indentUnit: String
    private let unitBytes: [UInt8]
    private let indentLine: [UInt8]

    public init(form: H248TextForm = .pretty, indentUnit: String = "    ") {
        self.form = form
        self.indentUnit = indentUnit
        self.unitBytes = Array(indentUnit.utf8)
        var line: [UInt8] = [10]
        for _ in 0..<24 { line.append(contentsOf: unitBytes) }
        self.indentLine = line
    }

    public func encode(_ message: H248Message) -> String {
        String(decoding: encodeBytes(message), as: UTF8.self)
    }

    public func encodeBytes(_ message: H248Message) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        encode(message, into: &out)
        return out
    }

    /// Appends the encoding to `buffer` (lets a transport reuse one buffer).
    public func encode(_ message: H248Message, into buffer: inout [UInt8]) {
        var w = Writer(pretty: form == .pretty, indentUnitCount: unitBytes.count, indentLine: indentLine)
        defer { w.out.deallocate() }
        w.message(message)
        buffer.append(contentsOf: UnsafeBufferPointer(start: w.out.p, count: w.out.count))
    }
}

extension H248Message {
    /// Text form of this message (H.248.1 Annex B).
    public func encoded(_ form: H248TextForm = .pretty) -> String {
        H248TextEncoder(form: form).encode(self)
    }
}

/// Token spellings flattened into one byte array per form, with start offsets (index rawValue..rawValue+1).
struct TokenSpellings: Sendable {
    let bytes: [UInt8]
    let starts: [Int]
    init(_ spell: (H248Token) -> String) {
        var b: [UInt8] = []
        var st: [Int] = []
        for t in H248Token.allCases {
            st.append(b.count)
            b.append(contentsOf: spell(t).utf8)
        }
        st.append(b.count)
        bytes = b
        starts = st
    }
    static let long = TokenSpellings { $0.long }
    static let short = TokenSpellings { $0.short }
}

/// A growable byte buffer without per-append uniqueness checks; owned by one Writer, freed by encode.
struct OutBuffer {
    var p: UnsafeMutablePointer<UInt8>
    var count = 0
    var capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        p = .allocate(capacity: capacity)
    }

    mutating func grow(_ need: Int) {
        let newCap = max(capacity * 2, count + need)
        let np = UnsafeMutablePointer<UInt8>.allocate(capacity: newCap)
        np.update(from: p, count: count)
        p.deallocate()
        p = np
        capacity = newCap
    }

    @inline(__always) mutating func append(_ b: UInt8) {
        if count == capacity { grow(1) }
        p[count] = b
        count += 1
    }

    @inline(__always) mutating func append(contentsOf buf: UnsafeBufferPointer<UInt8>) {
        guard let base = buf.baseAddress, buf.count > 0 else { return }
        if count + buf.count > capacity { grow(buf.count) }
        (p + count).update(from: base, count: buf.count)
        count += buf.count
    }

    @inline(__always) mutating func append(_ s: String) {
        var s = s
        s.withUTF8 { append(contentsOf: $0) }
    }

    func deallocate() { p.deallocate() }
}

struct Writer {
    let pretty: Bool
    let indentUnitCount: Int
    var out: OutBuffer
    var depth = 0
    /// Bit d set: the block at depth d has no item yet (depth is bounded by the model's shape, < 64).
    var firstBits: UInt64 = 0
    /// "\n" followed by enough indentation for any depth.
    let indentLine: [UInt8]
    /// Token spellings of the chosen form, indexed by `H248Token.rawValue`.
    let tokens: TokenSpellings

    init(pretty: Bool, indentUnitCount: Int, indentLine: [UInt8]) {
        self.pretty = pretty
        self.indentUnitCount = indentUnitCount
        self.out = OutBuffer(capacity: 1024)
        self.indentLine = indentLine
        self.tokens = pretty ? TokenSpellings.long : TokenSpellings.short
    }

    @inline(__always) mutating func raw(_ s: String) {
        out.append(s)
    }

    @inline(__always) mutating func byte(_ b: UInt8) {
        out.append(b)
    }

    @inline(__always) mutating func tok(_ t: H248Token) {
        let r = Int(t.rawValue)
        let s = tokens.starts[r]
        let e = tokens.starts[r + 1]
        tokens.bytes.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[s..<e])) }
    }

    mutating func newlineIndent() {
        // Depth is bounded by the model's shape; beyond 24 levels the indentation saturates.
        let n = min(1 + depth * indentUnitCount, indentLine.count)
        indentLine.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[0..<n])) }
    }

    /// Starts an item in the current block: comma separator, and line break in pretty form.
    @inline(__always) mutating func item() {
        guard depth > 0 else { return }
        let bit: UInt64 = 1 << UInt64(depth & 63)
        if firstBits & bit != 0 {
            firstBits &= ~bit
        } else {
            byte(UInt8(ascii: ","))
        }
        if pretty { newlineIndent() }
    }

    mutating func equals() {
        if pretty { raw(" = ") } else { byte(UInt8(ascii: "=")) }
    }

    mutating func open() {
        if pretty { out.append(32) }
        out.append(UInt8(ascii: "{"))
        depth += 1
        firstBits |= 1 << UInt64(depth & 63)
    }

    mutating func close() {
        let bit: UInt64 = 1 << UInt64(depth & 63)
        let wasEmpty = firstBits & bit != 0
        firstBits &= ~bit
        depth -= 1
        if pretty && !wasEmpty { newlineIndent() }
        byte(UInt8(ascii: "}"))
    }

    // MARK: values

    mutating func uint<T: BinaryInteger>(_ v: T) {
        var x = UInt64(truncatingIfNeeded: v)
        if x < 10 { out.append(UInt8(truncatingIfNeeded: x) &+ 48); return }
        var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                  UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &tmp) { p in
            while x > 0 {
                p[n] = UInt8(truncatingIfNeeded: x % 10) &+ 48
                x /= 10
                n += 1
            }
            while n > 0 {
                n -= 1
                out.append(p[n])
            }
        }
    }

    mutating func quoted(_ s: String) {
        byte(UInt8(ascii: "\""))
        // RFC 3525 B.2 quotedString excludes DQUOTE and has no escape: replace defensively.
        var t = s
        t.withUTF8 { buf in
            if buf.contains(UInt8(ascii: "\"")) {
                for b in buf { out.append(b == UInt8(ascii: "\"") ? UInt8(ascii: "'") : b) }
            } else {
                out.append(contentsOf: buf)
            }
        }
        byte(UInt8(ascii: "\""))
    }

    mutating func value(_ v: H248Value) {
        switch v {
        case .token(let s): raw(s)
        case .quoted(let s): quoted(s)
        }
    }

    mutating func mid(_ m: MID) {
        switch m {
        case .address(let a, let port):
            byte(UInt8(ascii: "["))
            raw(a)
            byte(UInt8(ascii: "]"))
            if let port { byte(UInt8(ascii: ":")); uint(port) }
        case .domain(let d, let port):
            byte(UInt8(ascii: "<"))
            raw(d)
            byte(UInt8(ascii: ">"))
            if let port { byte(UInt8(ascii: ":")); uint(port) }
        case .device(let d):
            raw(d)
        case .mtp(let hex):
            raw("MTP{")
            raw(hex)
            byte(UInt8(ascii: "}"))
        }
    }

    mutating func contextID(_ c: ContextID) {
        switch c {
        case .null: byte(UInt8(ascii: "-"))
        case .choose: byte(UInt8(ascii: "$"))
        case .all: byte(UInt8(ascii: "*"))
        case .id(let v): uint(v)
        }
    }

    // MARK: message structure

    mutating func message(_ m: H248Message) {
        tok(.megaco)
        byte(UInt8(ascii: "/"))
        uint(m.version)
        byte(UInt8(ascii: " "))
        mid(m.mid)
        byte(10)
        switch m.body {
        case .error(let e):
            errorDescriptor(e)
        case .transactions(let ts):
            // Separator between transactions only: OTP megaco rejects trailing whitespace after a
            // final SegmentReply, and its own encoders end a message at the last `}`.
            for (k, t) in ts.enumerated() {
                if k > 0 && pretty { byte(10) }
                transaction(t)
            }
        }
    }

    mutating func transaction(_ t: Transaction) {
        switch t {
        case .request(let r):
            tok(.transaction); equals(); uint(r.id); open()
            for a in r.actions { item(); actionRequest(a) }
            close()
        case .reply(let r):
            tok(.reply); equals(); uint(r.id)
            if let seg = r.segmentNumber {
                byte(UInt8(ascii: "/")); uint(seg)
                if r.segmentationComplete { byte(UInt8(ascii: "/")); tok(.segmentationComplete) }
            }
            open()
            if r.immAckRequired { item(); tok(.immAckRequired) }
            switch r.result {
            case .error(let e): item(); errorDescriptor(e)
            case .actions(let acts): for a in acts { item(); actionReply(a) }
            }
            close()
        case .pending(let id):
            tok(.pending); equals(); uint(id); open(); close()
        case .segmentReply(let sr):
            tok(.segment); equals(); uint(sr.transactionID); byte(UInt8(ascii: "/")); uint(sr.segmentNumber)
            if sr.segmentationComplete { byte(UInt8(ascii: "/")); tok(.segmentationComplete) }
        case .responseAck(let ranges):
            tok(.responseAck); open()
            for r in ranges {
                item()
                uint(r.first)
                if r.last != r.first { byte(UInt8(ascii: "-")); uint(r.last) }
            }
            close()
        }
    }

    mutating func contextAttributes(_ a: ContextAttributes) {
        if let p = a.priority { item(); tok(.priority); equals(); uint(p) }
        if let e = a.emergency { item(); tok(e ? .emergency : .emergencyOff) }
        if let i = a.iepsCall { item(); tok(.iepsCall); equals(); tok(i ? .on : .off) }
        if let t = a.topology { item(); topology(t) }
        if !a.properties.isEmpty {
            item(); tok(.contextAttr); open()
            for p in a.properties { item(); propertyParm(p) }
            close()
        }
    }

    mutating func topology(_ triples: [TopologyTriple]) {
        tok(.topology); open()
        for t in triples {
            item(); raw(t.from.text)
            item(); raw(t.to.text)
            item()
            switch t.direction {
            case .isolate: tok(.isolate)
            case .oneway: tok(.oneway)
            case .bothway: tok(.bothway)
            }
        }
        close()
    }

    mutating func actionRequest(_ a: ActionRequest) {
        tok(.context); equals(); contextID(a.contextID); open()
        if let attrs = a.attributes { contextAttributes(attrs) }
        if let ca = a.contextAudit {
            item(); tok(.contextAudit); open()
            for i in ca {
                item()
                switch i {
                case .topology: tok(.topology)
                case .emergency: tok(.emergency)
                case .priority: tok(.priority)
                case .iepsCall: tok(.iepsCall)
                case .property(let n): raw(n)
                }
            }
            close()
        }
        for c in a.commands { item(); commandRequest(c) }
        close()
    }

    mutating func actionReply(_ a: ActionReply) {
        tok(.context); equals(); contextID(a.contextID); open()
        if let attrs = a.attributes { contextAttributes(attrs) }
        for r in a.replies { item(); commandReply(r) }
        if let e = a.error { item(); errorDescriptor(e) }
        close()
    }

    mutating func verb(_ v: CommandVerb) {
        switch v {
        case .add: tok(.add)
        case .modify: tok(.modify)
        case .subtract: tok(.subtract)
        case .move: tok(.move)
        case .auditValue: tok(.auditValue)
        case .auditCapabilities: tok(.auditCapability)
        case .notify: tok(.notify)
        case .serviceChange: tok(.serviceChange)
        }
    }

    mutating func commandRequest(_ c: CommandRequest) {
        if c.optional { raw("O-") }
        if c.wildcardReturn { raw("W-") }
        verb(c.verb); equals(); raw(c.terminationID.text)
        if !c.descriptors.isEmpty {
            open()
            for d in c.descriptors { item(); descriptor(d) }
            close()
        }
    }

    mutating func commandReply(_ c: CommandReply) {
        verb(c.verb); equals(); raw(c.terminationID.text)
        if !c.descriptors.isEmpty {
            open()
            for d in c.descriptors { item(); descriptor(d) }
            close()
        }
    }

    // MARK: descriptors

    mutating func descriptor(_ d: Descriptor) {
        switch d {
        case .media(let m): media(m)
        case .events(let e): events(e)
        case .signals(let s): signals(s)
        case .observedEvents(let o): observedEvents(o)
        case .statistics(let s):
            tok(.statistics); open()
            for p in s { item(); propertyParm(p) }
            close()
        case .audit(let a):
            tok(.audit); open()
            for i in a.items { item(); auditItem(i) }
            close()
        case .packages(let ps):
            tok(.packages); open()
            for p in ps { item(); raw(p.name); byte(UInt8(ascii: "-")); uint(p.version) }
            close()
        case .error(let e): errorDescriptor(e)
        case .services(let s): services(s)
        case .auditItem(let i): auditItem(i)
        }
    }

    mutating func auditItem(_ i: AuditItem) {
        switch i {
        case .media: tok(.media)
        case .modem: tok(.modem)
        case .mux: tok(.mux)
        case .events: tok(.events)
        case .signals: tok(.signals)
        case .digitMap: tok(.digitMap)
        case .statistics: tok(.statistics)
        case .observedEvents: tok(.observedEvents)
        case .eventBuffer: tok(.eventBuffer)
        case .packages: tok(.packages)
        case .item(let name): raw(name)
        case .packagesOf(let ps):
            tok(.packages); open()
            for p in ps { item(); raw(p.name); byte(UInt8(ascii: "-")); uint(p.version) }
            close()
        case .statisticsOf(let names):
            tok(.statistics); open()
            for n in names { item(); raw(n) }
            close()
        }
    }

    mutating func errorDescriptor(_ e: ErrorDescriptor) {
        tok(.error); equals(); uint(e.code); open()
        if let t = e.text { item(); quoted(t) }
        close()
    }

    mutating func media(_ m: MediaDescriptor) {
        tok(.media); open()
        if let ts = m.terminationState { item(); terminationState(ts) }
        for s in m.streams {
            if let id = s.id {
                item(); tok(.stream); equals(); uint(id); open()
                streamParms(s)
                close()
            } else {
                streamParms(s)
            }
        }
        close()
    }

    mutating func streamParms(_ s: StreamDescriptor) {
        if let lc = s.localControl { item(); localControl(lc) }
        if let l = s.local { item(); sdp(.local, l) }
        if let r = s.remote { item(); sdp(.remote, r) }
        if let st = s.statistics {
            item(); tok(.statistics); open()
            for p in st { item(); propertyParm(p) }
            close()
        }
    }

    mutating func sdp(_ t: H248Token, _ block: SDPBlock) {
        tok(t)
        // As OTP megaco emits it, and Wireshark's SDP dissector accepts it: `{`, LF, each SDP line
        // terminated by CRLF (RFC 4566 §5); compact closes with `}` right after, pretty with a blank
        // line and the indented `}` (an indented `}` on an SDP line would be read as a bad SDP line).
        if pretty { byte(UInt8(ascii: " ")) }
        byte(UInt8(ascii: "{"))
        byte(10)
        // text is LF-terminated lines: copy runs, LF -> CRLF, `}` -> `\}` (RFC 3525 B.2 octetString).
        var t = block.text
        t.withUTF8 { buf in
            var s = 0
            for k in 0..<buf.count {
                let c = buf[k]
                if c == 10 || c == UInt8(ascii: "}") {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[s..<k]))
                    if c == 10 { out.append(13); out.append(10) } else { out.append(UInt8(ascii: "\\")); out.append(c) }
                    s = k + 1
                }
            }
            if s < buf.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[s..<buf.count])) }
        }
        if pretty {
            newlineIndent()
        }
        byte(UInt8(ascii: "}"))
    }

    mutating func localControl(_ lc: LocalControlDescriptor) {
        tok(.localControl); open()
        if let m = lc.mode {
            item(); tok(.mode); equals()
            switch m {
            case .sendOnly: tok(.sendOnly)
            case .receiveOnly: tok(.receiveOnly)
            case .sendReceive: tok(.sendReceive)
            case .inactive: tok(.inactive)
            case .loopback: tok(.loopback)
            }
        }
        if let v = lc.reserveValue { item(); tok(.reservedValue); equals(); tok(v ? .on : .off) }
        if let g = lc.reserveGroup { item(); tok(.reservedGroup); equals(); tok(g ? .on : .off) }
        for p in lc.properties { item(); propertyParm(p) }
        close()
    }

    mutating func terminationState(_ ts: TerminationStateDescriptor) {
        tok(.terminationState); open()
        if let s = ts.serviceState {
            item(); tok(.serviceStates); equals()
            switch s {
            case .test: tok(.test)
            case .outOfService: tok(.outOfSvc)
            case .inService: tok(.inSvc)
            }
        }
        if let b = ts.bufferLockStep { item(); tok(.buffer); equals(); tok(b ? .lockStep : .off) }
        for p in ts.properties { item(); propertyParm(p) }
        close()
    }

    mutating func propertyParm(_ p: PropertyParm) {
        raw(p.name)
        switch p.relation {
        case .equal: equals()
        case .notEqual, .greater, .less:
            if pretty { byte(UInt8(ascii: " ")) }
            raw(p.relation.rawValue)
            if pretty { byte(UInt8(ascii: " ")) }
        }
        switch p.value {
        case .single(let v): value(v)
        case .alternatives(let vs):
            byte(UInt8(ascii: "{"))
            valueList(vs)
            byte(UInt8(ascii: "}"))
        case .list(let vs):
            byte(UInt8(ascii: "["))
            valueList(vs)
            byte(UInt8(ascii: "]"))
        case .range(let a, let b):
            byte(UInt8(ascii: "["))
            value(a); byte(UInt8(ascii: ":")); value(b)
            byte(UInt8(ascii: "]"))
        }
    }

    mutating func valueList(_ vs: [H248Value]) {
        for (i, v) in vs.enumerated() {
            if i > 0 { if pretty { raw(", ") } else { byte(UInt8(ascii: ",")) } }
            value(v)
        }
    }

    mutating func events(_ e: EventsDescriptor) {
        tok(.events)
        guard let rid = e.requestID else { return }
        equals(); uint(rid); open()
        for ev in e.events {
            item(); raw(ev.name)
            if ev.streamID != nil || ev.keepActive || !ev.parameters.isEmpty || ev.embeddedSignals != nil
                || ev.embeddedEvents != nil {
                open()
                if let s = ev.streamID { item(); tok(.stream); equals(); uint(s) }
                if ev.keepActive { item(); tok(.keepActive) }
                for p in ev.parameters { item(); propertyParm(p) }
                if ev.embeddedSignals != nil || ev.embeddedEvents != nil {
                    item(); tok(.embed); open()
                    if let sg = ev.embeddedSignals { item(); signals(sg) }
                    if let ee = ev.embeddedEvents { item(); events(ee) }
                    close()
                }
                close()
            }
        }
        close()
    }

    mutating func signal(_ s: Signal) {
        raw(s.name)
        let hasParms = s.streamID != nil || s.type != nil || s.duration != nil || s.notifyCompletion != nil
            || s.keepActive || !s.parameters.isEmpty || s.direction != nil || s.requestID != nil
            || s.intersignalDelay != nil
        guard hasParms else { return }
        open()
        if let st = s.streamID { item(); tok(.stream); equals(); uint(st) }
        if let t = s.type {
            item(); tok(.signalType); equals()
            switch t {
            case .brief: tok(.brief)
            case .onOff: tok(.onOff)
            case .timeOut: tok(.timeOut)
            }
        }
        if let d = s.duration { item(); tok(.duration); equals(); uint(d) }
        if let nc = s.notifyCompletion {
            item(); tok(.notifyCompletion); equals()
            byte(UInt8(ascii: "{"))
            for (i, r) in nc.enumerated() {
                if i > 0 { if pretty { raw(", ") } else { byte(UInt8(ascii: ",")) } }
                switch r {
                case .timeOut: tok(.timeOut)
                case .interruptedByEvent: tok(.intByEvent)
                case .interruptedByNewSignalsDescriptor: tok(.intBySigDescr)
                case .otherReason: tok(.otherReason)
                case .iteration: tok(.iteration)
                }
            }
            byte(UInt8(ascii: "}"))
        }
        if s.keepActive { item(); tok(.keepActive) }
        if let d = s.direction {
            item(); tok(.spaDirection); equals()
            switch d {
            case .external: tok(.external)
            case .internal: tok(.internal)
            case .both: tok(.both)
            }
        }
        if let r = s.requestID { item(); tok(.spaRequestID); equals(); uint(r) }
        if let d = s.intersignalDelay { item(); tok(.intersignal); equals(); uint(d) }
        for p in s.parameters { item(); propertyParm(p) }
        close()
    }

    mutating func signals(_ s: SignalsDescriptor) {
        tok(.signals)
        // An empty Signals descriptor (stop all signals) is the bare token (RFC 3525 B.2
        // signalsDescriptor = SignalsToken [LBRKT [signalParm ...] RBRKT]); OTP rejects `Signals{}`.
        if s.items.isEmpty { return }
        open()
        for it in s.items {
            item()
            switch it {
            case .signal(let sig): signal(sig)
            case .list(let id, let sigs):
                tok(.signalList); equals(); uint(id); open()
                for sig in sigs { item(); signal(sig) }
                close()
            }
        }
        close()
    }

    mutating func observedEvents(_ o: ObservedEventsDescriptor) {
        tok(.observedEvents); equals(); uint(o.requestID); open()
        for ev in o.events {
            item()
            if let ts = ev.timestamp { raw(ts.description); byte(UInt8(ascii: ":")) }
            raw(ev.name)
            if ev.streamID != nil || !ev.parameters.isEmpty {
                open()
                if let s = ev.streamID { item(); tok(.stream); equals(); uint(s) }
                for p in ev.parameters { item(); propertyParm(p) }
                close()
            }
        }
        close()
    }

    mutating func services(_ s: ServiceChangeParameters) {
        tok(.services); open()
        if let m = s.method {
            item(); tok(.method); equals()
            switch m {
            case .failover: tok(.failover)
            case .forced: tok(.forced)
            case .graceful: tok(.graceful)
            case .restart: tok(.restart)
            case .disconnected: tok(.disconnected)
            case .handOff: tok(.handOff)
            case .other(let x): raw(x)
            }
        }
        if let r = s.reason { item(); tok(.reason); equals(); value(r) }
        if let d = s.delay { item(); tok(.delay); equals(); uint(d) }
        if let a = s.address {
            item(); tok(.serviceChangeAddress); equals()
            switch a {
            case .port(let p): uint(p)
            case .mid(let m): mid(m)
            }
        }
        if let p = s.profile { item(); tok(.profile); equals(); raw(p.name); byte(UInt8(ascii: "/")); uint(p.version) }
        if let v = s.version { item(); tok(.version); equals(); uint(v) }
        if let m = s.mgcIdToTry { item(); tok(.mgcIdToTry); equals(); mid(m) }
        if let t = s.timestamp { item(); raw(t.description) }
        for e in s.extensions { item(); propertyParm(e) }
        close()
    }
}
