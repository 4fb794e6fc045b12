// The IMS-ALG session state machine (pure: no I/O, no clock reads, no randomness; `now` and the first
// operation id are parameters). It binds one SIP dialog (Call-ID + local tag; early dialogs by remote
// tag) and its offer/answer exchanges to one H.248 context and the terminations of each stream.
//
//   idle --offer--> offerAwaitingGateway --reply ok--> awaitingAnswer --answer--> answerAwaitingGateway
//   answerAwaitingGateway --reply ok (final)--> established;  (early) --> awaitingAnswer
//   established --re-offer--> offerAwaitingGateway ... --> established
//   any --error/CANCEL/BYE/timer/reaper/gateway loss--> terminated (context released)
//
// Clauses: TS 23.334 §5.11.2.2 and §8 (seed 000), TS 23.228 §6.2.10.3.2 flows (seed 004), RFC 3261
// §12/§13.2.2.4/§16.7 (dialogs and forking), RFC 3264 (offer/answer), RFC 4028 §10 (session timer),
// RFC 3261 §16.6 Timer C (a transaction that never completes). See Docs/session.md.
import SDPCore
import SDPRewrite

/// One SIP dialog as the ALG sees it before forking: Call-ID and the local (From) tag.
public struct SIPDialogID: Hashable, Sendable {
    public var callID: String
    public var localTag: String
    public init(callID: String, localTag: String) {
        self.callID = callID
        self.localTag = localTag
    }
}

public struct ALGSessionConfiguration: Sendable, Equatable {
    public var policy: RewritePolicy
    /// Warning agent (RFC 3261 §20.43 warn-agent): the P-CSCF host name.
    public var warningAgent: String
    /// A session that is not established after this long is reaped (RFC 3261 §16.6 Timer C: > 3 min). [U]
    public var setupTimeout: Duration
    public init(policy: RewritePolicy = .default, warningAgent: String = "pcscf", setupTimeout: Duration = .seconds(180)) {
        self.policy = policy
        self.warningAgent = warningAgent
        self.setupTimeout = setupTimeout
    }
}

public enum ALGSessionEvent: Sendable, Equatable {
    /// An SDP offer (INVITE, UPDATE, re-INVITE, or a 18x/2xx carrying the offer) from `from`.
    case offerReceived(sdp: String, from: Side, now: Duration)
    /// An SDP answer in a response (or ACK/PRACK) of the dialog with remote tag `dialogTag`. `sdp` is nil
    /// for a 2xx without body whose answer came earlier in a reliable 18x of the same dialog. `isFinal`:
    /// the 2xx (or ACK) that confirms the dialog.
    case answerReceived(sdp: String?, dialogTag: String, isFinal: Bool, now: Duration)
    case gatewayReplied(MGCOperationID, MGCResult)
    /// A final non-2xx response to the request that carried the pending offer.
    case finalErrorResponse(status: Int)
    case cancel
    case bye
    case sessionTimerExpired(now: Duration)
    case tick(now: Duration)
    case gatewayEvent(GatewayEvent)
}

public enum ALGSessionAction: Sendable, Equatable {
    case mgc(MGCOperationID, MGCOperation)
    case forwardSDP(String, towards: Side)
    /// Answer the request carrying the pending offer with this final response (488/500/503/408).
    case rejectSIP(SIPRejection)
    /// Send a re-INVITE to both sides with this m-line at port 0 (RFC 3264 §8.2).
    case sendReINVITERemovingStream(index: Int)
    /// End the dialog on both sides (BYE once confirmed; CANCEL/error for an early dialog) with this Warning.
    case sendBYE(warning: String)
    /// The session is over; the driver forgets it.
    case done
}

public struct ALGSessionStateMachine: Sendable {
    public enum State: String, Sendable, Equatable {
        case idle, offerAwaitingGateway, awaitingAnswer, answerAwaitingGateway, established, terminated
    }

    /// Bound on early dialogs remembered for one INVITE (RFC 3261 §16.7 forking; a proxy may fork widely
    /// but the ALG keeps at most this many answers; further early dialogs get no media).
    public static let maxEarlyDialogs = 16
    /// Bound on answers queued while an answer's Configure is outstanding.
    public static let maxQueuedAnswers = 16

    enum Pending: Sendable {
        case offer(from: Side, initial: Bool)
        case answer(tag: String, sdp: String, isFinal: Bool, rewrite: RewriteSession)
    }

    struct QueuedAnswer: Sendable {
        var sdp: String?
        var tag: String
        var isFinal: Bool
    }

    public let dialog: SIPDialogID
    public let configuration: ALGSessionConfiguration
    public private(set) var state: State = .idle
    public private(set) var contextID: String?
    /// Terminations per stream index.
    public private(set) var terminations: [Int: MGCStreamTerminations] = [:]
    /// Remote tags of early dialogs with their (original) answer SDP.
    public private(set) var earlyDialogs: [String: String] = [:]
    /// Remote tag of the confirmed dialog.
    public private(set) var confirmedTag: String?
    /// Remote tag whose answer is currently configured on the AGW (last answer wins).
    public private(set) var appliedTag: String?
    public let createdAt: Duration

    var rewrite: RewriteSession
    /// The rewrite state after the offer was applied (awaiting any answer): every early dialog's answer
    /// is processed from here, so that a later different answer reconfigures the same terminations.
    var offerSnapshot: RewriteSession?
    var offerDirection: CallDirection = .originating
    var appliedAnswerSDP: String?
    var forwardedAnswer: String?
    var pending: (id: MGCOperationID, what: Pending)?
    var queued: [QueuedAnswer] = []
    var nextOperation: UInt64

    public init(dialog: SIPDialogID, flags: MediaSecurityFlags, configuration: ALGSessionConfiguration = .init(),
                now: Duration, firstOperationID: UInt64 = 1) {
        self.dialog = dialog
        self.configuration = configuration
        self.createdAt = now
        self.rewrite = RewriteSession(policy: configuration.policy, flags: flags)
        self.nextOperation = firstOperationID
    }

    /// The operation id the machine is waiting for, if any.
    public var pendingOperation: MGCOperationID? { pending?.id }

    // MARK: events

    public mutating func handle(_ event: ALGSessionEvent) -> [ALGSessionAction] {
        if state == .terminated { return [] }
        switch event {
        case .offerReceived(let sdp, let from, _):
            return offer(sdp, from: from)
        case .answerReceived(let sdp, let tag, let isFinal, _):
            return answer(QueuedAnswer(sdp: sdp, tag: tag, isFinal: isFinal))
        case .gatewayReplied(let id, let result):
            return gatewayReplied(id, result)
        case .finalErrorResponse, .cancel:
            return offerAbandoned(isCancel: event == .cancel)
        case .bye:
            return terminate(extra: [])
        case .sessionTimerExpired:
            // RFC 4028 §10: on expiry the session is torn down with BYE.
            guard state == .established || state == .offerAwaitingGateway || state == .awaitingAnswer
                    || state == .answerAwaitingGateway else { return [] }
            return terminate(extra: [.sendBYE(warning: warning("session timer expired"))])
        case .tick(let now):
            guard state != .established, now - createdAt >= configuration.setupTimeout else { return [] }
            // RFC 3261 §16.6 Timer C: the INVITE never completed; answer 408 and release.
            return terminate(extra: [.rejectSIP(SIPRejection(status: 408, warning: warning("session setup timed out")))])
        case .gatewayEvent(let e):
            return gatewayEvent(e)
        }
    }

    // MARK: offer

    private mutating func offer(_ text: String, from: Side) -> [ALGSessionAction] {
        let initial: Bool
        switch state {
        case .idle: initial = true
        case .established: initial = false
        default:
            // RFC 3264 §4 / RFC 3261 §14.2: an offer while one is outstanding -> 500 (491 is the UA's job).
            return [.rejectSIP(SIPRejection(status: 500, warning: warning("offer while an offer/answer exchange is in progress")))]
        }
        let direction: CallDirection = from == .access ? .originating : .terminating
        let request: GatewayRequest
        do {
            let sdp = try SessionDescription(parsing: text)
            request = try rewrite.receive(sdp, kind: .offer, direction: direction)
        } catch let e as SDPError {
            let r = RewriteError(e)
            return rejectOffer(SIPRejection(status: r.sipStatus, warning: r.warningHeaderValue(agent: configuration.warningAgent)), initial: initial)
        } catch let e as RewriteError {
            return rejectOffer(SIPRejection(status: e.sipStatus, warning: e.warningHeaderValue(agent: configuration.warningAgent)), initial: initial)
        } catch {
            return rejectOffer(SIPRejection(status: 500, warning: warning("internal error")), initial: initial)
        }
        offerDirection = direction
        state = .offerAwaitingGateway
        let target = from.other
        guard let op = operation(for: request) else {
            // Nothing for the AGW (pass-through): forward at once.
            return finishOffer(GatewayAnswer(), towards: target)
        }
        let id = allocate()
        if case .release = op {
            // Release-only re-offer (port 0): fire and forget, forward at once.
            dropReleased(request)
            return [.mgc(id, op)] + finishOffer(GatewayAnswer(), towards: target)
        }
        pending = (id, .offer(from: from, initial: initial))
        return [.mgc(id, op)]
    }

    private mutating func rejectOffer(_ r: SIPRejection, initial: Bool) -> [ALGSessionAction] {
        if initial { return terminate(extra: [.rejectSIP(r)]) }
        state = .established
        return [.rejectSIP(r)]
    }

    private mutating func finishOffer(_ answer: GatewayAnswer, towards: Side) -> [ALGSessionAction] {
        do {
            let sdp = try rewrite.applyGatewayAnswer(answer)
            offerSnapshot = rewrite
            state = .awaitingAnswer
            return [.forwardSDP(sdp.serialized(), towards: towards)]
        } catch {
            let r = SIPRejection(status: error.sipStatus, warning: error.warningHeaderValue(agent: configuration.warningAgent))
            return failOffer(r, timedOut: nil)
        }
    }

    /// The offer cannot be completed: release what it reserved and reject it.
    private mutating func failOffer(_ r: SIPRejection, timedOut: MGCOperationID?, createdContext: String? = nil) -> [ALGSessionAction] {
        let initial = confirmedTag == nil
        if initial {
            var extra: [ALGSessionAction] = []
            if let c = createdContext, contextID == nil { contextID = c }
            if let t = timedOut { extra.append(.mgc(allocate(), .release(.outcomeOf(t)))) }
            return extra + terminate(extra: [.rejectSIP(r)])
        }
        var out: [ALGSessionAction] = []
        if let t = timedOut { out.append(.mgc(allocate(), .release(.outcomeOf(t)))) }
        let release = rewrite.offerFailed()
        if let ctx = contextID {
            let ids = release.streams.flatMap { terminations.removeValue(forKey: $0.index)?.all ?? [] }
            if !ids.isEmpty { out.append(.mgc(allocate(), .release(.terminations(context: ctx, ids: ids)))) }
        }
        pending = nil
        state = .established
        return out + [.rejectSIP(r)]
    }

    // MARK: answer

    private mutating func answer(_ a: QueuedAnswer) -> [ALGSessionAction] {
        switch state {
        case .answerAwaitingGateway:
            // One Configure at a time: queue (a final answer is never dropped).
            if queued.count >= Self.maxQueuedAnswers, let drop = queued.firstIndex(where: { !$0.isFinal }) {
                queued.remove(at: drop)
            }
            if queued.count < Self.maxQueuedAnswers { queued.append(a) }
            return []
        case .awaitingAnswer:
            break
        default:
            return []
        }
        if let confirmed = confirmedTag, confirmed != a.tag { return [] }   // re-offer: only the dialog's own answer
        // sdp nil: a 2xx without body; its answer is the one that came earlier in a reliable 18x (or the
        // PRACK) of the same dialog: the early dialog's, or, for a re-offer of a confirmed dialog, the
        // answer applied for that dialog (RFC 3262 §5, RFC 6337 §3.1).
        guard let sdp = a.sdp ?? earlyDialogs[a.tag] ?? (a.tag == appliedTag ? appliedAnswerSDP : nil) else {
            // A 18x without SDP creates an early dialog but carries no answer.
            return []
        }
        if earlyDialogs[a.tag] == nil, earlyDialogs.count >= Self.maxEarlyDialogs, confirmedTag == nil, !a.isFinal {
            return []   // bound: extra early dialogs get no media
        }
        if confirmedTag == nil { earlyDialogs[a.tag] = sdp }
        let towards = offerDirection.offererSide
        if sdp == appliedAnswerSDP, let fwd = forwardedAnswer {
            // Same answer as configured already: no AGW operation.
            appliedTag = a.tag
            var out: [ALGSessionAction] = [.forwardSDP(fwd, towards: towards)]
            if a.isFinal { out += confirm(a.tag) }
            return out
        }
        guard var s = offerSnapshot else { return [] }
        let request: GatewayRequest
        do {
            request = try s.receive(try SessionDescription(parsing: sdp), kind: .answer, direction: offerDirection)
        } catch {
            // An answer cannot be rejected with a response: end the session (RFC 3261 §13.2.2.4 / §15).
            return answerFailed(warning("unacceptable answer"))
        }
        state = .answerAwaitingGateway
        guard let op = operation(for: request) else {
            return completeAnswer(tag: a.tag, sdp: sdp, isFinal: a.isFinal, rewrite: s, reply: GatewayAnswer())
        }
        let id = allocate()
        if case .release = op {
            dropReleased(request)
            return [.mgc(id, op)] + completeAnswer(tag: a.tag, sdp: sdp, isFinal: a.isFinal, rewrite: s, reply: GatewayAnswer())
        }
        pending = (id, .answer(tag: a.tag, sdp: sdp, isFinal: a.isFinal, rewrite: s))
        return [.mgc(id, op)]
    }

    private mutating func completeAnswer(tag: String, sdp: String, isFinal: Bool, rewrite s: RewriteSession,
                                         reply: GatewayAnswer) -> [ALGSessionAction] {
        var s = s
        let forwarded: SessionDescription
        do { forwarded = try s.applyGatewayAnswer(reply) } catch {
            return answerFailed(error.warningHeaderValue(agent: configuration.warningAgent))
        }
        rewrite = s
        appliedTag = tag
        appliedAnswerSDP = sdp
        let text = forwarded.serialized()
        forwardedAnswer = text
        state = .awaitingAnswer
        var out: [ALGSessionAction] = [.forwardSDP(text, towards: offerDirection.offererSide)]
        if isFinal { out += confirm(tag) }
        // Answers that arrived while the AGW was being configured.
        while state == .awaitingAnswer, !queued.isEmpty {
            out += answer(queued.removeFirst())
        }
        return out
    }

    private mutating func confirm(_ tag: String) -> [ALGSessionAction] {
        // RFC 3261 §13.2.2.4: the 2xx dialog wins; other early dialogs are discarded.
        confirmedTag = tag
        earlyDialogs = [:]
        queued.removeAll { $0.tag != tag }
        offerSnapshot = nil
        appliedAnswerSDP = nil
        forwardedAnswer = nil
        state = .established
        return []
    }

    private mutating func answerFailed(_ w: String) -> [ALGSessionAction] {
        terminate(extra: [.sendBYE(warning: w)])
    }

    // MARK: gateway

    private mutating func gatewayReplied(_ id: MGCOperationID, _ result: MGCResult) -> [ALGSessionAction] {
        guard let p = pending, p.id == id else { return [] }   // releases are fire-and-forget; late replies ignored
        pending = nil
        switch (p.what, result) {
        case (.offer(let from, _), .success(let reply)):
            record(reply)
            return finishOffer(reply.answer, towards: from.other)
        case (.offer, .failure(let f)):
            let r = GatewayErrorMapping.rejection(for: f, agent: configuration.warningAgent)
            switch f {
            case .timeout: return failOffer(r, timedOut: id)
            case .error(_, _, let ctx): return failOffer(r, timedOut: nil, createdContext: ctx)
            }
        case (.answer(let tag, let sdp, let isFinal, let s), .success(let reply)):
            record(reply)
            return completeAnswer(tag: tag, sdp: sdp, isFinal: isFinal, rewrite: s, reply: reply.answer)
        case (.answer, .failure(let f)):
            let r = GatewayErrorMapping.rejection(for: f, agent: configuration.warningAgent)
            var out: [ALGSessionAction] = []
            if case .timeout = f, contextID == nil { out.append(.mgc(allocate(), .release(.outcomeOf(id)))) }
            return out + answerFailed(r.warning)
        }
    }

    private mutating func record(_ reply: MGCReply) {
        contextID = reply.contextID
        for t in reply.terminations {
            var cur = terminations[t.index] ?? MGCStreamTerminations(index: t.index)
            if let a = t.access { cur.access = a }
            if let c = t.core { cur.core = c }
            terminations[t.index] = cur
        }
        for (i, t) in terminations where t.all.isEmpty { terminations[i] = nil }
    }

    private mutating func gatewayEvent(_ e: GatewayEvent) -> [ALGSessionAction] {
        switch e {
        case .heartbeat:
            return []   // the termination is alive; the driver Subtracts contexts no session knows
        case .tlsFailure(let term), .tcpFailure(let term):
            guard let (index, t) = terminations.first(where: { $0.value.all.contains(term) }) else { return [] }
            let what = if case .tlsFailure = e { "TLS" } else { "TCP" }
            if terminations.count > 1, let ctx = contextID, state == .established {
                // Seed 000: the AGW reports the failure; remove only that stream (RFC 3264 §8.2 port 0).
                terminations[index] = nil
                return [.mgc(allocate(), .release(.terminations(context: ctx, ids: t.all))),
                        .sendReINVITERemovingStream(index: index)]
            }
            return terminate(extra: [.sendBYE(warning: warning("\(what) establishment failed on m-line \(index)"))])
        case .gatewayRestarted, .outOfService:
            // H.248.1 §11.5: after a restart the AGW holds no context; nothing to subtract.
            if e == .gatewayRestarted { contextID = nil; terminations = [:]; pending = nil }
            let text = e == .gatewayRestarted ? "IMS-AGW restarted" : "IMS-AGW out of service"
            let end: ALGSessionAction = state == .established
                ? .sendBYE(warning: warning(text))
                : .rejectSIP(SIPRejection(status: 503, warning: warning(text)))
            return terminate(extra: [end])
        }
    }

    // MARK: release

    private mutating func offerAbandoned(isCancel: Bool) -> [ALGSessionAction] {
        switch state {
        case .offerAwaitingGateway, .awaitingAnswer, .answerAwaitingGateway:
            if confirmedTag == nil { return terminate(extra: []) }
            if isCancel { return [] }   // CANCEL of a re-INVITE is the UAS's business
            // Re-offer refused: release what it reserved, keep the session (RFC 3261 §14.1).
            var out: [ALGSessionAction] = []
            if let p = pending { out.append(.mgc(allocate(), .release(.outcomeOf(p.id)))) }
            let release = rewrite.offerFailed()
            if let ctx = contextID {
                let ids = release.streams.flatMap { terminations.removeValue(forKey: $0.index)?.all ?? [] }
                if !ids.isEmpty { out.append(.mgc(allocate(), .release(.terminations(context: ctx, ids: ids)))) }
            }
            pending = nil
            offerSnapshot = nil
            state = .established
            return out
        default:
            return []
        }
    }

    /// Releases everything (no context left behind) and ends the session.
    private mutating func terminate(extra: [ALGSessionAction]) -> [ALGSessionAction] {
        var out: [ALGSessionAction] = []
        if let ctx = contextID {
            out.append(.mgc(allocate(), .release(.context(ctx))))
        } else if let p = pending {
            // The outstanding operation may yet create a context.
            out.append(.mgc(allocate(), .release(.outcomeOf(p.id))))
        }
        contextID = nil
        terminations = [:]
        pending = nil
        queued = []
        state = .terminated
        return out + extra + [.done]
    }

    // MARK: helpers

    private mutating func allocate() -> MGCOperationID {
        let id = MGCOperationID(rawValue: nextOperation)
        nextOperation &+= 1
        return id
    }

    private func existing() -> [MGCStreamTerminations] {
        terminations.values.sorted { $0.index < $1.index }
    }

    /// Maps a rewrite request to one MGC operation (nil: nothing to ask).
    private func operation(for request: GatewayRequest) -> MGCOperation? {
        if request.isEmpty { return nil }
        if request.streams.contains(where: { $0.action == .reserve }) {
            return .reserve(context: contextID.map(MGCContextRef.existing) ?? .choose, request: request, existing: existing())
        }
        guard let ctx = contextID else { return nil }
        if request.streams.allSatisfy({ $0.action == .release }) {
            let ids = request.streams.flatMap { terminations[$0.index]?.all ?? [] }
            return ids.isEmpty ? nil : .release(.terminations(context: ctx, ids: ids))
        }
        return .configure(context: ctx, request: request, existing: existing())
    }

    private mutating func dropReleased(_ request: GatewayRequest) {
        for s in request.streams where s.action == .release { terminations[s.index] = nil }
    }

    private func warning(_ text: String) -> String {
        GatewayErrorMapping.warning(399, agent: configuration.warningAgent, text: text)
    }
}
