// `pcscf-bench iq [--transport udp|tcp] [--cycles N] [--window W] [--compact]`: Iq procedures
// (TS 23.334 §8) against the OTP megaco MG peer on loopback, compared in the same run with the
// Python MGC of Tests/Peers/mgc_check.py `--load` against a fresh MG instance.
//
// Run from the repository root: the peers are found at `Tests/Peers/` relative to the current
// directory. Needs `escript` (erlang-base + erlang-megaco) and `python3` on PATH.
//
// One cycle = the e2ae MSRP stream of `IqE2AESession`: Add core ($ in $), Add access (in that
// context), Modify access (Remote, SendReceive, establish-TLS), Subtract * = 4 transactions, each
// awaited in turn. W cycles run concurrently, so at most W transactions are open, like the Python
// MGC's `--window W` (Add + Subtract pairs, at most W open). The Python run is given as many
// transactions (2·N pairs = 4·N transactions). Bounded: our cycles stop being started after
// `swiftBudget`, and the Python MGC is killed when the whole run reaches `totalBudget`.
import Dispatch
import Foundation
import H248Client
import H248Codec

private enum IqBenchLimits {
    static let totalBudget: Duration = .seconds(30)
    static let swiftBudget: Duration = .seconds(10)
    static let registrationTimeout: Duration = .seconds(10)
    static let maximumWindow = 256  // below OutgoingTransactionTable.maximumInFlight (510)
    static let peerDirectory = "Tests/Peers"
}

/// A spawned peer whose stdout+stderr go to a temp file.
private final class BenchPeer: @unchecked Sendable {
    let process = Process()
    let logURL: URL

    init(_ executable: String, _ arguments: [String]) throws {
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("iq-bench-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: logURL)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = out
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Waits until the process exits or `deadline` passes.
    func wait(until deadline: ContinuousClock.Instant) {
        while process.isRunning && ContinuousClock.now < deadline { usleep(50_000) }
    }

    /// SIGTERM, 2 s grace, then SIGKILL; returns the log and removes the file.
    func stop() -> String {
        if process.isRunning { process.terminate() }
        wait(until: .now + .seconds(2))
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let text = log
        try? FileManager.default.removeItem(at: logURL)
        return text
    }
}

private func which(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
        return "\(dir)/\(name)"
    }
    return nil
}

private func milliseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1_000 + Double(d.components.attoseconds) / 1e15
}

/// Nearest-rank percentile of sorted samples.
private func percentile(_ sorted: [Duration], _ p: Double) -> Duration {
    guard !sorted.isEmpty else { return .zero }
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank, 1), sorted.count) - 1]
}

private func freePort() async throws -> Int {
    let t = try await openH248Transport(H248ListenAddress(kind: .udp, host: "127.0.0.1", port: 0))
    let port = t.localPort ?? 0
    await t.close()
    return port
}

private struct CycleResult: Sendable {
    var latencies: [(String, Duration)] = []
    var error: String?
}

/// One e2ae cycle; each call timed on its own.
private func runCycle(_ client: IqClient) async -> CycleResult {
    let session = IqE2AESession()
    var result = CycleResult()
    let clock = ContinuousClock()
    do {
        var start = clock.now
        let core = try await client.reserve([session.coreRequest()])[0]
        result.latencies.append(("add", start.duration(to: clock.now)))
        start = clock.now
        let access = try await client.reserve([session.accessRequest()], in: .id(core.contextID))[0]
        result.latencies.append(("add", start.duration(to: clock.now)))
        start = clock.now
        try await client.configure(context: core.contextID, termination: access.terminationID,
                                   remote: session.configureRemote(), mode: .sendReceive, signals: session.establishTLS())
        result.latencies.append(("modify", start.duration(to: clock.now)))
        start = clock.now
        try await client.release(context: core.contextID)
        result.latencies.append(("subtract", start.duration(to: clock.now)))
    } catch {
        result.error = "\(error)"
    }
    return result
}

private func mgArguments(script: String, mgcPort: Int, localPort: Int, transport: H248TransportKind, compact: Bool) -> [String] {
    [script, "--mgc", "127.0.0.1:\(mgcPort)", "--local-port", "\(localPort)", "--transport", transport.rawValue,
     "--encoding", compact ? "compact" : "pretty", "--version", "3", "--duration", "40"]
}

func runIqBench(_ arguments: [String]) {
    let done = DispatchSemaphore(value: 0)
    Task {
        await iqBench(arguments)
        done.signal()
    }
    done.wait()
}

private func iqBench(_ arguments: [String]) async {
    var transport = H248TransportKind.udp
    var cycles = 1_000
    var window = 16
    var compact = false
    var i = 0
    while i < arguments.count {
        let value = i + 1 < arguments.count ? arguments[i + 1] : ""
        switch arguments[i] {
        case "--transport":
            guard let t = H248TransportKind(rawValue: value), t == .udp || t == .tcp else {
                print("iq bench: --transport udp|tcp"); return
            }
            transport = t; i += 1
        case "--cycles":
            guard let n = Int(value), n > 0 else { print("iq bench: --cycles N (N > 0)"); return }
            cycles = n; i += 1
        case "--window":
            guard let w = Int(value), (1...IqBenchLimits.maximumWindow).contains(w) else {
                print("iq bench: --window W (1...\(IqBenchLimits.maximumWindow))"); return
            }
            window = w; i += 1
        case "--compact": compact = true
        default:
            print("usage: pcscf-bench iq [--transport udp|tcp] [--cycles N] [--window W] [--compact]  (run from the repo root)")
            return
        }
        i += 1
    }
    let mgScript = "\(IqBenchLimits.peerDirectory)/megaco_mg.escript"
    let mgcScript = "\(IqBenchLimits.peerDirectory)/mgc_check.py"
    guard FileManager.default.fileExists(atPath: mgScript), FileManager.default.fileExists(atPath: mgcScript) else {
        print("iq bench: \(mgScript) not found: run pcscf-bench from the repository root"); return
    }
    guard let escript = which("escript") else { print("iq bench: escript (erlang-base, erlang-megaco) not on PATH"); return }
    let python = which("python3")

    let clock = ContinuousClock()
    let benchStart = clock.now
    let form = compact ? "compact" : "pretty"
    print("iq bench: \(transport)/\(form), \(cycles) cycles x 4 transactions (Add core, Add access, Modify, Subtract *), window \(window)")

    // MARK: Our IqClient against the OTP MG
    var config: IqClientConfiguration
    let client: IqClient
    let mg: BenchPeer
    do {
        let t = try await openH248Transport(H248ListenAddress(kind: transport, host: "127.0.0.1", port: 0))
        let port = t.localPort ?? 0
        config = IqClientConfiguration(mid: .address("127.0.0.1", port: UInt16(clamping: port)), form: compact ? .compact : .pretty)
        config.association.keepAliveInterval = nil
        config.timers.longTimer = .seconds(8)
        client = IqClient(transport: t, configuration: config)
        await client.start()
        mg = try BenchPeer(escript, mgArguments(script: mgScript, mgcPort: port, localPort: try await freePort(),
                                                transport: transport, compact: compact))
    } catch {
        print("iq bench: could not start: \(error)"); return
    }
    do {
        _ = try await client.waitForRegistration(timeout: IqBenchLimits.registrationTimeout)
    } catch {
        await client.close()
        print("iq bench: the MG did not register: \(error)\n\(mg.stop())"); return
    }

    let swiftDeadline = clock.now + IqBenchLimits.swiftBudget
    var samples: [String: [Duration]] = [:]
    var all: [Duration] = []
    var failures: [String] = []
    var started = 0, completed = 0
    let runStart = clock.now
    await withTaskGroup(of: CycleResult.self) { group in
        while started < min(window, cycles) {
            group.addTask { await runCycle(client) }
            started += 1
        }
        for await result in group {
            if let e = result.error { failures.append(e) } else { completed += 1 }
            for (kind, d) in result.latencies {
                samples[kind, default: []].append(d)
                all.append(d)
            }
            if started < cycles && clock.now < swiftDeadline {
                group.addTask { await runCycle(client) }
                started += 1
            }
        }
    }
    let elapsed = runStart.duration(to: clock.now)
    let left = (try? await client.auditContexts().count).map(String.init) ?? "audit failed"
    await client.close()
    let mgLog = mg.stop()
    let adds = mgLog.split(separator: "\n").filter { $0.hasPrefix("MG ADD ") }.count

    let seconds = milliseconds(elapsed) / 1_000
    let ourRate = seconds > 0 ? Double(all.count) / seconds : 0
    all.sort()
    func fmt(_ d: Duration) -> String { String(format: "%.2f ms", milliseconds(d)) }
    print("IqClient (Swift, NIO): \(all.count) transactions in \(String(format: "%.2f", seconds)) s: "
          + String(format: "%.0f transactions/s", ourRate)
          + "; \(completed)/\(started) cycles completed" + (started < cycles ? " (time bound hit)" : ""))
    print("  latency per transaction: p50 \(fmt(percentile(all, 50)))  p90 \(fmt(percentile(all, 90)))  p99 \(fmt(percentile(all, 99)))  max \(fmt(all.last ?? .zero))")
    for kind in ["add", "modify", "subtract"] {
        let s = (samples[kind] ?? []).sorted()
        guard !s.isEmpty else { continue }
        print("    \(kind.padding(toLength: 8, withPad: " ", startingAt: 0)) n=\(s.count)  p50 \(fmt(percentile(s, 50)))  p90 \(fmt(percentile(s, 90)))  p99 \(fmt(percentile(s, 99)))")
    }
    print("  MG executed \(adds) Add(s) (2 per completed cycle: \(2 * completed)); contexts left at the end: \(left)")
    if !failures.isEmpty { print("  \(failures.count) cycle(s) failed, first: \(failures[0])") }

    // MARK: The Python MGC (mgc_check.py --load) against a fresh MG
    guard let python else { print("python3 not on PATH: no comparison"); return }
    if compact { print("  (the Python MGC sends pretty text; its MG instance encodes compact)") }
    let pairs = 2 * max(completed, 1)
    var pythonRate: Double?
    do {
        let port = try await freePort()
        let remaining = max(.seconds(5), IqBenchLimits.totalBudget - benchStart.duration(to: clock.now))
        let mgc = try BenchPeer(python, ["-u", mgcScript, "--transport", transport.rawValue, "--port", "\(port)",
                                         "--load", "\(pairs)", "--window", "\(window)",
                                         "--timeout", "\(Int(milliseconds(remaining) / 1_000))"])
        usleep(300_000)  // let it bind before the MG registers
        let mg2 = try BenchPeer(escript, mgArguments(script: mgScript, mgcPort: port, localPort: try await freePort(),
                                                     transport: transport, compact: compact))
        mgc.wait(until: clock.now + remaining)
        let timedOut = mgc.process.isRunning
        let mgcLog = mgc.stop()
        _ = mg2.stop()
        if let line = mgcLog.split(separator: "\n").last(where: { $0.hasPrefix("LOAD: ") }) {
            print("Python MGC (mgc_check.py --load \(pairs) --window \(window)): \(line.dropFirst(6))")
            if let r = line.range(of: #"[0-9]+ transactions/s"#, options: .regularExpression) {
                pythonRate = Double(line[r].split(separator: " ")[0])
            }
        } else {
            print("Python MGC: no LOAD line" + (timedOut ? " (killed at the \(IqBenchLimits.totalBudget) bound)" : "")
                  + "; last lines:\n" + mgcLog.split(separator: "\n").suffix(5).joined(separator: "\n"))
        }
    } catch {
        print("Python MGC: could not start: \(error)")
    }
    if let pythonRate, pythonRate > 0 {
        print(String(format: "ratio IqClient / Python MGC: %.2f  (%.0f vs %.0f transactions/s)", ourRate / pythonRate, ourRate, pythonRate))
    }
    print(String(format: "iq bench: total %.1f s", milliseconds(benchStart.duration(to: clock.now)) / 1_000))
}
