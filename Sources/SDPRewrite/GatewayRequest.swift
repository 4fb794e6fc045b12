// What the IMS-ALG asks the IMS-AGW to do, per stream and per termination (TS 23.334 §5.11.2.2.1
// IMS-ALG duties; stage-2 IEs of TS 23.334 §8 "Reserve/Configure AGW Connection Point"). The H.248
// encoding of these fields is the Iq codec's job (specs.md §10.3).
import SDPCore

/// The transport the AGW is asked to use on a termination (seed 003: "TCP/TLS/MSRP" or "TCP/TLS"
/// access, "TCP/MSRP" or "TCP" core; seed 004: "TCP/TLS" and "TCP" for BFCP; RTP protos as in SDP).
/// The usual names are enum cases (compared and copied without touching a String); any
/// other text (an RTP profile not listed, a configured name) is kept as it came, in `.other`.
public struct GatewayTransport: RawRepresentable, Sendable, Codable, Equatable, Hashable, CustomStringConvertible,
                                KnownNameToken {
    /// The known names (exact spelling; `rawValue` renders them) and any other text. One enum with a
    /// single payload case: the known names are String's spare bit patterns, so the value stays 16 bytes.
    @usableFromInline
    enum Storage: Sendable, Hashable, NameStorage {
        case tcpTLSMSRP, tcpTLS, tcpMSRP, tcpTLSBFCP, tcpBFCP, tcp
        case rtpAVP, rtpAVPF, rtpSAVP, rtpSAVPF, udpTLSRTPSAVP, udpTLSRTPSAVPF
        /// Text that is not one of the known names (never a known name's spelling: `init(rawValue:)`
        /// maps those to their case, so equality of two values is equality of their texts).
        case other(String)
    }

    @usableFromInline
    var storage: Storage

    @inlinable
    init(_ storage: Storage) { self.storage = storage }

    public init(rawValue: String) { self.init(text: rawValue) }

    /// The known name spelled exactly by `bytes`, if any.
    static func known(_ b: UnsafeBufferPointer<UInt8>) -> Storage? {
        @inline(__always) func eq(_ lit: StaticString) -> Bool { spells(b, lit) }
        switch b.count {
        case 3: if eq("TCP") { return .tcp }
        case 7:
            if eq("TCP/TLS") { return .tcpTLS }
            if eq("RTP/AVP") { return .rtpAVP }
        case 8:
            if eq("TCP/MSRP") { return .tcpMSRP }
            if eq("TCP/BFCP") { return .tcpBFCP }
            if eq("RTP/SAVP") { return .rtpSAVP }
            if eq("RTP/AVPF") { return .rtpAVPF }
        case 9: if eq("RTP/SAVPF") { return .rtpSAVPF }
        case 12:
            if eq("TCP/TLS/MSRP") { return .tcpTLSMSRP }
            if eq("TCP/TLS/BFCP") { return .tcpTLSBFCP }
        case 16: if eq("UDP/TLS/RTP/SAVP") { return .udpTLSRTPSAVP }
        case 17: if eq("UDP/TLS/RTP/SAVPF") { return .udpTLSRTPSAVPF }
        default: break
        }
        return nil
    }

    public var rawValue: String {
        switch storage {
        case .tcpTLSMSRP: return "TCP/TLS/MSRP"
        case .tcpTLS: return "TCP/TLS"
        case .tcpMSRP: return "TCP/MSRP"
        case .tcpTLSBFCP: return "TCP/TLS/BFCP"
        case .tcpBFCP: return "TCP/BFCP"
        case .tcp: return "TCP"
        case .rtpAVP: return "RTP/AVP"
        case .rtpAVPF: return "RTP/AVPF"
        case .rtpSAVP: return "RTP/SAVP"
        case .rtpSAVPF: return "RTP/SAVPF"
        case .udpTLSRTPSAVP: return "UDP/TLS/RTP/SAVP"
        case .udpTLSRTPSAVPF: return "UDP/TLS/RTP/SAVPF"
        case .other(let s): return s
        }
    }

    public var description: String { rawValue }

    @inlinable public static var tcpTLSMSRP: GatewayTransport { GatewayTransport(.tcpTLSMSRP) }
    @inlinable public static var tcpTLS: GatewayTransport { GatewayTransport(.tcpTLS) }
    @inlinable public static var tcpMSRP: GatewayTransport { GatewayTransport(.tcpMSRP) }
    @inlinable public static var tcpTLSBFCP: GatewayTransport { GatewayTransport(.tcpTLSBFCP) }
    @inlinable public static var tcpBFCP: GatewayTransport { GatewayTransport(.tcpBFCP) }
    @inlinable public static var tcp: GatewayTransport { GatewayTransport(.tcp) }
    // Codable: the standard library's RawRepresentable-with-String default (one string, its rawValue).
}

/// The far end of a termination as learnt from SDP (goes into the H.248 Remote descriptor).
public struct RemoteEndpoint: Sendable, Codable, Equatable {
    public var address: String
    public var port: UInt16
    /// RFC 3605 a=rtcp port, when signalled.
    public var rtcpPort: UInt16?
    /// RFC 3605 a=rtcp address, when signalled.
    public var rtcpAddress: String?

    public init(address: String, port: UInt16, rtcpPort: UInt16? = nil, rtcpAddress: String? = nil) {
        self.address = address
        self.port = port
        self.rtcpPort = rtcpPort
        self.rtcpAddress = rtcpAddress
    }
}

/// TCP handling instructions for one termination (TS 23.334 §5.16.2; seed 000 bullets on
/// state-aware handling, TCP client/server role and how the connection is established).
public struct TCPInstruction: Sendable, Codable, Equatable {
    /// a=setup given to the AGW in Local: `actpass` = state-aware proxy mode, `passive` = merge mode
    /// (TS 23.334 §6.2.18; seed 004 steps 2-7).
    public var setup: SetupRole
    /// Interlinkage (seed 000 b)): an incoming SYN on this termination triggers the AGW's SYN on the
    /// other termination of the stream.
    public var synTriggersPeer: Bool
    /// Explicit connect (seed 000 a)): the AGW must open the TCP connection on this termination.
    public var connect: Bool
    /// a=connection:existing on a re-offer: keep the current TCP (and TLS) connection (RFC 4145 §5).
    public var reuseConnection: Bool

    public init(setup: SetupRole, synTriggersPeer: Bool = false, connect: Bool = false, reuseConnection: Bool = false) {
        self.setup = setup
        self.synTriggersPeer = synTriggersPeer
        self.connect = connect
        self.reuseConnection = reuseConnection
    }
}

/// The request for one termination (access or core) of one stream.
public struct TerminationRequest: Sendable, Codable, Equatable {
    public var transport: GatewayTransport
    /// Remote address/port (nil while unknown: e.g. the core side before the answer).
    public var remote: RemoteEndpoint?
    /// The UE's certificate fingerprints, for the AGW to verify the TLS peer (seed 000/003 "send the
    /// certificate fingerprint received in the SDP from the IMS UE to the IMS-AGW").
    public var remoteFingerprints: [Fingerprint]?
    /// Ask the AGW for its own certificate fingerprint ("Local certificate fingerprint Request").
    public var requestLocalFingerprint: Bool
    /// TCP handling; nil = stateless TCP (plain NAT behaviour) or not TCP.
    public var tcp: TCPInstruction?
    /// true: "Establish TLS session" (AGW is TLS client once TCP is up); false: AGW is TLS server;
    /// nil: no TLS on this termination, or the role is not known yet (MSRP before the answer).
    public var startTLSAsClient: Bool?
    /// Bandwidth to police on this leg: b=AS in kbit/s and b=TIAS in bit/s, when signalled.
    public var bandwidthAS: UInt64?
    public var bandwidthTIAS: UInt64?
    /// The far end's a=path (RFC 4975 §8.1) on an application-aware MSRP stream (no a=msrp-cema, policy
    /// `cemaAbsent = rewritePath`): sent in the Remote descriptor so that an application-aware AGW puts
    /// that endpoint's own URI in To-Path towards it (seed 003; Docs/ims-agw.md "Application-aware MSRP").
    public var remotePath: String?
    /// Zero-size. Being private, it keeps the synthesised memberwise initialiser (file-private, with
    /// this extra argument) apart from the public one below, which delegates to it: an initialiser
    /// that assigned the fields itself built the value aside and copied it out (an outlined copy and
    /// destruction of the whole request, a retain and a release per reference field, on every call).
    /// Not encoded (`CodingKeys`), always equal.
    private var memberwise = MemberwiseTag()

    enum CodingKeys: String, CodingKey {
        case transport, remote, remoteFingerprints, requestLocalFingerprint, tcp, startTLSAsClient
        case bandwidthAS, bandwidthTIAS, remotePath
    }
}

extension TerminationRequest {
    public init(transport: GatewayTransport, remote: RemoteEndpoint? = nil, remoteFingerprints: [Fingerprint]? = nil,
                requestLocalFingerprint: Bool = false, tcp: TCPInstruction? = nil, startTLSAsClient: Bool? = nil,
                bandwidthAS: UInt64? = nil, bandwidthTIAS: UInt64? = nil, remotePath: String? = nil) {
        self.init(transport: transport, remote: remote, remoteFingerprints: remoteFingerprints,
                  requestLocalFingerprint: requestLocalFingerprint, tcp: tcp, startTLSAsClient: startTLSAsClient,
                  bandwidthAS: bandwidthAS, bandwidthTIAS: bandwidthTIAS, remotePath: remotePath, memberwise: MemberwiseTag())
    }
}

/// What to do with the AGW resources of one stream.
public enum GatewayAction: String, Sendable, Codable, Equatable {
    /// Reserve new terminations/stream (H.248 Add: "Reserve (and Configure) AGW Connection Point").
    case reserve
    /// Configure an existing stream (H.248 Modify: "Configure AGW Connection Point").
    case configure
    /// A new TCP/TLS connection on the existing stream (re-offer with a=connection:new, or a changed
    /// treatment): reconfigure and re-request the AGW fingerprint (specs.md §4.5 [D]).
    case replace
    /// Release the stream (port 0; H.248 Modify removing the stream or Subtract).
    case release
}

/// The request for one stream (m-line index = RFC 3264 stream index).
public struct StreamRequest: Sendable, Codable, Equatable {
    public var index: Int
    public var media: MediaType
    public var `protocol`: StreamProtocol
    public var treatment: StreamTreatment
    public var action: GatewayAction
    /// Media direction as signalled by the SDP being processed (hold/resume; TS 23.334 Change
    /// Through-Connection).
    public var direction: MediaDirection?
    public var access: TerminationRequest?
    public var core: TerminationRequest?
}

/// Everything the AGW must be asked for one SDP crossing the ALG. Streams that need no AGW action
/// (pass-through) are absent.
public struct GatewayRequest: Sendable, Codable, Equatable {
    public var streams: [StreamRequest]
    public init(streams: [StreamRequest] = []) { self.streams = streams }
    public var isEmpty: Bool { streams.isEmpty }
}

/// The AGW's own address and port on one termination (from the reply's Local descriptor).
public struct LocalEndpoint: Sendable, Codable, Equatable {
    public var address: String
    public var port: UInt16
    public var rtcpPort: UInt16?

    public init(address: String, port: UInt16, rtcpPort: UInt16? = nil) {
        self.address = address
        self.port = port
        self.rtcpPort = rtcpPort
    }
}

/// The AGW's answer for one stream.
public struct StreamAnswer: Sendable, Codable, Equatable {
    public var index: Int
    public var access: LocalEndpoint?
    public var core: LocalEndpoint?
    /// The AGW certificate fingerprint for the access termination ("Local certificate fingerprint").
    public var fingerprint: Fingerprint?

    public init(index: Int, access: LocalEndpoint? = nil, core: LocalEndpoint? = nil, fingerprint: Fingerprint? = nil) {
        self.index = index
        self.access = access
        self.core = core
        self.fingerprint = fingerprint
    }
}

/// The AGW's answer to a `GatewayRequest` (streams it did not mention keep what it said before).
public struct GatewayAnswer: Sendable, Codable, Equatable {
    public var streams: [StreamAnswer]
    public init(streams: [StreamAnswer] = []) { self.streams = streams }

    public func stream(_ index: Int) -> StreamAnswer? { streams.first { $0.index == index } }
}
