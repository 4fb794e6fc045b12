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
