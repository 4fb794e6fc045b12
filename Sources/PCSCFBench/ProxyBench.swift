// `pcscf-bench proxy [--rate R] [--duration S] [--transport udp|tcp] [--climb] [--rates a,b,c]
//                    [--only pcscf|kamailio] [--pcscf PATH] [--stand-in kamailio] [--base-port P]`
//
// CPU per call of the running proxy (`pcscf-alg proxy`) against Kamailio (Debian `kamailio`, the
// minimal transaction-stateful record-routing config of Benchmarks/kamailio/), one after the other
// under the same SIPp load: a SIPp UAC (built-in `uac` scenario: INVITE, 200, ACK, BYE, 200)
// through the proxy to a SIPp UAS (`uas_200only.xml`) at a fixed call rate for a fixed time.
// The proxy's CPU time (utime + stime from /proc/<pid>/stat, summed over the process and all its
// descendants, which covers Kamailio's worker processes) is read before and after the load;
// CPU ms per call = CPU time / successful calls. `--climb` steps the rate for both until calls
// fail or the UAC cannot keep the rate, and prints the highest clean rate of each.
//
// Run from the repository root (`Benchmarks/kamailio/` and `.build/release/pcscf-alg` are found
// relative to it). Needs `sipp` (sip-tester) and `kamailio` (scripts/install-deps.sh --bench).
// Bounded: every SIPp run is killed at duration + `uacGrace`, each proxy must be ready within
// `startTimeout`, and every process started here is killed at the end, on error and on SIGINT.
import Dispatch
import Foundation

private enum ProxyBenchLimits {
    static let peerDirectory = "Benchmarks/kamailio"
    static let defaultPCSCF = ".build/release/pcscf-alg"
    static let rates = 1...20_000
    static let durations = 1...300
    static let climbRates = [250, 500, 1_000, 1_500, 2_000, 2_500, 3_000, 4_000, 5_000, 6_000, 8_000, 10_000]
    static let climbDuration = 10
    static let startTimeout: Duration = .seconds(10)
    static let portWait: Duration = .seconds(10)
    static let uacGrace = 20  // seconds past --duration before the UAC is killed
    static let recvTimeoutMilliseconds = 5_000  // a call waiting longer for a message fails
    static let keepRateSlack = 1.15  // the UAC "kept the rate" when all calls were created within duration x slack + 1 s
    static let settle: useconds_t = 300_000
}

// MARK: - Processes

/// Every process this bench started, so that SIGINT/SIGTERM and errors can kill them all.
final class SpawnRegistry: @unchecked Sendable {
    static let shared = SpawnRegistry()
    private let lock = NSLock()
    private var processes: [ObjectIdentifier: Process] = [:]
    private var extraPIDs: Set<pid_t> = []

    func add(_ p: Process) { lock.withLock { processes[ObjectIdentifier(p)] = p } }
    func remove(_ p: Process) { lock.withLock { _ = processes.removeValue(forKey: ObjectIdentifier(p)) } }
    func track(_ pids: [pid_t]) { lock.withLock { extraPIDs.formUnion(pids) } }
    func untrack(_ pids: [pid_t]) { lock.withLock { extraPIDs.subtract(pids) } }

    /// SIGKILL to everything still tracked (used on signals).
    func killAll() {
        let (ps, extra) = lock.withLock { (Array(processes.values), extraPIDs) }
        for p in ps where p.isRunning {
            for d in descendants(of: p.processIdentifier) { kill(d, SIGKILL) }
            kill(p.processIdentifier, SIGKILL)
        }
        for pid in extra { kill(pid, SIGKILL) }
    }
}

/// A spawned process: stdout discarded (or, with `stdoutToLog`, logged too), stderr to a log file in
/// the run directory.
final class Spawned {
    let name: String
    let process = Process()
    let logURL: URL
    private var knownTree: [pid_t] = []

    init(_ name: String, _ executable: String, _ arguments: [String], directory: URL, stdoutToLog: Bool = false) throws {
        self.name = name
        logURL = directory.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let err = try FileHandle(forWritingTo: logURL)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = stdoutToLog ? err : FileHandle.nullDevice
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        SpawnRegistry.shared.add(process)
    }

    var pid: pid_t { process.processIdentifier }
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// The process and its descendants (Kamailio's workers); remembered for the final kill.
    func tree() -> [pid_t] {
        guard process.isRunning else { return [] }
        let t = [pid] + descendants(of: pid)
        knownTree = Array(Set(knownTree + t))
        SpawnRegistry.shared.track(t)
        return t
    }

    /// Waits until the process exits or `deadline` passes; true when it exited.
    @discardableResult
    func wait(until deadline: ContinuousClock.Instant) -> Bool {
        while process.isRunning && ContinuousClock.now < deadline { usleep(20_000) }
        return !process.isRunning
    }

    /// SIGTERM to the descendants and the process, 3 s grace, then SIGKILL to every process seen.
    func stop() {
        for p in tree().reversed() { kill(p, SIGTERM) }
        let deadline = ContinuousClock.now + .seconds(3)
        while knownTree.contains(where: isAlive) && ContinuousClock.now < deadline { usleep(20_000) }
        for p in knownTree where isAlive(p) { kill(p, SIGKILL) }
        process.waitUntilExit()
        SpawnRegistry.shared.remove(process)
        SpawnRegistry.shared.untrack(knownTree)
    }
}

/// Running (not gone, not a zombie: orphaned Kamailio workers may stay unreaped in a container).
func isAlive(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    return statFields(pid)?.first != "Z"
}

/// Fields after the command name of /proc/<pid>/stat ("state ppid pgrp ... utime stime ...").
func statFields(_ pid: pid_t) -> [Substring]? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return nil }
    return text[text.index(after: close)...].split(separator: " ")
}

/// Every live descendant of `root`, from the ppid field of /proc/*/stat.
func descendants(of root: pid_t) -> [pid_t] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    var children: [pid_t: [pid_t]] = [:]
    for e in entries {
        guard let pid = pid_t(e), let f = statFields(pid), f.count > 1, let ppid = pid_t(f[1]) else { continue }
        children[ppid, default: []].append(pid)
    }
    var result: [pid_t] = [], queue = [root]
    while let p = queue.popLast() {
        for c in children[p] ?? [] { result.append(c); queue.append(c) }
    }
    return result
}

/// utime + stime of `pids`, in clock ticks (fields 14 and 15 of proc(5) stat).
func cpuTicks(_ pids: [pid_t]) -> Int {
    pids.reduce(0) { sum, pid in
        guard let f = statFields(pid), f.count > 12, let u = Int(f[11]), let s = Int(f[12]) else { return sum }
        return sum + u + s
    }
}

let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

func findExecutable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for dir in (path + ":/usr/sbin:/sbin").split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
        return "\(dir)/\(name)"
    }
    return nil
}

/// True when something listens on 127.0.0.1:`port` (UDP bound or TCP LISTEN), from /proc/net.
func isListening(_ port: Int, tcp: Bool) -> Bool {
    let hexPort = String(format: "%04X", port)
    guard let text = try? String(contentsOfFile: tcp ? "/proc/net/tcp" : "/proc/net/udp", encoding: .utf8) else { return false }
    for line in text.split(separator: "\n").dropFirst() {
        let f = line.split(separator: " ")
        guard f.count > 3 else { continue }
        let local = f[1].split(separator: ":")
        guard local.count == 2, local[1] == hexPort else { continue }
        if !tcp || f[3] == "0A" { return true }
    }
    return false
}

/// Kills every child on Ctrl-C / SIGTERM (then exits 130); cancel the returned sources when done.
func killChildrenOnSignals(_ bench: String) -> [any DispatchSourceSignal] {
    var signalSources: [any DispatchSourceSignal] = []
    for sig in [SIGINT, SIGTERM] {
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler {
            SpawnRegistry.shared.killAll()
            print("\(bench): interrupted, children killed")
            exit(130)
        }
        source.resume()
        signalSources.append(source)
    }
    return signalSources
}

// MARK: - Configuration

enum ProxyKind: String {
    case pcscf, kamailio
}

private struct Ports {
    let gm: Int, mw: Int, uas: Int, uac: Int, uasMedia: Int, uacMedia: Int
    init(base: Int) {
        gm = base; mw = base + 10; uas = base + 20; uac = base + 40; uasMedia = base + 1_000; uacMedia = base + 1_100
    }
}

struct ProxyBenchOptions {
    var rate = 500
    var duration = 20
    var tcp = false
    var climb = false
    var rates: [Int]?
    var only: ProxyKind?
    var pcscf = ProxyBenchLimits.defaultPCSCF
    var standIn = false
    var basePort = 15_060
    var kamailioChildren = 2
    var keep = false
    /// Start `pcscf-alg proxy` with `--no-libosip2-check` (SIPCore's scanner alone judges the input).
    var noLibOSIP2Check = false

    var transport: String { tcp ? "tcp" : "udp" }
}

struct ProxyRunResult {
    var proxy: String
    var rate: Int
    var calls: Int
    var ok = 0
    var failed = 0
    var unfinished = 0
    var cpuSeconds = 0.0
    var processes = 0
    var createSeconds: Double?  // UAC elapsed time when all calls were created
    var causes: [(String, Int)] = []
    var wallSeconds = 0.0
    var error: String?

    var cpuMillisecondsPerCall: Double? { ok > 0 ? cpuSeconds * 1_000 / Double(ok) : nil }
    var keptRate: Bool {
        guard let c = createSeconds else { return false }
        return c <= Double(calls) / Double(rate) * ProxyBenchLimits.keepRateSlack + 1
    }
    var clean: Bool { error == nil && failed == 0 && unfinished == 0 && ok == calls && keptRate }
}

struct SIPpStats {
    var created = 0, ok = 0, failed = 0
    var createSeconds: Double?
    var causes: [(String, Int)] = []  // non-zero Failed*(C) columns other than FailedCall(C)
}

/// Reads the `-trace_stat` CSV: the last row gives the cumulative counts; the first row whose
/// TotalCallCreated reached `calls` gives the time the UAC needed to create them all.
func parseStat(_ url: URL, calls: Int) -> SIPpStats? {
    guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
    let lines = text.split(separator: "\n")
    guard let header = lines.first?.split(separator: ";", omittingEmptySubsequences: false) else { return nil }
    func column(_ name: String) -> Int? { header.firstIndex { $0 == name } }
    guard let cCreated = column("TotalCallCreated"), let cOK = column("SuccessfulCall(C)"),
          let cFailed = column("FailedCall(C)"), let cElapsed = column("ElapsedTime(C)") else { return nil }
    var stats = SIPpStats()
    let causeColumns = header.indices.filter {
        header[$0].hasPrefix("Failed") && header[$0].hasSuffix("(C)") && header[$0] != "FailedCall(C)"
    }
    var seen = false
    for line in lines.dropFirst() {
        let f = line.split(separator: ";", omittingEmptySubsequences: false)
        guard f.count > max(cCreated, cOK, cFailed, cElapsed), let created = Int(f[cCreated]),
              let ok = Int(f[cOK]), let failed = Int(f[cFailed]) else { continue }
        seen = true
        stats.created = created; stats.ok = ok; stats.failed = failed
        stats.causes = causeColumns.compactMap { c in
            guard c < f.count, let n = Int(f[c]), n > 0 else { return nil }
            return (String(header[c].dropFirst(6).dropLast(3)), n)
        }
        if stats.createSeconds == nil && created >= calls {
            // "HH:MM:SS" (some builds add ":uuuuuu")
            let hms = f[cElapsed].split(separator: ":").prefix(3).compactMap { Double($0) }
            if hms.count == 3 { stats.createSeconds = hms[0] * 3_600 + hms[1] * 60 + hms[2] }
        }
    }
    return seen ? stats : nil
}

// MARK: - One measured run

private func startProxy(_ kind: ProxyKind, _ o: ProxyBenchOptions, _ ports: Ports, _ dir: URL, kamailio: String?) throws -> Spawned {
    let t = o.transport
    let useKamailio = kind == .kamailio || o.standIn
    if useKamailio {
        guard let kamailio else { throw BenchError("kamailio not found (scripts/install-deps.sh --bench)") }
        let cfg = FileManager.default.currentDirectoryPath + "/\(ProxyBenchLimits.peerDirectory)/kamailio_stateful_bench.cfg"
        // Own session: Kamailio signals its whole process group (kill(0, SIGTERM)) when it stops,
        // which would otherwise reach this bench. `setsid -w` forks kamailio into a new session and
        // waits for it; stop() signals the whole tree, and the CPU figure sums the tree.
        return try Spawned("\(kind.rawValue)-kamailio", "/usr/bin/setsid", [
            "-w", kamailio, "-f", cfg, "-DD", "-E", "-m", "256", "-M", "16", "-w", dir.path,
            "-l", "\(t):127.0.0.1:\(ports.gm)",
            "-A", "UAS=\"sip:127.0.0.1:\(ports.uas)\"", "-A", "CHILDREN=\(o.kamailioChildren)",
        ], directory: dir)
    }
    return try Spawned("pcscf", o.pcscf, [
        "proxy", "--gm", "\(t):127.0.0.1:\(ports.gm)", "--mw", "\(t):127.0.0.1:\(ports.mw)",
        "--next-hop", "sip:127.0.0.1:\(ports.uas);transport=\(t)", "--log-level", "warning",
    ] + (o.noLibOSIP2Check ? ["--no-libosip2-check"] : []), directory: dir)
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

func measureProxyRun(_ kind: ProxyKind, rate: Int, duration: Int, _ o: ProxyBenchOptions, sipp: String, kamailio: String?) -> ProxyRunResult {
    let calls = rate * duration
    let label = o.standIn && kind == .pcscf ? "pcscf(stand-in kamailio)" : kind.rawValue
    var result = ProxyRunResult(proxy: label, rate: rate, calls: calls)
    let ports = Ports(base: o.basePort)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pcscf-bench-proxy-\(kind.rawValue)-\(rate)-\(UUID().uuidString.prefix(8))")
    var spawned: [Spawned] = []
    defer {
        for s in spawned.reversed() { s.stop() }
        if o.keep { print("    (logs kept in \(dir.path))") } else { try? FileManager.default.removeItem(at: dir) }
    }
    do {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // The previous run's sockets may take a moment to go; wait for them before giving up.
        let freeBy = ContinuousClock.now + ProxyBenchLimits.portWait
        for port in [ports.gm, ports.uas, ports.uac] {
            while isListening(port, tcp: o.tcp) {
                guard ContinuousClock.now < freeBy else {
                    throw BenchError("port \(port) is already in use (choose another --base-port)")
                }
                usleep(100_000)
            }
        }
        let sippTransport = o.tcp ? "t1" : "u1"
        let uas = try Spawned("uas", sipp, [
            "-sf", FileManager.default.currentDirectoryPath + "/\(ProxyBenchLimits.peerDirectory)/uas_200only.xml",
            "-t", sippTransport, "-i", "127.0.0.1", "-p", "\(ports.uas)", "-mp", "\(ports.uasMedia)",
            "-nostdin", "-timeout", "\(duration + ProxyBenchLimits.uacGrace + 30)",
        ], directory: dir)
        spawned.append(uas)
        let proxy = try startProxy(kind, o, ports, dir, kamailio: kamailio)
        spawned.append(proxy)
        let readyBy = ContinuousClock.now + ProxyBenchLimits.startTimeout
        while !(isListening(ports.gm, tcp: o.tcp) && isListening(ports.uas, tcp: o.tcp)) {
            guard proxy.process.isRunning else {
                throw BenchError("\(proxy.name) exited (status \(proxy.process.terminationStatus)): " + proxy.log.suffix(600))
            }
            guard uas.process.isRunning else { throw BenchError("SIPp UAS exited: " + uas.log.suffix(600)) }
            guard ContinuousClock.now < readyBy else {
                throw BenchError("\(proxy.name) not listening on \(ports.gm) after \(ProxyBenchLimits.startTimeout): " + proxy.log.suffix(600))
            }
            usleep(50_000)
        }
        usleep(ProxyBenchLimits.settle)  // let Kamailio's workers finish forking
        let tree = proxy.tree()
        result.processes = tree.count - (kind == .kamailio || o.standIn ? 1 : 0)  // not counting setsid
        let before = cpuTicks(tree)
        let stat = dir.appendingPathComponent("uac.csv")
        let start = ContinuousClock.now
        let uac = try Spawned("uac", sipp, [
            "-sn", "uac", "-t", sippTransport, "-i", "127.0.0.1", "-p", "\(ports.uac)", "-mp", "\(ports.uacMedia)",
            "127.0.0.1:\(ports.gm)", "-r", "\(rate)", "-m", "\(calls)", "-l", "\(max(2_000, rate * 5))",
            "-nostdin", "-trace_stat", "-stf", stat.path, "-fd", "1",
            "-recv_timeout", "\(ProxyBenchLimits.recvTimeoutMilliseconds)",
            "-timeout", "\(duration + ProxyBenchLimits.uacGrace)",
        ], directory: dir)
        spawned.append(uac)
        let exited = uac.wait(until: start + .seconds(duration + ProxyBenchLimits.uacGrace + 5))
        result.wallSeconds = Double(start.duration(to: .now).components.seconds)
            + Double(start.duration(to: .now).components.attoseconds) / 1e18
        // Workers may have been forked or replaced during the run: read the tree again.
        let after = cpuTicks(proxy.tree())
        result.cpuSeconds = Double(max(0, after - before)) / ticksPerSecond
        if !exited { uac.stop() }
        guard let s = parseStat(stat, calls: calls) else {
            throw BenchError("no SIPp statistics (uac exit \(uac.process.isRunning ? "-" : "\(uac.process.terminationStatus)")): "
                             + uac.log.suffix(600))
        }
        result.ok = s.ok
        result.failed = s.failed
        result.unfinished = max(0, calls - s.ok - s.failed)
        result.createSeconds = s.createSeconds
        result.causes = s.causes
        if !proxy.process.isRunning { result.error = "\(proxy.name) died during the run: " + proxy.log.suffix(400) }
    } catch {
        result.error = "\(error)"
    }
    return result
}

// MARK: - Entry point

private func parseProxyOptions(_ arguments: [String]) -> ProxyBenchOptions? {
    var o = ProxyBenchOptions()
    var i = 0
    func int(_ s: String, _ range: ClosedRange<Int>) -> Int? { Int(s).flatMap { range.contains($0) ? $0 : nil } }
    while i < arguments.count {
        let v = i + 1 < arguments.count ? arguments[i + 1] : ""
        switch arguments[i] {
        case "--rate": guard let r = int(v, ProxyBenchLimits.rates) else { return nil }; o.rate = r; i += 1
        case "--duration": guard let d = int(v, ProxyBenchLimits.durations) else { return nil }; o.duration = d; i += 1
        case "--transport":
            guard v == "udp" || v == "tcp" else { return nil }
            o.tcp = v == "tcp"; i += 1
        case "--climb": o.climb = true
        case "--rates":
            let rs = v.split(separator: ",").compactMap { int(String($0), ProxyBenchLimits.rates) }
            guard !rs.isEmpty, rs.count <= 32 else { return nil }
            o.rates = rs; i += 1
        case "--only": guard let k = ProxyKind(rawValue: v) else { return nil }; o.only = k; i += 1
        case "--pcscf": guard !v.isEmpty else { return nil }; o.pcscf = v; i += 1
        case "--stand-in": guard v == "kamailio" else { return nil }; o.standIn = true; i += 1
        case "--base-port": guard let p = int(v, 1_024...60_000) else { return nil }; o.basePort = p; i += 1
        case "--kamailio-children": guard let c = int(v, 1...16) else { return nil }; o.kamailioChildren = c; i += 1
        case "--keep-logs": o.keep = true
        case "--no-libosip2-check": o.noLibOSIP2Check = true
        default: return nil
        }
        i += 1
    }
    return o
}

func formatProxyRun(_ r: ProxyRunResult) -> String {
    let cpu = r.cpuMillisecondsPerCall.map { String(format: "%.4f", $0) } ?? "-"
    let kept = r.createSeconds.map { String(format: "%.0f s%@", $0, r.keptRate ? "" : " (rate not kept)") } ?? "not all created"
    let name = r.proxy.padding(toLength: 24, withPad: " ", startingAt: 0)
    return "\(name) \(String(format: "%6d", r.rate)) \(String(format: "%8d", r.ok)) \(String(format: "%8d", r.failed + r.unfinished))"
        + "  \(String(format: "%9.2f", r.cpuSeconds * 1_000))  \(cpu.padding(toLength: 10, withPad: " ", startingAt: 0))"
        + " \(String(format: "%3d", r.processes))  \(kept)"
        + (r.unfinished > 0 ? "  [\(r.unfinished) unfinished]" : "")
        + (r.causes.isEmpty ? "" : "  [" + r.causes.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + "]")
        + (r.error.map { "  ERROR: \($0.replacingOccurrences(of: "\n", with: " | "))" } ?? "")
}

let proxyTableHeader = "proxy                      rate  calls ok   failed  CPU ms tot  CPU ms/call procs  UAC created all by"

func runProxyBench(_ arguments: [String]) {
    guard let o = parseProxyOptions(arguments) else {
        print("""
            usage: pcscf-bench proxy [--rate 500] [--duration 20] [--transport udp|tcp] [--climb [--rates 250,500,...]]
                                     [--only pcscf|kamailio] [--pcscf .build/release/pcscf-alg] [--stand-in kamailio]
                                     [--base-port 15060] [--kamailio-children 2] [--keep-logs] [--no-libosip2-check]
                                     (run from the repo root)
            """)
        return
    }
    guard FileManager.default.fileExists(atPath: "\(ProxyBenchLimits.peerDirectory)/kamailio_stateful_bench.cfg") else {
        print("proxy bench: \(ProxyBenchLimits.peerDirectory)/ not found: run pcscf-bench from the repository root"); return
    }
    guard let sipp = findExecutable("sipp") else { print("proxy bench: sipp (sip-tester) not on PATH"); return }
    let kamailio = findExecutable("kamailio")
    var kinds: [ProxyKind] = [.pcscf, .kamailio]
    if let only = o.only { kinds = [only] }
    if kamailio == nil && (kinds.contains(.kamailio) || o.standIn) {
        print("proxy bench: kamailio not installed (scripts/install-deps.sh --bench)"); return
    }
    if kinds.contains(.pcscf) && !o.standIn && !FileManager.default.isExecutableFile(atPath: o.pcscf) {
        print("proxy bench: \(o.pcscf) not found (swift build -c release --product pcscf-alg)"); return
    }

    let signalSources = killChildrenOnSignals("proxy bench")
    defer {
        for s in signalSources { s.cancel() }
        SpawnRegistry.shared.killAll()
    }

    let clock = ContinuousClock()
    let benchStart = clock.now
    let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    print("proxy bench: \(o.transport), SIPp built-in uac -> proxy -> SIPp uas_200only.xml on 127.0.0.1; \(ProcessInfo.processInfo.activeProcessorCount) CPUs, load average \(load)")
    if o.noLibOSIP2Check { print("pcscf started with --no-libosip2-check (SIPCore's scanner alone judges received messages)") }

    if !o.climb {
        print("fixed rate \(o.rate) calls/s for \(o.duration) s (\(o.rate * o.duration) calls per proxy)")
        print(proxyTableHeader)
        var results: [ProxyKind: ProxyRunResult] = [:]
        for k in kinds {
            let r = measureProxyRun(k, rate: o.rate, duration: o.duration, o, sipp: sipp, kamailio: kamailio)
            print(formatProxyRun(r))
            results[k] = r
        }
        if let p = results[.pcscf]?.cpuMillisecondsPerCall, let k = results[.kamailio]?.cpuMillisecondsPerCall, k > 0 {
            let pf = (results[.pcscf]?.failed ?? 0) + (results[.pcscf]?.unfinished ?? 0)
            let kf = (results[.kamailio]?.failed ?? 0) + (results[.kamailio]?.unfinished ?? 0)
            print(String(format: "ratio CPU per call pcscf / kamailio: %.2f  (%.4f vs %.4f ms per call at %d calls/s, %d s, %@; failed %d vs %d)",
                         p / k, p, k, o.rate, o.duration, o.transport, pf, kf))
        }
    } else {
        let rates = o.rates ?? ProxyBenchLimits.climbRates
        let duration = arguments.contains("--duration") ? o.duration : ProxyBenchLimits.climbDuration
        print("climb: rates \(rates.map(String.init).joined(separator: ", ")) calls/s, \(duration) s each, until calls fail or the UAC cannot keep the rate")
        print(proxyTableHeader)
        var best: [ProxyKind: ProxyRunResult] = [:]
        var stopped: Set<ProxyKind> = []
        var atRate: [ProxyKind: ProxyRunResult] = [:]
        for rate in rates {
            for k in kinds where !stopped.contains(k) {
                let r = measureProxyRun(k, rate: rate, duration: duration, o, sipp: sipp, kamailio: kamailio)
                print(formatProxyRun(r))
                if r.clean { best[k] = r } else { stopped.insert(k) }
                atRate[k] = r
            }
            if let p = atRate[.pcscf]?.cpuMillisecondsPerCall, let q = atRate[.kamailio]?.cpuMillisecondsPerCall,
               atRate[.pcscf]?.rate == rate, atRate[.kamailio]?.rate == rate, q > 0 {
                print(String(format: "  ratio CPU per call pcscf / kamailio at %d calls/s: %.2f", rate, p / q))
            }
            if stopped.count == kinds.count { break }
        }
        for k in kinds {
            let label = o.standIn && k == .pcscf ? "pcscf(stand-in kamailio)" : k.rawValue
            if let b = best[k] {
                print(String(format: "highest clean rate %@: %d calls/s (%.4f CPU ms per call)%@", label, b.rate,
                             b.cpuMillisecondsPerCall ?? 0, stopped.contains(k) ? "" : " (top of the tried rates)"))
            } else {
                print("highest clean rate \(label): none of the tried rates")
            }
        }
        if let p = best[.pcscf], let k = best[.kamailio] {
            let common = min(p.rate, k.rate)
            print("ratio of the highest clean rates pcscf / kamailio: \(String(format: "%.2f", Double(p.rate) / Double(k.rate))) (common clean rate \(common) calls/s)")
        }
    }
    print(String(format: "proxy bench: total %.0f s", Double(benchStart.duration(to: clock.now).components.seconds)))
}
