import SDPRewrite
import SIPTransaction

/// The transport flow a UE's messages arrive on (TS 24.229 §5.2.2: the P-CSCF keeps the flow the
/// REGISTER came in on and sends terminating requests over it; RFC 5626 §3 flow tokens). All values
/// are opaque to this layer: the transport fills them and reads them back.
public struct SIPFlow: Hashable, Sendable, Codable, CustomStringConvertible {
    /// `UDP`, `TCP`, `TLS` (upper case, as in Via).
    public var transport: String
    /// Source address as the transport renders it (IPv6 without brackets or with, as long as it is consistent).
    public var address: String
    public var port: Int
    /// The connection (TCP/TLS) the message came on, as an opaque id; nil for UDP. Not part of flow
    /// identity: a UE's new connection from the same address and port is the same flow.
    public var connectionID: String?

    public init(transport: String, address: String, port: Int, connectionID: String? = nil) {
        self.transport = transport.uppercased()
        self.address = address
        self.port = port
        self.connectionID = connectionID
    }

    /// The identity used for lookups (transport, address, port).
    public var key: FlowKey { FlowKey(transport: transport, address: address.lowercased(), port: port) }

    public var description: String { "\(transport) \(address):\(port)\(connectionID.map { " conn=\($0)" } ?? "")" }
}

/// Flow identity without the connection id.
public struct FlowKey: Hashable, Sendable, Codable {
    public var transport: String
    public var address: String
    public var port: Int
}

/// One UE registration as the P-CSCF keeps it (TS 24.229 §5.2.2.1/§5.2.2.2; RFC 3327, RFC 3608,
/// RFC 7315 §4.1; TS 33.328 §7.1 media-security flags).
public struct RegistrationBinding: Sendable, Codable, Equatable {
    /// Public user identities from P-Associated-URI, in received order; the first is the default
    /// identity (TS 24.229 §5.2.6.3.3 [K] default public user identity; RFC 7315 §4.1).
    public var identities: [String]
    /// The registered contact URI (from the UE's REGISTER, as the registrar returned it).
    public var contact: String
    /// The flow the REGISTER came in on.
    public var flow: SIPFlow
    /// When the binding lapses (the contact's expires from the 200 OK, RFC 3261 §10.3 step 8).
    public var expiresAt: TransactionInstant
    /// Service-Route from the 200 OK, in order (RFC 3608 §6); pre-loaded as Route on originating requests.
    public var serviceRoute: [String]
    /// UE and network media-security support (TS 33.328 §7.1, TS 24.229 §7.2A.7), the SDP engine's input.
    public var mediaSecurity: MediaSecurityFlags
    /// P-Charging-Function-Addresses from the 200 OK (TS 24.229 §5.2.2.1 [K]; RFC 7315 §4.5), if any.
    public var chargingFunctionAddresses: String?

    public init(identities: [String], contact: String, flow: SIPFlow, expiresAt: TransactionInstant,
                serviceRoute: [String], mediaSecurity: MediaSecurityFlags, chargingFunctionAddresses: String? = nil) {
        self.identities = identities
        self.contact = contact
        self.flow = flow
        self.expiresAt = expiresAt
        self.serviceRoute = serviceRoute
        self.mediaSecurity = mediaSecurity
        self.chargingFunctionAddresses = chargingFunctionAddresses
    }

    // Codable for shared stores; `expiresAt` is written as its Duration since the time line's origin.
    private enum CodingKeys: String, CodingKey {
        case identities, contact, flow, expiresAt, serviceRoute, mediaSecurity, chargingFunctionAddresses
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        identities = try c.decode([String].self, forKey: .identities)
        contact = try c.decode(String.self, forKey: .contact)
        flow = try c.decode(SIPFlow.self, forKey: .flow)
        expiresAt = TransactionInstant(sinceOrigin: try c.decode(Duration.self, forKey: .expiresAt))
        serviceRoute = try c.decode([String].self, forKey: .serviceRoute)
        mediaSecurity = try c.decode(MediaSecurityFlags.self, forKey: .mediaSecurity)
        chargingFunctionAddresses = try c.decodeIfPresent(String.self, forKey: .chargingFunctionAddresses)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(identities, forKey: .identities)
        try c.encode(contact, forKey: .contact)
        try c.encode(flow, forKey: .flow)
        try c.encode(expiresAt.sinceOrigin, forKey: .expiresAt)
        try c.encode(serviceRoute, forKey: .serviceRoute)
        try c.encode(mediaSecurity, forKey: .mediaSecurity)
        try c.encodeIfPresent(chargingFunctionAddresses, forKey: .chargingFunctionAddresses)
    }

    /// The default public user identity: the first P-Associated-URI (TS 24.229 §5.2.6.3.3; RFC 7315 §4.1).
    public var defaultIdentity: String? { identities.first }

    /// The key a store indexes this binding by (one binding per registered contact).
    public var contactKey: SIPURIKey? { SIPURIKey(contact) }

    /// True when `uri` is one of the binding's public identities (scheme, user and host compared).
    public func hasIdentity(_ uri: String) -> Bool {
        guard let k = SIPURIKey(uri) else { return false }
        return identities.contains { SIPURIKey($0)?.identity == k.identity }
    }
}

/// Why a store could not keep a binding.
public enum RegistrationStoreError: Error, Sendable, Equatable {
    /// The store is at its bound (`InMemoryRegistrationStore.maxBindings`).
    case full(limit: Int)
    /// The binding's contact is not a SIP/SIPS/tel URI.
    case invalidContact(String)
    /// A backend failure (for shared stores such as Redis or PostgreSQL later).
    case backend(String)
}

/// Where registration bindings live. The P-CSCF logic only talks to this protocol, so a shared store
/// (Redis, PostgreSQL) can replace the in-memory one without changing `PCSCF`. All methods are async
/// so that a networked store fits; a store must make each call atomic on its own.
public protocol RegistrationStore: Sendable {
    /// Inserts or replaces the binding for `binding.contact` (re-registration refreshes it).
    func upsert(_ binding: RegistrationBinding) async throws(RegistrationStoreError)
    /// Removes the binding for `contact`; returns it when there was one.
    @discardableResult
    func remove(contact: String) async throws(RegistrationStoreError) -> RegistrationBinding?
    /// The binding whose contact matches `contact` (SIPURIKey comparison).
    func binding(contact: String) async throws(RegistrationStoreError) -> RegistrationBinding?
    /// The bindings that include `identity` among their public identities.
    func bindings(identity: String) async throws(RegistrationStoreError) -> [RegistrationBinding]
    /// The binding registered over `flow` (transport, address, port).
    func binding(flow: FlowKey) async throws(RegistrationStoreError) -> RegistrationBinding?
    /// Removes and returns every binding whose `expiresAt` is at or before `now`.
    func removeExpired(now: TransactionInstant) async throws(RegistrationStoreError) -> [RegistrationBinding]
    /// Every binding (admin view, tests).
    func all() async throws(RegistrationStoreError) -> [RegistrationBinding]
}

/// The default store: bindings in memory, indexed by contact, identity and flow. Bounded by
/// `maxBindings` (network input never allocates without a bound, house style).
public actor InMemoryRegistrationStore: RegistrationStore {
    /// Default bound on the number of bindings.
    public static let defaultMaxBindings = 100_000

    public let maxBindings: Int
    private var byContact: [SIPURIKey: RegistrationBinding] = [:]
    private var byIdentity: [String: Set<SIPURIKey>] = [:]
    private var byFlow: [FlowKey: SIPURIKey] = [:]

    public init(maxBindings: Int = InMemoryRegistrationStore.defaultMaxBindings) {
        self.maxBindings = max(1, maxBindings)
    }

    public func upsert(_ binding: RegistrationBinding) throws(RegistrationStoreError) {
        guard let key = binding.contactKey else { throw .invalidContact(binding.contact) }
        if byContact[key] == nil, byContact.count >= maxBindings { throw .full(limit: maxBindings) }
        if let old = byContact[key] { unindex(old, key) }
        byContact[key] = binding
        for id in binding.identities { if let k = SIPURIKey(id) { byIdentity[k.identity, default: []].insert(key) } }
        byFlow[binding.flow.key] = key
    }

    public func remove(contact: String) throws(RegistrationStoreError) -> RegistrationBinding? {
        guard let key = SIPURIKey(contact), let old = byContact.removeValue(forKey: key) else { return nil }
        unindex(old, key)
        return old
    }

    private func unindex(_ b: RegistrationBinding, _ key: SIPURIKey) {
        for id in b.identities {
            guard let k = SIPURIKey(id)?.identity else { continue }
            byIdentity[k]?.remove(key)
            if byIdentity[k]?.isEmpty == true { byIdentity[k] = nil }
        }
        if byFlow[b.flow.key] == key { byFlow[b.flow.key] = nil }
    }

    public func binding(contact: String) -> RegistrationBinding? {
        SIPURIKey(contact).flatMap { byContact[$0] }
    }

    public func bindings(identity: String) -> [RegistrationBinding] {
        guard let k = SIPURIKey(identity)?.identity, let keys = byIdentity[k] else { return [] }
        return keys.compactMap { byContact[$0] }.sorted { $0.contact < $1.contact }
    }

    public func binding(flow: FlowKey) -> RegistrationBinding? {
        byFlow[flow].flatMap { byContact[$0] }
    }

    public func removeExpired(now: TransactionInstant) -> [RegistrationBinding] {
        let gone = byContact.filter { $0.value.expiresAt <= now }
        for (k, b) in gone { byContact[k] = nil; unindex(b, k) }
        return gone.values.sorted { $0.contact < $1.contact }
    }

    public func all() -> [RegistrationBinding] { byContact.values.sorted { $0.contact < $1.contact } }
}
