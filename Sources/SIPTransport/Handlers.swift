import NIOCore
import NIOSSL
import NIOTLS  // TLSUserEvent (swift-nio product, a dependency of NIOSSL)
import SIPCore

/// One UDP listener: each datagram is one message (RFC 3261 §18.1.2 / §18.2.1).
final class SIPDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let service: SIPTransportService
    private let listener: Int
    private let side: SIPSide
    /// The last peer and its address text (`SocketAddress.ipAddress` formats it with inet_ntop each time;
    /// most datagrams come from the same few peers).
    private var lastRemote: SocketAddress?
    private var lastRemoteIP: String?
    /// The listener's bound address (a bound UDP socket's address does not change).
    private var local: SocketAddress?

    init(service: SIPTransportService, listener: Int, side: SIPSide) {
        self.service = service; self.listener = listener; self.side = side
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        service.beginReadBurst(on: context.eventLoop)
        let envelope = unwrapInboundIn(data)
        let remote = envelope.remoteAddress
        let bytes = Array(envelope.data.readableBytesView)
        if local == nil { local = context.channel.localAddress }
        let local = self.local ?? remote
        if lastRemote != remote {
            lastRemote = remote
            lastRemoteIP = remote.ipAddress
        }
        service.process(bytes, side: side, transport: .udp, local: local, remote: remote, remoteIP: lastRemoteIP,
                        flow: SIPFlowToken(.datagram(listener: listener, remote: remote))) { answer in
            context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: answer))), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and similar per-datagram errors must not close the listener.
    }
}

/// One stream connection (TCP, or TLS with an NIOSSL handler in front of it): SIPCore's pure `SIPStreamFramer` cuts
/// messages (RFC 3261 §18.3) and keep-alives (RFC 5626 §3.5.1); the framer's bounds are the
/// per-connection buffer limit.
final class SIPStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let service: SIPTransportService
    private let connectionID: UInt64
    private let side: SIPSide
    private let transport: SIPTransportKind
    private var framer: SIPStreamFramer
    /// The bytes the framer holds but has not returned yet (mirrored, same bound as the framer's
    /// buffer), so a request that fails framing can still be answered from its head.
    private var pending: [UInt8] = []
    private var pendingStart = 0
    /// Set once the connection failed framing; later reads are ignored until it closes.
    private var closing = false
    /// TLS: set when NIOSSL reports the handshake done; a TLS connection that ends without it is
    /// counted in `tlsHandshakeFailures`.
    private var handshakeDone = false

    init(service: SIPTransportService, connectionID: UInt64, side: SIPSide, transport: SIPTransportKind, limits: SIPParseLimits) {
        self.service = service; self.connectionID = connectionID; self.side = side; self.transport = transport
        framer = SIPStreamFramer(limits: limits)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        service.beginReadBurst(on: context.eventLoop)
        let buffer = unwrapInboundIn(data)
        framer.append(buffer.readableBytesView)
        if pendingStart > 0, pendingStart * 2 >= pending.count {
            pending.removeSubrange(0..<pendingStart); pendingStart = 0
        }
        pending.append(contentsOf: buffer.readableBytesView)
        let flow = SIPFlowToken(.connection(connectionID))
        while context.channel.isActive {
            let frame: SIPStreamFramer.Frame?
            do {
                frame = try framer.next()
            } catch {
                // RFC 3261 §18.3: the stream cannot be re-synchronised; answer the request when its
                // head allows (e.g. 400 for a missing Content-Length), then close the connection.
                closing = true
                let head = pendingStart < pending.count ? Array(pending[pendingStart...]) : []
                if let answer = service.answerForFramingError(error, head: head) {
                    service.count { $0.framingErrors += 1; $0.malformedAnswered += 1; $0.messagesSent += 1 }
                    let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: answer))).whenComplete { _ in bound.value.close(promise: nil) }
                } else {
                    service.count { $0.framingErrors += 1; $0.malformedDropped += 1 }
                    context.close(promise: nil)
                }
                pending = []; pendingStart = 0
                return
            }
            guard let frame else { return }
            switch frame {
            case .message(let bytes):
                pendingStart += bytes.count
                guard let remote = context.channel.remoteAddress, let local = context.channel.localAddress else { return }
                service.process(bytes, side: side, transport: transport, local: local, remote: remote, flow: flow) { answer in
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: answer)), promise: nil)
                }
            case .ping:
                pendingStart += 4
                // RFC 5626 §3.5.1: answer a CRLFCRLF ping with a CRLF pong.
                service.count { $0.keepAlivePings += 1 }
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: SIPStreamFramer.pong)), promise: nil)
            case .pong:
                pendingStart += 2
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent {
            handshakeDone = true
            context.fireUserInboundEventTriggered(event)
        } else if event is IdleStateHandler.IdleStateEvent {
            service.count { $0.connectionsReaped += 1 }
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if transport == .tls, !handshakeDone { service.count { $0.tlsHandshakeFailures += 1 } }
        service.connectionClosed(connectionID)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
