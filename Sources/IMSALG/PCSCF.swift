import SDPRewrite
import SIPCore
import SIPTransaction

/// The P-CSCF decisions of TS 24.229 §5.2 over parsed SIPMessages: pure apart from the registration
/// store (behind `RegistrationStore`). No I/O, no clock (every call takes `now`), identifiers from
/// the injected `PCSCFIdentifierSource`. Output is spliced bytes plus where to send them.
public struct PCSCF: Sendable {
    public var configuration: PCSCFConfiguration
    public let store: any RegistrationStore
    public var ids: any PCSCFIdentifierSource

    public init(configuration: PCSCFConfiguration = .default, store: any RegistrationStore = InMemoryRegistrationStore(),
                ids: any PCSCFIdentifierSource = SequentialIdentifierSource()) {
        self.configuration = configuration
        self.store = store
        self.ids = ids
    }

    // MARK: - Registration (TS 24.229 §5.2.2; RFC 3327; TS 33.328 §7.1)

    /// A REGISTER from the UE on `flow`: removes the network-only headers, takes the UE's mediasec
    /// Security-Client entries out (they are Gm-only and never part of signalling negotiation,
    /// TS 24.229 §7.2A.7, specs.md §2.2), inserts Path with our URI and `Supported: path`
    /// (RFC 3327 §5.1; TS 24.229 §5.2.2.1), adds P-Charging-Vector / P-Visited-Network-ID when
    /// configured, and removes Route entries naming us.
    public mutating func registerFromUE(_ message: SIPMessage, flow: SIPFlow, hop: ProxyHop? = nil) -> RegisterDecision {
        var splice = SIPSplice(message)
        let context = editRegisterFromUE(message, flow: flow, into: &splice)
        removeOwnTopRoutes(message, into: &splice)
        if let failure = applyHop(hop, into: &splice) { return .respond(response: respond(message, failure), status: failure) }
        return .forward(bytes: splice.bytes(), nextHops: configuration.registrarNextHops, context: context)
    }

    /// The header edits of `registerFromUE` on `splice`, for a proxy core that handles Via,
    /// Max-Forwards and its own Route entries itself (ProxyRuntime): trust boundary, mediasec entries
    /// out (recorded in the returned context), Path + `Supported: path`, P-Charging-Vector,
    /// P-Visited-Network-ID. The caller sends to `configuration.registrarNextHops`.
    public mutating func editRegisterFromUE(_ message: SIPMessage, flow: SIPFlow, into splice: inout SIPSplice) -> RegisterContext {
        var ueMechanisms: Set<MediaSecurityMechanism> = []
        var indicated = false
        for m in message.securityClient where m.mediasec {
            indicated = true
            if let known = MediaSecurityMechanism(rawValue: m.name.lowercased()) { ueMechanisms.insert(known) }
        }
        let contacts = message.contacts
        let context = RegisterContext(
            flow: flow,
            contacts: Array(contacts.compactMap { $0.address?.uri }.prefix(PCSCFLimits.maxContactsPerRegister)),
            wildcard: contacts.contains { $0.isWildcard },
            toURI: message.to?.uri,
            requestExpires: message.expires,
            ueMediaSecurity: ueMechanisms,
            ueIndicatedMediasec: indicated)

        TrustBoundary.sanitize(message, into: &splice, extra: configuration.extraUntrustedHeaders)
        stripMediasecTowardsCore(message, into: &splice)
        splice.insertPath("<\(configuration.pathURI)>")
        addOptionTag("path", message, .supported, "Supported", into: &splice)
        if configuration.chargingVector { splice.addHeader("P-Charging-Vector", chargingVectorValue()) }
        if let vn = configuration.visitedNetworkID { splice.addHeader("P-Visited-Network-ID", vn) }
        return context
    }

    /// A response to a REGISTER, coming back from the core. 401 passes through (the S-CSCF runs
    /// AKA; IPsec sec-agree is out of scope); the 401 and the 200 get
    /// `Security-Server: <network mechanisms>;mediasec` (specs.md U7: both). A 200 creates, refreshes
    /// or removes the binding from Service-Route (RFC 3608 §6.1), P-Associated-URI (RFC 7315 §4.1)
    /// and the Contact expires (RFC 3261 §10.3 step 8; expires=0 removes it).
    public mutating func registerResponse(_ response: SIPMessage, context: RegisterContext, now: TransactionInstant,
                                          removeTopVia: Bool = false) async -> RegisterResponseResult {
        var splice = SIPSplice(response)
        if removeTopVia { try? splice.removeTopVia() }
        return await registerResponse(response, context: context, now: now, into: &splice)
    }

    /// `registerResponse` editing `splice` (a splice over `response`, e.g. the one a proxy core already
    /// removed its Via in); `bytes` of the result is `splice.bytes()` after the edits.
    public mutating func registerResponse(_ response: SIPMessage, context: RegisterContext, now: TransactionInstant,
                                          into splice: inout SIPSplice) async -> RegisterResponseResult {
        let status = response.statusCode ?? 0
        // The core's own mediasec entries are not ours to relay: the P-CSCF answers for the network.
        HeaderElements.keep(response, .securityServer, "Security-Server", into: &splice) { !HeaderElements.isMediasec($0) }
        var announced: Set<MediaSecurityMechanism> = []
        let announce = !configuration.networkMediaSecurity.isEmpty
            && (context.ueIndicatedMediasec || !configuration.announceMediasecOnlyWhenUEIndicated)
        if announce && ((status == 401 && configuration.mediasecIn401) || (status >= 200 && status < 300 && configuration.mediasecIn200)) {
            announced = configuration.networkMediaSecurity
            splice.addHeader("Security-Server", Self.mediasecValue(announced))
        }
        let chargingAddresses = response.fields(.pChargingFunctionAddresses).first.map { response.value(of: $0) }
        if configuration.stripChargingTowardsUE { stripCharging(response, into: &splice) }

        var stored: [RegistrationBinding] = []
        var removed: [RegistrationBinding] = []
        var storeError: RegistrationStoreError? = nil
        if status >= 200 && status < 300 {
            let network: Set<MediaSecurityMechanism> = announce ? configuration.networkMediaSecurity : []
            let identities = Array(response.pAssociatedURIs.prefix(PCSCFLimits.maxIdentitiesPerBinding).map(\.uri))
            let serviceRoute = Array(response.serviceRoutes.prefix(PCSCFLimits.maxServiceRouteEntries).map { "<\($0.uri)>" })
            let granted = response.contacts.compactMap(\.address)
            do {
                if context.wildcard {
                    // RFC 3261 §10.2.2: Contact: * with Expires: 0 removes every binding of the AOR.
                    if let to = context.toURI {
                        for b in try await store.bindings(identity: to) where b.flow.key == context.flow.key {
                            if let gone = try await store.remove(contact: b.contact) { removed.append(gone) }
                        }
                    }
                }
                for contact in context.contacts {
                    let key = SIPURIKey(contact)
                    let match = granted.first { SIPURIKey($0.uri) == key }
                    let expires = match?.parameters["expires"].flatMap { UInt32($0) }
                        ?? response.expires ?? context.requestExpires ?? configuration.fallbackExpires
                    if match == nil || expires == 0 {
                        if let gone = try await store.remove(contact: contact) { removed.append(gone) }
                        continue
                    }
                    let binding = RegistrationBinding(
                        identities: identities, contact: contact, flow: context.flow,
                        expiresAt: now + .seconds(Int64(expires)), serviceRoute: serviceRoute,
                        mediaSecurity: MediaSecurityFlags(ue: context.ueMediaSecurity, network: network),
                        chargingFunctionAddresses: chargingAddresses)
                    try await store.upsert(binding)
                    stored.append(binding)
                }
            } catch {
                storeError = error
            }
        }
        return RegisterResponseResult(bytes: splice.bytes(), flow: context.flow, status: status,
                                      announcedMediaSecurity: announced, stored: stored, removed: removed, storeError: storeError)
    }

    /// Removes bindings whose expiry is at or before `now` (TS 24.229 §5.2.2.1: the P-CSCF's view of
    /// the registration lapses with the registration).
    public func sweepExpired(now: TransactionInstant) async throws(RegistrationStoreError) -> [RegistrationBinding] {
        try await store.removeExpired(now: now)
    }

    /// `sdes-srtp;mediasec, msrp-tls;mediasec, bfcp-tls;mediasec` in a fixed order.
    public static func mediasecValue(_ mechanisms: Set<MediaSecurityMechanism>) -> String {
        MediaSecurityMechanism.allCases.filter { mechanisms.contains($0) }.map { "\($0.rawValue);mediasec" }.joined(separator: ", ")
    }

    // MARK: - Originating requests (TS 24.229 §5.2.6.3)

    /// A request from the UE on `flow` (not REGISTER). It must come from a registered flow (else
    /// `unregisteredStatus`). Network-only headers are removed; on initial requests the identity is
    /// asserted (P-Preferred-Identity if it is one of the binding's identities, else the default
    /// identity; RFC 3325 §6, TS 24.229 §5.2.6.3.3), P-Preferred-Identity removed, P-Charging-Vector
    /// and P-Visited-Network-ID added, the stored Service-Route pre-loaded as Route (RFC 3608 §6.2),
    /// and Record-Route with the originating marker added.
    public mutating func originatingRequest(_ message: SIPMessage, flow: SIPFlow, now: TransactionInstant,
                                            hop: ProxyHop? = nil) async -> RequestDecision {
        let method = message.method ?? ""
        var splice = SIPSplice(message)
        let remaining = removeOwnTopRoutes(message, into: &splice)
        let edit: OriginatingEdit
        switch await editOriginatingRequest(message, flow: flow, now: now, remainingRoutes: remaining, into: &splice) {
        case .reject(let status): return reject(message, status)
        case .edit(let e): edit = e
        }
        var routeSet = remaining
        if !edit.preloadedRoutes.isEmpty {
            splice.replaceHeader("Route", edit.preloadedRoutes.joined(separator: ", "))
            routeSet = edit.preloadedRoutes
        }
        if edit.initial && configuration.recordRoute && method != "REGISTER" {
            splice.insertRecordRoute("<\(configuration.originatingRecordRouteURI)>")
        }
        if let failure = applyHop(hop, into: &splice) { return reject(message, failure) }
        let nextHop = routeSet.first.map(Self.stripAngles) ?? message.requestURI ?? ""
        return .forward(bytes: splice.bytes(), nextHop: nextHop, flow: nil, binding: edit.binding, role: .originating, initial: edit.initial)
    }

    /// The header edits of `originatingRequest` on `splice`, for a proxy core that handles Via,
    /// Max-Forwards, its own Route entries and Record-Route itself (ProxyRuntime). `remainingRoutes`
    /// are the request's Route values (`<uri>`) that do not name this proxy. Route is not edited: the
    /// result's `preloadedRoutes` (the Service-Route, when it applies) replace `remainingRoutes`.
    public mutating func editOriginatingRequest(_ message: SIPMessage, flow: SIPFlow, now: TransactionInstant,
                                                remainingRoutes: [String], into splice: inout SIPSplice) async -> PCSCFEditResult<OriginatingEdit> {
        let method = message.method ?? ""
        var binding: RegistrationBinding? = nil
        do { binding = try await store.binding(flow: flow.key) } catch { return .reject(500) }
        if let b = binding, b.expiresAt <= now { binding = nil }
        if binding == nil && configuration.rejectUnregistered { return .reject(configuration.unregisteredStatus) }

        let initial = message.to?.tag == nil && method != "CANCEL" && method != "ACK"
        TrustBoundary.sanitize(message, into: &splice, extra: configuration.extraUntrustedHeaders)
        stripMediasecTowardsCore(message, into: &splice)

        var preload: [String] = []
        var asserted: String? = nil
        if initial, let b = binding {
            let preferred = message.pPreferredIdentities.first.map(\.uri)
            asserted = preferred.flatMap { b.hasIdentity($0) ? $0 : nil } ?? b.defaultIdentity
            if let asserted { splice.addHeader("P-Asserted-Identity", "<\(asserted)>") }
            if configuration.chargingVector { splice.addHeader("P-Charging-Vector", chargingVectorValue()) }
            if configuration.visitedNetworkIDOnOriginating, let vn = configuration.visitedNetworkID {
                splice.addHeader("P-Visited-Network-ID", vn)
            }
            if !b.serviceRoute.isEmpty && (configuration.enforceServiceRoute || remainingRoutes.isEmpty) {
                preload = b.serviceRoute
            }
        }
        if !message.headerIndices(named: "P-Preferred-Identity").isEmpty { splice.removeHeader("P-Preferred-Identity") }
        return .edit(OriginatingEdit(binding: binding, initial: initial, preloadedRoutes: preload, assertedIdentity: asserted))
    }

    // MARK: - Terminating requests (TS 24.229 §5.2.6.4)

    /// A request from the core. When its top Route names us (our Path, or our Record-Route on a
    /// subsequent request), the binding is looked up by the Request-URI (contact, else public
    /// identity); the request goes to the registered contact over the registered flow (RFC 3327 §5.3;
    /// RFC 5626 §5.3). No binding → `terminatingNoBindingStatus`. P-Asserted-Identity from the core is
    /// trusted and passed on (RFC 3325 §5).
    public mutating func terminatingRequest(_ message: SIPMessage, now: TransactionInstant, hop: ProxyHop? = nil) async -> RequestDecision {
        let method = message.method ?? ""
        var splice = SIPSplice(message)
        let edit: TerminatingEdit
        switch await editTerminatingRequest(message, now: now, into: &splice) {
        case .notForUs: return .notForUs
        case .reject(let status): return reject(message, status)
        case .edit(let e): edit = e
        }
        removeOwnTopRoutes(message, into: &splice)
        if edit.initial && configuration.recordRoute { splice.insertRecordRoute("<\(configuration.terminatingRecordRouteURI)>") }
        if let failure = applyHop(hop, into: &splice) { return reject(message, failure) }
        var bytes = splice.bytes()
        if let uri = edit.requestURI { bytes = Self.replacingRequestURI(bytes, method: method, uri: uri) }
        return .forward(bytes: bytes, nextHop: edit.binding.contact, flow: edit.binding.flow, binding: edit.binding, role: .terminating, initial: edit.initial)
    }

    /// The header edits of `terminatingRequest` on `splice` (charging headers removed towards the UE),
    /// for a proxy core that handles Via, Max-Forwards, its own Route entries and Record-Route itself.
    /// `.notForUs` when the top Route does not name us. The result names the binding (its flow is the
    /// one to send over) and the new Request-URI when the request was addressed to a public identity.
    public mutating func editTerminatingRequest(_ message: SIPMessage, now: TransactionInstant,
                                                into splice: inout SIPSplice) async -> TerminatingEditResult {
        guard let top = message.routes.first, configuration.isOwn(top.uri) else { return .notForUs }
        let method = message.method ?? ""
        let ruri = message.requestURI ?? ""
        var binding: RegistrationBinding? = nil
        do {
            binding = try await store.binding(contact: ruri)
            if binding == nil || binding!.expiresAt <= now {
                binding = try await store.bindings(identity: ruri).first { $0.expiresAt > now }
            }
        } catch { return .reject(500) }
        if let b = binding, b.expiresAt <= now { binding = nil }
        guard let b = binding else { return .reject(configuration.terminatingNoBindingStatus) }

        let initial = message.to?.tag == nil && method != "CANCEL" && method != "ACK"
        if configuration.stripChargingTowardsUE { stripCharging(message, into: &splice) }
        let newURI = SIPURIKey(ruri) != SIPURIKey(b.contact) ? b.contact : nil
        return .edit(TerminatingEdit(binding: b, initial: initial, requestURI: newURI))
    }

    /// Removes P-Charging-Vector / P-Charging-Function-Addresses from a message going to the UE
    /// (TS 24.229 §5.2.6.4 [K]; RFC 7315 §4.5, §4.6) when `stripChargingTowardsUE` is on (responses
    /// to originating requests, requests to the UE).
    public func editTowardsUE(_ message: SIPMessage, into splice: inout SIPSplice) {
        if configuration.stripChargingTowardsUE { stripCharging(message, into: &splice) }
    }

    // MARK: - Helpers

    private mutating func reject(_ message: SIPMessage, _ status: Int) -> RequestDecision {
        if message.method == "ACK" { return .drop(reason: "ACK cannot be answered (status \(status))") }
        return .respond(response: respond(message, status), status: status)
    }

    private mutating func respond(_ message: SIPMessage, _ status: Int) -> [UInt8] {
        SIPResponseBuilder.response(to: message, status: status, reason: Reason.phrase(status), toTag: ids.nextToTag())
    }

    private mutating func chargingVectorValue() -> String {
        var v = "icid-value=\(ids.nextICID())"
        if let at = configuration.icidGeneratedAt { v += ";icid-generated-at=\(at)" }
        if let ioi = configuration.origIOI { v += ";orig-ioi=\(ioi)" }
        return v
    }

    /// Via and Max-Forwards (RFC 3261 §16.6 steps 3, 8); returns a status on failure (483).
    private func applyHop(_ hop: ProxyHop?, into splice: inout SIPSplice) -> Int? {
        guard let hop else { return nil }
        if hop.decrementMaxForwards {
            do { try splice.decrementMaxForwards() } catch { return error.disposition.statusCode ?? 400 }
        }
        splice.insertTopVia(hop.via)
        return nil
    }

    /// Removes the Route entries at the top that name this P-CSCF (RFC 3261 §16.4); returns the
    /// remaining Route URIs (with `<>`).
    @discardableResult
    private func removeOwnTopRoutes(_ message: SIPMessage, into splice: inout SIPSplice) -> [String] {
        let routes = message.routes
        var i = 0
        while i < routes.count, configuration.isOwn(routes[i].uri) {
            do { try splice.removeTopRoute() } catch { break }
            i += 1
        }
        return routes[i...].map { "<\($0.uri)>" }
    }

    /// Security-Client/-Verify mediasec entries and the `mediasec` option tag stay on Gm
    /// (TS 24.229 §7.2A.7; specs.md §2.2 [U]).
    private func stripMediasecTowardsCore(_ message: SIPMessage, into splice: inout SIPSplice) {
        HeaderElements.keep(message, .securityClient, "Security-Client", into: &splice) { !HeaderElements.isMediasec($0) }
        HeaderElements.keep(message, .securityVerify, "Security-Verify", into: &splice) { !HeaderElements.isMediasec($0) }
        if configuration.stripMediasecOptionTagTowardsCore {
            HeaderElements.keep(message, .require, "Require", into: &splice) { $0.lowercased() != "mediasec" }
            HeaderElements.keep(message, .proxyRequire, "Proxy-Require", into: &splice) { $0.lowercased() != "mediasec" }
        }
    }

    private func stripCharging(_ message: SIPMessage, into splice: inout SIPSplice) {
        for n in ["P-Charging-Vector", "P-Charging-Function-Addresses"] where !message.headerIndices(named: n).isEmpty {
            splice.removeHeader(n)
        }
    }

    private func addOptionTag(_ tag: String, _ message: SIPMessage, _ known: SIPHeaderName, _ written: String, into splice: inout SIPSplice) {
        let existing = message.elements(known)
        if existing.contains(where: { $0.lowercased() == tag }) { return }
        if existing.isEmpty { splice.addHeader(written, tag) } else { splice.replaceHeader(written, (existing + [tag]).joined(separator: ", ")) }
    }

    static func stripAngles(_ s: String) -> String {
        s.hasPrefix("<") && s.hasSuffix(">") ? String(s.dropFirst().dropLast()) : s
    }

    /// Replaces the Request-URI of spliced request bytes (SIPSplice never edits the start line).
    static func replacingRequestURI(_ bytes: [UInt8], method: String, uri: String) -> [UInt8] {
        guard let cr = bytes.firstIndex(of: 0x0D) else { return bytes }
        return Array("\(method) \(uri) SIP/2.0".utf8) + bytes[cr...]
    }
}
