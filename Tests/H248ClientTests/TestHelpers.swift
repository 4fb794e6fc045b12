// Shared helpers for H248ClientTests: injected instants (no clock is ever read).
@testable import H248Client

/// An instant `v` milliseconds after the driver origin.
func ms(_ v: Int64) -> H248Instant { .milliseconds(v) }

/// The timer set the outgoing-transaction tests share: LONG-TIMER 30 s, RTO 0.5...4 s, provisional
/// timer 2 s, Pending limit 3.
var sharedTimers: H248TransactionTimers {
    var t = H248TransactionTimers()
    t.longTimer = .seconds(30)
    t.minimumRetransmissionTimeout = .milliseconds(500)
    t.maximumRetransmissionTimeout = .seconds(4)
    t.mgProvisionalResponseTimerValue = .seconds(2)
    t.mgOriginatedPendingLimit = 3
    return t
}
