// PCSCFHooks against the ProxyRuntime hook protocol, in process (no sockets): the decisions and the
// splice edits the proxy would send, the binding store, expiry and next-hop failover.
import ALGTestSupport
import Foundation
import IMSALG
import NIOCore
import ProxyRuntime
import SDPRewrite
import SIPCore
import SIPProxy
import SIPTransaction
import SIPTransport
import Testing
@testable import ALGServer

/// A settable clock for the hooks.
final class TestNow: @unchecked Sendable {
    private let lock = NSLock()
    private var value = TransactionInstant(sinceOrigin: .seconds(100))
    var now: TransactionInstant { lock.lock(); defer { lock.unlock() }; return value }
    func advance(_ d: Duration) { lock.lock(); value = value + d; lock.unlock() }
}

enum HookFx {
    static let mwPort = 5070
    static let gmPort = 5060
    static let ueAddress = try! SocketAddress(ipAddress: "127.0.0.1", port: 40123)
    static let ueFlow = ProxyFlow(side: .gm, transport: .tcp, local: try? SocketAddress(ipAddress: "127.0.0.1", port: gmPort),
                                  remote: ueAddress, token: SIPFlowToken(.connection(7)))
    static let otherUEFlow = ProxyFlow(side: .gm, transport: .tcp, local: nil,
                                       remote: try! SocketAddress(ipAddress: "127.0.0.1", port: 40999), token: SIPFlowToken(.connection(9)))
    static let coreFlow = ProxyFlow(side: .mw, transport: .udp, local: nil,
                                    remote: try! SocketAddress(ipAddress: "127.0.0.1", port: 6060),
                                    token: SIPFlowToken(.datagram(listener: 1, remote: try! SocketAddress(ipAddress: "127.0.0.1", port: 6060))))

    static var configuration: PCSCFConfiguration {
        var c = PCSCFConfiguration()
        c.pathURI = "sip:term@127.0.0.1:\(mwPort);lr"
        c.localAliases = ["127.0.0.1:\(gmPort)", "127.0.0.1:\(mwPort)"]
        c.registrarNextHops = ["sip:scscf.test:6060;lr"]
        return c
    }

    static func hooks(_ clock: TestNow, hops: [String] = ["sip:scscf.test:6060;lr", "sip:backup.test:6061;lr"],
                      store: InMemoryRegistrationStore = InMemoryRegistrationStore()) throws -> PCSCFHooks {
        let resolver: @Sendable (String) -> String? = { ["scscf.test": "127.0.0.1", "backup.test": "127.0.0.2"][$0] }
        let nextHops = try PCSCFNextHops(hops, holdDown: .seconds(30), resolver: resolver)
        return PCSCFHooks(pcscf: PCSCF(configuration: configuration, store: store, ids: SequentialIdentifierSource(prefix: "h")),
                          nextHops: nextHops, now: { clock.now })
    }

    static func parse(_ text: String) throws -> SIPMessage {
        try SIPParser.parse(Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8))
    }

    static func register(cseq: Int = 1, expires: Int = 600, extra: String = "") -> String {
        """
        REGISTER sip:ims.test SIP/2.0
        Via: SIP/2.0/TCP 127.0.0.1:40123;branch=z9hG4bK-r\(cseq);received=127.0.0.1;rport=40123
        Max-Forwards: 70
        From: <sip:alice@ims.test>;tag=r1
        To: <sip:alice@ims.test>
        Call-ID: reg-1
        CSeq: \(cseq) REGISTER
        Contact: <sip:alice@127.0.0.1:40123;transport=tcp>
        Expires: \(expires)
        Security-Client: msrp-tls;mediasec, bfcp-tls;mediasec
        Proxy-Require: mediasec
        \(extra)Content-Length: 0


        """
    }

    /// The response as the hook sees it: the proxy's Via already removed (RFC 3261 §16.7 step 3).
    static func registerResponse(_ status: Int, cseq: Int = 1, expires: Int = 600) -> String {
        let reason = status == 200 ? "OK" : status == 401 ? "Unauthorized" : "Service Unavailable"
        var s = """
        SIP/2.0 \(status) \(reason)
        Via: SIP/2.0/TCP 127.0.0.1:40123;branch=z9hG4bK-r\(cseq);received=127.0.0.1;rport=40123
        From: <sip:alice@ims.test>;tag=r1
        To: <sip:alice@ims.test>;tag=s1
        Call-ID: reg-1
        CSeq: \(cseq) REGISTER

        """
        if status == 200 {
            s += """
            Contact: <sip:alice@127.0.0.1:40123;transport=tcp>;expires=\(expires)
            Service-Route: <sip:orig@127.0.0.1:6060;lr>
            P-Associated-URI: <sip:alice@ims.test>, <tel:+15551234>
            P-Charging-Function-Addresses: ccf=192.0.2.10

            """
        }
        if status == 401 { s += "WWW-Authenticate: Digest realm=\"ims.test\", nonce=\"abc\", algorithm=AKAv1-MD5\n" }
        return s + "Content-Length: 0\n\n"
    }

    static func invite(from flowPort: Int = 40123, extra: String = "", toTag: String? = nil, route: String? = nil) -> String {
        """
        INVITE sip:bob@ims.test SIP/2.0
        Via: SIP/2.0/TCP 127.0.0.1:\(flowPort);branch=z9hG4bK-i1;received=127.0.0.1;rport=\(flowPort)
        Max-Forwards: 70
        \(route.map { "Route: \($0)\n" } ?? "")From: <sip:alice@ims.test>;tag=i1
        To: <sip:bob@ims.test>\(toTag.map { ";tag=\($0)" } ?? "")
        Call-ID: inv-1
        CSeq: 1 INVITE
        Contact: <sip:alice@127.0.0.1:\(flowPort);transport=tcp>
        \(extra)Content-Length: 0


        """
    }

    static func text(_ edits: ProxyRequestEdits) -> String { String(decoding: edits.splice.bytes(), as: UTF8.self) }
    static func text(_ splice: SIPSplice) -> String { String(decoding: splice.bytes(), as: UTF8.self) }

    /// REGISTER + 200 through the hooks; returns the 200's splice text.
    @discardableResult
    static func registerUE(_ hooks: PCSCFHooks, id: UInt64 = 1, expires: Int = 600) async throws -> String {
        let reg = try parse(register(expires: expires))
        let ctx = ProxyRequestContext(id: ProxyRequestID(rawValue: id), inbound: ueFlow)
        guard case .forward = await hooks.processRequest(reg, context: ctx) else { Issue.record("REGISTER not forwarded"); return "" }
        let ok = try parse(registerResponse(200, expires: expires))
        let rctx = ProxyResponseContext(requestID: ctx.id, request: reg, requestInbound: ueFlow, responseInbound: coreFlow, status: 200)
        guard case .forward(let splice) = await hooks.processResponse(ok, context: rctx) else { Issue.record("200 not forwarded"); return "" }
        await hooks.requestCompleted(ctx, status: 200)
        return text(splice)
    }
}

@Suite("P-CSCF hooks on the ProxyRuntime protocol (TS 24.229 §5.2)")
struct PCSCFHooksTests {
    @Test("REGISTER from Gm goes to the core next hop with Path, Supported: path, P-Charging-Vector; mediasec stays on Gm (RFC 3327 §5.1, TS 24.229 §5.2.2.1, §7.2A.7)")
    func registerForwarded() async throws {
        let clock = TestNow()
        let hooks = try HookFx.hooks(clock)
        let reg = try HookFx.parse(HookFx.register())
        let decision = await hooks.processRequest(reg, context: ProxyRequestContext(id: ProxyRequestID(rawValue: 1), inbound: HookFx.ueFlow))
        guard case .forward(let edits) = decision else { Issue.record("not forwarded: \(decision)"); return }
        #expect(edits.nextHop == "sip:127.0.0.1:6060;lr")
        #expect(edits.outboundSide == .mw)
        #expect(edits.recordRoute == false)
        let out = HookFx.text(edits)
        #expect(out.contains("Path: <sip:term@127.0.0.1:5070;lr>\r\n"))
        #expect(out.contains("Supported: path\r\n"))
        #expect(out.contains("P-Charging-Vector: icid-value="))
        #expect(!out.contains("mediasec"))
        #expect(await hooks.pendingRegisterCount == 1)
    }

    @Test("401 and 200 carry Security-Server msrp-tls;mediasec, bfcp-tls;mediasec (specs.md U7, TS 33.328 §7.1); 200 stores the binding with its flow and flags")
    func registerResponses() async throws {
        let clock = TestNow()
        let hooks = try HookFx.hooks(clock)
        let reg = try HookFx.parse(HookFx.register())
        let ctx = ProxyRequestContext(id: ProxyRequestID(rawValue: 1), inbound: HookFx.ueFlow)
        _ = await hooks.processRequest(reg, context: ctx)
        let r401 = try HookFx.parse(HookFx.registerResponse(401))
        guard case .forward(let s401) = await hooks.processResponse(r401, context: ProxyResponseContext(
            requestID: ctx.id, request: reg, requestInbound: HookFx.ueFlow, responseInbound: HookFx.coreFlow, status: 401)) else {
            Issue.record("401 not forwarded"); return
        }
        #expect(HookFx.text(s401).contains("Security-Server: msrp-tls;mediasec, bfcp-tls;mediasec\r\n"))
        #expect(HookFx.text(s401).contains("WWW-Authenticate: Digest"))
        #expect(await hooks.bindings().isEmpty)

        let ok = try await HookFx.registerUE(hooks, id: 2)
        #expect(ok.contains("Security-Server: msrp-tls;mediasec, bfcp-tls;mediasec\r\n"))
        #expect(!ok.contains("P-Charging-Function-Addresses"))
        let views = await hooks.bindings()
        try #require(views.count == 1)
        let b = views[0].binding
        #expect(b.contact == "sip:alice@127.0.0.1:40123;transport=tcp")
        #expect(b.identities == ["sip:alice@ims.test", "tel:+15551234"])
        #expect(b.serviceRoute == ["<sip:orig@127.0.0.1:6060;lr>"])
        #expect(b.flow == SIPFlow(transport: "TCP", address: "127.0.0.1", port: 40123, connectionID: "conn#7"))
        #expect(b.mediaSecurity == MediaSecurityFlags(ue: [.msrpTLS, .bfcpTLS], network: [.msrpTLS, .bfcpTLS]))
        #expect(views[0].secondsLeft == 600)
        #expect(views[0].description.contains("mediasec_ue=[bfcp-tls,msrp-tls]"))
    }

    @Test("Originating request from an unregistered flow is answered 403 (TS 24.229 §5.2.6.3.1 [K])")
    func unregisteredRejected() async throws {
        let hooks = try HookFx.hooks(TestNow())
        try await HookFx.registerUE(hooks)
        let inv = try HookFx.parse(HookFx.invite(from: 40999))
        let d = await hooks.processRequest(inv, context: ProxyRequestContext(id: ProxyRequestID(rawValue: 5), inbound: HookFx.otherUEFlow))
        guard case .respond(let reject) = d else { Issue.record("not rejected: \(d)"); return }
        #expect(reject.status == 403)
        #expect(reject.reason == "Forbidden")
    }

    @Test("Originating INVITE: spoofed P-Asserted-Identity removed, P-Preferred-Identity asserted, Service-Route replaces the Route set (RFC 3325 §5/§6, RFC 3608 §6.2)")
    func originatingAsserted() async throws {
        let hooks = try HookFx.hooks(TestNow())
        try await HookFx.registerUE(hooks)
        let inv = try HookFx.parse(HookFx.invite(
            extra: "P-Asserted-Identity: <sip:evil@attacker.test>\nP-Preferred-Identity: <tel:+15551234>\n",
            route: "<sip:127.0.0.1:5060;transport=tcp;lr>"))
        let d = await hooks.processRequest(inv, context: ProxyRequestContext(id: ProxyRequestID(rawValue: 5), inbound: HookFx.ueFlow))
        guard case .forward(let edits) = d else { Issue.record("not forwarded: \(d)"); return }
        let out = HookFx.text(edits)
        #expect(out.contains("P-Asserted-Identity: <tel:+15551234>\r\n"))
        #expect(!out.contains("evil@attacker"))
        #expect(!out.contains("P-Preferred-Identity"))
        #expect(out.contains("Route: <sip:orig@127.0.0.1:6060;lr>\r\n"))
        #expect(!out.contains("Route: <sip:127.0.0.1:5060"))
        #expect(edits.outboundSide == .mw)
    }

    @Test("Originating request without P-Preferred-Identity gets the default identity (TS 24.229 §5.2.6.3.3 [K])")
    func defaultIdentity() async throws {
        let hooks = try HookFx.hooks(TestNow())
        try await HookFx.registerUE(hooks)
        let inv = try HookFx.parse(HookFx.invite())
        guard case .forward(let edits) = await hooks.processRequest(inv, context: ProxyRequestContext(id: ProxyRequestID(rawValue: 5), inbound: HookFx.ueFlow)) else {
            Issue.record("not forwarded"); return
        }
        #expect(HookFx.text(edits).contains("P-Asserted-Identity: <sip:alice@ims.test>\r\n"))
    }

    @Test("Terminating INVITE with our Path goes to the registered contact over the UE's flow (RFC 3327 §5.3, TS 24.229 §5.2.6.4)")
    func terminatingOverFlow() async throws {
        let hooks = try HookFx.hooks(TestNow())
        try await HookFx.registerUE(hooks)
        let mt = try HookFx.parse("""
        INVITE sip:alice@ims.test SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:6060;branch=z9hG4bK-mt1
        Route: <sip:term@127.0.0.1:5070;lr>
        Max-Forwards: 70
        From: <sip:bob@ims.test>;tag=b1
        To: <sip:alice@ims.test>
        Call-ID: mt-1
        CSeq: 1 INVITE
        P-Asserted-Identity: <sip:bob@ims.test>
        P-Charging-Vector: icid-value=core-1
        Content-Length: 0


        """)
        let d = await hooks.processRequest(mt, context: ProxyRequestContext(id: ProxyRequestID(rawValue: 6), inbound: HookFx.coreFlow))
        guard case .forward(let edits) = d else { Issue.record("not forwarded: \(d)"); return }
        #expect(edits.flow == HookFx.ueFlow)
        #expect(edits.requestURI == "sip:alice@127.0.0.1:40123;transport=tcp")
        #expect(edits.outboundSide == .gm)
        let out = HookFx.text(edits)
        #expect(out.contains("P-Asserted-Identity: <sip:bob@ims.test>\r\n"))
        #expect(!out.contains("P-Charging-Vector"))
    }

    @Test("Terminating request with no binding is answered 404 (TS 24.229 §5.2.6.4 [K]; configurable 480)")
    func terminatingNoBinding() async throws {
        let hooks = try HookFx.hooks(TestNow())
        let mt = try HookFx.parse("""
        MESSAGE sip:carol@ims.test SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:6060;branch=z9hG4bK-mt2
        Route: <sip:term@127.0.0.1:5070;lr>
        Max-Forwards: 70
        From: <sip:bob@ims.test>;tag=b1
        To: <sip:carol@ims.test>
        Call-ID: mt-2
        CSeq: 1 MESSAGE
        Content-Length: 0


        """)
        guard case .respond(let r) = await hooks.processRequest(mt, context: ProxyRequestContext(id: ProxyRequestID(rawValue: 7), inbound: HookFx.coreFlow)) else {
            Issue.record("not rejected"); return
        }
        #expect(r.status == 404)
    }

    @Test("Bindings expire: the sweep removes them and the flow is then unregistered; re-registration restores it (TS 24.229 §5.2.2.1; RFC 3261 §10.3 step 8)")
    func expiryAndReRegistration() async throws {
        let clock = TestNow()
        let hooks = try HookFx.hooks(clock)
        try await HookFx.registerUE(hooks, expires: 2)
        #expect(await hooks.sweep().isEmpty)
        clock.advance(.seconds(3))
        let gone = await hooks.sweep()
        #expect(gone.map(\.contact) == ["sip:alice@127.0.0.1:40123;transport=tcp"])
        #expect(await hooks.bindings().isEmpty)
        let inv = try HookFx.parse(HookFx.invite())
        guard case .respond(let r) = await hooks.processRequest(inv, context: ProxyRequestContext(id: ProxyRequestID(rawValue: 9), inbound: HookFx.ueFlow)) else {
            Issue.record("expired flow not rejected"); return
        }
        #expect(r.status == 403)
        try await HookFx.registerUE(hooks, id: 10, expires: 600)
        #expect(await hooks.bindings().count == 1)
        guard case .forward = await hooks.processRequest(inv, context: ProxyRequestContext(id: ProxyRequestID(rawValue: 11), inbound: HookFx.ueFlow)) else {
            Issue.record("re-registered flow not forwarded"); return
        }
    }

    @Test("A contact re-registered from a new flow is reached over the new one; the old flow leaves the flow table (RFC 5626 §5.3 spirit, bounded state)")
    func reRegistrationFromNewFlow() async throws {
        let hooks = try HookFx.hooks(TestNow())
        try await HookFx.registerUE(hooks)
        let newFlow = ProxyFlow(side: .gm, transport: .tcp, local: nil, remote: HookFx.ueAddress, token: SIPFlowToken(.connection(8)))
        let reg = try HookFx.parse(HookFx.register(cseq: 2))
        let ctx = ProxyRequestContext(id: ProxyRequestID(rawValue: 2), inbound: newFlow)
        _ = await hooks.processRequest(reg, context: ctx)
        _ = await hooks.processResponse(try HookFx.parse(HookFx.registerResponse(200, cseq: 2)), context: ProxyResponseContext(
            requestID: ctx.id, request: reg, requestInbound: newFlow, responseInbound: HookFx.coreFlow, status: 200))
        let mt = try HookFx.parse("""
        MESSAGE sip:alice@127.0.0.1:40123;transport=tcp SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:6060;branch=z9hG4bK-mt3
        Route: <sip:term@127.0.0.1:5070;lr>
        Max-Forwards: 70
        From: <sip:bob@ims.test>;tag=b1
        To: <sip:alice@ims.test>
        Call-ID: mt-3
        CSeq: 1 MESSAGE
        Content-Length: 0


        """)
        guard case .forward(let edits) = await hooks.processRequest(mt, context: ProxyRequestContext(id: ProxyRequestID(rawValue: 3), inbound: HookFx.coreFlow)) else {
            Issue.record("not forwarded"); return
        }
        #expect(edits.flow?.token == SIPFlowToken(.connection(8)))
        #expect(edits.requestURI == nil)
        await hooks.pruneFlows()
        #expect(await hooks.flowCount == 1)
    }

    @Test("De-registration (expires=0) removes the binding (RFC 3261 §10.2.2, TS 24.229 §5.2.2.1)")
    func deregistration() async throws {
        let hooks = try HookFx.hooks(TestNow())
        try await HookFx.registerUE(hooks)
        try await HookFx.registerUE(hooks, id: 2, expires: 0)
        #expect(await hooks.bindings().isEmpty)
    }

    @Test("A REGISTER next hop that answered 503/408 is held down and the next REGISTER fails over to the next one (RFC 3263 §4.3)")
    func nextHopFailover() async throws {
        let clock = TestNow()
        let hooks = try HookFx.hooks(clock)
        let reg = try HookFx.parse(HookFx.register())
        let ctx = ProxyRequestContext(id: ProxyRequestID(rawValue: 1), inbound: HookFx.ueFlow)
        guard case .forward(let first) = await hooks.processRequest(reg, context: ctx) else { Issue.record("not forwarded"); return }
        #expect(first.nextHop == "sip:127.0.0.1:6060;lr")
        let r503 = try HookFx.parse(HookFx.registerResponse(503))
        _ = await hooks.processResponse(r503, context: ProxyResponseContext(
            requestID: ctx.id, request: reg, requestInbound: HookFx.ueFlow, responseInbound: HookFx.coreFlow, status: 503))
        guard case .forward(let second) = await hooks.processRequest(reg, context: ProxyRequestContext(id: ProxyRequestID(rawValue: 2), inbound: HookFx.ueFlow)) else {
            Issue.record("not forwarded"); return
        }
        #expect(second.nextHop == "sip:127.0.0.2:6061;lr")
        clock.advance(.seconds(31))
        guard case .forward(let third) = await hooks.processRequest(reg, context: ProxyRequestContext(id: ProxyRequestID(rawValue: 3), inbound: HookFx.ueFlow)) else {
            Issue.record("not forwarded"); return
        }
        #expect(third.nextHop == "sip:127.0.0.1:6060;lr")
    }

    @Test("A REGISTER with no resolvable core next hop is answered 503 (RFC 3261 §16.7 step 6 spirit)")
    func noNextHop() async throws {
        let hooks = try HookFx.hooks(TestNow(), hops: ["sip:nowhere.invalid:6060;lr"])
        let reg = try HookFx.parse(HookFx.register())
        guard case .respond(let r) = await hooks.processRequest(reg, context: ProxyRequestContext(id: ProxyRequestID(rawValue: 1), inbound: HookFx.ueFlow)) else {
            Issue.record("not rejected"); return
        }
        #expect(r.status == 503)
    }
}

@Suite("P-CSCF core next hops (RFC 3263 §4.2 A/AAAA, §4.3 failover)")
struct PCSCFNextHopsTests {
    @Test("IP literals are kept, names resolved through getaddrinfo (localhost), unknown names stay unresolved")
    func resolution() throws {
        let hops = try PCSCFNextHops(["sip:10.0.0.1:5060;lr", "sip:[2001:db8::1]:5060;transport=tcp;lr", "sip:localhost:5070;lr",
                                      "sip:no-such-host.invalid;lr"])
        let all = hops.all
        #expect(all[0].resolved == "sip:10.0.0.1:5060;lr")
        #expect(all[1].resolved == "sip:[2001:db8::1]:5060;transport=tcp;lr")
        let local = try #require(all[2].resolved)
        #expect(local == "sip:127.0.0.1:5070;lr" || local == "sip:[::1]:5070;lr")
        #expect(all[3].resolved == nil)
    }

    @Test("Configuration errors: not a SIP URI, too many hops")
    func configurationErrors() {
        #expect(throws: PCSCFServiceError.self) { try PCSCFNextHops(["mailto:x@y"]) }
        #expect(throws: PCSCFServiceError.self) {
            try PCSCFNextHops(Array(repeating: "sip:10.0.0.1", count: PCSCFNextHopLimits.maxNextHops + 1))
        }
    }
}
