import NIOCore
import SIPCore

/// Which side of the P-CSCF a listener or connection belongs to (3GPP TS 23.228: Gm towards the UEs,
/// Mw towards the core). Every inbound message carries its side so the proxy never has to guess.
public enum SIPSide: String, Sendable, Hashable, CaseIterable {
    case gm
    case mw
}

/// Transport of a listener, connection or destination (RFC 3261 §18). TLS is a stream kind: an NIOSSL
/// handler in front of the same `SIPStreamHandler` as TCP (RFC 3261 §18.3, §26.3.1).
public enum SIPTransportKind: String, Sendable, Hashable {
    case udp = "UDP"
    case tcp = "TCP"
    case tls = "TLS"

    /// Stream transports carry framed messages and keep connections (RFC 3261 §18.3).
    public var isStream: Bool { self != .udp }
}

/// One configured listening address.
public struct SIPListenerConfiguration: Sendable, Hashable {
    public var side: SIPSide
    public var transport: SIPTransportKind
    public var host: String
    /// 0 picks an ephemeral port (tests); the bound port is reported by `SIPTransportService.listeners`.
    public var port: Int
    /// Certificate chain and key of a `.tls` listener (required for `.tls`, ignored otherwise).
    public var tls: SIPTLSServerSettings?

    public init(side: SIPSide, transport: SIPTransportKind, host: String, port: Int, tls: SIPTLSServerSettings? = nil) {
        self.side = side; self.transport = transport; self.host = host; self.port = port; self.tls = tls
    }
}

/// Named bounds of the transport, each citing its clause (COMMON.md: every limit is a named constant).
public enum SIPTransportLimits {
    /// RFC 3261 §18.1.1: a request within 200 bytes of the path MTU, or larger than 1300 bytes when the
    /// MTU is unknown, MUST go over a congestion-controlled transport (TCP). Configurable.
    public static let udpMaxMessageBytes = 1300
    /// The UDP receive allocator: one whole datagram (RFC 768 length field is 16 bits, so 65,535 is the
    /// ceiling, RFC 3261 §18.1.1). NIO's default of 2048 silently truncates (platform-notes §3.1).
    public static let udpReceiveBufferBytes = 65_536
    /// Datagrams read per `recvmmsg` call on a UDP listener (NIO `datagramVectorReadMessageCount`): one
    /// system call per read burst instead of one `recvmsg` per datagram. NIO slices ONE receive buffer into
    /// this many equal slots and truncates silently a datagram longer than its slot (platform-notes §3.1),
    /// so the buffer is `udpVectorReadBufferBytes`: each slot holds `udpReceiveBufferBytes`, more than any
    /// UDP payload (RFC 768), and no datagram can be cut.
    public static let udpVectorReadMessageCount = 8
    /// The receive buffer of a UDP listener in vector-read mode: `udpVectorReadMessageCount` slots of
    /// `udpReceiveBufferBytes` each (512 KiB, allocated once per listener and reused by NIO's buffer pool).
    public static let udpVectorReadBufferBytes = udpVectorReadMessageCount * udpReceiveBufferBytes
    /// Kernel receive buffer (SO_RCVBUF) asked for each UDP listener socket; Linux caps it at
    /// `net.core.rmem_max` without error. The default (~208 KiB) overflows in bursts when the event
    /// loop thread is descheduled on a loaded host (datagrams dropped, SIP retransmissions needed).
    public static let udpSocketReceiveBufferBytes = 4 << 20
    /// Largest UDP payload over IPv4 (65,535 − 8 UDP − 20 IP header bytes, RFC 768 / RFC 791); larger
    /// sends on a datagram flow throw `messageTooLarge`.
    public static let udpMaxDatagramBytes = 65_507
    /// Per-connection output bound: above this many queued bytes a connection is not writable and
    /// `send` throws `congested` instead of queueing more (back-pressure, no unbounded buffering).
    public static let connectionWriteHighWaterMark = 1 << 20
    /// Writable again below this many queued bytes.
    public static let connectionWriteLowWaterMark = 64 << 10
    /// Default ceiling of simultaneously open stream connections (inbound + outgoing); configurable.
    public static let maxConnections = 10_000
    /// Default idle time after which a stream connection is closed (RFC 3261 §18 leaves connection
    /// lifetime to the implementation; RFC 5626 §4.4.1 keep-alives every 95–120 s keep a flow alive,
    /// so the default is above that).
    public static let idleTimeoutSeconds: Int64 = 300
}

public struct SIPTransportConfiguration: Sendable {
    public var listeners: [SIPListenerConfiguration]
    /// Size above which a message for UDP goes over TCP instead (RFC 3261 §18.1.1).
    public var udpMaxMessageBytes: Int
    /// Maximum simultaneously open stream connections; more are refused (inbound) or fail (outgoing).
    public var maxConnections: Int
    /// Stream connections with no read or write for this long are closed.
    public var idleTimeout: TimeAmount
    /// Per-message (and so per-connection buffer) bounds (SIPParseLimits, RFC 3261 §18.3, §21.5.14).
    public var parseLimits: SIPParseLimits
    /// `warn-agent` of the Warning on 400/505/513 answers (RFC 3261 §20.43).
    public var warningAgent: String
    /// Tag for the To header of answers to malformed requests (RFC 3261 §8.2.6.2); injected so callers
    /// can make it deterministic. Default: a process-local counter.
    public var toTagGenerator: @Sendable () -> String
    /// Outgoing TLS connections: certificate verification (`full` or, for the lab, `none`) and trust roots.
    public var tlsClient: SIPTLSClientSettings
    /// Run libosip2 (`osip_message_parse`) on every received message as the syntax check of record
    /// (default). Off: SIPCore's scanner and its semantic checks alone judge the input (RFC 3261
    /// §8.1.1 mandatory headers, §8.1.1.5 CSeq, §18.3 Content-Length, limits: still 400/505/513 or
    /// dropped); messages only libosip2 refuses (RFC 4475 `ltgtruri`, `quotbal`, `badaspec`,
    /// `badinv01`, and the valid `intmeth`, `novelsc`) are then delivered. Saves a second full parse
    /// with its C allocations per message (`pcscf-alg proxy --no-libosip2-check`).
    public var validatesWithLibOSIP2 = true

    public init(listeners: [SIPListenerConfiguration],
                udpMaxMessageBytes: Int = SIPTransportLimits.udpMaxMessageBytes,
                maxConnections: Int = SIPTransportLimits.maxConnections,
                idleTimeout: TimeAmount = .seconds(SIPTransportLimits.idleTimeoutSeconds),
                parseLimits: SIPParseLimits = .default,
                warningAgent: String = "pcscf-alg",
                toTagGenerator: (@Sendable () -> String)? = nil,
                tlsClient: SIPTLSClientSettings = .init()) {
        self.listeners = listeners
        self.udpMaxMessageBytes = udpMaxMessageBytes
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.parseLimits = parseLimits
        self.warningAgent = warningAgent
        self.toTagGenerator = toTagGenerator ?? SIPTransportConfiguration.counterTags()
        self.tlsClient = tlsClient
    }

    /// Checks the configuration at start-up (`SIPTransportService.start()` calls it).
    public func validate() throws(SIPTransportConfigurationError) {
        guard !listeners.isEmpty else { throw .init("no listeners configured") }
        guard (1...SIPTransportLimits.udpMaxDatagramBytes).contains(udpMaxMessageBytes) else {
            throw .init("udpMaxMessageBytes \(udpMaxMessageBytes) outside 1...\(SIPTransportLimits.udpMaxDatagramBytes)")
        }
        guard maxConnections >= 1 else { throw .init("maxConnections must be at least 1") }
        guard idleTimeout.nanoseconds > 0 else { throw .init("idleTimeout must be positive") }
        for l in listeners where !(0...65_535).contains(l.port) { throw .init("listener port \(l.port) out of range") }
        for l in listeners where l.transport == .tls && l.tls == nil {
            throw .init("TLS listener \(l.host):\(l.port) has no certificate chain / private key")
        }
        do { try parseLimits.validate() } catch { throw .init("parseLimits: \(error.detail)") }
    }

    static func counterTags() -> @Sendable () -> String {
        let counter = LockedCounter()
        return { "t" + String(counter.next(), radix: 16) }
    }
}

/// A configuration value out of range (`SIPTransportConfiguration.validate()`).
public struct SIPTransportConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
