import Foundation
import SDPRewrite
import SIPCore
import SIPTransaction
import Testing
@testable import IMSALG

@Suite("Robustness and de-registration edge cases")
struct RobustnessTests {
    /// Every SIP fixture that parses (IMS and RFC 4475 torture messages) goes through every entry
    /// point; nothing traps and every forwarded output still parses (house style: network input never traps).
    @Test("Every parseable SIP fixture through every P-CSCF entry point: no trap, forwarded bytes parse")
    func allFixtures() async throws {
        var files: [URL] = []
        for dir in ["Fixtures/sip/ims", "Fixtures/sip/torture"] {
            let url = Fx.root.appendingPathComponent(dir)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            files += names.filter { $0.hasSuffix(".sip") }.sorted().map { url.appendingPathComponent($0) }
        }
        #expect(files.count > 10)
        var p = Fx.pcscf()
        try await Fx.register(&p)
        var checked = 0
        for f in files {
            guard let data = try? Data(contentsOf: f), let m = try? SIPParser.parse(Array(data)) else { continue }
            checked += 1
            if m.isRequest {
                if case .forward(let b, _, let ctx) = p.registerFromUE(m, flow: Fx.ueFlow) {
                    #expect((try? SIPParser.parse(b)) != nil, "\(f.lastPathComponent) REGISTER path")
                    _ = ctx
                }
                if let b = await p.originatingRequest(m, flow: Fx.ueFlow, now: Fx.t0).forwardedBytes {
                    #expect((try? SIPParser.parse(b)) != nil, "\(f.lastPathComponent) originating")
                }
                if let b = await p.terminatingRequest(m, now: Fx.t0).forwardedBytes {
                    #expect((try? SIPParser.parse(b)) != nil, "\(f.lastPathComponent) terminating")
                }
            } else {
                let ctx = RegisterContext(flow: Fx.otherFlow, contacts: [], wildcard: false, toURI: nil, requestExpires: nil,
                                          ueMediaSecurity: [], ueIndicatedMediasec: true)
                let r = await p.registerResponse(m, context: ctx, now: Fx.t0)
                #expect((try? SIPParser.parse(r.bytes)) != nil, "\(f.lastPathComponent) response")
            }
        }
        #expect(checked > 10)
    }

    @Test("RFC 3261 §10.2.2: Contact: * with Expires: 0 removes the UE's bindings")
    func wildcardDeregistration() async throws {
        var p = Fx.pcscf()
        try await Fx.register(&p)
        #expect(try await p.store.all().count == 1)
        let reg = try Fx.message("register-protected", [
            ("Contact: <sip:001010123456789@[2001:db8:10::5]:5064>;expires=600000;+sip.instance=\"<urn:gsma:imei:35209900-176148-0>\";+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"", "Contact: *"),
            ("Expires: 600000", "Expires: 0"),
        ])
        guard case .forward(_, _, let ctx) = p.registerFromUE(reg, flow: Fx.ueFlow) else { Issue.record("not forwarded"); return }
        #expect(ctx.wildcard)
        let ok = try Fx.message("register-200", [(";expires=600000", ";expires=0")])
        let r = await p.registerResponse(ok, context: ctx, now: Fx.t0)
        #expect(r.removed.count == 1)
        #expect(try await p.store.all().isEmpty)
    }

    @Test("TS 24.229 §5.2.2.1: a 4xx/5xx to REGISTER changes no binding")
    func failureKeepsBindings() async throws {
        var p = Fx.pcscf()
        try await Fx.register(&p)
        guard case .forward(_, _, let ctx) = p.registerFromUE(try Fx.message("register-protected"), flow: Fx.ueFlow) else { return }
        let forbidden = try Fx.message("register-200", [("SIP/2.0 200 OK", "SIP/2.0 403 Forbidden"), (";expires=600000", ";expires=0")])
        let r = await p.registerResponse(forbidden, context: ctx, now: Fx.t0)
        #expect(r.status == 403)
        #expect(r.removed.isEmpty && r.stored.isEmpty)
        #expect(try await p.store.all().count == 1)
        #expect(try Fx.parse(r.bytes).securityServer.filter(\.mediasec).isEmpty)
    }
}

@Suite("Unregistered-flow policy (TS 24.229 §5.2.6.3.1 [K], configurable)")
struct UnregisteredPolicyTests {
    @Test("rejectUnregistered=false forwards without asserting an identity; the UE's PAI/PPI are still removed")
    func forwardUnasserted() async throws {
        var cfg = Fx.config
        cfg.rejectUnregistered = false
        var p = Fx.pcscf(cfg)
        let inv = try Fx.message("invite-msrp-bfcp", [("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nP-Asserted-Identity: <sip:boss@evil.example>\r\n")])
        let d = await p.originatingRequest(inv, flow: Fx.otherFlow, now: Fx.t0)
        guard case .forward(let bytes, _, _, let b, _, _) = d else { Issue.record("not forwarded"); return }
        #expect(b == nil)
        let out = try Fx.parse(bytes)
        #expect(out.pAssertedIdentities.isEmpty)
        #expect(out.values("P-Preferred-Identity").isEmpty)
    }

    @Test("RFC 3261 §17.2.3: an ACK from an unregistered flow is dropped, never answered")
    func ackDropped() async throws {
        var p = Fx.pcscf()
        guard case .drop = await p.originatingRequest(try Fx.message("ack"), flow: Fx.otherFlow, now: Fx.t0) else {
            Issue.record("expected drop"); return
        }
    }
}
