// Network input never traps (house rule): every SIP fixture that SIPCore accepts goes through the proxy
// core as request or response; forwarded requests must still parse (RFC 3261 §16.6 keeps them valid).
import Foundation
import Testing
import SIPCore
import SIPProxy

@Suite struct ProxyRobustnessTests {
    static let cases: [String] = {
        var out: [String] = []
        for folder in ["ims", "torture"] {
            let dir = ProxyFixtures.root.appendingPathComponent("Fixtures/sip/\(folder)")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            out += names.filter { $0.hasSuffix(".sip") }.map { "\(folder)/\(String($0.dropLast(4)))" }
        }
        return out.sorted()
    }()

    @Test("Every accepted fixture goes through processRequest/processResponse without trapping; forwarded output parses", arguments: cases)
    func fixture(_ name: String) throws {
        let url = ProxyFixtures.root.appendingPathComponent("Fixtures/sip/\(name).sip")
        let bytes = Array(try Data(contentsOf: url))
        guard let message = try? SIPParser.parse(bytes) else { return } // rejected by SIPCore: not our input
        let proxy = SIPProxyCore(configuration: ProxyFixtures.configuration(), requestPolicy: ToCorePolicy())
        var ids = CountingIDGenerator()
        if message.isRequest {
            switch proxy.processRequest(message, arrivedOn: ProxyFixtures.access, ids: &ids) {
            case .forward(let d):
                let out = try SIPParser.parse(d.bytes)
                #expect(out.topVia?.branch == d.branch)
                #expect((out.maxForwards ?? 0) < max(message.maxForwards ?? 71, 1))
            case .reject(let r):
                #expect((400..<700).contains(r.status))
                #expect(try SIPParser.parse(r.response(to: message, toTag: "t")).statusCode == r.status)
            case .absorb:
                #expect(message.method == "ACK")
            }
        } else if case .forward = proxy.processResponse(message) {
            Issue.record("a response without our Via must not be forwarded")
        }
    }
}
