import Testing
import SDPCore
@testable import SDPRewrite

@Suite("specs.md §4 decision table (TS 33.328 §7.2.1/§7.3.1, seed 004 step 1, TI-23334-v)")
struct DecisionRuleTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var source: Side
        var proto: String
        var indicator: E2AEIndicator?
        var flags: MediaSecurityFlags
        var expected: StreamTreatment
        var testDescription: String { "\(source.rawValue) \(proto) \(String(describing: indicator)) -> \(expected.rawValue)" }
    }

    static let msrpOnly = MediaSecurityFlags(ue: [.msrpTLS], network: [.msrpTLS])
    static let rows: [Row] = [
        Row(source: .access, proto: "TCP/TLS/MSRP", indicator: .requested, flags: .all, expected: .e2ae),
        Row(source: .access, proto: "TCP/TLS/BFCP", indicator: .requested, flags: .all, expected: .e2ae),
        Row(source: .access, proto: "TCP/TLS/MSRP", indicator: nil, flags: .all, expected: .e2e),
        Row(source: .access, proto: "TCP/TLS/BFCP", indicator: .requested, flags: msrpOnly, expected: .e2e),
        Row(source: .access, proto: "TCP/MSRP", indicator: .requested, flags: .all, expected: .plain),
        Row(source: .access, proto: "TCP/BFCP", indicator: nil, flags: .all, expected: .plain),
        Row(source: .core, proto: "TCP/MSRP", indicator: nil, flags: .all, expected: .e2ae),
        Row(source: .core, proto: "TCP/BFCP", indicator: nil, flags: .all, expected: .e2ae),
        Row(source: .core, proto: "TCP/TLS/MSRP", indicator: nil, flags: .all, expected: .e2e),
        Row(source: .core, proto: "TCP/MSRP", indicator: nil, flags: .none, expected: .plain),
        Row(source: .core, proto: "TCP/BFCP", indicator: nil, flags: msrpOnly, expected: .plain),
        Row(source: .access, proto: "RTP/AVP", indicator: nil, flags: .all, expected: .rtp),
        Row(source: .access, proto: "RTP/SAVP", indicator: .requested, flags: .all, expected: .rtp),
        Row(source: .core, proto: "udptl", indicator: nil, flags: .all, expected: .passThrough),
    ]

    @Test("specs.md §4: per m-line decision by direction, proto, a=3ge2ae and registration flags", arguments: rows)
    func table(row: Row) throws {
        let (_, t) = try DecisionRule.decide(source: row.source, proto: Substring(row.proto), indicator: row.indicator,
                                             flags: row.flags, policy: .default, index: 0)
        #expect(t == row.expected)
    }

    @Test("TS 33.328 §7.1 / specs.md pitfall 16: the network flag alone is not enough unless policy waives the UE indication")
    func registrationIndication() throws {
        let netOnly = MediaSecurityFlags(ue: [], network: [.msrpTLS])
        #expect(try DecisionRule.decide(source: .core, proto: "TCP/MSRP", indicator: nil, flags: netOnly, policy: .default, index: 0).1 == .plain)
        var p = RewritePolicy()
        p.requireUERegistrationIndication = false
        #expect(try DecisionRule.decide(source: .core, proto: "TCP/MSRP", indicator: nil, flags: netOnly, policy: p, index: 0).1 == .e2ae)
    }

    @Test("specs.md §4 row 3 [U]: requested without registration is e2e by default, 488 when configured")
    func requestedWithoutRegistration() {
        var p = RewritePolicy()
        p.requestedWithoutRegistration = .reject
        #expect { try DecisionRule.decide(source: .access, proto: "TCP/TLS/MSRP", indicator: .requested, flags: .none, policy: p, index: 2) }
            throws: { ($0 as? RewriteError)?.code == .e2aeNotAllowed && ($0 as? RewriteError)?.sipStatus == 488 && ($0 as? RewriteError)?.stream == 2 }
    }

    @Test("Policy unknownProtocol=reject: an unknown proto is a 488 with Warning 302")
    func unknownProto() {
        var p = RewritePolicy()
        p.unknownProtocol = .reject
        #expect { try DecisionRule.decide(source: .access, proto: "udptl", indicator: nil, flags: .all, policy: p, index: 0) }
            throws: { ($0 as? RewriteError)?.warningCode == 302 }
    }

    @Test("TS 33.328 §7.2.1 step 3, §7.3.1 step 4: proto swaps in both directions")
    func protoSwap() throws {
        var s = RewriteSession(flags: .all)
        let (_, toCore) = try T.exchange(&s, offer: T.ueMSRP(), direction: .originating)
        #expect(toCore.media[0].proto == "TCP/MSRP")
        var s2 = RewriteSession(flags: .all)
        let (_, toUE) = try T.exchange(&s2, offer: T.coreBFCP(), direction: .terminating)
        #expect(toUE.media[0].proto == "TCP/TLS/BFCP")
        var s3 = RewriteSession(flags: .all)
        let (_, answerToCore) = try T.exchange(&s3, offer: T.coreMSRP(), answer: T.ueMSRP(setup: "active", requested: false), direction: .terminating)
        #expect(answerToCore.media[0].proto == "TCP/MSRP")
        var s4 = RewriteSession(flags: .all)
        let (_, answerToUE) = try T.exchange(&s4, offer: T.ueBFCP(), answer: T.coreBFCP(setup: "active"), direction: .originating)
        #expect(answerToUE.media[0].proto == "TCP/TLS/BFCP")
    }
}
