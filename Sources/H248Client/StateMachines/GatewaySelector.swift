// Which configured IMS-AGW a new session uses (issue 6 item 3: "a documented choice").
// Pure: the caller passes the gateways in configuration order with their current availability.

/// One configured gateway as the selector sees it.
public struct GatewayCandidate: Sendable, Hashable {
    /// Configuration name of the gateway (stable key, e.g. `h248.gateways[n].name`).
    public var name: String
    /// Registered and in service (not lost, not out of service, not draining after Graceful).
    public var acceptsNewSessions: Bool

    public init(name: String, acceptsNewSessions: Bool) {
        self.name = name
        self.acceptsNewSessions = acceptsNewSessions
    }
}

/// Gateway selection policy (`h248.gatewaySelection`).
public enum GatewaySelectionPolicy: String, Sendable, Hashable, CaseIterable {
    /// Default: rotate over the gateways that accept new sessions, in configuration order,
    /// starting after the one chosen last. Spreads load; skips unavailable gateways.
    case roundRobin
    /// Always the first gateway in configuration order that accepts new sessions
    /// (primary/standby deployments).
    case firstAvailable
}

/// Pure gateway selector. Returns nil when no gateway accepts new sessions (the session layer
/// then rejects the call, e.g. SIP 503).
public struct GatewaySelector: Sendable {
    public let policy: GatewaySelectionPolicy
    private var lastChosen: String?

    public init(policy: GatewaySelectionPolicy = .roundRobin) {
        self.policy = policy
    }

    public mutating func select(from candidates: [GatewayCandidate]) -> String? {
        let available = candidates.indices.filter { candidates[$0].acceptsNewSessions }
        guard let firstIndex = available.first else { return nil }
        switch policy {
        case .firstAvailable:
            lastChosen = candidates[firstIndex].name
            return lastChosen
        case .roundRobin:
            var chosen = firstIndex
            if let last = lastChosen, let lastIndex = candidates.firstIndex(where: { $0.name == last }) {
                chosen = available.first(where: { $0 > lastIndex }) ?? firstIndex
            }
            lastChosen = candidates[chosen].name
            return lastChosen
        }
    }
}
