// MGC side of the control association with one IMS-AGW (H.248.1 §7.2.8 ServiceChange, §11
// MG-MGC control, §11.3 version negotiation; TS 23.334 §8 Register / Out-of-Service / Restoration;
// TS 29.334 profile). Pure: the driver decodes the ServiceChange into `ServiceChangeRequestInfo`,
// feeds events, executes the returned actions and encodes the reply.
//
//   unregistered ──SC Restart/Failover/HandOff/Disconnected on ROOT──► inService
//   inService ──SC Graceful──► draining ──Delay elapsed──► outOfService
//   inService/draining ──SC Forced──► outOfService ──SC Restart──► inService (restored / restarted)
//   any registered ──keep-alive failures / transport closed──► lost ──SC Restart──► inService

/// ServiceChangeMethod (H.248.1 §7.2.8.1.1; text tokens specs.md §11.4).
public enum ServiceChangeMethod: String, Sendable, Hashable, CaseIterable {
    case failover = "Failover"
    case forced = "Forced"
    case graceful = "Graceful"
    case restart = "Restart"
    case disconnected = "Disconnected"
    case handOff = "HandOff"
}

/// ServiceChangeReason codes used here (H.248.1 §7.2.8.1.2; specs.md §11.5).
public enum ServiceChangeReason {
    public static let serviceRestored: UInt16 = 900
    public static let coldBoot: UInt16 = 901
    public static let warmBoot: UInt16 = 902
    public static let mgcDirectedChange: UInt16 = 903
    public static let terminationTakenOutOfService: UInt16 = 905
    public static let mgImpendingFailure: UInt16 = 908
    public static let warmFailover: UInt16 = 919
    public static let coldFailover: UInt16 = 920
}

/// A profile as written in `Profile = <name>/<version>` (H.248.1 §7.2.8.1.x, specs.md U1).
public struct H248ProfileID: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var version: Int

    public init(name: String, version: Int) {
        self.name = name
        self.version = version
    }

    /// H.248 names compare case-insensitively (H.248.1 Annex B: text tokens are case-insensitive).
    public func matches(_ other: H248ProfileID) -> Bool {
        version == other.version && name.lowercased() == other.name.lowercased()
    }

    public var description: String { "\(name)/\(version)" }
}

/// The parts of a received ServiceChange request that the association needs.
public struct ServiceChangeRequestInfo: Sendable, Hashable {
    public var method: ServiceChangeMethod
    /// Numeric part of ServiceChangeReason, when present.
    public var reason: UInt16?
    /// TerminationID as written; "ROOT" means the whole gateway.
    public var terminationID: String
    /// ServiceChangeVersion, when present.
    public var version: Int?
    /// Version from the message header (`MEGACO/<v>`), used when ServiceChangeVersion is absent.
    public var messageVersion: Int
    public var profile: H248ProfileID?
    /// ServiceChangeDelay (Graceful).
    public var delay: Duration?

    public init(
        method: ServiceChangeMethod, reason: UInt16? = nil, terminationID: String = "ROOT", version: Int? = nil,
        messageVersion: Int, profile: H248ProfileID? = nil, delay: Duration? = nil
    ) {
        self.method = method
        self.reason = reason
        self.terminationID = terminationID
        self.version = version
        self.messageVersion = messageVersion
        self.profile = profile
        self.delay = delay
    }

    public var isOnRoot: Bool { terminationID.uppercased() == "ROOT" }
}

/// Parameters of our ServiceChange reply (`serviceChangeReplyDescriptor`).
public struct ServiceChangeReplyInfo: Sendable, Hashable {
    /// ServiceChangeVersion to return: set only when we negotiate down (H.248.1 §11.3).
    public var version: Int?
    /// ServiceChangeProfile to return (the accepted one, or our configured one).
    public var profile: H248ProfileID?

    public init(version: Int? = nil, profile: H248ProfileID? = nil) {
        self.version = version
        self.profile = profile
    }
}

/// Events for the layer above (session cleanup, gateway selection).
public enum AssociationEvent: Sendable, Hashable {
    /// The gateway registered (first time, or after being lost).
    case registered(version: Int, profile: H248ProfileID?, method: ServiceChangeMethod, reason: UInt16?)
    /// The gateway restarted while registered (Restart other than 900, or cold failover): all its
    /// contexts are gone; release every session that used it.
    case gatewayRestarted(version: Int, method: ServiceChangeMethod, reason: UInt16?)
    /// Registered again with its state kept (Disconnected, HandOff, warm Failover): sessions stay.
    case reRegistered(version: Int, method: ServiceChangeMethod, reason: UInt16?)
    /// Graceful out-of-service: no new sessions; existing ones may finish within `delay`.
    case goingOutOfService(delay: Duration?, reason: UInt16?)
    /// Out of service (Forced, or a Graceful delay elapsed): its sessions are lost.
    case outOfService(graceful: Bool, reason: UInt16?)
    /// Back in service after out-of-service (Restart 900 "Service Restored"); sessions kept.
    case restored
    /// ServiceChange on one termination (e.g. Forced 905): sessions on it must be released.
    case terminationServiceChange(terminationID: String, method: ServiceChangeMethod, reason: UInt16?)
    /// Keep-alive audits failed or the transport closed: sessions on this gateway are lost.
    case gatewayLost(reason: String)
    /// The gateway reported our inactivity (H.248.14 `it/ito` Notify on ROOT).
    case inactivityReported
}

/// Requests the association wants sent to the gateway.
public enum AssociationRequest: Sendable, Hashable {
    /// Empty `AuditValue = ROOT { Audit{} }` on the null context, used as keep-alive (specs.md §10.4).
    case keepAliveAudit
    /// `Modify = ROOT { Events = <rid> { it/ito { mit = <value> } } }` (H.248.14); value in 10 ms units [U13].
    case activateInactivityTimer(maximumInactivityTime: UInt32)
}

/// How the profile offered by the gateway is checked (iq-tokens.md §3.1).
public enum ProfilePolicy: String, Sendable, Hashable {
    /// Accept any profile; reply with the matched accepted profile, else with `localProfile`.
    case acceptAny
    /// Only accept profiles listed in `acceptedProfiles`; otherwise error 461.
    case requireAccepted
}

/// Association settings (`h248.association.*`).
public struct AssociationConfiguration: Sendable, Hashable {
    /// H.248.1 versions we speak (specs.md §10.1: offer 3, accept down to 2; U2).
    public var supportedVersions: ClosedRange<Int> = 2...3
    /// Profile we answer with (specs.md U1: the Iq name is unconfirmed, so no default).
    public var localProfile: H248ProfileID?
    /// Profiles accepted from the gateway.
    public var acceptedProfiles: [H248ProfileID] = []
    public var profilePolicy: ProfilePolicy = .acceptAny
    /// Period of the empty AuditValue on ROOT (nil = off). Default 30 s.
    public var keepAliveInterval: Duration? = .seconds(30)
    /// Consecutive failed keep-alive audits (each already retried up to LONG-TIMER) before the
    /// gateway counts as lost.
    public var keepAliveFailuresBeforeLoss: Int = 2
    /// H.248.14 inactivity timer to activate on the gateway after registration (nil = off).
    public var inactivityTimer: Duration?
    /// H.248.8 code for a request from a gateway that has not registered (505).
    public var notRegisteredErrorCode: UInt16 = H248ErrorCodes.requestBeforeServiceChange

    public init() {}

    public func validate() throws(H248ClientError) {
        func fail(_ t: String) -> H248ClientError { H248ClientError(.invalidConfiguration, t) }
        guard supportedVersions.lowerBound >= 1, supportedVersions.upperBound <= 3 else {
            throw fail("h248.association.supportedVersions must lie within 1...3 (H.248.1 v1-v3)")
        }
        if let k = keepAliveInterval, k <= .zero { throw fail("keepAliveInterval must be > 0") }
        guard keepAliveFailuresBeforeLoss >= 1 else { throw fail("keepAliveFailuresBeforeLoss must be >= 1") }
        if let i = inactivityTimer {
            guard Self.mitUnits(i) != nil else { throw fail("inactivityTimer must be 10 ms...2^32 × 10 ms") }
        }
        if profilePolicy == .requireAccepted && acceptedProfiles.isEmpty {
            throw fail("profilePolicy requireAccepted needs at least one acceptedProfiles entry")
        }
    }

    /// H.248.14 `mit` value in 10 ms units, nil when out of range.
    static func mitUnits(_ d: Duration) -> UInt32? {
        let c = d.components
        guard c.seconds >= 0, c.attoseconds >= 0 else { return nil }
        let units = c.seconds.multipliedReportingOverflow(by: 100)
        guard !units.overflow else { return nil }
        let total = units.partialValue + c.attoseconds / 10_000_000_000_000_000
        guard total >= 1, total <= Int64(UInt32.max) else { return nil }
        return UInt32(total)
    }
}

/// MGC-side association with one gateway.
public struct AssociationStateMachine: Sendable {
    public enum Action: Sendable, Hashable {
        /// Reply to the ServiceChange with these parameters, then deliver `events` and send `requests`.
        case replyServiceChange(ServiceChangeReplyInfo, events: [AssociationEvent], requests: [AssociationRequest])
        /// Answer the ServiceChange with an Error descriptor (`error.h248ErrorCode`: 406, 461 or 505).
        case rejectServiceChange(H248ClientError)
        /// Answer a non-ServiceChange request with an Error descriptor (505: not registered).
        case rejectRequest(H248ClientError)
        /// Process the request normally.
        case acceptRequest
        /// Send this request to the gateway.
        case send(AssociationRequest)
        /// Deliver these events to the layer above.
        case events([AssociationEvent])
        case none
    }

    struct Liveness: Sendable, Hashable {
        var nextKeepAliveAt: H248Instant?
        var keepAliveOutstanding = false
        var consecutiveFailures = 0
    }

    struct Registered: Sendable, Hashable {
        var version: Int
        var profile: H248ProfileID?
        var liveness: Liveness
    }

    struct Draining: Sendable, Hashable {
        var registered: Registered
        var until: H248Instant?
    }

    enum State: Sendable, Hashable {
        case unregistered
        case inService(Registered)
        case draining(Draining)
        case outOfService(Registered)
        case lost
    }

    /// Bound on a Graceful ServiceChangeDelay (H.248.1: UINT32 seconds; longer is treated as this).
    public static let maximumGracefulDelay: Duration = .seconds(Int64(UInt32.max))

    public let configuration: AssociationConfiguration
    private var state: State = .unregistered

    public init(configuration: AssociationConfiguration) {
        self.configuration = configuration
    }

    /// Only an in-service gateway takes new sessions (see `GatewaySelector`).
    public var acceptsNewSessions: Bool {
        if case .inService = state { return true }
        return false
    }

    /// True between a successful registration and loss of the gateway.
    public var isRegistered: Bool {
        switch state {
        case .unregistered, .lost: return false
        case .inService, .draining, .outOfService: return true
        }
    }

    /// Negotiated H.248.1 version, once registered.
    public var negotiatedVersion: Int? { registered?.version }

    /// Name of the current state, for logs and tests.
    public var stateName: String {
        switch state {
        case .unregistered: return "unregistered"
        case .inService: return "inService"
        case .draining: return "draining"
        case .outOfService: return "outOfService"
        case .lost: return "lost"
        }
    }

    private var registered: Registered? {
        switch state {
        case .unregistered, .lost: return nil
        case .inService(let r), .outOfService(let r): return r
        case .draining(let d): return d.registered
        }
    }

    /// Earliest instant at which `timerFired` has work.
    public var nextDeadline: H248Instant? {
        switch state {
        case .unregistered, .lost, .outOfService: return nil
        case .inService(let r): return r.liveness.keepAliveOutstanding ? nil : r.liveness.nextKeepAliveAt
        case .draining(let d):
            let keepAlive = d.registered.liveness.keepAliveOutstanding ? nil : d.registered.liveness.nextKeepAliveAt
            return .earliest(d.until, keepAlive)
        }
    }

    // MARK: ServiceChange from the gateway (H.248.1 §7.2.8)

    public mutating func serviceChangeReceived(_ sc: ServiceChangeRequestInfo, now: H248Instant) -> Action {
        guard sc.isOnRoot else { return terminationServiceChange(sc) }
        switch sc.method {
        case .restart, .failover, .handOff, .disconnected:
            return registration(sc, now: now)
        case .forced:
            guard let r = registered else { return .replyServiceChange(ServiceChangeReplyInfo(), events: [], requests: []) }
            state = .outOfService(Registered(version: r.version, profile: r.profile, liveness: Liveness()))
            return .replyServiceChange(
                ServiceChangeReplyInfo(), events: [.outOfService(graceful: false, reason: sc.reason)], requests: [])
        case .graceful:
            guard let r = registered else { return .replyServiceChange(ServiceChangeReplyInfo(), events: [], requests: []) }
            if case .outOfService = state { return .replyServiceChange(ServiceChangeReplyInfo(), events: [], requests: []) }
            // ServiceChangeDelay comes from the network: negative values mean "no delay given".
            let delay = sc.delay.flatMap { $0 >= .zero ? Swift.min($0, Self.maximumGracefulDelay) : nil }
            let until = delay.map { now + $0 }
            state = .draining(Draining(registered: r, until: until))
            return .replyServiceChange(
                ServiceChangeReplyInfo(), events: [.goingOutOfService(delay: delay, reason: sc.reason)], requests: [])
        }
    }

    private mutating func terminationServiceChange(_ sc: ServiceChangeRequestInfo) -> Action {
        guard registered != nil else { return .rejectServiceChange(notRegisteredError("ServiceChange on \(sc.terminationID)")) }
        return .replyServiceChange(
            ServiceChangeReplyInfo(),
            events: [.terminationServiceChange(terminationID: sc.terminationID, method: sc.method, reason: sc.reason)],
            requests: [])
    }

    private mutating func registration(_ sc: ServiceChangeRequestInfo, now: H248Instant) -> Action {
        // Restart 900 "Service Restored" after out-of-service: back in service, state kept.
        if sc.method == .restart, sc.reason == ServiceChangeReason.serviceRestored, let r = registered {
            switch state {
            case .outOfService, .draining:
                state = .inService(Registered(version: r.version, profile: r.profile, liveness: freshLiveness(now)))
                return .replyServiceChange(ServiceChangeReplyInfo(), events: [.restored], requests: [])
            default:
                break
            }
        }
        let version: (agreed: Int, reply: Int?)
        switch negotiateVersion(sc) {
        case .success(let v): version = v
        case .failure(let e): return .rejectServiceChange(e)
        }
        let profile: (agreed: H248ProfileID?, reply: H248ProfileID?)
        switch checkProfile(sc.profile) {
        case .success(let p): profile = p
        case .failure(let e): return .rejectServiceChange(e)
        }
        let wasRegistered = registered != nil
        state = .inService(Registered(version: version.agreed, profile: profile.agreed, liveness: freshLiveness(now)))
        let event: AssociationEvent
        if !wasRegistered {
            event = .registered(version: version.agreed, profile: profile.agreed, method: sc.method, reason: sc.reason)
        } else if (sc.method == .restart && sc.reason != ServiceChangeReason.serviceRestored)
            || (sc.method == .failover && sc.reason == ServiceChangeReason.coldFailover)
        {
            // §7.2.8: a Restart (cold/warm boot, state loss, …) or a cold failover means the gateway
            // lost its contexts. Restart 900 "Service Restored" while in service keeps them.
            event = .gatewayRestarted(version: version.agreed, method: sc.method, reason: sc.reason)
        } else {
            event = .reRegistered(version: version.agreed, method: sc.method, reason: sc.reason)
        }
        var requests: [AssociationRequest] = []
        if let it = configuration.inactivityTimer, let mit = AssociationConfiguration.mitUnits(it) {
            requests.append(.activateInactivityTimer(maximumInactivityTime: mit))
        }
        return .replyServiceChange(
            ServiceChangeReplyInfo(version: version.reply, profile: profile.reply), events: [event], requests: requests)
    }

    /// H.248.1 §11.3: a higher version than ours is answered with our highest (the gateway then
    /// uses it); a version we support is accepted with no version in the reply; a lower one than we
    /// support is refused with 406.
    private func negotiateVersion(_ sc: ServiceChangeRequestInfo) -> Result<(agreed: Int, reply: Int?), H248ClientError> {
        let requested = sc.version ?? sc.messageVersion
        let supported = configuration.supportedVersions
        if requested > supported.upperBound { return .success((supported.upperBound, supported.upperBound)) }
        if requested < supported.lowerBound {
            return .failure(H248ClientError(
                .versionNotSupported, h248ErrorCode: H248ErrorCodes.versionNotSupported,
                "version \(requested) not supported; supported \(supported.lowerBound)-\(supported.upperBound)"))
        }
        return .success((requested, nil))
    }

    private func checkProfile(_ offered: H248ProfileID?) -> Result<(agreed: H248ProfileID?, reply: H248ProfileID?), H248ClientError> {
        if let offered, configuration.acceptedProfiles.contains(where: { $0.matches(offered) }) {
            return .success((offered, offered))
        }
        switch configuration.profilePolicy {
        case .acceptAny:
            return .success((offered, configuration.localProfile))
        case .requireAccepted:
            let list = configuration.acceptedProfiles.map(\.description).joined(separator: ", ")
            return .failure(H248ClientError(
                .unknownProfile, h248ErrorCode: H248ErrorCodes.unsupportedOrUnknownProfile,
                "profile \(offered?.description ?? "(none)") not accepted; accepted: \(list)"))
        }
    }

    // MARK: Other requests from the gateway

    /// A transaction request other than a ServiceChange arrived (Notify, …).
    public func requestReceived() -> Action {
        registered == nil ? .rejectRequest(notRegisteredError("request")) : .acceptRequest
    }

    /// The gateway sent Notify `it/ito` on ROOT (H.248.14).
    public func inactivityNotified() -> Action {
        registered == nil ? .rejectRequest(notRegisteredError("Notify it/ito")) : .events([.inactivityReported])
    }

    private func notRegisteredError(_ what: String) -> H248ClientError {
        H248ClientError(
            .notRegistered, h248ErrorCode: configuration.notRegisteredErrorCode,
            "\(what) received before the gateway registered with ServiceChange")
    }

    // MARK: Timers and keep-alive

    /// Graceful delay expiry and keep-alive audits. Call again while `nextDeadline <= now`.
    public mutating func timerFired(now: H248Instant) -> Action {
        switch state {
        case .unregistered, .lost, .outOfService:
            return .none
        case .draining(var d):
            if let until = d.until, now >= until {
                state = .outOfService(Registered(version: d.registered.version, profile: d.registered.profile, liveness: Liveness()))
                return .events([.outOfService(graceful: true, reason: nil)])
            }
            guard dueKeepAlive(&d.registered.liveness, now: now) else { return .none }
            state = .draining(d)
            return .send(.keepAliveAudit)
        case .inService(var r):
            guard dueKeepAlive(&r.liveness, now: now) else { return .none }
            state = .inService(r)
            return .send(.keepAliveAudit)
        }
    }

    private func dueKeepAlive(_ l: inout Liveness, now: H248Instant) -> Bool {
        guard !l.keepAliveOutstanding, let due = l.nextKeepAliveAt, now >= due else { return false }
        l.keepAliveOutstanding = true
        return true
    }

    /// The keep-alive AuditValue was answered (a reply, even an error reply, proves the gateway is there).
    public mutating func keepAliveSucceeded(now: H248Instant) -> Action {
        let next = configuration.keepAliveInterval.map { now + $0 }
        update { l in
            l.keepAliveOutstanding = false
            l.consecutiveFailures = 0
            l.nextKeepAliveAt = next
        }
        return .none
    }

    /// The keep-alive AuditValue timed out (its transaction reached LONG-TIMER).
    public mutating func keepAliveFailed(now: H248Instant) -> Action {
        guard let r = registered else { return .none }
        var failures = r.liveness.consecutiveFailures + 1
        if failures >= configuration.keepAliveFailuresBeforeLoss {
            failures = 0
            state = .lost
            return .events([.gatewayLost(
                reason: "\(configuration.keepAliveFailuresBeforeLoss) consecutive keep-alive audits unanswered")])
        }
        update { l in
            l.keepAliveOutstanding = false
            l.consecutiveFailures = failures
            l.nextKeepAliveAt = now  // retry at once: the audit already waited LONG-TIMER
        }
        return .none
    }

    /// The transport to the gateway closed or failed (TCP/SCTP).
    public mutating func transportClosed(reason: String) -> Action {
        guard registered != nil else { return .none }
        state = .lost
        return .events([.gatewayLost(reason: reason)])
    }

    private func freshLiveness(_ now: H248Instant) -> Liveness {
        Liveness(nextKeepAliveAt: configuration.keepAliveInterval.map { now + $0 })
    }

    private mutating func update(_ body: (inout Liveness) -> Void) {
        switch state {
        case .inService(var r):
            body(&r.liveness)
            state = .inService(r)
        case .draining(var d):
            body(&d.registered.liveness)
            state = .draining(d)
        case .unregistered, .lost, .outOfService:
            break
        }
    }
}
