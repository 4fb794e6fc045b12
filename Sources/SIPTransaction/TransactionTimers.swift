// RFC 3261 §17 and Table 4 (Appendix A), as updated by RFC 6026 §7.2 / Table 4 additions (timers L, M):
// the timer durations derived from T1, T2 and T4.

/// The names of the transaction timers (RFC 3261 Appendix A Table 4, RFC 6026 §7.2).
public enum TransactionTimer: String, Hashable, Sendable, CaseIterable {
    /// INVITE request retransmit interval, unreliable transports only (§17.1.1.2).
    case timerA
    /// INVITE transaction timeout (§17.1.1.2).
    case timerB
    /// Proxy INVITE transaction timeout (§16.6 step 11, §16.8).
    case timerC
    /// Wait time for response retransmits in INVITE client Completed (§17.1.1.2).
    case timerD
    /// Non-INVITE request retransmit interval, unreliable transports only (§17.1.2.2).
    case timerE
    /// Non-INVITE transaction timeout (§17.1.2.2).
    case timerF
    /// INVITE response retransmit interval (§17.2.1).
    case timerG
    /// Wait time for ACK receipt (§17.2.1).
    case timerH
    /// Wait time for ACK retransmits (§17.2.1).
    case timerI
    /// Wait time for non-INVITE request retransmits (§17.2.2).
    case timerJ
    /// Wait time for response retransmits in non-INVITE client Completed (§17.1.2.2).
    case timerK
    /// Wait time for accepted INVITE request retransmits (RFC 6026 §7.1).
    case timerL
    /// Wait time for retransmission of 2xx to INVITE or additional 2xx from other branches of a
    /// forked INVITE (RFC 6026 §7.2).
    case timerM

    /// The letter used by the RFC ("A" ... "M").
    public var letter: String { String(rawValue.dropFirst(5)) }
}

/// Configuration of the transaction timers: T1, T2, T4 and the values the RFC leaves open
/// (timer D's lower bound, timer C).
public struct TransactionTimers: Sendable, Equatable {
    /// RTT estimate (RFC 3261 Table 4: default 500 ms).
    public var t1: Duration { didSet { sixtyFourT1 = Self.sixtyFour(t1) } }
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses (default 4 s).
    public var t2: Duration
    /// Maximum duration a message will remain in the network (default 5 s).
    public var t4: Duration
    /// Timer D for unreliable transports. RFC 3261 §17.1.1.2: "at least 32 seconds".
    public var timerDUnreliable: Duration
    /// Timer C (proxy INVITE transaction timeout). RFC 3261 §16.6 step 11: "MUST be larger than
    /// 3 minutes".
    public var timerC: Duration

    /// RFC 3261 Table 4 default of T1.
    public static let defaultT1: Duration = .milliseconds(500)
    /// RFC 3261 Table 4 default of T2.
    public static let defaultT2: Duration = .seconds(4)
    /// RFC 3261 Table 4 default of T4.
    public static let defaultT4: Duration = .seconds(5)
    /// RFC 3261 §17.1.1.2: timer D is at least 32 s for unreliable transports.
    public static let minimumTimerDUnreliable: Duration = .seconds(32)
    /// RFC 3261 §16.6 step 11: timer C is larger than 3 minutes.
    public static let timerCFloor: Duration = .seconds(180)
    /// Default timer C: just above the 3-minute floor of RFC 3261 §16.6 step 11.
    public static let defaultTimerC: Duration = .seconds(181)

    public init(
        t1: Duration = TransactionTimers.defaultT1,
        t2: Duration = TransactionTimers.defaultT2,
        t4: Duration = TransactionTimers.defaultT4,
        timerDUnreliable: Duration = TransactionTimers.minimumTimerDUnreliable,
        timerC: Duration = TransactionTimers.defaultTimerC
    ) {
        self.t1 = t1
        self.sixtyFourT1 = Self.sixtyFour(t1)
        self.t2 = t2
        self.t4 = t4
        self.timerDUnreliable = timerDUnreliable
        self.timerC = timerC
    }

    /// Checks the values against the RFC's constraints; run once at start-up.
    public func validate() throws(TransactionError) {
        guard t1 > .zero else {
            throw TransactionError(.invalidConfiguration, "T1 must be positive")
        }
        guard t2 >= t1 else {
            throw TransactionError(.invalidConfiguration, "T2 must not be smaller than T1 (RFC 3261 §17.1.2.2)")
        }
        guard t4 > .zero else {
            throw TransactionError(.invalidConfiguration, "T4 must be positive")
        }
        guard timerDUnreliable >= TransactionTimers.minimumTimerDUnreliable else {
            throw TransactionError(.invalidConfiguration, "timer D must be at least 32 s (RFC 3261 §17.1.1.2)")
        }
        guard timerC > TransactionTimers.timerCFloor else {
            throw TransactionError(.invalidConfiguration, "timer C must exceed 3 minutes (RFC 3261 §16.6)")
        }
        // 64*T1 and the doubling of timer A must stay representable; Duration is 128-bit, so a
        // T1 below a year is safe by a wide margin.
        guard t1 < .seconds(86_400 * 365) else {
            throw TransactionError(.invalidConfiguration, "T1 is unreasonably large")
        }
    }

    // MARK: Derived durations (RFC 3261 Table 4, RFC 6026 Table 4 additions)

    /// 64*T1: timers B, F, H, L, M, and J on unreliable transports. Kept up to date with `t1`
    /// rather than computed per read: `Duration * Int` is a generic run-time call, and every
    /// transaction start read it.
    public private(set) var sixtyFourT1: Duration

    /// 64 * `t1` by six doublings (the same value and the same overflow trap as `t1 * 64`).
    private static func sixtyFour(_ t1: Duration) -> Duration {
        var value = t1
        for _ in 0..<6 { value = value + value }
        return value
    }

    /// Initial timer A: T1 (§17.1.1.2). Later values double without a cap.
    public var timerAInitial: Duration { t1 }
    /// Timer B = 64*T1 (§17.1.1.2).
    public var timerB: Duration { sixtyFourT1 }
    /// Timer D: ≥ 32 s unreliable, 0 reliable (§17.1.1.2).
    public func timerD(reliable: Bool) -> Duration { reliable ? .zero : timerDUnreliable }
    /// Initial timer E: T1 (§17.1.2.2). Later values are MIN(2*previous, T2).
    public var timerEInitial: Duration { t1 }
    /// Timer F = 64*T1 (§17.1.2.2).
    public var timerF: Duration { sixtyFourT1 }
    /// Initial timer G: T1 (§17.2.1). Later values are MIN(2*previous, T2).
    public var timerGInitial: Duration { t1 }
    /// Timer H = 64*T1 (§17.2.1).
    public var timerH: Duration { sixtyFourT1 }
    /// Timer I: T4 unreliable, 0 reliable (§17.2.1).
    public func timerI(reliable: Bool) -> Duration { reliable ? .zero : t4 }
    /// Timer J: 64*T1 unreliable, 0 reliable (§17.2.2).
    public func timerJ(reliable: Bool) -> Duration { reliable ? .zero : sixtyFourT1 }
    /// Timer K: T4 unreliable, 0 reliable (§17.1.2.2).
    public func timerK(reliable: Bool) -> Duration { reliable ? .zero : t4 }
    /// Timer L = 64*T1 (RFC 6026 §7.1).
    public var timerL: Duration { sixtyFourT1 }
    /// Timer M = 64*T1 (RFC 6026 §7.2).
    public var timerM: Duration { sixtyFourT1 }

    /// The next value of a capped back-off timer (E, G): MIN(2*previous, T2).
    public func cappedDoubling(_ previous: Duration) -> Duration { min(previous + previous, t2) }
}
