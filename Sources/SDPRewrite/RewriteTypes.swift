// Vocabulary of the IMS-ALG SDP rewrite (specs.md §1-§5; TS 23.334 §5.11.2.2; TS 33.328 §7.2-§7.3).
import SDPCore

/// The two sides of the IMS-ALG: `access` faces the served UE (Gm), `core` faces the IMS core (Mw).
public enum Side: String, Sendable, Codable, Equatable {
    case access, core
    public var other: Side { self == .access ? .core : .access }
}

/// Offer or answer (RFC 3264 §5, §6).
public enum SDPKind: String, Sendable, Codable, Equatable {
    case offer, answer
}

/// Who made the offer of this offer/answer exchange: `originating` = the served UE offered (the SDP
/// offer travels access → core), `terminating` = the core offered (offer travels core → access).
/// The answer of an exchange is processed with the same direction as its offer.
public enum CallDirection: String, Sendable, Codable, Equatable {
    case originating, terminating

    /// The side the offer arrives from.
    public var offererSide: Side { self == .originating ? .access : .core }
}

/// Media-security mechanisms registered with `Security-Client/-Server ... ;mediasec`
/// (TS 24.229 §7.2A.7, Table 7.2A.7.2-2; iq-tokens.md §7).
public enum MediaSecurityMechanism: String, Sendable, Codable, Equatable, Hashable, CaseIterable {
    case msrpTLS = "msrp-tls"
    case bfcpTLS = "bfcp-tls"
    case sdesSRTP = "sdes-srtp"
}

/// The registration's media-security capability flags: what the UE indicated and what the P-CSCF
/// (network) indicated, separately per mechanism (TS 33.328 §7.1; specs.md §2, pitfall 16).
public struct MediaSecurityFlags: Sendable, Codable, Equatable {
    public var ue: Set<MediaSecurityMechanism>
    public var network: Set<MediaSecurityMechanism>

    public init(ue: Set<MediaSecurityMechanism> = [], network: Set<MediaSecurityMechanism> = []) {
        self.ue = ue
        self.network = network
    }

    public static let none = MediaSecurityFlags()
    public static let all = MediaSecurityFlags(ue: Set(MediaSecurityMechanism.allCases), network: Set(MediaSecurityMechanism.allCases))
}

/// The media protocol family of an m-line (from its proto field).
public enum StreamProtocol: String, Sendable, Codable, Equatable {
    case msrp, bfcp, rtp, other

    /// The mechanism that governs e2ae for this protocol.
    public var mechanism: MediaSecurityMechanism? {
        switch self {
        case .msrp: return .msrpTLS
        case .bfcp: return .bfcpTLS
        case .rtp: return .sdesSRTP
        case .other: return nil
        }
    }
}

/// What the ALG does with one stream (specs.md §4 decision table).
public enum StreamTreatment: String, Sendable, Codable, Equatable {
    /// e2ae: the AGW terminates TLS towards the UE; plain TCP towards the core (TS 23.334 §5.11.2.2).
    case e2ae
    /// e2e: a TLS line passed transparently through the AGW (TS 23.334 e2e transparency; specs §4.3).
    case e2e
    /// Unprotected TCP media (TCP/MSRP, TCP/BFCP) anchored through the AGW.
    case plain
    /// RTP/RTCP media anchored through the AGW.
    case rtp
    /// Not anchored: the m-line is forwarded as received (only a=3ge2ae is stripped towards the core).
    case passThrough
    /// Port 0: the stream is rejected or removed (RFC 3264 §6, §8.2).
    case released
}

/// Rule for the TLS client/server role (TS 23.334 §5.11.2.2.1 NOTE 2: different for MSRP and BFCP).
public enum TLSRoleRule: String, Sendable, Codable, Equatable {
    /// The TCP-active endpoint is the TLS client (MSRP, seed 003 table).
    case tcpActiveIsClient
    /// The SDP offerer is the TLS client (BFCP, seed 004 flows; specs.md §5.3 [U]).
    case offererIsClient
}

/// How the AGW handles TCP (TS 23.334 §5.16, §6.2.18; seed 000 a) and b)).
public enum TCPHandlingMode: String, Sendable, Codable, Equatable {
    /// State-aware proxy mode (`a=setup:actpass` to the AGW); an incoming SYN on one termination
    /// triggers the AGW's SYN on the other ("interlinkage", seed 000 b), seed 004 flows).
    case proxyInterlinkage
    /// State-aware proxy mode where the ALG tells the AGW to send the SYN itself (seed 000 a)).
    case proxyExplicitConnect
    /// State-aware with change of setup direction (`a=setup:passive` on the access side): the UE is
    /// always TCP-active towards the AGW (TS 23.334 §6.2.18.4).
    case merge
}

/// A set of stream (m-line) indices. The first 64 (`SDPLimits.maxMediaDescriptions` of a parsed SDP)
/// are bits of one word, so the per-SDP bookkeeping allocates nothing; larger indices (only in SDPs
/// built by hand) go to an array.
struct StreamSet: Sendable, Equatable {
    var low: UInt64 = 0
    var high: [Int] = []

    init() {}

    init(_ indices: [Int]) {
        for i in indices { insert(i) }
    }

    mutating func insert(_ i: Int) {
        if i >= 0, i < 64 { low |= 1 << UInt64(i) } else if !high.contains(i) { high.append(i) }
    }

    func contains(_ i: Int) -> Bool {
        if i >= 0, i < 64 { return low & (1 << UInt64(i)) != 0 }
        return high.contains(i)
    }

    var isEmpty: Bool { low == 0 && high.isEmpty }
}

/// The offer's a=setup role per stream (RFC 4145 §4), read again when its answer comes. The first 64
/// streams take 4 bits each of four words (no array allocation per offer); later ones (only in SDPs
/// built by hand) go to an array.
struct SetupRoleList: Sendable, Equatable {
    var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    var high: [Int: SetupRole] = [:]

    init() {}

    static func == (a: SetupRoleList, b: SetupRoleList) -> Bool {
        a.words == b.words && a.high == b.high
    }

    @inline(__always)
    private static func code(_ r: SetupRole?) -> UInt64 {
        switch r {
        case nil: return 0
        case .active?: return 1
        case .passive?: return 2
        case .actpass?: return 3
        case .holdconn?: return 4
        }
    }

    /// Records the role of stream `i` (each index once, in any order).
    mutating func append(_ role: SetupRole?, at i: Int) {
        guard i >= 0, i < 64 else {
            if let role { high[i] = role }
            return
        }
        let shift = UInt64((i & 15) * 4)
        let v = Self.code(role) << shift
        switch i >> 4 {
        case 0: words.0 |= v
        case 1: words.1 |= v
        case 2: words.2 |= v
        default: words.3 |= v
        }
    }

    /// The role of stream `i`; nil when absent or not recorded.
    subscript(i: Int) -> SetupRole? {
        guard i >= 0, i < 64 else { return high[i] }
        let w: UInt64
        switch i >> 4 {
        case 0: w = words.0
        case 1: w = words.1
        case 2: w = words.2
        default: w = words.3
        }
        switch (w >> UInt64((i & 15) * 4)) & 15 {
        case 1: return .active
        case 2: return .passive
        case 3: return .actpass
        case 4: return .holdconn
        default: return nil
        }
    }
}
