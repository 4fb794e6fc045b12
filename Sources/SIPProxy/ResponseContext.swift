// Response context of one server transaction (RFC 3261 §16.7, §16.8 Timer C, §16.10 CANCEL):
// a pure state machine over its client-transaction branches. Events in, actions out.
public import SIPCore

/// Actions for the driver.
public enum ResponseAction: Sendable, Equatable {
    /// Send this provisional response (101-199) upstream (§16.7 step 5).
    case forwardProvisional([UInt8])
    /// Send this 2xx upstream now (§16.7 step 5: every 2xx is forwarded).
    case forward2xx([UInt8])
    /// Send this final non-2xx upstream: the best response once all branches are done (§16.7 step 6).
    case forwardFinal(status: Int, bytes: [UInt8])
    /// Send this CANCEL on branch `branch` (§16.7 step 10 on 2xx, §16.7 step 5 on 6xx, §16.8 Timer C,
    /// §16.10 on CANCEL).
    case cancel(branch: String, bytes: [UInt8])
}

/// Events the driver feeds in (the transaction layer matches responses to branches and reports timers).
public enum ResponseEvent: Sendable {
    /// A response on `branch`, already processed by `SIPProxyCore.processResponse`.
    case response(branch: String, outcome: ResponseOutcome)
    /// The client transaction of `branch` timed out or failed at the transport (§16.7 step 1: 408).
    case branchTimedOut(branch: String)
    /// Timer C fired for `branch` (§16.8).
    case timerC(branch: String)
    /// A CANCEL matched this (INVITE) context (§16.10).
    case cancelReceived
}

public struct ResponseContext: Sendable {
    public enum BranchState: Sendable, Equatable {
        /// No response yet.
        case calling
        /// A provisional response was received.
        case proceeding
        /// A final response was received (or synthesised: 408 on timeout).
        case completed(status: Int)
    }

    public struct Branch: Sendable {
        public let id: String
        /// The request sent on this branch (for the CANCEL of §9.1).
        public let request: [UInt8]
        public internal(set) var state: BranchState
        /// A CANCEL was wanted before any provisional response: sent when one arrives (§9.1).
        public internal(set) var cancelPending: Bool
        /// A CANCEL was already issued for this branch.
        public internal(set) var cancelled: Bool
    }

    /// The request received on the server transaction.
    public let request: SIPMessage
    /// To tag for the responses this context synthesises (408 of a timeout, 500 for a 503, §16.7 step 6).
    public let toTag: String
    public private(set) var branches: [Branch] = []
    /// A final response has been sent upstream (a 2xx, or the best final).
    public private(set) var finalForwarded = false
    /// No new branches after a 6xx or a 2xx (§16.7 step 5, step 10) or a CANCEL (§16.10).
    public private(set) var noNewBranches = false
    private var best: (status: Int, bytes: [UInt8])?
    /// Final 401/407 responses, for challenge aggregation (§16.7 step 7); at most one per branch.
    private var challenges: [[UInt8]] = []

    /// Branches per server transaction (RFC 3261 §16.5 sets no limit; bounded so a target set from the
    /// network cannot grow state without end).
    public static let maxBranches = 16

    public init(request: SIPMessage, toTag: String) {
        self.request = request
        self.toTag = toTag
    }

    /// True for INVITE contexts (the only ones with CANCEL and Timer C).
    public var isInvite: Bool { request.method == "INVITE" }

    /// Adds a branch for a forwarded request. Returns false when no new branch may be added.
    @discardableResult
    public mutating func addBranch(_ decision: ForwardDecision) -> Bool {
        guard !noNewBranches, !finalForwarded, branches.count < Self.maxBranches else { return false }
        branches.append(Branch(id: decision.branch, request: decision.bytes, state: .calling, cancelPending: false, cancelled: false))
        return true
    }

    /// True when `cancel`'s top Via matches the received request's (§16.10, §17.2.3 matching rule).
    public func matches(cancel: SIPMessage) -> Bool {
        guard cancel.method == "CANCEL", let c = cancel.topVia, let r = request.topVia, let b = c.branch else { return false }
        return b == r.branch && c.host.lowercased() == r.host.lowercased() && c.port == r.port && cancel.callID == request.callID
    }

    public mutating func handle(_ event: ResponseEvent) -> [ResponseAction] {
        switch event {
        case .response(let id, let outcome):
            guard let i = branches.firstIndex(where: { $0.id == id }) else { return [] }
            switch outcome {
            case .drop: return []
            case .replace(let rejection):
                let bytes = rejection.response(to: request, toTag: toTag)
                return final(i, status: rejection.status, bytes: bytes)
            case .forward(let bytes, let status):
                if status < 200 {
                    var actions: [ResponseAction] = []
                    if branches[i].state == .calling { branches[i].state = .proceeding }
                    if branches[i].cancelPending { actions += cancel(i) }
                    // §16.7 step 5: 100 is not forwarded; others are, until a final went upstream.
                    if status > 100, !finalForwarded { actions.append(.forwardProvisional(bytes)) }
                    return actions
                }
                return final(i, status: status, bytes: bytes)
            }
        case .branchTimedOut(let id):
            guard let i = branches.firstIndex(where: { $0.id == id }) else { return [] }
            return final(i, status: 408, bytes: SIPResponseBuilder.response(to: request, status: 408, reason: "Request Timeout", toTag: toTag))
        case .timerC(let id):
            guard let i = branches.firstIndex(where: { $0.id == id }) else { return [] }
            switch branches[i].state {
            case .proceeding: return cancel(i)
            case .calling:
                // §16.8: no provisional yet: behave as if a 408 was received.
                return final(i, status: 408, bytes: SIPResponseBuilder.response(to: request, status: 408, reason: "Request Timeout", toTag: toTag))
            case .completed: return []
            }
        case .cancelReceived:
            noNewBranches = true
            return cancelAllPending()
        }
    }

    private mutating func final(_ i: Int, status: Int, bytes: [UInt8]) -> [ResponseAction] {
        if case .completed = branches[i].state {
            // A retransmitted or later final on a done branch: only 2xx go upstream (§16.7 step 5).
            return (200..<300).contains(status) ? [.forward2xx(bytes)] : []
        }
        branches[i].state = .completed(status: status)
        branches[i].cancelPending = false
        var actions: [ResponseAction] = []
        if (200..<300).contains(status) {
            actions.append(.forward2xx(bytes))
            finalForwarded = true
            noNewBranches = true
            actions += cancelAllPending() // §16.7 step 10
            return actions
        }
        if status >= 600 {
            noNewBranches = true
            actions += cancelAllPending() // §16.7 step 5
        }
        if status == 401 || status == 407 { challenges.append(bytes) }
        if best.map({ Self.rank(status) < Self.rank($0.status) }) ?? true { best = (status, bytes) }
        actions += finishIfDone()
        return actions
    }

    private mutating func finishIfDone() -> [ResponseAction] {
        guard !finalForwarded, let best else { return [] }
        let allDone = branches.allSatisfy { if case .completed = $0.state { return true } else { return false } }
        guard allDone else { return [] }
        finalForwarded = true
        if best.status == 503 {
            // §16.7 step 6: a 503 chosen as best is sent upstream as 500.
            return [.forwardFinal(status: 500, bytes: SIPResponseBuilder.response(to: request, status: 500, reason: "Server Internal Error", toTag: toTag))]
        }
        if best.status == 401 || best.status == 407, challenges.count > 1 {
            return [.forwardFinal(status: best.status, bytes: Self.aggregateChallenges(best.bytes, challenges))]
        }
        return [.forwardFinal(status: best.status, bytes: best.bytes)]
    }

    /// §16.7 step 7: the chosen 401/407 gets the WWW-Authenticate and Proxy-Authenticate values of every
    /// other 401/407 (added at the end of its header block; its own bytes are kept).
    static func aggregateChallenges(_ chosen: [UInt8], _ all: [[UInt8]]) -> [UInt8] {
        guard let message = try? SIPParser.scan(chosen) else { return chosen }
        var splice = SIPSplice(message)
        var skippedSelf = false
        for bytes in all {
            if !skippedSelf, bytes == chosen { skippedSelf = true; continue }
            guard let other = try? SIPParser.scan(bytes) else { continue }
            for name in ["WWW-Authenticate", "Proxy-Authenticate"] {
                for f in other.fields(named: name) { splice.addHeader(name, other.value(of: f)) }
            }
        }
        return splice.bytes()
    }

    private mutating func cancelAllPending() -> [ResponseAction] {
        guard isInvite else { return [] }
        var actions: [ResponseAction] = []
        for i in branches.indices where !branches[i].cancelled {
            switch branches[i].state {
            case .proceeding: actions += cancel(i)
            case .calling: branches[i].cancelPending = true // §9.1: wait for a provisional response
            case .completed: break
            }
        }
        return actions
    }

    private mutating func cancel(_ i: Int) -> [ResponseAction] {
        guard isInvite, !branches[i].cancelled, let bytes = ProxyCancelBuilder.cancel(forRequest: branches[i].request) else { return [] }
        branches[i].cancelled = true
        branches[i].cancelPending = false
        return [.cancel(branch: branches[i].id, bytes: bytes)]
    }

    /// §16.7 step 6 ordering: 6xx first, then the lowest class; within 4xx, responses that help the
    /// client resubmit (401, 407, 415, 420, 484) first. Lower is better.
    static func rank(_ status: Int) -> Int {
        if status >= 600 { return 0 }
        let preferred: Set<Int> = [401, 407, 415, 420, 484]
        return (status / 100) * 10 + (preferred.contains(status) ? 0 : 1)
    }
}

/// CANCEL for a request we forwarded (RFC 3261 §9.1): same Request-URI, Call-ID, To, From and CSeq
/// number (method CANCEL), a single Via equal to the request's top Via, Route copied.
public enum ProxyCancelBuilder {
    public static func cancel(forRequest bytes: [UInt8]) -> [UInt8]? {
        guard let request = try? SIPParser.scan(bytes), request.method == "INVITE", let uri = request.requestURI,
              let via = request.fields(.via).first, let cseq = request.cseq else { return nil }
        var out: [UInt8] = Array("CANCEL \(uri) SIP/2.0\r\n".utf8)
        let viaElements = request.elementRanges(of: via)
        guard let topVia = viaElements.first else { return nil }
        out += Array("Via: ".utf8) + request.bytes[topVia] + [0x0D, 0x0A]
        for h in request.headers {
            switch h.name {
            case .route, .from, .to, .callID: out += request.bytes[h.lineRange]
            default: continue
            }
        }
        out += Array("CSeq: \(cseq.number) CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n".utf8)
        return out
    }
}
