#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ALGTestSupport
import Foundation
import NIOCore
import SIPCore
@testable import SIPTransport

struct TestTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// The raw loopback peer socket shared by the live test targets (ALGTestSupport).
typealias TestSocket = LoopbackSocket

final class InboundCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [SIPInbound] = []
    private var task: Task<Void, Never>?

    init(_ service: SIPTransportService) {
        task = Task { [weak self] in
            for await m in service.inbound { self?.add(m) }
        }
    }
    private func add(_ m: SIPInbound) { lock.lock(); items.append(m); lock.unlock() }
    var messages: [SIPInbound] { lock.lock(); defer { lock.unlock() }; return items }

    func wait(for count: Int, timeout: Double = 5) async throws -> [SIPInbound] {
        let deadline = Date().addingTimeInterval(timeout)
        while messages.count < count {
            if deadline.timeIntervalSinceNow <= 0 { throw TestTimeout(what: "\(count) inbound messages (got \(messages.count))") }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        return messages
    }
}

/// A tiny UAS on the transport: answers every request except ACK with 200 (SIPResponseBuilder) over
/// the flow it came in on.
final class TestResponder: @unchecked Sendable {
    private var task: Task<Void, Never>?
    init(_ service: SIPTransportService, observe: (@Sendable (SIPInbound) -> Void)? = nil) {
        task = Task {
            var tag = 0
            for await m in service.inbound {
                observe?(m)
                guard m.message.isRequest && m.message.method != "ACK" else { continue }
                tag += 1
                let ok = SIPResponseBuilder.response(to: m.message, status: 200, reason: "OK", toTag: "uas\(tag)")
                _ = try? await service.send(ok, to: .flow(m.flow))
            }
        }
    }
}

func makeService(_ listeners: [(SIPSide, SIPTransportKind)], maxConnections: Int = 100,
                 idle: TimeAmount = .seconds(60), udpMax: Int = SIPTransportLimits.udpMaxMessageBytes) async throws -> SIPTransportService {
    let config = SIPTransportConfiguration(
        listeners: listeners.map { SIPListenerConfiguration(side: $0.0, transport: $0.1, host: "127.0.0.1", port: 0) },
        udpMaxMessageBytes: udpMax, maxConnections: maxConnections, idleTimeout: idle,
        toTagGenerator: { "bad1" })
    let s = SIPTransportService(configuration: config)
    try await s.start()
    return s
}

/// A well-formed request with the given Via value and body.
func request(method: String = "OPTIONS", via: String = "SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-t1",
             callID: String = "c1@test", cseq: Int = 1, body: String = "", extra: String = "") -> String {
    var s = "\(method) sip:pcscf.example.net SIP/2.0\r\n"
    s += "Via: \(via)\r\n"
    s += "Max-Forwards: 70\r\n"
    s += "From: <sip:alice@example.net>;tag=a1\r\n"
    s += "To: <sip:bob@example.net>\r\n"
    s += "Call-ID: \(callID)\r\n"
    s += "CSeq: \(cseq) \(method)\r\n"
    s += extra
    if !body.isEmpty { s += "Content-Type: text/plain\r\n" }
    s += "Content-Length: \(body.utf8.count)\r\n\r\n"
    s += body
    return s
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}

/// Runs SIPp's built-in UAC (`-sn uac`: INVITE, 200, ACK, BYE, 200) for `calls` calls at 100 cps
/// over `mode` (`u1`, `t1`) against `127.0.0.1:port`, in a scratch directory, and returns its exit
/// status and standard error.
func runSIPpUAC(_ sipp: String, calls: Int, mode: String, port: Int) async throws -> (status: Int32, stderr: String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sipp-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: sipp)
    p.currentDirectoryURL = dir
    p.arguments = ["-sn", "uac", "-m", "\(calls)", "-r", "100", "-t", mode, "-i", "127.0.0.1",
                   "-timeout", "20", "-timeout_error", "-nostdin", "-trace_err", "127.0.0.1:\(port)"]
    p.standardOutput = FileHandle.nullDevice
    let err = Pipe()
    p.standardError = err
    try p.runWithSignalsUnblocked()
    while p.isRunning { try await Task.sleep(nanoseconds: 50_000_000) }
    return (p.terminationStatus, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
}
