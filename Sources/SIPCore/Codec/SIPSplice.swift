/// Forwarding by splicing the received bytes (RFC 3261 §16.6): every edit names the byte range it
/// replaces; `bytes()` copies everything else unchanged. The message is never re-serialised, so header
/// order, compact names, case, folding and comma lists survive (Docs/sipcore.md, platform-notes §1.6).
///
/// Edits are recorded, then applied in one pass. A header line is either edited as a whole (value
/// replaced, line removed) or has comma-separated elements removed; insertions never touch existing bytes.
public struct SIPSplice: Sendable {
    public let message: SIPMessage

    /// What goes into the output in place of `start..<end`.
    private enum Payload: Sendable {
        case none
        case line(name: String, value: String)     // "name: value\r\n"
        case text(String)
        case number(Int)
        case bytes([UInt8])
        case removeElement(header: Int, element: Int, elements: [Range<Int>])  // resolved in bytes()
    }
    private struct Edit: Sendable { var start: Int; var end: Int; var payload: Payload; var order: Int; var header: Int }
    private var edits: [Edit] = []

    public init(_ message: SIPMessage) {
        self.message = message
        edits.reserveCapacity(8)
    }

    /// Errors a splice can report; each knows the response a proxy sends (RFC 3261 §16.3).
    public struct Failure: Error, Sendable, Equatable {
        public var reason: String
        public var disposition: SIPErrorDisposition
    }

    private mutating func add(_ start: Int, _ end: Int, _ payload: Payload, header: Int = -1) {
        edits.append(Edit(start: start, end: end, payload: payload, order: edits.count, header: header))
    }

    // MARK: Insertions

    /// Inserts `Via: value` above the topmost Via (RFC 3261 §16.6 step 8).
    public mutating func insertTopVia(_ value: String) {
        let at = message.headers.first(where: { $0.name == .via })?.lineRange.lowerBound ?? message.headerBlockEnd
        add(at, at, .line(name: "Via", value: value))
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
        add(at, at, .line(name: written, value: value))
    }

    /// Appends `name: value` at the end of the header block.
    public mutating func addHeader(_ name: String, _ value: String) {
        add(message.headerBlockEnd, message.headerBlockEnd, .line(name: name, value: value))
    }

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
            let n = elementCount(f)
            if index < seen + n { try removeElement(headerIndex: h, element: index - seen); return }
            seen += n
        }
        throw Failure(reason: "no Route entry \(index)", disposition: .badRequest)
    }

    /// Removes the topmost Route value (skipping values already removed).
    public mutating func removeTopRoute() throws(Failure) {
        for (h, f) in message.headers.enumerated() where f.name == .route {
            let next = firstRemaining(h)
            if next == 0 || next < elementCount(f) { try removeElement(headerIndex: h, element: next); return }
        }
        throw Failure(reason: "no Route to remove", disposition: .badRequest)
    }

    private func elementCount(_ f: SIPHeaderField) -> Int {
        if f.valueRange.isEmpty { return 0 }
        return message.bytes[f.valueRange].contains(UInt8(ascii: ",")) ? message.elementRanges(of: f).count : 1
    }

    private func isRemoved(_ header: Int, _ element: Int) -> Bool {
        edits.contains { if case .removeElement(header, element, _) = $0.payload { return true } else { return false } }
    }

    private func firstRemaining(_ header: Int) -> Int {
        var i = 0
        while isRemoved(header, i) { i += 1 }
        return i
    }

    private func lineEdited(_ header: Int) -> Bool {
        edits.contains { e in
            if case .removeElement = e.payload { return false }
            return e.header == header
        }
    }

    private mutating func removeElement(headerIndex: Int, element: Int) throws(Failure) {
        guard !lineEdited(headerIndex) else {
            throw Failure(reason: "header line already edited as a whole", disposition: .respond(status: 500, reason: "Server Internal Error"))
        }
        let f = message.headers[headerIndex]
        let elements: [Range<Int>]
        if f.valueRange.isEmpty { elements = [] }
        else if message.bytes[f.valueRange].contains(UInt8(ascii: ",")) { elements = message.elementRanges(of: f) }
        else { elements = [f.valueRange] }
        guard element < elements.count else {
            throw Failure(reason: "no element \(element)", disposition: .badRequest)
        }
        guard !isRemoved(headerIndex, element) else { return }
        add(0, 0, .removeElement(header: headerIndex, element: element, elements: elements), header: headerIndex)
    }

    /// Replaces the value of header `index` (nil: removes the line). Earlier edits of that line go.
    private mutating func editLine(_ index: Int, _ payload: Payload?) {
        edits.removeAll { $0.header == index }
        let f = message.headers[index]
        if let payload { add(f.valueRange.lowerBound, f.valueRange.upperBound, payload, header: index) }
        else { add(f.lineRange.lowerBound, f.lineRange.upperBound, .none, header: index) }
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
        editLine(idx, .number(value - 1))
    }

    /// Replaces the value of the first field called `name` and removes the others; adds the header
    /// when absent. Compact forms of known names count as the same header.
    public mutating func replaceHeader(_ name: String, _ value: String) {
        let indices = message.headerIndices(named: name)
        guard let first = indices.first else { addHeader(name, value); return }
        for i in indices { editLine(i, i == first ? .text(value) : nil) }
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
        add(message.bodyRange.lowerBound, message.bodyRange.upperBound, .bytes(body), header: bodyHeader)
        replaceHeader("Content-Length", String(body.count))
        if let contentType { replaceHeader("Content-Type", contentType) }
    }

    // MARK: Output

    /// The forwarded message: the received bytes with the recorded edits applied.
    public func bytes() -> [UInt8] {
        let src = message.bytes
        var all: [Edit] = []
        all.reserveCapacity(edits.count + 2)
        var order = edits.count
        for (k, e) in edits.enumerated() {
            guard case .removeElement(let h, _, let el) = e.payload else { all.append(e); continue }
            // Resolve all removals of this header once, at its first removal.
            if edits[..<k].contains(where: { if case .removeElement(h, _, _) = $0.payload { return true } else { return false } }) { continue }
            let f = message.headers[h]
            var removedCount = 0
            for i in el.indices where isRemoved(h, i) { removedCount += 1 }
            if removedCount >= el.count {
                all.append(Edit(start: f.lineRange.lowerBound, end: f.lineRange.upperBound, payload: .none, order: order, header: h)); order += 1
                continue
            }
            // Maximal runs of removed elements: cut up to the next kept element, or for a trailing run
            // from the end of the previous kept element (takes the separating comma and LWS with it).
            var a = 0
            while a < el.count {
                guard isRemoved(h, a) else { a += 1; continue }
                var b = a
                while b + 1 < el.count, isRemoved(h, b + 1) { b += 1 }
                let range = b + 1 < el.count ? el[a].lowerBound..<el[b + 1].lowerBound : el[a - 1].upperBound..<el[b].upperBound
                all.append(Edit(start: range.lowerBound, end: range.upperBound, payload: .none, order: order, header: h))
                order += 1
                a = b + 1
            }
        }
        // Insertion sort by (start, order): a handful of edits, mostly in order already.
        var i = 1
        while i < all.count {
            let e = all[i]
            var j = i - 1
            while j >= 0, all[j].start > e.start || (all[j].start == e.start && all[j].order > e.order) {
                all[j + 1] = all[j]; j -= 1
            }
            all[j + 1] = e
            i += 1
        }
        var extra = 0
        for e in all {
            switch e.payload {
            case .line(let n, let v): extra += n.utf8.count + v.utf8.count + 4
            case .text(let t): extra += t.utf8.count
            case .number: extra += 20
            case .bytes(let b): extra += b.count
            case .none, .removeElement: break
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(src.count + extra)
        var cursor = 0
        for e in all {
            if e.start > cursor { out.append(contentsOf: src[cursor..<e.start]) }
            switch e.payload {
            case .line(let n, let v):
                out.append(contentsOf: n.utf8); out.append(0x3A); out.append(0x20)
                out.append(contentsOf: v.utf8); out.append(0x0D); out.append(0x0A)
            case .text(let t): out.append(contentsOf: t.utf8)
            case .number(let v): appendDecimal(v, to: &out)
            case .bytes(let b): out.append(contentsOf: b)
            case .none, .removeElement: break
            }
            if e.end > cursor { cursor = e.end }
        }
        if cursor < src.count { out.append(contentsOf: src[cursor...]) }
        return out
    }
}

@inline(__always) func appendDecimal(_ value: Int, to out: inout [UInt8]) {
    var v = value
    if v < 0 { out.append(UInt8(ascii: "-")); v = 0 &- v }
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var n = 0
    withUnsafeMutableBytes(of: &digits) { d in
        repeat { d[n] = UInt8(v % 10) + 0x30; v /= 10; n += 1 } while v > 0 && n < 20
        while n > 0 { n -= 1; out.append(d[n]) }
    }
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
