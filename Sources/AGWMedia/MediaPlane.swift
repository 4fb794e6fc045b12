import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// The gateway's media plane (TS 23.334 §5.11.2.2 IMS-AGW duties, seeds 000/003/004): ports per
/// termination, state-aware TCP (proxy / merge), TLS on access terminations with fingerprint
/// verification, byte relay with back-pressure, UDP RTP/RTCP relay with latching.
public actor MediaPlane {
    public nonisolated let events: AsyncStream<MediaEvent>
    private let eventSink: AsyncStream<MediaEvent>.Continuation
    private let notes: AsyncStream<ChannelNote>.Continuation

    private let configuration: MediaPlaneConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let counters = MediaCounters()
    private let keyLog: KeyLogWriter?
    private let gatewayIdentity: TLSIdentity?
    private var gatewayContexts: (server: NIOSSLContext, client: NIOSSLContext)?

    private var terminations: [MediaTerminationKey: Termination] = [:]
    private var usedPorts: Set<Int> = []
    private var portCursor: Int
    private var isShutdown = false

    /// Actor-isolated state of one termination.
    final class Termination {
        let allocation: MediaAllocation
        let port: Int
        let ports: [Int]
        let shared: TerminationShared
        let identity: TLSIdentity?
        var udp: UDPShared?
        var remote: MediaRemote?
        var listener: (any Channel)?
        var connection: (any Channel)?
        var connectionReady = false
        var connecting = false
        /// The side that triggered (or was joined to) our pending connect went away: close it when it opens.
        var cancelOnOpen = false
        var triggered = false
        var partner: MediaTerminationKey?
        var mode: InterconnectMode = .proxy

        init(allocation: MediaAllocation, port: Int, ports: [Int], shared: TerminationShared, identity: TLSIdentity?) {
            self.allocation = allocation; self.port = port; self.ports = ports; self.shared = shared; self.identity = identity
        }
    }

    public init(configuration: MediaPlaneConfiguration, group: any EventLoopGroup, logger: Logger) throws {
        guard configuration.portRange.lowerBound >= 1, configuration.portRange.upperBound <= 65535 else {
            throw MediaError.invalid("portRange must be within 1...65535")
        }
        guard configuration.maxBufferedBytes >= 1024 else { throw MediaError.invalid("maxBufferedBytes must be >= 1024") }
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.portCursor = configuration.portRange.lowerBound
        self.keyLog = configuration.keyLogFile.map { KeyLogWriter(path: $0) }
        (events, eventSink) = AsyncStream.makeStream(of: MediaEvent.self, bufferingPolicy: .bufferingNewest(4096))
        let (noteStream, noteSink) = AsyncStream.makeStream(of: ChannelNote.self)
        self.notes = noteSink
        if let given = configuration.identity {
            // Given certificate files: one identity for the gateway; a key not matching the
            // certificate fails here (BoringSSL checks the pair when the context is made).
            gatewayIdentity = given
            gatewayContexts = try Self.contexts(for: given, keyLog: keyLog?.callback)
        } else if configuration.certificatePerStream {
            gatewayIdentity = nil
        } else {
            let id = try TLSIdentity.generate(commonName: configuration.certificateCommonName)
            gatewayIdentity = id
            gatewayContexts = try Self.contexts(for: id, keyLog: keyLog?.callback)
        }
        // The consumer ends when `shutdown()` finishes the note stream.
        Task { [weak self] in
            for await note in noteStream {
                guard let self else { return }
                await self.handle(note)
            }
        }
    }

    private static func contexts(for id: TLSIdentity, keyLog: NIOSSLKeyLogCallback?) throws(MediaError) -> (server: NIOSSLContext, client: NIOSSLContext) {
        do {
            let s = try NIOSSLContext(configuration: MediaTLSProfile.configuration(role: .server, identity: id, keyLog: keyLog))
            let c = try NIOSSLContext(configuration: MediaTLSProfile.configuration(role: .client, identity: id, keyLog: keyLog))
            return (s, c)
        } catch {
            throw .io("TLS context: \(error)")
        }
    }

    /// The gateway-wide certificate fingerprint (nil with `certificatePerStream`).
    public nonisolated var gatewayFingerprint: CertificateFingerprint? { gatewayIdentity?.fingerprint }

    // MARK: allocate

    /// Reserves (and for passive/actpass TCP and UDP, binds) the port of a new termination; for tls
    /// returns the gateway's certificate fingerprint (TS 23.334 §5.11.2.2 "send the fingerprint of its own certificate").
    public func allocate(_ a: MediaAllocation) async throws(MediaError) -> MediaLocal {
        guard !isShutdown else { throw .io("media plane is shut down") }
        guard terminations[a.key] == nil else { throw .alreadyExists(a.key) }
        guard terminations.count < MediaLimits.maxTerminations else { throw .noPortAvailable }
        guard a.key.termination.utf8.count <= MediaLimits.maxTerminationIDLength else { throw .invalid("termination id too long") }
        let span = a.transport == .udp ? 2 : 1
        var identity: TLSIdentity?
        var ctx: (server: NIOSSLContext, client: NIOSSLContext)?
        if a.transport == .tls {
            if configuration.certificatePerStream && configuration.identity == nil {
                let id = try TLSIdentity.generate(commonName: configuration.certificateCommonName)
                identity = id
                ctx = try Self.contexts(for: id, keyLog: keyLog?.callback)
            } else {
                identity = gatewayIdentity; ctx = gatewayContexts
            }
        }
        let shared = TerminationShared(key: a.key, transport: a.transport, serverContext: ctx?.server, clientContext: ctx?.client)
        let listens = a.transport == .udp || [TCPSetup.passive, .actpass].contains(a.setup ?? .passive)
        let candidates: [Int]
        if let p = a.port {
            guard p >= 1, p + span - 1 <= 65535 else { throw .invalid("port \(p)") }
            guard !usedPorts.contains(p), span == 1 || !usedPorts.contains(p + 1) else { throw .invalid("port \(p) in use") }
            candidates = [p]
        } else {
            candidates = poolCandidates(span: span)
            guard !candidates.isEmpty else { throw .noPortAvailable }
        }
        var lastError = "no port"
        for p in candidates {
            let ports = Array(p..<(p + span))
            guard ports.allSatisfy({ !usedPorts.contains($0) }) else { continue }
            for q in ports { usedPorts.insert(q) }
            let term = Termination(allocation: a, port: p, ports: ports, shared: shared, identity: identity)
            do {
                if a.transport == .udp {
                    term.udp = try await bindUDP(term)
                } else if listens {
                    term.listener = try await listen(term)
                }
            } catch {
                for q in ports { usedPorts.remove(q) }
                lastError = "\(error)"
                continue
            }
            guard !isShutdown, terminations[a.key] == nil else {
                closeAll(term); for q in ports { usedPorts.remove(q) }
                throw .alreadyExists(a.key)
            }
            terminations[a.key] = term
            logger.debug("allocated", metadata: ["key": "\(a.key)", "port": "\(p)", "transport": "\(a.transport)"])
            let fp = (a.transport == .tls && a.wantsFingerprint) ? identity?.fingerprint : nil
            return MediaLocal(host: a.bindHost, port: p, fingerprint: fp)
        }
        if a.port != nil { throw .io("bind \(a.bindHost):\(a.port ?? 0): \(lastError)") }
        throw .noPortAvailable
    }

    /// Pool ports not in use, starting at the cursor (round robin); UDP needs an even port and port+1.
    private func poolCandidates(span: Int) -> [Int] {
        let r = configuration.portRange
        let count = r.count
        var out: [Int] = []
        var i = 0
        while i < count {
            let p = r.lowerBound + (portCursor - r.lowerBound + i) % count
            i += 1
            if span == 2 && (p % 2 != 0 || p + 1 > r.upperBound) { continue }
            if usedPorts.contains(p) || (span == 2 && usedPorts.contains(p + 1)) { continue }
            out.append(p)
            if out.count >= MediaPlane.bindAttempts { break }
        }
        if let first = out.first { portCursor = first + span > r.upperBound ? r.lowerBound : first + span }
        return out
    }

    /// How many free pool ports one allocation tries to bind before giving up (ports taken by other processes).
    static let bindAttempts = 16

    private func factory(_ t: Termination) -> PipelineFactory {
        PipelineFactory(key: t.allocation.key, shared: t.shared, notes: notes, counters: counters,
                        maxBuffered: configuration.maxBufferedBytes,
                        verifyTimeout: configuration.tlsVerifyTimeout.timeAmount,
                        handshakeTimeout: (configuration.tlsVerifyTimeout + configuration.connectTimeout).timeAmount)
    }

    private func configureChild(_ channel: any Channel) throws {
        let m = configuration.maxBufferedBytes
        try channel.syncOptions?.setOption(ChannelOptions.writeBufferWaterMark, value: .init(low: m / 2, high: m))
        try channel.syncOptions?.setOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
    }

    private func listen(_ t: Termination) async throws -> any Channel {
        let f = factory(t)
        let shared = t.shared, counters = self.counters
        let m = configuration.maxBufferedBytes
        return try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: MediaLimits.listenBacklog)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    // Latching + remote source filtering decide before any byte is read.
                    guard shared.tryLatch(host: ch.remoteAddress?.ipAddress) else {
                        counters.reject()
                        throw MediaError.invalid("connection refused by latching/source filter")
                    }
                    try ch.syncOptions?.setOption(ChannelOptions.writeBufferWaterMark, value: .init(low: m / 2, high: m))
                    try ch.syncOptions?.setOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                    try f.install(on: ch, inbound: true)
                }
            }
            .bind(host: t.allocation.bindHost, port: t.port).get()
    }

    private func bindUDP(_ t: Termination) async throws -> UDPShared {
        let u = UDPShared(key: t.allocation.key, counters: counters)
        var bound: [any Channel] = []
        do {
            for (i, p) in t.ports.enumerated() {
                let ch = try await DatagramBootstrap(group: group)
                    .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: MediaLimits.maxDatagramBytes + 1))
                    .channelInitializer { ch in
                        ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(UDPRelayHandler(shared: u, component: i)) }
                    }
                    .bind(host: t.allocation.bindHost, port: p).get()
                bound.append(ch)
                u.setChannel(ch, component: i)
            }
        } catch {
            for c in bound { try? await c.close() }
            throw error
        }
        return u
    }

    // MARK: configure / interconnect

    /// Applies a Remote descriptor and/or the Establish-TLS signal. May be called again (e.g. the
    /// fingerprint arriving after the handshake started: verification waits for it, seed 004 step 12).
    public func configure(_ key: MediaTerminationKey, remote: MediaRemote?, establishTLS: TLSRole?) async throws(MediaError) {
        guard let t = terminations[key] else { throw .unknownTermination(key) }
        if let remote {
            guard remote.port >= 0, remote.port <= 65535 else { throw .invalid("remote port \(remote.port)") }
            if let fp = remote.fingerprint, CertificateFingerprint.digestLengths[fp.hashFunction] == nil {
                throw .invalid("fingerprint hash \(fp.hashFunction)")
            }
            let filterHost: String?
            if remote.filterSource {
                guard let addr = try? SocketAddress.makeAddressResolvingHost(remote.host, port: max(remote.port, 0)) else {
                    throw .invalid("remote host \(remote.host)")
                }
                filterHost = addr.ipAddress
            } else {
                filterHost = nil
            }
            t.remote = remote
            t.shared.setFilter(filterHost)
            if t.allocation.transport == .tls { t.shared.setExpected(remote.fingerprint) }
            t.udp?.configure(remote: remote.host, port: remote.port, filter: remote.filterSource)
            // A latched connection from a now-filtered source is dropped (filtering after Configure).
            if let filterHost, let c = t.connection, c.remoteAddress?.ipAddress != filterHost {
                c.close(promise: nil)
            }
        }
        if let establishTLS {
            guard t.allocation.transport == .tls else { throw .invalid("Establish-TLS on a non-TLS termination") }
            t.shared.setTLSRole(establishTLS)
        }
        evaluateConnect(key)
    }

    /// Joins two terminations of one context carrying the same stream.
    public func interconnect(_ a: MediaTerminationKey, _ b: MediaTerminationKey, mode: InterconnectMode) async throws(MediaError) {
        guard let ta = terminations[a] else { throw .unknownTermination(a) }
        guard let tb = terminations[b] else { throw .unknownTermination(b) }
        guard a != b else { throw .invalid("a termination cannot be interconnected with itself") }
        let udpA = ta.allocation.transport == .udp, udpB = tb.allocation.transport == .udp
        guard udpA == udpB else { throw .invalid("cannot interconnect UDP with TCP terminations") }
        for (t, other) in [(ta, b), (tb, a)] {
            if let old = t.partner, old != other, let o = terminations[old] { o.partner = nil; o.udp?.setPartner(nil) }
            t.partner = other; t.mode = mode
        }
        if udpA {
            ta.udp?.setPartner(tb.udp); tb.udp?.setPartner(ta.udp)
            return
        }
        if ta.connectionReady, tb.connectionReady { join(ta, tb) }
        evaluateConnect(a); evaluateConnect(b)
    }

    // MARK: release / shutdown

    /// Closes the termination's sockets and frees its ports; emits no event.
    public func release(_ key: MediaTerminationKey) async {
        guard let t = terminations.removeValue(forKey: key) else { return }
        if let p = t.partner, let o = terminations[p] { o.partner = nil; o.udp?.setPartner(nil) }
        let channels = [t.listener, t.connection].compactMap { $0 } + (t.udp?.allChannels() ?? [])
        closeAll(t)
        // Wait for the sockets to be closed so that the freed ports can be bound again at once.
        for c in channels { try? await c.closeFuture.get() }
        for q in t.ports { usedPorts.remove(q) }
    }

    private func closeAll(_ t: Termination) {
        t.listener?.close(promise: nil)
        t.connection?.close(promise: nil)
        for c in t.udp?.allChannels() ?? [] { c.close(promise: nil) }
        t.udp?.setPartner(nil)
        t.listener = nil; t.connection = nil
    }

    public func shutdown() async {
        guard !isShutdown else { return }
        isShutdown = true
        for k in Array(terminations.keys) { await release(k) }
        eventSink.finish()
        notes.finish()
    }

    public func statistics() -> MediaPlaneStatistics {
        var s = MediaPlaneStatistics(terminations: terminations.count,
                                     openConnections: terminations.values.filter { $0.connection != nil }.count)
        counters.fill(&s)
        return s
    }

    /// The bound local port of a termination (for tests and audits).
    public func localPort(_ key: MediaTerminationKey) -> Int? { terminations[key]?.port }

    // MARK: state-aware TCP

    private enum Role { case connect, listen, trigger, none }

    /// The gateway's effective TCP role from its own `a=setup` and the peer's (RFC 4145 §4.1).
    private func role(_ t: Termination) -> Role {
        switch t.allocation.setup ?? .passive {
        case .active: return .connect
        case .passive: return .listen
        case .holdconn: return .none
        case .actpass:
            switch t.remote?.setup {
            case .active?: return .listen
            case .passive?: return .connect
            default: return .trigger
            }
        }
    }

    /// Starts the gateway's own connection when allowed: never before the termination is interconnected;
    /// in proxy mode, when the partner is waiting for an inbound connection, only after that connection
    /// arrived (interlinkage: the incoming SYN on one side triggers the SYN on the other, TS 23.334 §5.16).
    private func evaluateConnect(_ key: MediaTerminationKey) {
        guard let t = terminations[key], t.allocation.transport != .udp, t.connection == nil, !t.connecting,
              let remote = t.remote, remote.port > 0, let pk = t.partner, let p = terminations[pk] else { return }
        switch role(t) {
        case .connect:
            if t.mode == .proxy && !t.triggered {
                let partnerWaits = p.listener != nil && p.connection == nil && [.listen, .trigger].contains(role(p))
                if partnerWaits { return }
            }
        case .trigger:
            guard t.mode == .proxy, t.triggered else { return }
        case .listen, .none:
            return
        }
        connect(t, to: remote)
    }

    private func connect(_ t: Termination, to remote: MediaRemote) {
        t.connecting = true; t.cancelOnOpen = false
        t.shared.forceLatch()   // the listener (if any) refuses inbound connections from now on
        let f = factory(t)
        let key = t.allocation.key
        let notes = self.notes
        let m = configuration.maxBufferedBytes
        ClientBootstrap(group: group)
            .connectTimeout(configuration.connectTimeout.timeAmount)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.syncOptions?.setOption(ChannelOptions.writeBufferWaterMark, value: .init(low: m / 2, high: m))
                    try ch.syncOptions?.setOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                    try f.install(on: ch, inbound: false)
                }
            }
            .connect(host: remote.host, port: remote.port)
            .whenFailure { error in notes.yield(.connectFailed(key, reason: "\(error)")) }
    }

    // MARK: channel notes

    private func handle(_ note: ChannelNote) {
        switch note {
        case let .opened(key, ch, inbound):
            guard let t = terminations[key] else { ch.close(promise: nil); return }
            if let existing = t.connection, existing !== ch {
                ch.close(promise: nil); return
            }
            t.connection = ch; t.connecting = false
            if !inbound && t.cancelOnOpen {
                t.cancelOnOpen = false
                ch.close(promise: nil)
                return
            }
            if inbound, t.mode == .proxy, let pk = t.partner, let p = terminations[pk], !p.triggered {
                p.triggered = true
                evaluateConnect(pk)
            }
        case let .ready(key, ch):
            guard let t = terminations[key], t.connection === ch else { return }
            t.connectionReady = true
            eventSink.yield(.connected(key))
            if let pk = t.partner, let p = terminations[pk], p.connectionReady, p.connection != nil { join(t, p) }
        case let .failed(key, ch, reason, tls):
            guard let t = terminations[key], t.connection === ch || t.connection == nil else { return }
            logger.info("media connection failed", metadata: ["key": "\(key)", "reason": "\(reason)"])
            eventSink.yield(tls ? .tlsFailed(key, reason: reason) : .tcpFailed(key, reason: reason))
            ch.close(promise: nil)
            // TS 23.334 §5.11.2.2: release the TCP bearer as soon as TLS fails/ends; the interconnected side too.
            releasePartner(of: t)
        case let .closed(key, ch):
            guard let t = terminations[key], t.connection === ch else { return }
            let wasReady = t.connectionReady
            t.connection = nil; t.connectionReady = false; t.connecting = false; t.triggered = false
            t.shared.unlatch()
            if wasReady { eventSink.yield(.bearerReleased(key)) }
            releasePartner(of: t)
        case let .connectFailed(key, reason):
            guard let t = terminations[key] else { return }
            t.connecting = false; t.cancelOnOpen = false
            if t.connection == nil { t.shared.unlatch() }
            eventSink.yield(.tcpFailed(key, reason: reason))
            releasePartner(of: t)
        }
    }

    /// The interconnected side's bearer goes with ours (TS 23.334 §5.11.2.2: release the TCP bearer
    /// when TLS ends); a connect still in progress is closed as soon as it opens.
    private func releasePartner(of t: Termination) {
        guard let pk = t.partner, let p = terminations[pk] else { return }
        p.triggered = false
        if let pc = p.connection { closeGracefully(pc) } else if p.connecting { p.cancelOnOpen = true }
    }

    /// Flushes what is queued towards the channel, then closes it.
    private nonisolated func closeGracefully(_ ch: any Channel) {
        ch.writeAndFlush(ByteBuffer()).whenComplete { _ in ch.close(promise: nil) }
    }

    private func join(_ a: Termination, _ b: Termination) {
        guard let ca = a.connection, let cb = b.connection else { return }
        let (ab, ba) = msrpRewrites(a, b)
        if ab != nil { logger.info("application-aware MSRP", metadata: ["from": "\(a.allocation.key)", "to": "\(b.allocation.key)", "rule": "\(ab.map { "To-Path→\($0.toPath) From-Path→\($0.fromPath)" } ?? "")"]) }
        Self.attach(ca, to: cb, rewrite: ab)
        Self.attach(cb, to: ca, rewrite: ba)
    }

    /// Application-aware MSRP (seed 003, only when statically configured): for a stream whose two
    /// terminations carry MSRP protos, the rules of each direction. Bytes read on `from` going to `to`:
    /// the last To-Path URI becomes the `to` peer's own URI (its Remote a=path, else its Remote address
    /// and port), the last From-Path URI becomes the gateway's URI on `to` (its Local address and port),
    /// msrps on TLS terminations, msrp on TCP (RFC 4975 §6) — the URIs the IMS-ALG wrote into a=path
    /// (SDPRewrite `MSRPPathRule.rewriteLast`), so each peer sees only the gateway.
    func msrpRewrites(_ a: Termination, _ b: Termination) -> (MSRPPathRewrite?, MSRPPathRewrite?) {
        guard configuration.msrpPathRewrite, a.allocation.msrp, b.allocation.msrp else { return (nil, nil) }
        func rule(to t: Termination) -> MSRPPathRewrite? {
            let tls = t.allocation.transport == .tls
            let scheme = MSRPAuthority.scheme(tls: tls)
            let peer: MSRPAuthority
            if let p = t.remote?.msrpPath, let auth = MSRPAuthority(uri: p) {
                peer = MSRPAuthority(scheme: scheme, host: auth.host, port: auth.port)
            } else if let r = t.remote, r.port > 0 {
                peer = MSRPAuthority(scheme: scheme, host: r.host, port: r.port)
            } else {
                return nil
            }
            return MSRPPathRewrite(toPath: peer, fromPath: MSRPAuthority(scheme: scheme, host: t.allocation.bindHost, port: t.port))
        }
        return (rule(to: b), rule(to: a))
    }

    private static func attach(_ ch: any Channel, to other: any Channel, rewrite: MSRPPathRewrite?) {
        ch.eventLoop.execute {
            guard let h = try? ch.pipeline.syncOperations.handler(type: RelayHandler.self) else { return }
            guard let ctx = try? ch.pipeline.syncOperations.context(handlerType: RelayHandler.self) else { return }
            h.attach(other, context: ctx, rewriter: rewrite.map(MSRPPathRewriter.init(rule:)))
        }
    }
}
