import Foundation
import SDPRewrite
import SIPCore
import SIPTransaction
import Testing
@testable import IMSALG

@Suite("Registration (TS 24.229 §5.2.2, RFC 3327, RFC 3608, TS 33.328 §7.1)")
struct RegistrationTests {
    @Test("RFC 3327 §5.1 / TS 24.229 §5.2.2.1: REGISTER towards the core gets our Path on top and Supported: path once")
    func pathInserted() throws {
        var p = Fx.pcscf()
        // The fixture already lists `path` in Supported: it must not be added twice.
        guard case .forward(let bytes, let hops, _) = p.registerFromUE(try Fx.message("register-initial"), flow: Fx.ueFlow) else {
            Issue.record("not forwarded"); return
        }
        let out = try Fx.parse(bytes)
        #expect(out.paths.first?.uri == "sip:term@pcscf.ims.mnc001.mcc001.3gppnetwork.org;lr")
        #expect(out.supported.filter { $0 == "path" }.count == 1)
        #expect(hops == ["sip:icscf.ims.mnc001.mcc001.3gppnetwork.org;lr"])

        // Without any Supported header, `Supported: path` is added (RFC 3327 §5.1).
        guard case .forward(let b2, _, _) = p.registerFromUE(
            try Fx.message("register-initial", [("Supported: path, gruu, sec-agree\r\n", "")]), flow: Fx.ueFlow) else {
            Issue.record("not forwarded"); return
        }
        let out2 = try Fx.parse(b2)
        #expect(out2.supported == ["path"])
        #expect(out2.paths.count == 1)
    }

    @Test("TS 24.229 §7.2A.7 / TS 33.328 §7.1: UE mediasec Security-Client entries are recorded and not sent to the core; signalling entries stay")
    func mediasecClientStripped() throws {
        var p = Fx.pcscf()
        let register = try Fx.message("register-initial")
        guard case .forward(let bytes, _, let ctx) = p.registerFromUE(register, flow: Fx.ueFlow) else { Issue.record("not forwarded"); return }
        #expect(ctx.ueMediaSecurity == [.msrpTLS, .bfcpTLS])
        #expect(ctx.ueIndicatedMediasec)
        let out = try Fx.parse(bytes)
        #expect(!out.securityClient.contains { $0.mediasec })
        #expect(out.securityClient.map(\.name) == ["ipsec-3gpp", "ipsec-3gpp"])
        // The signalling entries are byte-identical.
        #expect(out.values("Security-Client") == register.values("Security-Client").prefix(1).map { $0 })
        // The `mediasec` option tag stays on Gm (specs.md §2.2); sec-agree is untouched.
        #expect(out.proxyRequire == ["sec-agree"])
        #expect(Fx.string(bytes).contains("WWW-Authenticate") == false)
        #expect(Fx.string(bytes).contains("Authorization: Digest username="))
    }

    @Test("TS 24.229 §7.2A.7 Security-Verify mediasec entries (protected REGISTER) are accepted and not forwarded to the core")
    func securityVerifyStripped() throws {
        var p = Fx.pcscf()
        guard case .forward(let bytes, _, let ctx) = p.registerFromUE(try Fx.message("register-protected"), flow: Fx.ueFlow) else {
            Issue.record("not forwarded"); return
        }
        let out = try Fx.parse(bytes)
        #expect(out.securityVerify.map(\.name) == ["ipsec-3gpp"])
        #expect(ctx.ueMediaSecurity == [.msrpTLS, .bfcpTLS])
    }

    @Test("specs.md U7 / TS 24.229 §7.2A.7: the 401 passes through with Security-Server ...;mediasec for the network-supported mechanisms")
    func securityServerIn401() async throws {
        var cfg = Fx.config
        cfg.networkMediaSecurity = [.msrpTLS]
        var p = Fx.pcscf(cfg)
        guard case .forward(_, _, let ctx) = p.registerFromUE(try Fx.message("register-initial"), flow: Fx.ueFlow) else { Issue.record("no ctx"); return }
        let core401 = try Fx.message("register-401")   // carries the core's own mediasec entries: not relayed
        let r = await p.registerResponse(core401, context: ctx, now: Fx.t0)
        let out = try Fx.parse(r.bytes)
        #expect(r.status == 401)
        #expect(out.securityServer.filter(\.mediasec).map(\.name) == ["msrp-tls"])
        #expect(out.values("WWW-Authenticate") == core401.values("WWW-Authenticate"))   // AKA challenge untouched
        #expect(out.securityServer.contains { $0.name == "ipsec-3gpp" })
        #expect(r.stored.isEmpty)
        #expect(r.flow == Fx.ueFlow)
        #expect(try await p.store.all().isEmpty)
    }

    @Test("specs.md U7: Security-Server mediasec in 401 and 200 can each be switched off")
    func u7Switches() async throws {
        var cfg = Fx.config
        cfg.mediasecIn401 = false
        var p = Fx.pcscf(cfg)
        guard case .forward(_, _, let ctx) = p.registerFromUE(try Fx.message("register-initial"), flow: Fx.ueFlow) else { Issue.record("no ctx"); return }
        let r401 = await p.registerResponse(try Fx.message("register-401"), context: ctx, now: Fx.t0)
        #expect(try Fx.parse(r401.bytes).securityServer.filter(\.mediasec).isEmpty)
        let r200 = try await Fx.register(&p)
        #expect(try Fx.parse(r200.bytes).securityServer.filter(\.mediasec).map(\.name) == ["msrp-tls", "bfcp-tls"])
        #expect(r200.stored.first?.mediaSecurity.network == [.msrpTLS, .bfcpTLS])
    }

    @Test("TS 24.229 §5.2.2.1 [K]: no mediasec announcement to a UE that did not indicate any (configurable)")
    func noAnnouncementWithoutUEIndication() async throws {
        let plain: [(String, String)] = [("Security-Client: msrp-tls;mediasec\r\nSecurity-Client: bfcp-tls;mediasec\r\n", "")]
        var p = Fx.pcscf()
        guard case .forward(_, _, let ctx) = p.registerFromUE(try Fx.message("register-initial", plain), flow: Fx.ueFlow) else { Issue.record("no ctx"); return }
        #expect(!ctx.ueIndicatedMediasec)
        let r = await p.registerResponse(try Fx.message("register-401"), context: ctx, now: Fx.t0)
        #expect(try Fx.parse(r.bytes).securityServer.filter(\.mediasec).isEmpty)

        var cfg = Fx.config
        cfg.announceMediasecOnlyWhenUEIndicated = false
        var q = Fx.pcscf(cfg)
        let r2 = await q.registerResponse(try Fx.message("register-401"), context: ctx, now: Fx.t0)
        #expect(try Fx.parse(r2.bytes).securityServer.filter(\.mediasec).count == 2)
    }

    @Test("RFC 3608 §6.1, RFC 7315 §4.1, RFC 3261 §10.3 step 8: the 200 OK creates the binding (identities, Service-Route, expiry, flow, flags)")
    func bindingFrom200() async throws {
        var p = Fx.pcscf()
        let r = try await Fx.register(&p)
        #expect(r.status == 200)
        #expect(r.storeError == nil)
        let all = try await p.store.all()
        #expect(all.count == 1)
        let b = try #require(all.first)
        #expect(b.identities == ["sip:+15550001111@ims.mnc001.mcc001.3gppnetwork.org", "tel:+15550001111",
                                 "sip:001010123456789@ims.mnc001.mcc001.3gppnetwork.org"])
        #expect(b.defaultIdentity == "sip:+15550001111@ims.mnc001.mcc001.3gppnetwork.org")
        #expect(b.serviceRoute == ["<sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr>"])
        #expect(b.contact == "sip:001010123456789@[2001:db8:10::5]:5064")
        #expect(b.expiresAt == Fx.t0 + .seconds(600000))
        #expect(b.flow == Fx.ueFlow)
        #expect(b.mediaSecurity == MediaSecurityFlags(ue: [.msrpTLS, .bfcpTLS], network: [.msrpTLS, .bfcpTLS]))
        #expect(b.chargingFunctionAddresses == "ccf=pri_ccf_address")
        // RFC 7315 §4.5 / TS 24.229 §5.2.2.1 [K]: charging addresses are kept, not passed to the UE.
        let out = try Fx.parse(r.bytes)
        #expect(out.values("P-Charging-Function-Addresses").isEmpty)
        #expect(out.serviceRoutes.count == 1)   // Service-Route still reaches the UE (RFC 3608 §6.1)
        #expect(try await p.store.binding(flow: Fx.ueFlow.key)?.contact == b.contact)
        #expect(try await p.store.bindings(identity: "tel:+15550001111").count == 1)
    }

    @Test("RFC 3261 §10.3 step 8: the Contact expires of the 200 wins over the Expires header")
    func contactExpiresWins() async throws {
        var p = Fx.pcscf()
        let r = try await Fx.register(&p, responseEdits: [(";expires=600000", ";expires=3600"), ("Date:", "Expires: 99\r\nDate:")])
        #expect(r.stored.first?.expiresAt == Fx.t0 + .seconds(3600))
    }

    @Test("RFC 3261 §10.2.4 / TS 24.229 §5.2.2.1: re-registration refreshes the binding, expires=0 removes it")
    func refreshAndDeregister() async throws {
        var p = Fx.pcscf()
        try await Fx.register(&p)
        let later = Fx.t0 + .seconds(500)
        let r = try await Fx.register(&p, now: later, responseEdits: [(";expires=600000", ";expires=1200")])
        #expect(r.stored.count == 1)
        let all = try await p.store.all()
        #expect(all.count == 1)
        #expect(all.first?.expiresAt == later + .seconds(1200))

        let gone = try await Fx.register(&p, now: later, responseEdits: [(";expires=600000", ";expires=0")])
        #expect(gone.removed.count == 1)
        #expect(gone.stored.isEmpty)
        #expect(try await p.store.all().isEmpty)
    }

    @Test("TS 24.229 §5.2.2.1: bindings lapse at their expiry (sweep with `now`)")
    func expirySweep() async throws {
        var p = Fx.pcscf()
        try await Fx.register(&p, responseEdits: [(";expires=600000", ";expires=60")])
        #expect(try await p.sweepExpired(now: Fx.t0 + .seconds(59)).isEmpty)
        #expect(try await p.store.all().count == 1)
        let swept = try await p.sweepExpired(now: Fx.t0 + .seconds(60))
        #expect(swept.count == 1)
        #expect(try await p.store.all().isEmpty)
        #expect(try await p.store.bindings(identity: "tel:+15550001111").isEmpty)
        #expect(try await p.store.binding(flow: Fx.ueFlow.key) == nil)
    }

    @Test("RFC 3327 §5.1: Route entries naming this P-CSCF are removed from the REGISTER")
    func ownRouteRemoved() throws {
        var p = Fx.pcscf()
        let reg = try Fx.message("register-initial", [("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nRoute: <sip:[2001:db8:1::1]:5068;lr>\r\n")])
        guard case .forward(let bytes, _, _) = p.registerFromUE(reg, flow: Fx.ueFlow, hop: ProxyHop(via: "SIP/2.0/UDP pcscf.example;branch=z9hG4bK-p1")) else {
            Issue.record("not forwarded"); return
        }
        let out = try Fx.parse(bytes)
        #expect(out.routes.isEmpty)
        #expect(out.topVia?.branch == "z9hG4bK-p1")
        #expect(out.maxForwards == 69)
    }

    @Test("RFC 3261 §16.3 step 3: a REGISTER with Max-Forwards 0 is answered 483")
    func maxForwardsZero() throws {
        var p = Fx.pcscf()
        let reg = try Fx.message("register-initial", [("Max-Forwards: 70", "Max-Forwards: 0")])
        guard case .respond(let resp, let status) = p.registerFromUE(reg, flow: Fx.ueFlow, hop: ProxyHop(via: "SIP/2.0/UDP p;branch=z9hG4bK-x")) else {
            Issue.record("expected a response"); return
        }
        #expect(status == 483)
        #expect(try Fx.parse(resp).statusCode == 483)
    }

    @Test("RFC 7315 §4.6, §4.3 / TS 24.229 §5.2.2.1 [K]: REGISTER gets P-Charging-Vector and configured P-Visited-Network-ID")
    func chargingAndVisitedOnRegister() throws {
        var cfg = Fx.config
        cfg.visitedNetworkID = "\"Visited Network\""
        cfg.icidGeneratedAt = "pcscf.example"
        var p = Fx.pcscf(cfg)
        guard case .forward(let bytes, _, _) = p.registerFromUE(try Fx.message("register-initial"), flow: Fx.ueFlow) else { Issue.record("no"); return }
        let out = try Fx.parse(bytes)
        #expect(out.values("P-Charging-Vector") == ["icid-value=t-icid-1;icid-generated-at=pcscf.example"])
        #expect(out.values("P-Visited-Network-ID") == ["\"Visited Network\""])
    }
}
