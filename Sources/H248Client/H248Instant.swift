// H248Instant: an injected monotonic instant. The state machines never read a clock (house-style §6.6);
// the driver converts its clock (e.g. ContinuousClock or NIODeadline) into offsets from its own origin.

/// A point on a monotonic time line, measured as an offset from an origin chosen by the driver.
public struct H248Instant: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Offset from the driver's origin.
    public var offset: Duration

    public init(offset: Duration) { self.offset = offset }

    /// The driver's origin.
    public static let zero = H248Instant(offset: .zero)

    public static func milliseconds(_ ms: Int64) -> H248Instant { H248Instant(offset: .milliseconds(ms)) }
    public static func seconds(_ s: Int64) -> H248Instant { H248Instant(offset: .seconds(s)) }

    public static func < (lhs: H248Instant, rhs: H248Instant) -> Bool { lhs.offset < rhs.offset }
    public static func + (lhs: H248Instant, rhs: Duration) -> H248Instant { H248Instant(offset: lhs.offset + rhs) }
    public static func - (lhs: H248Instant, rhs: H248Instant) -> Duration { lhs.offset - rhs.offset }

    public var description: String { "t+\(offset)" }
}

extension Optional where Wrapped == H248Instant {
    /// The earlier of two optional deadlines (nil = no deadline).
    static func earliest(_ a: H248Instant?, _ b: H248Instant?) -> H248Instant? {
        switch (a, b) {
        case let (x?, y?): return Swift.min(x, y)
        case let (x?, nil): return x
        case let (nil, y?): return y
        case (nil, nil): return nil
        }
    }
}
