import Foundation
import NIOCore
import NIOSSL
import NIOTLS

/// The tail handler of a TCP (or decrypted TLS) connection: reports open/ready/fail/close to the
/// plane and relays bytes to the partner connection with back-pressure (reading stops while the
/// partner's outbound buffer is above its high water mark, resumes when it drains).
final class RelayHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let key: MediaTerminationKey
    let tls: Bool
    let inbound: Bool
    let maxBuffered: Int
    let handshakeTimeout: TimeAmount
    let notes: AsyncStream<ChannelNote>.Continuation
    let counters: MediaCounters
    let shared: TerminationShared
    private var partner: (any Channel)?
    /// Application-aware MSRP on this direction (bytes read here, written to the partner).
    private var rewriter: MSRPPathRewriter?
    private var pending: ByteBuffer?
    private var needsFlush = false
    private var ready = false
    private var failed = false
    private var handshakeTimer: Scheduled<Void>?

    init(key: MediaTerminationKey, tls: Bool, inbound: Bool, maxBuffered: Int, handshakeTimeout: TimeAmount,
         notes: AsyncStream<ChannelNote>.Continuation, counters: MediaCounters, shared: TerminationShared) {
        self.key = key; self.tls = tls; self.inbound = inbound; self.maxBuffered = maxBuffered
        self.handshakeTimeout = handshakeTimeout; self.notes = notes; self.counters = counters; self.shared = shared
    }

    func channelActive(context: ChannelHandlerContext) {
        notes.yield(.opened(key, context.channel, inbound: inbound))
        if tls {
            // channelInactive reports the failure (not ready, not yet failed) with this reason.
            let channel = context.channel, shared = self.shared
            handshakeTimer = context.eventLoop.scheduleTask(in: handshakeTimeout) {
                shared.recordFailure("TLS handshake timeout")
                channel.close(promise: nil)
            }
        } else {
            markReady(context: context)
        }
        context.fireChannelActive()
    }

    private func markReady(context: ChannelHandlerContext) {
        guard !ready else { return }
        ready = true
        notes.yield(.ready(key, context.channel))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? TLSUserEvent, case .handshakeCompleted = e {
            handshakeTimer?.cancel(); handshakeTimer = nil
            counters.handshake()
            markReady(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buf = unwrapInboundIn(data)
        if let p = partner {
            counters.addBytes(buf.readableBytes)
            guard let out = rewrite(buf, context: context) else { return }
            p.write(out, promise: nil)
            needsFlush = true
        } else {
            if pending == nil { pending = buf } else { var b = buf; pending?.writeBuffer(&b) }
            if (pending?.readableBytes ?? 0) >= maxBuffered {
                context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush, let p = partner {
            needsFlush = false
            p.flush()
            if !p.isWritable {
                context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            }
        }
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // Our outbound side drained below the low water mark: the partner may read again.
        if context.channel.isWritable, let p = partner {
            p.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        }
        context.fireChannelWritabilityChanged()
    }

    /// Joins this connection to `other` (called on this channel's event loop); `rewriter` makes this
    /// direction application-aware MSRP.
    func attach(_ other: any Channel, context: ChannelHandlerContext, rewriter: MSRPPathRewriter? = nil) {
        partner = other
        self.rewriter = rewriter
        if let p = pending {
            pending = nil
            counters.addBytes(p.readableBytes)
            if let out = rewrite(p, context: context) { other.writeAndFlush(out, promise: nil) }
        }
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
    }

    /// The bytes to forward: unchanged, or framed and path-rewritten (`MSRPPathRewriter`). A framing
    /// error closes this connection (the plane then releases the partner) and is counted: the stream
    /// can no longer be rewritten consistently (Docs/agw-media.md "Application-aware MSRP").
    private func rewrite(_ buf: ByteBuffer, context: ChannelHandlerContext) -> ByteBuffer? {
        guard let before = rewriter?.messages else { return buf }
        do {
            // Optional chaining mutates the stored rewriter in place (no copy of its held bytes).
            let out = try rewriter?.feed(Array(buf.readableBytesView)) ?? []
            counters.msrp(rewritten: (rewriter?.messages ?? before) - before)
            return out.isEmpty ? nil : context.channel.allocator.buffer(bytes: out)
        } catch {
            rewriter = nil
            partner = nil
            counters.msrpError()
            context.close(promise: nil)
            return nil
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !failed {
            failed = true
            handshakeTimer?.cancel(); handshakeTimer = nil
            let verification = shared.takeFailure()
            let isTLS = tls && !ready
            if isTLS { counters.tlsFailure() }
            let reason = verification ?? "\(error)"
            // Once established, an error (a TLS peer closing without close_notify, a reset) ends the bearer:
            // channelInactive reports it as released. Only a failure before that is an establishment
            // failure (the tlsbsc/tcpbcc estfail events, TS 29.334), which makes the ALG drop the stream.
            if !ready { notes.yield(.failed(key, context.channel, reason: reason, tls: isTLS)) }
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshakeTimer?.cancel(); handshakeTimer = nil
        if tls && !ready && !failed {
            // The peer went away during the handshake (e.g. after our alert, or it refused us).
            failed = true
            counters.tlsFailure()
            notes.yield(.failed(key, context.channel, reason: shared.takeFailure() ?? "connection closed during TLS handshake", tls: true))
        }
        notes.yield(.closed(key, context.channel))
        context.fireChannelInactive()
    }
}

/// Installs TLS (if any) and the relay handler on a freshly accepted or connecting channel.
struct PipelineFactory: Sendable {
    let key: MediaTerminationKey
    let shared: TerminationShared
    let notes: AsyncStream<ChannelNote>.Continuation
    let counters: MediaCounters
    let maxBuffered: Int
    let verifyTimeout: TimeAmount
    let handshakeTimeout: TimeAmount

    func install(on channel: any Channel, inbound: Bool) throws {
        let ops = channel.pipeline.syncOperations
        let isTLS = shared.transport == .tls
        if isTLS {
            let shared = self.shared, timeout = verifyTimeout
            let verify: NIOSSLCustomVerificationCallback = { chain, promise in shared.verify(chain, promise, timeout: timeout) }
            switch shared.role(inbound: inbound) {
            case .server:
                guard let ctx = shared.serverContext else { throw MediaError.io("no TLS server context") }
                try ops.addHandler(NIOSSLServerHandler(context: ctx, customVerificationCallback: verify))
            case .client:
                guard let ctx = shared.clientContext else { throw MediaError.io("no TLS client context") }
                try ops.addHandler(NIOSSLClientHandler(context: ctx, serverHostname: nil, customVerificationCallback: verify))
            }
        }
        try ops.addHandler(RelayHandler(key: key, tls: isTLS, inbound: inbound, maxBuffered: maxBuffered,
                                        handshakeTimeout: handshakeTimeout, notes: notes, counters: counters, shared: shared))
    }
}

/// UDP side of a termination: RTP on the even port, RTCP on port+1 (RFC 3550 §11). Latching on the
/// first packet (H.248.37), source filtering when configured, oversize datagrams dropped.
final class UDPShared: @unchecked Sendable {
    let key: MediaTerminationKey
    private let lock = NSIOLock()
    private var channels: [(any Channel)?] = [nil, nil]
    private var latched: [SocketAddress?] = [nil, nil]
    private var remote: [SocketAddress?] = [nil, nil]
    private var filterHost: String?
    private var partner: UDPShared?
    let counters: MediaCounters

    init(key: MediaTerminationKey, counters: MediaCounters) { self.key = key; self.counters = counters }

    func setChannel(_ c: any Channel, component: Int) { lock.withLock { channels[component] = c } }
    func allChannels() -> [any Channel] { lock.withLock { channels.compactMap { $0 } } }
    func setPartner(_ p: UDPShared?) { lock.withLock { partner = p } }
    func configure(remote host: String, port: Int, filter: Bool) {
        let rtp = try? SocketAddress.makeAddressResolvingHost(host, port: port)
        let rtcp = port < 65535 ? try? SocketAddress.makeAddressResolvingHost(host, port: port + 1) : nil
        lock.withLock { remote = [rtp, rtcp]; filterHost = filter ? rtp?.ipAddress : nil }
    }

    /// A datagram arrived on `component` from `source`: accept (latch) or drop, then forward.
    func received(_ buf: ByteBuffer, from source: SocketAddress, component: Int) {
        let target: UDPShared? = lock.withLock {
            if let f = filterHost, source.ipAddress != f { return nil }
            if let l = latched[component] {
                if l != source { return nil }
            } else {
                latched[component] = source
            }
            return partner
        }
        guard let target else { counters.drop(); return }
        target.send(buf, component: component)
    }

    private func send(_ buf: ByteBuffer, component: Int) {
        let (ch, dest): ((any Channel)?, SocketAddress?) = lock.withLock { (channels[component], latched[component] ?? remote[component]) }
        guard let ch, let dest else { counters.drop(); return }
        counters.addDatagram(buf.readableBytes)
        ch.writeAndFlush(AddressedEnvelope(remoteAddress: dest, data: buf), promise: nil)
    }
}

final class UDPRelayHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let shared: UDPShared
    let component: Int

    init(shared: UDPShared, component: Int) { self.shared = shared; self.component = component }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let env = unwrapInboundIn(data)
        // The allocator holds maxDatagramBytes + 1: a full buffer means the datagram was larger (truncated).
        guard env.data.readableBytes <= MediaLimits.maxDatagramBytes else { shared.counters.drop(); return }
        shared.received(env.data, from: env.remoteAddress, component: component)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable etc.: keep the socket (RTP peers come and go).
    }
}

/// A small lock (Foundation's NSLock with a closure helper).
final class NSIOLock: @unchecked Sendable {
    private let l = NSLock()
    func withLock<T>(_ body: () throws -> T) rethrows -> T { l.lock(); defer { l.unlock() }; return try body() }
}
