import Foundation
import NIOCore
import SIPCore

/// Identifies the flow a message arrived on, so a reply goes back the same way (RFC 3261 §18.2.2,
/// RFC 5626 flow token). For streams it is the connection id; for UDP the listener and the peer.
public struct SIPFlowToken: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A UDP listener (index into `SIPTransportService.listeners`) and the peer's address.
        case datagram(listener: Int, remote: SocketAddress)
        /// A stream connection (inbound or outgoing), by connection id.
        case connection(UInt64)
    }
    public var kind: Kind
    public init(_ kind: Kind) { self.kind = kind }

    public var connectionID: UInt64? { if case .connection(let id) = kind { return id } else { return nil } }
    public var description: String {
        switch kind {
        case .datagram(let l, let r): return "udp#\(l)/\(r)"
        case .connection(let id): return "conn#\(id)"
        }
    }
}

/// One message received by the transport, with where it came from.
public struct SIPInbound: Sendable {
    /// The parsed message; for requests the top Via already carries `received`/`rport` (RFC 3261
    /// §18.2.1, RFC 3581 §4).
    public var message: SIPMessage
    public var side: SIPSide
    public var transport: SIPTransportKind
    public var local: SocketAddress
    public var remote: SocketAddress
    public var flow: SIPFlowToken
    /// The top Via element as it arrived, parsed once by the transport: for a request, before the
    /// `received`/`rport` stamp (RFC 3261 §18.2.1, RFC 3581 §4), which changes only those two parameters, so
    /// its sent-protocol, sent-by and branch are the stamped message's (what transaction matching reads,
    /// RFC 3261 §17.2.3); `message.topVia` has the stamped parameters. nil when the message has no parsable
    /// top Via.
    public var receivedTopVia: SIPVia?

    public init(message: SIPMessage, side: SIPSide, transport: SIPTransportKind, local: SocketAddress, remote: SocketAddress,
                flow: SIPFlowToken, receivedTopVia: SIPVia? = nil) {
        self.message = message; self.side = side; self.transport = transport; self.local = local; self.remote = remote
        self.flow = flow; self.receivedTopVia = receivedTopVia
    }
}

/// Where to send.
public enum SIPDestination: Sendable {
    /// Back over the flow a message came in on (RFC 3261 §18.2.2: a response over the same connection).
    case flow(SIPFlowToken)
    /// To an address over a transport from a listener of `side`. UDP messages over
    /// `udpMaxMessageBytes` go over TCP (RFC 3261 §18.1.1). TCP reuses an open connection to the address
    /// or opens a new one.
    case address(SocketAddress, transport: SIPTransportKind, side: SIPSide)
    /// As `address`, with the name a TLS peer's certificate must match (and SNI, RFC 6066 §3) when
    /// `tlsClient.verify` is `full` (RFC 5922 §7.2). Ignored for UDP and TCP.
    case named(SocketAddress, serverName: String, transport: SIPTransportKind, side: SIPSide)
}

/// Learns of datagram writes that fail after `SIPTransportService.sendImmediately(_:to:failureTag:reportingTo:)`
/// returned (RFC 3261 §17.1.4: the transport reports a failure to the transaction user). One object
/// serves every send: the tag says which send failed (no closure per datagram).
public protocol SIPSendFailureHandler: AnyObject, Sendable {
    /// Called on the channel's event loop with the tag given to the failed send.
    func sendFailed(tag: UInt64, error: any Error)
}

/// What `send` did.
public struct SIPSendResult: Sendable, Equatable {
    public var transport: SIPTransportKind
    public var flow: SIPFlowToken
}

public enum SIPTransportError: Error, Sendable, Equatable {
    case notStarted
    case alreadyStarted
    case unknownFlow(SIPFlowToken)
    case noListener(SIPSide, SIPTransportKind)
    case connectionLimit(Int)
    case messageTooLarge(Int)
    /// The connection's output queue is over `connectionWriteHighWaterMark` (the peer does not read).
    case congested(SIPFlowToken)
}

/// Counters for tests and metrics. A snapshot; read it with `SIPTransportService.counters`.
public struct SIPTransportCounters: Sendable, Equatable {
    public var messagesReceived = 0
    public var messagesSent = 0
    /// Malformed requests answered with 400/505/513 (RFC 3261 §21.4.1, §21.5.14).
    public var malformedAnswered = 0
    /// Malformed input that could not be answered (responses, junk, unreadable heads) and was dropped.
    public var malformedDropped = 0
    /// Stream connections closed because of a framing error (RFC 3261 §18.3).
    public var framingErrors = 0
    /// RFC 5626 §3.5.1 CRLFCRLF pings received (each answered with a pong).
    public var keepAlivePings = 0
    public var connectionsAccepted = 0
    public var connectionsOpened = 0
    /// Inbound connections refused because `maxConnections` was reached.
    public var connectionsRefused = 0
    /// Connections closed after `idleTimeout` without traffic.
    public var connectionsReaped = 0
    /// UDP sends moved to TCP because of their size (RFC 3261 §18.1.1).
    public var udpToTCPSwitches = 0
    /// TLS connections that closed before their handshake completed (plaintext or bad clients,
    /// certificate failures); the listener keeps serving.
    public var tlsHandshakeFailures = 0
    /// Inbound messages dropped because the layer above fell `inboundQueueLimit` behind.
    public var inboundQueueDrops = 0
    public init() {}
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value: UInt64 = 0
    func next() -> UInt64 { lock.lock(); defer { lock.unlock() }; value &+= 1; return value }
}
