import Foundation
import SDPRewrite
import SIPCore
import SIPTransaction
import Testing
@testable import IMSALG

@Suite("Terminating requests (TS 24.229 §5.2.6.4, RFC 3327 §5.3)")
struct TerminatingTests {
    static let message = "message-terminating"

    @Test("RFC 3327 §5.3 / TS 24.229 §5.2.6.4: a request with our Path in Route goes to the registered contact over the registered flow")
    func routedToRegisteredFlow() async throws {
        var p = Fx.pcscf()
        try await Fx.register(&p)
        let msg = try Fx.message(Self.message)
        let d = await p.terminatingRequest(msg, now: Fx.t0)
        guard case .forward(let bytes, let nextHop, let flow, let b, let role, let initial) = d else { Issue.record("not forwarded: \(d)"); return }
        #expect(flow == Fx.ueFlow)
        #expect(flow?.connectionID == "conn-7")          // reuse the UE's TCP connection
        #expect(nextHop == "sip:001010123456789@[2001:db8:10::5]:5064")
        #expect(b?.contact == nextHop)
        #expect(role == .terminating)
        #expect(initial)
        let out = try Fx.parse(bytes)
        #expect(out.routes.isEmpty)                       // our Path entry consumed (RFC 3261 §16.4)
        #expect(out.requestURI == "sip:001010123456789@[2001:db8:10::5]:5064")
        #expect(out.recordRoutes.first?.uri == "sip:mt@pcscf.ims.mnc001.mcc001.3gppnetwork.org;lr")
        #expect(Array(out.body) == Array(msg.body))
    }

    @Test("RFC 3325 §5 / TS 24.229 §5.2.6.4: P-Asserted-Identity from the core is trusted and passed on; charging headers are not sent to the UE")
    func assertedIdentityTrusted() async throws {
        var p = Fx.pcscf()
        try await Fx.register(&p)
        let msg = try Fx.message(Self.message)
        let out = try Fx.parse(try #require(await p.terminatingRequest(msg, now: Fx.t0).forwardedBytes))
        #expect(out.values("P-Asserted-Identity") == msg.values("P-Asserted-Identity"))
        #expect(out.values("P-Charging-Vector").isEmpty)   // RFC 7315 §4.6 / TS 24.229 §5.2.6.4 [K]
    }

    @Test("TS 24.229 §5.2.6.4: a Request-URI naming a public identity is resolved to the registered contact")
    func identityResolvedToContact() async throws {
        var p = Fx.pcscf()
        try await Fx.register(&p)
        let msg = try Fx.message(Self.message, [("MESSAGE sip:001010123456789@[2001:db8:10::5]:5064 SIP/2.0", "MESSAGE tel:+15550001111 SIP/2.0")])
        let d = await p.terminatingRequest(msg, now: Fx.t0)
        let out = try Fx.parse(try #require(d.forwardedBytes))
        #expect(out.requestURI == "sip:001010123456789@[2001:db8:10::5]:5064")
        #expect(out.method == "MESSAGE")
    }

    @Test("TS 24.229 §5.2.6.4 [K]: no binding → 404, or 480 when configured; expired bindings do not count")
    func noBinding() async throws {
        var p = Fx.pcscf()
        let d = await p.terminatingRequest(try Fx.message(Self.message), now: Fx.t0)
        guard case .respond(let resp, let status) = d else { Issue.record("expected 404"); return }
        #expect(status == 404)
        #expect(try Fx.parse(resp).statusCode == 404)

        var cfg = Fx.config
        cfg.terminatingNoBindingStatus = 480
        var q = Fx.pcscf(cfg)
        try await Fx.register(&q, responseEdits: [(";expires=600000", ";expires=10")])
        #expect(await q.terminatingRequest(try Fx.message(Self.message), now: Fx.t0 + .seconds(5)).forwardedBytes != nil)
        #expect(await q.terminatingRequest(try Fx.message(Self.message), now: Fx.t0 + .seconds(10)).responseStatus == 480)
    }

    @Test("RFC 3261 §16.4: a request whose top Route is not ours is not a terminating request for a served UE")
    func notOurs() async throws {
        var p = Fx.pcscf()
        try await Fx.register(&p)
        let msg = try Fx.message(Self.message, [("<sip:term@pcscf.ims.mnc001.mcc001.3gppnetwork.org;lr>", "<sip:other.example;lr>")])
        guard case .notForUs = await p.terminatingRequest(msg, now: Fx.t0) else { Issue.record("expected notForUs"); return }
    }
}

@Suite("Trust boundary: network-only headers from the UE (RFC 3325 §5, TS 24.229 §4.4, §5.2.6.3.3)")
struct TrustBoundaryTests {
    @Test("Each network-only header sent by the UE is removed before forwarding", arguments: TrustBoundary.networkOnlyHeaders)
    func removed(rule: TrustBoundary.Rule) async throws {
        var cfg = Fx.config
        cfg.visitedNetworkID = "visited.example"
        var p = Fx.pcscf(cfg)
        try await Fx.register(&p)
        let spoof = "spoofed-by-ue-\(rule.header.count)"
        let inv = try Fx.message("invite-msrp-bfcp", [("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\n\(rule.header): <sip:\(spoof)@evil.example>;x=\(spoof)\r\n")])
        #expect(inv.values(rule.header).count == 1)
        let bytes = try #require(await p.originatingRequest(inv, flow: Fx.ueFlow, now: Fx.t0).forwardedBytes)
        #expect(!Fx.string(bytes).contains(spoof), "\(rule)")
        // The same on REGISTER (TS 24.229 §5.2.2.1).
        let reg = try Fx.message("register-initial", [("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\n\(rule.header): \(spoof)\r\n")])
        guard case .forward(let rb, _, _) = p.registerFromUE(reg, flow: Fx.ueFlow) else { Issue.record("not forwarded"); return }
        #expect(!Fx.string(rb).contains(spoof), "\(rule) on REGISTER")
    }

    @Test("TS 24.229 §7.2A.4 [K], RFC 7315 §5.4: a P-Access-Network-Info value claiming network-provided is removed; the UE's own value stays")
    func networkProvidedPANI() async throws {
        var p = Fx.pcscf()
        try await Fx.register(&p)
        let inv = try Fx.message("invite-msrp-bfcp", [("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nP-Access-Network-Info: 3GPP-E-UTRAN-FDD;utran-cell-id-3gpp=FAKE;network-provided\r\n")])
        let out = try Fx.parse(try #require(await p.originatingRequest(inv, flow: Fx.ueFlow, now: Fx.t0).forwardedBytes))
        #expect(out.pAccessNetworkInfo.count == 1)
        #expect(out.pAccessNetworkInfo.first?.parameters["utran-cell-id-3gpp"] == "0010100010019B01")
    }

    @Test("Configured extra untrusted headers are removed too")
    func extraHeaders() async throws {
        var cfg = Fx.config
        cfg.extraUntrustedHeaders = ["X-Internal-Flag"]
        var p = Fx.pcscf(cfg)
        try await Fx.register(&p)
        let inv = try Fx.message("invite-msrp-bfcp", [("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nX-Internal-Flag: gold\r\n")])
        let bytes = try #require(await p.originatingRequest(inv, flow: Fx.ueFlow, now: Fx.t0).forwardedBytes)
        #expect(!Fx.string(bytes).contains("X-Internal-Flag"))
    }
}

@Suite("Registration store and URI keys")
struct StoreTests {
    @Test("InMemoryRegistrationStore is bounded: a new contact beyond maxBindings is refused, a refresh is not")
    func bounded() async throws {
        let store = InMemoryRegistrationStore(maxBindings: 1)
        let b = RegistrationBinding(identities: ["sip:a@x"], contact: "sip:a@1.2.3.4:5060", flow: Fx.ueFlow, expiresAt: Fx.t0,
                                    serviceRoute: [], mediaSecurity: .none)
        try await store.upsert(b)
        try await store.upsert(b)
        var c = b
        c.contact = "sip:b@1.2.3.4:5070"
        await #expect(throws: RegistrationStoreError.full(limit: 1)) { try await store.upsert(c) }
        // The 200 is still relayed when the store refuses (the error is reported).
        var p = Fx.pcscf(store: store)
        let r = try await Fx.register(&p)
        #expect(r.storeError == .full(limit: 1))
        #expect(r.status == 200)
    }

    @Test("RegistrationBinding round-trips through JSON (for a shared store later)")
    func codable() throws {
        let b = RegistrationBinding(identities: ["sip:a@x", "tel:+1"], contact: "sip:a@[2001:db8::1]:5060", flow: Fx.ueFlow,
                                    expiresAt: Fx.t0 + .seconds(7), serviceRoute: ["<sip:s@x;lr>"],
                                    mediaSecurity: MediaSecurityFlags(ue: [.msrpTLS], network: [.bfcpTLS]), chargingFunctionAddresses: "ccf=a")
        let back = try JSONDecoder().decode(RegistrationBinding.self, from: try JSONEncoder().encode(b))
        #expect(back == b)
    }

    @Test("RFC 3261 §19.1.4 (simplified): URI keys ignore parameters, default the port and lower-case the host",
          arguments: [
            ("sip:alice@Example.COM", "sip:alice@example.com:5060;transport=tcp", true),
            ("sips:alice@example.com", "sips:alice@example.com:5061", true),
            ("sip:001@[2001:db8:10::5]:5064", "<sip:001@[2001:DB8:10::5]:5064;ob>", true),
            ("sip:alice@example.com", "sip:bob@example.com", false),
            ("sip:alice@example.com:5070", "sip:alice@example.com", false),
            ("tel:+1-555-000", "tel:+1555000;phone-context=x", true),
          ])
    func uriKeys(a: String, b: String, equal: Bool) {
        #expect((SIPURIKey(a) == SIPURIKey(b)) == equal)
        #expect(SIPURIKey(a) != nil)
    }

    @Test("Malformed URIs give no key (network input never traps)", arguments: ["", "sip:", "sip:[::1", "sip:a@b:99999", "http://x", "sip:a@b:x", String(repeating: "a", count: 5000)])
    func badURIs(text: String) {
        #expect(SIPURIKey(text) == nil)
    }
}
