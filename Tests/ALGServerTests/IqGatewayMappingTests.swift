// SDPRewrite's GatewayRequest → Iq procedure requests (TS 23.334 §8; TS 29.334 §5; specs.md §10.3;
// iq-tokens.md). Parameterised over every `expected-request.json` of Fixtures/sdp/rewrite (the
// requests the rewrite layer really produces for specs.md §9 and the extra cases): each maps to
// one H.248 action that our codec encodes and parses back unchanged, with the per-termination
// content checked against the request.
import ALGTestSupport
import Foundation
import Testing
import H248Client
import H248Codec
import SDPCore
import SDPRewrite
@testable import ALGServer

enum MappingFixtures {
    static let cases: [String] = {
        let dir = TestRepository.url("Fixtures/sdp/rewrite")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: dir.appendingPathComponent("\($0)/expected-request.json").path) }.sorted()
    }()

    static func request(_ name: String) throws -> GatewayRequest {
        let data = try Data(contentsOf: TestRepository.url("Fixtures/sdp/rewrite/\(name)/expected-request.json"))
        return try JSONDecoder().decode(GatewayRequest.self, from: data)
    }

    /// Termination ids as an earlier Add would have returned them (for configure/release streams).
    static func existing(_ request: GatewayRequest) -> [IqStreamTerminations] {
        request.streams.map { IqStreamTerminations(index: $0.index, access: TerminationID("ip/a\($0.index)"), core: TerminationID("ip/c\($0.index)")) }
    }
}

func media(_ command: CommandRequest) -> StreamDescriptor? {
    for case .media(let m) in command.descriptors { return m.streams.first }
    return nil
}

func events(_ command: CommandRequest) -> EventsDescriptor? {
    for case .events(let e) in command.descriptors { return e }
    return nil
}

func signalNames(_ command: CommandRequest) -> [String] {
    for case .signals(let s) in command.descriptors {
        return s.items.compactMap { if case .signal(let sig) = $0 { return sig.name.description }; return nil }
    }
    return []
}

@Suite("GatewayRequest → Iq requests (TS 23.334 §8, TS 29.334 §5)")
struct IqGatewayMappingTests {
    let mapping = IqGatewayMapping()

    @Test("The rewrite fixtures are present", .enabled(if: true))
    func fixturesPresent() {
        #expect(MappingFixtures.cases.count >= 15)
    }

    @Test("Every GatewayRequest of the rewrite fixtures maps to one H.248 action that encodes and parses back unchanged (pretty and compact)",
          arguments: MappingFixtures.cases)
    func roundTrip(name: String) throws {
        let request = try MappingFixtures.request(name)
        let context: ContextID = request.streams.contains { $0.action == .reserve } && !request.streams.contains { $0.action != .reserve }
            ? .choose : .id(7)
        let action = try mapping.action(for: request, context: context, existing: MappingFixtures.existing(request))
        #expect(action.contextID == context)
        for form in H248TextForm.allCases {
            let message = H248Message(version: 3, mid: .address("192.0.2.5", port: 2944), body: .transactions([
                .request(TransactionRequest(id: 1, actions: [action]))]))
            let text = H248TextEncoder(form: form).encodeBytes(message)
            let parsed = try H248TextParser().parse(bytes: text)
            #expect(parsed == message, "\(form) round trip of \(name):\n\(String(decoding: text, as: UTF8.self))")
        }
    }

    @Test("Per stream: reserve → Add per side, configure/replace → Modify per side, release → Subtract of the known terminations",
          arguments: MappingFixtures.cases)
    func verbsPerStream(name: String) throws {
        let request = try MappingFixtures.request(name)
        let action = try mapping.action(for: request, context: .id(7), existing: MappingFixtures.existing(request))
        var expected: [CommandVerb] = []
        for s in request.streams {
            let sides = [s.access, s.core].compactMap { $0 }.count
            switch s.action {
            case .reserve: expected += Array(repeating: .add, count: sides)
            case .configure, .replace: expected += Array(repeating: .modify, count: sides)
            case .release: expected += [.subtract, .subtract]
            }
        }
        #expect(action.commands.map(\.verb) == expected)
    }

    @Test("Reserve: Local with $ (H.248.1 §7.1.8), a=setup for the AGW's TCP role, a=fingerprint:$ iff the AGW fingerprint is requested; Remote with the UE's address and fingerprints; realm, latching, interlinkage; heartbeat and failure events; Establish-TLS iff the AGW is TLS client",
          arguments: MappingFixtures.cases)
    func terminationContent(name: String) throws {
        let request = try MappingFixtures.request(name)
        for stream in request.streams where stream.action == .reserve {
            for (side, term) in [(IqTerminationSide.access, stream.access), (.core, stream.core)] {
                guard let term else { continue }
                let r = try mapping.reserve(term, side: side, stream: stream)
                #expect(r.terminationID == .choose)
                #expect(r.streamID == UInt16(stream.index + 1), "H.248 stream id = m-line index + 1")
                let local = try #require(r.local).lines
                #expect(local.contains { $0.hasPrefix("c=IN IP") && $0.hasSuffix(" $") })
                #expect(local.contains("m=\(stream.media) $ \(term.transport.rawValue) *"))
                #expect(local.contains("a=fingerprint:$") == term.requestLocalFingerprint)
                if let tcp = term.tcp { #expect(local.contains("a=setup:\(tcp.setup.rawValue)")) }
                if let bw = term.bandwidthAS { #expect(local.contains("b=AS:\(bw)")) }
                if let remote = term.remote {
                    let lines = try #require(r.remote).lines
                    #expect(lines.contains { $0.hasPrefix("c=IN IP") && $0.hasSuffix(" \(remote.address)") })
                    #expect(lines.contains("m=\(stream.media) \(remote.port) \(term.transport.rawValue) *"))
                    for fp in term.remoteFingerprints ?? [] {
                        #expect(lines.contains("a=fingerprint:\(fp.hash.rawValue) \(fp.hexString)"))
                    }
                } else {
                    #expect(r.remote == nil)
                }
                let props = r.localControlProperties.map { $0.name.description }
                #expect(props.contains(mapping.tokens.realmProperty.description))
                #expect(props.contains(mapping.tokens.latchProperty.description) == (side == .access))
                #expect(props.contains(mapping.tokens.interlinkageProperty.description) == (term.tcp?.synTriggersPeer == true))
                let ev = try #require(r.events).events.map { $0.name.description }
                #expect(ev.contains(mapping.tokens.heartbeatEvent.description), "hanging-termination heartbeat is mandatory")
                #expect(ev.contains(mapping.tokens.tlsEstablishFailureEvent.description) == term.transport.rawValue.contains("TLS"))
                var signals: [String] = []
                for case .signal(let x) in r.signals?.items ?? [] { signals.append(x.name) }
                #expect(signals.contains(mapping.tokens.tlsEstablishSignal.description) == (term.startTLSAsClient == true))
                #expect(signals.contains(mapping.tokens.tcpEstablishSignal.description) == (term.tcp?.connect == true))
                #expect(r.mode == (stream.direction == .inactive ? .inactive : .sendReceive))
            }
        }
    }

    @Test("Configure (spec 9.2: MSRP originating answer): Modify with the final Remote, SendReceive, and Establish-TLS when the AGW is TLS client")
    func configureAnswer() throws {
        let request = try MappingFixtures.request("02-spec-9.2-msrp-originating-answer")
        let stream = try #require(request.streams.first)
        let access = try #require(stream.access)
        #expect(access.startTLSAsClient == true)
        let c = try mapping.configure(access, stream: stream, terminationID: TerminationID("ip/a0"))
        #expect(c.mode == .sendReceive)
        #expect(c.signals?.items.contains(.signal(Signal(mapping.tokens.tlsEstablishSignal))) == true)
        let action = c.action(context: 9)
        #expect(action.contextID == .id(9))
        #expect(action.commands.first?.verb == .modify)
        #expect(signalNames(action.commands[0]) == [mapping.tokens.tlsEstablishSignal.description])
        #expect(media(action.commands[0])?.local == nil, "Configure does not touch Local")
    }

    @Test("Replace (new TCP/TLS connection, specs.md §4.5): Modify asks for Local again, with a new fingerprint")
    func replaceRenewsLocal() throws {
        var request = try MappingFixtures.request("02-spec-9.2-msrp-originating-answer")
        request.streams[0].action = .replace
        let action = try mapping.action(for: request, context: .id(3), existing: MappingFixtures.existing(request))
        let accessModify = try #require(action.commands.first)
        #expect(accessModify.verb == .modify)
        #expect(media(accessModify)?.local?.lines.contains("a=fingerprint:$") == true, "TLS access: AGW fingerprint re-requested")
        let coreModify = try #require(action.commands.dropFirst().first)
        #expect(media(coreModify)?.local?.lines.contains("a=fingerprint:$") == false, "plain TCP core: no fingerprint")
        #expect(media(coreModify)?.remote?.lines.contains("c=IN IP4 203.0.113.5") == true, "the core's new Remote goes with it")
    }

    @Test("Errors: configure without a known termination, an empty request, and an m-line index without a stream id are refused")
    func errors() throws {
        let request = try MappingFixtures.request("02-spec-9.2-msrp-originating-answer")
        #expect(throws: IqMappingError.self) { try mapping.action(for: request, context: .id(3), existing: []) }
        #expect(throws: IqMappingError.self) { try mapping.action(for: GatewayRequest(), context: .choose) }
        #expect(throws: IqMappingError.self) { try IqGatewayMapping.streamID(forIndex: -1) }
        #expect(throws: IqMappingError.self) { try IqGatewayMapping.streamID(forIndex: 65_535) }
        #expect(try IqGatewayMapping.streamID(forIndex: 0) == 1)
    }

    @Test("Reply: the AGW's resolved Local gives the StreamAnswer (address, port, a=rtcp, fingerprint per RFC 8122 §5); an unresolved $ gives nil")
    func answerFromReply() throws {
        let access = SDPBlock(lines: ["v=0", "c=IN IP4 192.0.2.1", "m=message 40001 TCP/TLS/MSRP *", "a=setup:passive",
                                      "a=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:EF"])
        let core = SDPBlock(lines: ["v=0", "c=IN IP4 198.51.100.1", "m=audio 40002 RTP/AVP 0", "a=rtcp:40003"])
        let a = mapping.answer(stream: 2, access: access, core: core)
        #expect(a.index == 2)
        #expect(a.access == LocalEndpoint(address: "192.0.2.1", port: 40001))
        #expect(a.core == LocalEndpoint(address: "198.51.100.1", port: 40002, rtcpPort: 40003))
        #expect(a.fingerprint?.hash == .sha256)
        #expect(IqGatewayMapping.endpoint(SDPBlock(lines: ["v=0", "c=IN IP4 $", "m=message $ TCP *"])) == nil)
        #expect(IqGatewayMapping.fingerprint(SDPBlock(lines: ["a=fingerprint:sha-256 00"])) == nil, "malformed fingerprint ignored")
    }

    @Test("Tokens and realms are configurable (specs.md U3-U5): the mapping uses what it is given")
    func configurableTokens() throws {
        var m = IqGatewayMapping()
        m.tokens.realmProperty = "ipdc/realm2"
        m.accessRealm = "ue-side"
        m.tokens.heartbeatEvent = "hangterm/hb2"
        m.latchAccess = false
        let request = try MappingFixtures.request("01-spec-9.1-msrp-originating-offer")
        let r = try m.reserve(try #require(request.streams[0].access), side: .access, stream: request.streams[0])
        #expect(r.localControlProperties.contains(PropertyParm("ipdc/realm2", quoted: "ue-side")))
        #expect(!r.localControlProperties.contains { $0.name.description == m.tokens.latchProperty.description })
        #expect(r.events?.events.first?.name.description == "hangterm/hb2")
    }
}
