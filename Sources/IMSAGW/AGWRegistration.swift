// Registration of the MG with its MGC (H.248.1 §7.2.8, §11.2-§11.3; TS 23.334 "IMS-AGW Register",
// specs.md §10.4): ServiceChange on ROOT, Method Restart, Reason 901 (cold boot) on the first
// registration of the process, 902 (warm boot) on every later one; Version and Profile
// configurable. Retried until answered: each attempt is one transaction (its retransmissions over
// UDP are the transaction layer's), a failed attempt is followed by a new one after a back-off.
// Pure: time is a `Duration` offset given by the caller.

import H248Codec

public struct AGWRegistration: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Version offered (H.248.1 §11.3; the MGC may answer a lower one).
        public var version = 3
        /// `Profile = name/version` (TS 29.334 §5.1: UNKNOWN, same default as pcscf-alg).
        public var profile: ServiceChangeProfile? = IqPackageTokens().profile
        /// First pause after a failed attempt; doubles up to `maximumRetryDelay`.
        public var initialRetryDelay: Duration = .seconds(1)
        public var maximumRetryDelay: Duration = .seconds(30)
        /// Delay announced in the Graceful ServiceChange (H.248.1 §7.2.8.1.4), seconds.
        public var gracefulDelaySeconds: UInt32 = 0
        public init() {}
    }

    public enum State: Sendable, Equatable {
        case idle
        /// An attempt is in flight.
        case registering(attempt: Int)
        /// Waiting to try again.
        case backingOff(attempt: Int, until: Duration)
        case registered(version: Int)
        case shuttingDown
    }

    public enum Action: Sendable, Equatable {
        /// Send this ServiceChange on ROOT as a new transaction; report its outcome back.
        case sendServiceChange(ServiceChangeParameters)
        /// Registered; commands may be accepted. `version` is the negotiated one.
        case registered(version: Int, profile: ServiceChangeProfile?)
        /// The MGC refused (its error) or did not answer; a new attempt follows at `retryAt`.
        case willRetry(at: Duration, reason: String)
    }

    public let configuration: Configuration
    public private(set) var state: State = .idle
    /// True once a registration succeeded in this process: later ones are warm (902).
    public private(set) var hasRegistered = false
    private var retryDelay: Duration

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        self.retryDelay = configuration.initialRetryDelay
    }

    public var isRegistered: Bool { if case .registered = state { return true }; return false }
    public var negotiatedVersion: Int? { if case .registered(let v) = state { return v }; return nil }

    public var nextDeadline: Duration? {
        if case .backingOff(_, let until) = state { return until }
        return nil
    }

    /// Start (or restart) registration: 901 the first time, 902 afterwards (or when `warm`).
    public mutating func start(now: Duration, warm: Bool = false) -> [Action] {
        state = .registering(attempt: 1)
        retryDelay = configuration.initialRetryDelay
        return [.sendServiceChange(restart(warm: warm || hasRegistered))]
    }

    func restart(warm: Bool) -> ServiceChangeParameters {
        ServiceChangeParameters(method: .restart, reason: .quoted(warm ? "902 Warm Boot" : "901 Cold Boot"),
                                profile: configuration.profile, version: configuration.version)
    }

    /// The MGC answered the ServiceChange: `error` set when it refused (H.248.8 code).
    public mutating func replied(_ params: ServiceChangeParameters?, error: ErrorDescriptor?, now: Duration) -> [Action] {
        guard case .registering(let attempt) = state else { return [] }
        if let error {
            return backOff(attempt: attempt, now: now, reason: "MGC refused: \(error.code) \(error.text ?? "")")
        }
        let v = min(params?.version ?? configuration.version, configuration.version)
        guard v >= 1 else { return backOff(attempt: attempt, now: now, reason: "MGC answered version \(v)") }
        state = .registered(version: v)
        hasRegistered = true
        retryDelay = configuration.initialRetryDelay
        return [.registered(version: v, profile: params?.profile ?? configuration.profile)]
    }

    /// The attempt got no answer (LONG-TIMER expired, transport failure).
    public mutating func attemptFailed(now: Duration, reason: String) -> [Action] {
        guard case .registering(let attempt) = state else { return [] }
        return backOff(attempt: attempt, now: now, reason: reason)
    }

    private mutating func backOff(attempt: Int, now: Duration, reason: String) -> [Action] {
        let at = now + retryDelay
        state = .backingOff(attempt: attempt, until: at)
        retryDelay = min(retryDelay * 2, configuration.maximumRetryDelay)
        return [.willRetry(at: at, reason: reason)]
    }

    public mutating func timerFired(now: Duration) -> [Action] {
        guard case .backingOff(let attempt, let until) = state, now >= until else { return [] }
        state = .registering(attempt: attempt + 1)
        return [.sendServiceChange(restart(warm: hasRegistered))]
    }

    /// The association to the MGC was lost (transport closed, MGC gone): register again, warm.
    public mutating func associationLost(now: Duration) -> [Action] {
        guard state != .shuttingDown else { return [] }
        return start(now: now, warm: true)
    }

    /// Shutdown (SIGTERM): the Graceful ServiceChange (H.248.1 §7.2.8.1.4; TS 23.334 "IMS-AGW
    /// Out-of-Service", reason 905 Termination taken out of service).
    public mutating func shutdown() -> [Action] {
        let wasRegistered = isRegistered
        state = .shuttingDown
        guard wasRegistered else { return [] }
        return [.sendServiceChange(ServiceChangeParameters(method: .graceful, reason: .quoted("905 Termination taken out of service"),
                                                           delay: configuration.gracefulDelaySeconds))]
    }
}
