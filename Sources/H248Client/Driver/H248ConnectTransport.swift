// MG-side stream transports: the gateway opens the association towards the MGC (TS 29.334 §5.12
// NOTE 1: the IMS-AGW always initiates). TCP with TPKT framing (H.248.1 Annex D.2, RFC 1006 §6),
// reusing the MGC side's `TPKTInboundHandler`; the peer argument of `send` is ignored: there is one
// connection, to the MGC. Additive to the listening transports of H248Transport.swift.

import Foundation
import NIOCore
import NIOPosix

/// TCP + TPKT, connected to the MGC.
public final class H248TCPConnectTransport: H248Transport {
    public let kind = H248TransportKind.tcp
    public let events: AsyncStream<H248TransportEvent>
    private let channel: any Channel
    private let continuation: AsyncStream<H248TransportEvent>.Continuation

    public var localAddress: SocketAddress? { channel.localAddress }
    public var remoteAddress: SocketAddress? { channel.remoteAddress }
    public var eventLoop: any EventLoop { channel.eventLoop }
    /// False once the MGC or the network closed the connection.
    public var isActive: Bool { channel.isActive }

    private init(channel: any Channel, events: AsyncStream<H248TransportEvent>, continuation: AsyncStream<H248TransportEvent>.Continuation) {
        self.channel = channel
        self.events = events
        self.continuation = continuation
    }

    /// Connects to `host:port` (optionally from `localHost:localPort`). Throws `.transportNotConnected`.
    public static func connect(host: String, port: Int, localHost: String? = nil, localPort: Int = 0,
                               group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                               timeout: TimeAmount = .seconds(5)) async throws -> H248TCPConnectTransport {
        let (stream, cont) = AsyncStream<H248TransportEvent>.makeStream(bufferingPolicy: .bufferingOldest(H248DriverLimits.inboundQueueLength))
        let registry = ConnectionRegistry()
        var bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(TPKTInboundHandler(continuation: cont, registry: registry))
                }
            }
        if let localHost {
            bootstrap = bootstrap.channelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(to: try SocketAddress.makeAddressResolvingHost(localHost, port: localPort))
        }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            cont.finish()
            throw H248ClientError(.transportNotConnected, "tcp connect \(host):\(port): \(error)")
        }
        return H248TCPConnectTransport(channel: channel, events: stream, continuation: cont)
    }

    public func send(_ message: [UInt8], to peer: SocketAddress) throws(H248ClientError) {
        guard channel.isActive else { throw H248ClientError(.transportNotConnected, "TCP connection to the MGC is closed") }
        let packet = try TPKT.encode(message)
        channel.writeAndFlush(channel.allocator.buffer(bytes: packet), promise: nil)
    }

    public func close() async {
        try? await channel.close().get()
        continuation.finish()
    }
}

/// SCTP (H.248.4, PPID 7), the MG initiating the association (TS 29.334 §5.12 NOTE 1). One
/// blocking reader thread through the same `pump` as the listening transport. A kernel without
/// SCTP makes `connect` throw `.sctpUnavailable` / `.sctpConnectFailed` with the cause named.
public final class H248SCTPConnectTransport: H248Transport, @unchecked Sendable {
    public let kind = H248TransportKind.sctp
    public let events: AsyncStream<H248TransportEvent>
    public let eventLoop: any EventLoop
    private let socket: SCTPSocket
    private let continuation: AsyncStream<H248TransportEvent>.Continuation
    private let peer: SocketAddress
    public var localAddress: SocketAddress? { socket.localAddress.flatMap { try? SocketAddress(ipAddress: $0.host, port: $0.port) } }

    private init(socket: SCTPSocket, peer: SocketAddress, eventLoop: any EventLoop,
                 events: AsyncStream<H248TransportEvent>, continuation: AsyncStream<H248TransportEvent>.Continuation) {
        self.socket = socket
        self.peer = peer
        self.eventLoop = eventLoop
        self.events = events
        self.continuation = continuation
    }

    public static func connect(host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws(H248ClientError) -> H248SCTPConnectTransport {
        if let missing = SCTPSocket.probeKernelSupport() { throw missing }
        let socket = try SCTPSocket.connect(host: host, port: port)
        guard let peer = try? SocketAddress(ipAddress: host, port: port) else {
            socket.close()
            throw H248ClientError(.invalidConfiguration, "sctp peer \(host):\(port) is not a numeric address")
        }
        let (stream, cont) = AsyncStream<H248TransportEvent>.makeStream(bufferingPolicy: .bufferingOldest(H248DriverLimits.inboundQueueLength))
        let t = H248SCTPConnectTransport(socket: socket, peer: peer, eventLoop: group.next(), events: stream, continuation: cont)
        let reader = Thread { [t] in
            let reason = H248SCTPTransport.pump(peer: peer, receive: { () throws(H248ClientError) in try socket.receive() },
                                                yield: { t.continuation.yield($0) })
            t.continuation.yield(.closed(peer, reason: reason))
        }
        reader.name = "h248-sctp-mg-read"
        reader.start()
        return t
    }

    public func send(_ message: [UInt8], to peer: SocketAddress) throws(H248ClientError) {
        try socket.send(try SCTPMessageFramer().encode(message))
    }

    public func close() async {
        socket.shutdown()
        continuation.finish()
    }
}
