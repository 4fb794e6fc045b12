// The IMS-ALG sessions on the running proxy (issue 9): one pure `ALGSessionStateMachine` per SIP dialog
// (Call-ID + the From tag of the dialog-creating INVITE), driven here: `.mgc` actions run on an
// `MGCClient` (the IMS-AGW over Iq) and their replies are fed back as `.gatewayReplied`; `.forwardSDP`
// becomes the body the proxy forwards, `.rejectSIP` the final response it answers (TS 23.334 §5.11.2.2,
// §8; TS 23.228 §6.2.10.3.2; RFC 3264; RFC 3261 §16.7). The shell reads the clock (injected) and does
// the I/O; every decision is the state machine's.
import IMSALG
import Logging
import ProxyRuntime
import SDPRewrite
import SIPCore
import SIPProxy

public actor ALGSessions {
    /// Bound on concurrent sessions (house rule: nothing unbounded). A new offer beyond it is answered
    /// 503 (RFC 3261 §21.5.4) with Warning 399.
    public static let maximumSessions = 10_000
    /// Bound on the SDP size the ALG rewrites (larger bodies are refused 488, RFC 3261 §21.4.26).
    public static let maximumSDPBytes = 16_384

    public nonisolated let mgc: any MGCClient
    public nonisolated let configuration: ALGSessionConfiguration
    private let now: @Sendable () -> Duration
    private let logger: Logger

    private struct Entry {
        var machine: ALGSessionStateMachine
        /// The request (INVITE) that carried the initial offer: its error final ends the session.
        var offerRequest: ProxyRequestID?
        /// Last answer received and what was forwarded for it (2xx retransmissions get the same).
        var lastAnswerIn: String?
        var lastAnswerOut: String?
    }
    private var sessions: [SIPDialogID: Entry] = [:]
    private var byRequest: [ProxyRequestID: SIPDialogID] = [:]

    public init(mgc: any MGCClient, configuration: ALGSessionConfiguration = .init(),
                now: @escaping @Sendable () -> Duration, logger: Logger = Logger(label: "pcscf-alg.alg")) {
        self.mgc = mgc
        self.configuration = configuration
        self.now = now
        self.logger = logger
    }

    /// Sessions alive (tests, admin).
    public var count: Int { sessions.count }

    // MARK: Bodies

    /// An SDP body of a request (offer) or response (answer). `flags`: the served UE's media-security
    /// support from its registration binding (TS 33.328 §7.1).
    public func rewrite(_ body: ArraySlice<UInt8>, message: SIPMessage, context: ProxyBodyContext,
                        flags: MediaSecurityFlags) async -> BodyRewriteResult {
        guard body.count <= Self.maximumSDPBytes else {
            return .failed(Self.reject(SIPRejection(status: 488, warning: warning("SDP larger than \(Self.maximumSDPBytes) bytes"))))
        }
        let sdp = String(decoding: body, as: UTF8.self)
        switch context.direction {
        case .request(let from, _):
            guard let method = message.method, method == "INVITE" || method == "UPDATE" else { return .unchanged }
            guard let key = dialogKey(context.request) else { return .unchanged }
            let side: Side = from == .access ? .access : .core
            var initial = false
            if existing(callID: key.callID, tags: tags(context.request)) == nil {
                guard message.to?.tag == nil else { return .unchanged }   // in-dialog, unknown session: not ours
                guard sessions.count < Self.maximumSessions else {
                    return .failed(Self.reject(SIPRejection(status: 503, warning: warning("too many sessions"))))
                }
                sessions[key] = Entry(machine: ALGSessionStateMachine(dialog: key, flags: flags, configuration: configuration, now: now()),
                                      offerRequest: context.requestID)
                byRequest[context.requestID] = key
                initial = true
            }
            let target = existing(callID: key.callID, tags: tags(context.request)) ?? key
            let out = await drive(target, .offerReceived(sdp: sdp, from: side, now: now()))
            if initial { logger.debug("ALG session \(key.callID) offer from \(side): \(out.summary)") }
            return out.result(agent: configuration.warningAgent)
        case .response:
            guard let status = context.status, (101...299).contains(status),
                  let tag = message.to?.tag, let key = existing(callID: context.request.callID ?? "", tags: tags(context.request)) else {
                return .unchanged
            }
            if let e = sessions[key], e.lastAnswerIn == sdp, let out = e.lastAnswerOut, e.machine.state != .answerAwaitingGateway,
               e.machine.confirmedTag == tag {
                return .replaced(body: Array(out.utf8), contentType: "application/sdp")   // retransmitted 2xx
            }
            let out = await drive(key, .answerReceived(sdp: sdp, dialogTag: tag, isFinal: (200...299).contains(status), now: now()))
            if let fwd = out.sdp, var e = sessions[key] {
                e.lastAnswerIn = sdp
                e.lastAnswerOut = fwd
                sessions[key] = e
            }
            if out.sdp == nil, out.rejection == nil {
                // Nothing to forward for this answer (queued, or not the dialog's own): never leak the
                // core's SDP to the UE unrewritten; resend the last rewritten answer when there is one.
                if let cached = sessions[key]?.lastAnswerOut { return .replaced(body: Array(cached.utf8), contentType: "application/sdp") }
                return .failed(Self.reject(SIPRejection(status: 500, warning: warning("answer could not be processed"))))
            }
            return out.result(agent: configuration.warningAgent)
        }
    }

    // MARK: Session end

    /// The request's final response went out (RFC 3261 §16.7 step 10; 487 after CANCEL §16.10): an
    /// error final of the INVITE that carried the initial offer ends its session.
    public func requestCompleted(_ id: ProxyRequestID, status: Int) async {
        guard let key = byRequest.removeValue(forKey: id) else { return }
        guard status >= 300, sessions[key] != nil else { return }
        _ = await drive(key, status == 487 ? .cancel : .finalErrorResponse(status: status))
    }

    /// A BYE of the dialog (either side): release the context (TS 23.334 §8 Release AGW Connection Point).
    public func bye(_ request: SIPMessage) async {
        guard let callID = request.callID, let key = existing(callID: callID, tags: tags(request)) else { return }
        _ = await drive(key, .bye)
    }

    /// Reaps sessions that never got established (RFC 3261 §16.6 Timer C via the machine's setupTimeout).
    public func tick() async {
        let t = now()
        for key in Array(sessions.keys) { _ = await drive(key, .tick(now: t)) }
    }

    // MARK: Driving

    struct Outcome {
        var sdp: String?
        var rejection: SIPRejection?
        var ignored: [String] = []
        var summary: String { sdp != nil ? "forward" : rejection.map { "reject \($0.status)" } ?? "nothing" }
        func result(agent: String) -> BodyRewriteResult {
            if let r = rejection { return .failed(ALGSessions.reject(r)) }
            if let s = sdp { return .replaced(body: Array(s.utf8), contentType: "application/sdp") }
            return .unchanged
        }
    }

    /// Feeds `event` to the session's machine and runs the actions (awaiting each MGC operation and
    /// feeding its reply back) until the machine has nothing more to do.
    private func drive(_ key: SIPDialogID, _ event: ALGSessionEvent) async -> Outcome {
        var outcome = Outcome()
        var queue: [ALGSessionAction] = apply(key, event)
        // Bound: one event yields a handful of actions; 64 rounds is far beyond any legitimate chain.
        var rounds = 0
        while !queue.isEmpty, rounds < 64 {
            rounds += 1
            let action = queue.removeFirst()
            switch action {
            case .mgc(let id, let op):
                let result = await mgc.perform(op, id: id)
                if sessions[key] == nil {
                    // The session ended while the gateway worked (CANCEL, BYE): whatever this reserve
                    // created is released here, so no context is left behind.
                    if case .reserve = op, case .success(let r) = result {
                        _ = await mgc.perform(.release(.context(r.contextID)), id: MGCOperationID(rawValue: id.rawValue &+ 1_000_000))
                    }
                    continue
                }
                if case .release = op {
                    if case .failure(let f) = result { logger.warning("ALG \(key.callID): release failed: \(f)") }
                    continue
                }
                queue += apply(key, .gatewayReplied(id, result))
            case .forwardSDP(let sdp, _):
                outcome.sdp = sdp
            case .rejectSIP(let r):
                outcome.rejection = r
            case .sendReINVITERemovingStream(let index):
                logger.warning("ALG \(key.callID): stream \(index) failed; re-INVITE removing it is not implemented yet")
            case .sendBYE(let w):
                logger.warning("ALG \(key.callID): session must end (\(w)); proxy-originated BYE is not implemented yet")
            case .done:
                forget(key)
            }
        }
        return outcome
    }

    private func apply(_ key: SIPDialogID, _ event: ALGSessionEvent) -> [ALGSessionAction] {
        guard var e = sessions[key] else { return [] }
        let actions = e.machine.handle(event)
        sessions[key] = e
        return actions
    }

    private func forget(_ key: SIPDialogID) {
        if let id = sessions.removeValue(forKey: key)?.offerRequest { byRequest[id] = nil }
    }

    // MARK: Helpers

    private func dialogKey(_ request: SIPMessage) -> SIPDialogID? {
        guard let callID = request.callID, let tag = request.from?.tag else { return nil }
        return SIPDialogID(callID: callID, localTag: tag)
    }

    private func tags(_ m: SIPMessage) -> [String] { [m.from?.tag, m.to?.tag].compactMap { $0 } }

    /// The session of this Call-ID whose dialog-creating From tag is one of `tags` (a request from the
    /// callee carries it in To).
    private func existing(callID: String, tags: [String]) -> SIPDialogID? {
        for t in tags {
            let k = SIPDialogID(callID: callID, localTag: t)
            if sessions[k] != nil { return k }
        }
        return nil
    }

    private func warning(_ text: String) -> String { "399 \(configuration.warningAgent) \"\(text)\"" }

    /// RFC 3261 §21 reason phrases of the statuses the ALG answers.
    static func reason(_ status: Int) -> String {
        switch status {
        case 408: "Request Timeout"
        case 488: "Not Acceptable Here"
        case 500: "Server Internal Error"
        case 503: "Service Unavailable"
        default: PCSCFHooks.reasonPhrase(status)
        }
    }

    /// The proxy's rejection for a `SIPRejection` (its Warning value copied as a header line).
    static func reject(_ r: SIPRejection) -> ProxyReject {
        ProxyReject(status: r.status, reason: reason(r.status), extraHeaders: [ProxyHeaderLine("Warning", r.warning)])
    }
}
