/// Forwarding by splicing the received bytes (RFC 3261 §16.6): every edit names the byte range it
/// replaces; `bytes()` copies everything else unchanged. The message is never re-serialised, so header
/// order, compact names, case, folding and comma lists survive (Docs/sipcore.md, platform-notes §1.6).
///
/// A header line is either edited as a whole (value replaced, line removed) or has comma-separated
/// elements removed; insertions never touch existing bytes. Edits are kept sorted by position and their
/// replacement bytes live in one arena, so `bytes()` is a single copy pass.
public struct SIPSplice: Sendable {
    public let message: SIPMessage

    /// Replace `start..<end` of the message by `arena[repStart..<repEnd]`. `header` is the header index
    /// the edit belongs to (-1 for insertions, -2 for the body); `element` >= 0 marks an element removal.
    private struct Edit: Sendable {
        var start: Int, end: Int, repStart: Int, repEnd: Int, header: Int, element: Int
        var isElementRemoval: Bool { element >= 0 }
    }
    private var edits: [Edit] = []
    private var arena: [UInt8] = []
    private var sequence = 0

    public init(_ message: SIPMessage) {
        self.message = message
        edits.reserveCapacity(8)
    }

    /// Errors a splice can report; each knows the response a proxy sends (RFC 3261 §16.3).
    public struct Failure: Error, Sendable, Equatable {
        public var reason: String
        public var disposition: SIPErrorDisposition
    }

    /// Inserts `e` keeping `edits` sorted by start (stable: later edits at the same start go after).
    private mutating func record(_ e: Edit) {
        var i = edits.count
        while i > 0, edits[i - 1].start > e.start { i -= 1 }
        edits.insert(e, at: i)
    }

    private mutating func add(_ start: Int, _ end: Int, header: Int = -1, element: Int = -1, _ write: (inout [UInt8]) -> Void = { _ in }) {
        // The arena is made on the first edit recorded here (a response's Via removal records its edit
        // directly and never needs one).
        if arena.capacity == 0 { arena.reserveCapacity(256) }
        let rs = arena.count
        write(&arena)
        record(Edit(start: start, end: end, repStart: rs, repEnd: arena.count, header: header, element: element))
    }

    private mutating func addLine(at: Int, _ name: String, _ value: String) {
        add(at, at) { a in
            a.append(contentsOf: name.utf8); a.append(0x3A); a.append(0x20)
            a.append(contentsOf: value.utf8); a.append(0x0D); a.append(0x0A)
        }
    }

    // MARK: Insertions

    /// Inserts `Via: value` above the topmost Via (RFC 3261 §16.6 step 8).
    public mutating func insertTopVia(_ value: String) {
        let at = message.headers.first(where: { $0.name == .via })?.lineRange.lowerBound ?? message.headerBlockEnd
        addLine(at: at, "Via", value)
    }

    /// Inserts `Record-Route: value` above the topmost Record-Route, or below the last Via when there is
    /// none (RFC 3261 §16.6 step 4: the proxy's entry goes on top of the set).
    public mutating func insertRecordRoute(_ value: String) { insertOnTop(.recordRoute, "Record-Route", value) }

    /// Inserts `Path: value` above the topmost Path, or below the last Via (RFC 3327 §5.1).
    public mutating func insertPath(_ value: String) { insertOnTop(.path, "Path", value) }

    private mutating func insertOnTop(_ name: SIPHeaderName, _ written: String, _ value: String) {
        let at: Int
        if let f = message.headers.first(where: { $0.name == name }) { at = f.lineRange.lowerBound }
        else if let v = message.headers.last(where: { $0.name == .via }) { at = v.lineRange.upperBound }
        else { at = message.headerBlockEnd }
        addLine(at: at, written, value)
    }

    /// Appends `name: value` at the end of the header block.
    public mutating func addHeader(_ name: String, _ value: String) { addLine(at: message.headerBlockEnd, name, value) }

    // MARK: Removals and replacements

    /// Removes the topmost Via value (RFC 3261 §16.7 step 3 on responses); other values sharing its line
    /// stay byte-identical.
    public mutating func removeTopVia() throws(Failure) {
        guard let idx = message.headers.firstIndex(where: { $0.name == .via }) else {
            throw Failure(reason: "no Via to remove", disposition: .drop)
        }
        try removeElement(headerIndex: idx, element: firstRemaining(idx))
    }

    /// Removes the `index`-th Route value counted over all Route lines and commas (RFC 3261 §16.4: the
    /// proxy removes its own URI from the top of the Route set; §16.12 loose routing).
    public mutating func removeRoute(at index: Int) throws(Failure) {
        var seen = 0
        for (h, f) in message.headers.enumerated() where f.name == .route {
            let n = elements(of: f).count
            if index < seen + n { try removeElement(headerIndex: h, element: index - seen); return }
            seen += n
        }
        throw Failure(reason: "no Route entry \(index)", disposition: .badRequest)
    }

    /// Removes the topmost Route value (skipping values already removed).
    public mutating func removeTopRoute() throws(Failure) {
        for (h, f) in message.headers.enumerated() where f.name == .route {
            let next = firstRemaining(h)
            if next == 0 || next < elements(of: f).count { try removeElement(headerIndex: h, element: next); return }
        }
        throw Failure(reason: "no Route to remove", disposition: .badRequest)
    }

    /// Element ranges of a field; a value without a comma is one element (no scan needed).
    private func elements(of f: SIPHeaderField) -> [Range<Int>] {
        if f.valueRange.isEmpty { return [] }
        return message.bytes[f.valueRange].contains(UInt8(ascii: ",")) ? message.elementRanges(of: f) : [f.valueRange]
    }

    private func isRemoved(_ header: Int, _ element: Int) -> Bool {
        edits.contains { $0.header == header && $0.element == element }
    }

    private func firstRemaining(_ header: Int) -> Int {
        var i = 0
        while isRemoved(header, i) { i += 1 }
        return i
    }

    private mutating func removeElement(headerIndex h: Int, element: Int) throws(Failure) {
        guard !edits.contains(where: { $0.header == h && !$0.isElementRemoval }) else {
            throw Failure(reason: "header line already edited as a whole", disposition: .respond(status: 500, reason: "Server Internal Error"))
        }
        let f = message.headers[h]
        // Common case: the first removal on this line; only the neighbours matter (no allocation).
        if !edits.contains(where: { $0.header == h }) {
            var previous: Range<Int>? = nil, this: Range<Int>? = nil, next: Range<Int>? = nil
            var i = 0
            message.forEachElementRange(of: f) { r in
                if i == element - 1 { previous = r } else if i == element { this = r } else if i == element + 1 { next = r; return false }
                i += 1
                return true
            }
            guard let this else { throw Failure(reason: "no element \(element)", disposition: .badRequest) }
            let r: Range<Int>
            if let next { r = this.lowerBound..<next.lowerBound }
            else if let previous { r = previous.upperBound..<this.upperBound }
            else { r = f.lineRange }
            record(Edit(start: r.lowerBound, end: r.upperBound, repStart: 0, repEnd: 0, header: h, element: element))
            return
        }
        let el = elements(of: f)
        guard element < el.count else { throw Failure(reason: "no element \(element)", disposition: .badRequest) }
        guard !isRemoved(h, element) else { return }
        // Recompute this line's removal edits: maximal runs of removed elements are cut up to the next
        // kept element, or for a trailing run from the end of the previous kept element (the separating
        // comma and LWS go with it); all elements removed → the whole line goes.
        var removed = [Bool](repeating: false, count: el.count)
        for e in edits where e.header == h { removed[e.element] = true }
        removed[element] = true
        edits.removeAll { $0.header == h }
        if removed.allSatisfy({ $0 }) {
            for (i, _) in removed.enumerated() {
                let r = i == 0 ? f.lineRange : f.lineRange.upperBound..<f.lineRange.upperBound
                add(r.lowerBound, r.upperBound, header: h, element: i)
            }
            return
        }
        var a = 0
        while a < el.count {
            guard removed[a] else { a += 1; continue }
            var b = a
            while b + 1 < el.count, removed[b + 1] { b += 1 }
            let r = b + 1 < el.count ? el[a].lowerBound..<el[b + 1].lowerBound : el[a - 1].upperBound..<el[b].upperBound
            // One edit carries the run; the other removed elements are recorded as empty markers.
            add(r.lowerBound, r.upperBound, header: h, element: a)
            for m in (a + 1)..<(b + 1) { add(r.upperBound, r.upperBound, header: h, element: m) }
            a = b + 1
        }
    }

    /// Replaces the value of header `index`, or removes the line when `value` is nil. Earlier edits of
    /// that line are dropped.
    private mutating func editLine(_ index: Int, _ write: ((inout [UInt8]) -> Void)?) {
        edits.removeAll { $0.header == index }
        let f = message.headers[index]
        if let write { add(f.valueRange.lowerBound, f.valueRange.upperBound, header: index, write) }
        else { add(f.lineRange.lowerBound, f.lineRange.upperBound, header: index) }
    }

    /// Decrements Max-Forwards, or adds `Max-Forwards: 70` when absent (RFC 3261 §16.6 step 3).
    /// Throws 483 Too Many Hops when it is already 0 (RFC 3261 §16.3 step 3).
    public mutating func decrementMaxForwards() throws(Failure) {
        guard let idx = message.headers.firstIndex(where: { $0.name == .maxForwards }) else {
            addHeader("Max-Forwards", "70")
            return
        }
        guard let value = message.maxForwards else {
            throw Failure(reason: "Max-Forwards is not 0...255", disposition: .badRequest)
        }
        guard value > 0 else { throw Failure(reason: "Max-Forwards is 0", disposition: .respond(status: 483, reason: "Too Many Hops")) }
        editLine(idx) { appendDecimal(value - 1, to: &$0) }
    }

    /// Replaces the value of the first field called `name` and removes the others; adds the header
    /// when absent. Compact forms of known names count as the same header.
    public mutating func replaceHeader(_ name: String, _ value: String) {
        let indices = message.headerIndices(named: name)
        guard let first = indices.first else { addHeader(name, value); return }
        for i in indices { editLine(i, i == first ? { $0.append(contentsOf: value.utf8) } : nil) }
    }

    /// Removes every line of the header called `name` (compact forms of known names included).
    public mutating func removeHeader(_ name: String) {
        for i in message.headerIndices(named: name) { editLine(i, nil) }
    }

    /// Replaces the body; Content-Length is rewritten to the new size (added when absent), and
    /// Content-Type replaced when given (RFC 3261 §20.14, §20.15).
    public mutating func replaceBody(_ body: [UInt8], contentType: String? = nil) {
        let bodyHeader = -2
        edits.removeAll { $0.header == bodyHeader }
        add(message.bodyRange.lowerBound, message.bodyRange.upperBound, header: bodyHeader) { $0.append(contentsOf: body) }
        replaceHeader("Content-Length", String(body.count))
        if let contentType { replaceHeader("Content-Type", contentType) }
    }

    // MARK: Output

    /// Size of the forwarded message.
    public var outputCount: Int {
        var total = message.bytes.count + arena.count
        for e in edits { total -= e.end - e.start }
        return total
    }

    /// The forwarded message: the received bytes with the recorded edits applied.
    public func bytes() -> [UInt8] {
        var out: [UInt8] = []
        write(into: &out)
        return out
    }

    /// Appends the forwarded message to `out` (lets a transport reuse one output buffer).
    public func write(into out: inout [UInt8]) {
        out.reserveCapacity(out.count + outputCount)
        message.bytes.withUnsafeBufferPointer { s in
            arena.withUnsafeBufferPointer { a in
                var cursor = 0
                for e in edits {
                    if e.start > cursor { out.append(contentsOf: UnsafeBufferPointer(rebasing: s[cursor..<e.start])) }
                    if e.repEnd > e.repStart { out.append(contentsOf: UnsafeBufferPointer(rebasing: a[e.repStart..<e.repEnd])) }
                    if e.end > cursor { cursor = e.end }
                }
                if cursor < s.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: s[cursor...])) }
            }
        }
    }
}

@inline(__always) func appendDecimal(_ value: Int, to out: inout [UInt8]) {
    var v = value
    if v < 0 { out.append(UInt8(ascii: "-")); v = 0 &- v }
    var divisor = 1
    while divisor <= v / 10 { divisor *= 10 }
    repeat { out.append(UInt8(v / divisor % 10) + 0x30); divisor /= 10 } while divisor > 0
}

extension SIPMessage {
    /// Indices into `headers` of the fields called `name` (case-insensitive; compact forms of known names).
    public func headerIndices(named name: String) -> [Int] {
        let known = SIPHeaderName(text: name)
        if known != .other { return headers.indices.filter { headers[$0].name == known } }
        let lower = Array(name.lowercased().utf8)
        return headers.indices.filter { i in
            let h = headers[i]
            return h.name == .other && h.nameRange.count == lower.count
                && zip(bytes[h.nameRange], lower).allSatisfy { $0 | 0x20 == $1 | 0x20 }
        }
    }
}
