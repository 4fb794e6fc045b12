import SDPRewrite
import SIPCore
import SIPTransaction

/// Identifiers the P-CSCF mints: icid values (RFC 7315 §4.6) and To tags of the responses it
/// originates (RFC 3261 §8.2.6.2). Injected, so the logic stays deterministic.
public protocol PCSCFIdentifierSource: Sendable {
    mutating func nextICID() -> String
    mutating func nextToTag() -> String
}

/// A deterministic source: `<prefix>-icid-<n>` and `<prefix>-tag-<n>` (tests, tools). Production
/// shells inject a random source.
public struct SequentialIdentifierSource: PCSCFIdentifierSource {
    public var prefix: String
    public private(set) var counter: UInt64 = 0
    public init(prefix: String = "pcscf") { self.prefix = prefix }
    public mutating func nextICID() -> String { counter &+= 1; return "\(prefix)-icid-\(counter)" }
    public mutating func nextToTag() -> String { counter &+= 1; return "\(prefix)-tag-\(counter)" }
}

/// What the caller's proxy core wants this layer to do as a hop (RFC 3261 §16.6 steps 3 and 8).
/// Pass nil when the proxy core adds its Via and decrements Max-Forwards itself.
public struct ProxyHop: Sendable, Equatable {
    /// The complete Via value to insert on top (`SIP/2.0/TCP host:port;branch=z9hG4bK...`).
    public var via: String
    public var decrementMaxForwards: Bool
    public init(via: String, decrementMaxForwards: Bool = true) { self.via = via; self.decrementMaxForwards = decrementMaxForwards }
}

/// Which side of the served UE a dialog is on (TS 24.229 §5.2.6.3 originating, §5.2.6.4 terminating).
public enum DialogRole: String, Sendable, Codable, Equatable {
    case originating, terminating
}

/// What the P-CSCF remembers between a UE's REGISTER and its response (kept with the client
/// transaction by the caller; nothing is stored until the 200 OK).
public struct RegisterContext: Sendable, Equatable {
    /// The flow the REGISTER arrived on.
    public var flow: SIPFlow
    /// The Contact URIs the UE registered (without `<>`).
    public var contacts: [String]
    /// `Contact: *` (RFC 3261 §10.2.2: remove all bindings).
    public var wildcard: Bool
    /// The To URI (the public identity being registered).
    public var toURI: String?
    /// Expires header of the REGISTER.
    public var requestExpires: UInt32?
    /// Mechanisms from the UE's `Security-Client: ...;mediasec` entries (TS 33.328 §7.1, TS 24.229 §7.2A.7).
    public var ueMediaSecurity: Set<MediaSecurityMechanism>
    /// True when the UE sent at least one mediasec entry (also unknown mechanism names).
    public var ueIndicatedMediasec: Bool
}

/// Result of a REGISTER from the UE.
public enum RegisterDecision: Sendable {
    /// Forward `bytes` towards the core (`nextHops` in failover order); keep `context` for the response.
    case forward(bytes: [UInt8], nextHops: [String], context: RegisterContext)
    /// Answer the UE with `response` (e.g. 483, 400).
    case respond(response: [UInt8], status: Int)
}

/// Result of a REGISTER response from the core.
public struct RegisterResponseResult: Sendable {
    /// The response to send to the UE over `flow`.
    public var bytes: [UInt8]
    public var flow: SIPFlow
    public var status: Int
    /// `Security-Server` mediasec value added, if any.
    public var announcedMediaSecurity: Set<MediaSecurityMechanism>
    /// Bindings created or refreshed (200 OK with expires > 0).
    public var stored: [RegistrationBinding]
    /// Bindings removed (expires = 0, de-registration, contact missing from the 200).
    public var removed: [RegistrationBinding]
    /// Set when the store refused a binding (the response is still relayed).
    public var storeError: RegistrationStoreError?
}

/// Result of a request the P-CSCF routes.
public enum RequestDecision: Sendable {
    /// Send `bytes` to `nextHop` (a URI: the first Route, or the Request-URI). For terminating
    /// requests `flow` is the UE's registered flow (reuse its connection).
    case forward(bytes: [UInt8], nextHop: String, flow: SIPFlow?, binding: RegistrationBinding?, role: DialogRole, initial: Bool)
    /// Answer with `response` (403 unregistered, 404/480 no binding, 483 ...).
    case respond(response: [UInt8], status: Int)
    /// Discard (an ACK that cannot be answered).
    case drop(reason: String)
    /// Terminating: the top Route is not ours, so this is not a request for a served UE; the caller's
    /// generic proxy logic handles it.
    case notForUs
}

extension RequestDecision {
    public var forwardedBytes: [UInt8]? { if case .forward(let b, _, _, _, _, _) = self { return b } else { return nil } }
    public var responseStatus: Int? { if case .respond(_, let s) = self { return s } else { return nil } }
}

/// Reason phrases for the statuses this layer may originate (RFC 3261 §21).
enum Reason {
    static func phrase(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 480: "Temporarily Unavailable"
        case 483: "Too Many Hops"
        case 500: "Server Internal Error"
        case 503: "Service Unavailable"
        default: "Error"
        }
    }
}

/// Result of a splice-level edit (`PCSCF.editOriginatingRequest`): the edits were made, or the request
/// is answered with `status` (403 unregistered, 500 store failure...).
public enum PCSCFEditResult<Edit: Sendable>: Sendable {
    case edit(Edit)
    case reject(Int)
}

/// What `PCSCF.editOriginatingRequest` decided besides the splice edits.
public struct OriginatingEdit: Sendable, Equatable {
    /// The binding of the flow (nil when unregistered requests are let through by configuration).
    public var binding: RegistrationBinding?
    /// Initial request (no To tag; not ACK/CANCEL).
    public var initial: Bool
    /// Route values (`<uri>`) to send along instead of the request's own remaining Route set: the
    /// stored Service-Route (RFC 3608 §6.2). Empty: keep the request's routing.
    public var preloadedRoutes: [String]
    /// The P-Asserted-Identity added, if any (RFC 3325 §6).
    public var assertedIdentity: String?
}

/// What `PCSCF.editTerminatingRequest` decided besides the splice edits.
public struct TerminatingEdit: Sendable, Equatable {
    /// The UE's binding: send to its contact over its flow.
    public var binding: RegistrationBinding
    public var initial: Bool
    /// The new Request-URI (the registered contact) when the request named a public identity.
    public var requestURI: String?
}

/// Result of `PCSCF.editTerminatingRequest`.
public enum TerminatingEditResult: Sendable {
    case edit(TerminatingEdit)
    case reject(Int)
    /// The top Route does not name this P-CSCF.
    case notForUs
}
