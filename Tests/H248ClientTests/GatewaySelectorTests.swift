// Covers the documented gateway-selection choice (issue 6 item 3): round-robin over in-service
// gateways in configuration order (default) or first available; nil when none accepts sessions.
import Testing
@testable import H248Client

@Suite("Gateway selection (issue 6 item 3)")
struct GatewaySelectorTests {
    let gateways = [
        GatewayCandidate(name: "agw1", acceptsNewSessions: true),
        GatewayCandidate(name: "agw2", acceptsNewSessions: false),
        GatewayCandidate(name: "agw3", acceptsNewSessions: true),
    ]

    @Test("roundRobin: rotates over available gateways in configuration order, skipping unavailable ones")
    func roundRobin() {
        var sel = GatewaySelector(policy: .roundRobin)
        #expect([sel.select(from: gateways), sel.select(from: gateways), sel.select(from: gateways)] == ["agw1", "agw3", "agw1"])
        var changed = gateways
        changed[1].acceptsNewSessions = true
        #expect(sel.select(from: changed) == "agw2")
    }

    @Test("firstAvailable: always the first available gateway in configuration order")
    func firstAvailable() {
        var sel = GatewaySelector(policy: .firstAvailable)
        #expect(sel.select(from: gateways) == "agw1")
        #expect(sel.select(from: gateways) == "agw1")
        var down = gateways
        down[0].acceptsNewSessions = false
        #expect(sel.select(from: down) == "agw3")
    }

    @Test("No gateway available → nil", arguments: [GatewaySelectionPolicy.roundRobin, .firstAvailable])
    func none(policy: GatewaySelectionPolicy) {
        var sel = GatewaySelector(policy: policy)
        #expect(sel.select(from: gateways.map { GatewayCandidate(name: $0.name, acceptsNewSessions: false) }) == nil)
        #expect(sel.select(from: []) == nil)
    }
}
