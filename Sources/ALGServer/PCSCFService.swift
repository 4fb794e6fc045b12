// The running P-CSCF: SIPTransportService + ProxyServer (ProxyRuntime) + PCSCFHooks, built from a
// `PCSCFConfiguration` plus listener and next-hop settings; binding expiry on a timer; DNS refresh
// of the core next hops. Used by `pcscf-alg pcscf` and by the SIPp tests.
import Foundation
import H248Client
import H248Codec
import IMSALG
import Logging
import ProxyRuntime
import SIPCore
import SIPProxy
import SIPTransaction
import SIPTransport

/// Everything `PCSCFService.start` needs.
public struct PCSCFServiceConfiguration: Sendable {
    /// P-CSCF behaviour (TS 24.229 §5.2 switches). `registrarNextHops` is overwritten by `coreNextHops`.
    public var pcscf: PCSCFConfiguration
    /// Gm (UE side) and Mw (core side) listeners; port 0 picks an ephemeral port.
    public var listeners: [SIPListenerConfiguration]
    /// I-CSCF / S-CSCF URIs for REGISTER, failover order (`sip:icscf.ims.example:5060;transport=tcp;lr`).
    public var coreNextHops: [String]
    /// The P-CSCF's domain name (icid `@` part, Warning agent, and a local alias in Route).
    public var domain: String
    /// Host written into our Path (and the Record-Route markers) when `deriveURIsFromListeners`:
    /// nil = the Mw listener's host (give a reachable address when listening on 0.0.0.0).
    public var advertisedHost: String?
    /// Set `pathURI` (and the Record-Route marker URIs) from the first Mw listener's bound address and
    /// add every listener to `localAliases`, so that Route entries naming us are recognised by both the
    /// proxy core and the P-CSCF logic (RFC 3261 §16.4; RFC 3327 §5.3). False keeps the given URIs.
    public var deriveURIsFromListeners: Bool
    /// Option tags accepted in Proxy-Require (RFC 3261 §16.3 step 5: others are answered 420 Bad
    /// Extension with Unsupported). `mediasec` is ours (TS 24.229 §7.2A.7); `sec-agree` is accepted
    /// because UEs always send it while this P-CSCF runs without IPsec (the 401 passes through).
    public var proxyRequireSupported: Set<String>
    /// How often expired bindings are swept (TS 24.229 §5.2.2.1).
    public var sweepInterval: Duration
    /// How often the core next-hop names are resolved again.
    public var dnsRefreshInterval: Duration
    /// How long a failed core next hop is skipped (RFC 3263 §4.3).
    public var nextHopHoldDown: Duration
    /// Transaction timers and bounds.
    public var transactions: TransactionLayerConfiguration
    /// Outgoing TLS settings.
    public var tlsClient: SIPTLSClientSettings
    /// Prefix of branch tokens and To tags (unique per run, RFC 3261 §8.1.1.7).
    public var idPrefix: String
    /// Transport bounds (UDP→TCP size, connections, idle timeout, parse limits).
    public var transportLimits: PCSCFTransportLimits
    /// The Iq interface to the IMS-AGW (TS 23.334 §8); nil: no ALG, SDP passes unchanged.
    public var iq: PCSCFIqSettings?
    /// Run the reaper (binding sweep, ALG session ticks, DNS refresh) as a task started by `start`.
    /// False when a `ServiceGroup` runs it (`PCSCFService.lifecycleServices`).
    public var runsReaperTask: Bool

    public init(pcscf: PCSCFConfiguration = .default, listeners: [SIPListenerConfiguration], coreNextHops: [String],
                domain: String = "pcscf.ims.example", advertisedHost: String? = nil, deriveURIsFromListeners: Bool = true,
                proxyRequireSupported: Set<String> = ["mediasec", "sec-agree"],
                sweepInterval: Duration = .seconds(1), dnsRefreshInterval: Duration = .seconds(60),
                nextHopHoldDown: Duration = PCSCFNextHopLimits.defaultHoldDown,
                transactions: TransactionLayerConfiguration = TransactionLayerConfiguration(),
                tlsClient: SIPTLSClientSettings = .init(), idPrefix: String = PCSCFService.runPrefix(),
                transportLimits: PCSCFTransportLimits = .init(), iq: PCSCFIqSettings? = nil, runsReaperTask: Bool = true) {
        self.iq = iq
        self.transportLimits = transportLimits
        self.runsReaperTask = runsReaperTask
        self.pcscf = pcscf
        self.listeners = listeners
        self.coreNextHops = coreNextHops
        self.domain = domain
        self.advertisedHost = advertisedHost
        self.deriveURIsFromListeners = deriveURIsFromListeners
        self.proxyRequireSupported = proxyRequireSupported
        self.sweepInterval = sweepInterval
        self.dnsRefreshInterval = dnsRefreshInterval
        self.nextHopHoldDown = nextHopHoldDown
        self.transactions = transactions
        self.tlsClient = tlsClient
        self.idPrefix = idPrefix
    }
}

/// The Iq (H.248) side of the P-CSCF: where the IMS-AGW registers and how the ALG sessions behave.
public struct PCSCFIqSettings: Sendable {
    /// Listen address `udp:host:port` (tcp: H.248.1 Annex D.2 TPKT); port 0 picks an ephemeral port.
    public var listen: H248ListenAddress
    /// Token form we send (TS 29.334 §5.9 NOTE 2).
    public var form: H248TextForm
    /// `start` waits this long for the gateway's ServiceChange registration; nil: does not wait (offers
    /// are answered 503 until a gateway registers, `IqMGCClient.failure` 502 → SIP 503).
    public var waitForGateway: Duration?
    /// Iq LONG-TIMER (H.248.1 §F.3): how long an operation may take before the offer is refused 503.
    public var longTimer: Duration
    /// Session behaviour (policy, setup timeout [U]).
    public var session: ALGSessionConfiguration
    /// Transaction timers (`longTimer` above overrides `timers.longTimer`).
    public var timers = H248TransactionTimers()
    /// Versions, profiles, keep-alive (off by default: the gateway keeps the association).
    public var association = PCSCFIqSettings.defaultAssociation
    /// Package tokens, realms, heartbeat, latching of the Iq requests.
    public var mapping = IqGatewayMapping()
    /// IP addresses whose H.248 messages are accepted (empty: any). Others are dropped unread.
    public var gatewayAllowList: [String] = []
    /// Batched TransactionResponseAck delay (H.248.1 §8.2.3).
    public var responseAckFlushDelay: Duration = ResponseAckBatcher.defaultFlushDelay

    /// The association defaults of the P-CSCF: keep-alive off.
    public static let defaultAssociation: AssociationConfiguration = {
        var a = AssociationConfiguration()
        a.keepAliveInterval = nil
        return a
    }()

    public init(listen: H248ListenAddress, form: H248TextForm = .compact, waitForGateway: Duration? = nil,
                longTimer: Duration = .seconds(8), session: ALGSessionConfiguration = .init()) {
        self.listen = listen
        self.form = form
        self.waitForGateway = waitForGateway
        self.longTimer = longTimer
        self.session = session
    }
}

/// Transport bounds of the P-CSCF's SIP listeners (`sip.limits.*`).
public struct PCSCFTransportLimits: Sendable {
    public var udpMaxMessageBytes: Int
    public var maxConnections: Int
    public var idleTimeout: Duration
    public var parseLimits: SIPParseLimits
    public init(udpMaxMessageBytes: Int = SIPTransportLimits.udpMaxMessageBytes, maxConnections: Int = SIPTransportLimits.maxConnections,
                idleTimeout: Duration = .seconds(SIPTransportLimits.idleTimeoutSeconds), parseLimits: SIPParseLimits = .default) {
        self.udpMaxMessageBytes = udpMaxMessageBytes
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.parseLimits = parseLimits
    }
}

/// A started P-CSCF. `start` binds and runs; `shutdown` stops; `drain` is the graceful part of it.
public final class PCSCFService: Sendable {
    public let server: ProxyServer
    public let hooks: PCSCFHooks
    public let nextHops: PCSCFNextHops
    /// The P-CSCF configuration in force (with the derived Path / aliases).
    public let configuration: PCSCFConfiguration
    /// The Iq client towards the IMS-AGW and the ALG sessions (nil without `iq` settings).
    public let iq: IqClient?
    public let alg: ALGSessions?
    /// The settings it was started with.
    public let settings: PCSCFServiceConfiguration
    /// Dialogs and draining state (graceful shutdown).
    public let drainState: PCSCFDrainState
    let logger: Logger
    private let timers: Task<Void, Never>?

    private init(server: ProxyServer, hooks: PCSCFHooks, nextHops: PCSCFNextHops, configuration: PCSCFConfiguration,
                 iq: IqClient?, alg: ALGSessions?, settings: PCSCFServiceConfiguration, drainState: PCSCFDrainState,
                 logger: Logger, timers: Task<Void, Never>?) {
        self.server = server; self.hooks = hooks; self.nextHops = nextHops; self.configuration = configuration; self.timers = timers
        self.iq = iq; self.alg = alg; self.settings = settings; self.drainState = drainState; self.logger = logger
    }
    /// The bound Iq port (tests: the gateway registers there).
    public var iqPort: Int? { iq?.transport.localPort }

    /// Builds and starts the P-CSCF.
    public static func start(_ settings: PCSCFServiceConfiguration, logger: Logger = Logger(label: "pcscf-alg.pcscf"),
                             clock: any ProxyClock = ContinuousProxyClock(),
                             store: any RegistrationStore = InMemoryRegistrationStore()) async throws -> PCSCFService {
        guard settings.listeners.contains(where: { $0.side == .gm }), settings.listeners.contains(where: { $0.side == .mw }) else {
            throw PCSCFServiceError.configuration("the P-CSCF needs at least one Gm and one Mw listener")
        }
        guard !settings.coreNextHops.isEmpty else { throw PCSCFServiceError.configuration("no core next hop (I-CSCF/S-CSCF)") }
        let nextHops = try PCSCFNextHops(settings.coreNextHops, holdDown: settings.nextHopHoldDown)
        for hop in nextHops.all where hop.resolved == nil { logger.warning("core next hop \(hop.configured) does not resolve (yet)") }

        var pcscfConfig = settings.pcscf
        pcscfConfig.registrarNextHops = settings.coreNextHops
        let ids = RandomPCSCFIdentifiers(host: settings.domain)
        let now: PCSCFNow = { clock.now() }
        let drainState = PCSCFDrainState()
        let hooks = PCSCFHooks(pcscf: PCSCF(configuration: pcscfConfig, store: store, ids: ids), nextHops: nextHops,
                               now: now, logger: logger, drain: drainState)
        // Iq (issue 9): the MGC listens, the IMS-AGW registers; the ALG sessions drive it.
        var iqClient: IqClient?
        var alg: ALGSessions?
        if let iq = settings.iq {
            var timers = iq.timers
            timers.longTimer = iq.longTimer
            let opened = try await openH248Transport(iq.listen)
            let h248: any H248Transport = iq.gatewayAllowList.isEmpty
                ? opened : AllowListH248Transport(opened, allow: iq.gatewayAllowList, logger: logger)
            let port = UInt16(clamping: h248.localPort ?? iq.listen.port)
            var config = IqClientConfiguration(mid: .address(iq.listen.host, port: port), form: iq.form)
            config.association = iq.association
            config.timers = timers
            config.responseAckFlushDelay = iq.responseAckFlushDelay
            do { try config.validate() } catch { await h248.close(); throw PCSCFServiceError.configuration("\(error)") }
            let client = IqClient(transport: h248, configuration: config)
            await client.start()
            var session = iq.session
            session.warningAgent = settings.domain
            let origin = clock.now()
            let sessions = ALGSessions(mgc: IqMGCClient(client: client, mapping: iq.mapping, logger: logger), configuration: session,
                                       now: { clock.now() - origin }, logger: logger)
            await hooks.attach(alg: sessions)
            iqClient = client
            alg = sessions
            logger.info("Iq: listening on \(iq.listen.kind):\(iq.listen.host):\(port) (\(iq.form))")
            if let wait = iq.waitForGateway {
                do {
                    let version = try await client.waitForRegistration(timeout: wait)
                    logger.info("Iq: IMS-AGW registered (H.248 version \(version))")
                } catch {
                    logger.warning("Iq: no IMS-AGW registered within \(wait): offers get 503 until one does")
                }
            }
        }
        let limits = settings.transportLimits
        let transport = SIPTransportConfiguration(listeners: settings.listeners, udpMaxMessageBytes: limits.udpMaxMessageBytes,
                                                  maxConnections: limits.maxConnections,
                                                  idleTimeout: .milliseconds(Self.milliseconds(limits.idleTimeout)),
                                                  parseLimits: limits.parseLimits, warningAgent: settings.domain,
                                                  tlsClient: settings.tlsClient)
        let serverConfig = ProxyServerConfiguration(
            transport: transport, nextHop: nextHops.current(now: clock.now())?.resolved, recordRoute: true,
            supportedExtensions: settings.proxyRequireSupported, warningAgent: settings.domain,
            transactions: settings.transactions, idPrefix: settings.idPrefix)
        let server = ProxyServer(configuration: serverConfig, hooks: hooks, clock: clock, logger: logger)
        do { try await server.start() } catch {
            await iqClient?.close()   // do not leave the Iq listener open when the SIP side cannot start
            throw error
        }

        if settings.deriveURIsFromListeners {
            pcscfConfig = Self.derive(pcscfConfig, bound: server.transport.listeners, advertisedHost: settings.advertisedHost,
                                      domain: settings.domain)
        }
        await hooks.update(configuration: pcscfConfig)
        logger.info("P-CSCF path=\(pcscfConfig.pathURI) core=\(nextHops.all.map(\.description).joined(separator: ", "))")

        let service = PCSCFService(server: server, hooks: hooks, nextHops: nextHops, configuration: pcscfConfig,
                                   iq: iqClient, alg: alg, settings: settings, drainState: drainState, logger: logger,
                                   timers: settings.runsReaperTask ? Task { [alg] in await Self.reap(hooks: hooks, alg: alg, nextHops: nextHops, settings: settings) } : nil)
        return service
    }

    /// The session/registration reaper: expired bindings swept, ALG sessions ticked (setup timeout),
    /// core next-hop names resolved again. Runs until cancelled.
    public func runReaper() async {
        await Self.reap(hooks: hooks, alg: alg, nextHops: nextHops, settings: settings)
    }

    private static func reap(hooks: PCSCFHooks, alg: ALGSessions?, nextHops: PCSCFNextHops, settings: PCSCFServiceConfiguration) async {
        let sweep = settings.sweepInterval
        let refresh = settings.dnsRefreshInterval
        var sinceRefresh: Duration = .zero
        while !Task.isCancelled {
            do { try await Task.sleep(for: sweep) } catch { return }
            await hooks.sweep()
            await alg?.tick()
            sinceRefresh += sweep
            if sinceRefresh >= refresh {
                sinceRefresh = .zero
                nextHops.refresh()
            }
        }
    }

    static func milliseconds(_ d: Duration) -> Int64 {
        d.components.seconds &* 1_000 &+ d.components.attoseconds / 1_000_000_000_000_000
    }

    /// The stored bindings with their media-security flags (admin and test view).
    public func bindings() async -> [PCSCFBindingView] { await hooks.bindings() }

    /// The bound port of the first listener of `side` and `transport`.
    public func port(_ side: SIPSide, _ transport: SIPTransportKind) -> Int? {
        server.transport.listener(side: side, transport: transport)?.port
    }

    public func shutdown() async {
        timers?.cancel()
        await server.shutdown()
        await iq?.close()
    }

    /// Path / Record-Route marker URIs on the first Mw listener; every listener as a local alias.
    static func derive(_ c: PCSCFConfiguration, bound: [SIPListenerInfo], advertisedHost: String?, domain: String) -> PCSCFConfiguration {
        var c = c
        guard let mw = bound.first(where: { $0.side == .mw }) else { return c }
        let host = advertisedHost ?? mw.configuration.host
        let hostText = host.contains(":") ? "[\(host)]" : host
        let transport = mw.transport == .udp ? "" : ";transport=\(mw.transport.rawValue.lowercased())"
        let scheme = mw.transport == .tls ? "sips" : "sip"
        c.pathURI = "\(scheme):term@\(hostText):\(mw.port)\(transport);lr"
        c.originatingRecordRouteURI = "\(scheme):mo@\(hostText):\(mw.port)\(transport);lr"
        c.terminatingRecordRouteURI = "\(scheme):mt@\(hostText):\(mw.port)\(transport);lr"
        var aliases = c.localAliases
        for l in bound {
            let h = l.configuration.host.contains(":") ? "[\(l.configuration.host)]" : l.configuration.host
            aliases.append("\(h):\(l.port)")
        }
        aliases.append(domain)
        var seen: Set<String> = []
        c.localAliases = aliases.filter { seen.insert($0).inserted }
        return c
    }

    /// A prefix unique per run: start time and pid (RFC 3261 §8.1.1.7 branch uniqueness across time).
    public static func runPrefix() -> String {
        let stamp = UInt64(Date().timeIntervalSince1970 * 1000) & 0xFFFF_FFFF
        return String(stamp, radix: 36) + String(ProcessInfo.processInfo.processIdentifier, radix: 36)
    }
}
