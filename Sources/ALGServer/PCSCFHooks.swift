// The P-CSCF (TS 24.229 §5.2) on the running proxy: `IMSALG.PCSCF` decisions behind the
// `ProxyRuntimeHooks` of `ProxyServer`. The proxy core does Via, Max-Forwards, its own Route entries
// and Record-Route (RFC 3261 §16.4, §16.6, RFC 5658 double Record-Route between Gm and Mw); these hooks
// make the P-CSCF edits and choose the target:
//   Gm REGISTER      -> Path, Supported: path, trust boundary, mediasec out; to the core next hop
//   its 401/200      -> Security-Server ...;mediasec; 200 creates/refreshes/removes the binding
//   Gm other request -> registered flow only (403), P-Asserted-Identity, Service-Route pre-loaded
//   Mw request to us -> to the registered contact over the UE's flow (404/480 without binding)
import Foundation
import IMSALG
import Logging
import NIOCore
import ProxyRuntime
import SDPRewrite
import SIPCore
import SIPProxy
import SIPTransaction
import SIPTransport

/// A monotonic clock for the hooks (bindings expire on it): the proxy's `ProxyClock`.
public typealias PCSCFNow = @Sendable () -> TransactionInstant

/// Random icid values (RFC 7315 §4.6: globally unique) and To tags for the P-CSCF's own answers.
/// Shared by every copy of the `PCSCF` value (a reference, so no counter is lost across copies).
public final class RandomPCSCFIdentifiers: PCSCFIdentifierSource, @unchecked Sendable {
    private let lock = NSLock()
    private var generator = SystemRandomNumberGenerator()
    private let host: String
    public init(host: String) { self.host = host }
    private func token() -> String {
        lock.lock()
        let a: UInt64 = generator.next()
        let b: UInt64 = generator.next()
        lock.unlock()
        return String(a, radix: 16) + String(b, radix: 16)
    }
    public func nextICID() -> String { "\(token())@\(host)" }
    public func nextToTag() -> String { token() }
}

/// One stored binding as the admin/test view shows it.
public struct PCSCFBindingView: Sendable, Equatable, CustomStringConvertible {
    public var binding: RegistrationBinding
    /// Seconds left before expiry at the time of the view (negative: expired, not yet swept).
    public var secondsLeft: Int64
    public var description: String {
        let b = binding
        let ue = b.mediaSecurity.ue.map(\.rawValue).sorted().joined(separator: ",")
        let net = b.mediaSecurity.network.map(\.rawValue).sorted().joined(separator: ",")
        return "contact=\(b.contact) identities=\(b.identities.joined(separator: ",")) flow=\(b.flow) "
            + "expires_in=\(secondsLeft)s service_route=\(b.serviceRoute.joined(separator: ",")) "
            + "mediasec_ue=[\(ue)] mediasec_net=[\(net)]"
    }
}

/// The P-CSCF hooks. An actor: per-request REGISTER state and the flow table live here; bindings live
/// in the `RegistrationStore` (shared by every copy of the `PCSCF` value).
public actor PCSCFHooks: ProxyRuntimeHooks {
    /// The pure P-CSCF (configuration, store, identifiers). Replaced by `update(configuration:)` once
    /// the listeners are bound (the Path URI names the Mw listener).
    public private(set) var pcscf: PCSCF
    public nonisolated let nextHops: PCSCFNextHops
    private let now: PCSCFNow
    private let logger: Logger

    /// What a forwarded REGISTER left for its response.
    private struct PendingRegister {
        var context: RegisterContext
        var inbound: ProxyFlow
        var hop: String
    }
    private var pendingRegisters: [ProxyRequestID: PendingRegister] = [:]
    /// The live transport flow of each registered flow key (the connection to reuse, RFC 5626 §5.3;
    /// TS 24.229 §5.2.6.4). Bounded by the store: entries go with their bindings.
    private var flows: [FlowKey: ProxyFlow] = [:]

    /// Statuses that make the REGISTER next hop count as failed (RFC 3261 §16.7 step 6: 408 from Timer
    /// F/B, 503 on a transport error, §17.1.4), so the next REGISTER fails over (RFC 3263 §4.3).
    public static let failoverStatuses: Set<Int> = [408, 503]

    /// Dialog count and draining switch (graceful shutdown, Sources/ALGServer/PCSCFLifecycle.swift).
    public nonisolated let drain: PCSCFDrainState

    public init(pcscf: PCSCF, nextHops: PCSCFNextHops, now: @escaping PCSCFNow, logger: Logger = Logger(label: "pcscf"),
                drain: PCSCFDrainState = PCSCFDrainState()) {
        self.drain = drain
        self.pcscf = pcscf
        self.nextHops = nextHops
        self.now = now
        self.logger = logger
    }

    /// Sets the P-CSCF configuration (the service calls it after binding, before traffic).
    public func update(configuration: PCSCFConfiguration) {
        pcscf.configuration = configuration
    }

    // MARK: Requests

    public func processRequest(_ request: SIPMessage, context: ProxyRequestContext) async -> ProxyRequestDecision {
        let inbound = context.inbound
        // Draining (SIGTERM): new dialogs get 503 + Retry-After; in-dialog requests go on.
        if let reject = drain.rejection(for: request) { return .respond(reject) }
        if request.method == "BYE", let callID = request.callID { drain.byeForwarded(context.id, callID: callID) }
        // RFC 3261 §12.2.2: after the ALG inserted requests into this direction of the dialog, the
        // sender's CSeq numbers are raised (read before a BYE ends the session). ALG delegation (issue 9).
        let cseq = await alg?.forwardCSeq(request)
        // RFC 3262 §7.2: a PRACK's RAck names its INVITE by the number the UAS saw (translated likewise).
        let rack = request.method == "PRACK" ? await alg?.forwardRAck(request) : nil
        let decision: ProxyRequestDecision
        switch inbound.side {
        case .gm:
            if request.method == "REGISTER" { return register(request, context) }
            if request.method == "BYE" { await alg?.bye(request) }   // ALG delegation (issue 9)
            decision = await originating(request, inbound)
        case .mw:
            if request.method == "BYE" { await alg?.bye(request) }   // ALG delegation (issue 9)
            decision = await terminating(request)
        }
        guard cseq != nil || rack != nil, case .forward(var edits) = decision else { return decision }
        if let cseq { ALGCSeqTranslation.rewrite(&edits.splice, number: cseq) }
        if let rack { edits.splice.replaceHeader("RAck", rack) }
        return .forward(edits)
    }

    /// TS 24.229 §5.2.2.1: REGISTER from the UE to the configured I-CSCF/S-CSCF with Path.
    private func register(_ request: SIPMessage, _ context: ProxyRequestContext) -> ProxyRequestDecision {
        var p = pcscf
        var edits = ProxyRequestEdits(request)
        let flow = Self.sipFlow(context.inbound)
        let registerContext = p.editRegisterFromUE(request, flow: flow, into: &edits.splice)
        guard let hop = nextHops.current(now: now()), let target = hop.resolved else {
            logger.warning("REGISTER from \(flow): no core next hop resolves")
            return .respond(Self.reject(503))
        }
        edits.nextHop = target
        edits.outboundSide = .mw
        edits.recordRoute = false
        pendingRegisters[context.id] = PendingRegister(context: registerContext, inbound: context.inbound, hop: hop.configured)
        logger.debug("REGISTER \(request.to?.uri ?? "-") from \(flow) -> \(target); UE mediasec \(registerContext.ueMediaSecurity.map(\.rawValue).sorted())")
        return .forward(edits)
    }

    /// TS 24.229 §5.2.6.3: a request from the UE.
    private func originating(_ request: SIPMessage, _ inbound: ProxyFlow) async -> ProxyRequestDecision {
        var p = pcscf
        var edits = ProxyRequestEdits(request)
        let flow = Self.sipFlow(inbound)
        // The Route values below our own top entries (the core removes ours, RFC 3261 §16.4).
        let routes = request.routes.map(\.uri)
        let remaining = routes.drop { pcscf.configuration.isOwn($0) }.map { "<\($0)>" }
        switch await p.editOriginatingRequest(request, flow: flow, now: now(), remainingRoutes: Array(remaining), into: &edits.splice) {
        case .reject(let status):
            logger.debug("\(request.method ?? "?") from unregistered flow \(flow): \(status)")
            return .respond(Self.reject(status))
        case .edit(let e):
            // RFC 3608 §6.2, TS 24.229 §5.2.6.3.3: the stored Service-Route replaces the UE's Route set
            // (ours included, so nothing routes back to us); its first entry is the next hop. Done in the
            // splice rather than with `preloadedRoutes`, which keeps the received Route values below.
            if !e.preloadedRoutes.isEmpty { edits.splice.replaceHeader("Route", e.preloadedRoutes.joined(separator: ", ")) }
            edits.outboundSide = .mw
            if let asserted = e.assertedIdentity { logger.debug("\(request.method ?? "?") from \(flow): asserted \(asserted)") }
            return .forward(edits)
        }
    }

    /// TS 24.229 §5.2.6.4: a request from the core for a served UE.
    private func terminating(_ request: SIPMessage) async -> ProxyRequestDecision {
        var p = pcscf
        var edits = ProxyRequestEdits(request)
        switch await p.editTerminatingRequest(request, now: now(), into: &edits.splice) {
        case .notForUs:
            // Not routed through our Path or Record-Route: plain proxy routing.
            return .forward(ProxyRequestEdits(request))
        case .reject(let status):
            logger.debug("\(request.method ?? "?") \(request.requestURI ?? "-") from the core: no binding, \(status)")
            return .respond(Self.reject(status))
        case .edit(let e):
            edits.requestURI = e.requestURI
            edits.outboundSide = .gm
            if let flow = flows[e.binding.flow.key] {
                edits.flow = flow
            } else {
                // No live flow known (e.g. after a restart with a shared store): send to the contact.
                edits.nextHop = e.binding.contact
            }
            logger.debug("\(request.method ?? "?") to \(e.binding.contact) over \(e.binding.flow)")
            return .forward(edits)
        }
    }

    // MARK: Responses

    public func processResponse(_ response: SIPMessage, context: ProxyResponseContext) async -> ProxyResponseDecision {
        if let alg, context.responseInbound.side == .gm, context.request.method == "INVITE", (200..<300).contains(context.status) {
            await alg.noteAccessFlow(request: context.request, flow: context.responseInbound)   // ALG delegation (issue 9)
        }
        if let alg, response.bodyRange.isEmpty, context.request.method == "INVITE", (200..<300).contains(context.status) {
            // RFC 3262 §5 / RFC 6337 §3.1: a 2xx without SDP confirms the media answered in a reliable 18x or
            // its PRACK (the body hook only sees responses with a body). ALG delegation (issue 9).
            await alg.responseWithoutBody(response, request: context.request, status: context.status)
        }
        if (200..<300).contains(context.status), context.request.method == "INVITE", context.request.to?.tag == nil,
           let callID = context.request.callID {
            drain.dialogConfirmed(callID: callID)
        }
        var splice = SIPSplice(response)
        if alg != nil, let number = ALGCSeqTranslation.responseNumber(response, request: context.request) {
            // The request went on with a translated CSeq (ALGSessions.forwardCSeq): the response goes back
            // with the sender's own number (RFC 3261 §8.2.6.2, §12.2.1.1).
            ALGCSeqTranslation.rewrite(&splice, number: number)
        }
        guard context.requestInbound.side == .gm else { return .forward(splice) }
        guard context.request.method == "REGISTER", let pending = pendingRegisters[context.requestID] else {
            pcscf.editTowardsUE(response, into: &splice)
            return .forward(splice)
        }
        if Self.failoverStatuses.contains(context.status) {
            nextHops.markDown(pending.hop, now: now())
            logger.warning("REGISTER next hop \(pending.hop) failed with \(context.status); held down for \(nextHops.holdDown)")
        } else if context.status >= 200 {
            nextHops.markUp(pending.hop)
        }
        var p = pcscf
        let result = await p.registerResponse(response, context: pending.context, now: now(), into: &splice)
        if context.status >= 200 { pendingRegisters[context.requestID] = nil }
        for b in result.stored {
            flows[b.flow.key] = pending.inbound
            logger.debug("binding stored: \(PCSCFBindingView(binding: b, secondsLeft: Self.seconds(b.expiresAt - now())))")
        }
        for b in result.removed { await forget(b) }
        if let error = result.storeError { logger.error("registration store: \(error)") }
        return .forward(splice)
    }

    public func requestCompleted(_ context: ProxyRequestContext, status: Int) async {
        pendingRegisters[context.id] = nil
        drain.requestCompleted(context.id)
        await alg?.requestCompleted(context.id, status: status)   // ALG delegation (issue 9)
    }

    // MARK: IMS-ALG delegation (issue 9; Sources/ALGServer/ALGSessions.swift)

    /// The IMS-ALG sessions; nil: no media gateway configured, SDP passes unchanged.
    public private(set) var alg: ALGSessions?

    public func attach(alg: ALGSessions?) { self.alg = alg }

    /// SDP offers (INVITE/UPDATE; a 2xx to an INVITE without SDP) and answers (18x/2xx; the ACK after a 2xx
    /// offer) go through the ALG session of their dialog.
    public func rewriteBody(_ body: ArraySlice<UInt8>, contentType: String, message: SIPMessage,
                            context: ProxyBodyContext) async -> BodyRewriteResult {
        guard let alg, contentType.lowercased().hasPrefix("application/sdp") else { return .unchanged }
        return await alg.rewrite(body, message: message, context: context, flags: await mediaSecurity(context))
    }

    /// The served UE's media-security flags (TS 33.328 §7.1): the binding of the UE's flow for a request
    /// from Gm, the binding of the Request-URI (registered contact or identity) for one from Mw.
    private func mediaSecurity(_ context: ProxyBodyContext) async -> MediaSecurityFlags {
        if context.requestInbound.side == .gm {
            let key = Self.sipFlow(context.requestInbound).key
            return (try? await pcscf.store.binding(flow: key))?.mediaSecurity ?? MediaSecurityFlags()
        }
        guard let uri = context.request.requestURI else { return MediaSecurityFlags() }
        if let b = try? await pcscf.store.binding(contact: uri) { return b.mediaSecurity }
        return (try? await pcscf.store.bindings(identity: uri))?.first?.mediaSecurity ?? MediaSecurityFlags()
    }

    // MARK: Expiry, admin view

    /// Removes expired bindings (TS 24.229 §5.2.2.1: the P-CSCF's view lapses with the registration)
    /// and their flows; returns them. The service calls it on a timer.
    @discardableResult
    public func sweep() async -> [RegistrationBinding] {
        do {
            let gone = try await pcscf.sweepExpired(now: now())
            for b in gone {
                await forget(b)
                logger.debug("binding expired: \(b.contact) (\(b.identities.first ?? "-"))")
            }
            sweeps &+= 1
            if sweeps % Self.flowPruneEvery == 0 { await pruneFlows() }
            return gone
        } catch {
            logger.error("registration store sweep: \(error)")
            return []
        }
    }

    /// Every stored binding with its time left.
    public func bindings() async -> [PCSCFBindingView] {
        let t = now()
        let all = (try? await pcscf.store.all()) ?? []
        return all.map { PCSCFBindingView(binding: $0, secondsLeft: Self.seconds($0.expiresAt - t)) }
    }

    /// Number of REGISTER transactions waiting for their final response (tests).
    public var pendingRegisterCount: Int { pendingRegisters.count }

    /// Sweeps so far; every `flowPruneEvery`-th also prunes the flow table.
    private var sweeps: UInt64 = 0
    /// A contact re-registered from a new flow leaves its old flow in the table; the table is pruned to
    /// the flows of stored bindings every this many sweeps (bounded memory, house style).
    public static let flowPruneEvery: UInt64 = 60

    /// Keeps only the flows that a stored binding uses.
    func pruneFlows() async {
        guard let all = try? await pcscf.store.all() else { return }
        let live = Set(all.map(\.flow.key))
        flows = flows.filter { live.contains($0.key) }
    }

    /// Number of live flows known (tests).
    public var flowCount: Int { flows.count }

    /// Drops the flow of a removed binding unless another binding still uses it.
    private func forget(_ b: RegistrationBinding) async {
        if (try? await pcscf.store.binding(flow: b.flow.key)) == nil { flows[b.flow.key] = nil }
    }

    // MARK: Helpers

    /// The IMSALG view of a transport flow: transport, source address and port, connection token.
    public static func sipFlow(_ flow: ProxyFlow) -> SIPFlow {
        SIPFlow(transport: flow.transport.rawValue, address: flow.remote.ipAddress ?? "\(flow.remote)",
                port: flow.remote.port ?? 0, connectionID: flow.token.connectionID.map { "conn#\($0)" })
    }

    static func reject(_ status: Int) -> ProxyReject {
        ProxyReject(status: status, reason: reasonPhrase(status))
    }

    /// RFC 3261 §21 reason phrases of the statuses the P-CSCF answers itself.
    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 420: "Bad Extension"
        case 480: "Temporarily Unavailable"
        case 483: "Too Many Hops"
        case 500: "Server Internal Error"
        case 503: "Service Unavailable"
        default: "Error"
        }
    }

    static func seconds(_ d: Duration) -> Int64 { d.components.seconds }
}
