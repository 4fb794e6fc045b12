// Shared helpers for H248ClientTests: injected instants (no clock is ever read).
@testable import H248Client

/// An instant `v` milliseconds after the driver origin.
func ms(_ v: Int64) -> H248Instant { .milliseconds(v) }
