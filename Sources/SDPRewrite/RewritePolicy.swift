// Configuration of the rewrite rules. Every `[U]` item of specs.md is a key here (house rule: what the
// standards leave open is configurable). Decoding accepts partial JSON: missing keys keep defaults.
import SDPCore

public struct RewritePolicy: Sendable, Codable, Equatable {
    /// What to do when an MSRP offer lacks a=msrp-cema (TS 23.334 §5.19, specs.md §6.2 [U]).
    public enum CEMAAbsentBehaviour: String, Sendable, Codable, Equatable {
        /// Rewrite a=path with the AGW address and make the AGW application-aware (seed 003 last para).
        case rewritePath
        /// Leave a=path alone and keep the AGW application-agnostic.
        case leavePath
    }

    /// What to do with `a=3ge2ae:requested` when the registration flags do not allow e2ae (specs §4 [U]).
    public enum RequestedWithoutRegistration: String, Sendable, Codable, Equatable {
        /// Treat the line as e2e (TS 33.328: proceed per TS 23.228) and strip the indicator.
        case e2e
        /// Reject the offer with 488.
        case reject
    }

    /// What to do with an m-line whose proto the ALG does not know.
    public enum UnknownProtocol: String, Sendable, Codable, Equatable {
        case passThrough, reject
    }

    /// TLS overhead model (specs.md §12; TS 23.334 §5.11.2.2.1 bandwidth "should").
    public struct BandwidthModel: Sendable, Codable, Equatable {
        public var adjustAS: Bool = true
        public var adjustTIAS: Bool = true
        /// Typical plaintext bytes per TLS record for MSRP (P).
        public var msrpRecordPlaintextBytes: UInt64 = 1024
        /// Typical plaintext bytes per TLS record for BFCP (P).
        public var bfcpRecordPlaintextBytes: UInt64 = 64
        /// Per-record overhead in bytes (O): 29 for TLS 1.2 AES-GCM, 22 for TLS 1.3.
        public var recordOverheadBytes: UInt64 = 29
        /// Smallest change applied to b=AS, in kbit/s (specs.md §12: "a floor of +1 kbit/s").
        public var minimumASChangeKbps: UInt64 = 1

        public init() {}
    }

    public var tcpHandling: TCPHandlingMode = .proxyInterlinkage
    public var msrpTLSRole: TLSRoleRule = .tcpActiveIsClient
    public var bfcpTLSRole: TLSRoleRule = .offererIsClient
    public var cemaAbsent: CEMAAbsentBehaviour = .rewritePath
    /// Under CEMA, change only the MSRP URI scheme (msrps <-> msrp) of the endpoint's own path URI
    /// when the proto is swapped (specs.md §6.2 [U]).
    public var rewritePathSchemeUnderCEMA: Bool = false
    public var requestedWithoutRegistration: RequestedWithoutRegistration = .e2e
    /// e2ae needs the UE's registration indication as well as the network's (TS 33.328 §7.1; [U]).
    public var requireUERegistrationIndication: Bool = true
    /// Anchor e2e (transparent TLS) lines through the AGW with transport TCP (specs.md §4.3).
    public var anchorE2E: Bool = true
    /// Anchor unprotected TCP/MSRP and TCP/BFCP lines.
    public var anchorPlainTCP: Bool = true
    /// Anchor RTP/RTCP media.
    public var anchorRTP: Bool = true
    public var unknownProtocol: UnknownProtocol = .passThrough
    /// Ask the AGW for application-aware BFCP (transports TCP/TLS/BFCP, TCP/BFCP) instead of TCP/TLS, TCP.
    public var bfcpApplicationAware: Bool = false
    /// Access-side AGW transport for application-agnostic MSRP e2ae: seed 003 lists "TCP/TLS/MSRP"
    /// for the access termination; specs.md §4.1 also allows "TCP/TLS" ([U]).
    public var msrpAgnosticAccessTransport: GatewayTransport = .tcpTLSMSRP
    /// Echo `a=3ge2ae:applied` in the answer sent to the UE as well (TS 24.229 §7.5.2 only names offers; [U]).
    public var indicateAppliedInAnswer: Bool = false
    /// Replace the o= unicast address with the AGW address of the side the SDP is sent to.
    public var rewriteOriginAddress: Bool = true
    public var bandwidth = BandwidthModel()

    public init() {}

    /// The TLS role rule of a protocol.
    public func tlsRoleRule(for proto: StreamProtocol) -> TLSRoleRule {
        proto == .bfcp ? bfcpTLSRole : msrpTLSRole
    }

    public static let `default` = RewritePolicy()
}

extension RewritePolicy {
    private enum Keys: String, CodingKey {
        case tcpHandling, msrpTLSRole, bfcpTLSRole, cemaAbsent, rewritePathSchemeUnderCEMA
        case requestedWithoutRegistration, requireUERegistrationIndication, anchorE2E, anchorPlainTCP
        case anchorRTP, unknownProtocol, bfcpApplicationAware, indicateAppliedInAnswer, rewriteOriginAddress
        case bandwidth, msrpAgnosticAccessTransport
    }

    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: Keys.self)
        tcpHandling = try c.decodeIfPresent(TCPHandlingMode.self, forKey: .tcpHandling) ?? tcpHandling
        msrpTLSRole = try c.decodeIfPresent(TLSRoleRule.self, forKey: .msrpTLSRole) ?? msrpTLSRole
        bfcpTLSRole = try c.decodeIfPresent(TLSRoleRule.self, forKey: .bfcpTLSRole) ?? bfcpTLSRole
        cemaAbsent = try c.decodeIfPresent(CEMAAbsentBehaviour.self, forKey: .cemaAbsent) ?? cemaAbsent
        rewritePathSchemeUnderCEMA = try c.decodeIfPresent(Bool.self, forKey: .rewritePathSchemeUnderCEMA) ?? rewritePathSchemeUnderCEMA
        requestedWithoutRegistration = try c.decodeIfPresent(RequestedWithoutRegistration.self, forKey: .requestedWithoutRegistration) ?? requestedWithoutRegistration
        requireUERegistrationIndication = try c.decodeIfPresent(Bool.self, forKey: .requireUERegistrationIndication) ?? requireUERegistrationIndication
        anchorE2E = try c.decodeIfPresent(Bool.self, forKey: .anchorE2E) ?? anchorE2E
        anchorPlainTCP = try c.decodeIfPresent(Bool.self, forKey: .anchorPlainTCP) ?? anchorPlainTCP
        anchorRTP = try c.decodeIfPresent(Bool.self, forKey: .anchorRTP) ?? anchorRTP
        unknownProtocol = try c.decodeIfPresent(UnknownProtocol.self, forKey: .unknownProtocol) ?? unknownProtocol
        bfcpApplicationAware = try c.decodeIfPresent(Bool.self, forKey: .bfcpApplicationAware) ?? bfcpApplicationAware
        indicateAppliedInAnswer = try c.decodeIfPresent(Bool.self, forKey: .indicateAppliedInAnswer) ?? indicateAppliedInAnswer
        rewriteOriginAddress = try c.decodeIfPresent(Bool.self, forKey: .rewriteOriginAddress) ?? rewriteOriginAddress
        bandwidth = try c.decodeIfPresent(BandwidthModel.self, forKey: .bandwidth) ?? bandwidth
        msrpAgnosticAccessTransport = try c.decodeIfPresent(GatewayTransport.self, forKey: .msrpAgnosticAccessTransport) ?? msrpAgnosticAccessTransport
    }
}

extension RewritePolicy.BandwidthModel {
    private enum Keys: String, CodingKey {
        case adjustAS, adjustTIAS, msrpRecordPlaintextBytes, bfcpRecordPlaintextBytes, recordOverheadBytes, minimumASChangeKbps
    }

    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: Keys.self)
        adjustAS = try c.decodeIfPresent(Bool.self, forKey: .adjustAS) ?? adjustAS
        adjustTIAS = try c.decodeIfPresent(Bool.self, forKey: .adjustTIAS) ?? adjustTIAS
        msrpRecordPlaintextBytes = try c.decodeIfPresent(UInt64.self, forKey: .msrpRecordPlaintextBytes) ?? msrpRecordPlaintextBytes
        bfcpRecordPlaintextBytes = try c.decodeIfPresent(UInt64.self, forKey: .bfcpRecordPlaintextBytes) ?? bfcpRecordPlaintextBytes
        recordOverheadBytes = try c.decodeIfPresent(UInt64.self, forKey: .recordOverheadBytes) ?? recordOverheadBytes
        minimumASChangeKbps = try c.decodeIfPresent(UInt64.self, forKey: .minimumASChangeKbps) ?? minimumASChangeKbps
    }
}
