// The MG side of Iq, pure: contexts, terminations and streams; execution of the MGC's commands
// (H.248.1 §7.2: Add, Modify, Subtract, AuditValue, AuditCapabilities, ServiceChange; TS 23.334 §8
// Reserve / Configure / Release AGW Connection Point) into a reply plus media-plane work; the
// Notify events the MGC asked for (H.248.1 §7.1.9, §7.2.7). No I/O, no clock, no randomness: time
// is a `Duration` offset given by the caller, ids are counters.
//
// A transaction runs in two steps because `$` in Local needs the media plane's answer:
//   let e = gateway.execute(request, now:)   // state updated; e.releases, e.allocations to perform
//   let o = gateway.complete(e, results:)    // `$` filled in; o.reply to send, o.operations to perform
// Commands run in order; at the first failing command the transaction stops and the reply carries
// the replies so far plus that command's Error descriptor (H.248.1 §8.2.1 and §8.2.2); an `O-`
// (optional) command's failure does not stop it.

import H248Codec

/// State of one stream of a termination.
public struct AGWStream: Sendable, Equatable {
    public var id: UInt16
    public var localRequest: AGWLocalRequest?
    /// Local as answered (after `$` resolution).
    public var local: SDPBlock?
    public var remoteBlock: SDPBlock?
    public var remote: AGWRemote?
    public var mode: StreamMode?
    public var properties: [PropertyParm] = []
    public var allocated = false
    public var transport: AGWTransport? { localRequest?.transport }
}

public struct AGWTermination: Sendable, Equatable {
    public var id: String
    public var streams: [UInt16: AGWStream] = [:]
    public var eventsRequestID: UInt32?
    public var events: [RequestedEvent] = []
    public var heartbeatPeriod: Duration?
    public var nextHeartbeat: Duration?
}

public struct AGWContext: Sendable, Equatable {
    public var id: UInt32
    /// In order of Add.
    public var terminations: [AGWTermination] = []
    public var attributes: ContextAttributes?
    /// Stream pairs already interconnected (by stream id).
    public var interconnected: Set<UInt16> = []

    func index(of t: String) -> Int? { terminations.firstIndex { $0.id.lowercased() == t.lowercased() } }
}

/// Something the gateway must do besides replying (MGC-ordered ServiceChange, H.248.1 §7.2.8).
public enum AGWGatewayEffect: Sendable, Equatable {
    /// Register again (903 MGC directed change / HandOff), at the given MGC if named.
    case reRegister(mgcIdToTry: MID?)
}

/// The first step of a transaction: what the media plane must do before the reply can be built.
public struct AGWExecution: Sendable {
    public var transactionID: UInt32
    /// Streams whose old resources go first (a Modify asking Local `$` again).
    public var releases: [AGWMediaKey] = []
    /// Resources to allocate; their results go to `complete`.
    public var allocations: [AGWAllocation] = []
    public var effects: [AGWGatewayEffect] = []
    var actions: [ActionReply] = []
    var substitutions: [Substitution] = []
    var operations: [AGWMediaOperation] = []
    var touched: Set<UInt32> = []

    struct Substitution: Sendable {
        var action: Int
        var reply: Int
        var key: AGWMediaKey
        var newTermination: Bool
    }
}

/// The second step: the reply and the media work that follows it.
public struct AGWOutcome: Sendable {
    public var reply: TransactionReply
    public var operations: [AGWMediaOperation]
}

public struct AGWGateway: Sendable {
    public let configuration: AGWConfiguration
    public private(set) var contexts: [UInt32: AGWContext] = [:]
    private var nextContextID: UInt32 = 1
    private var nextTerminationNumber: UInt64 = 1
    /// H.248.14 inactivity timer on ROOT: request id and period.
    public private(set) var inactivity: (requestID: UInt32, period: Duration)?
    private var lastMGCMessage: Duration = .zero

    public init(configuration: AGWConfiguration = .init()) {
        self.configuration = configuration
    }

    public var terminationCount: Int { contexts.values.reduce(0) { $0 + $1.terminations.count } }

    // MARK: Step 1

    public mutating func execute(_ request: TransactionRequest, now: Duration) -> AGWExecution {
        lastMGCMessage = now
        var e = AGWExecution(transactionID: request.id)
        actionLoop: for (ai, action) in request.actions.enumerated() {
            if action.contextID == .all {
                let (replies, failed) = auditAllContexts(action)
                e.actions.append(contentsOf: replies)
                if failed { break actionLoop }
                continue
            }
            var contextID: UInt32?
            switch action.contextID {
            case .id(let c):
                guard contexts[c] != nil else {
                    e.actions.append(ActionReply(contextID: action.contextID, replies: [],
                                                 error: AGWError(.unknownContext, "Context \(c) is unknown").descriptor))
                    break actionLoop
                }
                contextID = c
                if let a = action.attributes, !a.isEmpty { contexts[c]?.attributes = a }
            case .null, .choose, .all:
                break
            }
            var replies: [CommandReply] = []
            var stop = false
            for command in action.commands {
                do throws(AGWError) {
                    let r = try self.command(command, context: action.contextID, contextID: &contextID, attributes: action.attributes,
                                             action: ai, replyIndex: replies.count, now: now, into: &e)
                    replies.append(contentsOf: r)
                } catch {
                    replies.append(CommandReply(command.verb, command.terminationID, [.error(error.descriptor)]))
                    if !command.optional {
                        stop = true
                        break
                    }
                }
            }
            let replyContext: ContextID = contextID.map { .id($0) } ?? (action.contextID == .choose ? .null : action.contextID)
            e.actions.append(ActionReply(contextID: replyContext, replies: replies))
            if let c = contextID { e.touched.insert(c) }
            if stop { break }
        }
        return e
    }

    // MARK: Step 2

    public mutating func complete(_ e: AGWExecution, results: [AGWMediaKey: Result<AGWLocalResource, AGWMediaFailure>]) -> AGWOutcome {
        var actions = e.actions
        var failedKeys: Set<AGWMediaKey> = []
        var post: [AGWMediaOperation] = []
        for s in e.substitutions {
            let key = s.key
            guard let ti = contexts[key.context]?.index(of: key.termination),
                  var stream = contexts[key.context]?.terminations[ti].streams[key.stream],
                  let asked = stream.localRequest else { continue }
            switch results[key] ?? .failure(AGWMediaFailure(AGWError(.insufficientResources, "no media resource for \(key)"))) {
            case .success(let resource):
                let resolved = AGWSDP.resolve(asked.block, with: resource)
                stream.local = resolved
                stream.allocated = true
                contexts[key.context]?.terminations[ti].streams[key.stream] = stream
                setLocal(resolved, in: &actions, s)
            case .failure(let f):
                failedKeys.insert(key)
                guard actions.indices.contains(s.action), actions[s.action].replies.indices.contains(s.reply) else { continue }
                actions[s.action].replies[s.reply].descriptors = [.error(f.error.descriptor)]
                if s.newTermination {
                    // Nothing of a failed Add stays (H.248.1 §7.2.1): the termination's other streams go too.
                    if let t = contexts[key.context]?.terminations[ti] {
                        for (sid, st) in t.streams where st.allocated { post.append(.release(AGWMediaKey(context: key.context, termination: t.id, stream: sid))) }
                    }
                    contexts[key.context]?.terminations.remove(at: ti)
                    if contexts[key.context]?.terminations.isEmpty == true { contexts[key.context] = nil }
                } else {
                    contexts[key.context]?.terminations[ti].streams[key.stream] = nil
                }
            }
        }
        // Interconnect the two terminations of a context that carry the same stream (H.248.1 §7.1.7).
        var links: [AGWMediaOperation] = []
        for c in e.touched.sorted() {
            guard var ctx = contexts[c] else { continue }
            var byStream: [UInt16: [AGWMediaKey]] = [:]
            var setups: [AGWMediaKey: AGWSetup?] = [:]
            for t in ctx.terminations {
                for (sid, st) in t.streams where st.allocated {
                    let k = AGWMediaKey(context: c, termination: t.id, stream: sid)
                    byStream[sid, default: []].append(k)
                    setups[k] = st.localRequest?.setup
                }
            }
            for (sid, keys) in byStream.sorted(by: { $0.key < $1.key }) where keys.count == 2 && !ctx.interconnected.contains(sid) {
                let merge = setups[keys[0]] == .passive && setups[keys[1]] == .passive
                links.append(.interconnect(keys[0], keys[1], mode: merge ? .merge : .proxy))
                ctx.interconnected.insert(sid)
            }
            contexts[c] = ctx
        }
        let ops = links + e.operations.filter { op in
            switch op {
            case .configure(let k, _, _, _, _, _), .release(let k): return !failedKeys.contains(k)
            case .interconnect: return true
            }
        } + post
        let hasError = actions.contains { $0.error != nil }
        _ = hasError
        return AGWOutcome(reply: TransactionReply(id: e.transactionID, result: .actions(actions)), operations: ops)
    }

    private func setLocal(_ block: SDPBlock, in actions: inout [ActionReply], _ s: AGWExecution.Substitution) {
        guard actions.indices.contains(s.action), actions[s.action].replies.indices.contains(s.reply) else { return }
        var r = actions[s.action].replies[s.reply]
        var media = MediaDescriptor()
        var others: [Descriptor] = []
        for d in r.descriptors {
            if case .media(let m) = d { media = m } else { others.append(d) }
        }
        if let i = media.streams.firstIndex(where: { $0.id == s.key.stream }) {
            media.streams[i].local = block
        } else {
            media.streams.append(StreamDescriptor(id: s.key.stream, local: block))
            media.streams.sort { ($0.id ?? 0) < ($1.id ?? 0) }
        }
        r.descriptors = [.media(media)] + others
        actions[s.action].replies[s.reply] = r
    }

    // MARK: Commands

    private mutating func command(_ cmd: CommandRequest, context: ContextID, contextID: inout UInt32?, attributes: ContextAttributes?,
                                  action: Int, replyIndex: Int, now: Duration, into e: inout AGWExecution) throws(AGWError) -> [CommandReply] {
        switch cmd.verb {
        case .add:
            return [try add(cmd, context: context, contextID: &contextID, attributes: attributes, action: action, replyIndex: replyIndex, now: now, into: &e)]
        case .modify:
            return try modify(cmd, context: context, contextID: contextID, action: action, replyIndex: replyIndex, now: now, into: &e)
        case .subtract:
            return try subtract(cmd, context: context, contextID: contextID, into: &e)
        case .auditValue, .auditCapabilities:
            return try audit(cmd, context: context, contextID: contextID)
        case .serviceChange:
            return [try serviceChange(cmd, context: context, into: &e)]
        case .move:
            throw AGWError(.notImplemented, "Move is not implemented")
        case .notify:
            throw AGWError(.unknownCommand, "Notify is sent by the MG, not to it")
        }
    }

    private mutating func add(_ cmd: CommandRequest, context: ContextID, contextID: inout UInt32?, attributes: ContextAttributes?,
                              action: Int, replyIndex: Int, now: Duration, into e: inout AGWExecution) throws(AGWError) -> CommandReply {
        switch context {
        case .null, .all: throw AGWError(.illegalAction, "Add needs a context ($ or an existing one)")
        case .choose, .id: break
        }
        let tid = cmd.terminationID
        if tid.isRoot { throw AGWError(.commandNotAllowedOnTermination, "Add of ROOT") }
        if tid.isWildcarded && !tid.isChoose { throw AGWError(.illegalAction, "Add with a wildcard TerminationID \(tid.text)") }
        if !tid.isChoose, locate(tid.text) != nil { throw AGWError(.terminationAlreadyInContext, "\(tid.text) is already in a context") }
        let update = try parseUpdate(cmd.descriptors, verb: .add)
        if let c = contextID, let ctx = contexts[c], ctx.terminations.count >= configuration.maximumTerminationsPerContext {
            throw AGWError(.tooManyTerminationsInContext, "context \(c) has \(ctx.terminations.count) terminations")
        }
        let c: UInt32
        if let existing = contextID {
            c = existing
        } else {
            guard contexts.count < configuration.maximumContexts, let fresh = freshContextID() else {
                throw AGWError(.noContextIDsAvailable, "\(contexts.count) contexts in use")
            }
            c = fresh
            contexts[c] = AGWContext(id: c, attributes: attributes.flatMap { $0.isEmpty ? nil : $0 })
            contextID = c
        }
        let name = tid.isChoose ? freshTerminationName() : tid.text
        contexts[c]?.terminations.append(AGWTermination(id: name))
        apply(update, context: c, termination: name, newTermination: true, action: action, replyIndex: replyIndex, now: now, into: &e)
        return CommandReply(.add, TerminationID(name))
    }

    private mutating func modify(_ cmd: CommandRequest, context: ContextID, contextID: UInt32?,
                                 action: Int, replyIndex: Int, now: Duration, into e: inout AGWExecution) throws(AGWError) -> [CommandReply] {
        if cmd.terminationID.isRoot {
            try modifyRoot(cmd)
            return [CommandReply(.modify, .root)]
        }
        let update = try parseUpdate(cmd.descriptors, verb: .modify)
        let (c, names) = try targets(cmd.terminationID, context: context, contextID: contextID)
        var replies: [CommandReply] = []
        for name in names {
            apply(update, context: c, termination: name, newTermination: false, action: action, replyIndex: replyIndex + replies.count, now: now, into: &e)
            replies.append(CommandReply(.modify, TerminationID(name)))
        }
        return replies
    }

    private mutating func subtract(_ cmd: CommandRequest, context: ContextID, contextID: UInt32?, into e: inout AGWExecution) throws(AGWError) -> [CommandReply] {
        if cmd.terminationID.isRoot { throw AGWError(.commandNotAllowedOnTermination, "Subtract of ROOT") }
        for d in cmd.descriptors {
            if case .audit = d { continue }
            throw AGWError(.descriptorNotLegal, "Subtract carries only an Audit descriptor")
        }
        let (c, names) = try targets(cmd.terminationID, context: context, contextID: contextID)
        var replies: [CommandReply] = []
        for name in names {
            guard let ti = contexts[c]?.index(of: name), let t = contexts[c]?.terminations[ti] else { continue }
            for sid in t.streams.keys.sorted() where t.streams[sid]?.allocated == true {
                e.operations.append(.release(AGWMediaKey(context: c, termination: t.id, stream: sid)))
                contexts[c]?.interconnected.remove(sid)
            }
            contexts[c]?.terminations.remove(at: ti)
            replies.append(CommandReply(.subtract, TerminationID(t.id)))
        }
        // A context with no termination left ceases to exist (H.248.1 §6.1).
        if contexts[c]?.terminations.isEmpty == true { contexts[c] = nil }
        return replies
    }

    /// The context and terminations a Modify/Subtract/Audit names: 411/421 on the context, 430
    /// (unknown), 435 (in another context) or 431 (wildcard matched nothing) on the termination.
    private func targets(_ tid: TerminationID, context: ContextID, contextID: UInt32?) throws(AGWError) -> (UInt32, [String]) {
        guard let c = contextID, let ctx = contexts[c] else {
            if context == .null, !tid.isWildcarded {
                if locate(tid.text) != nil { throw AGWError(.terminationNotInContext, "\(tid.text) is not in the null context") }
                throw AGWError(.unknownTermination, "\(tid.text) is unknown")
            }
            throw AGWError(.illegalAction, "no context for \(tid.text)")
        }
        if tid.isAll {
            guard !ctx.terminations.isEmpty else { throw AGWError(.noTerminationMatchedWildcard, "*") }
            return (c, ctx.terminations.map(\.id))
        }
        if tid.isWildcarded {
            let prefix = String(tid.text.prefix { $0 != "*" && $0 != "$" }).lowercased()
            let names = ctx.terminations.map(\.id).filter { $0.lowercased().hasPrefix(prefix) }
            guard !names.isEmpty else { throw AGWError(.noTerminationMatchedWildcard, tid.text) }
            return (c, names)
        }
        guard let i = ctx.index(of: tid.text) else {
            if locate(tid.text) != nil { throw AGWError(.terminationNotInContext, "\(tid.text) is not in context \(c)") }
            throw AGWError(.unknownTermination, "\(tid.text) is unknown")
        }
        return (c, [ctx.terminations[i].id])
    }

    private func locate(_ name: String) -> (UInt32, Int)? {
        for (c, ctx) in contexts { if let i = ctx.index(of: name) { return (c, i) } }
        return nil
    }

    private mutating func freshContextID() -> UInt32? {
        // 0 is the null context; 0xFFFFFFFE / 0xFFFFFFFF are CHOOSE / ALL in the binary encoding (H.248.1 Annex A).
        for _ in 0..<(configuration.maximumContexts + 1) {
            let id = nextContextID
            nextContextID = nextContextID >= 0xFFFF_FFFD ? 1 : nextContextID + 1
            if contexts[id] == nil { return id }
        }
        return nil
    }

    private mutating func freshTerminationName() -> String {
        while true {
            let name = "\(configuration.terminationPrefix)/\(nextTerminationNumber)"
            nextTerminationNumber = nextTerminationNumber == UInt64.max ? 1 : nextTerminationNumber + 1
            if locate(name) == nil { return name }
        }
    }

    // MARK: Descriptors

    struct StreamUpdate {
        var id: UInt16
        var mode: StreamMode?
        var properties: [PropertyParm]
        var local: AGWLocalRequest?
        var remote: (AGWRemote, String, SDPBlock)?
    }

    struct Update {
        var streams: [StreamUpdate] = []
        var events: EventsDescriptor?
        var heartbeatSeconds: UInt32?
        var tlsClient: UInt16?? = nil
        var tcpConnect: UInt16?? = nil
    }

    private func parseUpdate(_ descriptors: [Descriptor], verb: CommandVerb) throws(AGWError) -> Update {
        var u = Update()
        var seenMedia = false, seenEvents = false, seenSignals = false
        for d in descriptors {
            switch d {
            case .media(let m):
                if seenMedia { throw AGWError(.descriptorNotLegal, "Media appears twice") }
                seenMedia = true
                if let ts = m.terminationState, let p = ts.properties.first { throw configuration.unknownItem(p.name, .noSuchProperty) }
                guard m.streams.count <= AGWLimits.maximumStreamsPerTermination else {
                    throw AGWError(.insufficientResources, "\(m.streams.count) streams (bound \(AGWLimits.maximumStreamsPerTermination))")
                }
                for s in m.streams { u.streams.append(try parseStream(s)) }
                if Set(u.streams.map(\.id)).count != u.streams.count { throw AGWError(.syntaxErrorInAction, "a stream appears twice") }
            case .events(let ev):
                if seenEvents { throw AGWError(.descriptorNotLegal, "Events appears twice") }
                seenEvents = true
                guard ev.events.count <= AGWLimits.maximumEventsPerTermination else {
                    throw AGWError(.insufficientResources, "\(ev.events.count) events (bound \(AGWLimits.maximumEventsPerTermination))")
                }
                u.heartbeatSeconds = try checkEvents(ev)
                u.events = ev
            case .signals(let sg):
                if seenSignals { throw AGWError(.descriptorNotLegal, "Signals appears twice") }
                seenSignals = true
                var signals: [Signal] = []
                for item in sg.items {
                    switch item {
                    case .signal(let s): signals.append(s)
                    case .list(_, let l): signals.append(contentsOf: l)
                    }
                }
                for s in signals {
                    let n = s.name.lowercased()
                    if n == configuration.tokens.tlsEstablishSignal.lowercased() {
                        u.tlsClient = .some(s.streamID)
                    } else if n == configuration.tokens.tcpEstablishSignal.lowercased() {
                        u.tcpConnect = .some(s.streamID)
                    } else {
                        throw configuration.unknownItem(s.name, .noSuchSignal)
                    }
                    if let p = s.parameters.first { throw AGWError(.unknownParameter, "\(s.name) \(p.name)") }
                }
            case .audit:
                continue
            default:
                throw AGWError(.descriptorNotLegal, "descriptor not legal in \(verb.rawValue)")
            }
        }
        return u
    }

    private func parseStream(_ s: StreamDescriptor) throws(AGWError) -> StreamUpdate {
        var u = StreamUpdate(id: s.id ?? 1, properties: [])
        if let lc = s.localControl {
            if lc.mode == .loopback { throw AGWError.value("Mode=Loopback") }
            u.mode = lc.mode
            for p in lc.properties {
                let n = p.name.lowercased()
                let t = configuration.tokens
                guard p.relation == .equal, case .single(let v) = p.value else { throw AGWError.value("\(p.name) value") }
                if n == t.latchProperty.lowercased() || n == t.interlinkageProperty.lowercased() {
                    guard ["on", "off"].contains(v.string.lowercased()) else { throw AGWError.value("\(p.name)=\(v.string)") }
                } else if n != t.realmProperty.lowercased() {
                    throw configuration.unknownItem(p.name, .noSuchProperty)
                }
                u.properties.append(p)
            }
        }
        if let l = s.local { u.local = try AGWSDP.local(l, fingerprintHash: configuration.fingerprintHash) }
        if let r = s.remote {
            let (remote, proto) = try AGWSDP.remote(r)
            u.remote = (remote, proto, r)
            if let l = u.local, AGWTransport.of(proto: proto) != l.transport {
                throw AGWError.value("Remote m= proto \(proto) against Local \(l.proto)")
            }
        }
        if s.statistics != nil { throw AGWError(.descriptorNotLegal, "Statistics in a request") }
        return u
    }

    /// Checks requested events; returns the heartbeat period asked for (seconds), if any.
    private func checkEvents(_ ev: EventsDescriptor) throws(AGWError) -> UInt32? {
        let t = configuration.tokens
        var heartbeat: UInt32?
        for r in ev.events {
            let n = r.name.lowercased()
            if n == t.heartbeatEvent.lowercased() {
                heartbeat = configuration.defaultHeartbeatSeconds
                for p in r.parameters {
                    guard p.name.lowercased() == t.heartbeatTimerParameter.lowercased() else { throw AGWError(.unknownParameter, "\(r.name) \(p.name)") }
                    guard case .single(let v) = p.value, let s = UInt32(v.string) else { throw AGWError.value("\(r.name){\(p.name)}") }
                    heartbeat = s
                }
            } else if [t.tcpEstablishFailureEvent, t.tlsEstablishFailureEvent, configuration.bearerReleasedEvent].contains(where: { $0.lowercased() == n }) {
                if let p = r.parameters.first { throw AGWError(.unknownParameter, "\(r.name) \(p.name)") }
            } else {
                throw configuration.unknownItem(r.name, .noSuchEvent)
            }
        }
        return heartbeat
    }

    private mutating func modifyRoot(_ cmd: CommandRequest) throws(AGWError) {
        for d in cmd.descriptors {
            guard case .events(let ev) = d else {
                if case .audit = d { continue }
                throw AGWError(.commandNotAllowedOnTermination, "only Events may be modified on ROOT")
            }
            var period: Duration?
            for r in ev.events {
                guard r.name.lowercased() == configuration.tokens.inactivityEvent.lowercased() else {
                    throw configuration.unknownItem(r.name, .noSuchEvent)
                }
                for p in r.parameters {
                    guard p.name.lowercased() == configuration.tokens.inactivityTimerParameter.lowercased() else { throw AGWError(.unknownParameter, "\(r.name) \(p.name)") }
                    // H.248.14 `mit`: 10 ms units.
                    guard case .single(let v) = p.value, let units = UInt32(v.string), units > 0 else { throw AGWError.value("\(r.name){\(p.name)}") }
                    period = .milliseconds(Int64(units) * 10)
                }
                if period == nil { throw AGWError(.unknownParameter, "\(r.name) needs \(configuration.tokens.inactivityTimerParameter)") }
            }
            if let period, let rid = ev.requestID { inactivity = (rid, period) } else { inactivity = nil }
        }
    }

    private mutating func apply(_ u: Update, context c: UInt32, termination name: String, newTermination: Bool,
                                action: Int, replyIndex: Int, now: Duration, into e: inout AGWExecution) {
        guard let ti = contexts[c]?.index(of: name), var t = contexts[c]?.terminations[ti] else { return }
        var configure: [UInt16: (remote: Bool, tls: Bool, connect: Bool, mode: Bool)] = [:]
        for su in u.streams {
            let key = AGWMediaKey(context: c, termination: t.id, stream: su.id)
            var st = t.streams[su.id] ?? AGWStream(id: su.id)
            if let l = su.local {
                if st.allocated {
                    e.releases.append(key)
                    st.allocated = false
                    contexts[c]?.interconnected.remove(su.id)
                }
                st.localRequest = l
                e.allocations.append(AGWAllocation(key: key, transport: l.transport, proto: l.proto, media: l.media, setup: l.setup,
                                                   wantsFingerprint: l.wantsFingerprint, requestedAddress: l.address,
                                                   requestedPort: l.port, ipv6: l.ipv6))
                e.substitutions.append(.init(action: action, reply: replyIndex, key: key, newTermination: newTermination))
            }
            if let (remote, _, block) = su.remote {
                st.remote = remote
                st.remoteBlock = block
                configure[su.id, default: (false, false, false, false)].remote = true
            }
            if let m = su.mode {
                st.mode = m
                configure[su.id, default: (false, false, false, false)].mode = true
            }
            if !su.properties.isEmpty {
                for p in su.properties {
                    st.properties.removeAll { $0.name.lowercased() == p.name.lowercased() }
                    st.properties.append(p)
                }
            }
            t.streams[su.id] = st
        }
        if case .some(let sid) = u.tlsClient {
            for (id, st) in t.streams where (sid == nil || sid == id) && st.transport == .tls {
                configure[id, default: (false, false, false, false)].tls = true
            }
        }
        if case .some(let sid) = u.tcpConnect {
            for (id, st) in t.streams where (sid == nil || sid == id) && (st.transport == .tcp || st.transport == .tls) {
                configure[id, default: (false, false, false, false)].connect = true
            }
        }
        if let ev = u.events {
            t.eventsRequestID = ev.requestID
            t.events = ev.events
            let seconds = u.heartbeatSeconds.map { configuration.heartbeatOverrideSeconds ?? $0 }
            if let s = seconds, s > 0 {
                t.heartbeatPeriod = .seconds(Int64(s))
                t.nextHeartbeat = now + .seconds(Int64(s))
            } else {
                t.heartbeatPeriod = nil
                t.nextHeartbeat = nil
            }
        }
        for (id, what) in configure.sorted(by: { $0.key < $1.key }) {
            guard let st = t.streams[id] else { continue }
            e.operations.append(.configure(AGWMediaKey(context: c, termination: t.id, stream: id), remote: st.remote,
                                           localSetup: st.localRequest?.setup, establishTLSAsClient: what.tls,
                                           connect: what.connect, mode: st.mode))
        }
        contexts[c]?.terminations[ti] = t
    }

    // MARK: Audit (H.248.1 §7.2.5, §7.2.6)

    private func audit(_ cmd: CommandRequest, context: ContextID, contextID: UInt32?) throws(AGWError) -> [CommandReply] {
        var items: [AuditItem] = []
        for d in cmd.descriptors {
            guard case .audit(let a) = d else { throw AGWError(.descriptorNotLegal, "\(cmd.verb.rawValue) carries only an Audit descriptor") }
            items.append(contentsOf: a.items)
        }
        if cmd.terminationID.isRoot {
            return [CommandReply(cmd.verb, .root, try rootAudit(items, capabilities: cmd.verb == .auditCapabilities))]
        }
        let (c, names) = try targets(cmd.terminationID, context: context, contextID: contextID)
        var replies: [CommandReply] = []
        for name in names {
            guard let ctx = contexts[c], let i = ctx.index(of: name) else { continue }
            replies.append(CommandReply(cmd.verb, TerminationID(name), try terminationAudit(ctx.terminations[i], items, capabilities: cmd.verb == .auditCapabilities)))
        }
        return replies
    }

    private func rootAudit(_ items: [AuditItem], capabilities: Bool) throws(AGWError) -> [Descriptor] {
        var out: [Descriptor] = []
        for item in items {
            switch item {
            case .packages, .packagesOf: out.append(.packages(configuration.packages))
            case .events:
                if let (rid, period) = inactivity {
                    let units = period.components.seconds * 100 + period.components.attoseconds / 10_000_000_000_000_000
                    out.append(.events(EventsDescriptor(requestID: rid, events: [configuration.tokens.inactivityEvent(maxInactivityTenMs: UInt32(clamping: units))])))
                }
            case .media, .signals, .statistics, .observedEvents, .eventBuffer, .digitMap, .modem, .mux, .statisticsOf:
                continue
            case .item(let name):
                switch name.lowercased() {
                case "root/maxnumberofcontexts":
                    out.append(.media(MediaDescriptor(terminationState: TerminationStateDescriptor(properties: [PropertyParm(name, String(configuration.maximumContexts))]))))
                case "root/maxterminationspercontext":
                    out.append(.media(MediaDescriptor(terminationState: TerminationStateDescriptor(properties: [PropertyParm(name, String(configuration.maximumTerminationsPerContext))]))))
                default:
                    throw configuration.unknownItem(name, .noSuchProperty)
                }
            }
        }
        if capabilities && items.isEmpty { out.append(.packages(configuration.packages)) }
        return out
    }

    private func terminationAudit(_ t: AGWTermination, _ items: [AuditItem], capabilities: Bool) throws(AGWError) -> [Descriptor] {
        var out: [Descriptor] = []
        for item in items {
            switch item {
            case .media:
                var m = MediaDescriptor()
                for sid in t.streams.keys.sorted() {
                    guard let st = t.streams[sid] else { continue }
                    m.streams.append(StreamDescriptor(id: sid, localControl: LocalControlDescriptor(mode: st.mode, properties: st.properties),
                                                      local: st.local, remote: st.remoteBlock))
                }
                out.append(.media(m))
            case .events:
                if let rid = t.eventsRequestID { out.append(.events(EventsDescriptor(requestID: rid, events: t.events))) }
            case .packages, .packagesOf:
                out.append(.packages(configuration.packages))
            case .signals, .statistics, .observedEvents, .eventBuffer, .digitMap, .modem, .mux, .statisticsOf:
                continue
            case .item(let name):
                throw configuration.unknownItem(name, .noSuchProperty)
            }
        }
        if capabilities && items.isEmpty { out.append(.packages(configuration.packages)) }
        return out
    }

    /// `Context = * { AuditValue = * }`: every context with its terminations; 431 when there is none.
    private func auditAllContexts(_ action: ActionRequest) -> ([ActionReply], failed: Bool) {
        var out: [ActionReply] = []
        for cmd in action.commands {
            guard cmd.verb == .auditValue || cmd.verb == .auditCapabilities else {
                return ([ActionReply(contextID: .all, replies: [CommandReply(cmd.verb, cmd.terminationID,
                        [.error(AGWError(.illegalAction, "Context * allows only audits").descriptor)])])], true)
            }
            guard !contexts.isEmpty else {
                return ([ActionReply(contextID: .all, replies: [CommandReply(cmd.verb, cmd.terminationID,
                        [.error(AGWError(.noTerminationMatchedWildcard, "no context").descriptor)])])], true)
            }
            for c in contexts.keys.sorted() {
                do throws(AGWError) {
                    out.append(ActionReply(contextID: .id(c), replies: try audit(cmd, context: .id(c), contextID: c)))
                } catch {
                    out.append(ActionReply(contextID: .id(c), replies: [CommandReply(cmd.verb, cmd.terminationID, [.error(error.descriptor)])]))
                }
            }
        }
        return (out, false)
    }

    // MARK: ServiceChange from the MGC (H.248.1 §7.2.8)

    private func serviceChange(_ cmd: CommandRequest, context: ContextID, into e: inout AGWExecution) throws(AGWError) -> CommandReply {
        guard cmd.terminationID.isRoot, context == .null else { throw AGWError(.notImplemented, "ServiceChange from the MGC on \(cmd.terminationID.text)") }
        var params = ServiceChangeParameters()
        for case .services(let p) in cmd.descriptors { params = p }
        switch params.method {
        case .handOff, .restart, .failover:
            e.effects.append(.reRegister(mgcIdToTry: params.mgcIdToTry))
        case .forced, .graceful, .disconnected, .other, nil:
            break
        }
        return CommandReply(.serviceChange, .root)
    }

    // MARK: Events → Notify (H.248.1 §7.2.7)

    /// The Notify for a media-plane event, when the MGC asked for it on that termination.
    public mutating func mediaEvent(_ event: AGWMediaEvent, timestamp: TimeStamp?) -> ActionRequest? {
        let k = event.key
        guard let ctx = contexts[k.context], let i = ctx.index(of: k.termination) else { return nil }
        let t = ctx.terminations[i]
        let name: PackageItemName
        switch event.kind {
        case .connected: return nil
        case .tlsFailed: name = configuration.tokens.tlsEstablishFailureEvent
        case .tcpFailed: name = configuration.tokens.tcpEstablishFailureEvent
        case .bearerReleased: name = configuration.bearerReleasedEvent
        }
        guard let rid = t.eventsRequestID, t.events.contains(where: { $0.name.lowercased() == name.lowercased() }) else { return nil }
        return notify(context: k.context, termination: t.id, requestID: rid, event: ObservedEvent(name, timestamp: timestamp, streamID: nil))
    }

    private func notify(context: ContextID, termination: String, requestID: UInt32, event: ObservedEvent) -> ActionRequest {
        ActionRequest(contextID: context, commands: [CommandRequest(.notify, TerminationID(termination), [
            .observedEvents(ObservedEventsDescriptor(requestID: requestID, events: [event]))])])
    }

    private func notify(context: UInt32, termination: String, requestID: UInt32, event: ObservedEvent) -> ActionRequest {
        notify(context: .id(context), termination: termination, requestID: requestID, event: event)
    }

    /// The earliest heartbeat or inactivity deadline.
    public var nextDeadline: Duration? {
        var d: Duration? = inactivity.map { lastMGCMessage + $0.period }
        for ctx in contexts.values {
            for t in ctx.terminations {
                if let n = t.nextHeartbeat { d = d.map { min($0, n) } ?? n }
            }
        }
        return d
    }

    /// Any message from the MGC restarts the H.248.14 inactivity timer.
    public mutating func messageFromMGC(now: Duration) { lastMGCMessage = now }

    /// Heartbeat Notifies due (H.248.36 `thb`, TS 23.334 "Termination heartbeat indication") and
    /// the ROOT inactivity Notify (H.248.14 `ito`).
    public mutating func timerFired(now: Duration, timestamp: TimeStamp?) -> [ActionRequest] {
        var out: [ActionRequest] = []
        for c in contexts.keys.sorted() {
            guard var ctx = contexts[c] else { continue }
            for i in ctx.terminations.indices {
                guard let due = ctx.terminations[i].nextHeartbeat, let period = ctx.terminations[i].heartbeatPeriod, due <= now,
                      let rid = ctx.terminations[i].eventsRequestID else { continue }
                out.append(notify(context: c, termination: ctx.terminations[i].id, requestID: rid,
                                  event: ObservedEvent(configuration.tokens.heartbeatEvent, timestamp: timestamp)))
                var next = due + period
                if next <= now { next = now + period }
                ctx.terminations[i].nextHeartbeat = next
            }
            contexts[c] = ctx
        }
        if let (rid, period) = inactivity, now - lastMGCMessage >= period {
            out.append(notify(context: .null, termination: "ROOT", requestID: rid, event: ObservedEvent(configuration.tokens.inactivityEvent, timestamp: timestamp)))
            lastMGCMessage = now
        }
        return out
    }

    /// Drops every context (cold restart, or the MGC lost): the streams to release.
    public mutating func reset() -> [AGWMediaKey] {
        var keys: [AGWMediaKey] = []
        for (c, ctx) in contexts {
            for t in ctx.terminations { for (sid, st) in t.streams where st.allocated { keys.append(AGWMediaKey(context: c, termination: t.id, stream: sid)) } }
        }
        contexts = [:]
        inactivity = nil
        return keys.sorted()
    }
}
