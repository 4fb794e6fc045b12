import ALGTestSupport
import Foundation
import Logging
import NIOCore
@testable import ProxyRuntime
import SIPCore
import SIPProxy
import SIPTransaction
import SIPTransport
import Testing

/// Starts an in-process proxy on loopback ephemeral ports.
func startProxy(gm: [SIPTransportKind], mw: [SIPTransportKind], nextHop: ((ProxyServer) -> String?)? = nil,
                nextHopURI: String? = nil, maxTransactions: Int = TransactionLayerConfiguration.defaultMaximumTransactions,
                clock: (any ProxyClock)? = nil, hooks: (any ProxyRuntimeHooks)? = nil,
                t1: Duration = TransactionTimers.defaultT1) async throws -> ProxyServer {
    var listeners: [SIPListenerConfiguration] = []
    for k in gm { listeners.append(.init(side: .gm, transport: k, host: "127.0.0.1", port: 0, tls: k == .tls ? TLSFixture.settings : nil)) }
    for k in mw { listeners.append(.init(side: .mw, transport: k, host: "127.0.0.1", port: 0, tls: k == .tls ? TLSFixture.settings : nil)) }
    let config = ProxyServerConfiguration(
        transport: SIPTransportConfiguration(listeners: listeners, tlsClient: .init(verify: .none)),
        nextHop: nextHopURI,
        transactions: TransactionLayerConfiguration(timers: TransactionTimers(t1: t1, t2: max(t1, TransactionTimers.defaultT2)),
                                                    maximumTransactions: maxTransactions),
        runsTimerTask: clock == nil, idPrefix: "t")
    var logger = Logger(label: "proxy-test")
    logger.logLevel = .warning
    let server = ProxyServer(configuration: config, hooks: hooks, clock: clock ?? ContinuousProxyClock(), logger: logger)
    try await server.start()
    return server
}

enum TLSFixture {
    static let cert = TestRepository.url("Fixtures/tls/cert.pem").path
    static let key = TestRepository.url("Fixtures/tls/key.pem").path
    static let settings = SIPTLSServerSettings(certificateChainPath: cert, privateKeyPath: key)
}

extension ProxyServer {
    nonisolated func port(_ side: SIPSide, _ kind: SIPTransportKind) -> Int {
        transport.listener(side: side, transport: kind)?.port ?? 0
    }
}

/// A free loopback port below the ephemeral range (see `LoopbackSocket.freePort`).
func freePort(span: Int = 1) -> Int { LoopbackSocket.freePort(span: span) }

/// Live-tool gate: nil (and a recorded issue under CI=true) when a tool is missing.
func liveTools(_ names: [String], for test: String) -> [String: String]? {
    var found: [String: String] = [:]
    for n in names {
        guard let p = LiveTool.path(n) else {
            if LiveTool.isCI { Issue.record("\(n) is missing and CI=true (\(test))") } else { print("skipping \(test): \(n) not installed") }
            return nil
        }
        found[n] = p
    }
    return found
}

/// Runs one SIPp UAS (background) and one SIPp UAC against the proxy; returns both exit statuses and
/// their error logs.
struct SIPpPair {
    var uasStatus: Int32?
    var uacStatus: Int32?
    var uasLog: String
    var uacLog: String
    var succeeded: Bool { uasStatus == 0 && uacStatus == 0 }
    var description: String { "uas=\(uasStatus.map(String.init) ?? "killed") uac=\(uacStatus.map(String.init) ?? "killed")\nUAS: \(uasLog)\nUAC: \(uacLog)" }

    static let scenarios = TestRepository.url("Tests/Peers/sipp")

    /// - Parameters:
    ///   - uas/uac: scenario file names under Tests/Peers/sipp, or "-sn NAME" for a built-in one.
    ///   - mode: SIPp transport mode (`u1`, `t1`).
    static func run(sipp: String, uas: String, uac: String, mode: String, uasPort: Int, proxyPort: Int,
                    calls: Int, rate: Int = 20, extra: [String] = [], timeout: Int = 15) async throws -> SIPpPair {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("proxy-sipp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func scenario(_ s: String) -> [String] {
            s.hasPrefix("-sn ") ? ["-sn", String(s.dropFirst(4))] : ["-sf", scenarios.appendingPathComponent(s).path]
        }
        let common = ["-t", mode, "-i", "127.0.0.1", "-m", "\(calls)", "-timeout", "\(timeout)", "-timeout_error", "-nostdin",
                      "-trace_err", "-mi", "127.0.0.1"]
        let uasProc = LiveProcess(sipp, scenario(uas) + common + ["-p", "\(uasPort)", "-mp", "\(freePort(span: 4))"], directory: dir)
        try uasProc.start()
        // Wait until the UAS listens.
        _ = await eventually(timeout: 5) { mode == "u1" ? !LoopbackSocket.canBindUDP(port: uasPort) : !LoopbackSocket.canBindTCP(port: uasPort) }
        let uacProc = LiveProcess(sipp, scenario(uac) + common + ["-p", "\(freePort())", "-mp", "\(freePort(span: 4))", "-r", "\(rate)",
                                                                   "-key", "pad", "x"] + extra + ["127.0.0.1:\(proxyPort)"], directory: dir)
        try uacProc.start()
        let uacStatus = await uacProc.wait(timeout: Double(timeout + 10))
        let uasStatus = await uasProc.wait(timeout: 5)
        func errors() -> (String, String) {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            var uasLog = "", uacLog = ""
            for f in files where f.hasSuffix("_errors.log") {
                let text = (try? String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8)) ?? ""
                let cut = String(text.prefix(1500))
                if f.hasPrefix("uas") { uasLog += cut } else { uacLog += cut }
            }
            return (uasLog + uasProc.stderr.suffix(500), uacLog + uacProc.stderr.suffix(500))
        }
        let (a, b) = errors()
        return SIPpPair(uasStatus: uasStatus, uacStatus: uacStatus, uasLog: a, uacLog: b)
    }
}

/// Builds a response to a request received on a raw socket (tests acting as UAS).
func respond(to bytes: [UInt8], status: Int, reason: String, toTag: String? = "uas1", extra: [(String, String)] = []) throws -> [UInt8] {
    let request = try SIPParser.parse(bytes)
    return SIPResponseBuilder.response(to: request, status: status, reason: reason, toTag: toTag, extraHeaders: extra)
}

func text(_ b: [UInt8]?) -> String { b.map { String(decoding: $0, as: UTF8.self) } ?? "<nothing>" }

/// Receives datagrams until one matches `predicate` (skips e.g. 100 Trying or retransmissions).
func receive(_ s: LoopbackSocket, timeout: Double = 5, where predicate: (String) -> Bool) async -> String? {
    let deadline = Date().addingTimeInterval(timeout)
    while deadline.timeIntervalSinceNow > 0 {
        guard let b = await s.receive(timeout: deadline.timeIntervalSinceNow), !b.isEmpty else { return nil }
        let t = text(b)
        if predicate(t) { return t }
    }
    return nil
}
