// The byte buffer of an SDPLineTable: an array that only grows. New bytes are written into a scratch
// buffer on the stack and appended in one copy.
//
// The elements are `SDPByteUnit` (one UInt8) rather than UInt8: allocating a `[UInt8]` looks up the
// standard library's prespecialised array metadata on every allocation (≈ 550 instructions), while
// the metadata of an array of a type of this module is cached after the first use.

/// One byte, as the element type of `SDPBytes` (same layout as UInt8).
@frozen
public struct SDPByteUnit: Sendable {
    public var value: UInt8
}

/// Bytes with value semantics. Mutation only appends.
public struct SDPBytes: Sendable {
    @usableFromInline var array: [SDPByteUnit]

    @inlinable
    public init() { array = [] }

    /// A copy of `src`, with room for `spare` more bytes.
    @inlinable
    public init(copying src: UnsafeBufferPointer<UInt8>, spare: Int = 0) {
        // reserveCapacity + append: `Array(unsafeUninitializedCapacity:)` and `Array(repeating:count:)`
        // go through an unspecialised allocation entry point that looks the metadata up each time.
        array = []
        array.reserveCapacity(src.count + spare)
        src.withMemoryRebound(to: SDPByteUnit.self) { array.append(contentsOf: $0) }
    }

    @inlinable
    public var count: Int { array.count }

    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try array.withUnsafeBufferPointer { units in
            try units.withMemoryRebound(to: UInt8.self, body)
        }
    }

    /// Appends `n` bytes written by `fill(old, new)`: `old` is the start of the current bytes (to read
    /// from; nil when empty), `new` is where the `n` new bytes go. Returns where they start.
    @inlinable
    public mutating func append(count n: Int, _ fill: (UnsafePointer<UInt8>?, UnsafeMutablePointer<UInt8>) -> Void) -> Int {
        let start = array.count
        guard n > 0 else { return start }
        withUnsafeTemporaryAllocation(of: SDPByteUnit.self, capacity: n) { tmp in
            guard tmp.baseAddress != nil else { return }
            tmp.withMemoryRebound(to: UInt8.self) { t in
                guard let tp = t.baseAddress else { return }
                withUnsafeBufferPointer { old in fill(old.baseAddress, tp) }
            }
            array.append(contentsOf: UnsafeBufferPointer(tmp))
        }
        return start
    }

    /// Overwrites the `n` bytes at `start` with bytes written by `fill` (at its pointer); nothing when
    /// the range is not inside the buffer.
    @inlinable
    public mutating func overwrite(at start: Int, count n: Int, _ fill: (UnsafeMutablePointer<UInt8>) -> Void) {
        guard n > 0, start >= 0, start <= array.count &- n else { return }
        array.withUnsafeMutableBufferPointer { units in
            units.withMemoryRebound(to: UInt8.self) { b in
                guard let p = b.baseAddress else { return }
                fill(p + start)
            }
        }
    }

    /// Appends a copy of `src`; returns where it starts.
    @inlinable
    public mutating func append(contentsOf src: UnsafeBufferPointer<UInt8>) -> Int {
        let start = array.count
        src.withMemoryRebound(to: SDPByteUnit.self) { array.append(contentsOf: $0) }
        return start
    }
}
