// The clock of the running proxy (house style: the pure layers never read a clock; the driver reads an
// injected one). Production uses `ContinuousProxyClock`; timer tests use `ManualProxyClock` and call
// `ProxyServer.fireTimers()` after moving it.
import Foundation
public import SIPTransaction

/// A monotonic clock the driver reads and sleeps on.
public protocol ProxyClock: TransactionClock {
    /// Suspends until `now() >= deadline` (or the task is cancelled).
    func sleep(until deadline: TransactionInstant) async throws
}

/// `ContinuousClock` with its origin at creation.
public struct ContinuousProxyClock: ProxyClock {
    private let origin: ContinuousClock.Instant

    public init() { origin = ContinuousClock.now }

    public func now() -> TransactionInstant { TransactionInstant(sinceOrigin: ContinuousClock.now - origin) }

    public func sleep(until deadline: TransactionInstant) async throws {
        try await Task.sleep(until: origin + deadline.sinceOrigin, clock: .continuous)
    }
}

/// A clock that only moves when told to (tests).
public final class ManualProxyClock: ProxyClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: TransactionInstant

    public init(start: TransactionInstant = .zero) { current = start }

    public func now() -> TransactionInstant { lock.lock(); defer { lock.unlock() }; return current }

    /// Moves the clock forward by `duration`.
    public func advance(by duration: Duration) { lock.lock(); current = current + duration; lock.unlock() }

    /// Polls every 10 ms of real time until the manual time reaches `deadline`.
    public func sleep(until deadline: TransactionInstant) async throws {
        while now() < deadline { try await Task.sleep(for: .milliseconds(10)) }
    }
}
