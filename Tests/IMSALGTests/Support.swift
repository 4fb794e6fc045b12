// Shared helpers for the IMSALG tests: fixture access from #filePath (house style), parsing, and a
// P-CSCF configured like the lab in Fixtures/sip/ims (P-CSCF pcscf.ims.mnc001.mcc001.3gppnetwork.org,
// protected port [2001:db8:1::1]:5068, S-CSCF scscf...:6060).
import ALGTestSupport
import Foundation
import SDPRewrite
import SIPCore
import SIPTransaction
import Testing
@testable import IMSALG

enum Fx {
    static let root = TestRepository.root

    /// Text of `Fixtures/sip/ims/<name>.sip`.
    static func text(_ name: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent("Fixtures/sip/ims/\(name).sip"), encoding: .utf8)
    }

    /// Parses a fixture, optionally edited by textual replacements (header lines end in CRLF).
    static func message(_ name: String, _ edits: [(String, String)] = []) throws -> SIPMessage {
        var t = try text(name)
        for (a, b) in edits {
            #expect(t.contains(a), "fixture \(name) should contain \(a)")
            t = t.replacingOccurrences(of: a, with: b)
        }
        return try parse(t)
    }

    static func parse(_ text: String) throws -> SIPMessage { try SIPParser.parse(Array(text.utf8)) }
    static func parse(_ bytes: [UInt8]) throws -> SIPMessage { try SIPParser.parse(bytes) }
    static func string(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static let ueFlow = SIPFlow(transport: "TCP", address: "2001:db8:10::5", port: 5064, connectionID: "conn-7")
    static let otherFlow = SIPFlow(transport: "TCP", address: "2001:db8:10::99", port: 5064)
    static let t0 = TransactionInstant(sinceOrigin: .seconds(1000))

    static var config: PCSCFConfiguration {
        var c = PCSCFConfiguration()
        c.pathURI = "sip:term@pcscf.ims.mnc001.mcc001.3gppnetwork.org;lr"
        c.originatingRecordRouteURI = "sip:mo@pcscf.ims.mnc001.mcc001.3gppnetwork.org;lr"
        c.terminatingRecordRouteURI = "sip:mt@pcscf.ims.mnc001.mcc001.3gppnetwork.org;lr"
        c.localAliases = ["[2001:db8:1::1]:5068"]
        c.registrarNextHops = ["sip:icscf.ims.mnc001.mcc001.3gppnetwork.org;lr"]
        return c
    }

    static func pcscf(_ config: PCSCFConfiguration = Fx.config, store: InMemoryRegistrationStore = InMemoryRegistrationStore()) -> PCSCF {
        PCSCF(configuration: config, store: store, ids: SequentialIdentifierSource(prefix: "t"))
    }

    /// Runs REGISTER (register-protected) + 200 (register-200) so that the UE is registered on `flow`.
    @discardableResult
    static func register(_ p: inout PCSCF, flow: SIPFlow = Fx.ueFlow, now: TransactionInstant = Fx.t0,
                         responseEdits: [(String, String)] = []) async throws -> RegisterResponseResult {
        guard case .forward(_, _, let ctx) = p.registerFromUE(try message("register-protected"), flow: flow) else {
            Issue.record("REGISTER not forwarded"); throw CancellationError()
        }
        return await p.registerResponse(try message("register-200", responseEdits), context: ctx, now: now)
    }
}

extension SIPMessage {
    /// Values of every line of header `name`, in order.
    func values(_ name: String) -> [String] { headerIndices(named: name).map { value(of: headers[$0]) } }
}
