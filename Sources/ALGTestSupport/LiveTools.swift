// Live peers of the tests (SIPp, socat, the built pcscf-alg binary): where they are, how to run them
// with a bound on time, and the CI rule (a missing tool fails under CI=true, otherwise the test skips
// with a reason).
import Foundation

public enum LiveTool {
    /// Absolute path of an installed tool, or nil.
    public static func path(_ name: String) -> String? {
        for d in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(d)/\(name)") {
            return "\(d)/\(name)"
        }
        return nil
    }

    /// True under CI=true (then a missing live tool is a failure, not a skip).
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
}

extension Process {
    /// `run()` with an empty signal mask for the child. Swift Testing runs tests on the cooperative pool,
    /// whose threads block almost every signal, and a spawned child inherits its parent thread's mask
    /// (POSIX `posix_spawn`, `fork`): such a child never sees `terminate()`'s SIGTERM nor `interrupt()`'s
    /// SIGINT and lingers until its own timeout. The mask is cleared on the calling thread only for the
    /// spawn (Foundation spawns from the calling thread), then restored.
    public func runWithSignalsUnblocked() throws {
        var empty = sigset_t()
        var saved = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        try run()
    }
}

/// A child process with captured output, killed when it outlives its deadline.
public final class LiveProcess: @unchecked Sendable {
    public let process = Process()
    private let out = Pipe()
    private let err = Pipe()
    private let lock = NSLock()
    private var outData = Data()
    private var errData = Data()

    public init(_ executable: String, _ arguments: [String], directory: URL? = nil) {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        out.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self else { return }
            self.lock.lock(); self.outData.append(d); self.lock.unlock()
        }
        err.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self else { return }
            self.lock.lock(); self.errData.append(d); self.lock.unlock()
        }
    }

    public func start() throws { try process.runWithSignalsUnblocked() }

    public var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: outData, as: UTF8.self) }
    public var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: errData, as: UTF8.self) }

    /// Waits for exit (polling, so the cooperative pool is not blocked); terminates it after `timeout`.
    /// Returns the exit status, or nil when it had to be killed.
    public func wait(timeout: Double) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if deadline.timeIntervalSinceNow <= 0 {
                process.terminate()
                try? await Task.sleep(nanoseconds: 200_000_000)
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                return nil
            }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return process.terminationStatus
    }

    /// Stops a long-running peer (SIGTERM).
    public func stop() {
        if process.isRunning { process.terminate() }
    }

    deinit {
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        if process.isRunning { process.terminate() }
    }
}
