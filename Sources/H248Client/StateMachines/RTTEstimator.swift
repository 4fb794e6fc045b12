// Round-trip estimator for H.248 over UDP (H.248.1 Annex D.1.2: "the sender should estimate the
// round trip time … at least exponential back-off"; the Jacobson/Karn method of RFC 6298 is used).
// One estimator per peer; the driver feeds it the samples the outgoing machines return.

/// SRTT/RTTVAR estimator (RFC 6298 §2) producing the initial retransmission timeout of new
/// outgoing transactions. Samples come only from transactions that were not retransmitted
/// (Karn's rule, RFC 6298 §3); a transaction that had to be retransmitted backs the timeout off
/// until a valid sample arrives (RFC 6298 §5.5, §5.7).
public struct RTTEstimator: Sendable, Hashable {
    public private(set) var smoothedRTT: Duration?
    public private(set) var rttVariation: Duration?
    /// Number of consecutive back-offs since the last valid sample (0...maximumBackoffExponent).
    public private(set) var backoffExponent: Int = 0
    private let timers: H248TransactionTimers

    /// RFC 6298 §2: clock granularity G; our clock is exact, 1 ms keeps RTO > SRTT.
    static let clockGranularity: Duration = .milliseconds(1)
    /// Bound on doublings (2^16 × anything ≥ 1 ms already exceeds any sane maximum RTO).
    static let maximumBackoffExponent = 16

    public init(timers: H248TransactionTimers) {
        self.timers = timers
    }

    /// Timeout before the first retransmission of a new transaction, clamped to
    /// [minimumRetransmissionTimeout, maximumRetransmissionTimeout].
    /// - No sample yet: max(normalMGExecutionTime + 2 × initialRoundTripTime, minimum) (specs.md §11.6 [D]).
    /// - With samples: SRTT + max(G, 4 × RTTVAR) (RFC 6298 §2.3); samples include the MG's
    ///   execution time because they are request → first response.
    /// Then doubled once per outstanding back-off.
    public var retransmissionTimeout: Duration {
        var rto: Duration
        if let srtt = smoothedRTT, let rttvar = rttVariation {
            rto = srtt + Swift.max(Self.clockGranularity, rttvar * 4)
        } else {
            rto = timers.normalMGExecutionTime + timers.initialRoundTripTime * 2
        }
        rto = clamp(rto)
        var exponent = backoffExponent
        while exponent > 0 && rto < timers.maximumRetransmissionTimeout {
            rto = rto * 2
            exponent -= 1
        }
        return clamp(rto)
    }

    /// Records a round-trip sample (request sent once → first Pending or Reply). Clears back-off.
    public mutating func recordSample(_ sample: Duration) {
        let r = Swift.max(sample, .zero)
        if let srtt = smoothedRTT, let rttvar = rttVariation {
            // RFC 6298 §2.3: RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|; SRTT = 7/8 SRTT + 1/8 R.
            let delta = srtt > r ? srtt - r : r - srtt
            rttVariation = rttvar - rttvar / 4 + delta / 4
            smoothedRTT = srtt - srtt / 8 + r / 8
        } else {
            // RFC 6298 §2.2: first measurement.
            smoothedRTT = r
            rttVariation = r / 2
        }
        backoffExponent = 0
    }

    /// Records that a transaction had to be retransmitted or timed out: back off the next
    /// transactions' timeout until a valid sample arrives (Karn's algorithm).
    public mutating func recordRetransmission() {
        if backoffExponent < Self.maximumBackoffExponent { backoffExponent += 1 }
    }

    private func clamp(_ d: Duration) -> Duration {
        Swift.min(Swift.max(d, timers.minimumRetransmissionTimeout), timers.maximumRetransmissionTimeout)
    }
}
