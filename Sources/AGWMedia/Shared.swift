import Foundation
import NIOCore
import NIOSSL

/// Counters shared by every channel of a plane (updated on event loops, read by the actor).
final class MediaCounters: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: UInt64 = 0
    private var datagrams: UInt64 = 0
    private var handshakes: UInt64 = 0
    private var tlsFailures: UInt64 = 0
    private var rejected: UInt64 = 0
    private var dropped: UInt64 = 0
    private var msrpRewritten: UInt64 = 0
    private var msrpErrors: UInt64 = 0

    func addBytes(_ n: Int) { lock.lock(); bytes &+= UInt64(max(0, n)); lock.unlock() }
    func addDatagram(_ n: Int) { lock.lock(); datagrams &+= 1; bytes &+= UInt64(max(0, n)); lock.unlock() }
    func handshake() { lock.lock(); handshakes &+= 1; lock.unlock() }
    func tlsFailure() { lock.lock(); tlsFailures &+= 1; lock.unlock() }
    func reject() { lock.lock(); rejected &+= 1; lock.unlock() }
    func drop() { lock.lock(); dropped &+= 1; lock.unlock() }
    func msrp(rewritten: Int) { lock.lock(); msrpRewritten &+= UInt64(max(0, rewritten)); lock.unlock() }
    func msrpError() { lock.lock(); msrpErrors &+= 1; lock.unlock() }

    func fill(_ s: inout MediaPlaneStatistics) {
        lock.lock(); defer { lock.unlock() }
        s.bytesRelayed = bytes; s.datagramsRelayed = datagrams; s.tlsHandshakes = handshakes
        s.tlsFailures = tlsFailures; s.rejectedConnections = rejected; s.droppedDatagrams = dropped
        s.msrpMessagesRewritten = msrpRewritten; s.msrpFramingErrors = msrpErrors
    }
}

/// Per-termination state that event-loop code reads: the accept gate (source filter, latching),
/// the TLS role and contexts, and the Remote fingerprint that TLS verification waits for.
final class TerminationShared: @unchecked Sendable {
    let key: MediaTerminationKey
    let transport: MediaTransport
    private let lock = NSLock()
    private var filterHost: String?
    private var latched = false
    private var tlsRole: TLSRole?
    private var expected: CertificateFingerprint?
    private var waiters: [(leaf: [UInt8], promise: EventLoopPromise<NIOSSLVerificationResult>)] = []
    private var failureReason: String?
    let serverContext: NIOSSLContext?
    let clientContext: NIOSSLContext?

    init(key: MediaTerminationKey, transport: MediaTransport, serverContext: NIOSSLContext?, clientContext: NIOSSLContext?) {
        self.key = key; self.transport = transport; self.serverContext = serverContext; self.clientContext = clientContext
    }

    /// Latching (H.248.37 / TS 23.334 §5.8): the first acceptable peer is kept; later ones are refused.
    /// Source filtering: only `filterHost` may connect once set.
    func tryLatch(host: String?) -> Bool {
        lock.lock(); defer { lock.unlock() }
        if latched { return false }
        if let f = filterHost, host != f { return false }
        latched = true
        return true
    }

    func forceLatch() { lock.lock(); latched = true; lock.unlock() }
    func unlatch() { lock.lock(); latched = false; lock.unlock() }

    func setFilter(_ host: String?) { lock.lock(); filterHost = host; lock.unlock() }
    func allows(host: String?) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard let f = filterHost else { return true }
        return host == f
    }

    func setTLSRole(_ role: TLSRole?) { lock.lock(); tlsRole = role; lock.unlock() }
    /// The TLS role does not follow the TCP direction: the gateway is TLS client only when told by the
    /// Establish-TLS signal (H.248.90 tlsbsc, TS 29.334), otherwise it waits for the peer's ClientHello,
    /// whichever side opened TCP. Seed 004 originating BFCP: the gateway opens TCP towards the UE
    /// (answer a=setup:active) while the UE, the SDP offerer, is the TLS client (RFC 4583 model, specs.md U10).
    func role(inbound: Bool) -> TLSRole {
        lock.lock(); defer { lock.unlock() }
        return tlsRole ?? .server
    }

    func recordFailure(_ reason: String) { lock.lock(); if failureReason == nil { failureReason = reason }; lock.unlock() }
    func takeFailure() -> String? { lock.lock(); defer { failureReason = nil; lock.unlock() }; return failureReason }

    /// Sets the Remote fingerprint and completes every verification waiting for it (seed 004 step 12).
    func setExpected(_ fp: CertificateFingerprint?) {
        lock.lock()
        expected = fp
        let pending = fp == nil ? [] : waiters
        if fp != nil { waiters.removeAll() }
        lock.unlock()
        for w in pending { complete(w.promise, leaf: w.leaf, expected: fp) }
    }

    /// The custom verification callback: compare the leaf certificate's digest with the Remote
    /// fingerprint (RFC 8122 §5, RFC 4975 §14.4); no CA chain. Waits up to `timeout` for the fingerprint.
    func verify(_ chain: [NIOSSLCertificate], _ promise: EventLoopPromise<NIOSSLVerificationResult>, timeout: TimeAmount) {
        guard chain.count <= MediaLimits.maxPeerChainLength, let leafCert = chain.first,
              let leaf = try? leafCert.toDERBytes() else {
            recordFailure("peer presented no usable certificate")
            promise.succeed(.failed); return
        }
        lock.lock()
        if let fp = expected {
            lock.unlock()
            complete(promise, leaf: leaf, expected: fp)
            return
        }
        waiters.append((leaf, promise))
        lock.unlock()
        promise.futureResult.eventLoop.scheduleTask(in: timeout) { [self] in
            lock.lock()
            let idx = waiters.firstIndex { $0.promise.futureResult === promise.futureResult }
            if let idx { waiters.remove(at: idx) }
            lock.unlock()
            if idx != nil {
                recordFailure("no remote fingerprint within the verification timeout")
                promise.succeed(.failed)
            }
        }
    }

    private func complete(_ promise: EventLoopPromise<NIOSSLVerificationResult>, leaf: [UInt8], expected: CertificateFingerprint?) {
        guard let expected, let got = CertificateFingerprint.of(der: leaf, hashFunction: expected.hashFunction) else {
            recordFailure("unsupported fingerprint hash"); promise.succeed(.failed); return
        }
        if got.bytes == expected.bytes {
            promise.succeed(.certificateVerified)
        } else {
            recordFailure("certificate fingerprint mismatch: peer \(got.sdpValue)")
            promise.succeed(.failed)
        }
    }
}

/// Events from channels to the plane, delivered in order through one stream.
enum ChannelNote: Sendable {
    case opened(MediaTerminationKey, any Channel, inbound: Bool)
    case ready(MediaTerminationKey, any Channel)
    case failed(MediaTerminationKey, any Channel, reason: String, tls: Bool)
    case closed(MediaTerminationKey, any Channel)
    case connectFailed(MediaTerminationKey, reason: String)
}

extension Duration {
    var timeAmount: TimeAmount {
        let c = components
        let ns = c.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if ns.overflow { return .nanoseconds(Int64.max) }
        return .nanoseconds(ns.partialValue &+ c.attoseconds / 1_000_000_000)
    }
}
