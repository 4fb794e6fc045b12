// Raw loopback sockets for the peer side of live tests (no SIP stack): copied from
// SIPTransportTests' TestSocket so every test target can use it.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

public struct LoopbackSocketError: Error, CustomStringConvertible {
    public var description: String
}

/// A blocking IPv4 loopback socket for the peer side of the tests (raw bytes, no SIP stack).
public final class LoopbackSocket: @unchecked Sendable {
    public let fd: Int32

    private init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    private static func loopback(port: Int) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return a
    }

    private static func make(_ type: Int32) -> LoopbackSocket {
        #if canImport(Glibc)
        let t = Int32(type)
        #else
        let t = type
        #endif
        return LoopbackSocket(fd: socket(AF_INET, t, 0))
    }

    private func bindLoopback(port: Int) {
        var a = Self.loopback(port: port)
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }

    public static func udp() -> LoopbackSocket {
        let s = make(Int32(SOCK_DGRAM.rawValue))
        s.bindLoopback(port: 0)
        return s
    }

    /// A UDP socket bound to `port`, nil when the port is taken.
    public static func udp(port: Int) -> LoopbackSocket? {
        let s = make(Int32(SOCK_DGRAM.rawValue))
        return s.bindLoopbackChecked(port: port) ? s : nil
    }

    /// A TCP listener bound to `port`, nil when the port is taken.
    public static func tcpListener(port: Int) -> LoopbackSocket? {
        let s = make(Int32(SOCK_STREAM.rawValue))
        var one: Int32 = 1
        setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard s.bindLoopbackChecked(port: port) else { return nil }
        listen(s.fd, 8)
        return s
    }

    private func bindLoopbackChecked(port: Int) -> Bool {
        var a = Self.loopback(port: port)
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    public static func tcpListener() -> LoopbackSocket {
        let s = make(Int32(SOCK_STREAM.rawValue))
        s.bindLoopback(port: 0)
        listen(s.fd, 8)
        return s
    }

    public static func tcpConnect(port: Int) throws -> LoopbackSocket {
        let s = make(Int32(SOCK_STREAM.rawValue))
        var one: Int32 = 1
        setsockopt(s.fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var a = loopback(port: port)
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { throw LoopbackSocketError(description: "connect to \(port) failed (errno \(errno))") }
        return s
    }

    public var localPort: Int {
        var a = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: a.sin_port))
    }

    /// Accepts one connection; polls without blocking the cooperative thread pool.
    public func acceptPeer(timeout: Double) async -> LoopbackSocket? {
        guard await readable(timeout) else { return nil }
        let c = accept(fd, nil, nil)
        return c >= 0 ? LoopbackSocket(fd: c) : nil
    }

    public func write(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    public func write(_ text: String) { write(Array(text.utf8)) }

    public func sendTo(port: Int, _ bytes: [UInt8]) {
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
    public func receive(timeout: Double) async -> [UInt8]? {
        guard await readable(timeout) else { return nil }
        var buf = [UInt8](repeating: 0, count: 70_000)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { return [] }
        return Array(buf[0..<n])
    }

    /// Reads a stream until `count` bytes arrived or the timeout/EOF.
    public func receive(atLeast count: Int, timeout: Double) async -> [UInt8] {
        var out: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while out.count < count {
            let left = deadline.timeIntervalSinceNow
            guard left > 0, let chunk = await receive(timeout: left), !chunk.isEmpty else { break }
            out += chunk
        }
        return out
    }

    /// Reads a stream until `done` finds what it waits for in the text so far (its result is returned), or
    /// until the timeout or EOF (then everything read is returned).
    public func receive(until done: (String) -> String?, timeout: Double) async -> String {
        var out: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0, let chunk = await receive(timeout: left), !chunk.isEmpty else { break }
            out += chunk
            if let found = done(String(decoding: out, as: UTF8.self)) { return found }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A SIP-style exchange on a new TCP connection to `port`: sends `text` with LF turned into CRLF, then
    /// reads until `done` (see `receive(until:timeout:)`). "" when the connection is refused.
    public static func tcpExchange(port: Int, _ text: String, timeout: Double, until done: (String) -> String?) async -> String {
        guard let s = try? tcpConnect(port: port) else { return "" }
        s.write(text.replacingOccurrences(of: "\n", with: "\r\n"))
        return await s.receive(until: done, timeout: timeout)
    }

    /// True when the peer closed the connection within `timeout`.
    public func closedByPeer(timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            guard let chunk = await receive(timeout: deadline.timeIntervalSinceNow) else { return false }
            if chunk.isEmpty { return true }
        }
        return false
    }
}


/// Polls `condition` until it holds or the timeout passes.
public func eventually(timeout: Double = 5, _ condition: () async -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while !(await condition()) {
        if deadline.timeIntervalSinceNow <= 0 { return false }
        try? await Task.sleep(nanoseconds: 5_000_000)
    }
    return true
}

extension LoopbackSocket {
    public static func canBindUDP(port: Int) -> Bool { udp(port: port) != nil }
    public static func canBindTCP(port: Int) -> Bool { tcpListener(port: port) != nil }

    /// A loopback port free for both UDP and TCP at the time of the call, with the `span - 1` ports after it
    /// free too (SIPp's `-mp` takes base..base+3 for audio and video RTP/RTCP). Taken below the kernel's
    /// ephemeral range (32768-60999) so that listeners bound to port 0 later (the proxy's, SIPp's) cannot be
    /// given it.
    public static func freePort(span: Int = 1) -> Int {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let p = Int.random(in: 20_000..<(32_000 - span), using: &rng)
            if (p..<(p + span)).allSatisfy({ canBindUDP(port: $0) && canBindTCP(port: $0) }) { return p }
        }
        return udp().localPort
    }
}
