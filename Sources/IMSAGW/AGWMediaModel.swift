// The pure model of what the media plane must do for the Iq commands (TS 23.334 §5.11.2.2 IMS-AGW
// duties, seed 000 second list; seed 003; seed 004). IMSAGW never touches a socket: a command
// execution returns `AGWAllocation`s (ports and certificates to reserve, whose results fill `$` in
// Local, H.248.1 §7.1.8) and `AGWMediaOperation`s (configure, interconnect, release) that the
// runtime performs on its media plane; the media plane's events come back as `AGWMediaEvent`.

import H248Codec

/// One stream of one termination in one context: the unit the media plane works on.
public struct AGWMediaKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var context: UInt32
    public var termination: String
    public var stream: UInt16
    public init(context: UInt32, termination: String, stream: UInt16) {
        self.context = context
        self.termination = termination
        self.stream = stream
    }
    public static func < (a: AGWMediaKey, b: AGWMediaKey) -> Bool {
        (a.context, a.termination, a.stream) < (b.context, b.termination, b.stream)
    }
    public var description: String { "\(context)/\(termination)/\(stream)" }
}

/// Bearer transport of a termination's stream, from its SDP proto (seed 003: `TCP/TLS/MSRP`,
/// `TCP/TLS` access; `TCP/MSRP`, `TCP` core; RTP over UDP for anchored audio/video).
public enum AGWTransport: String, Sendable, Hashable {
    case tcp, tls, udp

    /// The transport of an m-line proto, nil when the gateway does not support it.
    public static func of(proto: String) -> AGWTransport? {
        switch proto.uppercased() {
        case "TCP", "TCP/MSRP", "TCP/BFCP": return .tcp
        case "TCP/TLS", "TCP/TLS/MSRP", "TCP/TLS/BFCP": return .tls
        case "RTP/AVP", "RTP/AVPF", "UDP": return .udp
        default: return nil
        }
    }
}

/// RFC 4145 `a=setup` role.
public enum AGWSetup: String, Sendable, Hashable {
    case active, passive, actpass, holdconn
}

/// What to reserve for one stream (the "Local IP Resources" / "Local Connection Address Request"
/// and "Local certificate fingerprint Request" IEs, specs.md §10.3).
public struct AGWAllocation: Sendable, Equatable {
    public var key: AGWMediaKey
    public var transport: AGWTransport
    /// The m-line proto and media as asked (`TCP/TLS/MSRP`, `message`).
    public var proto: String
    public var media: String
    /// The AGW's own TCP role from Local `a=setup` (iq-tokens §3.3).
    public var setup: AGWSetup?
    /// `a=fingerprint:$`: a certificate is selected for the stream and its fingerprint returned.
    public var wantsFingerprint: Bool
    /// A specific address / port the MGC wrote instead of `$` (nil = gateway chooses).
    public var requestedAddress: String?
    public var requestedPort: UInt16?
    /// `c=IN IP6 $`.
    public var ipv6: Bool
}

/// The media plane's answer to an allocation: what replaces `$` in Local.
public struct AGWLocalResource: Sendable, Equatable {
    public var address: String
    public var port: UInt16
    /// `<hash-func> <hex>` as in `a=fingerprint:` (RFC 8122 §5), for TLS streams.
    public var fingerprint: String?
    public init(address: String, port: UInt16, fingerprint: String? = nil) {
        self.address = address
        self.port = port
        self.fingerprint = fingerprint
    }
}

/// The far end from Remote (address, port, `a=setup`, `a=fingerprint`; seed 004 "Remote certificate fingerprint").
public struct AGWRemote: Sendable, Equatable {
    public var address: String
    public var port: UInt16
    public var setup: AGWSetup?
    /// Each `<hash-func> <hex>` of the Remote's `a=fingerprint` lines.
    public var fingerprints: [String]
    /// The URIs of the Remote's `a=path` (RFC 4975 §8.1), when given: application-aware MSRP uses the last one.
    public var path: [String]
    public init(address: String, port: UInt16, setup: AGWSetup? = nil, fingerprints: [String] = [], path: [String] = []) {
        self.address = address
        self.port = port
        self.setup = setup
        self.fingerprints = fingerprints
        self.path = path
    }
}

/// TCP handling between the two interconnected terminations (TS 23.334 §5.16; specs.md §5.4).
public enum AGWInterconnectMode: String, Sendable, Hashable {
    /// State-aware, setup direction kept: a SYN is never forwarded; an incoming connection on one
    /// side may trigger the connection on the other.
    case proxy
    /// Server on both sides, the two connections joined (both Local `a=setup:passive`).
    case merge
}

/// What the runtime performs on its media plane after a command (in order).
public enum AGWMediaOperation: Sendable, Equatable {
    /// Apply Remote / TLS client role (Establish TLS signal) / TCP connect signal / stream mode.
    case configure(AGWMediaKey, remote: AGWRemote?, localSetup: AGWSetup?, establishTLSAsClient: Bool, connect: Bool, mode: StreamMode?)
    /// The two terminations of a context that carry the same stream exchange media (H.248.1 §7.1.7).
    case interconnect(AGWMediaKey, AGWMediaKey, mode: AGWInterconnectMode)
    /// Free the stream's ports, connections and certificate.
    case release(AGWMediaKey)
}

/// What the media plane reports about a stream.
public enum AGWMediaEventKind: Sendable, Equatable {
    case connected
    /// TLS session establishment failed (e.g. fingerprint mismatch; seed 000).
    case tlsFailed(String?)
    /// TCP connection establishment failed.
    case tcpFailed(String?)
    /// The bearer (TCP connection, TLS session) was released.
    case bearerReleased(String?)
}

public struct AGWMediaEvent: Sendable, Equatable {
    public var key: AGWMediaKey
    public var kind: AGWMediaEventKind
    public init(key: AGWMediaKey, kind: AGWMediaEventKind) {
        self.key = key
        self.kind = kind
    }
}

/// Why an allocation failed (mapped to 510 Insufficient resources, or 449 for a value the media
/// plane cannot take, e.g. a requested address it does not own).
public struct AGWMediaFailure: Error, Sendable, Equatable {
    public var error: AGWError
    public init(_ error: AGWError) { self.error = error }
}
