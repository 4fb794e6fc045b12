import Crypto
import Logging
import NIOCore

/// One media termination of the gateway: H.248 context id, termination id and stream id (H.248.1 §6.1, §7.1.1).
public struct MediaTerminationKey: Hashable, Sendable, CustomStringConvertible {
    public var context: UInt32
    public var termination: String
    public var stream: UInt16

    public init(context: UInt32, termination: String, stream: UInt16 = 1) {
        self.context = context; self.termination = termination; self.stream = stream
    }

    public var description: String { "\(context)/\(termination)/\(stream)" }
}

/// Transport of a termination. `tls` = TCP + TLS (access side of e2ae MSRP/BFCP, TS 23.334 §5.11.2.2);
/// `tcp` = plain TCP (core side, or e2e passthrough, TS 23.334 §5.11.2.1); `udp` = RTP/RTCP relay.
public enum MediaTransport: Sendable, Hashable { case tcp, tls, udp }

/// RFC 4145 §4 `a=setup` role, the GATEWAY's own role on a termination (or, in `MediaRemote`, the peer's).
public enum TCPSetup: String, Sendable, Hashable { case active, passive, actpass, holdconn }

/// TLS role on a `tls` termination (the H.248 Establish-TLS signal makes the gateway the client).
public enum TLSRole: Sendable, Hashable { case client, server }

/// An RFC 8122 §5 certificate fingerprint (`a=fingerprint:<hash-func> <hex pairs>`).
public struct CertificateFingerprint: Sendable, Hashable, CustomStringConvertible {
    /// Lower-case hash function token, e.g. "sha-256" (RFC 8122 §5: case-insensitive on input).
    public var hashFunction: String
    public var bytes: [UInt8]

    /// Hash functions the gateway can verify with, and their digest lengths (RFC 8122 §5).
    public static let digestLengths: [String: Int] = ["sha-1": 20, "sha-256": 32, "sha-384": 48, "sha-512": 64]

    public init(hashFunction: String, bytes: [UInt8]) {
        self.hashFunction = hashFunction.lowercased(); self.bytes = bytes
    }

    /// Parses "sha-256 AB:CD:…" (the value of `a=fingerprint:`). Validates the hash name, the hex-pair
    /// format and the length against the hash (specs.md §8). Never traps on input.
    public init(sdpValue: String) throws(MediaError) {
        let trimmed = sdpValue.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard trimmed.count == 2 else { throw .invalid("fingerprint: expected '<hash-func> <hex>'") }
        let hash = trimmed[0].lowercased()
        guard let length = Self.digestLengths[hash] else { throw .invalid("fingerprint: unsupported hash \(trimmed[0])") }
        let pairs = trimmed[1].split(separator: ":", omittingEmptySubsequences: false)
        guard pairs.count == length else { throw .invalid("fingerprint: \(pairs.count) bytes for \(hash), expected \(length)") }
        var out: [UInt8] = []
        out.reserveCapacity(length)
        for p in pairs {
            guard p.utf8.count == 2, p.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }),
                  let b = UInt8(p, radix: 16) else { throw .invalid("fingerprint: bad hex pair '\(p.prefix(4))'") }
            out.append(b)
        }
        self.hashFunction = hash; self.bytes = out
    }

    /// "sha-256 AB:CD:…": lower-case hash token, upper-case hex pairs (RFC 8122 §5; what openssl prints).
    public var sdpValue: String { hashFunction + " " + hexPairs }

    /// "AB:CD:…" only.
    public var hexPairs: String {
        bytes.map { b in
            let s = String(b, radix: 16, uppercase: true)
            return s.count == 1 ? "0" + s : s
        }.joined(separator: ":")
    }

    public var description: String { sdpValue }

    /// The fingerprint of DER certificate bytes with `hashFunction` (nil if the hash is not supported).
    public static func of(der: [UInt8], hashFunction: String = "sha-256") -> CertificateFingerprint? {
        let h = hashFunction.lowercased()
        let digest: [UInt8]
        switch h {
        case "sha-1": digest = Array(Insecure.SHA1.hash(data: der))
        case "sha-256": digest = Array(SHA256.hash(data: der))
        case "sha-384": digest = Array(SHA384.hash(data: der))
        case "sha-512": digest = Array(SHA512.hash(data: der))
        default: return nil
        }
        return CertificateFingerprint(hashFunction: h, bytes: digest)
    }
}

/// What the MG side asks for when a termination is added (H.248 Add with Local `$`).
public struct MediaAllocation: Sendable {
    public var key: MediaTerminationKey
    public var transport: MediaTransport
    /// Local address to bind (the gateway's address for this realm).
    public var bindHost: String
    /// nil = allocate from the pool (`$` in the Local descriptor).
    public var port: Int?
    /// The gateway's own RFC 4145 role on this termination (nil: passive for TCP).
    public var setup: TCPSetup?
    /// The MGC requested the gateway's certificate fingerprint (TS 23.334 §5.11.2.2, "request a fingerprint").
    public var wantsFingerprint: Bool
    /// The termination's proto carries MSRP framing (`TCP/MSRP`, `TCP/TLS/MSRP`): with both terminations
    /// of a stream so marked and `MediaPlaneConfiguration.msrpPathRewrite` on, the relay is
    /// application-aware (seed 003; specs.md §6.3: the MGC asks `TCP/MSRP` instead of `TCP` for it).
    public var msrp: Bool

    public init(key: MediaTerminationKey, transport: MediaTransport, bindHost: String, port: Int? = nil,
                setup: TCPSetup? = nil, wantsFingerprint: Bool = false, msrp: Bool = false) {
        self.key = key; self.transport = transport; self.bindHost = bindHost; self.port = port
        self.setup = setup; self.wantsFingerprint = wantsFingerprint; self.msrp = msrp
    }
}

/// The resolved Local descriptor values.
public struct MediaLocal: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// The gateway's certificate fingerprint (tls terminations with `wantsFingerprint`).
    public var fingerprint: CertificateFingerprint?

    public init(host: String, port: Int, fingerprint: CertificateFingerprint? = nil) {
        self.host = host; self.port = port; self.fingerprint = fingerprint
    }
}

/// The Remote descriptor values.
public struct MediaRemote: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// The peer's RFC 4145 role (from the Remote SDP), if any.
    public var setup: TCPSetup?
    /// The peer's certificate fingerprint (RFC 8122), for tls terminations.
    public var fingerprint: CertificateFingerprint?
    /// Accept connections/packets only from `host` (remote source address filtering, TS 23.334 §5.8 / H.248.43).
    public var filterSource: Bool
    /// The last URI of the peer's `a=path` (RFC 4975 §8.1), when the Remote SDP carries it: the
    /// application-aware relay puts its scheme and authority in To-Path towards this peer; without it,
    /// the Remote address and port (without CEMA an MSRP endpoint's a=path matches its c=/m=, specs.md §6.2).
    public var msrpPath: String?

    public init(host: String, port: Int, setup: TCPSetup? = nil, fingerprint: CertificateFingerprint? = nil,
                filterSource: Bool = false, msrpPath: String? = nil) {
        self.host = host; self.port = port; self.setup = setup; self.fingerprint = fingerprint
        self.filterSource = filterSource; self.msrpPath = msrpPath
    }
}

/// What the media plane reports to the MG side (mapped to H.248 Notify).
public enum MediaEvent: Sendable, Equatable {
    /// The bearer of this termination is up (TCP connected; for tls: handshake done and fingerprint verified).
    case connected(MediaTerminationKey)
    /// TLS establishment or fingerprint verification failed (TS 23.334 §5.11.2.2: "report the unsuccessful TLS session setup").
    case tlsFailed(MediaTerminationKey, reason: String)
    /// The gateway's own TCP connection attempt failed.
    case tcpFailed(MediaTerminationKey, reason: String)
    /// The bearer was released by the peer (or because the interconnected side closed).
    case bearerReleased(MediaTerminationKey)
}

/// Errors of the media plane. The MG side maps them to H.248.8 codes (see `h248ErrorCode`).
public enum MediaError: Error, Sendable, Equatable {
    case noPortAvailable
    case unknownTermination(MediaTerminationKey)
    case invalid(String)
    case io(String)
    case alreadyExists(MediaTerminationKey)
    case unsupported(String)

    /// Suggested H.248.8 error code: 510 insufficient resources, 435 termination ID not in context,
    /// 449 unsupported or unknown parameter or property value, 500 internal error, 433 already in use, 501 not implemented.
    public var h248ErrorCode: Int {
        switch self {
        case .noPortAvailable: return 510
        case .unknownTermination: return 435
        case .invalid: return 449
        case .io: return 500
        case .alreadyExists: return 433
        case .unsupported: return 501
        }
    }
}

/// Configuration of the media plane (defaults in `Docs/agw-media.md`).
public struct MediaPlaneConfiguration: Sendable {
    /// Ports handed out when an allocation has no port (`$`).
    public var portRange: ClosedRange<Int>
    /// true: a new certificate per tls termination; false (default): one certificate for the gateway.
    public var certificatePerStream: Bool
    /// How long TLS verification waits for the Remote fingerprint (seed 004 step 12).
    public var tlsVerifyTimeout: Duration
    /// Bound on the gateway's own TCP connect attempts.
    public var connectTimeout: Duration
    /// Back-pressure bound: bytes queued towards one side before reading from the other stops.
    public var maxBufferedBytes: Int
    /// Application-aware MSRP (To-Path/From-Path rewritten on streams whose two terminations are MSRP
    /// protos, `MSRPPathRewriter`; seed 003: only by static configuration). Off by default.
    public var msrpPathRewrite: Bool
    /// NSS key log file for TLS secrets (for tshark); nil = off (default).
    public var keyLogFile: String?
    /// Common name of the self-signed certificate(s).
    public var certificateCommonName: String
    /// The gateway's own certificate and key (e.g. `TLSIdentity.load`): used for every TLS stream
    /// instead of generated ones (`certificatePerStream` is then ignored). nil (default): generated.
    public var identity: TLSIdentity?

    public init(portRange: ClosedRange<Int> = 40000...40999, certificatePerStream: Bool = false,
                tlsVerifyTimeout: Duration = .seconds(5), connectTimeout: Duration = .seconds(5),
                maxBufferedBytes: Int = 256 * 1024, msrpPathRewrite: Bool = false, keyLogFile: String? = nil,
                certificateCommonName: String = "ims-agw.invalid") {
        self.portRange = portRange; self.certificatePerStream = certificatePerStream
        self.tlsVerifyTimeout = tlsVerifyTimeout; self.connectTimeout = connectTimeout
        self.maxBufferedBytes = maxBufferedBytes; self.msrpPathRewrite = msrpPathRewrite
        self.keyLogFile = keyLogFile; self.certificateCommonName = certificateCommonName
    }
}

/// How two terminations of a context are joined (TS 23.334 §5.16, specs.md §5.4).
public enum InterconnectMode: Sendable, Hashable {
    /// State-aware TCP proxy: a SYN is never forwarded; the gateway connects when told (active role and a
    /// Remote) or when the interconnected termination accepted a connection (interlinkage trigger).
    case proxy
    /// TCP merge: each side establishes independently (typically the gateway is server on both) and the
    /// two connections are joined.
    case merge
}

/// Counters for audits and metrics.
public struct MediaPlaneStatistics: Sendable, Hashable {
    public var terminations: Int
    public var openConnections: Int
    public var bytesRelayed: UInt64
    public var datagramsRelayed: UInt64
    public var tlsHandshakes: UInt64
    public var tlsFailures: UInt64
    public var rejectedConnections: UInt64
    public var droppedDatagrams: UInt64
    /// Application-aware MSRP: messages whose To-Path/From-Path were rewritten, and streams closed on a framing error.
    public var msrpMessagesRewritten: UInt64 = 0
    public var msrpFramingErrors: UInt64 = 0

    public init(terminations: Int = 0, openConnections: Int = 0, bytesRelayed: UInt64 = 0, datagramsRelayed: UInt64 = 0,
                tlsHandshakes: UInt64 = 0, tlsFailures: UInt64 = 0, rejectedConnections: UInt64 = 0, droppedDatagrams: UInt64 = 0) {
        self.terminations = terminations; self.openConnections = openConnections; self.bytesRelayed = bytesRelayed
        self.datagramsRelayed = datagramsRelayed; self.tlsHandshakes = tlsHandshakes; self.tlsFailures = tlsFailures
        self.rejectedConnections = rejectedConnections; self.droppedDatagrams = droppedDatagrams
    }
}

/// Named limits of the media plane.
public enum MediaLimits {
    /// Largest UDP datagram relayed (RTP/RTCP, RFC 3550); larger ones are dropped, never truncated.
    public static let maxDatagramBytes = 8192
    /// Maximum terminations held at once (bounded state against a misbehaving MGC).
    public static let maxTerminations = 65536
    /// Largest certificate chain length accepted from a TLS peer (self-signed: 1; a few for safety).
    public static let maxPeerChainLength = 8
    /// Largest termination-id length accepted (H.248.1 Annex B TerminationID is short text).
    public static let maxTerminationIDLength = 256
    /// Pending-accept backlog of a listening termination.
    public static let listenBacklog: Int32 = 8
}
