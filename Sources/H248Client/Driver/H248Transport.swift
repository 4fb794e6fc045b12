// The I/O shell under the pure machines: one small transport protocol, with a UDP implementation
// (H.248.1 Annex D.1: one message per datagram) and a TCP one with TPKT framing (Annex D.2,
// RFC 1006 §6). On Iq the gateway (MG) initiates: the MGC binds and listens on both.

import NIOCore
import NIOPosix
import Synchronization

/// Something the transport saw. Messages are raw H.248 text; the client decodes them.
public enum H248TransportEvent: Sendable {
    /// One complete H.248 message (a datagram, or one TPKT packet's payload).
    case message([UInt8], from: SocketAddress)
    /// A stream connection from this peer closed (TCP only).
    case closed(SocketAddress, reason: String)
    /// Input refused before decoding (truncated datagram, bad TPKT header); the message is dropped.
    case inputError(H248ClientError, from: SocketAddress?)
}

/// Bounds of the driver (house rule: no unbounded allocation on network input).
public enum H248DriverLimits {
    /// Inbound events queued between the event loop and the client actor. Beyond it, datagrams
    /// are dropped (UDP loss, recovered by retransmission, Annex D.1.2).
    public static let inboundQueueLength = 4_096
    /// Simultaneous TCP connections accepted on the listening socket (one gateway needs one).
    public static let maximumStreamConnections = 64
}

/// One H.248 transport bound to a local address (MGC side).
public protocol H248Transport: AnyObject, Sendable {
    var kind: H248TransportKind { get }
    /// The bound local address (port resolved when 0 was asked for).
    var localAddress: SocketAddress? { get }
    /// The loop that runs the sockets; the client schedules its timers on it.
    var eventLoop: any EventLoop { get }
    /// Inbound messages and connection events, in arrival order.
    var events: AsyncStream<H248TransportEvent> { get }
    /// Sends one encoded H.248 message to `peer` (fire and forget; loss is the transaction layer's job).
    func send(_ message: [UInt8], to peer: SocketAddress) throws(H248ClientError)
    func close() async
}

/// `udp:HOST:PORT` / `tcp:HOST:PORT` as given on command lines.
public struct H248ListenAddress: Sendable, Hashable, CustomStringConvertible {
    public var kind: H248TransportKind
    public var host: String
    public var port: Int

    public init(kind: H248TransportKind, host: String, port: Int) {
        self.kind = kind
        self.host = host
        self.port = port
    }

    /// Parses `[udp:|tcp:|sctp:]host:port`; IPv6 hosts in brackets (`udp:[::1]:2944`).
    public init(parsing text: String) throws(H248ClientError) {
        var rest = Substring(text)
        var kind = H248TransportKind.udp
        if let colon = rest.firstIndex(of: ":"), let k = H248TransportKind(rawValue: String(rest[..<colon]).lowercased()) {
            kind = k
            rest = rest[rest.index(after: colon)...]
        }
        guard let lastColon = rest.lastIndex(of: ":"),
              let port = Int(rest[rest.index(after: lastColon)...]), (0...65_535).contains(port) else {
            throw H248ClientError(.invalidConfiguration, "listen address '\(text)': expected [udp:|tcp:|sctp:]host:port")
        }
        var host = String(rest[..<lastColon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw H248ClientError(.invalidConfiguration, "listen address '\(text)': empty host") }
        self.init(kind: kind, host: host, port: port)
    }

    public var description: String { "\(kind.rawValue):\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}

extension H248ClientError.Code {
    public static let transportNotConnected = H248ClientError.Code("transport.notConnected")
    public static let transportBindFailed = H248ClientError.Code("transport.bindFailed")
}

/// Opens the transport of `address.kind`. SCTP (H.248.4, libsctp) fails at once with
/// `.sctpUnavailable` and a message naming the cause where the kernel lacks it (platform-notes §6).
public func openH248Transport(
    _ address: H248ListenAddress, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, datagramPolicy: H248DatagramPolicy = .init()
) async throws -> any H248Transport {
    switch address.kind {
    case .udp: return try await H248UDPTransport.bind(host: address.host, port: address.port, group: group, policy: datagramPolicy)
    case .tcp: return try await H248TCPTransport.listen(host: address.host, port: address.port, group: group)
    case .sctp: return try H248SCTPTransport.listen(host: address.host, port: address.port, group: group)
    }
}

// MARK: - UDP

/// UDP: one H.248 message per datagram (H.248.1 Annex D.1). The receive allocator is 64 KiB:
/// NIO's default 2 KiB truncates larger datagrams silently (platform-notes §3.1).
public final class H248UDPTransport: H248Transport {
    public let kind = H248TransportKind.udp
    public let policy: H248DatagramPolicy
    public let events: AsyncStream<H248TransportEvent>
    private let channel: any Channel
    private let continuation: AsyncStream<H248TransportEvent>.Continuation

    public var localAddress: SocketAddress? { channel.localAddress }
    public var eventLoop: any EventLoop { channel.eventLoop }

    private init(channel: any Channel, policy: H248DatagramPolicy,
                 events: AsyncStream<H248TransportEvent>, continuation: AsyncStream<H248TransportEvent>.Continuation) {
        self.channel = channel
        self.policy = policy
        self.events = events
        self.continuation = continuation
    }

    public static func bind(host: String, port: Int, group: any EventLoopGroup, policy: H248DatagramPolicy = .init()) async throws -> H248UDPTransport {
        let (stream, cont) = AsyncStream<H248TransportEvent>.makeStream(bufferingPolicy: .bufferingOldest(H248DriverLimits.inboundQueueLength))
        let bufferSize = H248DatagramPolicy.recommendedReceiveBufferSize
        let channel: any Channel
        do {
            channel = try await DatagramBootstrap(group: group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: bufferSize))
                .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(H248DatagramPolicy.recommendedSocketReceiveBufferSize))
                .channelInitializer { ch in
                    ch.eventLoop.makeCompletedFuture {
                        try ch.pipeline.syncOperations.addHandler(
                            UDPInboundHandler(continuation: cont, policy: policy, receiveBufferSize: bufferSize))
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            cont.finish()
            throw H248ClientError(.transportBindFailed, "udp bind \(host):\(port): \(error)")
        }
        return H248UDPTransport(channel: channel, policy: policy, events: stream, continuation: cont)
    }

    public func send(_ message: [UInt8], to peer: SocketAddress) throws(H248ClientError) {
        try policy.checkOutgoing(messageLength: message.count)
        let buffer = channel.allocator.buffer(bytes: message)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: peer, data: buffer), promise: nil)
    }

    public func close() async {
        try? await channel.close().get()
        continuation.finish()
    }
}

final class UDPInboundHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let continuation: AsyncStream<H248TransportEvent>.Continuation
    let policy: H248DatagramPolicy
    let receiveBufferSize: Int

    init(continuation: AsyncStream<H248TransportEvent>.Continuation, policy: H248DatagramPolicy, receiveBufferSize: Int) {
        self.continuation = continuation
        self.policy = policy
        self.receiveBufferSize = receiveBufferSize
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        do throws(H248ClientError) {
            try policy.checkIncoming(datagramLength: envelope.data.readableBytes, receiveBufferSize: receiveBufferSize)
        } catch {
            continuation.yield(.inputError(error, from: envelope.remoteAddress))
            return
        }
        continuation.yield(.message(Array(envelope.data.readableBytesView), from: envelope.remoteAddress))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and the like surface here on a UDP socket; keep the socket open.
    }
}

// MARK: - TCP + TPKT

/// TCP with TPKT framing (RFC 1006 §6, H.248.1 Annex D.2). Listens; the gateway connects. Replies
/// go back on the connection the peer's address names.
public final class H248TCPTransport: H248Transport {
    public let kind = H248TransportKind.tcp
    public let events: AsyncStream<H248TransportEvent>
    private let serverChannel: any Channel
    private let continuation: AsyncStream<H248TransportEvent>.Continuation
    private let connections: ConnectionRegistry

    public var localAddress: SocketAddress? { serverChannel.localAddress }
    public var eventLoop: any EventLoop { serverChannel.eventLoop }

    private init(serverChannel: any Channel, connections: ConnectionRegistry,
                 events: AsyncStream<H248TransportEvent>, continuation: AsyncStream<H248TransportEvent>.Continuation) {
        self.serverChannel = serverChannel
        self.connections = connections
        self.events = events
        self.continuation = continuation
    }

    public static func listen(host: String, port: Int, group: any EventLoopGroup) async throws -> H248TCPTransport {
        let (stream, cont) = AsyncStream<H248TransportEvent>.makeStream(bufferingPolicy: .bufferingOldest(H248DriverLimits.inboundQueueLength))
        let registry = ConnectionRegistry()
        let server: any Channel
        do {
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { ch in
                    ch.eventLoop.makeCompletedFuture {
                        try ch.pipeline.syncOperations.addHandler(TPKTInboundHandler(continuation: cont, registry: registry))
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            cont.finish()
            throw H248ClientError(.transportBindFailed, "tcp listen \(host):\(port): \(error)")
        }
        return H248TCPTransport(serverChannel: server, connections: registry, events: stream, continuation: cont)
    }

    public func send(_ message: [UInt8], to peer: SocketAddress) throws(H248ClientError) {
        guard let channel = connections.channel(for: peer) else {
            throw H248ClientError(.transportNotConnected, "no TCP connection from \(peer)")
        }
        let packet = try TPKT.encode(message)
        channel.writeAndFlush(channel.allocator.buffer(bytes: packet), promise: nil)
    }

    public func close() async {
        for ch in connections.all() { try? await ch.close().get() }
        try? await serverChannel.close().get()
        continuation.finish()
    }
}

/// Open TCP connections by remote address (written on the loop, read from the client actor).
final class ConnectionRegistry: Sendable {
    private let map = Mutex<[SocketAddress: any Channel]>([:])

    func add(_ address: SocketAddress, _ channel: any Channel) -> Bool {
        map.withLock { m in
            guard m.count < H248DriverLimits.maximumStreamConnections else { return false }
            m[address] = channel
            return true
        }
    }
    func remove(_ address: SocketAddress) { _ = map.withLock { $0.removeValue(forKey: address) } }
    func channel(for address: SocketAddress) -> (any Channel)? { map.withLock { $0[address] } }
    func all() -> [any Channel] { map.withLock { Array($0.values) } }
}

/// Splits the byte stream into TPKT packets with the pure `TPKTDecoder`; a framing error closes
/// the connection (RFC 1006 gives no way to resynchronise).
final class TPKTInboundHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let continuation: AsyncStream<H248TransportEvent>.Continuation
    let registry: ConnectionRegistry
    private var decoder = TPKTDecoder()
    private var peer: SocketAddress?

    init(continuation: AsyncStream<H248TransportEvent>.Continuation, registry: ConnectionRegistry) {
        self.continuation = continuation
        self.registry = registry
    }

    func channelActive(context: ChannelHandlerContext) {
        guard let remote = context.channel.remoteAddress, registry.add(remote, context.channel) else {
            context.close(promise: nil)
            return
        }
        peer = remote
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let peer else { return }
        do throws(H248ClientError) {
            for packet in try decoder.feed(buffer.readableBytesView) {
                continuation.yield(.message(packet, from: peer))
            }
        } catch {
            continuation.yield(.inputError(error, from: peer))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let peer {
            registry.remove(peer)
            continuation.yield(.closed(peer, reason: "TCP connection closed"))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

extension H248Transport {
    /// The bound local port (resolved when port 0 was asked for).
    public var localPort: Int? { localAddress?.port }
}
