// `pcscf-bench loop [calls] [--warmup N]`: the live proxy path over UDP in one process, for a stable
// instruction count under `valgrind --tool=callgrind` (which cannot run `pcscf-alg proxy`: it crashes
// in libdispatch's `_dispatch_sigsuspend` under the async main). The real `ProxyServer` (as
// `pcscf-alg proxy` starts it: UDP Gm + Mw listeners on 127.0.0.1, next hop = the harness UAS,
// log level warning) runs on its NIO event loop; the main thread is a blocking-socket UAC and UAS
// (plain POSIX UDP) that run calls of the SIPp `uac` shape through it, one after the other:
// INVITE -> 100 (from the proxy) -> 200 with SDP (UAS) -> ACK -> BYE -> 200. The UAS copies Via, From,
// To, Call-ID, CSeq and Record-Route as received (RFC 3261 §8.2.6.2, §12.1.1); the UAC's ACK and BYE
// carry the route set (the Record-Route of the 200, reversed, RFC 3261 §12.1.2).
//
// Prints µs per call (wall). Instructions per call of the proxy's thread(s): see Docs/benchmarks.md
// ("Session 9"): callgrind with --separate-threads=yes, two runs with different call counts, the
// difference of the non-main threads' totals divided by the difference of calls.
import Foundation
import Logging
import NIOCore
import ProxyRuntime
import SIPTransport
#if canImport(Glibc)
import Glibc
#endif

private enum LoopBenchLimits {
    static let defaultCalls = 2_000
    static let maxCalls = 10_000_000
    static let receiveTimeoutSeconds = 5
    static let datagramBytes = 65_535
    static let startTimeoutSeconds = 10
    static let maxServeSeconds = 3_600
}

/// A blocking UDP socket bound to 127.0.0.1 (ephemeral port).
private final class LoopSocket {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket: \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw BenchError("bind: \(errno)") }
        var tv = timeval(tv_sec: LoopBenchLimits.receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var local = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: local.sin_port))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8], to port: Int) {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// One datagram and its source port; nil on timeout.
    func receive() -> (text: String, port: Int)? {
        var buffer = [UInt8](repeating: 0, count: LoopBenchLimits.datagramBytes)
        var from = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = buffer.withUnsafeMutableBytes { b in
            withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, b.baseAddress, b.count, 0, $0, &len) }
            }
        }
        guard n > 0 else { return nil }
        return (String(decoding: buffer[0..<n], as: UTF8.self), Int(UInt16(bigEndian: from.sin_port)))
    }
}

/// The header lines of a SIP message text (no start line, no body).
private func headerLines(_ text: String) -> (start: String, lines: [Substring]) {
    let head = text.range(of: "\r\n\r\n").map { text[..<$0.lowerBound] } ?? text[...]
    let all = head.split(separator: "\r\n", omittingEmptySubsequences: false)
    return (String(all.first ?? ""), Array(all.dropFirst()))
}

private func headerName(_ line: Substring) -> Substring {
    line.prefix { $0 != ":" }.trimmingCharacters(in: .whitespaces).lowercased()[...]
}

private func headerValue(_ line: Substring) -> Substring {
    guard let c = line.firstIndex(of: ":") else { return "" }
    return line[line.index(after: c)...].drop { $0 == " " || $0 == "\t" }
}

func runLoopBench(_ arguments: [String]) {
    var calls = LoopBenchLimits.defaultCalls
    var warmup = 100
    var i = 0
    while i < arguments.count {
        switch arguments[i] {
        case "--warmup":
            i += 1
            guard i < arguments.count, let w = Int(arguments[i]), (0...LoopBenchLimits.maxCalls).contains(w) else {
                print("loop bench: --warmup needs a count"); return
            }
            warmup = w
        case "--serve":
            // `--serve SECONDS GM-PORT UAS-PORT`: the proxy alone, for an external load (SIPp) under callgrind
            // (scripts/bench-proxy-callgrind.sh): Gm on GM-PORT, Mw on GM-PORT+10, next hop the UAS.
            guard i + 3 < arguments.count, let seconds = Int(arguments[i + 1]), (1...LoopBenchLimits.maxServeSeconds).contains(seconds),
                  let gm = Int(arguments[i + 2]), (1_024...65_000).contains(gm),
                  let uas = Int(arguments[i + 3]), (1_024...65_535).contains(uas) else {
                print("loop bench: --serve needs SECONDS GM-PORT UAS-PORT"); return
            }
            do { try serveLoop(seconds: seconds, gmPort: gm, uasPort: uas) } catch { print("loop bench: \(error)") }
            return
        case "--help", "-h":
            print("usage: pcscf-bench loop [calls] [--warmup N]   (default \(LoopBenchLimits.defaultCalls) calls, 100 warm-up calls)\n"
                  + "       pcscf-bench loop --serve SECONDS GM-PORT UAS-PORT   (the proxy alone, for SIPp)")
            return
        default:
            guard let c = Int(arguments[i]), (1...LoopBenchLimits.maxCalls).contains(c) else {
                print("loop bench: unknown argument \(arguments[i])"); return
            }
            calls = c
        }
        i += 1
    }
    do {
        try runLoop(calls: calls, warmup: warmup)
    } catch {
        print("loop bench: \(error)")
    }
}

/// Starts the real `ProxyServer` as `pcscf-alg proxy` does (UDP Gm and Mw on 127.0.0.1, libosip2 check
/// on, log level warning, next hop the UAS) without `dispatchMain`, so that callgrind can run it.
private func startLoopServer(gmPort: Int, mwPort: Int, uasPort: Int) throws -> ProxyServer {
    var transport = SIPTransportConfiguration(listeners: [
        SIPListenerConfiguration(side: .gm, transport: .udp, host: "127.0.0.1", port: gmPort),
        SIPListenerConfiguration(side: .mw, transport: .udp, host: "127.0.0.1", port: mwPort),
    ], warningAgent: "pcscf-alg")
    transport.validatesWithLibOSIP2 = true
    let configuration = ProxyServerConfiguration(transport: transport, nextHop: "sip:127.0.0.1:\(uasPort);transport=udp",
                                                 idPrefix: "loop\(getpid())")
    var logger = Logger(label: "pcscf-bench.loop")
    logger.logLevel = .warning
    let server = ProxyServer(configuration: configuration, logger: logger)
    let started = DispatchSemaphore(value: 0)
    let failure = LoopStartResult()
    Task.detached {
        do { try await server.start() } catch { failure.set("\(error)") }
        started.signal()
    }
    guard started.wait(timeout: .now() + .seconds(LoopBenchLimits.startTimeoutSeconds)) == .success else { throw BenchError("proxy did not start") }
    if let error = failure.get() { throw BenchError("proxy start: \(error)") }
    return server
}

/// `--serve`: the proxy alone for `seconds`, then the process exits (the loop is left running, as below).
private func serveLoop(seconds: Int, gmPort: Int, uasPort: Int) throws {
    let server = try startLoopServer(gmPort: gmPort, mwPort: gmPort + 10, uasPort: uasPort)
    print("loop bench: serving on udp 127.0.0.1:\(gmPort) for \(seconds) s")
    fflush(nil)
    withExtendedLifetime(server) { _ = sleep(UInt32(seconds)) }
}

private func runLoop(calls: Int, warmup: Int) throws {
    let uac = try LoopSocket()
    let uas = try LoopSocket()
    let server = try startLoopServer(gmPort: 0, mwPort: 0, uasPort: uas.port)
    guard let gm = server.transport.listener(side: .gm, transport: .udp)?.port else { throw BenchError("no Gm listener") }

    var harness = LoopHarness(uac: uac, uas: uas, gmPort: gm)
    for c in 0..<warmup { guard harness.call(c) else { throw BenchError("warm-up call \(c) failed: \(harness.lastError)") } }
    let clock = ContinuousClock()
    var failed = 0
    let elapsed = clock.measure {
        for c in warmup..<(warmup + calls) where !harness.call(c) { failed += 1 }
    }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print("Loop (live ProxyServer over UDP, one process): \(calls) calls after \(warmup) warm-up, \(failed) failed"
          + (failed > 0 ? " (last: \(harness.lastError))" : ""))
    print("\(String(format: "%.2f", 1e6 * seconds / Double(calls))) µs per call (wall, UAC + UAS + proxy)")
    // The proxy's loop is left running (the process exits): shutting it down would add its own
    // instructions to the measured thread.
}

private final class LoopStartResult: @unchecked Sendable {
    private let lock = NSLock()
    private var error: String?
    func set(_ e: String) { lock.lock(); error = e; lock.unlock() }
    func get() -> String? { lock.lock(); defer { lock.unlock() }; return error }
}

/// The UAC and UAS of the SIPp `uac` / `uas_200only` scenarios, on blocking sockets.
private struct LoopHarness {
    let uac: LoopSocket
    let uas: LoopSocket
    let gmPort: Int
    var lastError = ""

    static let sdp = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

    init(uac: LoopSocket, uas: LoopSocket, gmPort: Int) { self.uac = uac; self.uas = uas; self.gmPort = gmPort }

    func request(_ method: String, call: Int, cseq: Int, branch: Int, toTag: String?, routes: [Substring], body: String) -> [UInt8] {
        let ct = body.isEmpty ? "" : "Content-Type: application/sdp\r\n"
        var text = "\(method) sip:service@127.0.0.1:\(uas.port) SIP/2.0\r\n"
            + "Via: SIP/2.0/UDP 127.0.0.1:\(uac.port);branch=z9hG4bK-\(uac.port)-\(call)-\(branch)\r\n"
        for r in routes { text += "Route: \(r)\r\n" }
        text += "From: sipp <sip:sipp@127.0.0.1:\(uac.port)>;tag=\(uac.port)SIPpTag00\(call)\r\n"
            + "To: service <sip:service@127.0.0.1:\(uas.port)>" + (toTag.map { ";tag=\($0)" } ?? "") + "\r\n"
            + "Call-ID: \(call)-\(uac.port)@127.0.0.1\r\nCSeq: \(cseq) \(method)\r\nContact: sip:sipp@127.0.0.1:\(uac.port)\r\n"
            + "Max-Forwards: 70\r\nSubject: Performance Test\r\n" + ct
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        return Array(text.utf8)
    }

    /// The UAS's 200: Via, From, To (tag added when absent), Call-ID, CSeq and Record-Route copied.
    func ok(to request: String, call: Int, body: String) -> [UInt8] {
        let (_, lines) = headerLines(request)
        var text = "SIP/2.0 200 OK\r\n"
        for line in lines {
            switch headerName(line) {
            case "via", "v", "from", "f", "call-id", "i", "cseq", "record-route": text += line + "\r\n"
            case "to", "t":
                text += line + (line.contains(";tag=") ? "" : ";tag=\(uas.port)SIPpTag01\(call)") + "\r\n"
            default: continue
            }
        }
        text += "Contact: <sip:127.0.0.1:\(uas.port);transport=UDP>\r\n"
        if !body.isEmpty { text += "Content-Type: application/sdp\r\n" }
        text += "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        return Array(text.utf8)
    }

    /// Reads on `socket` until a message whose start line begins with `prefix` and whose CSeq method is
    /// `method` (other messages, e.g. the 100, are skipped).
    mutating func expect(_ socket: LoopSocket, _ prefix: String, method: String) -> (text: String, port: Int)? {
        while let m = socket.receive() {
            let (start, lines) = headerLines(m.text)
            let cseq = lines.first { headerName($0) == "cseq" }.map(headerValue) ?? ""
            if start.hasPrefix(prefix), cseq.hasSuffix(" " + method) { return m }
        }
        lastError = "timeout waiting for \(prefix) (\(method))"
        return nil
    }

    mutating func call(_ call: Int) -> Bool {
        uac.send(request("INVITE", call: call, cseq: 1, branch: 1, toTag: nil, routes: [], body: Self.sdp), to: gmPort)
        guard let invite = expect(uas, "INVITE ", method: "INVITE") else { return false }
        uas.send(ok(to: invite.text, call: call, body: Self.sdp), to: invite.port)
        guard let answer = expect(uac, "SIP/2.0 200", method: "INVITE") else { return false }
        let (_, lines) = headerLines(answer.text)
        // RFC 3261 §12.1.2: the UAC's route set is the Record-Route of the 2xx, reversed.
        let routes = lines.filter { headerName($0) == "record-route" }.map(headerValue).reversed()
        let toTag = "\(uas.port)SIPpTag01\(call)"
        uac.send(request("ACK", call: call, cseq: 1, branch: 2, toTag: toTag, routes: Array(routes), body: ""), to: gmPort)
        guard expect(uas, "ACK ", method: "ACK") != nil else { return false }
        uac.send(request("BYE", call: call, cseq: 2, branch: 3, toTag: toTag, routes: Array(routes), body: ""), to: gmPort)
        guard let bye = expect(uas, "BYE ", method: "BYE") else { return false }
        uas.send(ok(to: bye.text, call: call, body: ""), to: bye.port)
        guard expect(uac, "SIP/2.0 200", method: "BYE") != nil else { return false }
        return true
    }
}
