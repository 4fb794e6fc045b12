// The running gateway: the MG side of Iq over one H248Client transport (UDP with the reply cache
// and retransmissions of Annex D.1, TCP/TPKT connected to the MGC, or SCTP initiated by the MG),
// executing the MGC's commands with the pure `AGWGateway` and performing its media work on an
// `AGWMediaDriver`. The real clock is read here only (`now()`); a 50 ms tick drives every timer.

import Foundation
import H248Client
import H248Codec
import IMSAGW
import Logging
import NIOCore
import NIOPosix

public struct AGWRuntimeConfiguration: Sendable {
    /// Where the MGC listens (`udp:127.0.0.1:2944`, `tcp:…`, `sctp:…`).
    public var mgc: H248ListenAddress
    /// Our own Iq address: bound for UDP, the source for TCP (port 0 = any).
    public var listen: H248ListenAddress
    /// Our mId (H.248.1 §8.1); default `[listen host]:listen port`.
    public var mid: MID
    public var form: H248TextForm = .pretty
    public var gateway = AGWConfiguration()
    public var registration = AGWRegistration.Configuration()
    public var timers = H248TransactionTimers()
    /// How long shutdown waits for the Graceful ServiceChange reply.
    public var gracefulReplyTimeout: Duration = .seconds(2)
    /// Register with 902 Warm Boot from the start (the process restarted with its state).
    public var warmStart = false
    /// The first transaction id this process sends. nil: a random one per process, so that a gateway
    /// restarted within LONG-TIMER does not reuse its predecessor's ids: the MGC keeps the ids it saw
    /// for LONG-TIMER to recognise late duplicates (H.248.1 Annex D.1.1), and would take the new
    /// registration (T=1 again) for a duplicate and drop it until that memory expired.
    public var firstTransactionID: UInt32?
    /// Upper bound of the random first transaction id: half the id space stays ahead before the wrap.
    public static let maximumRandomFirstTransactionID: UInt32 = 0x7FFF_FFFF

    public init(mgc: H248ListenAddress, listen: H248ListenAddress, mid: MID? = nil) {
        self.mgc = mgc
        self.listen = listen
        self.mid = mid ?? .address(listen.host, port: UInt16(exactly: listen.port))
    }
}

public enum AGWRuntimeError: Error, CustomStringConvertible {
    case transport(String)
    case noReply(String)
    public var description: String {
        switch self {
        case .transport(let s): "transport: \(s)"
        case .noReply(let s): "no reply: \(s)"
        }
    }
}

public actor AGWRuntime {
    public nonisolated let configuration: AGWRuntimeConfiguration
    private let media: any AGWMediaDriver
    private var logger: Logger
    private let origin = ContinuousClock.now
    private let parser = H248TextParser()
    private let encoder: H248TextEncoder

    private var transport: (any H248Transport)?
    private var mgcAddress: SocketAddress?
    private var gateway: AGWGateway
    private var registration: AGWRegistration
    private var outgoing: OutgoingTransactionTable
    private var incoming: IncomingTransactionTable<[UInt8]>
    private var waiting: [UInt32: (bytes: [UInt8], continuation: CheckedContinuation<TransactionReply, any Error>)] = [:]
    /// Long-lived tasks (media events, tick); the inbound task of the current transport.
    private var tasks: [Task<Void, Never>] = []
    private var inboundTask: Task<Void, Never>?
    /// The outstanding registration ServiceChange (its reply is applied on arrival).
    private var registrationTransaction: UInt32?
    private var connecting = false
    private var stopped = false
    private var registeredWaiters: [CheckedContinuation<Void, Never>] = []

    /// Transactions answered (for tests and the log).
    public private(set) var answered = 0
    public var isRegistered: Bool { registration.isRegistered }
    public var negotiatedVersion: Int? { registration.negotiatedVersion }
    public var contextCount: Int { gateway.contexts.count }
    public var localAddress: SocketAddress? { transport?.localAddress }

    public init(configuration: AGWRuntimeConfiguration, media: any AGWMediaDriver, logger: Logger = Logger(label: "ims-agw")) {
        self.configuration = configuration
        self.media = media
        self.logger = logger
        self.encoder = H248TextEncoder(form: configuration.form)
        self.gateway = AGWGateway(configuration: configuration.gateway)
        self.registration = AGWRegistration(configuration: configuration.registration)
        let first = configuration.firstTransactionID ?? UInt32.random(in: 1...AGWRuntimeConfiguration.maximumRandomFirstTransactionID)
        self.outgoing = OutgoingTransactionTable(transport: configuration.mgc.kind, timers: configuration.timers,
                                                 allocator: TransactionIDAllocator(first: first))
        self.incoming = IncomingTransactionTable(timers: configuration.timers)
    }

    private func now() -> Duration { origin.duration(to: ContinuousClock.now) }
    private func instant() -> H248Instant { H248Instant(offset: now()) }

    /// Opens the transport, starts registering (retried until answered) and the timers.
    public func start() async throws {
        try configuration.timers.validate()
        let addrs = try SocketAddress.makeAddressResolvingHost(configuration.mgc.host, port: configuration.mgc.port)
        mgcAddress = addrs
        if configuration.mgc.kind == .udp {
            try await openTransport()
        } else {
            do { try await openTransport() } catch { logger.warning("Iq \(configuration.mgc): \(error); retrying") }
        }
        let mediaEvents = media.events
        tasks.append(Task { [weak self] in
            for await e in mediaEvents { await self?.mediaEvent(e) }
        })
        tasks.append(Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(50))
                await self?.tick()
            }
        })
        run(registration.start(now: now(), warm: configuration.warmStart))
    }

    private func openTransport() async throws {
        let t: any H248Transport
        switch configuration.mgc.kind {
        case .udp:
            t = try await H248UDPTransport.bind(host: configuration.listen.host, port: configuration.listen.port, group: MultiThreadedEventLoopGroup.singleton)
        case .tcp:
            t = try await H248TCPConnectTransport.connect(host: configuration.mgc.host, port: configuration.mgc.port,
                                                          localHost: configuration.listen.port == 0 ? nil : configuration.listen.host,
                                                          localPort: configuration.listen.port)
        case .sctp:
            t = try H248SCTPConnectTransport.connect(host: configuration.mgc.host, port: configuration.mgc.port)
        }
        transport = t
        let stream = t.events
        inboundTask?.cancel()
        inboundTask = Task { [weak self] in
            for await ev in stream { await self?.handle(ev) }
        }
        logger.info("Iq \(configuration.mgc.kind.rawValue) towards \(configuration.mgc.host):\(configuration.mgc.port) from \(t.localAddress.map { "\($0)" } ?? "?")")
    }

    /// Waits until registered (or `timeout`); true when registered.
    public func waitUntilRegistered(timeout: Duration) async -> Bool {
        let deadline = now() + timeout
        while !registration.isRegistered && now() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return registration.isRegistered
    }

    /// Graceful ServiceChange (H.248.1 §7.2.8.1.4), then everything closes.
    public func shutdown() async {
        guard !stopped else { return }
        for case .sendServiceChange(let p) in registration.shutdown() {
            let request = ActionRequest(contextID: .null, commands: [CommandRequest(.serviceChange, .root, [.services(p)])])
            let reply = await withTaskGroup(of: Bool.self) { group -> Bool in
                group.addTask { (try? await self.transact([request])) != nil }
                group.addTask {
                    try? await Task.sleep(for: self.configuration.gracefulReplyTimeout)
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            logger.info("Iq ServiceChange Graceful sent, \(reply ? "answered" : "no answer")")
        }
        stopped = true
        for key in gateway.reset() { await media.perform(.release(key)) }
        await media.shutdown()
        for t in tasks { t.cancel() }
        inboundTask?.cancel()
        for (_, w) in waiting { w.continuation.resume(throwing: AGWRuntimeError.noReply("shutdown")) }
        waiting = [:]
        await transport?.close()
        transport = nil
    }

    // MARK: Inbound

    private func handle(_ event: H248TransportEvent) async {
        switch event {
        case .message(let bytes, let from):
            let message: H248Message
            do throws(H248ParseError) {
                message = try parser.parse(bytes: bytes)
            } catch {
                logger.info("Iq <- undecodable message: error \(error.code.rawValue) \(error.reason)")
                transmit(encode(.error(error.errorDescriptor), version: registration.negotiatedVersion ?? configuration.registration.version), to: from)
                return
            }
            gateway.messageFromMGC(now: now())
            if message.version > configuration.gateway.supportedVersions.upperBound {
                transmit(encode(.error(AGWError(.versionNotSupported, "version \(message.version)").descriptor), version: configuration.registration.version), to: from)
                return
            }
            switch message.body {
            case .error(let e):
                logger.info("Iq <- message-level error \(e.code) \(e.text ?? "")")
            case .transactions(let ts):
                for t in ts { await handle(t, version: message.version, from: from) }
            }
        case .closed(_, let reason):
            logger.warning("Iq association closed: \(reason)")
            transport = nil
            for (id, w) in waiting { w.continuation.resume(throwing: AGWRuntimeError.transport(reason)); waiting[id] = nil }
            _ = outgoing.cancelAll()
            run(registration.associationLost(now: now()))
        case .inputError(let e, _):
            logger.info("Iq input refused: \(e)")
        }
    }

    private func handle(_ t: Transaction, version: Int, from: SocketAddress) async {
        switch t {
        case .reply(let r):
            if r.id == registrationTransaction {
                registrationTransaction = nil
                let (params, error) = Self.serviceChangeResult(r)
                run(registration.replied(params, error: error, now: now()))
            }
            if let w = waiting[r.id] {
                waiting[r.id] = nil
                w.continuation.resume(returning: r)
            }
            runOutgoing(outgoing.replyReceived(transactionID: r.id, immAckRequired: r.immAckRequired, now: instant()))
        case .pending(let id):
            runOutgoing(outgoing.pendingReceived(transactionID: id, now: instant()))
        case .responseAck(let ranges):
            _ = incoming.responseAckReceived(ranges.compactMap { try? TransactionAckRange(first: $0.first, last: $0.last) }, now: instant())
        case .request(let request):
            await handleRequest(request, version: version, from: from)
        case .segmentReply:
            break
        }
    }

    /// Duplicate detection first (H.248.1 Annex D.1.3: a repeated request is answered from the
    /// reply cache, never executed twice), then the two-step execution.
    private func handleRequest(_ request: TransactionRequest, version: Int, from peer: SocketAddress) async {
        switch incoming.requestReceived(transactionID: request.id, now: instant()) {
        case .execute:
            break
        case .resendReply(let bytes):
            logger.debug("Iq T=\(request.id) repeated: reply resent from the cache")
            transmit(bytes, to: peer)
            return
        case .sendPending:
            transmit(encode(.transactions([.pending(request.id)]), version: replyVersion(version)), to: peer)
            return
        case .ignoreDuplicate:
            return
        case .reject(let e):
            let reply = TransactionReply(id: request.id, result: .error(ErrorDescriptor(code: e.h248ErrorCode ?? 510, text: e.diagnostics)))
            transmit(encode(.transactions([.reply(reply)]), version: replyVersion(version)), to: peer)
            return
        }
        let reply: TransactionReply
        var operations: [AGWMediaOperation] = []
        var effects: [AGWGatewayEffect] = []
        if !registration.isRegistered && !Self.isServiceChange(request) {
            // H.248.8 505: a request before the ServiceChange reply.
            reply = TransactionReply(id: request.id, result: .error(AGWError(.requestBeforeServiceChange, "not registered").descriptor))
        } else {
            let e = gateway.execute(request, now: now())
            for k in e.releases { await media.perform(.release(k)) }
            var results: [AGWMediaKey: Result<AGWLocalResource, AGWMediaFailure>] = [:]
            for a in e.allocations { results[a.key] = await media.allocate(a) }
            let o = gateway.complete(e, results: results)
            reply = o.reply
            operations = o.operations
            effects = e.effects
        }
        let bytes = encode(.transactions([.reply(reply)]), version: replyVersion(version))
        if incoming.replyReady(transactionID: request.id, reply: bytes, now: instant()) == .send {
            transmit(bytes, to: peer)
        }
        answered += 1
        logger.info("Iq T=\(request.id) \(Self.summary(request)) -> \(Self.summary(reply)) [contexts=\(gateway.contexts.count)]")
        for op in operations { await media.perform(op) }
        for effect in effects {
            switch effect {
            case .reRegister:
                run(registration.start(now: now(), warm: true))
            }
        }
    }

    private static func isServiceChange(_ r: TransactionRequest) -> Bool {
        r.actions.contains { $0.commands.contains { $0.verb == .serviceChange } }
    }

    private func replyVersion(_ v: Int) -> Int {
        registration.negotiatedVersion ?? min(max(v, configuration.gateway.supportedVersions.lowerBound), configuration.gateway.supportedVersions.upperBound)
    }

    // MARK: Outbound

    /// One transaction to the MGC; waits for its reply (retransmitted over UDP, Annex D.1.2).
    public func transact(_ actions: [ActionRequest]) async throws -> TransactionReply {
        try await transact(actions, registration: false)
    }

    private func transact(_ actions: [ActionRequest], registration isRegistration: Bool) async throws -> TransactionReply {
        guard let transport, let peer = mgcAddress else { throw AGWRuntimeError.transport("not connected to the MGC") }
        let begun: (transactionID: UInt32, actions: [OutgoingTransactionTable.Action])
        do { begun = try outgoing.begin(now: instant()) } catch { throw AGWRuntimeError.transport("\(error)") }
        let id = begun.transactionID
        if isRegistration { registrationTransaction = id }
        let bytes = encode(.transactions([.request(TransactionRequest(id: id, actions: actions))]),
                           version: registration.negotiatedVersion ?? configuration.registration.version)
        return try await withCheckedThrowingContinuation { c in
            waiting[id] = (bytes, c)
            do throws(H248ClientError) {
                try transport.send(bytes, to: peer)
            } catch {
                waiting[id] = nil
                c.resume(throwing: AGWRuntimeError.transport("\(error)"))
                return
            }
            runOutgoing(begun.actions.filter { if case .send = $0 { return false }; return true })
        }
    }

    private func runOutgoing(_ actions: [OutgoingTransactionTable.Action]) {
        for a in actions {
            switch a {
            case .send(let id), .retransmit(let id, _):
                guard let w = waiting[id], let peer = mgcAddress else { continue }
                if case .retransmit(_, let n) = a { logger.debug("Iq T=\(id) retransmission \(n)") }
                transmit(w.bytes, to: peer)
            case .completed:
                break
            case .failed(let id, let e):
                if let w = waiting.removeValue(forKey: id) { w.continuation.resume(throwing: AGWRuntimeError.noReply("T=\(id): \(e)")) }
            case .sendResponseAck(let ranges):
                guard let peer = mgcAddress else { continue }
                transmit(encode(.transactions([.responseAck(ranges.map { AckRange($0.first, $0.last) })]),
                                version: registration.negotiatedVersion ?? configuration.registration.version), to: peer)
            }
        }
    }

    /// Registration actions: each ServiceChange attempt is one transaction in its own task.
    private func run(_ actions: [AGWRegistration.Action]) {
        for a in actions {
            switch a {
            case .sendServiceChange(let p):
                // One attempt at a time; it ends with a reply, a timeout or shutdown (not kept).
                Task { [weak self] in await self?.register(p) }
            case .registered(let v, let profile):
                logger.info("Iq registered with the MGC: version \(v)\(profile.map { ", profile \($0.name)/\($0.version)" } ?? "")")
            case .willRetry(let at, let reason):
                logger.info("Iq registration not answered (\(reason)); retry in \(at - now())")
            }
        }
    }

    private func register(_ p: ServiceChangeParameters) async {
        if transport == nil && configuration.mgc.kind != .udp {
            do { try await openTransport() } catch {
                run(registration.attemptFailed(now: now(), reason: "\(error)"))
                return
            }
        }
        let request = ActionRequest(contextID: .null, commands: [CommandRequest(.serviceChange, .root, [.services(p)])])
        logger.info("Iq -> ServiceChange \(p.method.map { "\($0)" } ?? "") \(p.reason?.string ?? "")")
        do {
            // The reply is applied to the registration as soon as it arrives (`handle(.reply)`), before
            // the MGC's next request is read: an MGC may send its first command right behind it.
            _ = try await transact([request], registration: p.method == .restart)
        } catch {
            if p.method == .restart { run(registration.attemptFailed(now: now(), reason: "\(error)")) }
        }
    }

    /// The ServiceChange result of a reply: the MGC's parameters, or its error.
    static func serviceChangeResult(_ reply: TransactionReply) -> (ServiceChangeParameters?, ErrorDescriptor?) {
        var params: ServiceChangeParameters?
        var error: ErrorDescriptor?
        switch reply.result {
        case .error(let e): error = e
        case .actions(let actions):
            for a in actions {
                if let e = a.error { error = e }
                for r in a.replies {
                    for d in r.descriptors {
                        if case .services(let s) = d { params = s }
                        if case .error(let e) = d { error = e }
                    }
                }
            }
        }
        return (params, error)
    }

    private func mediaEvent(_ e: AGWMediaEvent) async {
        guard let notify = gateway.mediaEvent(e, timestamp: Self.timestamp()) else { return }
        sendNotify(notify)
    }

    private func sendNotify(_ action: ActionRequest) {
        guard registration.isRegistered else { return }
        let what = action.commands.first.map { "Notify \($0.terminationID.text)" } ?? "Notify"
        Task { [weak self] in
            guard let self else { return }
            do {
                let r = try await self.transact([action])
                await self.log("Iq -> \(what) \(Self.eventNames(action)) -> \(Self.summary(r))")
            } catch {
                await self.log("Iq -> \(what) failed: \(error)")
            }
        }
    }

    private func log(_ s: String) { logger.info("\(s)") }

    private func tick() async {
        guard !stopped else { return }
        let t = instant()
        runOutgoing(outgoing.timerFired(now: t))
        for case .sendPending(let id) in incoming.timerFired(now: t) {
            if let peer = mgcAddress { transmit(encode(.transactions([.pending(id)]), version: replyVersion(3)), to: peer) }
        }
        run(registration.timerFired(now: now()))
        if registration.isRegistered {
            for n in gateway.timerFired(now: now(), timestamp: Self.timestamp()) { sendNotify(n) }
        }
    }

    // MARK: Encoding, logging

    private func encode(_ body: MessageBody, version: Int) -> [UInt8] {
        encoder.encodeBytes(H248Message(version: version, mid: configuration.mid, body: body))
    }

    private func transmit(_ bytes: [UInt8], to peer: SocketAddress) {
        guard let transport else { return }
        do throws(H248ClientError) {
            try transport.send(bytes, to: peer)
        } catch {
            logger.info("Iq send failed: \(error)")
        }
    }

    /// `yyyymmddThhmmsshh` UTC (H.248.1 TimeStamp, RFC 3525 B.2).
    static func timestamp() -> TimeStamp? {
        var t = time(nil)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        var tv = timeval()
        gettimeofday(&tv, nil)
        let s = String(format: "%04d%02d%02dT%02d%02d%02d%02d", Int(tmv.tm_year) + 1900, Int(tmv.tm_mon) + 1, Int(tmv.tm_mday),
                       Int(tmv.tm_hour), Int(tmv.tm_min), Int(tmv.tm_sec), Int(tv.tv_usec / 10_000))
        return TimeStamp(s)
    }

    static func summary(_ r: TransactionRequest) -> String {
        r.actions.map { a in
            "C=\(Self.context(a.contextID)){" + a.commands.map { "\($0.verb.rawValue)=\($0.terminationID.text)" }.joined(separator: ",") + "}"
        }.joined(separator: " ")
    }

    static func summary(_ r: TransactionReply) -> String {
        switch r.result {
        case .error(let e): return "Error \(e.code) \(e.text ?? "")"
        case .actions(let actions):
            for a in actions {
                if let e = a.error { return "C=\(context(a.contextID)) Error \(e.code) \(e.text ?? "")" }
                for c in a.replies { for case .error(let e) in c.descriptors { return "\(c.verb.rawValue)=\(c.terminationID.text) Error \(e.code) \(e.text ?? "")" } }
            }
            return "ok " + actions.map { a in "C=\(context(a.contextID)){" + a.replies.map { "\($0.verb.rawValue)=\($0.terminationID.text)" }.joined(separator: ",") + "}" }.joined(separator: " ")
        }
    }

    static func eventNames(_ a: ActionRequest) -> String {
        var names: [String] = []
        for c in a.commands { for case .observedEvents(let o) in c.descriptors { names += o.events.map(\.name) } }
        return names.joined(separator: ",")
    }

    static func context(_ c: ContextID) -> String {
        switch c {
        case .null: "-"
        case .choose: "$"
        case .all: "*"
        case .id(let i): String(i)
        }
    }
}
