// The per-session rewrite state machine (pure: no I/O, no clock, no randomness). One `receive` per
// SDP crossing the ALG, then one `applyGatewayAnswer` once the AGW has answered the request.
//
//   idle --receive(offer)--> offerAwaitingGateway --apply--> awaitingAnswer
//   awaitingAnswer --receive(answer)--> answerAwaitingGateway --apply--> idle
//   awaitingAnswer --offerFailed--> idle (new reservations released)
//
// Clauses: TS 23.334 §5.11.2.2 (seed 000), TR 29.828 §5.1.1.2.4 (seed 003), TS 23.334 §6.2.10.3.2
// (seed 004), TS 33.328 §7.2.1/§7.3.1, TS 24.229 §7.5.2, RFC 3264, RFC 4145, RFC 8122; specs.md §4-§9.
import SDPCore

public struct RewriteSession: Sendable {
    /// What the ALG remembers about one stream (m-line index).
    public struct StreamState: Sendable, Equatable {
        public var media: MediaType
        public var family: StreamProtocol
        public var treatment: StreamTreatment
        /// AGW does application-aware MSRP/BFCP (path rewriting; seed 003 last paragraph).
        public var applicationAware: Bool
        public var accessTransport: GatewayTransport
        public var coreTransport: GatewayTransport
        /// AGW local endpoints and certificate fingerprint, as answered by the AGW.
        public var access: LocalEndpoint?
        public var core: LocalEndpoint?
        public var gatewayFingerprint: Fingerprint?
        /// The UE certificate fingerprints sent to the AGW.
        public var ueFingerprints: [Fingerprint]
    }

    /// An MSRP URI scheme (RFC 4975 §9: `msrps` over TLS, `msrp` over TCP).
    enum MSRPScheme: Sendable {
        case msrps, msrp
        var text: String { self == .msrps ? "msrps" : "msrp" }
    }

    struct PathPlan: Sendable {
        /// The new scheme (`msrps` towards the UE, `msrp` towards the core), or nil to keep it; as a
        /// flag pair, not a String (a String field cost a release each time a plan was destroyed).
        var scheme: MSRPScheme?
        var rewriteHost: Bool
    }

    /// One stream's plan (one per m-line, in m-line order: `plans[k].index == k`). Pass 1 of
    /// `applyGatewayAnswer` fills in the AGW endpoint and the edits in place, so no per-answer
    /// arrays of edits and endpoints are allocated.
    struct StreamPlan: Sendable {
        var index: Int
        var target: Side
        var anchored: Bool
        var insertGatewayFingerprint = false
        var addApplied = false
        var path: PathPlan? = nil
        /// Set by `planEdits`: the AGW endpoint towards `target`, the AGW fingerprint to insert and the
        /// new a=path value.
        var endpoint: LocalEndpoint? = nil
        var fingerprint: Fingerprint? = nil
        var newPath: String? = nil
        /// Set by `receiveAnswer` for a stream whose answer came from the UE: its fingerprints, moved
        /// into the stream state once the whole answer is accepted.
        var ueFingerprints: [Fingerprint]? = nil
        /// The m-line's own c= (0 none, 1 an address, 2 the hold address 0.0.0.0) and whether its port
        /// is 0 (RFC 8866 §5.7, RFC 3264 §8.4, §8.2), when its facts were read (nil otherwise). No edit
        /// before `AddressRule` changes an m= port or a c= line, so `AddressRule` need not read them again.
        var addressFacts: (own: UInt8, disabled: Bool)? = nil
        /// The m-line has no a=rtcp (RFC 3605), known from its facts: `AddressRule` does not look for one.
        var withoutRTCP = false
    }

    struct OfferInfo: Sendable {
        var direction: CallDirection
        var offerRoles: SetupRoleList
        var cema: StreamSet
        /// Streams the offer reserved (released again by `offerFailed`).
        var reserved: StreamSet
        var priorStreams: [StreamState]
    }

    struct Pending: Sendable {
        var kind: SDPKind
        var draft: SessionDescription
        var plans: [StreamPlan]
        var offer: OfferInfo
    }

    enum Phase: Sendable {
        case idle
        case offerAwaitingGateway(Pending)
        case awaitingAnswer(OfferInfo)
        case answerAwaitingGateway(Pending)
    }

    public var policy: RewritePolicy
    public var flags: MediaSecurityFlags
    public private(set) var streams: [StreamState] = []
    var phase: Phase = .idle
    /// The plans array of the last applied gateway answer, emptied, kept for the next SDP's plans
    /// (an offer and its answer then share one allocation).
    var planBuffer: [StreamPlan] = []

    public init(policy: RewritePolicy = .default, flags: MediaSecurityFlags) {
        self.policy = policy
        self.flags = flags
    }

    /// True while an offer has been forwarded and its answer is awaited.
    public var awaitingAnswer: Bool {
        if case .awaitingAnswer = phase { return true }
        return false
    }

    // MARK: events

    /// Processes one SDP crossing the ALG and returns what the AGW must be asked. The SDP to forward
    /// comes from `applyGatewayAnswer` (it needs the AGW's addresses and fingerprint).
    /// The SDP is consumed: the SDP to forward is edited from it in place (no copy when the caller
    /// does not use it afterwards).
    public mutating func receive(_ sdp: consuming SessionDescription, kind: SDPKind, direction: CallDirection) throws(RewriteError) -> GatewayRequest {
        // (Matching on `phase` alone: a `(kind, phase)` tuple would copy the phase's payload.)
        switch kind {
        case .offer:
            guard case .idle = phase else { break }
            return try receiveOffer(sdp: consume sdp, direction: direction)
        case .answer:
            guard case .awaitingAnswer = phase else { break }
            // The offer's info is moved out of the phase (binding it in place copied it: a retain of its
            // array, and another copy into the pending state); any failure puts it back unchanged.
            var taken = Phase.idle
            swap(&taken, &phase)
            var info: OfferInfo
            switch taken {
            case .awaitingAnswer(let i): info = i
            default:
                phase = taken
                throw RewriteError(.unexpectedEvent, detail: "\(kind.rawValue) not expected now")
            }
            taken = .idle
            guard info.direction == direction else {
                phase = .awaitingAnswer(info)
                throw RewriteError(.unexpectedEvent, detail: "answer direction \(direction.rawValue) differs from its offer's")
            }
            do {
                var out = try receiveAnswer(sdp: consume sdp, info: info)
                phase = .answerAwaitingGateway(Pending(kind: .answer, draft: Self.take(&out.draft, leaving: SessionDescription()),
                                                       plans: Self.take(&out.plans, leaving: []),
                                                       offer: Self.take(&info, leaving: .empty)))
                return out.request
            } catch {
                phase = .awaitingAnswer(info)
                throw error
            }
        }
        throw RewriteError(.unexpectedEvent, detail: "\(kind.rawValue) not expected now")
    }

    /// Applies the AGW's answer and returns the SDP to forward.
    public mutating func applyGatewayAnswer(_ answer: GatewayAnswer) throws(RewriteError) -> SessionDescription {
        // The pending state is moved out of `phase` (a copy would retain every buffer of the draft and
        // make its edits copy them); a failure puts it back unchanged.
        var taken = Phase.idle
        swap(&taken, &phase)
        var pending: Pending
        switch taken {
        case .offerAwaitingGateway(let p), .answerAwaitingGateway(let p): pending = p
        default:
            phase = taken
            throw RewriteError(.unexpectedEvent, detail: "no gateway request outstanding")
        }
        taken = .idle
        // Pass 1 checks everything that can fail without touching the draft or the stream states, so
        // a failure leaves the session as it was (the plans' endpoint and edit fields are rewritten by
        // every pass 1).
        do {
            try Self.planEdits(answer, pending: &pending, streams: streams)
        } catch {
            phase = pending.kind == .offer ? .offerAwaitingGateway(pending) : .answerAwaitingGateway(pending)
            throw error
        }
        // Pass 2 cannot fail. The phase no longer holds the draft, so editing it does not copy it.
        // (The offer's info is moved into the phase, not copied.)
        phase = pending.kind == .offer
            ? .awaitingAnswer(Self.take(&pending.offer, leaving: .empty))
            : .idle
        for p in pending.plans.indices {
            // By position in the answer, read in place (a copied StreamAnswer costs a retain per field);
            // the stream states are edited in place too (and the plans are not copied).
            let i = pending.plans[p].index
            guard let k = answer.streams.firstIndex(where: { $0.index == i }) else { continue }
            if let e = answer.streams[k].access { streams[i].access = e }
            if let e = answer.streams[k].core { streams[i].core = e }
            if let f = answer.streams[k].fingerprint { streams[i].gatewayFingerprint = f }
        }
        var sdp = SessionDescription()
        swap(&sdp, &pending.draft)
        var anyEndpoint = false
        for k in pending.plans.indices where pending.plans[k].anchored {
            let i = pending.plans[k].index
            anyEndpoint = anyEndpoint || pending.plans[k].endpoint != nil
            if let fp = pending.plans[k].fingerprint { FingerprintRule.insert(fp, into: &sdp.media[i]) }
            if pending.plans[k].addApplied {
                // TS 24.229 §7.5.2 / seed 004 terminating step 8: a=3ge2ae:applied in what goes to the UE.
                sdp.media[i].appendAttribute("3ge2ae", "applied")
            }
            if let new = pending.plans[k].newPath { sdp.media[i].setAttribute("path", new) }
        }
        if anyEndpoint {
            AddressRule.apply(PlanEndpoints(plans: pending.plans), to: &sdp, rewriteOrigin: policy.rewriteOriginAddress)
        }
        pending.plans.removeAll(keepingCapacity: true)
        swap(&planBuffer, &pending.plans)
        return sdp
    }

    /// The plans' AGW endpoints by m-line index, for `AddressRule` (no array of endpoints built).
    struct PlanEndpoints: EndpointList {
        let plans: [StreamPlan]
        var count: Int { plans.count }
        subscript(k: Int) -> LocalEndpoint? { plans[k].anchored ? plans[k].endpoint : nil }
        func knownFacts(_ k: Int) -> (own: UInt8, disabled: Bool)? { k < plans.count ? plans[k].addressFacts : nil }
        func knownWithoutRTCP(_ k: Int) -> Bool { k < plans.count && plans[k].withoutRTCP }
    }

    /// Pass 1 of `applyGatewayAnswer`: the AGW endpoint of each anchored stream and its edits, written
    /// into the plans; throws without changing anything else.
    static func planEdits(_ answer: GatewayAnswer, pending: inout Pending,
                          streams: borrowing [StreamState]) throws(RewriteError) {
        for p in pending.plans.indices where pending.plans[p].anchored {
            let i = pending.plans[p].index
            // (Cleared only when set: assigning nil destroys the old value, a release call per field.)
            if pending.plans[p].endpoint != nil { pending.plans[p].endpoint = nil }
            if pending.plans[p].fingerprint != nil { pending.plans[p].fingerprint = nil }
            if pending.plans[p].newPath != nil { pending.plans[p].newPath = nil }
            let k = answer.streams.firstIndex(where: { $0.index == i })
            let target = pending.plans[p].target
            let ep: LocalEndpoint?
            if target == .access {
                ep = k.flatMap { answer.streams[$0].access } ?? streams[i].access
            } else {
                ep = k.flatMap { answer.streams[$0].core } ?? streams[i].core
            }
            guard let ep else {
                throw RewriteError(.incompleteGatewayAnswer, stream: i, detail: "no \(target.rawValue) endpoint")
            }
            if pending.plans[p].insertGatewayFingerprint {
                // Seed 000/003: "include the certificate fingerprint received from the IMS-AGW in the SDP it sends to the IMS UE".
                guard let fp = k.flatMap({ answer.streams[$0].fingerprint }) ?? streams[i].gatewayFingerprint else {
                    throw RewriteError(.incompleteGatewayAnswer, stream: i, detail: "no AGW fingerprint")
                }
                pending.plans[p].fingerprint = fp
            }
            if let path = pending.plans[p].path, let old = pending.draft.withMedia(i, { $0.attributeValue(.path) }) {
                // RFC 4975 §9 / seed 003: application-aware interworking puts the AGW in the endpoint's path URI.
                guard let new = MSRPPathRule.rewriteLast(old, scheme: path.scheme?.text,
                                                         host: path.rewriteHost ? ep.address : nil,
                                                         port: path.rewriteHost ? ep.port : nil) else {
                    throw RewriteError(.malformedPath, stream: i, detail: "a=path:\(old)")
                }
                pending.plans[p].newPath = new
            }
            pending.plans[p].endpoint = ep
        }
    }

    /// The offer failed (error response, CANCEL): release what it reserved and restore the previous
    /// stream states. Returns the release request (empty when nothing was reserved).
    public mutating func offerFailed() -> GatewayRequest {
        let info: OfferInfo
        switch phase {
        case .awaitingAnswer(let i): info = i
        case .offerAwaitingGateway(let p): info = p.offer
        default: return GatewayRequest()
        }
        var out = GatewayRequest()
        for i in streams.indices where info.reserved.contains(i) {
            out.streams.append(StreamRequest(index: i, media: streams[i].media, protocol: streams[i].family,
                                             treatment: streams[i].treatment, action: .release))
        }
        streams = info.priorStreams
        phase = .idle
        return out
    }

    // MARK: offer

    private mutating func receiveOffer(sdp: consuming SessionDescription, direction: CallDirection) throws(RewriteError) -> GatewayRequest {
        let source = direction.offererSide
        let target = source.other
        // The draft is the received SDP itself: every read of an m-line happens before its first edit,
        // and no copy of it is kept, so the edits do not copy its storage.
        var draft = consume sdp
        guard draft.mediaCount >= streams.count else {
            // RFC 3264 §8: a re-offer keeps every m-line (removed streams get port 0).
            throw RewriteError(.answerMismatch, detail: "re-offer has fewer m-lines than the session")
        }
        let count = draft.mediaCount
        // Built fresh (every index gets its state below): a copy of `streams` would be copied again on
        // the first write (copy-on-write), retaining every field of every state.
        var newStreams: [StreamState] = []
        newStreams.reserveCapacity(count)
        var requests: [StreamRequest] = []
        requests.reserveCapacity(count)
        // The plan buffer of the previous exchange (its capacity is kept: no allocation per SDP).
        var plans = Self.take(&planBuffer, leaving: [])
        plans.removeAll(keepingCapacity: true)
        plans.reserveCapacity(count)
        var replacedFingerprints = StreamSet()
        var info = OfferInfo(direction: direction, offerRoles: SetupRoleList(), cema: StreamSet(), reserved: StreamSet(), priorStreams: streams)
        let merge = policy.tcpHandling == .merge
        let sessionDirection = draft.direction
        let sessionSetup = SessionSetup(draft)

        for i in 0..<count {
            let m = try draft.withMedia(i) { m throws(RewriteError) in try MediaFacts.read(m, index: i, session: sessionSetup) }
            let prior: StreamState? = i < streams.count ? streams[i] : nil
            let role = m.role
            let connAttr = m.connection
            info.offerRoles.append(role, at: i)
            if m.cema { info.cema.insert(i) }

            if m.disabled {
                // RFC 3264 §8.2: port 0 removes the stream; release its AGW resources.
                if let prior, prior.treatment.isAnchored {
                    requests.append(StreamRequest(index: i, media: prior.media, protocol: prior.family,
                                                  treatment: prior.treatment, action: .release))
                }
                if let prior, prior.treatment == .e2ae, let p = DecisionRule.proto(prior.family, tls: target == .access) {
                    draft.media[i].setProto(p)
                    replacedFingerprints.insert(i)
                }
                if target == .core, m.hasE2AE { draft.media[i].removeAttributes(.e2ae) }
                var st = prior ?? StreamState(media: m.mediaType, family: m.family,
                                              treatment: .released, applicationAware: false,
                                              accessTransport: .tcp, coreTransport: .tcp, ueFingerprints: [])
                st.treatment = .released
                newStreams.append(Self.take(&st, leaving: .placeholder))
                plans.append(StreamPlan(index: i, target: target, anchored: false, addressFacts: (m.ownAddressKind, true), withoutRTCP: !m.hasRTCP))
                continue
            }

            let (family, treatment) = try DecisionRule.decide(source: source, family: m.family, tls: m.tls, proto: m.proto,
                                                              indicator: m.e2aeRequested ? .requested : nil, flags: flags,
                                                              policy: policy, index: i)
            let cema = m.cema
            let appAware: Bool
            switch family {
            case .msrp: appAware = treatment != .e2e && !cema && policy.cemaAbsent == .rewritePath   // TS 23.334 §5.19
            case .bfcp: appAware = policy.bfcpApplicationAware
            default: appAware = false
            }
            let (accessT, coreT) = DecisionRule.transports(family, treatment, applicationAware: appAware, rtp: m.proto,
                                                         msrpAgnosticAccess: policy.msrpAgnosticAccessTransport)
            var st = StreamState(media: m.mediaType, family: family, treatment: treatment, applicationAware: appAware,
                                 accessTransport: accessT, coreTransport: coreT,
                                 access: prior?.access, core: prior?.core, gatewayFingerprint: prior?.gatewayFingerprint,
                                 ueFingerprints: [])

            // Action (specs.md §4.5 re-offers [D]).
            let action: GatewayAction
            if let prior, prior.treatment.isAnchored {
                if prior.treatment != treatment || prior.family != family {
                    action = .replace
                } else if family == .msrp || family == .bfcp {
                    action = connAttr == .existing ? .configure : .replace   // RFC 4145 §5
                } else {
                    action = .configure
                }
            } else {
                action = .reserve
            }
            if action == .reserve || (action == .replace && prior?.treatment != treatment) {
                st.access = nil; st.core = nil; st.gatewayFingerprint = nil
            }
            if action == .reserve { info.reserved.insert(i) }
            if target == .core {
                // TS 24.229 §7.5.2 / seed 004 step 8: a=3ge2ae is never forwarded to the core.
                if m.hasE2AE { draft.media[i].removeAttributes(.e2ae) }
            }
            var plan = StreamPlan(index: i, target: target, anchored: treatment.isAnchored, addressFacts: (m.ownAddressKind, false), withoutRTCP: !m.hasRTCP)
            let direction = m.direction ?? sessionDirection ?? .sendrecv

            switch treatment {
            case .e2ae:
                let tcpKnownMergeAccess = merge
                let trigger = merge ? nil : TCPRoleRule.synTriggerSide(offererSide: source, offerRole: role, answerRole: nil)
                let interlink = policy.tcpHandling == .proxyInterlinkage
                let accessSetup: SetupRole = merge ? .passive : .actpass       // TS 23.334 §6.2.18 / seed 004 steps 2-7
                let tlsClient = TCPRoleRule.agwIsTLSClient(rule: policy.tlsRoleRule(for: family), offererSide: source,
                                                           agwActiveTowardsUE: tcpKnownMergeAccess ? false : nil)
                // The request is built whole and its terminations are filled in place (a `var`
                // termination passed to the request's initialiser was copied, retaining its fields).
                var req = StreamRequest(
                    index: i, media: st.media, protocol: family, treatment: treatment, action: action, direction: direction,
                    access: TerminationRequest(transport: accessT, requestLocalFingerprint: action != .configure,
                                               tcp: TCPInstruction(setup: accessSetup, synTriggersPeer: interlink && trigger == .access,
                                                                   reuseConnection: action == .configure),
                                               startTLSAsClient: tlsClient),
                    core: TerminationRequest(transport: coreT,
                                             tcp: TCPInstruction(setup: .actpass, synTriggersPeer: interlink && trigger == .core,
                                                                 reuseConnection: action == .configure)))
                if source == .access {
                    // Originating (TS 33.328 §7.2.1; seed 004 originating steps 5-8).
                    st.ueFingerprints = try Self.takeUEMedia(&draft, media: i, facts: m, session: sessionSetup, into: &req.access,
                                                             missing: "e2ae requested without a=fingerprint")
                    req.access?.remotePath = Self.remotePath(&draft, media: i, family: family, appAware: appAware)
                    replacedFingerprints.insert(i)
                    if let p = DecisionRule.proto(family, tls: false) { draft.media[i].setProto(p) }
                    // The m-line's b= values were read with its facts (no edit since then touched a b= line).
                    let (bandwidthAS, bandwidthTIAS) = BandwidthRule.adjust(&draft.media[i], as: m.bandwidthAS, tias: m.bandwidthTIAS,
                                                                            protocol: family, towardsUE: false, model: policy.bandwidth)
                    req.core?.bandwidthAS = bandwidthAS
                    req.core?.bandwidthTIAS = bandwidthTIAS
                    if merge { draft.media[i].setSetupRole(.actpass) }
                    plan.path = pathPlan(family: family, appAware: appAware, cema: cema, towards: .core)
                } else {
                    // Terminating (TS 33.328 §7.3.1 step 4; seed 004 terminating steps 2-8).
                    replacedFingerprints.insert(i)
                    req.core?.remote = try m.remote(session: sessionSetup)
                    req.core?.remotePath = Self.remotePath(&draft, media: i, family: family, appAware: appAware)
                    req.core?.bandwidthAS = m.bandwidthAS
                    req.core?.bandwidthTIAS = m.bandwidthTIAS
                    if let p = DecisionRule.proto(family, tls: true) { draft.media[i].setProto(p) }
                    // The m-line's b= values were read with its facts (no edit since then touched a b= line).
                    let (bandwidthAS, bandwidthTIAS) = BandwidthRule.adjust(&draft.media[i], as: m.bandwidthAS, tias: m.bandwidthTIAS,
                                                                            protocol: family, towardsUE: true, model: policy.bandwidth)
                    req.access?.bandwidthAS = bandwidthAS
                    req.access?.bandwidthTIAS = bandwidthTIAS
                    if merge { draft.media[i].setSetupRole(.passive) }   // the UE must be TCP-active (merge mode)
                    if m.hasE2AE { draft.media[i].removeAttributes(.e2ae) }
                    plan.insertGatewayFingerprint = true
                    plan.addApplied = true
                    plan.path = pathPlan(family: family, appAware: appAware, cema: cema, towards: .access)
                }
                requests.append(Self.take(&req, leaving: .placeholder))
            case .e2e, .plain, .rtp:
                // TI-23334-v: e2e gets transport TCP, no TLS data; plain/RTP: ordinary anchoring. a=crypto,
                // a=fingerprint and a=setup pass unchanged; only addresses (and path if app-aware) change.
                let remote = try m.remote(session: sessionSetup)
                let asValue = m.bandwidthAS, tias = m.bandwidthTIAS
                let path = Self.remotePath(&draft, media: i, family: family, appAware: appAware && treatment == .plain)
                // The remote endpoint and path go to one side (moved there, not copied to both).
                let (accessRemote, coreRemote): (RemoteEndpoint?, RemoteEndpoint?) = source == .access ? (remote, nil) : (nil, remote)
                let (accessPath, corePath): (String?, String?) = source == .access ? (path, nil) : (nil, path)
                if treatment == .plain, appAware { plan.path = PathPlan(scheme: nil, rewriteHost: true) }
                // The terminations are built inside the request's initialiser (named constants were
                // copied into it).
                requests.append(StreamRequest(index: i, media: st.media, protocol: family, treatment: treatment,
                                              action: action == .replace && family == .rtp ? .configure : action,
                                              direction: direction,
                                              access: TerminationRequest(transport: accessT, remote: accessRemote,
                                                                         bandwidthAS: asValue, bandwidthTIAS: tias, remotePath: accessPath),
                                              core: TerminationRequest(transport: coreT, remote: coreRemote,
                                                                       bandwidthAS: asValue, bandwidthTIAS: tias, remotePath: corePath)))
            case .passThrough, .released:
                if let prior, prior.treatment.isAnchored {
                    requests.append(StreamRequest(index: i, media: prior.media, protocol: prior.family,
                                                  treatment: prior.treatment, action: .release))
                }
            }
            plans.append(Self.take(&plan, leaving: StreamPlan(index: i, target: target, anchored: false)))
            newStreams.append(Self.take(&st, leaving: .placeholder))
        }
        // Seed 004 step 8 / TS 33.328 §7.2.1: remove the fingerprint of the replaced side (session level too).
        FingerprintRule.removeApplicable(&draft, replaced: replacedFingerprints)
        streams = newStreams
        phase = .offerAwaitingGateway(Pending(kind: .offer, draft: draft, plans: plans, offer: info))
        return GatewayRequest(streams: requests)
    }

    /// Path handling for an e2ae MSRP stream (specs.md §6.2; TS 23.334 §5.19; RFC 6714 §4).
    private func pathPlan(family: StreamProtocol, appAware: Bool, cema: Bool, towards: Side) -> PathPlan? {
        guard family == .msrp else { return nil }
        let scheme: MSRPScheme = towards == .access ? .msrps : .msrp
        if appAware { return PathPlan(scheme: scheme, rewriteHost: true) }
        if cema, policy.rewritePathSchemeUnderCEMA { return PathPlan(scheme: scheme, rewriteHost: false) }
        return nil
    }

    // MARK: answer

    /// The scalar fields of a stream state, as `receiveAnswer` reads them.
    struct StateScalars {
        var treatment: StreamTreatment
        var family: StreamProtocol
        var applicationAware: Bool
    }

    /// What `receiveAnswer` hands back to `receive`, which puts the draft and plans into the phase with
    /// the offer's info (moved, not copied).
    struct AnswerResult {
        var request: GatewayRequest
        var draft: SessionDescription
        var plans: [StreamPlan]
    }

    private mutating func receiveAnswer(sdp: consuming SessionDescription, info: borrowing OfferInfo) throws(RewriteError) -> AnswerResult {
        let offerer = info.direction.offererSide
        let source = offerer.other
        let target = offerer
        // Edited in place, as in receiveOffer.
        var draft = consume sdp
        let count = draft.mediaCount
        guard count == streams.count else {
            throw RewriteError(.answerMismatch, detail: "answer has \(count) m-lines, offer had \(streams.count)")
        }
        // The stream states are updated in place once nothing can fail any more (an answer that is
        // rejected leaves them as they were): the streams it releases and the UE fingerprints it
        // brings are collected first (no new array of states per answer).
        var released = StreamSet()
        var requests: [StreamRequest] = []
        requests.reserveCapacity(count)
        // The plan buffer of the previous exchange (its capacity is kept: no allocation per SDP).
        var plans = Self.take(&planBuffer, leaving: [])
        plans.removeAll(keepingCapacity: true)
        plans.reserveCapacity(count)
        var replacedFingerprints = StreamSet()
        let merge = policy.tcpHandling == .merge
        let interlink = policy.tcpHandling == .proxyInterlinkage
        let explicit = policy.tcpHandling == .proxyExplicitConnect
        let sessionDirection = draft.direction
        let sessionSetup = SessionSetup(draft)

        for i in 0..<count {
            // The state's scalars are read into a small value (a copy of the whole state retained each of
            // its text and array fields); its names are read in place where a request needs them.
            let st = StateScalars(treatment: streams[i].treatment, family: streams[i].family,
                                  applicationAware: streams[i].applicationAware)
            if target == .core { draft.media[i].removeAttributes(.e2ae) }
            guard st.treatment.isAnchored else {
                plans.append(StreamPlan(index: i, target: target, anchored: false))
                continue
            }
            let m = try draft.withMedia(i) { m throws(RewriteError) in try MediaFacts.read(m, index: i, session: sessionSetup, answer: true) }
            if m.disabled {
                // RFC 3264 §6: the answerer rejected the stream: release it.
                requests.append(StreamRequest(index: i, media: streams[i].media, protocol: st.family, treatment: st.treatment, action: .release))
                if st.treatment == .e2ae, let p = DecisionRule.proto(st.family, tls: target == .access) {
                    draft.media[i].setProto(p)
                    replacedFingerprints.insert(i)
                }
                released.insert(i)
                plans.append(StreamPlan(index: i, target: target, anchored: false, addressFacts: (m.ownAddressKind, true), withoutRTCP: !m.hasRTCP))
                continue
            }
            let answerRole = try m.answerRole()
            let offerRole = info.offerRoles[i]
            let direction = m.direction ?? sessionDirection ?? .sendrecv
            var plan = StreamPlan(index: i, target: target, anchored: true, addressFacts: (m.ownAddressKind, false), withoutRTCP: !m.hasRTCP)
            let family = m.family, tls = m.tls

            switch st.treatment {
            case .e2ae:
                guard family == st.family, tls == (source == .access) else {
                    throw RewriteError(.answerMismatch, stream: i, detail: "answer proto \(m.proto) does not match the e2ae offer")
                }
                let trigger = merge ? nil : TCPRoleRule.synTriggerSide(offererSide: offerer, offerRole: offerRole, answerRole: .some(answerRole))
                let agwActive: Bool? = merge ? false : TCPRoleRule.agwActiveTowardsUE(offererSide: offerer, answerRole: answerRole)
                // Seed 003 table (MSRP) / seed 004 (BFCP): who starts TLS.
                let tlsClient = TCPRoleRule.agwIsTLSClient(rule: policy.tlsRoleRule(for: st.family), offererSide: offerer,
                                                           agwActiveTowardsUE: agwActive)
                var accessTCP = TCPInstruction(setup: merge ? .passive : .actpass, synTriggersPeer: interlink && trigger == .access,
                                               connect: explicit && trigger == .core)
                var coreTCP = TCPInstruction(setup: .actpass, synTriggersPeer: interlink && trigger == .core,
                                             connect: explicit && trigger == .access)
                var req = StreamRequest(index: i, media: streams[i].media, protocol: st.family, treatment: .e2ae,
                                        action: .configure, direction: direction,
                                        access: TerminationRequest(transport: streams[i].accessTransport, startTLSAsClient: tlsClient),
                                        core: TerminationRequest(transport: streams[i].coreTransport))
                if source == .core {
                    // Originating answer (TS 33.328 §7.2.1 step 8; seed 004 steps 14-17).
                    req.core?.remote = try m.remote(session: sessionSetup)
                    req.core?.remotePath = Self.remotePath(&draft, media: i, family: st.family, appAware: st.applicationAware)
                    req.core?.bandwidthAS = m.bandwidthAS
                    req.core?.bandwidthTIAS = m.bandwidthTIAS
                    replacedFingerprints.insert(i)
                    if let p = DecisionRule.proto(st.family, tls: true) { draft.media[i].setProto(p) }
                    // The m-line's b= values were read with its facts (no edit since then touched a b= line).
                    let (bandwidthAS, bandwidthTIAS) = BandwidthRule.adjust(&draft.media[i], as: m.bandwidthAS, tias: m.bandwidthTIAS,
                                                                            protocol: st.family, towardsUE: true, model: policy.bandwidth)
                    req.access?.bandwidthAS = bandwidthAS
                    req.access?.bandwidthTIAS = bandwidthTIAS
                    if merge {
                        // TS 23.334 §6.2.18.4: the AGW is TCP server towards the UE; on the core side it took
                        // the role opposite to the core's answer.
                        draft.media[i].setSetupRole(.passive)
                        let coreRole = TCPRoleRule.effectiveAnswerRole(answerRole)
                        coreTCP.connect = coreRole == .passive
                        coreTCP.setup = coreRole == .passive ? .active : .passive
                    }
                    plan.insertGatewayFingerprint = true
                    plan.addApplied = policy.indicateAppliedInAnswer
                    plan.path = pathPlan(family: st.family, appAware: st.applicationAware,
                                         cema: info.cema.contains(i), towards: .access)
                } else {
                    // Terminating answer (TS 33.328 §7.3.1 step 7; seed 004 terminating steps 13-17).
                    plan.ueFingerprints = try Self.takeUEMedia(&draft, media: i, facts: m, session: sessionSetup, into: &req.access,
                                                             missing: "UE answer without a=fingerprint")
                    req.access?.remotePath = Self.remotePath(&draft, media: i, family: st.family, appAware: st.applicationAware)
                    replacedFingerprints.insert(i)
                    if m.hasE2AE { draft.media[i].removeAttributes(.e2ae) }
                    if let p = DecisionRule.proto(st.family, tls: false) { draft.media[i].setProto(p) }
                    // The m-line's b= values were read with its facts (no edit since then touched a b= line).
                    let (bandwidthAS, bandwidthTIAS) = BandwidthRule.adjust(&draft.media[i], as: m.bandwidthAS, tias: m.bandwidthTIAS,
                                                                            protocol: st.family, towardsUE: false, model: policy.bandwidth)
                    req.core?.bandwidthAS = bandwidthAS
                    req.core?.bandwidthTIAS = bandwidthTIAS
                    if merge {
                        let coreRole = TCPRoleRule.mergeCoreAnswerRole(coreOffer: offerRole)
                        draft.media[i].setSetupRole(coreRole)
                        coreTCP.connect = coreRole == .active
                        coreTCP.setup = coreRole
                    }
                    plan.path = pathPlan(family: st.family, appAware: st.applicationAware,
                                         cema: info.cema.contains(i), towards: .core)
                }
                if merge { accessTCP.synTriggersPeer = false }
                req.access?.tcp = accessTCP
                req.core?.tcp = coreTCP
                requests.append(Self.take(&req, leaving: .placeholder))
            case .e2e, .plain, .rtp:
                let remote = try m.remote(session: sessionSetup)
                let asValue = m.bandwidthAS, tias = m.bandwidthTIAS
                let aware = st.treatment == .plain && st.applicationAware
                let path = Self.remotePath(&draft, media: i, family: st.family, appAware: aware)
                let (accessRemote, coreRemote): (RemoteEndpoint?, RemoteEndpoint?) = source == .access ? (remote, nil) : (nil, remote)
                let (accessPath, corePath): (String?, String?) = source == .access ? (path, nil) : (nil, path)
                if st.treatment == .plain, st.applicationAware { plan.path = PathPlan(scheme: nil, rewriteHost: true) }
                requests.append(StreamRequest(index: i, media: streams[i].media, protocol: st.family, treatment: st.treatment,
                                              action: .configure, direction: direction,
                                              access: TerminationRequest(transport: streams[i].accessTransport, remote: accessRemote,
                                                                         bandwidthAS: asValue, bandwidthTIAS: tias, remotePath: accessPath),
                                              core: TerminationRequest(transport: streams[i].coreTransport, remote: coreRemote,
                                                                       bandwidthAS: asValue, bandwidthTIAS: tias, remotePath: corePath)))
            case .passThrough, .released:
                plan.anchored = false
            }
            plans.append(Self.take(&plan, leaving: StreamPlan(index: i, target: target, anchored: false)))
        }
        FingerprintRule.removeApplicable(&draft, replaced: replacedFingerprints)
        for k in plans.indices {   // plans[k].index == k
            if released.contains(k) { streams[k].treatment = .released }
            if let fps = Self.take(&plans[k].ueFingerprints, leaving: nil) { streams[k].ueFingerprints = fps }
        }
        return AnswerResult(request: GatewayRequest(streams: requests), draft: draft, plans: plans)
    }
}

extension RewriteSession {
    /// Moves `value` out, leaving `placeholder` (a swap, then a return of a local): appending a `var`
    /// that is not used again copied it (a retain per text field, and a release when the variable died).
    @inline(__always)
    static func take<T>(_ value: inout T, leaving placeholder: T) -> T {
        var out = placeholder
        swap(&out, &value)
        return out
    }
}

extension RewriteSession.StreamState {
    /// An empty state (enum cases, the empty-array singleton: nothing to retain, no text to match).
    static var placeholder: RewriteSession.StreamState {
        RewriteSession.StreamState(media: .audio, family: .other, treatment: .released, applicationAware: false,
                                   accessTransport: .tcp, coreTransport: .tcp, ueFingerprints: [])
    }
}

extension RewriteSession.OfferInfo {
    /// An empty info (nothing to retain), left behind by `RewriteSession.take`.
    static var empty: RewriteSession.OfferInfo {
        RewriteSession.OfferInfo(direction: .originating, offerRoles: SetupRoleList(), cema: StreamSet(), reserved: StreamSet(),
                                 priorStreams: [])
    }
}

extension StreamRequest {
    /// An empty request (nothing to retain), left behind by `RewriteSession.take`.
    static var placeholder: StreamRequest {
        StreamRequest(index: 0, media: .audio, protocol: .other, treatment: .released, action: .release)
    }
}

extension StreamTreatment {
    /// Streams whose media flows through the AGW.
    public var isAnchored: Bool {
        switch self {
        case .e2ae, .e2e, .plain, .rtp: return true
        case .passThrough, .released: return false
        }
    }
}

extension RewriteSession {
    /// TS 33.328 §7.2.1 step 3 / §7.3.1 step 7, seed 004 steps 5-7 and 14-16: an e2ae SDP from the UE
    /// (its offer, or its answer) gives the access termination's Remote: the UE's fingerprints,
    /// address, port and bandwidth. Returns the fingerprints, which the session keeps; an e2ae stream
    /// without one is rejected (488).
    /// The peer's a=path for the AGW's Remote descriptor, on application-aware MSRP streams only (seed 003).
    /// (`sdp` is read in place: `inout` only so that no view of it is built.)
    static func remotePath(_ sdp: inout SessionDescription, media i: Int, family: StreamProtocol, appAware: Bool) -> String? {
        guard family == .msrp, appAware, let p = sdp.withMedia(i, { $0.attributeValue(.path) }) else { return nil }
        return String(p)
    }

    static func takeUEMedia(_ sdp: inout SessionDescription, media i: Int, facts m: MediaFacts, session: borrowing SessionSetup,
                            into access: inout TerminationRequest?, missing detail: String) throws(RewriteError) -> [Fingerprint] {
        let ueFps = try FingerprintRule.applicable(inPlace: &sdp, media: i)
        guard !ueFps.isEmpty else { throw RewriteError(.missingFingerprint, stream: i, detail: detail) }
        access?.remote = try m.remote(session: session)
        access?.remoteFingerprints = ueFps
        access?.bandwidthAS = m.bandwidthAS
        access?.bandwidthTIAS = m.bandwidthTIAS
        return ueFps
    }
}

/// What the rules read from one m-line, collected before the line is edited (RFC 4145 §4/§5
/// a=setup and a=connection, RFC 6714 a=msrp-cema, TS 24.229 §7.5.2 a=3ge2ae, RFC 8866 §6.7 direction,
/// §5.8 b=, §5.14 m= port and proto; RFC 3605 a=rtcp).
struct MediaFacts {
    var index: Int
    var role: SetupRole?
    var connection: ConnectionAttribute?
    var cema: Bool
    var disabled: Bool
    var family: StreamProtocol
    var tls: Bool
    /// The m= proto (RFC 8866 §5.14) as a transport name: a known name is an enum case (no String).
    var proto: GatewayTransport
    var mediaType: MediaType
    /// The first a=3ge2ae line says `requested` (TS 24.229 §7.5.2; the only value the decision reads:
    /// a Bool, not the indicator, whose `.other` case holds a String).
    var e2aeRequested: Bool
    /// An a=rtcp line is present (RFC 3605).
    var hasRTCP: Bool
    /// An a=3ge2ae line is present (whatever its value): removing them is needed only then.
    var hasE2AE: Bool
    var direction: MediaDirection?
    var bandwidthAS: UInt64?
    var bandwidthTIAS: UInt64?
    var port: UInt16
    /// a=rtcp port and address (RFC 3605 §2.1), when signalled.
    var rtcpPort: UInt16?
    var rtcpAddress: String?
    /// A bad answer a=setup or a=rtcp, thrown when used (`answerRole()`, `remote(session:)`); boxed, so
    /// that the facts hold one reference (nil in the usual case) instead of two optional errors.
    var errors: MediaFactErrors?
    var roleError: SDPError? { errors?.role }
    var rtcpError: SDPError? { errors?.rtcp }
    /// The m-line's own c= address, if any. (The session-level one, RFC 8866 §5.7, is read once per SDP
    /// into `SessionSetup` and given to `remote(session:)`: a copy in every m-line's facts retained it.)
    var ownAddress: String?

    /// Offers read a=setup and a=connection first (a bad one rejects the offer); answers read the
    /// m-line's a=setup only when the stream is anchored and not rejected (`answerRole()`).
    /// Every field is computed into a local and the value is built once at the end (a throwing
    /// initialiser that assigned the fields one by one built the value aside and copied it twice,
    /// retaining and releasing each of its text fields).
    @inline(__always)
    static func read(_ m: borrowing MediaDescription, index: Int, session: borrowing SessionSetup,
                     answer: Bool = false) throws(RewriteError) -> MediaFacts {
        let t = m.table
        // One pass over the line records: where each attribute the rules need is.
        var setupAt = -1, connectionAt = -1, e2aeAt = -1, rtcpAt = -1, cAt = -1
        var cema = false
        var direction: MediaDirection? = nil
        var bandwidthAS: UInt64? = nil, bandwidthTIAS: UInt64? = nil
        for i in 0..<t.count {
            switch t.type(i) {
            case ASCII.a:
                switch t.key(i) {
                case .setup: if setupAt < 0 { setupAt = i }
                case .connection: if connectionAt < 0 { connectionAt = i }
                case .e2ae: if e2aeAt < 0 { e2aeAt = i }
                case .rtcp: if rtcpAt < 0 { rtcpAt = i }
                case .msrpCEMA: cema = true
                case .sendrecv: if direction == nil { direction = .sendrecv }
                case .sendonly: if direction == nil { direction = .sendonly }
                case .recvonly: if direction == nil { direction = .recvonly }
                case .inactive: if direction == nil { direction = .inactive }
                default: break
                }
            case ASCII.c:
                if cAt < 0 { cAt = i }
            case ASCII.b:
                // RFC 8866 §5.8: the first b= of each kind.
                if bandwidthAS == nil { bandwidthAS = t.withValue(i) { Bandwidth.value(ofKind: .applicationSpecific, in: $0) } }
                if bandwidthTIAS == nil { bandwidthTIAS = t.withValue(i) { Bandwidth.value(ofKind: .transportIndependent, in: $0) } }
            default:
                break
            }
        }
        // RFC 4145 §4/§5: a=setup and a=connection may be session-level attributes; a media-level one
        // overrides them for its m-line.
        var role: SetupRole? = nil
        var roleError: SDPError? = nil
        var connection: ConnectionAttribute? = nil
        if answer {
            do { role = setupAt < 0 ? try session.role() : try t.setupRole(at: setupAt) } catch { role = nil; roleError = error }
        } else {
            do {
                role = setupAt < 0 ? try session.role() : try t.setupRole(at: setupAt)
                connection = connectionAt < 0 ? try session.connectionAttribute() : try t.connectionAttribute(at: connectionAt)
            } catch {
                throw RewriteError(error, stream: index)
            }
        }
        // Same test as `t.e2aeIndicator(at:) == .requested` (no String for other values).
        let e2aeRequested = e2aeAt >= 0 && t.withAttributeValue(e2aeAt, { SDPText.equalsIgnoringCase($0, "requested") }) == true
        var rtcpPort: UInt16? = nil
        var rtcpAddress: String? = nil
        var rtcpError: SDPError? = nil
        if rtcpAt >= 0 {
            do {
                let rtcp = try t.rtcp(at: rtcpAt)
                rtcpPort = rtcp.port
                rtcpAddress = rtcp.connection?.address.literal
            } catch { rtcpError = error }
        }
        let ownAddress = cAt < 0 ? nil : t.withValue(cAt) { buf -> String? in
            guard let (a, b) = SDPText.fieldRange(buf, 2) else { return nil }
            var end = b
            for k in a..<b where buf[k] == ASCII.slash { end = k; break }
            return String(decoding: UnsafeBufferPointer(rebasing: buf[a..<end]), as: UTF8.self)
        }
        // One pass over the m= line (RFC 8866 §5.14): media, port, proto; same results as
        // `mediaTypeString`, `isDisabled`, `port` and `proto`.
        struct MLine {
            var typeEnd = 0
            var portFrom = -1, portTo = -1
            var protoFrom = -1, protoTo = -1
            var family = StreamProtocol.other
            var tls = false
            var disabled = true
            var port: UInt16 = 0
        }
        let ml = t.withValue(0) { buf -> MLine in
            var r = MLine()
            let n = buf.count
            while r.typeEnd < n, buf[r.typeEnd] != ASCII.space { r.typeEnd += 1 }
            // Field 0 (the media type) is [0, typeEnd) when the value does not start with SP: the field
            // loop starts after it (the same state it reaches after scanning it again).
            var field = 0, k = 0
            if r.typeEnd > 0 { field = 1; k = r.typeEnd }
            while k < n, field < 3 {
                while k < n, buf[k] == ASCII.space { k += 1 }
                guard k < n else { break }
                let s = k
                while k < n, buf[k] != ASCII.space { k += 1 }
                if field == 1 { r.portFrom = s; r.portTo = k } else if field == 2 { r.protoFrom = s; r.protoTo = k }
                field += 1
            }
            if r.portFrom >= 0 {
                var end = r.portFrom
                while end < r.portTo, buf[end] != ASCII.slash { end += 1 }
                if end - r.portFrom == 1, buf[r.portFrom] == ASCII.dollar || buf[r.portFrom] == ASCII.dash {
                    r.disabled = false   // an H.248 wildcard: port.number is nil
                } else {
                    let v = SDPText.number(buf, r.portFrom, end) ?? 0
                    r.disabled = v == 0
                    r.port = UInt16(clamping: v)
                }
            }
            if r.protoFrom >= 0 {
                (r.family, r.tls) = DecisionRule.classify(protoBytes: UnsafeBufferPointer(rebasing: buf[r.protoFrom..<r.protoTo]))
            }
            return r
        }
        let (mediaType, proto) = t.withValue(0) { buf -> (MediaType, GatewayTransport) in
            // The usual media types and protos are enum cases (no String decoding).
            let mediaType = MediaType(bytes: UnsafeBufferPointer(rebasing: buf[0..<ml.typeEnd]))
            guard ml.protoFrom >= 0 else { return (mediaType, GatewayTransport(.other(""))) }
            return (mediaType, GatewayTransport(bytes: UnsafeBufferPointer(rebasing: buf[ml.protoFrom..<ml.protoTo])))
        }
        return MediaFacts(index: index, role: role, connection: connection, cema: cema,
                          disabled: ml.disabled, family: ml.family, tls: ml.tls, proto: proto, mediaType: mediaType,
                          e2aeRequested: e2aeRequested, hasRTCP: rtcpAt >= 0, hasE2AE: e2aeAt >= 0, direction: direction,
                          bandwidthAS: bandwidthAS, bandwidthTIAS: bandwidthTIAS,
                          port: ml.port, rtcpPort: rtcpPort, rtcpAddress: rtcpAddress,
                          errors: roleError == nil && rtcpError == nil ? nil : MediaFactErrors(role: roleError, rtcp: rtcpError),
                          ownAddress: ownAddress)
    }

    /// The m-line's own c= as `AddressRule.ownAddressKind` classifies it: 0 none, 1 an address, 2 the
    /// hold address 0.0.0.0 (RFC 3264 §8.4); the same first c= line and address field.
    var ownAddressKind: UInt8 {
        guard let a = ownAddress else { return 0 }
        return a == "0.0.0.0" ? 2 : 1
    }

    func answerRole() throws(RewriteError) -> SetupRole? {
        if let roleError { throw RewriteError(roleError, stream: index) }
        return role
    }

    /// The remote endpoint signalled for this m-line (effective c= address, m= port, a=rtcp).
    func remote(session: borrowing SessionSetup) throws(RewriteError) -> RemoteEndpoint {
        guard let address = ownAddress ?? session.address else {
            throw RewriteError(.missingConnectionAddress, stream: index, detail: "no c= applies")
        }
        var ep = RemoteEndpoint(address: address, port: port)
        if let rtcpError { throw RewriteError(rtcpError, stream: index) }
        ep.rtcpPort = rtcpPort
        ep.rtcpAddress = rtcpAddress
        return ep
    }
}

/// The errors `MediaFacts.read` met and keeps for later (rare: allocated only then, at most one per
/// m-line).
final class MediaFactErrors: Sendable {
    let role: SDPError?
    let rtcp: SDPError?

    init(role: SDPError?, rtcp: SDPError?) {
        self.role = role
        self.rtcp = rtcp
    }
}

/// Session-level a=setup and a=connection (RFC 4145 §4, §5: either may be a session-level
/// attribute), read once per SDP; they apply to every m-line without its own.
struct SessionSetup: ~Copyable {
    var setup: SetupRole?
    var setupError: SDPError?
    var connection: ConnectionAttribute?
    var connectionError: SDPError?
    /// The session-level c= address (RFC 8866 §5.7: it applies to every m-line without its own c=).
    var address: String?

    init(_ sdp: borrowing SessionDescription) {
        address = sdp.table.connectionAddressString
        do { setup = try sdp.table.setupRole() } catch { setupError = error }
        do { connection = try sdp.table.connectionAttribute() } catch { connectionError = error }
    }

    @inline(__always)
    func role() throws(SDPError) -> SetupRole? {
        if let setupError { throw setupError }
        return setup
    }

    @inline(__always)
    func connectionAttribute() throws(SDPError) -> ConnectionAttribute? {
        if let connectionError { throw connectionError }
        return connection
    }
}
