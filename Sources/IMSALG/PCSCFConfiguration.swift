import SDPRewrite

/// P-CSCF behaviour switches (Docs/pcscf.md lists every key with its default). JSON keys equal the
/// property names; missing keys keep their defaults.
public struct PCSCFConfiguration: Sendable, Codable, Equatable {
    /// The URI inserted as Path into REGISTER (RFC 3327 §5.1; TS 24.229 §5.2.2.1). Terminating
    /// requests arrive with it as the top Route.
    public var pathURI: String = "sip:term@pcscf.ims.example;lr"
    /// Record-Route URI for dialogs of a served UE that it originated (TS 24.229 §5.2.6.3.3 / RFC 3261 §16.6 step 4).
    public var originatingRecordRouteURI: String = "sip:mo@pcscf.ims.example;lr"
    /// Record-Route URI for dialogs terminating at a served UE (TS 24.229 §5.2.6.4.3).
    public var terminatingRecordRouteURI: String = "sip:mt@pcscf.ims.example;lr"
    /// Insert Record-Route on initial requests.
    public var recordRoute: Bool = true
    /// Other `host[:port]` values that name this P-CSCF (e.g. the address the UE puts in its first Route).
    /// Route entries naming us are removed before forwarding (RFC 3261 §16.4).
    public var localAliases: [String] = []
    /// Next hops for REGISTER towards the core (I-CSCF or S-CSCF), in failover order; DNS names are
    /// resolved by the transport layer.
    public var registrarNextHops: [String] = []

    /// Media-security mechanisms the network supports (TS 33.328 §7.1; specs.md §2), announced in
    /// `Security-Server: ...;mediasec`.
    public var networkMediaSecurity: Set<MediaSecurityMechanism> = [.msrpTLS, .bfcpTLS]
    /// Announce the network mechanisms only when the UE's REGISTER carried a mediasec Security-Client
    /// (TS 24.229 §5.2.2.1 [K]); false = always announce.
    public var announceMediasecOnlyWhenUEIndicated: Bool = true
    /// Put `Security-Server ...;mediasec` in the 401 (specs.md U7: both 401 and 200).
    public var mediasecIn401: Bool = true
    /// Put `Security-Server ...;mediasec` in the 200 OK (specs.md U7).
    public var mediasecIn200: Bool = true
    /// Remove the `mediasec` option tag from Require / Proxy-Require towards the core (the tag is Gm
    /// hop-by-hop; a core proxy that does not know it would answer 420).
    public var stripMediasecOptionTagTowardsCore: Bool = true

    /// Reject originating requests that do not come from a registered flow (TS 24.229 §5.2.6.3.1 [K]).
    public var rejectUnregistered: Bool = true
    /// The status used for that rejection.
    public var unregisteredStatus: Int = 403
    /// Status when a terminating request matches no binding (404 or 480).
    public var terminatingNoBindingStatus: Int = 404
    /// Replace the Route set of an initial originating request by the stored Service-Route
    /// (RFC 3608 §6.2, TS 24.229 §5.2.6.3.3); false = only pre-load it when the UE sent no Route.
    public var enforceServiceRoute: Bool = true

    /// Add P-Charging-Vector with a fresh icid to initial originating requests (RFC 7315 §4.6; TS 24.229 §5.2.6.3.3 / §7.2A.5).
    public var chargingVector: Bool = true
    /// `icid-generated-at` value; nil = omitted.
    public var icidGeneratedAt: String? = nil
    /// `orig-ioi` value (RFC 7315 §5.6); nil = omitted.
    public var origIOI: String? = nil
    /// P-Visited-Network-ID value (RFC 7315 §4.3); nil = not added.
    public var visitedNetworkID: String? = nil
    /// Also add P-Visited-Network-ID to initial originating requests (it always goes into REGISTER when configured).
    public var visitedNetworkIDOnOriginating: Bool = true
    /// Remove P-Charging-Vector / P-Charging-Function-Addresses on the way to the UE (TS 24.229 §5.2.6.4 [K]; RFC 7315 §4.5, §4.6).
    public var stripChargingTowardsUE: Bool = true
    /// Extra header names to remove from requests coming from the UE, besides `TrustBoundary.networkOnlyHeaders`.
    public var extraUntrustedHeaders: [String] = []
    /// Expiry used when neither the Contact nor Expires of a 200 OK carries one (RFC 3261 §10.2.1.1 default).
    public var fallbackExpires: UInt32 = 3600

    public init() {}

    public static let `default` = PCSCFConfiguration()

    /// The Path URI as a key (its host:port identifies us in Route).
    public var pathKey: SIPURIKey? { SIPURIKey(pathURI) }

    /// True when `uri` names this P-CSCF: the host and port of the Path or a Record-Route URI, or an alias.
    public func isOwn(_ uri: String) -> Bool {
        guard let k = SIPURIKey(uri) else { return false }
        for own in [pathURI, originatingRecordRouteURI, terminatingRecordRouteURI] {
            if let o = SIPURIKey(own), o.hostPort == k.hostPort { return true }
        }
        for alias in localAliases {
            if let a = SIPURIKey("sip:\(alias)") {
                // An alias without a port matches any port on that host.
                let hasPort = alias.hasPrefix("[") ? alias.contains("]:") : alias.contains(":")
                if hasPort ? a.hostPort == k.hostPort : a.host == k.host { return true }
            }
        }
        return false
    }

    private enum CodingKeys: String, CodingKey {
        case pathURI, originatingRecordRouteURI, terminatingRecordRouteURI, recordRoute, localAliases, registrarNextHops
        case networkMediaSecurity, announceMediasecOnlyWhenUEIndicated, mediasecIn401, mediasecIn200
        case stripMediasecOptionTagTowardsCore, rejectUnregistered, unregisteredStatus, terminatingNoBindingStatus
        case enforceServiceRoute, chargingVector, icidGeneratedAt, origIOI, visitedNetworkID, visitedNetworkIDOnOriginating
        case stripChargingTowardsUE, extraUntrustedHeaders, fallbackExpires
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = PCSCFConfiguration()
        pathURI = try c.decodeIfPresent(String.self, forKey: .pathURI) ?? d.pathURI
        originatingRecordRouteURI = try c.decodeIfPresent(String.self, forKey: .originatingRecordRouteURI) ?? d.originatingRecordRouteURI
        terminatingRecordRouteURI = try c.decodeIfPresent(String.self, forKey: .terminatingRecordRouteURI) ?? d.terminatingRecordRouteURI
        recordRoute = try c.decodeIfPresent(Bool.self, forKey: .recordRoute) ?? d.recordRoute
        localAliases = try c.decodeIfPresent([String].self, forKey: .localAliases) ?? d.localAliases
        registrarNextHops = try c.decodeIfPresent([String].self, forKey: .registrarNextHops) ?? d.registrarNextHops
        networkMediaSecurity = try c.decodeIfPresent(Set<MediaSecurityMechanism>.self, forKey: .networkMediaSecurity) ?? d.networkMediaSecurity
        announceMediasecOnlyWhenUEIndicated = try c.decodeIfPresent(Bool.self, forKey: .announceMediasecOnlyWhenUEIndicated) ?? d.announceMediasecOnlyWhenUEIndicated
        mediasecIn401 = try c.decodeIfPresent(Bool.self, forKey: .mediasecIn401) ?? d.mediasecIn401
        mediasecIn200 = try c.decodeIfPresent(Bool.self, forKey: .mediasecIn200) ?? d.mediasecIn200
        stripMediasecOptionTagTowardsCore = try c.decodeIfPresent(Bool.self, forKey: .stripMediasecOptionTagTowardsCore) ?? d.stripMediasecOptionTagTowardsCore
        rejectUnregistered = try c.decodeIfPresent(Bool.self, forKey: .rejectUnregistered) ?? d.rejectUnregistered
        unregisteredStatus = try c.decodeIfPresent(Int.self, forKey: .unregisteredStatus) ?? d.unregisteredStatus
        terminatingNoBindingStatus = try c.decodeIfPresent(Int.self, forKey: .terminatingNoBindingStatus) ?? d.terminatingNoBindingStatus
        enforceServiceRoute = try c.decodeIfPresent(Bool.self, forKey: .enforceServiceRoute) ?? d.enforceServiceRoute
        chargingVector = try c.decodeIfPresent(Bool.self, forKey: .chargingVector) ?? d.chargingVector
        icidGeneratedAt = try c.decodeIfPresent(String.self, forKey: .icidGeneratedAt) ?? d.icidGeneratedAt
        origIOI = try c.decodeIfPresent(String.self, forKey: .origIOI) ?? d.origIOI
        visitedNetworkID = try c.decodeIfPresent(String.self, forKey: .visitedNetworkID) ?? d.visitedNetworkID
        visitedNetworkIDOnOriginating = try c.decodeIfPresent(Bool.self, forKey: .visitedNetworkIDOnOriginating) ?? d.visitedNetworkIDOnOriginating
        stripChargingTowardsUE = try c.decodeIfPresent(Bool.self, forKey: .stripChargingTowardsUE) ?? d.stripChargingTowardsUE
        extraUntrustedHeaders = try c.decodeIfPresent([String].self, forKey: .extraUntrustedHeaders) ?? d.extraUntrustedHeaders
        fallbackExpires = try c.decodeIfPresent(UInt32.self, forKey: .fallbackExpires) ?? d.fallbackExpires
    }
}
