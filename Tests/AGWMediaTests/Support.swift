import AGWMedia
import ALGTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One event loop group for the whole test target.
let testGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)

func makePlane(ports: Int = 8, verifyTimeout: Duration = .seconds(3), keyLog: String? = nil,
               perStream: Bool = false, maxBuffered: Int = 256 * 1024) throws -> MediaPlane {
    let base = LoopbackSocket.freePort(span: ports)
    var logger = Logger(label: "agw-media-test")
    logger.logLevel = .critical
    return try MediaPlane(configuration: MediaPlaneConfiguration(
        portRange: base...(base + ports - 1), certificatePerStream: perStream, tlsVerifyTimeout: verifyTimeout,
        connectTimeout: .seconds(2), maxBufferedBytes: maxBuffered, keyLogFile: keyLog), group: testGroup, logger: logger)
}

func key(_ t: String, context: UInt32 = 1) -> MediaTerminationKey { MediaTerminationKey(context: context, termination: t, stream: 1) }

/// Collects events from the plane.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [MediaEvent] = []
    private var task: Task<Void, Never>?

    init(_ plane: MediaPlane) {
        let stream = plane.events
        task = Task { [weak self] in for await e in stream { self?.append(e) } }
    }
    private func append(_ e: MediaEvent) { lock.lock(); items.append(e); lock.unlock() }
    var all: [MediaEvent] { lock.lock(); defer { lock.unlock() }; return items }
    func wait(timeout: Double = 5, _ match: @escaping (MediaEvent) -> Bool) async -> MediaEvent? {
        var found: MediaEvent?
        _ = await eventually(timeout: timeout) { found = self.all.first(where: match); return found != nil }
        return found
    }
}

/// A byte-collecting NIO peer (TLS or plain) for the tests.
final class PeerBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    private var closed = false
    private var error: String?
    func append(_ b: ByteBuffer) { lock.lock(); bytes += b.readableBytesView; lock.unlock() }
    func close() { lock.lock(); closed = true; lock.unlock() }
    func fail(_ e: String) { lock.lock(); error = e; lock.unlock() }
    var data: [UInt8] { lock.lock(); defer { lock.unlock() }; return bytes }
    var isClosed: Bool { lock.lock(); defer { lock.unlock() }; return closed }
    var failure: String? { lock.lock(); defer { lock.unlock() }; return error }
    func take(_ n: Int) -> [UInt8] { lock.lock(); defer { lock.unlock() }; let r = Array(bytes.prefix(n)); bytes.removeFirst(min(n, bytes.count)); return r }

    /// Waits until `needle` appears in the received bytes.
    func waitFor(_ needle: String, timeout: Double = 5) async -> Bool {
        await eventually(timeout: timeout) { String(decoding: self.data, as: UTF8.self).contains(needle) }
    }
}

final class CollectHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let buffer: PeerBuffer
    init(_ b: PeerBuffer) { buffer = b }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { buffer.append(unwrapInboundIn(data)) }
    func channelInactive(context: ChannelHandlerContext) { buffer.close(); context.fireChannelInactive() }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { buffer.fail("\(error)"); context.close(promise: nil) }
}

struct TestPeer {
    let channel: any Channel
    let buffer: PeerBuffer
    func send(_ s: String) async throws { try await channel.writeAndFlush(ByteBuffer(string: s)) }
}

/// A TLS configuration for a test UE using `identity`, that checks the gateway's certificate against `gateway`.
func ueTLS(_ identity: TLSIdentity, server: Bool, maxVersion: TLSVersion = .tlsv13) -> TLSConfiguration {
    var c: TLSConfiguration = server
        ? .makeServerConfiguration(certificateChain: [.certificate(identity.certificate)], privateKey: .privateKey(identity.privateKey))
        : .makeClientConfiguration()
    if !server {
        c.certificateChain = [.certificate(identity.certificate)]; c.privateKey = .privateKey(identity.privateKey)
    }
    c.certificateVerification = .noHostnameVerification
    c.trustRoots = .certificates([])
    c.maximumTLSVersion = maxVersion
    if maxVersion == .tlsv11 || maxVersion == .tlsv1 { c.minimumTLSVersion = .tlsv1 }
    return c
}

/// The UE's check of the gateway certificate (RFC 4975 §14.4: against the SDP fingerprint).
func fingerprintCheck(_ expected: CertificateFingerprint?) -> NIOSSLCustomVerificationCallback {
    { chain, promise in
        guard let expected, let der = try? chain.first?.toDERBytes(),
              CertificateFingerprint.of(der: der)?.bytes == expected.bytes else { promise.succeed(.failed); return }
        promise.succeed(.certificateVerified)
    }
}

func tlsConnect(port: Int, config: TLSConfiguration, expectGateway: CertificateFingerprint?) async throws -> TestPeer {
    let ctx = try NIOSSLContext(configuration: config)
    let buf = PeerBuffer()
    let ch = try await ClientBootstrap(group: testGroup)
        .channelInitializer { ch in
            ch.eventLoop.makeCompletedFuture {
                try ch.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: ctx, serverHostname: nil, customVerificationCallback: fingerprintCheck(expectGateway)))
                try ch.pipeline.syncOperations.addHandler(CollectHandler(buf))
            }
        }
        .connect(host: "127.0.0.1", port: port).get()
    return TestPeer(channel: ch, buffer: buf)
}

/// A TLS server UE (for the gateway-as-TLS-client case). Returns the listener and the buffer of the one accepted connection.
func tlsListen(config: TLSConfiguration, expectGateway: CertificateFingerprint?) async throws -> (listener: any Channel, accepted: PeerBuffer, channel: NIOLockedChannel) {
    let ctx = try NIOSSLContext(configuration: config)
    let buf = PeerBuffer()
    let holder = NIOLockedChannel()
    let l = try await ServerBootstrap(group: testGroup)
        .childChannelInitializer { ch in
            holder.set(ch)
            return ch.eventLoop.makeCompletedFuture {
                try ch.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: ctx, customVerificationCallback: fingerprintCheck(expectGateway)))
                try ch.pipeline.syncOperations.addHandler(CollectHandler(buf))
            }
        }
        .bind(host: "127.0.0.1", port: 0).get()
    return (l, buf, holder)
}

final class NIOLockedChannel: @unchecked Sendable {
    private let lock = NSLock()
    private var ch: (any Channel)?
    func set(_ c: any Channel) { lock.lock(); ch = c; lock.unlock() }
    var channel: (any Channel)? { lock.lock(); defer { lock.unlock() }; return ch }
}

// MARK: MSRP (RFC 4975 §7) framing for the peers

func msrpSend(_ tid: String, to: String, from: String, body: String) -> String {
    "MSRP \(tid) SEND\r\nTo-Path: \(to)\r\nFrom-Path: \(from)\r\nMessage-ID: m-\(tid)\r\nByte-Range: 1-\(body.utf8.count)/\(body.utf8.count)\r\nContent-Type: text/plain\r\n\r\n\(body)\r\n-------\(tid)$\r\n"
}

func msrpOK(_ tid: String, to: String, from: String) -> String {
    "MSRP \(tid) 200 OK\r\nTo-Path: \(to)\r\nFrom-Path: \(from)\r\n-------\(tid)$\r\n"
}

extension LoopbackSocket {
    /// Reads until `needle` arrives (or the timeout); returns all text read.
    func readUntil(_ needle: String, timeout: Double = 5) async -> String {
        var text = ""
        let deadline = Date().addingTimeInterval(timeout)
        while !text.contains(needle) {
            let left = deadline.timeIntervalSinceNow
            guard left > 0, let chunk = await receive(timeout: left), !chunk.isEmpty else { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        return text
    }
}

func runProcess(_ path: String, _ args: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = FileHandle.nullDevice
    try p.runWithSignalsUnblocked()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

#if canImport(Glibc)
import Glibc
#endif

extension LoopbackSocket {
    /// Closes both directions (FIN) while keeping the descriptor (the class closes it on deinit).
    func shutdownBoth() {
        #if canImport(Glibc)
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
        #endif
    }
}
