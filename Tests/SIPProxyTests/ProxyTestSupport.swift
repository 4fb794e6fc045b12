// Shared helpers: fixture access from #filePath (house style), a proxy with an access (Gm-like) and a
// core (Mw-like) listener matching the Route values of Fixtures/sip/ims.
import ALGTestSupport
import Foundation
import SIPCore
import SIPProxy

enum ProxyFixtures {
    static let root = TestRepository.root

    static func text(_ name: String) -> String {
        let url = root.appendingPathComponent("Fixtures/sip/\(name).sip")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }

    static let access = ProxyListener(host: "2001:db8:1::1", port: 5068, transport: "TCP", side: .access)
    static let core = ProxyListener(host: "pcscf.core.example.net", port: 5060, transport: "TCP", side: .core)
    static let coreUDP = ProxyListener(host: "pcscf.core.example.net", port: 5060, transport: "UDP", side: .core)

    static func configuration(supported: Set<String> = ["sec-agree"]) -> ProxyConfiguration {
        ProxyConfiguration(listeners: [access, core, coreUDP], supportedExtensions: supported, warningAgent: "pcscf.example.net")
    }
}

/// Sends every request from the access side to the core side over TCP (what the P-CSCF does).
struct ToCorePolicy: RequestPolicy {
    func process(_ request: SIPMessage, context: inout RequestContext, splice: inout SIPSplice) -> ProxyReject? {
        context.outbound = ProxyFixtures.core
        return nil
    }
}

func parse(_ text: String) throws -> SIPMessage { try SIPParser.parse(Array(text.utf8)) }
func parse(_ bytes: [UInt8]) throws -> SIPMessage { try SIPParser.parse(bytes) }
func lines(_ bytes: [UInt8]) -> [String] { String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n") }

extension RequestOutcome {
    var decision: ForwardDecision? { if case .forward(let d) = self { return d } else { return nil } }
    var rejection: ProxyReject? { if case .reject(let r) = self { return r } else { return nil } }
    var isAbsorb: Bool { if case .absorb = self { return true } else { return false } }
}
