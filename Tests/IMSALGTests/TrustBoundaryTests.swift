import Foundation
import SDPRewrite
import SIPCore
import SIPTransaction
import Testing
@testable import IMSALG

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
