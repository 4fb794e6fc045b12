// Configuration of the running proxy: transport listeners, the generic routing default (next hop for
// requests from Gm), the proxy core options and the transaction layer.
public import SIPProxy
public import SIPTransaction
public import SIPTransport

public struct ProxyServerConfiguration: Sendable {
    /// Listeners and transport options (Gm towards UEs, Mw towards the core).
    public var transport: SIPTransportConfiguration
    /// Next hop for initial requests arriving on Gm with no Route beyond this proxy (an outbound proxy
    /// / the core entry, e.g. `sip:127.0.0.1:5080;transport=udp`). Nil: by Request-URI.
    public var nextHop: String?
    /// Record-Route dialog-creating requests (RFC 3261 §16.6 step 4).
    public var recordRoute: Bool
    /// Option tags accepted in Proxy-Require (RFC 3261 §16.3 step 5).
    public var supportedExtensions: Set<String>
    /// warn-agent of Warning headers in our own responses (RFC 3261 §20.43).
    public var warningAgent: String
    /// Timers (T1, T2, T4), the transaction bound (answered 503 when full) and Timer C.
    public var transactions: TransactionLayerConfiguration
    /// Longest sleep of the timer task: a deadline that appears while it sleeps fires at most this
    /// late. 50 ms is a tenth of T1 (RFC 3261 §17.1.1.1 default 500 ms).
    public var timerGranularity: Duration
    /// Run the timer task. Off in tests that drive `ProxyServer.fireTimers()` with a manual clock.
    public var runsTimerTask: Bool
    /// Prefix of branch tokens and To tags: must differ between runs and instances (RFC 3261 §8.1.1.7
    /// branch uniqueness across time). The command line derives it from the start time and pid.
    public var idPrefix: String

    /// Bound on cached name -> address resolutions of next hops.
    public static let maxResolverCacheEntries = 1024

    public init(transport: SIPTransportConfiguration, nextHop: String? = nil, recordRoute: Bool = true,
                supportedExtensions: Set<String> = [], warningAgent: String = "pcscf-alg",
                transactions: TransactionLayerConfiguration = TransactionLayerConfiguration(),
                timerGranularity: Duration = .milliseconds(50), runsTimerTask: Bool = true, idPrefix: String = "p") {
        self.transport = transport
        self.nextHop = nextHop
        self.recordRoute = recordRoute
        self.supportedExtensions = supportedExtensions
        self.warningAgent = warningAgent
        self.transactions = transactions
        self.timerGranularity = timerGranularity
        self.runsTimerTask = runsTimerTask
        self.idPrefix = idPrefix
    }
}

extension SIPSide {
    /// The proxy core's name for this side (Gm = access, Mw = core).
    public var proxySide: ProxySide { self == .gm ? .access : .core }
    /// The other side.
    public var opposite: SIPSide { self == .gm ? .mw : .gm }
}

extension ProxySide {
    public var sipSide: SIPSide { self == .access ? .gm : .mw }
}
