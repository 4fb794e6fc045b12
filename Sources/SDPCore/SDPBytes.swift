// The byte buffer of an SDPLineTable: a `[UInt8]` that only grows. New bytes are written into a
// scratch buffer on the stack and appended in one copy.

/// Bytes with value semantics. Mutation only appends.
public struct SDPBytes: Sendable {
    @usableFromInline var array: [UInt8]

    @inlinable
    public init() { array = [] }

    /// A copy of `src`, with room for `spare` more bytes.
    @inlinable
    public init(copying src: UnsafeBufferPointer<UInt8>, spare: Int = 0) {
        array = [UInt8](unsafeUninitializedCapacity: src.count + spare) { out, n in
            if let s = src.baseAddress, let d = out.baseAddress, src.count > 0 { d.initialize(from: s, count: src.count) }
            n = src.count
        }
    }

    @inlinable
    public var count: Int { array.count }

    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try array.withUnsafeBufferPointer(body)
    }

    /// Appends `n` bytes written by `fill(old, new)`: `old` is the start of the current bytes (to read
    /// from; nil when empty), `new` is where the `n` new bytes go. Returns where they start.
    @inlinable
    public mutating func append(count n: Int, _ fill: (UnsafePointer<UInt8>?, UnsafeMutablePointer<UInt8>) -> Void) -> Int {
        let start = array.count
        guard n > 0 else { return start }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) { tmp in
            guard let t = tmp.baseAddress else { return }
            array.withUnsafeBufferPointer { old in fill(old.baseAddress, t) }
            array.append(contentsOf: UnsafeBufferPointer(start: t, count: n))
        }
        return start
    }

    /// Appends a copy of `src`; returns where it starts.
    @inlinable
    public mutating func append(contentsOf src: UnsafeBufferPointer<UInt8>) -> Int {
        let start = array.count
        array.append(contentsOf: src)
        return start
    }
}
