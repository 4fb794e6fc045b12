/// Forwarding by splicing the received bytes (RFC 3261 §16.6): every edit names the byte range it
/// replaces; `bytes()` copies everything else unchanged. The message is never re-serialised, so header
/// order, compact names, case, folding and comma lists survive (Docs/sipcore.md, platform-notes §1.6).
///
/// Edits are recorded, then applied in one pass. Each header line can be edited once as a whole
/// (replace / remove) or have elements removed; insertions never touch existing bytes.
public struct SIPSplice: Sendable {
    public let message: SIPMessage

    private struct Insertion: Sendable { var at: Int; var bytes: [UInt8] }
    private var insertions: [Insertion] = []
    /// header index -> replacement for its value range (nil = remove the whole line)
    private var lineEdits: [Int: [UInt8]?] = [:]
    /// header index -> removed element indices (comma-separated values on that line)
    private var elementRemovals: [Int: Set<Int>] = [:]
    private var newBody: [UInt8]? = nil

    public init(_ message: SIPMessage) { self.message = message }

    /// Errors a splice can report; each knows the response a proxy sends (RFC 3261 §16.3).
    public struct Failure: Error, Sendable, Equatable {
        public var reason: String
        public var disposition: SIPErrorDisposition
    }

    // MARK: Insertions

    private static func line(_ name: String, _ value: String) -> [UInt8] { Array("\(name): \(value)\r\n".utf8) }

    /// Inserts `Via: value` above the topmost Via (RFC 3261 §16.6 step 8).
    public mutating func insertTopVia(_ value: String) {
        let at = message.headers.first(where: { $0.name == .via })?.lineRange.lowerBound ?? message.headerBlockEnd
        insertions.append(Insertion(at: at, bytes: Self.line("Via", value)))
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
        insertions.append(Insertion(at: at, bytes: Self.line(written, value)))
    }

    /// Appends `name: value` at the end of the header block.
    public mutating func addHeader(_ name: String, _ value: String) {
        insertions.append(Insertion(at: message.headerBlockEnd, bytes: Self.line(name, value)))
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
            let n = message.elementRanges(of: f).count
            if index < seen + n { try removeElement(headerIndex: h, element: index - seen); return }
            seen += n
        }
        throw Failure(reason: "no Route entry \(index)", disposition: .badRequest)
    }

    /// Removes the topmost Route value.
    public mutating func removeTopRoute() throws(Failure) {
        guard let idx = message.headers.firstIndex(where: { $0.name == .route }) else {
            throw Failure(reason: "no Route to remove", disposition: .badRequest)
        }
        try removeElement(headerIndex: idx, element: firstRemaining(idx))
    }

    private func firstRemaining(_ header: Int) -> Int {
        let removed = elementRemovals[header] ?? []
        var i = 0
        while removed.contains(i) { i += 1 }
        return i
    }

    private mutating func removeElement(headerIndex: Int, element: Int) throws(Failure) {
        guard lineEdits[headerIndex] == nil else { throw Failure(reason: "header line already edited", disposition: .respond(status: 500, reason: "Server Internal Error")) }
        let count = message.elementRanges(of: message.headers[headerIndex]).count
        guard element < count else { throw Failure(reason: "no element \(element)", disposition: .badRequest) }
        elementRemovals[headerIndex, default: []].insert(element)
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
        lineEdits[idx] = Array(String(value - 1).utf8)
    }

    /// Replaces the value of every field called `name` by `value` on the first such line and removes the
    /// others; adds the header when absent.
    public mutating func replaceHeader(_ name: String, _ value: String) {
        let indices = headerIndices(named: name)
        guard let first = indices.first else { addHeader(name, value); return }
        for i in indices {
            lineEdits[i] = i == first ? Array(value.utf8) : .some(nil)
            elementRemovals[i] = nil
        }
    }

    /// Removes every line of the header called `name` (compact forms of known names included).
    public mutating func removeHeader(_ name: String) {
        for i in headerIndices(named: name) { lineEdits[i] = .some(nil); elementRemovals[i] = nil }
    }

    private func headerIndices(named name: String) -> [Int] {
        let lines = message.fields(named: name)
        return message.headers.indices.filter { lines.contains(message.headers[$0]) }
    }

    /// Replaces the body; Content-Length is rewritten to the new size (added when absent), and
    /// Content-Type replaced when given (RFC 3261 §20.14, §20.15).
    public mutating func replaceBody(_ body: [UInt8], contentType: String? = nil) {
        newBody = body
        replaceHeader("Content-Length", String(body.count))
        if let contentType { replaceHeader("Content-Type", contentType) }
    }

    // MARK: Output

    private struct Edit { var start: Int; var end: Int; var bytes: [UInt8]; var order: Int }

    /// The forwarded message: the received bytes with the recorded edits applied.
    public func bytes() -> [UInt8] {
        let src = message.bytes
        var edits: [Edit] = []
        edits.reserveCapacity(insertions.count + lineEdits.count + elementRemovals.count + 1)
        var order = 0
        for ins in insertions { edits.append(Edit(start: ins.at, end: ins.at, bytes: ins.bytes, order: order)); order += 1 }
        for (idx, replacement) in lineEdits {
            let f = message.headers[idx]
            if let replacement {
                edits.append(Edit(start: f.valueRange.lowerBound, end: f.valueRange.upperBound, bytes: replacement, order: order))
            } else {
                edits.append(Edit(start: f.lineRange.lowerBound, end: f.lineRange.upperBound, bytes: [], order: order))
            }
            order += 1
        }
        for (idx, removed) in elementRemovals {
            let f = message.headers[idx]
            let el = message.elementRanges(of: f)
            if removed.count >= el.count {
                edits.append(Edit(start: f.lineRange.lowerBound, end: f.lineRange.upperBound, bytes: [], order: order)); order += 1
                continue
            }
            // Maximal runs of removed elements: cut up to the next kept element, or for a trailing run,
            // from the end of the previous kept element (removes the separating comma and LWS).
            var a = 0
            while a < el.count {
                guard removed.contains(a) else { a += 1; continue }
                var b = a
                while b + 1 < el.count, removed.contains(b + 1) { b += 1 }
                if b + 1 < el.count {
                    edits.append(Edit(start: el[a].lowerBound, end: el[b + 1].lowerBound, bytes: [], order: order))
                } else {
                    edits.append(Edit(start: el[a - 1].upperBound, end: el[b].upperBound, bytes: [], order: order))
                }
                order += 1
                a = b + 1
            }
        }
        var bodyStart = message.bodyRange.lowerBound
        if let newBody {
            edits.append(Edit(start: message.bodyRange.lowerBound, end: message.bodyRange.upperBound, bytes: newBody, order: order))
            bodyStart = message.bodyRange.upperBound
        }
        _ = bodyStart
        edits.sort { $0.start != $1.start ? $0.start < $1.start : $0.order < $1.order }
        var out: [UInt8] = []
        out.reserveCapacity(src.count + edits.reduce(0) { $0 + $1.bytes.count })
        var cursor = 0
        for e in edits {
            if e.start > cursor { out.append(contentsOf: src[cursor..<e.start]) }
            out.append(contentsOf: e.bytes)
            cursor = max(cursor, e.end)
        }
        if cursor < src.count { out.append(contentsOf: src[cursor...]) }
        return out
    }
}
