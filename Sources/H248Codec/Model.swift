// H.248.1 message model (ITU-T H.248.1 §7, §8; RFC 3525 Annex A/B abstract syntax).
// The model is independent of the encoding: the text codec (Annex B) lives in TextEncoder/TextParser,
// a binary (BER, Annex A) codec can be added beside it without touching these types.

/// A whole H.248 message (H.248.1 §8.1; text form: `MEGACO/<v> <mId> <body>`).
public struct H248Message: Sendable, Equatable, Codable {
    /// Protocol version, 1...99 on the wire (`Version = 1*2(DIGIT)`); Iq uses 2 or 3.
    public var version: Int
    public var mid: MID
    public var body: MessageBody

    public init(version: Int, mid: MID, body: MessageBody) {
        self.version = version
        self.mid = mid
        self.body = body
    }

    /// Convenience: the transactions of the body (empty for an error body).
    public var transactions: [Transaction] {
        if case .transactions(let t) = body { return t }
        return []
    }
}

/// `messageBody = errorDescriptor / transactionList` (RFC 3525 B.2).
public enum MessageBody: Sendable, Equatable, Codable {
    case error(ErrorDescriptor)
    case transactions([Transaction])
}

/// Message identifier of the sender (RFC 3525 B.2 `mId`).
public enum MID: Sendable, Equatable, Hashable, Codable {
    /// `[IPv4 or IPv6]` with optional port.
    case address(String, port: UInt16?)
    /// `<domain.name>` with optional port.
    case domain(String, port: UInt16?)
    /// A device name (pathNAME).
    case device(String)
    /// `MTP{...}` address, kept as its hex text.
    case mtp(String)
}

/// One transaction of a message (H.248.1 §8.2).
public enum Transaction: Sendable, Equatable, Codable {
    case request(TransactionRequest)
    case reply(TransactionReply)
    /// `Pending = <tid> { }` (H.248.1 §8.2.3).
    case pending(UInt32)
    /// `TransactionResponseAck { 1-5, 7 }` (H.248.1 §8.2.4).
    case responseAck([AckRange])
    /// v3 `Segment = <tid>/<segment>[/END]` (SegmentReply, H.248.1 v3 §8.2.5).
    case segmentReply(SegmentReply)
}

public struct SegmentReply: Sendable, Equatable, Codable {
    public var transactionID: UInt32
    public var segmentNumber: UInt16
    public var segmentationComplete: Bool
    public init(transactionID: UInt32, segmentNumber: UInt16, segmentationComplete: Bool = false) {
        self.transactionID = transactionID
        self.segmentNumber = segmentNumber
        self.segmentationComplete = segmentationComplete
    }
}

public struct AckRange: Sendable, Equatable, Codable {
    public var first: UInt32
    public var last: UInt32
    public init(_ first: UInt32, _ last: UInt32? = nil) {
        self.first = first
        self.last = last ?? first
    }
}

public struct TransactionRequest: Sendable, Equatable, Codable {
    public var id: UInt32
    public var actions: [ActionRequest]
    public init(id: UInt32, actions: [ActionRequest]) {
        self.id = id
        self.actions = actions
    }
}

public struct TransactionReply: Sendable, Equatable, Codable {
    public var id: UInt32
    /// `ImmAckRequired` (H.248.1 §8.2.4): the receiver must answer with a TransactionResponseAck.
    public var immAckRequired: Bool
    /// v3 segmentation (H.248.1 v3 §8.1.1): segment number and "segmentation complete" (`END`/`&`).
    public var segmentNumber: UInt16?
    public var segmentationComplete: Bool
    public var result: ReplyResult
    public init(id: UInt32, immAckRequired: Bool = false, segmentNumber: UInt16? = nil,
                segmentationComplete: Bool = false, result: ReplyResult) {
        self.segmentNumber = segmentNumber
        self.segmentationComplete = segmentationComplete
        self.id = id
        self.immAckRequired = immAckRequired
        self.result = result
    }
}

public enum ReplyResult: Sendable, Equatable, Codable {
    case error(ErrorDescriptor)
    case actions([ActionReply])
}

/// ContextID (H.248.1 §6.1.1): `$` CHOOSE, `-` NULL, `*` ALL, or a number.
public enum ContextID: Sendable, Equatable, Hashable, Codable {
    case null
    case choose
    case all
    case id(UInt32)
}

/// Context attributes / properties (H.248.1 §7.1.x contextRequest; RFC 3525 `contextProperty`).
public struct ContextAttributes: Sendable, Equatable, Codable {
    public var priority: UInt8?
    /// `Emergency` = true, `EmergencyOff` (v3) = false.
    public var emergency: Bool?
    /// `IEPSCall` (v2+).
    public var iepsCall: Bool?
    public var topology: [TopologyTriple]?
    /// v3 context attribute properties (`pkg/item = value`).
    public var properties: [PropertyParm]
    public init(priority: UInt8? = nil, emergency: Bool? = nil, iepsCall: Bool? = nil,
                topology: [TopologyTriple]? = nil, properties: [PropertyParm] = []) {
        self.priority = priority
        self.emergency = emergency
        self.iepsCall = iepsCall
        self.topology = topology
        self.properties = properties
    }
    public var isEmpty: Bool {
        priority == nil && emergency == nil && iepsCall == nil && topology == nil && properties.isEmpty
    }
}

/// v3 `ContextAudit { ... }` items (H.248.1 v3 §7.1 contextAudit).
public enum ContextAuditItem: Sendable, Equatable, Codable {
    case topology, emergency, priority, iepsCall
    case property(PackageItemName)
}

public struct ActionRequest: Sendable, Equatable, Codable {
    public var contextID: ContextID
    public var attributes: ContextAttributes?
    /// v3 context audit request; may be the only content of the action.
    public var contextAudit: [ContextAuditItem]?
    public var commands: [CommandRequest]
    public init(contextID: ContextID, attributes: ContextAttributes? = nil, contextAudit: [ContextAuditItem]? = nil,
                commands: [CommandRequest]) {
        self.contextAudit = contextAudit
        self.contextID = contextID
        self.attributes = attributes
        self.commands = commands
    }
}

public struct ActionReply: Sendable, Equatable, Codable {
    public var contextID: ContextID
    public var attributes: ContextAttributes?
    public var replies: [CommandReply]
    /// An error descriptor after (or instead of) the command replies.
    public var error: ErrorDescriptor?
    public init(contextID: ContextID, attributes: ContextAttributes? = nil,
                replies: [CommandReply], error: ErrorDescriptor? = nil) {
        self.contextID = contextID
        self.attributes = attributes
        self.replies = replies
        self.error = error
    }
}

/// The commands of H.248.1 §7.2 (the verb of a request and of its reply).
public enum CommandVerb: String, Sendable, Equatable, Codable, CaseIterable {
    case add, modify, subtract, move, auditValue, auditCapabilities, notify, serviceChange
}

/// A command request (H.248.1 §7.2). Descriptors follow the command's grammar (RFC 3525 B.2
/// `ammParameter`, `auditDescriptor`, `observedEventsDescriptor`, `serviceChangeDescriptor`).
public struct CommandRequest: Sendable, Equatable, Codable {
    public var verb: CommandVerb
    public var terminationID: TerminationID
    public var descriptors: [Descriptor]
    /// `O-` prefix: optional command (H.248.1 §8.2.1).
    public var optional: Bool
    /// `W-` prefix: wildcarded response requested.
    public var wildcardReturn: Bool
    public init(_ verb: CommandVerb, _ terminationID: TerminationID, _ descriptors: [Descriptor] = [],
                optional: Bool = false, wildcardReturn: Bool = false) {
        self.verb = verb
        self.terminationID = terminationID
        self.descriptors = descriptors
        self.optional = optional
        self.wildcardReturn = wildcardReturn
    }
}

/// A command reply (RFC 3525 B.2 `commandReply`): the TerminationID plus returned descriptors
/// (terminationAudit, serviceChangeReplyDescriptor as `.services`, or `.error`).
public struct CommandReply: Sendable, Equatable, Codable {
    public var verb: CommandVerb
    public var terminationID: TerminationID
    public var descriptors: [Descriptor]
    public init(_ verb: CommandVerb, _ terminationID: TerminationID, _ descriptors: [Descriptor] = []) {
        self.verb = verb
        self.terminationID = terminationID
        self.descriptors = descriptors
    }
}

/// TerminationID (H.248.1 §6.2.1): `ROOT`, `$` (CHOOSE), `*` (ALL) or a name that may contain
/// wildcards in some of its `/`-separated levels (partial wildcard, e.g. `ip/acc/*`).
public struct TerminationID: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public var text: String
    public init(_ text: String) {
        self.text = text.count == 4 && text.lowercased() == "root" ? "ROOT" : text
    }
    public static let root = TerminationID("ROOT")
    public static let choose = TerminationID("$")
    public static let all = TerminationID("*")
    public var isRoot: Bool { text == "ROOT" }
    public var isChoose: Bool { text == "$" }
    public var isAll: Bool { text == "*" }
    /// True when any level is `*` or `$` (H.248.1 §6.2.2 wildcarding).
    public var isWildcarded: Bool { text.contains("*") || text.contains("$") }
    public var description: String { text }
}

/// `pkg/item` (H.248.1 §12.1.1, text `pkgdName`), `*` allowed in either half.
public typealias PackageItemName = String

/// A parameter or property value, kept with its lexical kind so it re-encodes exactly.
public enum H248Value: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    case token(String)
    case quoted(String)
    public var string: String {
        switch self {
        case .token(let s), .quoted(let s): return s
        }
    }
    public var description: String {
        switch self {
        case .token(let s): return s
        case .quoted(let s): return "\"\(s)\""
        }
    }
}

/// `propertyParm` / `eventParameter` relation (RFC 3525 B.2 `parmValue`: EQUAL, INEQUAL `#`, `>`, `<`).
public enum Relation: String, Sendable, Equatable, Codable {
    case equal = "="
    case notEqual = "#"
    case greater = ">"
    case less = "<"
}

public enum ParameterValue: Sendable, Equatable, Codable {
    case single(H248Value)
    /// `{a, b}`: any one of (alternatives).
    case alternatives([H248Value])
    /// `[a, b]`: all of (list).
    case list([H248Value])
    /// `[a : b]`: range.
    case range(H248Value, H248Value)
}

/// A property or parameter: `name (=|#|>|<) value` (H.248.1 §7.1.x, RFC 3525 `propertyParm`).
public struct PropertyParm: Sendable, Equatable, Codable {
    public var name: PackageItemName
    public var relation: Relation
    public var value: ParameterValue
    public init(_ name: PackageItemName, _ relation: Relation = .equal, _ value: ParameterValue) {
        self.name = name
        self.relation = relation
        self.value = value
    }
    public init(_ name: PackageItemName, _ value: String) {
        self.init(name, .equal, .single(.token(value)))
    }
    public init(_ name: PackageItemName, quoted value: String) {
        self.init(name, .equal, .single(.quoted(value)))
    }
}

/// Descriptors (H.248.1 §7.1). One enum shared by requests and replies.
public enum Descriptor: Sendable, Equatable, Codable {
    case media(MediaDescriptor)
    case events(EventsDescriptor)
    case signals(SignalsDescriptor)
    case observedEvents(ObservedEventsDescriptor)
    case statistics([PropertyParm])
    case audit(AuditDescriptor)
    case packages([PackageVersion])
    case error(ErrorDescriptor)
    case services(ServiceChangeParameters)
    /// A bare descriptor name returned in an audit reply (RFC 3525 `auditItem`).
    case auditItem(AuditItem)
}

public struct MediaDescriptor: Sendable, Equatable, Codable {
    public var terminationState: TerminationStateDescriptor?
    /// Streams; a stream with `id == nil` is the single-stream shorthand (stream parameters directly in Media).
    public var streams: [StreamDescriptor]
    public init(terminationState: TerminationStateDescriptor? = nil, streams: [StreamDescriptor] = []) {
        self.terminationState = terminationState
        self.streams = streams
    }
}

public struct StreamDescriptor: Sendable, Equatable, Codable {
    public var id: UInt16?
    public var localControl: LocalControlDescriptor?
    public var local: SDPBlock?
    public var remote: SDPBlock?
    /// Statistics inside a stream (v2+).
    public var statistics: [PropertyParm]?
    public init(id: UInt16?, localControl: LocalControlDescriptor? = nil, local: SDPBlock? = nil,
                remote: SDPBlock? = nil, statistics: [PropertyParm]? = nil) {
        self.id = id
        self.localControl = localControl
        self.local = local
        self.remote = remote
        self.statistics = statistics
    }
}

/// Stream mode (H.248.1 §7.1.7).
public enum StreamMode: String, Sendable, Equatable, Codable {
    case sendOnly, receiveOnly, sendReceive, inactive, loopback
}

public struct LocalControlDescriptor: Sendable, Equatable, Codable {
    public var mode: StreamMode?
    public var reserveValue: Bool?
    public var reserveGroup: Bool?
    public var properties: [PropertyParm]
    public init(mode: StreamMode? = nil, reserveValue: Bool? = nil, reserveGroup: Bool? = nil,
                properties: [PropertyParm] = []) {
        self.mode = mode
        self.reserveValue = reserveValue
        self.reserveGroup = reserveGroup
        self.properties = properties
    }
}

public enum ServiceState: String, Sendable, Equatable, Codable {
    case test, outOfService, inService
}

public struct TerminationStateDescriptor: Sendable, Equatable, Codable {
    public var serviceState: ServiceState?
    /// `Buffer = LockStep / OFF` (event buffer control).
    public var bufferLockStep: Bool?
    public var properties: [PropertyParm]
    public init(serviceState: ServiceState? = nil, bufferLockStep: Bool? = nil, properties: [PropertyParm] = []) {
        self.serviceState = serviceState
        self.bufferLockStep = bufferLockStep
        self.properties = properties
    }
}

/// Events descriptor (H.248.1 §7.1.9). `requestID == nil` only for the empty `Events` (audit form).
public struct EventsDescriptor: Sendable, Equatable, Codable {
    public var requestID: UInt32?
    public var events: [RequestedEvent]
    public init(requestID: UInt32?, events: [RequestedEvent]) {
        self.requestID = requestID
        self.events = events
    }
}

public struct RequestedEvent: Sendable, Equatable, Codable {
    public var name: PackageItemName
    public var streamID: UInt16?
    public var keepActive: Bool
    /// `Embed { Signals {...}, Events = id {...} }` (H.248.1 §7.1.9 embedded descriptors).
    public var embeddedSignals: SignalsDescriptor?
    public var embeddedEvents: EventsDescriptor?
    public var parameters: [PropertyParm]
    public init(_ name: PackageItemName, streamID: UInt16? = nil, keepActive: Bool = false,
                embeddedSignals: SignalsDescriptor? = nil, embeddedEvents: EventsDescriptor? = nil,
                parameters: [PropertyParm] = []) {
        self.embeddedSignals = embeddedSignals
        self.embeddedEvents = embeddedEvents
        self.name = name
        self.streamID = streamID
        self.keepActive = keepActive
        self.parameters = parameters
    }
}

/// Signals descriptor (H.248.1 §7.1.11).
public struct SignalsDescriptor: Sendable, Equatable, Codable {
    public var items: [SignalItem]
    public init(_ items: [SignalItem]) { self.items = items }
}

public enum SignalItem: Sendable, Equatable, Codable {
    case signal(Signal)
    /// `SignalList = <id> { signal, ... }`.
    case list(id: UInt16, signals: [Signal])
}

public enum SignalType: String, Sendable, Equatable, Codable {
    case brief, onOff, timeOut
}

/// NotifyCompletion reasons (H.248.1 §7.1.11; `Iteration` v3).
public enum NotifyCompletion: String, Sendable, Equatable, Codable {
    case timeOut, interruptedByEvent, interruptedByNewSignalsDescriptor, otherReason, iteration
}

/// v3 signal direction (H.248.1 v3 §7.1.11).
public enum SignalDirection: String, Sendable, Equatable, Codable {
    case external, `internal`, both
}

public struct Signal: Sendable, Equatable, Codable {
    public var name: PackageItemName
    public var streamID: UInt16?
    public var type: SignalType?
    public var duration: UInt32?
    public var notifyCompletion: [NotifyCompletion]?
    public var keepActive: Bool
    /// v3 signal direction (`SPADirection`), request id (`SPARequestID`), inter-signal delay (`Intersignal`).
    public var direction: SignalDirection?
    public var requestID: UInt32?
    public var intersignalDelay: UInt16?
    public var parameters: [PropertyParm]
    public init(_ name: PackageItemName, streamID: UInt16? = nil, type: SignalType? = nil, duration: UInt32? = nil,
                notifyCompletion: [NotifyCompletion]? = nil, keepActive: Bool = false, direction: SignalDirection? = nil,
                requestID: UInt32? = nil, intersignalDelay: UInt16? = nil, parameters: [PropertyParm] = []) {
        self.direction = direction
        self.requestID = requestID
        self.intersignalDelay = intersignalDelay
        self.name = name
        self.streamID = streamID
        self.type = type
        self.duration = duration
        self.notifyCompletion = notifyCompletion
        self.keepActive = keepActive
        self.parameters = parameters
    }
}

/// Observed events descriptor (H.248.1 §7.1.17).
public struct ObservedEventsDescriptor: Sendable, Equatable, Codable {
    public var requestID: UInt32
    public var events: [ObservedEvent]
    public init(requestID: UInt32, events: [ObservedEvent]) {
        self.requestID = requestID
        self.events = events
    }
}

public struct ObservedEvent: Sendable, Equatable, Codable {
    public var timestamp: TimeStamp?
    public var name: PackageItemName
    public var streamID: UInt16?
    public var parameters: [PropertyParm]
    public init(_ name: PackageItemName, timestamp: TimeStamp? = nil, streamID: UInt16? = nil,
                parameters: [PropertyParm] = []) {
        self.timestamp = timestamp
        self.name = name
        self.streamID = streamID
        self.parameters = parameters
    }
}

/// `TimeStamp = Date "T" Time` : 8 digits, `T`, 8 digits (yyyymmddThhmmsshh), RFC 3525 B.2.
public struct TimeStamp: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public var date: String
    public var time: String
    public init?(_ text: String) {
        let u = Array(text.utf8)
        guard u.count == 17, u[8] == UInt8(ascii: "T") || u[8] == UInt8(ascii: "t"),
              u[0..<8].allSatisfy({ $0 >= 48 && $0 <= 57 }), u[9..<17].allSatisfy({ $0 >= 48 && $0 <= 57 })
        else { return nil }
        date = String(decoding: u[0..<8], as: UTF8.self)
        time = String(decoding: u[9..<17], as: UTF8.self)
    }
    public var description: String { date + "T" + time }
}

/// Audit descriptor (H.248.1 §7.1.15): the list of descriptors to audit; empty = `Audit{}`.
public struct AuditDescriptor: Sendable, Equatable, Codable {
    public var items: [AuditItem]
    public init(_ items: [AuditItem] = []) { self.items = items }
}

public enum AuditItem: Sendable, Equatable, Codable {
    case media, modem, mux, events, signals, digitMap, statistics, observedEvents, eventBuffer, packages
    /// v3 individual property/item audit (`pkg/item`).
    case item(PackageItemName)
    /// v2+ individual audit `Packages { pkg-ver, ... }`.
    case packagesOf([PackageVersion])
    /// v2+ individual audit `Statistics { pkg/stat, ... }`.
    case statisticsOf([PackageItemName])
}

public struct PackageVersion: Sendable, Equatable, Codable {
    public var name: String
    public var version: UInt16
    public init(_ name: String, _ version: UInt16) {
        self.name = name
        self.version = version
    }
}

/// Error descriptor (H.248.1 §7.1.19): `Error = <code> { "text" }`.
public struct ErrorDescriptor: Sendable, Equatable, Codable, Error {
    public var code: UInt16
    public var text: String?
    public init(code: UInt16, text: String? = nil) {
        self.code = code
        self.text = text
    }
}

public enum ServiceChangeMethod: Sendable, Equatable, Codable {
    case failover, forced, graceful, restart, disconnected, handOff
    /// Extension method (`X-...` / `X+...`).
    case other(String)
}

public enum ServiceChangeAddress: Sendable, Equatable, Codable {
    case port(UInt16)
    case mid(MID)
}

/// ServiceChange parameters (H.248.1 §7.2.8, RFC 3525 `serviceChangeParm` / `servChgReplyParm`).
public struct ServiceChangeParameters: Sendable, Equatable, Codable {
    public var method: ServiceChangeMethod?
    /// Reason, e.g. `"901 Cold Boot"` or `901`.
    public var reason: H248Value?
    public var delay: UInt32?
    public var address: ServiceChangeAddress?
    /// `Profile = name/version`.
    public var profile: ServiceChangeProfile?
    public var version: Int?
    public var mgcIdToTry: MID?
    public var timestamp: TimeStamp?
    /// Extension parameters (`X-...=value`).
    public var extensions: [PropertyParm]
    public init(method: ServiceChangeMethod? = nil, reason: H248Value? = nil, delay: UInt32? = nil,
                address: ServiceChangeAddress? = nil, profile: ServiceChangeProfile? = nil, version: Int? = nil,
                mgcIdToTry: MID? = nil, timestamp: TimeStamp? = nil, extensions: [PropertyParm] = []) {
        self.method = method
        self.reason = reason
        self.delay = delay
        self.address = address
        self.profile = profile
        self.version = version
        self.mgcIdToTry = mgcIdToTry
        self.timestamp = timestamp
        self.extensions = extensions
    }
    /// The numeric reason code (H.248.1 §7.2.8.1.x: 900...920), if the reason starts with digits.
    public var reasonCode: Int? {
        guard let r = reason?.string else { return nil }
        let digits = r.prefix(while: { $0.isASCII && $0.isNumber })
        return digits.isEmpty || digits.count > 4 ? nil : Int(digits)
    }
}

public struct ServiceChangeProfile: Sendable, Equatable, Codable {
    public var name: String
    public var version: Int
    public init(name: String, version: Int) {
        self.name = name
        self.version = version
    }
}

/// `Topology { t1, t2, Isolate }` triple (H.248.1 §7.1.18).
public struct TopologyTriple: Sendable, Equatable, Codable {
    public enum Direction: String, Sendable, Equatable, Codable {
        case isolate, oneway, bothway
    }
    public var from: TerminationID
    public var to: TerminationID
    public var direction: Direction
    public init(_ from: TerminationID, _ to: TerminationID, _ direction: Direction) {
        self.from = from
        self.to = to
        self.direction = direction
    }
}
