import Foundation
import SDPRewrite
import SIPCore
import SIPTransaction
import Testing
@testable import IMSALG

@Suite("Originating requests (TS 24.229 §5.2.6.3, RFC 3325, RFC 3608)")
struct OriginatingTests {
    static let invite = "invite-msrp-bfcp"

    @Test("TS 24.229 §5.2.6.3.1 [K]: a request from a flow with no registration is rejected 403 (status configurable)")
    func unregisteredRejected() async throws {
        var p = Fx.pcscf()
        try await Fx.register(&p)
        let d = await p.originatingRequest(try Fx.message(Self.invite), flow: Fx.otherFlow, now: Fx.t0)
        guard case .respond(let resp, let status) = d else { Issue.record("expected 403, got \(d)"); return }
        #expect(status == 403)
        let r = try Fx.parse(resp)
        #expect(r.statusCode == 403)
        #expect(r.to?.tag == "t-tag-2")   // counter 1 was the REGISTER's icid

        var cfg = Fx.config
        cfg.unregisteredStatus = 404
        var q = Fx.pcscf(cfg)
        #expect(await q.originatingRequest(try Fx.message(Self.invite), flow: Fx.ueFlow, now: Fx.t0).responseStatus == 404)
    }

    @Test("TS 24.229 §5.2.2.1: once the registration expired the flow is no longer registered (403)")
    func expiredRejected() async throws {
        var p = Fx.pcscf()
        try await Fx.register(&p, responseEdits: [(";expires=600000", ";expires=30")])
        #expect(await p.originatingRequest(try Fx.message(Self.invite), flow: Fx.ueFlow, now: Fx.t0 + .seconds(29)).forwardedBytes != nil)
        #expect(await p.originatingRequest(try Fx.message(Self.invite), flow: Fx.ueFlow, now: Fx.t0 + .seconds(30)).responseStatus == 403)
    }

    @Test("RFC 3325 §6 / TS 24.229 §5.2.6.3.3: P-Preferred-Identity among the registered identities is asserted; P-Preferred-Identity removed")
    func preferredIdentityAsserted() async throws {
        var p = Fx.pcscf()
        try await Fx.register(&p)
        let inv = try Fx.message(Self.invite, [("P-Preferred-Identity: <sip:+15550001111@", "P-Preferred-Identity: <sip:001010123456789@")])
        let d = await p.originatingRequest(inv, flow: Fx.ueFlow, now: Fx.t0)
        let out = try Fx.parse(try #require(d.forwardedBytes))
        #expect(out.pAssertedIdentities.map(\.uri) == ["sip:001010123456789@ims.mnc001.mcc001.3gppnetwork.org"])
        #expect(out.values("P-Preferred-Identity").isEmpty)
        guard case .forward(_, _, _, let b, let role, let initial) = d else { return }
        #expect(role == .originating)
        #expect(initial)
        #expect(b?.mediaSecurity.ue == [.msrpTLS, .bfcpTLS])   // the SDP engine's input
    }

    @Test("RFC 3325 §6 / TS 24.229 §5.2.6.3.3: a P-Preferred-Identity not registered is ignored; the default identity is asserted")
    func defaultIdentityAsserted() async throws {
        var p = Fx.pcscf()
        try await Fx.register(&p)
        let inv = try Fx.message(Self.invite, [("P-Preferred-Identity: <sip:+15550001111@", "P-Preferred-Identity: <sip:+19999999999@")])
        let out = try Fx.parse(try #require(await p.originatingRequest(inv, flow: Fx.ueFlow, now: Fx.t0).forwardedBytes))
        #expect(out.pAssertedIdentities.map(\.uri) == ["sip:+15550001111@ims.mnc001.mcc001.3gppnetwork.org"])
        #expect(out.values("P-Preferred-Identity").isEmpty)

        // No P-Preferred-Identity at all: the default identity too.
        let inv2 = try Fx.message(Self.invite, [("P-Preferred-Identity: <sip:+15550001111@ims.mnc001.mcc001.3gppnetwork.org>\r\n", "")])
        let out2 = try Fx.parse(try #require(await p.originatingRequest(inv2, flow: Fx.ueFlow, now: Fx.t0).forwardedBytes))
        #expect(out2.pAssertedIdentities.map(\.uri) == ["sip:+15550001111@ims.mnc001.mcc001.3gppnetwork.org"])
    }

    @Test("RFC 3325 §5 / TS 24.229 §5.2.6.3.3: a spoofed P-Asserted-Identity from the UE is replaced, never forwarded")
    func spoofedPAIStripped() async throws {
        var p = Fx.pcscf()
        try await Fx.register(&p)
        let inv = try Fx.message(Self.invite, [("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nP-Asserted-Identity: <sip:boss@evil.example>\r\n")])
        let bytes = try #require(await p.originatingRequest(inv, flow: Fx.ueFlow, now: Fx.t0).forwardedBytes)
        #expect(!Fx.string(bytes).contains("boss@evil.example"))
        #expect(try Fx.parse(bytes).pAssertedIdentities.count == 1)
    }

    @Test("RFC 3608 §6.2 / TS 24.229 §5.2.6.3.3: our Route entry is removed and the stored Service-Route is the Route set; next hop is its first entry")
    func serviceRoutePreloaded() async throws {
        var p = Fx.pcscf()
        try await Fx.register(&p)
        // The UE puts us and some other route in Route; the Service-Route replaces the rest.
        let inv = try Fx.message(Self.invite, [("<sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr>", "<sip:elsewhere.example;lr>")])
        let d = await p.originatingRequest(inv, flow: Fx.ueFlow, now: Fx.t0)
        guard case .forward(let bytes, let nextHop, _, _, _, _) = d else { Issue.record("not forwarded"); return }
        let out = try Fx.parse(bytes)
        #expect(out.routes.map(\.uri) == ["sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr"])
        #expect(nextHop == "sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr")
    }

    @Test("RFC 3608 §6.2: with enforceServiceRoute off the UE's route set is kept")
    func serviceRouteNotEnforced() async throws {
        var cfg = Fx.config
        cfg.enforceServiceRoute = false
        var p = Fx.pcscf(cfg)
        try await Fx.register(&p)
        let inv = try Fx.message(Self.invite, [("<sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr>", "<sip:elsewhere.example;lr>")])
        let out = try Fx.parse(try #require(await p.originatingRequest(inv, flow: Fx.ueFlow, now: Fx.t0).forwardedBytes))
        #expect(out.routes.map(\.uri) == ["sip:elsewhere.example;lr"])
    }

    @Test("RFC 7315 §4.6, §4.3 / TS 24.229 §5.2.6.3.3 [K]: P-Charging-Vector with an icid from the generator; P-Visited-Network-ID when configured")
    func chargingVectorAndVisitedNetwork() async throws {
        var cfg = Fx.config
        cfg.visitedNetworkID = "visited.example"
        cfg.origIOI = "home1.net"
        var p = Fx.pcscf(cfg)
        try await Fx.register(&p)
        let out = try Fx.parse(try #require(await p.originatingRequest(try Fx.message(Self.invite), flow: Fx.ueFlow, now: Fx.t0).forwardedBytes))
        // icid 1 went into the REGISTER; this request gets the next one.
        #expect(out.pChargingVector?["icid-value"] == "t-icid-2")
        #expect(out.pChargingVector?["orig-ioi"] == "home1.net")
        #expect(out.values("P-Visited-Network-ID") == ["visited.example"])

        cfg.visitedNetworkIDOnOriginating = false
        cfg.chargingVector = false
        var q = Fx.pcscf(cfg)
        try await Fx.register(&q)
        let out2 = try Fx.parse(try #require(await q.originatingRequest(try Fx.message(Self.invite), flow: Fx.ueFlow, now: Fx.t0).forwardedBytes))
        #expect(out2.values("P-Visited-Network-ID").isEmpty)
        #expect(out2.values("P-Charging-Vector").isEmpty)
    }

    @Test("RFC 3261 §16.6 step 4 / TS 24.229 §5.2.6.3.3: Record-Route with the originating marker on initial requests only")
    func recordRouteOriginating() async throws {
        var p = Fx.pcscf()
        try await Fx.register(&p)
        let out = try Fx.parse(try #require(await p.originatingRequest(try Fx.message(Self.invite), flow: Fx.ueFlow, now: Fx.t0).forwardedBytes))
        #expect(out.recordRoutes.first?.uri == "sip:mo@pcscf.ims.mnc001.mcc001.3gppnetwork.org;lr")

        // In-dialog BYE (To tag): no Record-Route, no new identity, no Service-Route pre-load.
        let bye = try Fx.message("bye")
        let d = await p.originatingRequest(bye, flow: Fx.ueFlow, now: Fx.t0)
        let outBye = try Fx.parse(try #require(d.forwardedBytes))
        #expect(outBye.recordRoutes.count == bye.recordRoutes.count)
        #expect(outBye.pAssertedIdentities.isEmpty)
    }

    @Test("TS 24.229 §7.2A.7: Security-Verify mediasec entries and the mediasec option tag do not reach the core")
    func securityVerifyNotForwarded() async throws {
        var p = Fx.pcscf()
        try await Fx.register(&p)
        let inv = try Fx.message(Self.invite, [("Proxy-Require: sec-agree", "Proxy-Require: sec-agree, mediasec")])
        let out = try Fx.parse(try #require(await p.originatingRequest(inv, flow: Fx.ueFlow, now: Fx.t0).forwardedBytes))
        #expect(out.securityVerify.map(\.name) == ["ipsec-3gpp"])
        #expect(out.proxyRequire == ["sec-agree"])
    }

    @Test("The body and untouched headers are forwarded byte for byte (RFC 3261 §16.6)")
    func bodyUntouched() async throws {
        var p = Fx.pcscf()
        try await Fx.register(&p)
        let inv = try Fx.message(Self.invite)
        let out = try Fx.parse(try #require(await p.originatingRequest(inv, flow: Fx.ueFlow, now: Fx.t0).forwardedBytes))
        #expect(Array(out.body) == Array(inv.body))
        #expect(out.values("Accept-Contact") == inv.values("Accept-Contact"))
        #expect(out.values("Contact") == inv.values("Contact"))
    }
}
