// `pcscf-bench agw [--mib N] [--streams 1,100] [--pings N]`: the IMS-AGW media plane (AGWMedia).
// TLS-to-TCP relay through `MediaPlane` (TLS client → access termination → core termination →
// plain TCP server), for 1 and 100 concurrent streams: throughput (MB/s) and the round-trip time
// of a small ping-pong (p50/p99). Compared in the same run with
//   - a direct NIOSSL TLS client → TLS server transfer on loopback (the TLS ceiling), and
//   - a plain TCP relay through `socat` (the no-TLS relay ceiling), when socat is on PATH.
// Added latency = relay p50 − direct TLS p50.
import Dispatch
import Foundation
import AGWMedia
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// Ports for the socat relays, never reused within a run.
private final class SocatPorts: @unchecked Sendable {
    static let shared = SocatPorts()
    private let lock = NSLock()
    private var next = 44000
    func take(_ n: Int) -> Int { lock.lock(); defer { next += n; lock.unlock() }; return next }
}

private enum AGWBenchLimits {
    static let chunk = 64 * 1024
    static let pingBytes = 64
    static let runTimeout: Duration = .seconds(120)
    static let maxStreams = 1000
}

/// Bytes received by a sink, polled by the driver.
private final class ByteCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add(_ k: Int) { lock.lock(); n += k; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
    func reset() { lock.lock(); n = 0; lock.unlock() }
}

/// The core-side server: counts (discard) or echoes every byte.
private final class SinkHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let counter: ByteCounter
    let echo: Bool
    init(counter: ByteCounter, echo: Bool) { self.counter = counter; self.echo = echo }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let b = unwrapInboundIn(data)
        counter.add(b.readableBytes)
        if echo { context.write(data, promise: nil) }
    }
    func channelReadComplete(context: ChannelHandlerContext) { if echo { context.flush() } }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// Writes `total` bytes as fast as the channel accepts them (starts after the TLS handshake, if any).
private final class BulkSender: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    var remaining: Int
    let tls: Bool
    var started = false
    let chunk: ByteBuffer
    init(total: Int, tls: Bool) {
        remaining = total; self.tls = tls
        chunk = ByteBuffer(repeating: 0x5A, count: AGWBenchLimits.chunk)
    }
    func channelActive(context: ChannelHandlerContext) {
        if !tls { started = true; pump(context) }
        context.fireChannelActive()
    }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? TLSUserEvent, case .handshakeCompleted = e { started = true; pump(context) }
        context.fireUserInboundEventTriggered(event)
    }
    func channelWritabilityChanged(context: ChannelHandlerContext) { pump(context); context.fireChannelWritabilityChanged() }
    func pump(_ context: ChannelHandlerContext) {
        guard started else { return }
        var wrote = false
        while remaining > 0 && context.channel.isWritable {
            let n = min(remaining, chunk.readableBytes)
            context.write(wrapOutboundOut(chunk.getSlice(at: 0, length: n)!), promise: nil)
            remaining -= n; wrote = true
        }
        if wrote { context.flush() }
    }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// Sends `count` pings of `pingBytes`, each after the previous echo came back; records RTTs.
private final class PingPong: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let count: Int
    let tls: Bool
    let done: EventLoopPromise<[Double]>
    var rtts: [Double] = []
    var got = 0
    var sentAt = NIODeadline.now()
    init(count: Int, tls: Bool, done: EventLoopPromise<[Double]>) { self.count = count; self.tls = tls; self.done = done }
    func channelActive(context: ChannelHandlerContext) { if !tls { ping(context) }; context.fireChannelActive() }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? TLSUserEvent, case .handshakeCompleted = e { ping(context) }
        context.fireUserInboundEventTriggered(event)
    }
    func ping(_ context: ChannelHandlerContext) {
        sentAt = .now()
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(repeating: 0x50, count: AGWBenchLimits.pingBytes)), promise: nil)
    }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        got += unwrapInboundIn(data).readableBytes
        if got >= AGWBenchLimits.pingBytes {
            got -= AGWBenchLimits.pingBytes
            rtts.append(Double((NIODeadline.now() - sentAt).nanoseconds) / 1000)
            if rtts.count >= count { done.succeed(rtts) } else { ping(context) }
        }
    }
    func channelInactive(context: ChannelHandlerContext) { done.succeed(rtts) }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

private struct BenchOptions {
    var mib = 256
    var streams = [1, 100]
    var pings = 2000
}

func runAGWBench(_ arguments: [String]) {
    var o = BenchOptions()
    var i = 0
    while i < arguments.count {
        let a = arguments[i], v = i + 1 < arguments.count ? arguments[i + 1] : ""
        switch a {
        case "--mib": o.mib = max(1, Int(v) ?? o.mib); i += 2
        case "--streams": o.streams = v.split(separator: ",").compactMap { Int($0) }.filter { $0 >= 1 && $0 <= AGWBenchLimits.maxStreams }; i += 2
        case "--pings": o.pings = max(10, Int(v) ?? o.pings); i += 2
        case "--msrp-rewriter": runMSRPRewriterBench(); return
        default:
            agwSay("usage: pcscf-bench agw [--mib 256] [--streams 1,100] [--pings 2000] | agw --msrp-rewriter"); return
        }
    }
    let sem = DispatchSemaphore(value: 0)
    Task {
        do { try await AGWBench(options: o).run() } catch { agwSay("agw bench failed: \(error)") }
        sem.signal()
    }
    sem.wait()
}

private struct Result { var mbps: Double; var p50: Double; var p99: Double }

private struct AGWBench {
    let options: BenchOptions
    let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)

    func run() async throws {
        let client = try TLSIdentity.generate(commonName: "bench-ue")
        let server = try TLSIdentity.generate(commonName: "bench-server")
        var cc = TLSConfiguration.makeClientConfiguration()
        cc.certificateChain = [.certificate(client.certificate)]; cc.privateKey = .privateKey(client.privateKey)
        cc.certificateVerification = .none
        let clientCtx = try NIOSSLContext(configuration: cc)
        var sc = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(server.certificate)], privateKey: .privateKey(server.privateKey))
        sc.certificateVerification = .none
        let serverCtx = try NIOSSLContext(configuration: sc)

        agwSay("pcscf-bench agw: \(System.coreCount) cores, \(options.mib) MiB per run, ping \(AGWBenchLimits.pingBytes) B")
        let socat = findSocat()
        if socat == nil { agwSay("  (socat not on PATH: no plain TCP relay ceiling)") }
        for n in options.streams {
            let pings = max(10, options.pings / n)
            let relay = try await measure(n, pings: pings, tls: clientCtx) { echo, sinkPort, count in
                try await relayPorts(count: count, sinkPort: sinkPort, clientFP: client.fingerprint)
            } sinkTLS: { nil }
            let direct = try await measure(n, pings: pings, tls: clientCtx) { _, sinkPort, count in
                (Array(repeating: sinkPort, count: count), {})
            } sinkTLS: { serverCtx }
            var plain: Result?
            if let socat {
                plain = try await measure(n, pings: pings, tls: nil) { _, sinkPort, count in
                    try socatRelay(socat, sinkPort: sinkPort, count: count)
                } sinkTLS: { nil }
            }
            agwSay("\n  \(n) stream(s)                    MB/s   RTT p50 µs  p99 µs")
            line("MediaPlane TLS→TCP relay", relay)
            line("direct TLS (ceiling)", direct)
            if let plain { line("socat TCP relay (no TLS)", plain) }
            agwSay(String(format: "  relay/direct throughput %.2f; added latency p50 %.0f µs, p99 %.0f µs",
                         relay.mbps / max(direct.mbps, 0.001), relay.p50 - direct.p50, relay.p99 - direct.p99))
            if let plain { agwSay(String(format: "  relay/socat throughput %.2f", relay.mbps / max(plain.mbps, 0.001))) }
        }
        try await group.shutdownGracefully()
    }

    func line(_ name: String, _ r: Result) {
        agwSay(String(format: "  %-30@ %8.1f %11.0f %7.0f", name as NSString, r.mbps, r.p50, r.p99))
    }

    /// Runs the throughput phase and the ping-pong phase against a fresh sink.
    /// `ports(echo, sinkPort, count)` returns the port each client connects to and a cleanup.
    func measure(_ n: Int, pings: Int, tls: NIOSSLContext?,
                 ports: (Bool, Int, Int) async throws -> ([Int], () async -> Void),
                 sinkTLS: () -> NIOSSLContext?) async throws -> Result {
        // Throughput.
        let counter = ByteCounter()
        let sink = try await startSink(counter: counter, echo: false, tls: sinkTLS())
        let (targets, cleanup) = try await ports(false, sink.localAddress!.port!, n)
        let perStream = options.mib * 1024 * 1024 / n
        let total = perStream * n
        let start = ContinuousClock.now
        var clients: [any Channel] = []
        for p in targets {
            clients.append(try await connect(port: p, tls: tls) { BulkSender(total: perStream, tls: tls != nil) })
        }
        let deadline = start + AGWBenchLimits.runTimeout
        while counter.value < total && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
        let secs = (ContinuousClock.now - start) / .seconds(1)
        let mbps = Double(counter.value) / 1_000_000 / secs
        for c in clients { try? await c.close() }
        await cleanup()
        try? await sink.close()

        // Ping-pong.
        let echoSink = try await startSink(counter: ByteCounter(), echo: true, tls: sinkTLS())
        let (targets2, cleanup2) = try await ports(true, echoSink.localAddress!.port!, n)
        var futures: [EventLoopFuture<[Double]>] = []
        var pingClients: [any Channel] = []
        for p in targets2 {
            let promise = group.next().makePromise(of: [Double].self)
            pingClients.append(try await connect(port: p, tls: tls) { PingPong(count: pings, tls: tls != nil, done: promise) })
            futures.append(promise.futureResult)
        }
        var rtts: [Double] = []
        for f in futures { rtts += try await f.get() }
        for c in pingClients { try? await c.close() }
        await cleanup2()
        try? await echoSink.close()
        rtts.sort()
        func pct(_ q: Double) -> Double { rtts.isEmpty ? .nan : rtts[min(rtts.count - 1, Int(Double(rtts.count) * q))] }
        return Result(mbps: mbps, p50: pct(0.50), p99: pct(0.99))
    }

    func startSink(counter: ByteCounter, echo: Bool, tls: NIOSSLContext?) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    if let tls { try ch.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try ch.pipeline.syncOperations.addHandler(SinkHandler(counter: counter, echo: echo))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func connect(port: Int, tls: NIOSSLContext?, _ make: @escaping @Sendable () -> some ChannelHandler) async throws -> any Channel {
        try await ClientBootstrap(group: group)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    if let tls { try ch.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                    try ch.pipeline.syncOperations.addHandler(make())
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
    }

    /// A fresh MediaPlane with `count` access (TLS, passive) / core (TCP, active → sink) pairs in proxy mode.
    func relayPorts(count: Int, sinkPort: Int, clientFP: CertificateFingerprint) async throws -> ([Int], () async -> Void) {
        var logger = Logger(label: "agw-bench"); logger.logLevel = .error
        let base = 42000
        let plane = try MediaPlane(configuration: MediaPlaneConfiguration(portRange: base...(base + 2 * count + 16)), group: group, logger: logger)
        var ports: [Int] = []
        for s in 0..<count {
            let a = MediaTerminationKey(context: UInt32(s + 1), termination: "access"), c = MediaTerminationKey(context: UInt32(s + 1), termination: "core")
            let la = try await plane.allocate(MediaAllocation(key: a, transport: .tls, bindHost: "127.0.0.1", setup: .passive, wantsFingerprint: true))
            _ = try await plane.allocate(MediaAllocation(key: c, transport: .tcp, bindHost: "127.0.0.1", setup: .active))
            try await plane.configure(a, remote: MediaRemote(host: "127.0.0.1", port: 9, fingerprint: clientFP), establishTLS: nil)
            try await plane.configure(c, remote: MediaRemote(host: "127.0.0.1", port: sinkPort), establishTLS: nil)
            try await plane.interconnect(a, c, mode: .proxy)
            ports.append(la.port)
        }
        return (ports, { await plane.shutdown() })
    }

    func findSocat() -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let p = "\(dir)/socat"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// One `socat TCP-LISTEN:p TCP:sink` per stream (no fork: each exits when its connection ends, so
    /// no child keeps a listening socket); every client connects to its own port.
    func socatRelay(_ socat: String, sinkPort: Int, count: Int) throws -> ([Int], () async -> Void) {
        let base = SocatPorts.shared.take(count)
        var procs: [Process] = []
        for i in 0..<count {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: socat)
            p.arguments = ["TCP-LISTEN:\(base + i),bind=127.0.0.1,reuseaddr", "TCP:127.0.0.1:\(sinkPort),nodelay"]
            p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
            try p.run()
            procs.append(p)
        }
        // Wait until the last one listens (probing would consume the single accept, so sleep instead).
        usleep(300_000)
        return (Array(base..<(base + count)), {
            try? await Task.sleep(for: .milliseconds(50))
            for p in procs where p.isRunning { p.terminate() }
            for p in procs { p.waitUntilExit() }
        })
    }
}

/// print + flush (the output is often piped through tee).
private func agwSay(_ s: String) { print(s); fflush(nil) }

/// `pcscf-bench agw --msrp-rewriter`: the pure application-aware MSRP framer/rewriter (seed 003) alone,
/// MB/s and messages/s for SEND chunks of several body sizes fed in 16 KiB reads (what one relay read
/// delivers), against a plain copy of the same bytes (what the agnostic relay costs at most).
private func runMSRPRewriterBench() {
    let rule = MSRPPathRewrite(toPath: MSRPAuthority(scheme: "msrp", host: "198.51.100.7", port: 7654),
                               fromPath: MSRPAuthority(scheme: "msrp", host: "198.51.100.1", port: 40002))
    agwSay("| body bytes | rewriter MB/s | rewriter msg/s | plain copy MB/s |")
    agwSay("|---:|---:|---:|---:|")
    for body in [100, 2048, 65536] {
        let text = String(repeating: "x", count: body)
        var one = "MSRP a1b2c3d4 SEND\r\nTo-Path: msrps://192.0.2.1:40001/kjh34;tcp\r\nFrom-Path: msrps://10.1.1.10:50000/u8kd2;tcp\r\n"
        one += "Message-ID: m1\r\nByte-Range: 1-\(body)/\(body)\r\nContent-Type: text/plain\r\n\r\n\(text)\r\n-------a1b2c3d4$\r\n"
        let perBatch = max(1, (8 << 20) / one.utf8.count)
        let stream = Array(String(repeating: one, count: perBatch).utf8)
        let reads = stride(from: 0, to: stream.count, by: 16384).map { Array(stream[$0..<min($0 + 16384, stream.count)]) }
        var r = MSRPPathRewriter(rule: rule)
        var out = 0
        let start = ContinuousClock.now
        for read in reads { out += (try? r.feed(read).count) ?? 0 }
        let d = ContinuousClock.now - start
        let secs = max(1e-9, Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        var copied = 0
        let cstart = ContinuousClock.now
        for read in reads { var c = [UInt8](); c.reserveCapacity(read.count); c += read; copied += c.count }
        let cd = ContinuousClock.now - cstart
        let csecs = max(1e-9, Double(cd.components.seconds) + Double(cd.components.attoseconds) / 1e18)
        agwSay(String(format: "| %d | %.1f | %.0f | %.1f |", body, Double(stream.count) / secs / 1e6, Double(r.messages) / secs,
                      Double(copied) / csecs / 1e6))
        if out == 0 || r.messages != perBatch { agwSay("rewriter lost messages: \(r.messages) of \(perBatch)") }
    }
}
