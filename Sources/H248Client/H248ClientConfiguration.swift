// Configuration of the H248Client state machines: one Sendable struct per concern, spec defaults,
// and validate() run at startup (house-style §7.5). Keys live under `h248.*` once PCSCFServer reads them.

/// Transport class of an association. Decides whether the application does retransmission
/// (H.248.1 Annex D.1 ALF over UDP) or relies on the transport (Annex D.2 TCP, H.248.4 SCTP).
public enum H248TransportKind: String, Sendable, Hashable, CaseIterable {
    /// UDP with application-level framing: retransmission, duplicate detection, acks.
    case udp
    /// TCP with RFC 1006 TPKT framing (H.248.1 Annex D.2). Reliable.
    case tcp
    /// SCTP, PPID 7 (H.248.4). Reliable.
    case sctp

    /// True for TCP and SCTP: the transport retransmits, so the application does not.
    public var isReliable: Bool { self != .udp }
}

/// Transaction timers and limits (H.248.1 Annex D.1 and Annex E.2 root package properties).
///
/// The root-package names are kept (`normalMGExecutionTime`, `mgProvisionalResponseTimerValue`,
/// `mgOriginatedPendingLimit`, …). H.248.1 leaves their defaults "provisioned"; the values below
/// are this project's defaults ([D] in specs.md §11.6) and are all configurable (`h248.timers.*`).
public struct H248TransactionTimers: Sendable, Hashable {
    /// LONG-TIMER: upper bound on a transaction's lifetime, including retransmissions and network
    /// delay; also how long reply copies and seen transaction ids are kept (H.248.1 Annex D.1.3,
    /// suggested 30 s). Key `h248.timers.longTimer`.
    public var longTimer: Duration = .seconds(30)
    /// root/normalMGExecutionTime: expected execution time at the MG, excluding network delay
    /// (Annex E.2). Used in the first retransmission timeout before any RTT sample.
    public var normalMGExecutionTime: Duration = .milliseconds(200)
    /// root/normalMGCExecutionTime: our own expected execution time (what the MG expects of us).
    public var normalMGCExecutionTime: Duration = .milliseconds(200)
    /// root/MGProvisionalResponseTimerValue: how long the MG may take to send a Pending. After a
    /// Pending we wait this long plus the current retransmission timeout before repeating the request.
    public var mgProvisionalResponseTimerValue: Duration = .seconds(2)
    /// root/MGCProvisionalResponseTimerValue: if we have not answered an incoming request within
    /// this time we send Pending (Annex D.1.4).
    public var mgcProvisionalResponseTimerValue: Duration = .seconds(1)
    /// root/MGOriginatedPendingLimit: maximum Pendings we accept for one of our requests; one more
    /// fails the transaction with error 506 (Annex E.2).
    public var mgOriginatedPendingLimit: Int = 10
    /// root/MGCOriginatedPendingLimit: maximum Pendings we send for one incoming request; past it we
    /// answer error 506 (Annex E.2).
    public var mgcOriginatedPendingLimit: Int = 10
    /// Round-trip guess used before the first RTT sample.
    public var initialRoundTripTime: Duration = .milliseconds(100)
    /// Lower bound of the retransmission timeout (specs.md §11.6 [D]: 500 ms).
    public var minimumRetransmissionTimeout: Duration = .milliseconds(500)
    /// Upper bound of the retransmission timeout after back-off (specs.md §11.6 [D]: about 4 s).
    public var maximumRetransmissionTimeout: Duration = .seconds(4)

    public init() {}

    /// Checks the timers make sense together; run at startup.
    public func validate() throws(H248ClientError) {
        func fail(_ text: String) -> H248ClientError { H248ClientError(.invalidConfiguration, text) }
        guard longTimer > .zero else { throw fail("h248.timers.longTimer must be > 0") }
        guard minimumRetransmissionTimeout > .zero else { throw fail("minimumRetransmissionTimeout must be > 0") }
        guard maximumRetransmissionTimeout >= minimumRetransmissionTimeout else {
            throw fail("maximumRetransmissionTimeout must be >= minimumRetransmissionTimeout")
        }
        guard maximumRetransmissionTimeout <= longTimer else { throw fail("maximumRetransmissionTimeout must be <= longTimer") }
        guard normalMGExecutionTime >= .zero, normalMGCExecutionTime >= .zero, initialRoundTripTime >= .zero else {
            throw fail("execution times and initialRoundTripTime must be >= 0")
        }
        guard mgProvisionalResponseTimerValue > .zero, mgcProvisionalResponseTimerValue > .zero else {
            throw fail("provisional response timer values must be > 0")
        }
        guard mgOriginatedPendingLimit >= 0, mgcOriginatedPendingLimit >= 0 else { throw fail("pending limits must be >= 0") }
    }
}
