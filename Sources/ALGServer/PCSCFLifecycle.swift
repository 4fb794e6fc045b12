// ServiceLifecycle wiring of the running P-CSCF and its graceful shutdown.
//
// `PCSCFService.lifecycleServices(shutdown:)` gives the services of one `ServiceGroup`, in start order:
//   Iq association  ─ on shutdown: ServiceChange on ROOT to the gateway (H.248.1 §7.2.8), then close
//   SIP listeners + transaction layer (ProxyServer) ─ on shutdown: listeners and transactions stop
//   reaper (binding sweep, ALG session ticks, DNS refresh) ─ cancelled on shutdown
//   drain ─ on shutdown: new dialog-creating requests get 503 + Retry-After (RFC 3261 §21.5.4,
//           §20.33), in-dialog requests still pass, established dialogs may end until the deadline
// The group shuts services down in reverse order and waits for each, so the drain comes first and
// the Iq association last: the gateway is told only once no call uses it any more.
import Foundation
import H248Client
import H248Codec
import Logging
import NIOCore
import ProxyRuntime
import ServiceLifecycle
import SIPCore
import SIPProxy

/// Dialogs the P-CSCF forwarded and whether it is draining. Shared by the hooks (which feed it) and
/// the drain service (which waits on it). A lock, not an actor: the hooks call it on every request.
public final class PCSCFDrainState: @unchecked Sendable {
    private let lock = NSLock()
    private var draining = false
    private var retryAfter = 30
    private var dialogs: Set<String> = []
    private var pendingByes: [ProxyRequestID: String] = [:]

    /// Bound on tracked dialogs (house rule: nothing unbounded on network input). Beyond it new
    /// dialogs are not tracked: the drain then waits for the ALG sessions and the deadline only.
    public static let maximumTrackedDialogs = 100_000
    /// Bound on BYEs waiting for their final response.
    public static let maximumPendingByes = 10_000
    /// Methods that create a dialog outside one (RFC 3261 §12.1 INVITE; RFC 6665 §4.2 SUBSCRIBE;
    /// RFC 3515 §2.4.4 REFER creates an implicit subscription).
    public static let dialogCreatingMethods: Set<String> = ["INVITE", "SUBSCRIBE", "REFER"]

    public init() {}

    public var isDraining: Bool { lock.lock(); defer { lock.unlock() }; return draining }
    public var dialogCount: Int { lock.lock(); defer { lock.unlock() }; return dialogs.count }

    /// From now on, new dialog-creating requests are refused.
    public func beginDraining(retryAfterSeconds: Int) {
        lock.lock(); draining = true; retryAfter = retryAfterSeconds; lock.unlock()
    }

    /// The 503 for a new dialog-creating request while draining (RFC 3261 §21.5.4: 503 with
    /// Retry-After, §20.33); nil for every other request, or when not draining.
    public func rejection(for request: SIPMessage) -> ProxyReject? {
        guard let method = request.method, Self.dialogCreatingMethods.contains(method), request.to?.tag == nil else { return nil }
        lock.lock()
        let (on, seconds) = (draining, retryAfter)
        lock.unlock()
        guard on else { return nil }
        return ProxyReject(status: 503, reason: "Service Unavailable", extraHeaders: [ProxyHeaderLine("Retry-After", String(seconds))])
    }

    /// A 2xx to an initial INVITE went upstream: one dialog more (keyed by Call-ID).
    public func dialogConfirmed(callID: String) {
        lock.lock(); defer { lock.unlock() }
        guard dialogs.count < Self.maximumTrackedDialogs else { return }
        dialogs.insert(callID)
    }

    /// A BYE was forwarded; the dialog ends when its final response goes back (`requestCompleted`).
    public func byeForwarded(_ id: ProxyRequestID, callID: String) {
        lock.lock(); defer { lock.unlock() }
        guard pendingByes.count < Self.maximumPendingByes else { dialogs.remove(callID); return }
        pendingByes[id] = callID
    }

    /// The final response of request `id` was sent upstream.
    public func requestCompleted(_ id: ProxyRequestID) {
        lock.lock(); defer { lock.unlock() }
        if let callID = pendingByes.removeValue(forKey: id) { dialogs.remove(callID) }
    }
}

extension PCSCFService {
    /// Graceful drain: refuse new dialogs (503 + Retry-After), then wait until the tracked dialogs
    /// and the ALG sessions are gone, or `deadline` passes. Returns the dialogs left at the end.
    @discardableResult
    public func drain(retryAfterSeconds: Int, deadline: Duration, poll: Duration = .milliseconds(50)) async -> Int {
        drainState.beginDraining(retryAfterSeconds: retryAfterSeconds)
        logger.notice("draining: new dialogs get 503 Retry-After: \(retryAfterSeconds); \(drainState.dialogCount) dialog(s) up, deadline \(deadline)")
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: deadline)
        while true {
            let sessions = await alg?.count ?? 0
            let dialogs = drainState.dialogCount
            if dialogs == 0 && sessions == 0 {
                logger.notice("drained: no dialog left")
                return 0
            }
            if clock.now >= end {
                logger.warning("drain deadline passed with \(dialogs) dialog(s) and \(sessions) ALG session(s) up")
                return max(dialogs, sessions)
            }
            try? await Task.sleep(for: poll)
        }
    }

    /// Tells the gateway this MGC goes away: ServiceChange on ROOT in the null context, method
    /// Graceful (with Delay) or Forced, Reason e.g. 909 "MGC impending failure" (H.248.1 §7.2.8,
    /// §7.2.8.1.9; Annex E.2 reasons). The OTP megaco MG answers it with a ServiceChangeReply.
    /// Returns true when the gateway replied without error.
    @discardableResult
    public func serviceChangeToGateway(_ shutdown: PCSCFShutdownSettings) async -> Bool {
        guard let iq, shutdown.serviceChange != .none, await iq.isRegistered else { return false }
        let request = Self.serviceChangeRequest(shutdown)
        let started = ContinuousClock.now
        do {
            let reply = try await iq.transact([request])
            _ = try IqProcedures.check(reply)
            logger.notice("iq ServiceChange ctx=- term=ROOT method=\(shutdown.serviceChange.rawValue) reason=\(shutdown.serviceChangeReason) result=ok latency=\(IqTransactionLog.milliseconds(ContinuousClock.now - started))ms")
            return true
        } catch {
            logger.warning("iq ServiceChange ctx=- term=ROOT method=\(shutdown.serviceChange.rawValue) result=\(error) latency=\(IqTransactionLog.milliseconds(ContinuousClock.now - started))ms")
            return false
        }
    }

    /// `Context = - { ServiceChange = ROOT { Services { Method = Graceful, Reason = "909 …", Delay = n } } }`.
    public static func serviceChangeRequest(_ shutdown: PCSCFShutdownSettings) -> ActionRequest {
        let method: H248Codec.ServiceChangeMethod = shutdown.serviceChange == .forced ? .forced : .graceful
        let delay = shutdown.serviceChange == .graceful && shutdown.serviceChangeDelay > .zero
            ? UInt32(clamping: shutdown.serviceChangeDelay.components.seconds) : nil
        let parameters = ServiceChangeParameters(method: method, reason: .quoted(Self.reasonText(shutdown.serviceChangeReason)), delay: delay)
        return ActionRequest(contextID: .null, commands: [CommandRequest(.serviceChange, .root, [.services(parameters)])])
    }

    /// H.248.1 §7.2.8.1 / Annex E.2 ServiceChangeReason text.
    static func reasonText(_ code: Int) -> String {
        let names: [Int: String] = [
            900: "Service Restored", 903: "MGC Directed Change", 905: "Termination taken out of service",
            908: "MG Impending Failure", 909: "MGC Impending Failure", 915: "State Loss",
        ]
        return names[code].map { "\(code) \($0)" } ?? String(code)
    }

    /// The services of one `ServiceGroup` (start order; the group stops them in reverse).
    public func lifecycleServices(shutdown: PCSCFShutdownSettings) -> [any Service] {
        var services: [any Service] = []
        services.append(PCSCFIqAssociationService(service: self, shutdown: shutdown))
        services.append(PCSCFSIPService(service: self))
        services.append(PCSCFReaperService(service: self))
        services.append(PCSCFDrainService(service: self, shutdown: shutdown))
        return services
    }
}

/// The Iq association: up while the group runs; at shutdown (last), ServiceChange then close.
public struct PCSCFIqAssociationService: Service {
    let service: PCSCFService
    let shutdown: PCSCFShutdownSettings
    public func run() async throws {
        try? await gracefulShutdown()
        await service.serviceChangeToGateway(shutdown)
        await service.iq?.close()
    }
}

/// The SIP listeners and the transaction layer (the ProxyServer actor).
public struct PCSCFSIPService: Service {
    let service: PCSCFService
    /// Time left after the drain for the last final responses (the BYE's 200) to leave the send
    /// queue before the listeners close.
    public static let linger: Duration = .milliseconds(200)
    public func run() async throws {
        try? await gracefulShutdown()
        try? await Task.sleep(for: Self.linger)
        await service.server.shutdown()
    }
}

/// The session/registration reaper; cancelled at shutdown.
public struct PCSCFReaperService: Service {
    let service: PCSCFService
    public func run() async throws {
        await cancelWhenGracefulShutdown { await service.runReaper() }
    }
}

/// The drain: first to act at shutdown (it is the last service of the group).
public struct PCSCFDrainService: Service {
    let service: PCSCFService
    let shutdown: PCSCFShutdownSettings
    public func run() async throws {
        try? await gracefulShutdown()
        await service.drain(retryAfterSeconds: shutdown.retryAfterSeconds, deadline: shutdown.drainTimeout)
    }
}

/// Drops H.248 messages from addresses outside the gateway allow-list (`iq.gateway_allow_list`)
/// before the client reads them: an unknown host cannot register as the IMS-AGW.
public final class AllowListH248Transport: H248Transport, @unchecked Sendable {
    private let inner: any H248Transport
    private let allowed: Set<String>
    public let events: AsyncStream<H248TransportEvent>
    private let pump: Task<Void, Never>

    public init(_ inner: any H248Transport, allow: [String], logger: Logger) {
        self.inner = inner
        let allowed = Set(allow.compactMap { try? SocketAddress(ipAddress: $0, port: 0).ipAddress })
        self.allowed = allowed
        let (stream, continuation) = AsyncStream<H248TransportEvent>.makeStream(bufferingPolicy: .bufferingNewest(H248DriverLimits.inboundQueueLength))
        events = stream
        let source = inner.events
        pump = Task {
            for await event in source {
                if case .message(_, let from) = event, let ip = from.ipAddress, !allowed.contains(ip) {
                    logger.warning("iq: message from \(ip) dropped (not in iq.gateway_allow_list)")
                    continue
                }
                continuation.yield(event)
            }
            continuation.finish()
        }
    }

    public var kind: H248TransportKind { inner.kind }
    public var localAddress: SocketAddress? { inner.localAddress }
    public var eventLoop: any EventLoop { inner.eventLoop }
    public func send(_ message: [UInt8], to peer: SocketAddress) throws(H248ClientError) { try inner.send(message, to: peer) }
    public func close() async {
        await inner.close()
        pump.cancel()
    }
}

/// The Iq transaction log line (one per transaction): command, context, termination, result, latency.
public enum IqTransactionLog {
    public static func milliseconds(_ d: Duration) -> Int64 {
        d.components.seconds &* 1_000 &+ d.components.attoseconds / 1_000_000_000_000_000
    }

    /// `iq <command> ctx=<context> term=<terminations> result=<ok|error> latency=<ms>ms`.
    public static func line(command: String, context: String, terminations: [String], result: String, latency: Duration) -> String {
        "iq \(command) ctx=\(context) term=\(terminations.isEmpty ? "-" : terminations.joined(separator: ",")) result=\(result) latency=\(milliseconds(latency))ms"
    }
}
