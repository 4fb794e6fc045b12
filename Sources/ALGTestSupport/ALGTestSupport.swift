// Helpers shared by the test targets (house style §7.1 `ALGTestSupport`): where the repository is,
// and a seeded pseudo-random generator for deterministic mutation and loss tests. Not a product;
// only test targets depend on it.
import Foundation

/// The repository (the folder holding Package.swift), found from this file's path so that tests
/// read `Fixtures/` and `Tests/Peers/` from any working directory.
public enum TestRepository {
    public static let root: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
            url.deleteLastPathComponent()
        }
        return url
    }()

    /// `relativePath` under the repository root.
    public static func url(_ relativePath: String) -> URL { root.appendingPathComponent(relativePath) }
}

/// SplitMix64: a small seeded generator. Deterministic for a given seed; tests only (the code under
/// test never uses randomness).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(state: UInt64) { self.state = state }
    public init(seed: UInt64) { self.state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, n) (0 when n <= 0).
    public mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
    /// Uniform in [0, n) (0 when n <= 0).
    public mutating func below(_ n: Int64) -> Int64 { n <= 0 ? 0 : Int64(next() % UInt64(n)) }
    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }
}
