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
import SIPTransport

/// Who sends the requests the ALG originates inside a dialog (BYE, re-INVITE): `ProxyServer`.
public protocol ALGRequestOriginator: Sendable {
    /// Sends the request as a UAC and returns its final status.
    func originate(_ request: ProxyOriginatedRequest) async -> Int
}

extension ProxyServer: ALGRequestOriginator {}

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
        /// Delayed offer (RFC 3261 §13.2.1): last offer received in a 2xx to an INVITE without SDP and
        /// what was forwarded for it (2xx retransmissions get the same).
        var lastOfferIn: String?
        var lastOfferOut: String?
        /// The INVITE (without SDP) whose 2xx (or reliable 18x) carried the last delayed offer.
        var delayedOfferRequest: ProxyRequestID?
        /// RFC 3262 §3: the RSeq of the reliable 18x that carried the last delayed offer (nil: the offer
        /// was in a 2xx). Its retransmissions (same RSeq) get the same rewritten offer; the PRACK answers it.
        var offerRSeq: UInt32?
        /// The To tag of the reliable 18x that carried it (a retransmission is of the same early dialog).
        var offerTag: String?
        /// The dialog as seen by the proxy (for the requests the ALG originates).
        var dialog: ALGDialogRecord?
    }
    private var sessions: [SIPDialogID: Entry] = [:]
    private var byRequest: [ProxyRequestID: SIPDialogID] = [:]
    /// INVITEs (without SDP) whose callee's offer in a reliable 18x failed (its Reserve, or the PRACK's
    /// answer): a retransmission of that 18x is refused again instead of reserving anew (RFC 3262 §3).
    private var refusedOfferRequests: [ProxyRequestID] = []
    /// Bound on `refusedOfferRequests` (oldest forgotten first).
    public static let maximumRefusedOffers = 256
    private var originator: (any ALGRequestOriginator)?
    private var eventsTask: Task<Void, Never>?
    private var originations: [Task<Void, Never>] = []
    /// Ids of the operations the driver runs itself (leftover Subtracts), far from the machines' ids.
    private var driverOperation: UInt64 = 1 << 62

    /// What the ALG did on its own (tests, admin): requests originated and their final statuses,
    /// contexts Subtracted because no session knew them.
    public struct Activity: Sendable, Equatable {
        public var originated: [String] = []
        public var leftoverSubtracts: [String] = []
        /// Sessions that reached `established` (a confirmed dialog with its answer applied), counted once each
        /// time a machine enters that state (initial answer or re-offer); wraps instead of trapping.
        public var establishments: UInt64 = 0
    }
    public private(set) var activity = Activity()
    /// Bound on the activity log kept for tests and admin.
    public static let maximumActivityEntries = 256

    public init(mgc: any MGCClient, configuration: ALGSessionConfiguration = .init(),
                now: @escaping @Sendable () -> Duration, logger: Logger = Logger(label: "pcscf-alg.alg")) {
        self.mgc = mgc
        self.configuration = configuration
        self.now = now
        self.logger = logger
    }

    /// Sessions alive (tests, admin).
    public var count: Int { sessions.count }

    /// The proxy that sends the BYE / re-INVITE the sessions ask for (`.sendBYE`, `.sendReINVITERemovingStream`).
    public func attach(originator: (any ALGRequestOriginator)?) { self.originator = originator }

    /// Consumes the gateway's events (`IqMGCClient.gatewayEvents()`), until `stop()`.
    public func consume(_ events: AsyncStream<IqGatewayEventForContext>) {
        eventsTask?.cancel()
        eventsTask = Task { [weak self] in
            for await e in events {
                guard let self else { return }
                await self.gatewayEvent(e)
            }
        }
    }

    /// Stops consuming gateway events and waits for the requests being originated.
    public func stop() async {
        eventsTask?.cancel()
        eventsTask = nil
        let pending = originations
        originations = []
        for t in pending { await t.value }
    }

    /// Waits for the requests the ALG is originating (tests).
    public func settle() async {
        let pending = originations
        originations = []
        for t in pending { await t.value }
    }

    // MARK: Gateway events (TS 23.334 §5.11.2.2 / seed 000 AGW duties; H.248.1 §11.5)

    /// One event from the IMS-AGW: to the session whose context it names; a gateway-wide one (restart,
    /// out of service) to every session of that gateway; a Notify for a context no session knows makes
    /// the ALG Subtract that context (the IqClient already answered it 435 when it never reserved it).
    public func gatewayEvent(_ e: IqGatewayEventForContext) async {
        if let ctx = e.contextID {
            if let key = sessions.first(where: { $0.value.machine.contextID == ctx })?.key {
                _ = await drive(key, .gatewayEvent(e.event))
                return
            }
            if sessions.values.contains(where: { $0.machine.contextID == nil && $0.machine.pendingOperation != nil }) {
                // A reserve in flight may be creating this very context: leave it to the periodic audit.
                logger.warning("ALG: \(e.event) for context \(ctx) while a reserve is in flight; not subtracted")
                return
            }
            logger.warning("ALG: \(e.event) for context \(ctx) that no session knows: subtracting it")
            driverOperation &+= 1
            let result = await mgc.perform(.release(.context(ctx)), id: MGCOperationID(rawValue: driverOperation))
            note(leftover: "\(ctx) \(result.isSuccess ? "ok" : "failed")")
            return
        }
        let affected = sessions.filter { _, entry in
            guard let gw = e.gateway, let ctx = entry.machine.contextID else { return true }
            return ctx.hasPrefix("\(gw)/")
        }.map(\.key)
        // One line per gateway-wide event: operators see the restart and how many sessions it ends.
        let what = e.event == .gatewayRestarted ? "restarted (ServiceChange Restart: its contexts are gone)" : "out of service"
        logger.notice("ALG: IMS-AGW\(e.gateway.map { " \($0)" } ?? "") \(what): ending \(affected.count) of \(sessions.count) sessions")
        for key in affected { _ = await drive(key, .gatewayEvent(e.event)) }
    }

    /// The UE's flow of a terminating call (the 2xx came over it), for requests towards the UE.
    public func noteAccessFlow(request: SIPMessage, flow: ProxyFlow) {
        guard let callID = request.callID, let key = existing(callID: callID, tags: tags(request)),
              sessions[key]?.dialog?.accessFlow == nil else { return }
        sessions[key]?.dialog?.accessFlow = flow
    }

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
            if message.method == "ACK" { return await delayedAnswer(sdp, message: message) }
            if message.method == "PRACK" { return await prackBody(sdp, message: message) }
            guard let method = message.method, method == "INVITE" || method == "UPDATE" else { return .unchanged }
            guard let key = dialogKey(context.request) else { return .unchanged }
            let side: Side = from == .access ? .access : .core
            var initial = false
            if existing(callID: key.callID, tags: tags(context.request)) == nil {
                guard message.to?.tag == nil else { return .unchanged }   // in-dialog, unknown session: not ours
                guard sessions.count < Self.maximumSessions else {
                    return .failed(Self.reject(SIPRejection(status: 503, warning: warning("too many sessions"))))
                }
                var entry = Entry(machine: ALGSessionStateMachine(dialog: key, flags: flags, configuration: configuration, now: now()),
                                  offerRequest: context.requestID)
                if method == "INVITE", let from = message.fields(.from).first.map({ message.value(of: $0) }),
                   let target = message.contacts.first?.address?.uri, let cseq = message.cseq?.number {
                    var d = ALGDialogRecord(callID: key.callID, callerSide: side, callerFrom: from, callerTarget: target, callerCSeq: cseq)
                    if side == .access { d.accessFlow = context.requestInbound }
                    entry.dialog = d
                }
                sessions[key] = entry
                byRequest[context.requestID] = key
                initial = true
            }
            let target = existing(callID: key.callID, tags: tags(context.request)) ?? key
            let out = await drive(target, .offerReceived(sdp: sdp, from: side, now: now()))
            if initial { logger.debug("ALG session \(key.callID) offer from \(side): \(out.summary)") }
            return out.result(agent: configuration.warningAgent)
        case .response:
            if let status = context.status, context.request.method == "INVITE", context.request.bodyRange.isEmpty,
               (200...299).contains(status) || ((101...199).contains(status) && Self.reliableRSeq(message) != nil),
               isDelayedOffer(context) {
                // RFC 3261 §13.2.1, RFC 3262 §5, RFC 6337 §2.2: to an INVITE without SDP, the first SDP of a
                // reliable 18x or of the 2xx is the callee's offer.
                return await delayedOffer(sdp, message: message, context: context, flags: flags)
            }
            guard let status = context.status, (101...299).contains(status),
                  let tag = message.to?.tag, let key = existing(callID: context.request.callID ?? "", tags: tags(context.request)) else {
                return .unchanged
            }
            if let e = sessions[key], e.lastAnswerIn == sdp, let out = e.lastAnswerOut, e.machine.state != .answerAwaitingGateway,
               e.machine.confirmedTag == tag {
                return .replaced(body: Array(out.utf8), contentType: "application/sdp")   // retransmitted 2xx
            }
            if (200...299).contains(status), context.request.method == "INVITE", sessions[key]?.dialog?.calleeTo == nil,
               let to = message.fields(.to).first.map({ message.value(of: $0) }), let target = message.contacts.first?.address?.uri {
                // RFC 3261 §12.1: the 2xx fixes the callee's tag, its remote target and the route set.
                sessions[key]?.dialog?.calleeTo = to
                sessions[key]?.dialog?.calleeTarget = target
                sessions[key]?.dialog?.recordRoute = message.recordRoutes.map { "<\($0.uri)>" }
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

    // MARK: Delayed offer (RFC 3261 §13.2.1, RFC 3264 §4)

    /// Whether a 2xx or reliable 18x with SDP to an INVITE without SDP is an offer for the ALG: a new
    /// dialog (no session), a retransmission of the response that carried one (or the 2xx after the
    /// reliable 18x that did), or a re-INVITE without SDP in an established session.
    private func isDelayedOffer(_ context: ProxyBodyContext) -> Bool {
        if refusedOfferRequests.contains(context.requestID) { return true }
        guard let callID = context.request.callID, let k = existing(callID: callID, tags: tags(context.request)),
              let e = sessions[k] else { return true }
        if e.delayedOfferRequest == context.requestID { return true }
        return context.request.to?.tag != nil && e.offerRequest != context.requestID && e.machine.state == .established
    }

    /// A 2xx with SDP to an INVITE without SDP: the callee's offer. Creates the session (initial INVITE)
    /// or re-offers in it (re-INVITE without SDP), driving it as an offer from the callee's side; a
    /// retransmitted 2xx with the same offer gets the same rewritten SDP.
    private func delayedOffer(_ sdp: String, message: SIPMessage, context: ProxyBodyContext,
                              flags: MediaSecurityFlags) async -> BodyRewriteResult {
        guard let key = dialogKey(context.request), let callID = context.request.callID else { return .unchanged }
        let isFinal = (200...299).contains(context.status ?? 0)
        let rseq = isFinal ? nil : Self.reliableRSeq(message)
        if refusedOfferRequests.contains(context.requestID) {
            // RFC 3262 §3: a retransmission of a reliable 18x whose offer already failed: refused again,
            // never reserved anew (nor forwarded with the core's SDP).
            return .failed(Self.reject(SIPRejection(status: 488, warning: warning("offer in a reliable provisional response refused"))))
        }
        // The caller is who sent this INVITE (the callee for a re-INVITE it sent); the offer comes from the other side.
        let callerSide: Side = context.requestInbound.side == .gm ? .access : .core
        let target: SIPDialogID
        if let k = existing(callID: callID, tags: tags(context.request)) {
            target = k
            if let e = sessions[k], let out = e.lastOfferOut,
               e.lastOfferIn == sdp || (rseq != nil && rseq == e.offerRSeq && e.delayedOfferRequest == context.requestID
                                        && message.to?.tag == e.offerTag) {
                // A retransmitted 2xx or reliable 18x (same RSeq, RFC 3262 §3): the same rewritten offer. The
                // 2xx after a reliable 18x may repeat that offer (RFC 6337 §3.1): it confirms the dialog
                // whose answer came in the PRACK.
                if isFinal, let tag = message.to?.tag {
                    noteCallee(k, message)
                    if e.offerRSeq != nil, e.machine.state != .established {
                        _ = await drive(k, .answerReceived(sdp: nil, dialogTag: tag, isFinal: true, now: now()))
                    }
                }
                return .replaced(body: Array(out.utf8), contentType: "application/sdp")
            }
        } else {
            guard context.request.to?.tag == nil else { return .unchanged }   // in-dialog, unknown session: not ours
            guard sessions.count < Self.maximumSessions else {
                // The 2xx cannot be refused: never forward the core's SDP unrewritten (the UAC BYEs).
                return .failed(Self.reject(SIPRejection(status: 503, warning: warning("too many sessions"))))
            }
            var entry = Entry(machine: ALGSessionStateMachine(dialog: key, flags: flags, configuration: configuration, now: now()),
                              offerRequest: context.requestID)
            let request = context.request
            if let from = request.fields(.from).first.map({ request.value(of: $0) }),
               let callerTarget = request.contacts.first?.address?.uri, let cseq = request.cseq?.number {
                var d = ALGDialogRecord(callID: callID, callerSide: callerSide, callerFrom: from, callerTarget: callerTarget, callerCSeq: cseq)
                if callerSide == .access { d.accessFlow = context.requestInbound }
                entry.dialog = d
            }
            sessions[key] = entry
            byRequest[context.requestID] = key
            target = key
        }
        if isFinal { noteCallee(target, message) }
        // The sender of the response: the callee of this INVITE (the other side of its sender).
        let offerer = callerSide.other
        let out = await drive(target, .offerReceived(sdp: sdp, from: offerer, now: now()))
        logger.debug("ALG session \(callID) delayed offer from \(offerer) in a \(context.status ?? 0): \(out.summary)")
        if let fwd = out.sdp, sessions[target] != nil {
            sessions[target]?.lastOfferIn = sdp
            sessions[target]?.lastOfferOut = fwd
            sessions[target]?.delayedOfferRequest = context.requestID
            sessions[target]?.offerRSeq = rseq
            sessions[target]?.offerTag = rseq == nil ? nil : message.to?.tag
        }
        if out.sdp == nil {
            if rseq != nil { refuse(context.requestID) }
            if out.rejection == nil {
                return .failed(Self.reject(SIPRejection(status: 500, warning: warning("offer could not be processed"))))
            }
        }
        return out.result(agent: configuration.warningAgent)
    }

    /// RFC 3261 §12.1: the 2xx fixes the callee's tag, its remote target and the route set.
    private func noteCallee(_ key: SIPDialogID, _ message: SIPMessage) {
        guard sessions[key]?.dialog?.calleeTo == nil, let to = message.fields(.to).first.map({ message.value(of: $0) }),
              let calleeTarget = message.contacts.first?.address?.uri else { return }
        sessions[key]?.dialog?.calleeTo = to
        sessions[key]?.dialog?.calleeTarget = calleeTarget
        sessions[key]?.dialog?.recordRoute = message.recordRoutes.map { "<\($0.uri)>" }
    }

    private func refuse(_ id: ProxyRequestID) {
        guard !refusedOfferRequests.contains(id) else { return }
        refusedOfferRequests.append(id)
        if refusedOfferRequests.count > Self.maximumRefusedOffers { refusedOfferRequests.removeFirst() }
    }

    /// The RSeq of a reliable provisional response (RFC 3262 §7.1: `Require: 100rel` and `RSeq`, 1 to
    /// 2**31-1); nil when the response is not reliable.
    static func reliableRSeq(_ message: SIPMessage) -> UInt32? {
        // SIPCore's element views split comma lists and trim LWS (RFC 3261 §7.3.1).
        guard message.elements(.require).contains(where: { $0.lowercased() == "100rel" }),
              let f = message.fields(named: "RSeq").first, let r = message.elementRanges(of: f).first,
              let n = UInt32(message.text(r)), n >= 1, n <= ALGCSeqTranslation.maximumNumber else {
            return nil
        }
        return n
    }

    // MARK: Offer in a reliable 18x, answer in the PRACK (RFC 3262 §5, RFC 6337 §2.2)

    /// A PRACK with SDP: the answer to the callee's offer in the reliable 18x it acknowledges (the early
    /// dialog's media are configured on the AGW; the 2xx confirms it without SDP). The UAC cannot be told
    /// after the fact that its answer failed, but the PRACK can: a malformed or unacceptable answer gets
    /// 488 (RFC 3261 §21.4.26) and the session is released (nothing left on the AGW); the UAS, never
    /// PRACKed, ends the INVITE itself (RFC 3262 §3), and its 18x retransmissions are refused. Any other
    /// SDP in a PRACK is an offer (RFC 3262 §5: after an exchange completed in the 18x/PRACK), which this
    /// ALG does not take: 488 with a Warning, never forwarded unrewritten.
    private func prackBody(_ sdp: String, message: SIPMessage) async -> BodyRewriteResult {
        guard let callID = message.callID, let key = existing(callID: callID, tags: tags(message)),
              let entry = sessions[key] else { return .unchanged }
        if entry.lastAnswerIn == sdp, let cached = entry.lastAnswerOut, entry.offerRSeq != nil {
            return .replaced(body: Array(cached.utf8), contentType: "application/sdp")   // same answer again
        }
        guard entry.offerRSeq != nil, entry.lastOfferOut != nil, entry.machine.appliedTag == nil,
              entry.machine.state == .awaitingAnswer || entry.machine.state == .answerAwaitingGateway,
              let remote = tags(message).first(where: { $0 != key.localTag }) else {
            return .failed(Self.reject(SIPRejection(status: 488, warning: warning("SDP offer in PRACK not supported"))))
        }
        let out = await drive(key, .answerReceived(sdp: sdp, dialogTag: remote, isFinal: false, now: now()))
        if let fwd = out.sdp, sessions[key] != nil {
            sessions[key]?.lastAnswerIn = sdp
            sessions[key]?.lastAnswerOut = fwd
            return .replaced(body: Array(fwd.utf8), contentType: "application/sdp")
        }
        if let id = entry.delayedOfferRequest { refuse(id) }
        logger.warning("ALG \(callID): the PRACK's answer was refused; session released")
        let text = out.rejection?.warning ?? warning("unacceptable answer in PRACK")
        return .failed(Self.reject(SIPRejection(status: 488, warning: text)))
    }

    /// A 2xx without body to an INVITE (RFC 3261 §13.2.1, RFC 3262 §5, RFC 6337 §3.1): when the answer came
    /// earlier in a reliable 18x or its PRACK, the 2xx confirms that early dialog's media (no new
    /// offer/answer, no AGW operation).
    public func responseWithoutBody(_ response: SIPMessage, request: SIPMessage, status: Int) async {
        guard (200...299).contains(status), request.method == "INVITE", let tag = response.to?.tag,
              let callID = request.callID, let key = existing(callID: callID, tags: tags(request)),
              let state = sessions[key]?.machine.state, state == .awaitingAnswer || state == .answerAwaitingGateway else { return }
        noteCallee(key, response)
        let out = await drive(key, .answerReceived(sdp: nil, dialogTag: tag, isFinal: true, now: now()))
        logger.debug("ALG session \(callID) 2xx without SDP: \(sessions[key]?.machine.state.rawValue ?? "ended") \(out.summary)")
    }

    /// An ACK with SDP: the answer to an offer its 2xx carried (RFC 3261 §13.2.1), confirming the dialog.
    private func delayedAnswer(_ sdp: String, message: SIPMessage) async -> BodyRewriteResult {
        guard let callID = message.callID, let key = existing(callID: callID, tags: tags(message)),
              let entry = sessions[key] else { return .unchanged }
        if entry.lastAnswerIn == sdp, let cached = entry.lastAnswerOut, entry.machine.state == .established {
            return .replaced(body: Array(cached.utf8), contentType: "application/sdp")   // ACK of a retransmitted 2xx
        }
        guard entry.lastOfferOut != nil, let remote = tags(message).first(where: { $0 != key.localTag }) else { return .unchanged }
        let out = await drive(key, .answerReceived(sdp: sdp, dialogTag: remote, isFinal: true, now: now()))
        if let fwd = out.sdp, sessions[key] != nil {
            sessions[key]?.lastAnswerIn = sdp
            sessions[key]?.lastAnswerOut = fwd
        }
        if out.sdp == nil {
            // Not an answer the machine awaited (or it failed and the session ends with BYE): never
            // forward the UE's SDP unrewritten.
            return .failed(Self.reject(SIPRejection(status: 500, warning: warning("answer could not be processed"))))
        }
        return out.result(agent: configuration.warningAgent)
    }

    // MARK: CSeq translation (RFC 3261 §12.2.1.1, §12.2.2; ALGCSeqTranslation)

    /// The CSeq number to forward for an in-dialog request of a dialog this ALG holds, when the proxy
    /// inserted requests of its own into the sender's direction; nil: forward it unchanged. Its sender
    /// is the caller when it carries the caller's From tag (the dialog key's tag).
    public func forwardCSeq(_ request: SIPMessage) -> UInt32? {
        guard request.to?.tag != nil, let callID = request.callID, let cseq = request.cseq,
              let key = existing(callID: callID, tags: tags(request)), let d = sessions[key]?.dialog else { return nil }
        let sender: Side = request.from?.tag == key.localTag ? d.callerSide : d.callerSide.other
        return sessions[key]?.dialog?.forwardCSeq(cseq.number, method: cseq.method, from: sender)
    }

    /// The `RAck` value to forward for a PRACK of a dialog this ALG holds whose INVITE went on with a
    /// translated CSeq (RFC 3262 §7.2, RFC 3261 §12.2.1.1); nil: forward it unchanged. Call after
    /// `forwardCSeq` for the same request.
    public func forwardRAck(_ request: SIPMessage) -> String? {
        guard request.method == "PRACK", request.to?.tag != nil, let callID = request.callID,
              let f = request.fields(named: "RAck").first, let key = existing(callID: callID, tags: tags(request)),
              let d = sessions[key]?.dialog else { return nil }
        let sender: Side = request.from?.tag == key.localTag ? d.callerSide : d.callerSide.other
        return (sender == d.callerSide ? d.fromCaller : d.fromCallee).forwardRAck(request.value(of: f))
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
            case .forwardSDP(let sdp, let towards):
                outcome.sdp = sdp
                sessions[key]?.dialog?.lastSDPTowards[towards] = sdp
            case .rejectSIP(let r):
                outcome.rejection = r
            case .sendReINVITERemovingStream(let index):
                reINVITE(key, removing: index)
            case .sendBYE(let w):
                bye(key, warning: w)
            case .done:
                forget(key)
            }
        }
        return outcome
    }

    // MARK: Requests the ALG originates

    /// RFC 3264 §8.2: a re-INVITE to both sides with the failed stream at port 0, each side being
    /// offered what it was last sent (seed 000: the IMS-ALG removes the stream the AGW reported).
    private func reINVITE(_ key: SIPDialogID, removing index: Int) {
        guard var d = sessions[key]?.dialog, d.isConfirmed, let originator else {
            logger.warning("ALG \(key.callID): stream \(index) failed; no confirmed dialog to re-INVITE")
            return
        }
        var requests: [ProxyOriginatedRequest] = []
        for side in [Side.access, .core] {
            guard let last = d.lastSDPTowards[side], let sdp = ALGReofferSDP.removingStream(index, from: last),
                  let r = d.request("INVITE", towards: side, sdp: sdp) else {
                logger.warning("ALG \(key.callID): no SDP sent towards \(side) to re-offer without stream \(index) (known: \(d.lastSDPTowards.keys.map(\.rawValue)))")
                continue
            }
            d.lastSDPTowards[side] = sdp
            requests.append(r)
        }
        sessions[key]?.dialog = d
        send(requests, key: key, originator: originator)
    }

    /// Ends a confirmed dialog on both sides with BYE (TS 23.334 §5.11.2.2; RFC 3326 Reason with the
    /// machine's text). An unconfirmed one cannot be ended by the proxy (logged).
    private func bye(_ key: SIPDialogID, warning w: String) {
        guard var d = sessions[key]?.dialog, d.isConfirmed, let originator else {
            logger.warning("ALG \(key.callID): session must end (\(w)) but no confirmed dialog is known")
            return
        }
        let text = w.split(separator: "\"", omittingEmptySubsequences: false).dropFirst().first.map(String.init) ?? w
        let reason = ProxyHeaderLine("Reason", "SIP;cause=488;text=\"\(text)\"")
        let requests = [Side.access, .core].compactMap { d.request("BYE", towards: $0, extraHeaders: [reason]) }
        sessions[key]?.dialog = d
        send(requests, key: key, originator: originator)
    }

    private func send(_ requests: [ProxyOriginatedRequest], key: SIPDialogID, originator: any ALGRequestOriginator) {
        let logger = self.logger
        let task = Task { [weak self] in
            await withTaskGroup(of: (String, Int).self) { group in
                for r in requests {
                    group.addTask { ("\(r.method) \(r.side.rawValue)", await originator.originate(r)) }
                }
                for await (what, status) in group {
                    logger.info("ALG \(key.callID): originated \(what) -> \(status)")
                    await self?.note(originated: "\(what) \(status)")
                }
            }
        }
        originations.append(task)
        if originations.count > Self.maximumActivityEntries { originations.removeFirst() }
    }

    private func note(originated: String) {
        activity.originated.append(originated)
        if activity.originated.count > Self.maximumActivityEntries { activity.originated.removeFirst() }
    }

    private func note(leftover: String) {
        activity.leftoverSubtracts.append(leftover)
        if activity.leftoverSubtracts.count > Self.maximumActivityEntries { activity.leftoverSubtracts.removeFirst() }
    }

    private func apply(_ key: SIPDialogID, _ event: ALGSessionEvent) -> [ALGSessionAction] {
        guard var e = sessions[key] else { return [] }
        let before = e.machine.state
        let actions = e.machine.handle(event)
        if before != .established, e.machine.state == .established {
            activity.establishments &+= 1
            logger.info("ALG \(key.callID): session established; \(sessions.count) sessions active")
        }
        sessions[key] = e
        return actions
    }

    private func forget(_ key: SIPDialogID) {
        guard let entry = sessions.removeValue(forKey: key) else { return }
        if let id = entry.offerRequest { byRequest[id] = nil }
        logger.info("ALG \(key.callID): session ended; \(sessions.count) sessions active")
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

extension MGCResult {
    var isSuccess: Bool { if case .success = self { true } else { false } }
}
