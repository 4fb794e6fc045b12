#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOCore
import SIPCore
@testable import SIPTransport

struct TestTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// A blocking IPv4 loopback socket for the peer side of the tests (raw bytes, no SIP stack).
final class TestSocket {
    let fd: Int32

    private init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    private static func loopback(port: Int) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return a
    }

    private static func make(_ type: Int32) -> TestSocket {
        #if canImport(Glibc)
        let t = Int32(type)
        #else
        let t = type
        #endif
        return TestSocket(fd: socket(AF_INET, t, 0))
    }

    private func bindLoopback(port: Int) {
        var a = Self.loopback(port: port)
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }

    static func udp() -> TestSocket {
        let s = make(Int32(SOCK_DGRAM.rawValue))
        s.bindLoopback(port: 0)
        return s
    }

    static func tcpListener() -> TestSocket {
        let s = make(Int32(SOCK_STREAM.rawValue))
        s.bindLoopback(port: 0)
        listen(s.fd, 8)
        return s
    }

    static func tcpConnect(port: Int) throws -> TestSocket {
        let s = make(Int32(SOCK_STREAM.rawValue))
        var one: Int32 = 1
        setsockopt(s.fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var a = loopback(port: port)
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { throw TestTimeout(what: "connect to \(port) (errno \(errno))") }
        return s
    }

    var localPort: Int {
        var a = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: a.sin_port))
    }

    /// Accepts one connection; polls without blocking the cooperative thread pool.
    func acceptPeer(timeout: Double) async -> TestSocket? {
        guard await readable(timeout) else { return nil }
        let c = accept(fd, nil, nil)
        return c >= 0 ? TestSocket(fd: c) : nil
    }

    func write(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    func write(_ text: String) { write(Array(text.utf8)) }

    func sendTo(port: Int, _ bytes: [UInt8]) {
        var a = Self.loopback(port: port)
        _ = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
    }

    private func readableNow() -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) > 0
    }

    /// Waits until the socket is readable, sleeping between polls (tests run in parallel on a small
    /// cooperative pool; a blocking poll would starve the other tests' tasks).
    private func readable(_ timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if readableNow() { return true }
            if deadline.timeIntervalSinceNow <= 0 { return false }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
    }

    /// One read (datagram or stream chunk); nil on timeout; [] on EOF.
    func receive(timeout: Double) async -> [UInt8]? {
        guard await readable(timeout) else { return nil }
        var buf = [UInt8](repeating: 0, count: 70_000)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { return [] }
        return Array(buf[0..<n])
    }

    /// Reads a stream until `count` bytes arrived or the timeout/EOF.
    func receive(atLeast count: Int, timeout: Double) async -> [UInt8] {
        var out: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while out.count < count {
            let left = deadline.timeIntervalSinceNow
            guard left > 0, let chunk = await receive(timeout: left), !chunk.isEmpty else { break }
            out += chunk
        }
        return out
    }

    /// True when the peer closed the connection within `timeout`.
    func closedByPeer(timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            guard let chunk = await receive(timeout: deadline.timeIntervalSinceNow) else { return false }
            if chunk.isEmpty { return true }
        }
        return false
    }
}

/// Polls `condition` until it holds or the timeout passes.
func eventually(timeout: Double = 5, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if deadline.timeIntervalSinceNow <= 0 { return false }
        try? await Task.sleep(nanoseconds: 5_000_000)
    }
    return true
}

/// Collects everything the service yields.
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
    try p.run()
    while p.isRunning { try await Task.sleep(nanoseconds: 50_000_000) }
    return (p.terminationStatus, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
}
