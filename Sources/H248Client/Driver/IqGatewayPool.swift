// Several configured IMS-AGWs (issue 6 item 3). One `IqClient` per configured gateway, each with
// its own MGC listen address (the gateway is provisioned with that address as its MGC), and the
// pure `GatewaySelector` choosing the gateway of each new session: round-robin over the gateways
// in service by default, or the first in service (primary/standby). A session stays on the
// gateway it was given; only new sessions are spread.

import NIOCore
import NIOPosix

/// One configured gateway: a stable name and the address its MGC association listens on.
public struct IqGatewayConfiguration: Sendable, Hashable {
    /// Configuration name (`h248.gateways[n].name`), the selector's key.
    public var name: String
    public var listen: H248ListenAddress

    public init(name: String, listen: H248ListenAddress) {
        self.name = name
        self.listen = listen
    }
}

/// Bounds of the pool.
public enum IqGatewayPoolLimits {
    /// Gateways one MGC serves (each has a socket and an association); configuration is refused above.
    public static let maximumGateways = 64
}

/// The configured gateways and the choice of one for a new session.
public actor IqGatewayPool {
    /// Name and client of every configured gateway, in configuration order.
    public nonisolated let gateways: [(name: String, client: IqClient)]
    private var selector: GatewaySelector

    /// Uses clients that already exist (tests, or a caller that opens transports itself).
    public init(clients: [(name: String, client: IqClient)], policy: GatewaySelectionPolicy = .roundRobin) throws(H248ClientError) {
        guard !clients.isEmpty, clients.count <= IqGatewayPoolLimits.maximumGateways else {
            throw H248ClientError(.invalidConfiguration,
                                  "\(clients.count) gateways configured (need 1...\(IqGatewayPoolLimits.maximumGateways))")
        }
        guard Set(clients.map(\.name)).count == clients.count else {
            throw H248ClientError(.invalidConfiguration, "gateway names must be unique: \(clients.map(\.name))")
        }
        self.gateways = clients
        self.selector = GatewaySelector(policy: policy)
    }

    /// Opens one listening client per configured gateway (all or nothing: on a failure the ones
    /// already opened are closed and the error is rethrown, e.g. `.sctpUnavailable`).
    public static func listen(
        _ configured: [IqGatewayConfiguration], configuration: IqClientConfiguration,
        policy: GatewaySelectionPolicy = .roundRobin,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        trace: (@Sendable (String) -> Void)? = nil
    ) async throws -> IqGatewayPool {
        var opened: [(name: String, client: IqClient)] = []
        do {
            guard Set(configured.map(\.listen)).count == configured.count else {
                throw H248ClientError(.invalidConfiguration, "two gateways share one listen address")
            }
            for g in configured {
                var c = configuration
                if case .address(let host, _) = c.mid, g.listen.port > 0, let port = UInt16(exactly: g.listen.port) {
                    c.mid = .address(host, port: port)
                }
                opened.append((g.name, try await IqClient.listen(g.listen, configuration: c, group: group, trace: trace)))
            }
            return try IqGatewayPool(clients: opened, policy: policy)
        } catch {
            for (_, client) in opened { await client.close() }
            throw error
        }
    }

    /// The gateway for a new session per the selection policy, or nil when none is in service
    /// (the session layer then refuses the call, e.g. SIP 503).
    public func selectForNewSession() async -> (name: String, client: IqClient)? {
        var candidates: [GatewayCandidate] = []
        for g in gateways { candidates.append(GatewayCandidate(name: g.name, acceptsNewSessions: await g.client.isRegistered)) }
        guard let name = selector.select(from: candidates) else { return nil }
        return gateways.first { $0.name == name }
    }

    /// The client of a named gateway (the one a running session was given).
    public nonisolated func client(named name: String) -> IqClient? {
        gateways.first { $0.name == name }?.client
    }

    /// Names of the gateways currently in service, in configuration order.
    public func inService() async -> [String] {
        var names: [String] = []
        for g in gateways where await g.client.isRegistered { names.append(g.name) }
        return names
    }

    public func close() async {
        for g in gateways { await g.client.close() }
    }
}
