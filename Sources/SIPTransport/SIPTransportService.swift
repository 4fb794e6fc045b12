import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SIPCore

/// A bound listener.
public struct SIPListenerInfo: Sendable {
    public var index: Int
    public var configuration: SIPListenerConfiguration
    public var localAddress: SocketAddress
    public var side: SIPSide { configuration.side }
    public var transport: SIPTransportKind { configuration.transport }
    public var port: Int { localAddress.port ?? 0 }
}

/// The SIP transport layer (RFC 3261 §18) on SwiftNIO: UDP, TCP and TLS listeners grouped into Gm and Mw
/// sets, stream framing with RFC 5626 keep-alives, a connection table keyed by flow, replies over the
/// receiving connection, new outgoing connections on demand, idle reaping, limits, Via stamping, and
/// 400 answers to malformed requests.
///
/// Use: `try await start()`, read `inbound`, `send(_:to:)`, `try await shutdown()`.
public final class SIPTransportService: @unchecked Sendable {
    public let configuration: SIPTransportConfiguration
    /// Every parsed inbound message, in arrival order per flow. Bounded: when the layer above falls
    /// `inboundQueueLimit` messages behind, new messages are dropped and counted (back-pressure by
    /// loss, as UDP would; SIP retransmissions recover).
    public let inbound: AsyncStream<SIPInbound>
    /// Inbound queue bound (messages), see `inbound`.
    public static let inboundQueueLimit = 10_000

    private let continuation: AsyncStream<SIPInbound>.Continuation
    /// Set by `deliverInbound(to:)`: messages go to it synchronously on the channel's event loop
    /// instead of `inbound` (no thread hand-off). Written once before `start`, then only read.
    private var inboundSink: (@Sendable (SIPInbound) -> Void)?
    private let group: any EventLoopGroup
    private let ownsGroup: Bool
    private let lock = NSLock()

    private enum State { case idle, started, shutDown }
    private var state = State.idle
    private var listenerInfos: [SIPListenerInfo] = []
    private var listenerChannels: [Int: any Channel] = [:]
    /// The bound UDP listeners in configuration order, for `sendImmediately` (what `udpListener` scans).
    private var udpListeners: [(side: SIPSide, family: NIOBSDSocket.ProtocolFamily, index: Int, channel: any Channel)] = []

    struct Connection {
        let channel: any Channel
        let side: SIPSide
        let transport: SIPTransportKind
        let remote: SocketAddress?
        let outgoing: Bool
    }
    private var connections: [UInt64: Connection] = [:]
    private var reservedConnections = 0
    private var lastConnectionID: UInt64 = 0
    private var counterValues = SIPTransportCounters()
    /// Client TLS context, made on the first outgoing TLS connection (`configuration.tlsClient`).
    private var clientTLSContext: NIOSSLContext?
    /// The read-burst state of each event loop (see `beginReadBurst(on:)`), made on first use and kept;
    /// the map is under `lock`, a `ReadBurst` is only touched on its own loop.
    private var bursts: [ObjectIdentifier: ReadBurst] = [:]
    /// When the transport runs on one event loop (the proxy's case): that loop's state, reached without
    /// the lock or a hash.
    private let singleLoop: (loop: any EventLoop, burst: ReadBurst)?

    /// Channels written (not yet flushed) since the read burst on one event loop began. Confined to that
    /// loop (no lock).
    final class ReadBurst: @unchecked Sendable {
        var active = false
        var channels: [any Channel] = []
    }

    /// The process-wide event loop group (`MultiThreadedEventLoopGroup.singleton`, never shut down), for
    /// layers that run on one of its loops and must outlive a transport's `shutdown`.
    public static var sharedEventLoopGroup: any EventLoopGroup { MultiThreadedEventLoopGroup.singleton }

    public init(configuration: SIPTransportConfiguration, group: (any EventLoopGroup)? = nil) {
        self.configuration = configuration
        if let group { self.group = group; ownsGroup = false }
        else { self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1); ownsGroup = true }
        singleLoop = (self.group as? any EventLoop).map { ($0, ReadBurst()) }
        (inbound, continuation) = AsyncStream.makeStream(of: SIPInbound.self,
                                                         bufferingPolicy: .bufferingOldest(Self.inboundQueueLimit))
    }

    // MARK: Introspection

    public var listeners: [SIPListenerInfo] { locked { listenerInfos } }
    public var counters: SIPTransportCounters { locked { counterValues } }
    public var openConnectionCount: Int { locked { connections.count } }
    /// Open connection ids (flow tokens) with their side and direction, for tests and management.
    public var openConnections: [(flow: SIPFlowToken, side: SIPSide, outgoing: Bool)] {
        locked { connections.sorted { $0.key < $1.key }.map { (SIPFlowToken(.connection($0.key)), $0.value.side, $0.value.outgoing) } }
    }

    public func listener(side: SIPSide, transport: SIPTransportKind) -> SIPListenerInfo? {
        listeners.first { $0.side == side && $0.transport == transport }
    }

    @inline(__always) private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body()
    }

    func count(_ update: (inout SIPTransportCounters) -> Void) { locked { update(&counterValues) } }

    /// Delivers every inbound message to `sink`, called synchronously on the event loop of the channel
    /// that received it, instead of yielding it to `inbound` (which then stays empty). A layer that
    /// runs on that event loop handles a message without changing threads. Call before `start`: the
    /// handlers read the sink without the lock (`start` orders this write before any channel exists).
    public func deliverInbound(to sink: @escaping @Sendable (SIPInbound) -> Void) {
        locked { inboundSink = sink }
    }

    // MARK: Lifecycle

    /// Binds every configured listener. Throws (and closes what was bound) if one fails.
    public func start() async throws {
        try configuration.validate()
        try locked {
            guard state == .idle else { throw SIPTransportError.alreadyStarted }
            state = .started
        }
        do {
            for (index, l) in configuration.listeners.enumerated() {
                let channel: any Channel
                switch l.transport {
                case .udp: channel = try await bindUDP(index: index, l)
                case .tcp: channel = try await bindTCP(index: index, l, tls: nil)
                case .tls:
                    guard let settings = l.tls else { throw SIPTransportError.noListener(l.side, l.transport) }
                    channel = try await bindTCP(index: index, l, tls: try SIPTLSContexts.server(settings))
                }
                guard let local = channel.localAddress else { throw SIPTransportError.noListener(l.side, l.transport) }
                locked {
                    listenerChannels[index] = channel
                    if l.transport == .udp { udpListeners.append((l.side, local.protocol, index, channel)) }
                    listenerInfos.append(SIPListenerInfo(index: index, configuration: l, localAddress: local))
                }
            }
        } catch {
            try? await shutdown()
            throw error
        }
    }

    /// Closes listeners and connections and finishes `inbound`.
    public func shutdown() async throws {
        let (channels, wasShutDown): ([any Channel], Bool) = locked {
            let was = state == .shutDown
            state = .shutDown
            let all = Array(listenerChannels.values) + connections.values.map(\.channel)
            listenerChannels = [:]
            udpListeners = []
            return (all, was)
        }
        if wasShutDown { return }
        for ch in channels { try? await ch.close().get() }
        continuation.finish()
        if ownsGroup { try await group.shutdownGracefully() }
    }

    private func bindUDP(index: Int, _ l: SIPListenerConfiguration) async throws -> any Channel {
        let service = self
        // No SO_REUSEADDR on UDP: it has no TIME_WAIT to skip, and on Linux it lets a second socket
        // (another instance, or an ephemeral bind) share the port and steal datagrams.
        return try await DatagramBootstrap(group: group)
            // platform-notes §3.1: the default 2048-byte allocator truncates silently, and vector reads
            // (recvmmsg) slice the buffer into `udpVectorReadMessageCount` equal slots: the buffer holds that
            // many slots of `udpReceiveBufferBytes` (> any UDP payload), so no datagram is ever cut.
            .channelOption(.datagramVectorReadMessageCount, value: SIPTransportLimits.udpVectorReadMessageCount)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: SIPTransportLimits.udpVectorReadBufferBytes))
            .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(SIPTransportLimits.udpSocketReceiveBufferBytes))
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(SIPDatagramHandler(service: service, listener: index, side: l.side))
                }
            }
            .bind(host: l.host, port: l.port).get()
    }

    /// A stream listener: TCP, or TLS when `tls` is given (the NIOSSL server handler goes in front of the
    /// same idle + framing handlers, so TLS connections share the connection table, keep-alives and
    /// replies over the same connection).
    private func bindTCP(index: Int, _ l: SIPListenerConfiguration, tls: NIOSSLContext?) async throws -> any Channel {
        let service = self
        let idle = configuration.idleTimeout
        let limits = configuration.parseLimits
        let maxConnections = configuration.maxConnections
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: Self.waterMark)
            .childChannelInitializer { ch in
                guard let id = service.admitInbound(ch, side: l.side, transport: l.transport) else {
                    return ch.eventLoop.makeFailedFuture(SIPTransportError.connectionLimit(maxConnections))
                }
                return ch.eventLoop.makeCompletedFuture {
                    if let tls { try ch.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try ch.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idle))
                    try ch.pipeline.syncOperations.addHandler(
                        SIPStreamHandler(service: service, connectionID: id, side: l.side, transport: l.transport, limits: limits))
                }
            }
            .bind(host: l.host, port: l.port).get()
    }

    static let waterMark = ChannelOptions.Types.WriteBufferWaterMark(
        low: SIPTransportLimits.connectionWriteLowWaterMark, high: SIPTransportLimits.connectionWriteHighWaterMark)

    // MARK: Connection table

    /// Registers an accepted connection, or returns nil (counted) when the table is full.
    func admitInbound(_ channel: any Channel, side: SIPSide, transport: SIPTransportKind) -> UInt64? {
        locked {
            guard state == .started, connections.count + reservedConnections < configuration.maxConnections else {
                counterValues.connectionsRefused += 1
                return nil
            }
            lastConnectionID &+= 1
            connections[lastConnectionID] = Connection(channel: channel, side: side, transport: transport,
                                                       remote: channel.remoteAddress, outgoing: false)
            counterValues.connectionsAccepted += 1
            return lastConnectionID
        }
    }

    private func reserveOutgoing() throws -> UInt64 {
        try locked {
            guard state == .started else { throw SIPTransportError.notStarted }
            guard connections.count + reservedConnections < configuration.maxConnections else {
                throw SIPTransportError.connectionLimit(configuration.maxConnections)
            }
            reservedConnections += 1
            lastConnectionID &+= 1
            return lastConnectionID
        }
    }

    func connectionClosed(_ id: UInt64) { locked { _ = connections.removeValue(forKey: id) } }

    private func clientContext() throws -> NIOSSLContext {
        if let c = locked({ clientTLSContext }) { return c }
        let c = try SIPTLSContexts.client(configuration.tlsClient)
        return locked {
            if let existing = clientTLSContext { return existing }
            clientTLSContext = c
            return c
        }
    }

    private func openConnection(to address: SocketAddress, side: SIPSide, transport: SIPTransportKind,
                                serverName: String?) async throws -> UInt64 {
        let tls = transport == .tls ? try clientContext() : nil
        let id = try reserveOutgoing()
        let service = self
        let idle = configuration.idleTimeout
        let limits = configuration.parseLimits
        do {
            let channel = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelOption(.writeBufferWaterMark, value: Self.waterMark)
                .channelInitializer { ch in
                    ch.eventLoop.makeCompletedFuture {
                        if let tls {
                            // SNI and name check only for a DNS name (RFC 6066 §3: no IP literals in SNI);
                            // without one, `full` checks the peer's IP against the certificate's IP SANs.
                            try ch.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
                        }
                        try ch.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idle))
                        try ch.pipeline.syncOperations.addHandler(
                            SIPStreamHandler(service: service, connectionID: id, side: side, transport: transport, limits: limits))
                    }
                }
                .connect(to: address).get()
            locked {
                reservedConnections -= 1
                if channel.isActive {
                    connections[id] = Connection(channel: channel, side: side, transport: transport, remote: address, outgoing: true)
                }
                counterValues.connectionsOpened += 1
            }
            return id
        } catch {
            locked { reservedConnections -= 1 }
            throw error
        }
    }

    /// An open connection to `address` on `side` (linear scan: bounded by `maxConnections`).
    private func existingConnection(to address: SocketAddress, side: SIPSide, transport: SIPTransportKind) -> (id: UInt64, channel: any Channel)? {
        locked {
            connections.first { $0.value.side == side && $0.value.transport == transport && $0.value.remote == address }
                .map { ($0.key, $0.value.channel) }
        }
    }

    // MARK: Sending

    /// Picks the transport for a message of `byteCount` bytes (RFC 3261 §18.1.1): UDP above
    /// `udpMaxMessageBytes` becomes TCP. Callers that build a Via use this first so the Via names the
    /// transport actually used.
    public func transport(forMessageOf byteCount: Int, requested: SIPTransportKind) -> SIPTransportKind {
        requested == .udp && byteCount > configuration.udpMaxMessageBytes ? .tcp : requested
    }

    /// Sends one message (or any bytes, e.g. a keep-alive) to a flow or an address.
    ///
    /// Stream writes are queued without waiting for the peer to read (a slow peer must not stall the
    /// caller); when a connection's queue is over `connectionWriteHighWaterMark` the send throws
    /// `congested` instead (bounded memory). A write that fails later closes the connection.
    @discardableResult
    public func send(_ bytes: [UInt8], to destination: SIPDestination) async throws -> SIPSendResult {
        guard locked({ state == .started }) else { throw SIPTransportError.notStarted }
        switch destination {
        case .flow(let flow):
            switch flow.kind {
            case .datagram(let listener, let remote):
                guard let channel = locked({ listenerChannels[listener] }) else { throw SIPTransportError.unknownFlow(flow) }
                try await sendDatagram(bytes, on: channel, to: remote)
                return SIPSendResult(transport: .udp, flow: flow)
            case .connection(let id):
                return try writeOnConnection(bytes, id: id, flow: flow)
            }
        case .address(let address, let requested, let side):
            return try await send(bytes, to: address, requested: requested, side: side, serverName: nil)
        case .named(let address, let serverName, let requested, let side):
            return try await send(bytes, to: address, requested: requested, side: side, serverName: serverName)
        }
    }

    /// Sends one message without suspending, for a caller on the event loop of the channel used (a
    /// layer confined to the transport's event loop): a UDP datagram, a write on a flow, or a write
    /// on an open connection to the address. Returns nil, sending nothing, when a stream destination
    /// has no open connection yet (use `send(_:to:)`, which connects). Errors found at once are
    /// thrown (`messageTooLarge`, `unknownFlow`, `congested`...); a datagram write that fails later
    /// is reported to `onFailure` (on the channel's event loop), like `send` throws it.
    public func sendImmediately(_ bytes: [UInt8], to destination: SIPDestination,
                                onFailure: @escaping @Sendable (any Error) -> Void) throws -> SIPSendResult? {
        try sendImmediately(bytes, to: destination, report: .closure(onFailure))
    }

    /// `sendImmediately(_:to:onFailure:)` with the failure of a datagram write reported to `handler` with
    /// `failureTag` (one handler object for every send instead of a closure per datagram).
    public func sendImmediately(_ bytes: [UInt8], to destination: SIPDestination, failureTag: UInt64,
                                reportingTo handler: any SIPSendFailureHandler) throws -> SIPSendResult? {
        try sendImmediately(bytes, to: destination, report: .tagged(handler, failureTag))
    }

    /// Where a datagram write that fails later is reported.
    enum FailureReport {
        case closure(@Sendable (any Error) -> Void)
        case tagged(any SIPSendFailureHandler, UInt64)
    }

    private func sendImmediately(_ bytes: [UInt8], to destination: SIPDestination, report: FailureReport) throws -> SIPSendResult? {
        switch destination {
        case .flow(let flow):
            switch flow.kind {
            case .datagram(let listener, let remote):
                // One lock for the state and the channel (the event-loop path takes it once per send).
                let channel: (any Channel)? = try locked {
                    guard state == .started else { throw SIPTransportError.notStarted }
                    return listenerChannels[listener]
                }
                guard let channel else { throw SIPTransportError.unknownFlow(flow) }
                try writeDatagram(bytes, on: channel, to: remote, report: report)
                return SIPSendResult(transport: .udp, flow: flow)
            case .connection(let id):
                guard locked({ state == .started }) else { throw SIPTransportError.notStarted }
                return try writeOnConnection(bytes, id: id, flow: flow)
            }
        case .address(let address, let requested, let side), .named(let address, _, let requested, let side):
            let kind = transport(forMessageOf: bytes.count, requested: requested)
            switch kind {
            case .udp:
                let (index, channel) = try udpListener(side: side, for: address)
                try writeDatagram(bytes, on: channel, to: address, report: report)
                return SIPSendResult(transport: .udp, flow: SIPFlowToken(.datagram(listener: index, remote: address)))
            case .tcp, .tls:
                guard locked({ state == .started }) else { throw SIPTransportError.notStarted }
                guard let (id, channel) = existingConnection(to: address, side: side, transport: kind) else { return nil }
                if kind != requested { count { $0.udpToTCPSwitches += 1 } }
                guard channel.isWritable else { throw SIPTransportError.congested(SIPFlowToken(.connection(id))) }
                write(ByteBuffer(bytes: bytes), on: channel, promise: nil)
                count { $0.messagesSent += 1 }
                return SIPSendResult(transport: kind, flow: SIPFlowToken(.connection(id)))
            }
        }
    }

    /// Queues `bytes` on the open connection `id` named by `flow` without waiting for the peer
    /// (shared by `send(_:to:)` and `sendImmediately(_:to:onFailure:)`): throws `unknownFlow` when
    /// the connection is gone and `congested` when its queue is over the high-water mark.
    private func writeOnConnection(_ bytes: [UInt8], id: UInt64, flow: SIPFlowToken) throws -> SIPSendResult {
        guard let c = locked({ connections[id] }) else { throw SIPTransportError.unknownFlow(flow) }
        guard c.channel.isWritable else { throw SIPTransportError.congested(flow) }
        write(ByteBuffer(bytes: bytes), on: c.channel, promise: nil)
        count { $0.messagesSent += 1 }
        return SIPSendResult(transport: c.transport, flow: flow)
    }

    /// The UDP listener of `side` for `address` (same address family first); throws `notStarted` unless
    /// started (checked under the same lock).
    private func udpListener(side: SIPSide, for address: SocketAddress) throws -> (Int, any Channel) {
        let family = address.protocol
        return try locked {
            guard state == .started else { throw SIPTransportError.notStarted }
            var fallback: (Int, any Channel)?
            for l in udpListeners where l.side == side {
                if l.family == family { return (l.index, l.channel) }
                if fallback == nil { fallback = (l.index, l.channel) }
            }
            guard let fallback else { throw SIPTransportError.noListener(side, .udp) }
            return fallback
        }
    }

    private func writeDatagram(_ bytes: [UInt8], on channel: any Channel, to remote: SocketAddress,
                               report: FailureReport) throws {
        guard bytes.count <= SIPTransportLimits.udpMaxDatagramBytes else { throw SIPTransportError.messageTooLarge(bytes.count) }
        let promise = channel.eventLoop.makePromise(of: Void.self)
        switch report {
        case .closure(let onFailure): promise.futureResult.whenFailure(onFailure)
        case .tagged(let handler, let tag): promise.futureResult.whenFailure { handler.sendFailed(tag: tag, error: $0) }
        }
        write(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: bytes)), on: channel, promise: promise)
        count { $0.messagesSent += 1 }
    }

    /// The read-burst state of `loop` (made on first use).
    @inline(__always) private func burst(of loop: any EventLoop) -> ReadBurst {
        if let single = singleLoop, single.loop === loop { return single.burst }
        return locked {
            let id = ObjectIdentifier(loop)
            if let b = bursts[id] { return b }
            let b = ReadBurst()
            bursts[id] = b
            return b
        }
    }

    private func send(_ bytes: [UInt8], to address: SocketAddress, requested: SIPTransportKind, side: SIPSide,
                      serverName: String?) async throws -> SIPSendResult {
        let kind = transport(forMessageOf: bytes.count, requested: requested)
        if kind != requested { count { $0.udpToTCPSwitches += 1 } }
        switch kind {
        case .udp:
            let candidates = listeners.filter { $0.side == side && $0.transport == .udp }
            guard let l = candidates.first(where: { $0.localAddress.protocol == address.protocol }) ?? candidates.first,
                  let channel = locked({ listenerChannels[l.index] }) else {
                throw SIPTransportError.noListener(side, .udp)
            }
            try await sendDatagram(bytes, on: channel, to: address)
            return SIPSendResult(transport: .udp, flow: SIPFlowToken(.datagram(listener: l.index, remote: address)))
        case .tcp, .tls:
            let id: UInt64
            let channel: any Channel
            if let c = existingConnection(to: address, side: side, transport: kind) {
                (id, channel) = c
            } else {
                id = try await openConnection(to: address, side: side, transport: kind, serverName: serverName)
                guard let c = locked({ connections[id] }) else { throw SIPTransportError.unknownFlow(SIPFlowToken(.connection(id))) }
                channel = c.channel
            }
            guard channel.isWritable else { throw SIPTransportError.congested(SIPFlowToken(.connection(id))) }
            channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
            count { $0.messagesSent += 1 }
            return SIPSendResult(transport: kind, flow: SIPFlowToken(.connection(id)))
        }
    }

    private func sendDatagram(_ bytes: [UInt8], on channel: any Channel, to remote: SocketAddress) async throws {
        guard bytes.count <= SIPTransportLimits.udpMaxDatagramBytes else { throw SIPTransportError.messageTooLarge(bytes.count) }
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: bytes))).get()
        count { $0.messagesSent += 1 }
    }

    // MARK: Write batching

    /// Called by the handlers when they read: until the tasks of this event-loop tick run, writes made
    /// on this loop (replies, forwarded messages) are queued on their channels, then one task flushes
    /// each channel once. A burst of datagrams read together then leaves in one `sendmmsg` per socket
    /// (NIO's vector datagram writes) instead of one `sendmsg` each, and the peers are woken once the
    /// burst is handled rather than in the middle of it. Nothing waits longer than the current tick.
    func beginReadBurst(on loop: any EventLoop) {
        let burst = burst(of: loop)
        guard !burst.active else { return }
        burst.active = true
        loop.execute {
            burst.active = false
            let channels = burst.channels
            burst.channels = []
            for channel in channels { channel.flush() }
        }
    }

    /// Writes `data` on `channel`: queued until the end of the current read burst when one is in
    /// progress on the calling event loop (`beginReadBurst(on:)`), else written and flushed now.
    private func write<Data: Sendable>(_ data: Data, on channel: any Channel, promise: EventLoopPromise<Void>?) {
        let loop = channel.eventLoop
        if loop.inEventLoop {
            let burst = burst(of: loop)
            if burst.active {
                if !burst.channels.contains(where: { $0 === channel }) { burst.channels.append(channel) }
                channel.write(data, promise: promise)
                return
            }
        }
        channel.writeAndFlush(data, promise: promise)
    }

    // MARK: Receiving (called by the handlers on their event loop)

    /// The answer to a request whose stream framing failed (RFC 3261 §18.3: e.g. no Content-Length →
    /// 400; §21.5.14 oversize → 513), read from the bytes up to the end of its header block; nil when
    /// it is a response, junk, or lacks the headers a response needs (§8.2.6.2).
    func answerForFramingError(_ error: SIPParseError, head bytes: [UInt8]) -> [UInt8]? {
        guard !error.isResponse, case .respond = error.disposition else { return nil }
        // Only the header block (a missing or oversize body must not make the scan fail).
        var end = -1
        var i = 0
        let limit = min(bytes.count, configuration.parseLimits.maxHeaderBlockBytes)
        while i + 3 < limit {
            if bytes[i] == 0x0D, bytes[i + 1] == 0x0A, bytes[i + 2] == 0x0D, bytes[i + 3] == 0x0A { end = i + 4; break }
            i += 1
        }
        guard end > 0 else { return nil }
        var head = Array(bytes[0..<end])
        // Drop Content-Length lines so the scan judges the head alone (their value is the error).
        head = Self.removingContentLength(head)
        guard let message = try? SIPParser.scan(head, limits: configuration.parseLimits, lenientVersion: true) else { return nil }
        return SIPResponseBuilder.response(for: error, request: message, toTag: configuration.toTagGenerator(),
                                           warningAgent: configuration.warningAgent)
    }

    /// The header block without its `Content-Length` / `l` lines.
    static func removingContentLength(_ head: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(head.count)
        var lineStart = 0
        for i in 0..<head.count where head[i] == 0x0A {
            let line = head[lineStart...i]
            let name = line.prefix { $0 != 0x3A && $0 != 0x0D }.filter { $0 != 0x20 && $0 != 0x09 }
            let lowered = String(decoding: name, as: UTF8.self).lowercased()
            if !(line.contains(0x3A) && (lowered == "content-length" || lowered == "l")) { out.append(contentsOf: line) }
            lineStart = i + 1
        }
        return out
    }

    /// Parses one datagram or framed message; answers malformed requests through `reply`, drops and
    /// counts the rest; stamps Via on requests; yields the message to `inbound`.
    /// - Parameter remoteIP: `remote.ipAddress` when the caller has it at hand (the handlers keep the
    ///   text of their last peer, so the datagram path does not format an address per request).
    func process(_ bytes: [UInt8], side: SIPSide, transport: SIPTransportKind, local: SocketAddress,
                 remote: SocketAddress, remoteIP: String? = nil, flow: SIPFlowToken, reply: ([UInt8]) -> Void) {
        let limits = configuration.parseLimits
        var message: SIPMessage
        do {
            message = try SIPParser.parse(bytes, limits: limits, validateWithLibOSIP2: configuration.validatesWithLibOSIP2)
        } catch {
            // RFC 3261 §21.4.1 / §21.5.14: answer a malformed request when its head allows a response
            // (§8.2.6.2 needs Via, From, To, Call-ID, CSeq); responses and junk are dropped (§18.3, §16.7).
            if !error.isResponse, case .respond = error.disposition,
               let head = try? SIPParser.scan(bytes, limits: limits, lenientVersion: true),
               let answer = SIPResponseBuilder.response(for: error, request: head, toTag: configuration.toTagGenerator(),
                                                        warningAgent: configuration.warningAgent) {
                count { $0.malformedAnswered += 1; $0.messagesSent += 1 }
                reply(answer)
            } else {
                count { $0.malformedDropped += 1 }
            }
            return
        }
        // The top Via is parsed once here: the stamp reads it, and the inbound message carries it for the
        // transaction layer's matching (RFC 3261 §17.1.3 / §17.2.3).
        let topVia = message.topVia
        if message.isRequest, let ip = remoteIP ?? remote.ipAddress, let port = remote.port,
           let stamped = SIPViaStamp.stampedMessage(message, sourceIP: ip, sourcePort: port, limits: limits, topVia: topVia) {
            message = stamped
        }
        let inbound = SIPInbound(message: message, side: side, transport: transport, local: local, remote: remote, flow: flow,
                                 receivedTopVia: topVia)
        if let sink = inboundSink {
            count { $0.messagesReceived += 1 }
            sink(inbound)
            return
        }
        let result = continuation.yield(inbound)
        count {
            $0.messagesReceived += 1
            if case .dropped = result { $0.inboundQueueDrops += 1 }
        }
    }
}
