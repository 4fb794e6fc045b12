// The running stateful proxy (RFC 3261 §16): joins SIPTransportService (sockets), TransactionLayer
// (RFC 3261 §17 / RFC 6026 machines), SIPProxyCore (§16.3-§16.7 decisions, pure) and ResponseContext
// (§16.7 response selection, §16.8 Timer C, §16.10 CANCEL). One actor whose executor is the transport's
// event loop: a received message is handled synchronously on the loop that read it, and sends are
// written from that loop, so a message never changes threads; only a stream send that must connect
// first goes through an ordered per-destination task. Hooks may suspend (they resume on the loop).
import Foundation
public import Logging
public import NIOCore
public import SIPCore
public import SIPProxy
public import SIPTransaction
public import SIPTransport

/// Counters of the driver (a snapshot for tests and metrics).
public struct ProxyServerCounters: Sendable, Equatable {
    public var requestsReceived = 0
    public var requestsForwarded = 0
    /// 2xx ACKs and other stateless forwards (RFC 3261 §16.11).
    public var statelessForwards = 0
    public var responsesForwarded = 0
    /// Final responses the proxy built itself (rejections, 408, 487, 503...).
    public var localResponses = 0
    public var cancelsReceived = 0
    /// New requests answered 503 because the transaction table is full.
    public var transactionLimitRejects = 0
    public var sendFailures = 0
    /// Responses that matched no client transaction, or were not ours (§16.7 step 3, RFC 6026).
    public var responsesDropped = 0
    public init() {}
}

public actor ProxyServer {
    /// The event loop every listener and connection of this proxy runs on, and the actor's executor.
    public nonisolated let eventLoop: any EventLoop
    private nonisolated let loopExecutor: any SerialExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { loopExecutor.asUnownedSerialExecutor() }

    public typealias Layer = TransactionLayer<SIPMessage, SIPDestination>
    public typealias Output = TransactionLayerOutput<SIPMessage, SIPDestination>

    public nonisolated let configuration: ProxyServerConfiguration
    /// The transport (listeners, counters).
    public nonisolated let transport: SIPTransportService
    private let hooks: (any ProxyRuntimeHooks)?
    private let clock: any ProxyClock
    private var logger: Logger

    private var layer: Layer
    private var core: SIPProxyCore
    private var ids: CountingIDGenerator
    private var listeners: [ProxyListener] = []
    private var boundAddresses: [SocketAddress] = []
    private var servers: [TransactionID: ServerEntry] = [:]
    private var clients: [TransactionID: ClientEntry] = [:]
    /// Stream destinations with a send chain in progress (connecting): later sends queue behind it.
    private var sendTails: [String: SendTail] = [:]
    private var resolved: [String: SocketAddress] = [:]
    /// The configured next hop, read once at `start` (every initial request from Gm goes there).
    private var nextHopParts: SIPURIParts?
    /// The last IP literal converted by `resolve` (most requests go to the same next hop).
    private var lastResolved: (host: String, port: Int, address: SocketAddress)?
    private var tasks: [Task<Void, Never>] = []
    private var started = false
    public private(set) var counters = ProxyServerCounters()

    /// Per server transaction: the request, where it came from, its response context (§16.7). A class: the
    /// table's values stay one pointer wide (growing it moved every entry, tens of thousands while the
    /// transactions absorb retransmissions for 64*T1), and a field is read or updated without copying the
    /// entry. Confined to the actor.
    final class ServerEntry {
        let requestID: ProxyRequestID
        let request: SIPMessage
        /// The request's matching fields, reused for the messages the driver sends for it (no re-parse).
        let headers: TransactionHeaderFields
        let inbound: ProxyFlow
        let inboundListener: ProxyListener
        var context: ResponseContext
        var serverAlive = true
        var liveClients = 0
        var finalSent = false
        var forwarded = false
        /// A CANCEL arrived before the request was forwarded (hooks pending): answered 487.
        var cancelled = false
        /// Destination of each branch (for its CANCEL, RFC 3261 §9.1: same destination).
        var branchDestinations = BranchDestinations()
        /// Hook work on responses of this request, chained so they go upstream in arrival order.
        var responseChain: Task<Void, Never>?

        init(requestID: ProxyRequestID, request: SIPMessage, headers: TransactionHeaderFields, inbound: ProxyFlow,
             inboundListener: ProxyListener, context: ResponseContext) {
            self.requestID = requestID
            self.request = request
            self.headers = headers
            self.inbound = inbound
            self.inboundListener = inboundListener
            self.context = context
        }
    }

    /// Destination of each branch of a request by branch id: the first branch inline (a request has one
    /// unless it forks), others in a dictionary (no dictionary allocated per forwarded request).
    struct BranchDestinations {
        private var first: (branch: String, destination: SIPDestination)?
        private var more: [String: SIPDestination] = [:]

        subscript(branch: String) -> SIPDestination? {
            get {
                if let f = first, f.branch == branch { return f.destination }
                return more.isEmpty ? nil : more[branch]
            }
            set {
                if let f = first, f.branch == branch {
                    first = newValue.map { (branch, $0) }
                } else if first == nil, more[branch] == nil, let value = newValue {
                    first = (branch, value)
                } else {
                    more[branch] = newValue
                }
            }
        }
    }

    struct ClientEntry {
        let server: TransactionID
        let branch: String
        let isCancel: Bool
    }

    /// A request the proxy sent itself (`originate`): the request, where it went, who waits.
    struct OriginatedEntry {
        let request: ProxyOriginatedRequest
        let routes: [String]
        let destination: SIPDestination
        let listener: ProxyListener
        let result: AsyncStream<Int>.Continuation
        var finished = false
    }
    private var originated: [TransactionID: OriginatedEntry] = [:]

    /// - Parameters:
    ///   - hooks: the P-CSCF / ALG hooks; nil runs the generic proxy without suspension points.
    ///   - clock: injected time (`ContinuousProxyClock` in production).
    ///   - group: the proxy runs on one event loop of it (`group.next()`); nil: one loop of
    ///     `SIPTransportService.sharedEventLoopGroup` (never shut down, so the actor outlives `shutdown`).
    public init(configuration: ProxyServerConfiguration, hooks: (any ProxyRuntimeHooks)? = nil,
                clock: any ProxyClock = ContinuousProxyClock(), logger: Logger = Logger(label: "pcscf-alg.proxy"),
                group: (any EventLoopGroup)? = nil) {
        self.configuration = configuration
        let loop = (group ?? SIPTransportService.sharedEventLoopGroup).next()
        self.eventLoop = loop
        self.loopExecutor = loop.executor
        self.transport = SIPTransportService(configuration: configuration.transport, group: loop)
        self.hooks = hooks
        self.clock = clock
        self.logger = logger
        self.layer = Layer(configuration: configuration.transactions, start: clock.now(), makeACK: ProxyACKBuilder.factory)
        self.core = SIPProxyCore(configuration: ProxyConfiguration(listeners: []))
        self.ids = CountingIDGenerator(prefix: configuration.idPrefix)
    }

    // MARK: Lifecycle

    /// Binds the listeners and starts consuming messages and running timers.
    public func start() async throws {
        guard !started else { return }
        try configuration.transactions.validate()
        if let hop = configuration.nextHop {
            guard let parts = SIPURIParts(parsing: hop) else { throw SIPTransportConfigurationError("next hop \(hop) is not a sip/sips URI") }
            nextHopParts = parts
        }
        transport.deliverInbound { [weak self] inbound in self?.deliver(inbound) }
        try await transport.start()
        started = true
        listeners = transport.listeners.map {
            ProxyListener(host: $0.configuration.host, port: $0.port, transport: $0.transport.rawValue, side: $0.side.proxySide)
        }
        boundAddresses = transport.listeners.map(\.localAddress)
        core = SIPProxyCore(configuration: ProxyConfiguration(
            listeners: listeners, recordRoute: configuration.recordRoute,
            supportedExtensions: configuration.supportedExtensions, warningAgent: configuration.warningAgent))
        if configuration.runsTimerTask {
            if clock is ContinuousProxyClock {
                // Production clock: the wake-ups are scheduled on the event loop itself (no dispatch
                // timer, no hop through the cooperative pool); only durations from `clock` are used.
                loopTimerRunning = true
                scheduleLoopTimer()
            } else {
                tasks.append(Task { await self.timerLoop() })
            }
        }
    }

    /// Stops the tasks and closes the transport.
    public func shutdown() async {
        for t in tasks { t.cancel() }
        tasks = []
        loopTimerRunning = false
        loopTimer?.cancel()
        loopTimer = nil
        try? await transport.shutdown()
    }

    /// The bound listeners as the core sees them (ports resolved after `start`).
    public var boundListeners: [ProxyListener] { listeners }

    /// Live transactions (client + server).
    public var transactionCount: Int { layer.count }

    /// The transport's sink: runs on the channel's event loop, which is this actor's executor (the
    /// transport binds everything on `eventLoop`), so the message is handled without a hop.
    private nonisolated func deliver(_ inbound: SIPInbound) {
        if eventLoop.inEventLoop {
            // `onLoop` without a closure context: a closure that captures nothing, cast the same way.
            let body: (isolated ProxyServer, SIPInbound) -> Void = { $0.receive($1) }
            unsafeBitCast(body, to: ((ProxyServer, SIPInbound) -> Void).self)(self, inbound)
        } else {
            eventLoop.execute { self.assumeIsolated { $0.receive(inbound) } }
        }
    }

    /// `assumeIsolated` for a caller that runs on `eventLoop` (checked by the caller with `inEventLoop`,
    /// or a task scheduled on it): the loop is this actor's executor, so the call is isolated; this skips
    /// the runtime's executor lookup, once per message (what `assumeIsolated` does after its check).
    @inline(__always) fileprivate nonisolated func onLoop(_ body: (isolated ProxyServer) -> Void) {
        withoutActuallyEscaping(body) { escapable in
            unsafeBitCast(escapable, to: ((ProxyServer) -> Void).self)(self)
        }
    }

    /// When the timer task wakes next: the next deadline, at most `timerGranularity` away; deadlines
    /// closer together than `timerCoalescing` fire in one wake-up (under load each transaction has its
    /// own instant: thousands of wake-ups a second otherwise); received messages fire due timers too
    /// (`TransactionLayer.receive`).
    private func nextWake(after now: TransactionInstant) -> TransactionInstant {
        let granularity = configuration.timerGranularity
        return max(min(layer.nextDeadline ?? now + granularity, now + granularity), now + min(Self.timerCoalescing, granularity))
    }

    private func timerLoop() async {
        while !Task.isCancelled {
            do { try await clock.sleep(until: nextWake(after: clock.now())) } catch { return }
            fireTimers()
        }
    }

    private var loopTimer: NIOScheduledCallback?
    private var loopTimerRunning = false
    private lazy var loopTimerHandler = LoopTimerHandler(self)

    /// The timer task on the event loop (with `ContinuousProxyClock`): one scheduled callback at a time,
    /// through one handler object (NIO's scheduled callbacks: no promise, future or closure per wake-up).
    private func scheduleLoopTimer() {
        let now = clock.now()
        let delay = (nextWake(after: now) - now).components
        let nanoseconds = delay.seconds * 1_000_000_000 + delay.attoseconds / 1_000_000_000
        loopTimer = try? eventLoop.scheduleCallback(in: .nanoseconds(nanoseconds), handler: loopTimerHandler)
    }

    /// The wake-up of the timer task: runs on `eventLoop` (isolated, see `onLoop`); holds the server weakly.
    final class LoopTimerHandler: NIOScheduledCallbackHandler, @unchecked Sendable {
        // Written once at init, then only read (on the loop).
        private weak var server: ProxyServer?
        init(_ server: ProxyServer) { self.server = server }

        func handleScheduledCallback(eventLoop: some EventLoop) {
            server?.onLoop { server in
                guard server.loopTimerRunning else { return }
                server.fireTimers()
                server.scheduleLoopTimer()
            }
        }
    }

    /// Shortest sleep of the timer task: a timer fires at most this late (a hundredth of T1's default,
    /// RFC 3261 §17.1.1.1), and the task wakes at most 200 times a second.
    public static let timerCoalescing: Duration = .milliseconds(5)

    /// Fires the transaction timers that are due at `clock.now()` (the timer task calls it; tests with a
    /// manual clock call it after advancing).
    public func fireTimers() {
        run(layer.advance(to: clock.now()), inbound: nil)
        if !sendTails.isEmpty { sendTails = sendTails.filter { !$0.value.isDone } }
    }

    // MARK: Input

    /// One message from the transport.
    func receive(_ inbound: SIPInbound) {
        guard let message = TransactionMessage(inbound.message, topVia: inbound.receivedTopVia ?? inbound.message.topVia) else {
            // The transport's parser already answers requests without Via/Call-ID/CSeq (400); defensive.
            counters.responsesDropped += inbound.message.isRequest ? 0 : 1
            return
        }
        let outputs = layer.receive(message, from: .flow(inbound.flow), reliable: inbound.transport.isStream, now: clock.now())
        run(outputs, inbound: inbound)
    }

    /// Executes the layer's outputs.
    private func run(_ outputs: consuming [Output], inbound: SIPInbound?) {
        // Each output is moved out of the (uniquely owned) array instead of copied by a `for` loop: its
        // message is not retained and released once more per output. Order kept (reversed, then popped).
        var pending = outputs
        pending.reverse()
        while let output = pending.popLast() {
            switch consume output {
            case .transmit(let message, let peer, _, let txn):
                enqueueSend(message.payload.bytes, to: peer, transaction: txn)
            case .newRequest(let id, let message, _):
                if let inbound { newRequest(id, message.payload, headers: message.headers, inbound: inbound) }
            case .cancelRequest(let id, let message, _, let invite):
                cancelRequest(id, message.payload, invite: invite)
            case .response(let id, let message):
                if originated[id] != nil { originatedResponse(message.payload, on: id); continue }
                if let inbound { response(message.payload, on: id, inbound: inbound) }
            case .ack(let message, _, _):
                // An ACK the transactions did not absorb: the ACK for a 2xx (RFC 3261 §16.10, §17.2.3),
                // or one matched to an Accepted INVITE server transaction (RFC 6026 §7.1). Forwarded
                // statelessly by its Route / Request-URI (§16.11).
                if let inbound { ack(message.payload, inbound: inbound) }
            case .timeout(let id, _):
                if originated[id] != nil { finishOriginated(id, status: 408); continue }
                if let c = clients[id], !c.isCancel { feed(c.server, .branchTimedOut(branch: c.branch)) }
            case .transportError(let id):
                if originated[id] != nil { finishOriginated(id, status: 503); continue }
                // RFC 3261 §16.7 step 1 / §17.1.4: a transport failure counts as a 503 on the branch
                // (a 503 chosen as best goes upstream as 500, §16.7 step 6).
                if let c = clients[id], !c.isCancel {
                    feed(c.server, .response(branch: c.branch, outcome: .replace(ProxyReject(status: 503, reason: "Service Unavailable"))))
                }
            case .timerC(let id, _):
                if let c = clients[id], !c.isCancel { feed(c.server, .timerC(branch: c.branch)) }
            case .terminated(let id):
                if originated[id] != nil {
                    finishOriginated(id, status: 408)
                    originated[id] = nil
                    continue
                }
                terminated(id)
            case .rejectStateless(let message, let status, let peer, _):
                counters.transactionLimitRejects += 1
                logger.warning("transaction table full (\(configuration.transactions.maximumTransactions)): \(status) for \(message.method.rawValue) cid=\(message.headers.callID)")
                if message.method != .ack {
                    enqueueSend(SIPResponseBuilder.response(to: message.payload, status: status, reason: "Service Unavailable",
                                                            toTag: ids.tag()), to: peer, transaction: nil)
                }
            case .discarded:
                counters.responsesDropped += 1
            }
        }
    }

    // MARK: Requests

    private func newRequest(_ id: TransactionID, _ request: SIPMessage, headers: TransactionHeaderFields, inbound: SIPInbound) {
        counters.requestsReceived += 1
        logRequest(request, inbound: inbound)
        let flow = ProxyFlow(inbound)
        let entry = ServerEntry(requestID: ProxyRequestID(rawValue: id.rawValue), request: request, headers: headers, inbound: flow,
                                inboundListener: listener(for: inbound), context: ResponseContext(request: request, toTag: ids.tag()))
        servers[id] = entry
        if request.method == "INVITE" {
            // RFC 3261 §16.2: a stateful proxy sends 100 Trying for an INVITE at once (§16.7 step 5: 100s
            // from downstream are not forwarded).
            sendResponse(SIPProxyCore.trying(for: request), on: id)
        }
        if let hooks {
            let context = ProxyRequestContext(id: entry.requestID, inbound: flow)
            Task { await self.forwardWithHooks(id, request, context: context, hooks: hooks) }
        } else {
            forward(id, request, edits: nil)
        }
    }

    private func forwardWithHooks(_ id: TransactionID, _ request: SIPMessage, context: ProxyRequestContext,
                                  hooks: any ProxyRuntimeHooks) async {
        let decision = await hooks.processRequest(request, context: context)
        guard let entry = servers[id], !entry.cancelled, !entry.finalSent else { return }
        switch decision {
        case .respond(let answer):
            respondLocally(id, answer)
        case .forward(var edits):
            applyPreloadedRoutes(&edits, request)
            if !request.bodyRange.isEmpty, let ct = request.contentType {
                let to = edits.flow?.side ?? edits.outboundSide ?? defaultOutboundSide(from: context.inbound.side)
                let bodyContext = ProxyBodyContext(requestID: context.id, direction: .request(from: context.inbound.side.proxySide, to: to.proxySide),
                                                   request: request, requestInbound: context.inbound, status: nil)
                let result = await hooks.rewriteBody(request.body, contentType: ct, message: request, context: bodyContext)
                guard let again = servers[id], !again.cancelled, !again.finalSent else { return }
                switch result {
                case .unchanged: break
                case .replaced(let body, let contentType): edits.splice.replaceBody(body, contentType: contentType)
                case .failed(let rejection): respondLocally(id, rejection); return
                }
            }
            let bytes = edits.splice.bytes()
            var message = request
            if bytes != request.bytes {
                do { message = try SIPParser.parse(bytes, validateWithLibOSIP2: false) } catch {
                    logger.error("hook edits made an unparsable request (\(error.code)); answering 500")
                    respondLocally(id, ProxyReject(status: 500, reason: "Server Internal Error"))
                    return
                }
            }
            forward(id, message, edits: edits)
        }
    }

    /// Puts the hook's pre-loaded Route values above the received Route set (RFC 3261 §16.6 step 6).
    private func applyPreloadedRoutes(_ edits: inout ProxyRequestEdits, _ request: SIPMessage) {
        guard !edits.preloadedRoutes.isEmpty else { return }
        let existing = request.fields(.route).map { request.value(of: $0) }
        edits.splice.removeHeader("Route")
        for r in edits.preloadedRoutes + existing { edits.splice.addHeader("Route", r) }
    }

    /// The target of a request per the routing defaults and the hook's choices.
    struct Target {
        var outboundSide: SIPSide
        /// URI whose host/port/transport is the destination when the core's next hop is overridden.
        var destinationURI: String?
        var flow: ProxyFlow?
        /// Transport of the next hop: the flow's, the destination URI's, else the first Route beyond us or
        /// the Request-URI (what picks the outbound listener).
        var hopTransport: SIPTransportKind?
    }

    /// Routing defaults (Docs/proxy-runtime.md): a Route beyond this proxy is followed; otherwise an
    /// initial request from Gm goes to the configured next hop; otherwise the Request-URI. The outbound
    /// side is the other side when it has listeners. The Route set and the Request-URI are parsed once
    /// here for both the target and the hop's transport.
    private func target(for request: SIPMessage, inboundSide: SIPSide, edits: ProxyRequestEdits?) -> Target {
        var t = Target(outboundSide: defaultOutboundSide(from: inboundSide))
        // The first Route that is not ours (or that does not parse) makes the route set foreign; its
        // transport is the hop's (nil when it does not parse).
        // (The elements of `request.routes`, read through the memo.)
        var foreignRoute = false
        var routeTransport: SIPTransportKind?
        routes: for field in request.headers where field.name == .route {
            for range in request.elementRanges(of: field) {
                switch uriFacts(request, range, route: true) {
                case .notNameAddress: continue
                case .unparsable: foreignRoute = true
                case .parsed(let ours, let transport):
                    if ours { continue }
                    foreignRoute = true
                    routeTransport = transport
                }
                break routes
            }
        }
        var uri = URIFacts.unparsable
        if case .request(_, let range) = request.startLine { uri = uriFacts(request, range, route: false) }
        // An in-dialog request whose Request-URI is the remote target goes there; one addressed to this
        // proxy (a UA that sends everything to its outbound proxy, e.g. SIPp's built-in uac) goes on to
        // the next hop like an initial request.
        if !foreignRoute, inboundSide == .gm, edits?.requestURI == nil, let hop = configuration.nextHop,
           !request.hasToTag || uri.isOurs {
            t.destinationURI = hop
        }
        if let e = edits {
            if let side = e.outboundSide { t.outboundSide = side }
            if let hop = e.nextHop { t.destinationURI = hop }
            if let flow = e.flow { t.flow = flow; t.outboundSide = flow.side }
        }
        t.hopTransport = transportOf(t) ?? (foreignRoute ? routeTransport : uri.transport)
        return t
    }

    @inline(__always) static func sameBytes(_ a: [UInt8], _ b: ArraySlice<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                guard let xp = x.baseAddress, let yp = y.baseAddress else { return x.isEmpty && y.isEmpty }
                return memcmp(xp, yp, x.count) == 0
            }
        }
    }

    /// What the routing defaults read of a Route element or a Request-URI.
    enum URIFacts: Sendable {
        /// A Route element that is no name-addr (`SIPMessage.routes` leaves it out).
        case notNameAddress
        /// No sip/sips URI.
        case unparsable
        /// Whether it names one of our listeners, and its transport (`effectiveTransport`).
        case parsed(ours: Bool, transport: SIPTransportKind?)

        var isOurs: Bool { if case .parsed(true, _) = self { return true } else { return false } }
        var transport: SIPTransportKind? { if case .parsed(_, let t) = self { return t } else { return nil } }
    }

    /// Recent Route elements and Request-URIs by their bytes (most are our own Record-Route URIs and a few
    /// next hops): a hit costs a byte comparison instead of a name-addr and URI parse. Bounded.
    private var uriMemo: [(route: Bool, key: [UInt8], facts: URIFacts)] = []
    private var uriMemoNext = 0
    static let uriMemoEntries = 16

    /// The facts of the Route element (`route`) or Request-URI at `range` of `request`, as
    /// `SIPNameAddress(parsing:)` + `SIPURIParts(parsing:)` + `isOurs` give them (a pure function of the
    /// bytes, so memoised by them; `listeners` do not change after `start`).
    private func uriFacts(_ request: SIPMessage, _ range: Range<Int>, route: Bool) -> URIFacts {
        let key = request.bytes[range]
        for i in uriMemo.indices where uriMemo[i].route == route && Self.sameBytes(uriMemo[i].key, key) {
            return uriMemo[i].facts
        }
        let text = request.text(range)
        // (A miss only: the memo spares this parse on a hit.)
        func parsedFacts(_ uri: String) -> URIFacts {
            SIPURIParts(parsing: uri).map { .parsed(ours: core.configuration.isOurs($0), transport: SIPTransportKind(rawValue: $0.effectiveTransport)) }
                ?? .unparsable
        }
        let facts: URIFacts
        if route, let address = SIPNameAddress(parsing: text[...]) {
            facts = parsedFacts(address.uri)
        } else if route {
            facts = .notNameAddress
        } else {
            facts = parsedFacts(text)
        }
        let entry = (route: route, key: Array(key), facts: facts)
        if uriMemo.count < Self.uriMemoEntries { uriMemo.append(entry) } else { uriMemo[uriMemoNext] = entry }
        uriMemoNext = (uriMemoNext + 1) % Self.uriMemoEntries
        return facts
    }

    private func defaultOutboundSide(from side: SIPSide) -> SIPSide {
        let other = side.opposite.proxySide
        for l in listeners where l.side == other { return side.opposite }
        return side
    }

    private func forward(_ id: TransactionID, _ request: SIPMessage, edits: ProxyRequestEdits?) {
        // (The entry is a class: read through its reference, no copy of its fields.)
        guard let entry = servers[id], !entry.cancelled, !entry.finalSent else { return }
        let inbound = entry.inbound
        let t = target(for: request, inboundSide: inbound.side, edits: edits)
        var outbound = pickListener(side: t.outboundSide, transport: t.hopTransport)
        var decision: ForwardDecision
        switch process(request, entry: entry, outbound: outbound, edits: edits) {
        case .forward(let d): decision = d
        case .reject(let rejection): respondLocally(id, rejection); return
        case .absorb: return
        }
        guard var destination = destination(for: decision, target: t) else {
            respondLocally(id, ProxyReject(status: 503, reason: "Service Unavailable",
                                           warning: .init(code: 399, agent: configuration.warningAgent, text: "next hop unreachable")))
            return
        }
        if isSelf(destination) {
            // RFC 3261 §16.3 step 4 / RFC 5393: a next hop that is this proxy would loop (the request is
            // addressed to us with no Route beyond us and no next hop applies).
            respondLocally(id, ProxyReject(status: 482, reason: "Loop Detected",
                                           warning: .init(code: 399, agent: configuration.warningAgent, text: "next hop is this proxy")))
            return
        }
        // RFC 3261 §18.1.1: a request over 1300 bytes (the configured bound) goes over TCP; our Via must
        // name the transport used, so the request is rebuilt from the TCP listener of that side.
        if case .address(let address, .udp, let side) = destination,
           transport.transport(forMessageOf: decision.bytes.count, requested: .udp) == .tcp,
           let tcp = listeners.first(where: { $0.side == side.proxySide && $0.transport == "TCP" }) {
            outbound = tcp
            switch process(request, entry: entry, outbound: outbound, edits: edits) {
            case .forward(let d): decision = d
            case .reject(let rejection): respondLocally(id, rejection); return
            case .absorb: return
            }
            destination = .address(address, transport: .tcp, side: side)
        }
        // The client transaction's view: our Via's branch and the request's Call-ID/CSeq/tags (the
        // forwarded bytes are only scanned, not parsed into views again).
        guard let scanned = try? SIPParser.scan(decision.bytes), let method = scanned.method else {
            respondLocally(id, ProxyReject(status: 500, reason: "Server Internal Error")); return
        }
        let message = TransactionMessage(
            startLine: .request(method: TransactionMethod(method), requestURI: scanned.requestURI ?? ""),
            headers: TransactionHeaderFields(
                topVia: TopVia(transport: decision.outbound.transport,
                               sentBy: ViaSentBy(host: decision.outbound.host, port: UInt16(exactly: decision.outbound.port)),
                               branch: decision.branch),
                callID: entry.headers.callID, cseq: entry.headers.cseq, fromTag: entry.headers.fromTag, toTag: entry.headers.toTag),
            payload: scanned)
        guard servers[id]?.context.addBranch(decision) == true else {
            respondLocally(id, ProxyReject(status: 500, reason: "Server Internal Error")); return
        }
        let (clientID, outputs): (TransactionID, [Output])
        do {
            (clientID, outputs) = try layer.sendRequest(message, to: destination, reliable: isReliable(destination), now: clock.now())
        } catch {
            counters.transactionLimitRejects += 1
            respondLocally(id, ProxyReject(status: error.sipStatus, reason: error.sipStatus == 503 ? "Service Unavailable" : "Server Internal Error"))
            return
        }
        if let i = servers.index(forKey: id) {
            servers.values[i].forwarded = true
            servers.values[i].liveClients += 1
            servers.values[i].branchDestinations[decision.branch] = destination
        }
        clients[clientID] = ClientEntry(server: id, branch: decision.branch, isCancel: false)
        counters.requestsForwarded += 1
        run(outputs, inbound: nil)
    }

    /// The core's decision with the driver's overrides (outbound listener, hook's Request-URI and
    /// Record-Route choice) composed in front of the configured request policy.
    private func process(_ request: SIPMessage, entry: ServerEntry, outbound: ProxyListener?, edits: ProxyRequestEdits?) -> RequestOutcome {
        var c = core
        c.requestPolicy = RuntimeRequestPolicy(base: core.requestPolicy, requestURI: edits?.requestURI, outbound: outbound,
                                               recordRoute: edits?.recordRoute)
        return c.processRequest(request, arrivedOn: entry.inboundListener, ids: &ids)
    }

    /// `SIPURIParts(parsing: uri)`, without parsing when `uri` is the configured next hop.
    private func uriParts(_ uri: String) -> SIPURIParts? {
        if let p = nextHopParts, uri == configuration.nextHop { return p }
        return SIPURIParts(parsing: uri)
    }

    private func transportOf(_ t: Target) -> SIPTransportKind? {
        if let f = t.flow { return f.transport }
        if let u = t.destinationURI, let p = uriParts(u) { return SIPTransportKind(rawValue: p.effectiveTransport) }
        return nil
    }

    // (Loops, not closures: a closure of an actor method that reads `self` checks the executor each call.)
    private func pickListener(side: SIPSide, transport kind: SIPTransportKind?) -> ProxyListener? {
        let proxySide = side.proxySide
        var first: ProxyListener?
        for l in listeners where l.side == proxySide {
            if let kind, l.transport == kind.rawValue { return l }
            if first == nil { first = l }
        }
        return first
    }

    private func listener(for inbound: SIPInbound) -> ProxyListener {
        let side = inbound.side.proxySide
        var onSide: ProxyListener?
        for l in listeners where l.side == side {
            if l.transport == inbound.transport.rawValue { return l }
            if onSide == nil { onSide = l }
        }
        return onSide ?? ProxyListener(host: inbound.local.ipAddress ?? "0.0.0.0", port: inbound.local.port ?? 0,
                                       transport: inbound.transport.rawValue, side: side)
    }

    private func destination(for decision: ForwardDecision, target t: Target) -> SIPDestination? {
        if let flow = t.flow { return .flow(flow.token) }
        let side = decision.outbound.side.sipSide
        if let uri = t.destinationURI {
            guard let p = uriParts(uri), let kind = SIPTransportKind(rawValue: p.effectiveTransport),
                  let address = resolve(p.host, p.effectivePort) else { return nil }
            return .address(address, transport: kind, side: side)
        }
        guard let kind = SIPTransportKind(rawValue: decision.nextHop.transport),
              let address = resolve(decision.nextHop.host, decision.nextHop.port) else { return nil }
        return .address(address, transport: kind, side: side)
    }

    /// Address of a next hop (IP literals directly; names by the system resolver, cached and bounded).
    /// RFC 3263 NAPTR/SRV selection is not done.
    private func resolve(_ host: String, _ port: Int) -> SocketAddress? {
        if let m = lastResolved, m.port == port, m.host == host { return m.address }
        let h = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if let a = try? SocketAddress(ipAddress: h, port: port) { lastResolved = (host, port, a); return a }
        let key = "\(h):\(port)"
        if let a = resolved[key] { return a }
        guard let a = try? SocketAddress.makeAddressResolvingHost(h, port: port) else { return nil }
        if resolved.count >= ProxyServerConfiguration.maxResolverCacheEntries { resolved.removeAll() }
        resolved[key] = a
        return a
    }

    /// True when `d` is one of our own listening addresses.
    private func isSelf(_ d: SIPDestination) -> Bool {
        let address: SocketAddress
        switch d {
        case .flow: return false
        case .address(let a, _, _), .named(let a, _, _, _): address = a
        }
        for a in boundAddresses where Self.sameIPAndPort(a, address) { return true }
        return false
    }

    /// Same IP address and port, compared on the address bytes (what comparing `ipAddress` strings and
    /// ports gives, without formatting two addresses with inet_ntop for every forwarded request).
    static func sameIPAndPort(_ a: SocketAddress, _ b: SocketAddress) -> Bool {
        switch (a, b) {
        case (.v4(let x), .v4(let y)):
            return x.address.sin_addr.s_addr == y.address.sin_addr.s_addr && x.address.sin_port == y.address.sin_port
        case (.v6(let x), .v6(let y)):
            guard x.address.sin6_port == y.address.sin6_port else { return false }
            return withUnsafeBytes(of: x.address.sin6_addr) { xb in
                withUnsafeBytes(of: y.address.sin6_addr) { yb in xb.elementsEqual(yb) }
            }
        default:
            return a.ipAddress == b.ipAddress && a.port == b.port
        }
    }

    private func isReliable(_ d: SIPDestination) -> Bool {
        switch d {
        case .flow(let f): return f.connectionID != nil
        case .address(_, let kind, _), .named(_, _, let kind, _): return kind.isStream
        }
    }

    // MARK: ACK for 2xx (stateless, RFC 3261 §16.11)

    private func ack(_ request: SIPMessage, inbound: SIPInbound) {
        counters.requestsReceived += 1
        logRequest(request, inbound: inbound)
        if let hooks {
            let flow = ProxyFlow(inbound)
            let context = ProxyRequestContext(id: ProxyRequestID(rawValue: 0), inbound: flow)
            Task {
                guard case .forward(var edits) = await hooks.processRequest(request, context: context) else { return }
                self.applyPreloadedRoutes(&edits, request)
                if !request.bodyRange.isEmpty, let ct = request.contentType {
                    // RFC 3264 / RFC 3261 §13.2.1: the ACK of a 2xx carries the answer when the 2xx carried
                    // the offer (delayed offer); the body hook rewrites it like any other.
                    let to = edits.flow?.side ?? edits.outboundSide ?? self.defaultOutboundSide(from: flow.side)
                    let bodyContext = ProxyBodyContext(requestID: context.id, direction: .request(from: flow.side.proxySide, to: to.proxySide),
                                                       request: request, requestInbound: flow, status: nil)
                    switch await hooks.rewriteBody(request.body, contentType: ct, message: request, context: bodyContext) {
                    case .unchanged: break
                    case .replaced(let body, let contentType): edits.splice.replaceBody(body, contentType: contentType)
                    case .failed(let r):
                        // An ACK cannot be answered (§17.1.1.3): it is not forwarded with an unrewritten body.
                        self.logger.warning("ACK body refused (\(r.status)); ACK not forwarded")
                        return
                    }
                }
                let bytes = edits.splice.bytes()
                let message = bytes == request.bytes ? request : (try? SIPParser.parse(bytes, validateWithLibOSIP2: false))
                guard let message else { return }
                self.forwardStateless(message, inbound: inbound, edits: edits)
            }
        } else {
            forwardStateless(request, inbound: inbound, edits: nil)
        }
    }

    private func forwardStateless(_ request: SIPMessage, inbound: SIPInbound, edits: ProxyRequestEdits?) {
        let t = target(for: request, inboundSide: inbound.side, edits: edits)
        let outbound = pickListener(side: t.outboundSide, transport: t.hopTransport)
        var c = core
        c.requestPolicy = RuntimeRequestPolicy(base: core.requestPolicy, requestURI: edits?.requestURI, outbound: outbound, recordRoute: false)
        guard case .forward(let decision) = c.processRequest(request, arrivedOn: listener(for: inbound), ids: &ids),
              let destination = destination(for: decision, target: t), !isSelf(destination) else { return }
        counters.statelessForwards += 1
        enqueueSend(decision.bytes, to: destination, transaction: nil)
    }

    // MARK: Requests the proxy originates (UAC inside a dialog, RFC 3261 §12.2.1.1, §17.1)

    /// Sends `request` as a UAC: our Via (a new branch, RFC 3261 §8.1.1.7) and Max-Forwards, the route
    /// set beyond this proxy, a client transaction; a 2xx to an INVITE is ACKed (§13.2.2.4). Returns the
    /// final status (408 on Timer B/F, 503 on a transport error or when no destination resolves).
    public func originate(_ request: ProxyOriginatedRequest) async -> Int {
        guard started else { return 503 }
        var routes = request.routeSet
        if let last = routes.lastIndex(where: { r in SIPURIParts(parsing: Self.bareURI(r)).map { core.configuration.isOurs($0) } ?? false }) {
            routes = Array(routes[(last + 1)...])
        }
        let destination: SIPDestination
        let kind: SIPTransportKind
        if let flow = request.flow {
            destination = .flow(flow.token)
            kind = flow.transport
        } else {
            let uri = routes.first.map(Self.bareURI) ?? request.requestURI
            guard let p = SIPURIParts(parsing: uri), let k = SIPTransportKind(rawValue: p.effectiveTransport),
                  let address = resolve(p.host, p.effectivePort) else {
                logger.warning("originated \(request.method): no destination for \(uri)")
                return 503
            }
            destination = .address(address, transport: k, side: request.side)
            kind = k
        }
        guard let listener = pickListener(side: request.side, transport: kind) else { return 503 }
        let bytes = request.rendered(via: via(listener, branch: SIPProxyCore.magicCookie + ids.branchToken()), routes: routes)
        guard let message = TransactionMessage<SIPMessage>.scanning(bytes) else { return 500 }
        let (id, outputs): (TransactionID, [Output])
        do {
            (id, outputs) = try layer.sendRequest(message, to: destination, reliable: isReliable(destination), now: clock.now())
        } catch {
            return 503
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
        originated[id] = OriginatedEntry(request: request, routes: routes, destination: destination, listener: listener, result: continuation)
        logger.info("originated \(request.method) \(request.requestURI) cid=\(request.headers.first { $0.name == "Call-ID" }?.value ?? "-") side=\(request.side.rawValue)")
        run(outputs, inbound: nil)
        for await status in stream { return status }
        return 408
    }

    private func via(_ l: ProxyListener, branch: String) -> String {
        let host = l.host.contains(":") && !l.host.hasPrefix("[") ? "[\(l.host)]" : l.host
        return "SIP/2.0/\(l.transport) \(host):\(l.port);branch=\(branch)"
    }

    static func bareURI(_ nameAddr: String) -> String {
        guard let lt = nameAddr.firstIndex(of: "<"), let gt = nameAddr[lt...].firstIndex(of: ">") else { return nameAddr }
        return String(nameAddr[nameAddr.index(after: lt)..<gt])
    }

    private func originatedResponse(_ response: SIPMessage, on id: TransactionID) {
        guard let entry = originated[id], let status = response.statusCode, status >= 200 else { return }
        if entry.request.method == "INVITE", (200..<300).contains(status) {
            // RFC 3261 §13.2.2.4: the UAC ACKs every 2xx (retransmissions too), end to end, new branch.
            var ack = entry.request
            if let to = response.to, let i = ack.headers.firstIndex(where: { $0.name == "To" }), to.tag != nil {
                ack.headers[i].value = response.fields(.to).first.map { response.value(of: $0) } ?? ack.headers[i].value
            }
            let bytes = ack.rendered(via: via(entry.listener, branch: SIPProxyCore.magicCookie + ids.branchToken()),
                                     routes: entry.routes, method: "ACK")
            enqueueSend(bytes, to: entry.destination, transaction: nil)
        }
        finishOriginated(id, status: status)
    }

    private func finishOriginated(_ id: TransactionID, status: Int) {
        guard var entry = originated[id], !entry.finished else { return }
        entry.finished = true
        originated[id] = entry
        logger.info("\(status) for originated \(entry.request.method) \(entry.request.requestURI)")
        entry.result.yield(status)
        entry.result.finish()
    }

    // MARK: CANCEL (RFC 3261 §16.10)

    private func cancelRequest(_ id: TransactionID, _ cancel: SIPMessage, invite: TransactionID?) {
        counters.cancelsReceived += 1
        guard let invite, let entry = servers[invite], entry.context.matches(cancel: cancel) else {
            // §16.10: no matching transaction: 481 (a stateful proxy does not forward it blindly).
            sendResponse(SIPResponseBuilder.response(to: cancel, status: 481, reason: "Call/Transaction Does Not Exist", toTag: ids.tag()), on: id)
            return
        }
        logger.debug("CANCEL for \(entry.requestID) cid=\(cancel.callID ?? "")")
        sendResponse(SIPProxyCore.okToCancel(cancel, toTag: entry.context.toTag), on: id)
        if entry.finalSent { return }
        if !entry.forwarded {
            // Hooks still pending: nothing went downstream; answer the INVITE with 487 (RFC 3261 §9.2).
            entry.cancelled = true
            servers[invite] = entry
            respondLocally(invite, ProxyReject(status: 487, reason: "Request Terminated"))
            return
        }
        feed(invite, .cancelReceived)
    }

    // MARK: Responses

    private func response(_ response: SIPMessage, on clientID: TransactionID, inbound: SIPInbound) {
        guard let c = clients[clientID], !c.isCancel, servers.index(forKey: c.server) != nil else { return }
        let outcome = core.processResponse(response)
        guard let hooks, case .forward(let bytes, let status) = outcome, let entry = servers[c.server] else {
            if case .drop = outcome { counters.responsesDropped += 1 }
            feed(c.server, .response(branch: c.branch, outcome: outcome))
            return
        }
        let context = ProxyResponseContext(requestID: entry.requestID, request: entry.request, requestInbound: entry.inbound,
                                           responseInbound: ProxyFlow(inbound), status: status)
        let previous = entry.responseChain
        let server = c.server, branch = c.branch
        entry.responseChain = Task {
            await previous?.value
            let outcome = await Self.runResponseHooks(bytes, status: status, context: context, hooks: hooks)
            self.feed(server, .response(branch: branch, outcome: outcome))
        }
        servers[c.server] = entry
    }

    private static func runResponseHooks(_ bytes: [UInt8], status: Int, context: ProxyResponseContext,
                                         hooks: any ProxyRuntimeHooks) async -> ResponseOutcome {
        guard let message = try? SIPParser.scan(bytes) else { return .forward(bytes: bytes, status: status) }
        var splice: SIPSplice
        switch await hooks.processResponse(message, context: context) {
        case .replace(let rejection): return .replace(rejection)
        case .forward(let s): splice = s
        }
        if !message.bodyRange.isEmpty, let ct = message.contentType {
            let bodyContext = ProxyBodyContext(requestID: context.requestID, direction: .response, request: context.request,
                                               requestInbound: context.requestInbound, status: status)
            switch await hooks.rewriteBody(message.body, contentType: ct, message: message, context: bodyContext) {
            case .unchanged: break
            case .replaced(let body, let contentType): splice.replaceBody(body, contentType: contentType)
            case .failed(let rejection): return .replace(rejection)
            }
        }
        return .forward(bytes: splice.bytes(), status: status)
    }

    /// Feeds a response-context event and executes its actions.
    private func feed(_ server: TransactionID, _ event: ResponseEvent) {
        // In place (no copy of the entry whose arrays the handler would then copy on write).
        guard let actions = servers[server]?.context.handle(event) else { return }
        for action in actions {
            switch action {
            case .forwardProvisional(let bytes):
                counters.responsesForwarded += 1
                sendResponse(bytes, on: server)
            case .forward2xx(let bytes):
                counters.responsesForwarded += 1
                sendResponse(bytes, on: server)
            case .forwardFinal(_, let bytes):
                counters.responsesForwarded += 1
                sendResponse(bytes, on: server)
            case .cancel(let branch, let bytes):
                sendCancel(bytes, branch: branch, server: server)
            }
        }
    }

    private func sendCancel(_ bytes: [UInt8], branch: String, server: TransactionID) {
        guard let entry = servers[server], let destination = entry.branchDestinations[branch],
              let message = TransactionMessage<SIPMessage>.scanning(bytes) else { return }
        guard let (id, outputs) = try? layer.sendRequest(message, to: destination, reliable: isReliable(destination), now: clock.now()) else {
            logger.warning("could not start the CANCEL client transaction for branch \(branch)")
            return
        }
        entry.liveClients += 1
        servers[server] = entry
        clients[id] = ClientEntry(server: server, branch: branch, isCancel: true)
        run(outputs, inbound: nil)
    }

    /// Sends a response upstream on server transaction `id`: through the transaction while it lives;
    /// a 2xx retransmission after it ended goes straight to the request's flow (RFC 6026 §8.1).
    private func sendResponse(_ bytes: [UInt8], on id: TransactionID) {
        let message: TransactionMessage<SIPMessage>
        if let i = servers.index(forKey: id) {
            // Responses to a request we hold: its matching fields; the To tag only matters for RFC 2543
            // ACK matching (§17.2.3), so it is read only for requests without the magic cookie.
            guard let scanned = try? SIPParser.scan(bytes), let code = scanned.statusCode else { return }
            var headers = Self.peek(&servers.values[i]) { $0.headers }
            headers.toTag = headers.topVia.hasMagicCookie ? nil : scanned.to?.tag
            message = TransactionMessage(startLine: .response(statusCode: code), headers: headers, payload: scanned)
        } else {
            guard let m = TransactionMessage<SIPMessage>.scanning(bytes) else { return }
            message = m
        }
        guard let status = message.statusCode else { return }
        var outputs: [Output] = []
        do {
            outputs = try layer.sendResponse(message, on: id, now: clock.now())
        } catch {
            if (200..<300).contains(status), let entry = servers[id] {
                enqueueSend(bytes, to: .flow(entry.inbound.token), transaction: nil)
            }
        }
        if status >= 200, let i = servers.index(forKey: id), !Self.peek(&servers.values[i], { $0.finalSent }) {
            servers.values[i].finalSent = true
            if logger.logLevel <= .info || hooks != nil {
                let entry = servers.values[i]
                logFinal(status, entry)
                if let hooks {
                    let context = ProxyRequestContext(id: entry.requestID, inbound: entry.inbound)
                    Task { await hooks.requestCompleted(context, status: status) }
                }
            }
            releaseIfSettled(at: i)
        }
        run(outputs, inbound: nil)
    }

    /// A non-INVITE request whose final response went upstream and whose branches all completed needs no
    /// driver state any more (without hooks): its server transaction answers retransmissions by itself
    /// (§17.2.2 Completed) and its client transactions absorb response retransmissions (§17.1.2.2 Completed),
    /// so nothing can reach the entry. Dropped now instead of when timer J ends the server transaction
    /// (64*T1 over UDP). INVITE entries stay: 2xx retransmissions are forwarded while the client transaction
    /// is Accepted (RFC 6026 §7.2), and a CANCEL may still be answered.
    private func releaseIfSettled(at i: Dictionary<TransactionID, ServerEntry>.Index) {
        guard hooks == nil else { return }
        let entry = servers.values[i]
        guard entry.request.method != "INVITE",
              entry.context.branches.allSatisfy({ if case .completed = $0.state { return true } else { return false } })
        else { return }
        servers.remove(at: i)
    }

    /// Number of server entries the driver holds (tests).
    var serverEntryCount: Int { servers.count }

    private func respondLocally(_ id: TransactionID, _ answer: ProxyReject) {
        guard let entry = servers[id], !entry.finalSent else { return }
        counters.localResponses += 1
        if entry.request.method == "ACK" { return }
        sendResponse(answer.response(to: entry.request, toTag: entry.context.toTag), on: id)
    }

    private func terminated(_ id: TransactionID) {
        if let c = clients.removeValue(forKey: id) {
            if let i = servers.index(forKey: c.server) {
                servers.values[i].liveClients -= 1
                dropIfDone(c.server)
            }
        } else if let i = servers.index(forKey: id) {
            servers.values[i].serverAlive = false
            dropIfDone(id)
        }
    }

    /// Reads a table value in place: a plain read of `servers.values[i]` copies the whole entry (its request,
    /// response context and arrays: a retain and a release each) to read one field.
    @inline(__always) private static func peek<E, T>(_ entry: inout E, _ body: (inout E) -> T) -> T { body(&entry) }

    private func dropIfDone(_ id: TransactionID) {
        guard let i = servers.index(forKey: id), Self.peek(&servers.values[i], { !$0.serverAlive && $0.liveClients <= 0 }) else { return }
        servers.remove(at: i)
    }

    // MARK: Sending (ordered per destination, off the actor)

    final class SendTail: @unchecked Sendable {
        let task: Task<Void, Never>
        private let lock = NSLock()
        private var done = false
        init(_ task: Task<Void, Never>) { self.task = task }
        var isDone: Bool { lock.lock(); defer { lock.unlock() }; return done }
        func markDone() { lock.lock(); done = true; lock.unlock() }
    }

    private final class DoneBox: @unchecked Sendable {
        private let lock = NSLock()
        private var tail: SendTail?
        func set(_ t: SendTail) { lock.lock(); tail = t; lock.unlock() }
        func finish() { lock.lock(); let t = tail; lock.unlock(); t?.markDone() }
    }

    private func enqueueSend(_ bytes: [UInt8], to destination: SIPDestination, transaction: TransactionID?) {
        let isStreamAddress: Bool
        switch destination {
        case .address(_, let kind, _), .named(_, _, let kind, _): isStreamAddress = kind.isStream
        case .flow: isStreamAddress = false
        }
        // (The key is only built when some chain exists: the common case costs no string.)
        let key = isStreamAddress && !sendTails.isEmpty ? Self.key(destination) : ""
        if !isStreamAddress || sendTails.isEmpty || sendTails[key].map({ $0.isDone }) ?? true {
            // UDP, a flow, or an open connection with nothing queued before: written now, from the loop.
            do {
                // A datagram write that fails later comes back through `sendFailed(tag:error:)` (§17.1.4).
                if try transport.sendImmediately(bytes, to: destination, failureTag: Self.failureTag(transaction), reportingTo: self) != nil {
                    if !key.isEmpty { sendTails[key] = nil }
                    return
                }
            } catch {
                sendFailed(transaction, error: error)
                return
            }
        }
        // A stream destination without an open connection (or with a connect in progress): its own
        // ordered chain, so it holds up no other destination.
        let chainKey = key.isEmpty ? Self.key(destination) : key
        let previous = sendTails[chainKey]?.task
        let transport = self.transport
        let box = DoneBox()
        let task = Task.detached { [weak self] in
            await previous?.value
            do {
                try await transport.send(bytes, to: destination)
            } catch {
                await self?.sendFailed(transaction, error: error)
            }
            box.finish()
        }
        let tail = SendTail(task)
        box.set(tail)
        sendTails[chainKey] = tail
    }

    private static func key(_ d: SIPDestination) -> String {
        switch d {
        case .flow(let f): return f.description
        case .address(let a, let k, let s), .named(let a, _, let k, let s): return "\(s)/\(k.rawValue)/\(a)"
        }
    }

    /// The tag of a send for `SIPSendFailureHandler`: the transaction id + 1, 0 for none.
    static func failureTag(_ transaction: TransactionID?) -> UInt64 { transaction.map { $0.rawValue &+ 1 } ?? 0 }

    private func sendFailed(_ transaction: TransactionID?, error: any Error) {
        counters.sendFailures += 1
        logger.warning("send failed: \(error)")
        guard let transaction else { return }
        run(layer.transportError(on: transaction, now: clock.now()), inbound: nil)
    }

    // MARK: Logging (Kamailio style: one line per request received and per final response sent)

    private func logRequest(_ request: SIPMessage, inbound: SIPInbound) {
        guard logger.logLevel <= .info else { return }
        let source = "\(inbound.side.rawValue)/\(inbound.transport.rawValue.lowercased()):\(Self.hostPort(inbound.remote))"
        logger.info("\(ProxyLogFormat.request(request, source: source, redact: logger.logLevel > .debug))")
        if logger.logLevel <= .debug { logger.debug("\(ProxyLogFormat.identities(request))") }
    }

    private func logFinal(_ status: Int, _ entry: ServerEntry) {
        guard logger.logLevel <= .info else { return }
        let destination = "\(entry.inbound.side.rawValue)/\(entry.inbound.transport.rawValue.lowercased()):\(Self.hostPort(entry.inbound.remote))"
        logger.info("\(ProxyLogFormat.finalResponse(status, to: entry.request, destination: destination, redact: logger.logLevel > .debug))")
    }

    static func hostPort(_ a: SocketAddress) -> String {
        guard let ip = a.ipAddress else { return "\(a)" }
        return ip.contains(":") ? "[\(ip)]:\(a.port ?? 0)" : "\(ip):\(a.port ?? 0)"
    }
}

/// The driver's overrides, applied after the configured policy (RFC 3261 §16.5 retarget, §16.6 step 4
/// Record-Route choice, outbound listener).
struct RuntimeRequestPolicy: RequestPolicy {
    let base: any RequestPolicy
    let requestURI: String?
    let outbound: ProxyListener?
    let recordRoute: Bool?

    func process(_ request: SIPMessage, context: inout RequestContext, splice: inout SIPSplice) -> ProxyReject? {
        if let rejection = base.process(request, context: &context, splice: &splice) { return rejection }
        if let requestURI { context.requestURI = requestURI }
        if let outbound { context.outbound = outbound }
        if let recordRoute { context.recordRoute = recordRoute }
        return nil
    }
}

extension ProxyServer: SIPSendFailureHandler {
    /// A datagram write that failed after `sendImmediately` returned (RFC 3261 §17.1.4): reported to the
    /// transaction named by `tag` (see `failureTag`), on the event loop.
    public nonisolated func sendFailed(tag: UInt64, error: any Error) {
        let transaction = tag == 0 ? nil : TransactionID(rawValue: tag &- 1)
        if eventLoop.inEventLoop { onLoop { $0.sendFailed(transaction, error: error) } }
        else { Task { await self.sendFailed(transaction, error: error) } }
    }
}
