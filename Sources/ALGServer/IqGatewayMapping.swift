// SDPRewrite's `GatewayRequest` (what the IMS-ALG needs from the IMS-AGW, per stream and per
// termination) mapped onto the Iq procedure requests of H248Client (TS 23.334 §8 "Reserve (and
// Configure) / Configure / Release AGW Connection Point"; TS 29.334 §5 encodings, specs.md §10.3,
// iq-tokens.md). Pure: values in, H.248 values out; the package tokens are configurable
// (`IqPackageTokens`, specs.md U3-U5, U13).
//
// Choices (Docs/iq-client.md "Mapping"):
// - one pair of terminations per stream (access, core) in the session's context; the H.248 stream
//   id is the m-line index + 1, so the access and core terminations of one m-line share a stream
//   (H.248.1 §7.1.7: streams with the same id in a context are connected) and two m-lines are not;
// - Local SDP asks the AGW to choose address and port (`$`, H.248.1 §7.1.8), carries `a=setup`
//   for the AGW's own TCP role (iq-tokens §3.3) and `a=fingerprint:$` for the "Local certificate
//   fingerprint Request"; b=AS / b=TIAS for policing;
// - Remote SDP carries the far end's address/port and its fingerprints ("Remote certificate
//   fingerprint"), and a=rtcp when signalled (RFC 3605);
// - LocalControl: realm (H.248.41 `ipdc/realm`), latching on the access side (H.248.37), the
//   interlinkage (SYN-trigger) property (H.248.92 `seplink`), and the Mode;
// - Events: the mandatory hanging-termination heartbeat (H.248.36) on every termination, the TCP
//   establishment failure event on TCP terminations and the TLS one on TLS terminations;
// - Signals: "Establish TLS session" (H.248.90 `tlsbsc`) when the AGW is TLS client, the TCP
//   connect signal (H.248.89 `tcpbcc`) when the AGW must open the connection;
// - Mode: `inactive` SDP direction gives Inactive, anything else SendReceive: the AGW relays TCP
//   bytes both ways, MSRP/BFCP direction attributes concern the end points (RFC 4975 §8.1).

import H248Client
import H248Codec
import SDPCore
import SDPRewrite

/// Which side of the ALG a termination faces.
public enum IqTerminationSide: String, Sendable, Hashable, CaseIterable {
    /// Towards the UE (TLS for e2ae).
    case access
    /// Towards the IMS core (plain TCP).
    case core
}

/// One Modify ("Configure AGW Connection Point") as IqClient.configure takes it.
public struct IqConfigureRequest: Sendable, Equatable {
    public var terminationID: TerminationID
    public var streamID: UInt16
    public var remote: SDPBlock?
    public var mode: StreamMode?
    public var signals: SignalsDescriptor?

    /// The H.248 action for `context` (IqProcedures.configure).
    public func action(context: UInt32) -> ActionRequest {
        IqProcedures.configure(context: context, termination: terminationID, streamID: streamID,
                               remote: remote, mode: mode, signals: signals)
    }

    /// The Modify command alone (to combine several in one action).
    public var command: CommandRequest {
        IqGatewayMapping.modify(IqTerminationRequest(terminationID: terminationID, streamID: streamID, mode: mode, remote: remote, signals: signals))
    }
}

/// Errors of the mapping (a request the gateway cannot be asked for).
public struct IqMappingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var text: String
    public init(_ text: String) { self.text = text }
    public var description: String { "Iq mapping: \(text)" }
}

/// The terminations already known for one stream (from earlier Add replies).
public struct IqStreamTerminations: Sendable, Equatable {
    public var index: Int
    public var access: TerminationID?
    public var core: TerminationID?

    public init(index: Int, access: TerminationID? = nil, core: TerminationID? = nil) {
        self.index = index
        self.access = access
        self.core = core
    }
}

/// The configurable mapping `GatewayRequest` → Iq requests.
public struct IqGatewayMapping: Sendable, Equatable {
    public var tokens = IqPackageTokens()
    /// H.248.41 realm names of the two sides (`h248.realm.access` / `h248.realm.core`).
    public var accessRealm = "access"
    public var coreRealm = "core"
    /// H.248.36 heartbeat period asked for (`hangterm/thb{timerx}`), seconds.
    public var heartbeatSeconds: UInt32 = 60
    /// H.248.37 latching on the access termination (UE behind NAT; TS 23.334 Latching Requirement).
    public var latchAccess = true
    /// The request id of the Events descriptor (H.248.1 §7.1.9), per termination.
    public var eventsRequestID: UInt32 = 1

    public init() {}

    /// H.248 stream id of an m-line (index 0 → stream 1).
    public static func streamID(forIndex index: Int) throws(IqMappingError) -> UInt16 {
        guard index >= 0, let id = UInt16(exactly: index + 1) else { throw IqMappingError("m-line index \(index) has no H.248 stream id") }
        return id
    }

    // MARK: Per termination

    /// The Add of one termination (Reserve AGW Connection Point; Reserve and Configure when the
    /// remote end is already known).
    public func reserve(_ term: TerminationRequest, side: IqTerminationSide, stream: StreamRequest,
                        terminationID: TerminationID = .choose) throws(IqMappingError) -> IqTerminationRequest {
        IqTerminationRequest(
            terminationID: terminationID, streamID: try Self.streamID(forIndex: stream.index),
            mode: mode(stream), localControlProperties: localControl(term, side: side),
            local: local(term, stream: stream), remote: remote(term, stream: stream),
            events: events(term), signals: signals(term))
    }

    /// The Modify of one termination (Configure AGW Connection Point): Remote, Mode, Signals.
    public func configure(_ term: TerminationRequest, stream: StreamRequest,
                          terminationID: TerminationID) throws(IqMappingError) -> IqConfigureRequest {
        IqConfigureRequest(terminationID: terminationID, streamID: try Self.streamID(forIndex: stream.index),
                           remote: remote(term, stream: stream), mode: mode(stream), signals: signals(term))
    }

    // MARK: Whole request

    /// The commands of one transaction for `request` in `context`: Add for `reserve` streams,
    /// Modify for `configure`/`replace`, Subtract for `release` (MGCOperation: "the other streams
    /// are configured/released in the same transaction"). `existing` gives the terminations of
    /// streams reserved earlier.
    public func action(for request: GatewayRequest, context: ContextID,
                       existing: [IqStreamTerminations] = []) throws(IqMappingError) -> ActionRequest {
        var commands: [CommandRequest] = []
        for stream in request.streams {
            let known = existing.first { $0.index == stream.index }
            let sides: [(IqTerminationSide, TerminationRequest?, TerminationID?)] =
                [(.access, stream.access, known?.access), (.core, stream.core, known?.core)]
            switch stream.action {
            case .reserve:
                for case let (side, term?, _) in sides {
                    let r = try reserve(term, side: side, stream: stream)
                    commands.append(IqProcedures.reserve([r], in: context).commands[0])
                }
            case .configure, .replace:
                for (side, term, id) in sides {
                    guard let term else { continue }
                    guard let id else { throw IqMappingError("stream \(stream.index): no \(side.rawValue) termination to configure") }
                    let c = try configure(term, stream: stream, terminationID: id)
                    if stream.action == .replace {
                        // A new TCP/TLS connection: Local asked for again, with the AGW fingerprint
                        // re-requested on TLS terminations (GatewayAction.replace, specs.md §4.5),
                        // and the new Remote, Mode and Signals.
                        var renewed = term
                        if isTLS(term) { renewed.requestLocalFingerprint = true }
                        let r = IqTerminationRequest(terminationID: id, streamID: c.streamID, mode: c.mode,
                                                     local: local(renewed, stream: stream), remote: c.remote, signals: c.signals)
                        commands.append(Self.modify(r))
                    } else {
                        commands.append(c.command)
                    }
                }
            case .release:
                for case let id? in [known?.access, known?.core] {
                    commands.append(CommandRequest(.subtract, id))
                }
            }
        }
        guard !commands.isEmpty else { throw IqMappingError("the request asks nothing of the gateway") }
        return ActionRequest(contextID: context, commands: commands)
    }

    // MARK: Replies

    /// The AGW's answer for one stream from the Add/Modify replies: its address/port per side
    /// (Local `c=`/`m=`), and the access fingerprint ("Local certificate fingerprint").
    public func answer(stream index: Int, access: SDPBlock?, core: SDPBlock?) -> StreamAnswer {
        var a = StreamAnswer(index: index, access: access.flatMap(Self.endpoint), core: core.flatMap(Self.endpoint))
        a.fingerprint = access.flatMap(Self.fingerprint)
        return a
    }

    /// `c=` address and `m=` port (and a=rtcp port) of a resolved Local SDP; nil while `$` remains.
    public static func endpoint(_ sdp: SDPBlock) -> LocalEndpoint? {
        var address: String?
        var port: UInt16?
        var rtcp: UInt16?
        for line in sdp.lines {
            if line.hasPrefix("c=") {
                let f = line.dropFirst(2).split(separator: " ")
                if f.count >= 3 { address = String(f[2].split(separator: "/").first ?? f[2]) }
            } else if line.hasPrefix("m="), port == nil {
                let f = line.dropFirst(2).split(separator: " ")
                if f.count >= 2 { port = UInt16(f[1].split(separator: "/").first ?? f[1]) }
            } else if line.hasPrefix("a=rtcp:") {
                rtcp = UInt16(line.dropFirst(7).split(separator: " ").first ?? "")
            }
        }
        guard let address, address != "$", let port else { return nil }
        return LocalEndpoint(address: address, port: port, rtcpPort: rtcp)
    }

    /// The first valid `a=fingerprint:` of a resolved Local SDP (RFC 8122 §5).
    public static func fingerprint(_ sdp: SDPBlock) -> Fingerprint? {
        for line in sdp.lines where line.hasPrefix("a=fingerprint:") {
            if let fp = try? Fingerprint(parsing: String(line.dropFirst(14))) { return fp }
        }
        return nil
    }

    // MARK: Parts

    func mode(_ stream: StreamRequest) -> StreamMode {
        stream.direction == .inactive ? .inactive : .sendReceive
    }

    func localControl(_ term: TerminationRequest, side: IqTerminationSide) -> [PropertyParm] {
        var p = [tokens.realm(side == .access ? accessRealm : coreRealm)]
        if side == .access && latchAccess { p.append(tokens.latch(true)) }
        if term.tcp?.synTriggersPeer == true { p.append(PropertyParm(tokens.interlinkageProperty, "ON")) }
        return p
    }

    func mediaName(_ stream: StreamRequest) -> String {
        stream.media.isEmpty ? (stream.protocol == .msrp ? "message" : "application") : stream.media.rawValue
    }

    func addressType(_ address: String?) -> String {
        (address?.contains(":") ?? false) ? "IP6" : "IP4"
    }

    func local(_ term: TerminationRequest, stream: StreamRequest) -> SDPBlock {
        var lines = ["v=0", "c=IN \(addressType(term.remote?.address)) $", "m=\(mediaName(stream)) $ \(term.transport.rawValue) *"]
        if let bw = term.bandwidthAS { lines.append("b=AS:\(bw)") }
        if let bw = term.bandwidthTIAS { lines.append("b=TIAS:\(bw)") }
        if let tcp = term.tcp {
            lines.append("a=setup:\(tcp.setup.rawValue)")
            if tcp.reuseConnection { lines.append("a=connection:existing") }
        }
        if term.requestLocalFingerprint { lines.append("a=fingerprint:$") }
        return SDPBlock(lines: lines)
    }

    func remote(_ term: TerminationRequest, stream: StreamRequest) -> SDPBlock? {
        guard let r = term.remote else { return nil }
        var lines = ["v=0", "c=IN \(addressType(r.address)) \(r.address)", "m=\(mediaName(stream)) \(r.port) \(term.transport.rawValue) *"]
        if let rtcp = r.rtcpPort {
            lines.append(r.rtcpAddress.map { "a=rtcp:\(rtcp) IN \(addressType($0)) \($0)" } ?? "a=rtcp:\(rtcp)")
        }
        for fp in term.remoteFingerprints ?? [] { lines.append("a=fingerprint:\(fp.hash.rawValue) \(fp.hexString)") }
        // Application-aware MSRP (seed 003): the peer's own MSRP URI, for the AGW's To-Path rewrite.
        if let path = term.remotePath { lines.append("a=path:\(path)") }
        return SDPBlock(lines: lines)
    }

    func isTLS(_ term: TerminationRequest) -> Bool { term.transport.rawValue.uppercased().contains("TLS") }
    func isTCP(_ term: TerminationRequest) -> Bool { term.transport.rawValue.uppercased().hasPrefix("TCP") }

    func events(_ term: TerminationRequest) -> EventsDescriptor {
        var e = [tokens.heartbeatEvent(timerSeconds: heartbeatSeconds)]
        if isTCP(term) { e.append(RequestedEvent(tokens.tcpEstablishFailureEvent)) }
        if isTLS(term) { e.append(RequestedEvent(tokens.tlsEstablishFailureEvent)) }
        return EventsDescriptor(requestID: eventsRequestID, events: e)
    }

    func signals(_ term: TerminationRequest) -> SignalsDescriptor? {
        var s: [SignalItem] = []
        if term.tcp?.connect == true { s.append(.signal(Signal(tokens.tcpEstablishSignal))) }
        if term.startTLSAsClient == true { s.append(.signal(Signal(tokens.tlsEstablishSignal))) }
        return s.isEmpty ? nil : SignalsDescriptor(s)
    }
}

extension IqGatewayMapping {
    /// A Modify carrying the descriptors of `request` (same layout as its Add).
    static func modify(_ request: IqTerminationRequest) -> CommandRequest {
        let add = IqProcedures.reserve([request], in: .choose).commands[0]
        return CommandRequest(.modify, request.terminationID, add.descriptors)
    }
}
