import ALGTestSupport
import Foundation
import SDPCore
@testable import SDPRewrite

enum Repo {
    static let root = TestRepository.root

    static let rewriteCases: [String] = {
        let dir = root.appendingPathComponent("Fixtures/sdp/rewrite")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: dir.appendingPathComponent($0 + "/context.json").path) }.sorted()
    }()

    static func text(_ path: String) -> String? {
        try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }
}

/// Shared test data (addresses of specs.md §9).
enum T {
    static let ueFP = "sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF"
    static let agwFP = try! Fingerprint(parsing: "sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:EF")
    static let all = MediaSecurityFlags.all

    static func gw(_ indices: Int...) -> GatewayAnswer {
        GatewayAnswer(streams: indices.map {
            StreamAnswer(index: $0, access: LocalEndpoint(address: "192.0.2.1", port: UInt16(40001 + 10 * $0)),
                         core: LocalEndpoint(address: "198.51.100.1", port: UInt16(40002 + 10 * $0)), fingerprint: agwFP)
        })
    }

    static func sdp(_ lines: [String]) -> SessionDescription {
        try! SessionDescription(parsing: lines.map { $0 + "\r\n" }.joined())
    }

    static func head(_ addr: String) -> [String] { ["v=0", "o=x 1 1 IN IP4 \(addr)", "s=-", "c=IN IP4 \(addr)", "t=0 0"] }

    static func ueMSRP(setup: String? = "actpass", cema: Bool = true, requested: Bool = true, proto: String = "TCP/TLS/MSRP", extra: [String] = []) -> SessionDescription {
        var l = head("10.1.1.10") + ["m=message 50000 \(proto) *", "a=accept-types:message/cpim", "a=path:msrps://10.1.1.10:50000/a1;tcp"]
        if let setup { l.append("a=setup:\(setup)") }
        l.append("a=fingerprint:\(ueFP)")
        if cema { l.append("a=msrp-cema") }
        if requested { l.append("a=3ge2ae:requested") }
        return sdp(l + extra)
    }

    static func coreMSRP(setup: String? = "actpass", proto: String = "TCP/MSRP", extra: [String] = []) -> SessionDescription {
        var l = head("203.0.113.5") + ["m=message 7654 \(proto) *", "a=accept-types:message/cpim", "a=path:msrp://203.0.113.5:7654/b1;tcp"]
        if let setup { l.append("a=setup:\(setup)") }
        return sdp(l + ["a=msrp-cema"] + extra)
    }

    static func ueBFCP(setup: String = "actpass") -> SessionDescription {
        sdp(head("10.1.1.10") + ["m=application 50010 TCP/TLS/BFCP *", "a=setup:\(setup)", "a=connection:new", "a=floorctrl:c-only",
                                  "a=fingerprint:\(ueFP)", "a=3ge2ae:requested"])
    }

    static func coreBFCP(setup: String = "actpass") -> SessionDescription {
        sdp(head("203.0.113.5") + ["m=application 7700 TCP/BFCP *", "a=setup:\(setup)", "a=connection:new", "a=floorctrl:s-only",
                                    "a=confid:1", "a=userid:2", "a=floorid:1 mstrm:10"])
    }

    /// Runs offer (+ gateway) and optionally answer (+ gateway); returns the last request and SDP.
    static func exchange(_ session: inout RewriteSession, offer: SessionDescription, answer: SessionDescription? = nil,
                         direction: CallDirection) throws -> (GatewayRequest, SessionDescription) {
        let r1 = try session.receive(offer, kind: .offer, direction: direction)
        let s1 = try session.applyGatewayAnswer(gw(0, 1, 2, 3))
        guard let answer else { return (r1, s1) }
        let r2 = try session.receive(answer, kind: .answer, direction: direction)
        let s2 = try session.applyGatewayAnswer(GatewayAnswer())
        return (r2, s2)
    }
}
