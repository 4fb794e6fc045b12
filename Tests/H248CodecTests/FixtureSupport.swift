import ALGTestSupport
import Foundation
@testable import H248Codec

/// Locates the repository root (the folder holding Package.swift) from this file's path.
enum Repo {
    static let root = TestRepository.root

    /// Fixture directory: H248_FIXTURES overrides Fixtures/h248 (for regenerating into a scratch dir).
    static var fixtureDir: URL {
        if let p = ProcessInfo.processInfo.environment["H248_FIXTURES"] { return URL(fileURLWithPath: p) }
        return root.appendingPathComponent("Fixtures/h248")
    }

    /// Fixture file names (`<case>.v<N>.pretty|compact`), sorted.
    static var fixtureFiles: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: fixtureDir.path)) ?? []
        return names.filter { $0.hasSuffix(".pretty") || $0.hasSuffix(".compact") }.sorted()
    }

    /// Case stems `<case>.v<N>` that have both forms.
    static var fixturePairs: [String] {
        let files = Set(fixtureFiles)
        return files.filter { $0.hasSuffix(".pretty") }
            .map { String($0.dropLast(".pretty".count)) }
            .filter { files.contains($0 + ".compact") }
            .sorted()
    }

    static func read(_ name: String) throws -> String {
        try String(contentsOf: fixtureDir.appendingPathComponent(name), encoding: .utf8)
    }

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Full path of an executable on PATH.
    static func which(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let p = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Runs a tool, returning exit status and stdout+stderr.
    static func run(_ exe: String, _ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.runWithSignalsUnblocked()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
