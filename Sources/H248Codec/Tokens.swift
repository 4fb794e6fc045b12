// H.248.1 text tokens (RFC 3525 Annex B.3 / H.248.1 Annex B: each keyword has a long and a short
// form; tokens are case-insensitive, B.3 "all tokens are case insensitive").

/// Every keyword the codec understands, with its long and short text forms.
public enum H248Token: UInt8, Sendable, CaseIterable {
    case megaco, transaction, reply, pending, responseAck, immAckRequired, context
    case add, modify, move, subtract, notify, auditValue, auditCapability, audit, serviceChange
    case services, method, reason, delay, serviceChangeAddress, profile, version, mgcIdToTry
    case restart, forced, graceful, failover, disconnected, handOff
    case media, stream, local, remote, localControl, mode
    case sendReceive, sendOnly, receiveOnly, inactive, loopback
    case reservedValue, reservedGroup, events, observedEvents, signals, signalList, error
    case terminationState, serviceStates, inSvc, outOfSvc, test, buffer, lockStep
    case statistics, packages, topology, isolate, oneway, bothway, priority, emergency, emergencyOff, iepsCall
    case duration, embed, keepActive, signalType, brief, onOff, timeOut, notifyCompletion
    case digitMap, modem, mux, eventBuffer, on, off, contextAttr
    case intByEvent, intBySigDescr, otherReason, iteration, spaDirection, spaRequestID, intersignal
    case external, `internal`, both, contextAudit, segment, segmentationComplete

    /// Long form as emitted by the pretty encoder.
    public var long: String {
        switch self {
        case .megaco: "MEGACO"
        case .transaction: "Transaction"
        case .reply: "Reply"
        case .pending: "Pending"
        case .responseAck: "TransactionResponseAck"
        case .immAckRequired: "ImmAckRequired"
        case .context: "Context"
        case .add: "Add"
        case .modify: "Modify"
        case .move: "Move"
        case .subtract: "Subtract"
        case .notify: "Notify"
        case .auditValue: "AuditValue"
        case .auditCapability: "AuditCapability"
        case .audit: "Audit"
        case .serviceChange: "ServiceChange"
        case .services: "Services"
        case .method: "Method"
        case .reason: "Reason"
        case .delay: "Delay"
        case .serviceChangeAddress: "ServiceChangeAddress"
        case .profile: "Profile"
        case .version: "Version"
        case .mgcIdToTry: "MgcIdToTry"
        case .restart: "Restart"
        case .forced: "Forced"
        case .graceful: "Graceful"
        case .failover: "Failover"
        case .disconnected: "Disconnected"
        case .handOff: "HandOff"
        case .media: "Media"
        case .stream: "Stream"
        case .local: "Local"
        case .remote: "Remote"
        case .localControl: "LocalControl"
        case .mode: "Mode"
        case .sendReceive: "SendReceive"
        case .sendOnly: "SendOnly"
        case .receiveOnly: "ReceiveOnly"
        case .inactive: "Inactive"
        case .loopback: "Loopback"
        case .reservedValue: "ReservedValue"
        case .reservedGroup: "ReservedGroup"
        case .events: "Events"
        case .observedEvents: "ObservedEvents"
        case .signals: "Signals"
        case .signalList: "SignalList"
        case .error: "Error"
        case .terminationState: "TerminationState"
        case .serviceStates: "ServiceStates"
        case .inSvc: "InService"
        case .outOfSvc: "OutOfService"
        case .test: "Test"
        case .buffer: "Buffer"
        case .lockStep: "LockStep"
        case .statistics: "Statistics"
        case .packages: "Packages"
        case .topology: "Topology"
        case .isolate: "Isolate"
        case .oneway: "Oneway"
        case .bothway: "Bothway"
        case .priority: "Priority"
        case .emergency: "Emergency"
        case .emergencyOff: "EmergencyOff"
        case .iepsCall: "IEPSCall"
        case .duration: "Duration"
        case .embed: "Embed"
        case .keepActive: "KeepActive"
        case .signalType: "SignalType"
        case .brief: "Brief"
        case .onOff: "OnOff"
        case .timeOut: "TimeOut"
        case .notifyCompletion: "NotifyCompletion"
        case .digitMap: "DigitMap"
        case .modem: "Modem"
        case .mux: "Mux"
        case .eventBuffer: "EventBuffer"
        case .on: "ON"
        case .off: "OFF"
        case .contextAttr: "ContextAttr"
        case .intByEvent: "IntByEvent"
        case .intBySigDescr: "IntBySigDescr"
        case .otherReason: "OtherReason"
        case .iteration: "Iteration"
        case .spaDirection: "SPADirection"
        case .spaRequestID: "SPARequestID"
        case .intersignal: "Intersignal"
        case .external: "External"
        case .internal: "Internal"
        case .both: "Both"
        case .contextAudit: "ContextAudit"
        case .segment: "Segment"
        case .segmentationComplete: "END"
        }
    }

    /// Short form as emitted by the compact encoder.
    public var short: String {
        switch self {
        case .megaco: "!"
        case .transaction: "T"
        case .reply: "P"
        case .pending: "PN"
        case .responseAck: "K"
        case .immAckRequired: "IA"
        case .context: "C"
        case .add: "A"
        case .modify: "MF"
        case .move: "MV"
        case .subtract: "S"
        case .notify: "N"
        case .auditValue: "AV"
        case .auditCapability: "AC"
        case .audit: "AT"
        case .serviceChange: "SC"
        case .services: "SV"
        case .method: "MT"
        case .reason: "RE"
        case .delay: "DL"
        case .serviceChangeAddress: "AD"
        case .profile: "PF"
        case .version: "V"
        case .mgcIdToTry: "MG"
        case .restart: "RS"
        case .forced: "FO"
        case .graceful: "GR"
        case .failover: "FL"
        case .disconnected: "DC"
        case .handOff: "HO"
        case .media: "M"
        case .stream: "ST"
        case .local: "L"
        case .remote: "R"
        case .localControl: "O"
        case .mode: "MO"
        case .sendReceive: "SR"
        case .sendOnly: "SO"
        case .receiveOnly: "RC"
        case .inactive: "IN"
        case .loopback: "LB"
        case .reservedValue: "RV"
        case .reservedGroup: "RG"
        case .events: "E"
        case .observedEvents: "OE"
        case .signals: "SG"
        case .signalList: "SL"
        case .error: "ER"
        case .terminationState: "TS"
        case .serviceStates: "SI"
        case .inSvc: "IV"
        case .outOfSvc: "OS"
        case .test: "TE"
        case .buffer: "BF"
        case .lockStep: "SP"
        case .statistics: "SA"
        case .packages: "PG"
        case .topology: "TP"
        case .isolate: "IS"
        case .oneway: "OW"
        case .bothway: "BW"
        case .priority: "PR"
        case .emergency: "EG"
        case .emergencyOff: "EGO"
        case .iepsCall: "IEPS"
        case .duration: "DR"
        case .embed: "EM"
        case .keepActive: "KA"
        case .signalType: "SY"
        case .brief: "BR"
        case .onOff: "OO"
        case .timeOut: "TO"
        case .notifyCompletion: "NC"
        case .digitMap: "DM"
        case .modem: "MD"
        case .mux: "MX"
        case .eventBuffer: "EB"
        case .on: "ON"
        case .off: "OFF"
        case .contextAttr: "CT"
        case .intByEvent: "IBE"
        case .intBySigDescr: "IBS"
        case .otherReason: "OR"
        case .iteration: "IR"
        case .spaDirection: "SPADI"
        case .spaRequestID: "SPARQ"
        case .intersignal: "SPAIS"
        case .external: "EX"
        case .internal: "IT"
        case .both: "BO"
        case .contextAudit: "CA"
        case .segment: "SM"
        case .segmentationComplete: "&"
        }
    }

    /// Lookup by lower-cased text (long or short form).
    static let byLowercasedText: [String: H248Token] = {
        var d: [String: H248Token] = [:]
        for t in H248Token.allCases {
            d[t.long.lowercased()] = t
            d[t.short.lowercased()] = t
        }
        return d
    }()

    /// Case-insensitive lookup of a keyword (RFC 3525 B.3).
    public static func lookup(_ text: String) -> H248Token? {
        byLowercasedText[text.lowercased()]
    }
}

/// Which token form the encoder writes (TS 29.334 §5.9 NOTE: chosen per association; the receiver
/// accepts both).
public enum H248TextForm: String, Sendable, Equatable, CaseIterable {
    /// Long tokens, one item per line, indented.
    case pretty
    /// Short tokens, minimal whitespace.
    case compact
}

/// Package / item names the Iq profile uses. Tokens that specs.md / iq-tokens.md mark [U] or UNKNOWN
/// are configurable here; the defaults are the LIKELY names from iq-tokens.md, or placeholders
/// where nothing is known (see Docs/h248.md, "Configurable tokens").
public struct IqPackageTokens: Sendable, Equatable, Codable {
    /// H.248.36 hanging termination detection: event (LIKELY `hangterm/thb`) and its timer parameter (LIKELY `timerx`, seconds).
    public var heartbeatEvent: PackageItemName = "hangterm/thb"
    public var heartbeatTimerParameter: String = "timerx"
    /// H.248.14 inactivity timer: event on ROOT (LIKELY `it/ito`), parameter `mit` (10 ms units).
    public var inactivityEvent: PackageItemName = "it/ito"
    public var inactivityTimerParameter: String = "mit"
    /// H.248.37 latching property (LIKELY `ipnapt/latch`).
    public var latchProperty: PackageItemName = "ipnapt/latch"
    /// H.248.41 IP realm property (VERIFIED second-hand `ipdc/realm`).
    public var realmProperty: PackageItemName = "ipdc/realm"
    /// H.248.89 `tcpbcc` (package VERIFIED, items UNKNOWN: placeholders).
    public var tcpEstablishSignal: PackageItemName = "tcpbcc/establish"
    public var tcpEstablishFailureEvent: PackageItemName = "tcpbcc/estfail"
    /// H.248.90 `tlsbsc` (package VERIFIED, items UNKNOWN: placeholders).
    public var tlsEstablishSignal: PackageItemName = "tlsbsc/establish"
    public var tlsEstablishFailureEvent: PackageItemName = "tlsbsc/estfail"
    /// H.248.92 `seplink` interlinkage property (package VERIFIED, item UNKNOWN: placeholder).
    public var interlinkageProperty: PackageItemName = "seplink/link"
    /// TS 29.334 §5.1 profile name / version (UNKNOWN: placeholder) for `ServiceChange Profile`.
    public var profileName: String = "iqprofile"
    public var profileVersion: Int = 1

    public init() {}
}

extension IqPackageTokens {
    /// `hangterm/thb{timerx=<s>}` (H.248.36; TS 23.334 "Notify termination heartbeat", mandatory in Reserve).
    public func heartbeatEvent(timerSeconds: UInt32) -> RequestedEvent {
        RequestedEvent(heartbeatEvent, parameters: [PropertyParm(heartbeatTimerParameter, String(timerSeconds))])
    }
    /// `it/ito{mit=<10 ms units>}` on ROOT (H.248.14 inactivity timer).
    public func inactivityEvent(maxInactivityTenMs: UInt32) -> RequestedEvent {
        RequestedEvent(inactivityEvent, parameters: [PropertyParm(inactivityTimerParameter, String(maxInactivityTenMs))])
    }
    /// `ipnapt/latch=ON|OFF` LocalControl property (H.248.37; TS 23.334 Latching Requirement).
    public func latch(_ on: Bool) -> PropertyParm {
        PropertyParm(latchProperty, on ? "ON" : "OFF")
    }
    /// `ipdc/realm="<realm>"` LocalControl property (H.248.41).
    public func realm(_ name: String) -> PropertyParm {
        PropertyParm(realmProperty, quoted: name)
    }
    /// `Profile = <name>/<version>` for ServiceChange (TS 29.334 §5.1).
    public var profile: ServiceChangeProfile {
        ServiceChangeProfile(name: profileName, version: profileVersion)
    }
}
