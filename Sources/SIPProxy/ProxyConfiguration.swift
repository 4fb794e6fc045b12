// Configuration of the RFC 3261 §16 proxy core: our listeners (what "ours" means for §16.3 step 4,
// §16.4 and §16.6 step 4/8), Record-Route behaviour, supported extensions (§16.3 step 5).
import SIPCore

/// The side a listener faces. The core is IMS-agnostic: a P-CSCF maps Gm to `.access` and Mw to
/// `.core`; a plain proxy may use one side only.
public enum ProxySide: String, Sendable, Hashable {
    case access
    case core
}

/// One listening address of the proxy (host and port per listener and side).
public struct ProxyListener: Sendable, Hashable {
    /// Host as it appears in URIs and Via (an IPv6 address without brackets, or a name).
    public var host: String { didSet { hostPort = Self.hostPort(host, port) } }
    public var port: Int { didSet { hostPort = Self.hostPort(host, port) } }
    /// `UDP`, `TCP` or `TLS` (upper case, as in Via).
    public var transport: String
    public var side: ProxySide

    public init(host: String, port: Int, transport: String, side: ProxySide) {
        let normalised = SIPURIParts.normalisedHost(host)
        self.host = normalised
        self.port = port
        self.transport = transport.uppercased()
        self.side = side
        self.hostPort = Self.hostPort(normalised, port)
    }

    /// `host:port` as written in URIs and Via (IPv6 in brackets): kept with `host` and `port` (it goes into
    /// the Via of every forwarded request and into each Record-Route).
    public private(set) var hostPort: String

    private static func hostPort(_ host: String, _ port: Int) -> String {
        SIPProxyCore.joined(SIPURIParts.uriHost(host), ":", String(port))
    }

    /// A Record-Route / Route URI pointing at this listener (RFC 3261 §16.6 step 4).
    public func recordRouteValue(looseRouting: Bool) -> String {
        let scheme = transport == "TLS" ? "<sips:" : "<sip:"
        let transportParam = transport == "UDP" || transport == "TLS" ? "" : ";transport=" + transport.lowercased()
        return SIPProxyCore.joined(scheme, hostPort, transportParam, looseRouting ? ";lr>" : ">")
    }
}

/// Configuration of `SIPProxyCore`.
public struct ProxyConfiguration: Sendable {
    /// Every local address; a URI whose host and port match one of them is "ours".
    public var listeners: [ProxyListener]
    /// Insert Record-Route on dialog-creating requests (RFC 3261 §16.6 step 4).
    public var recordRoute: Bool
    /// Put `;lr` in our Record-Route values (RFC 3261 §19.1.1; configurable for strict-routing peers).
    public var recordRouteLooseRouting: Bool
    /// Methods that get Record-Route when `recordRoute` is on (dialog-creating requests, RFC 3261 §12,
    /// RFC 6665 SUBSCRIBE/REFER). Requests inside a dialog (To tag) are not record-routed.
    public var recordRouteMethods: Set<String>
    /// Option tags this proxy supports in Proxy-Require (RFC 3261 §16.3 step 5); compared
    /// case-insensitively.
    public var supportedExtensions: Set<String>
    /// warn-agent of the Warning header in our own responses (RFC 3261 §20.43).
    public var warningAgent: String

    public init(listeners: [ProxyListener], recordRoute: Bool = true, recordRouteLooseRouting: Bool = true,
                recordRouteMethods: Set<String> = ["INVITE", "SUBSCRIBE", "REFER", "NOTIFY"],
                supportedExtensions: Set<String> = [], warningAgent: String = "proxy") {
        self.listeners = listeners
        self.recordRoute = recordRoute
        self.recordRouteLooseRouting = recordRouteLooseRouting
        self.recordRouteMethods = recordRouteMethods
        self.supportedExtensions = Set(supportedExtensions.map { $0.lowercased() })
        self.warningAgent = warningAgent
    }

    /// True when `uri` names one of our listeners (host and port; default port from the scheme).
    public func isOurs(_ uri: SIPURIParts) -> Bool {
        listeners.contains { $0.host == uri.host && $0.port == uri.effectivePort }
    }

    /// True when the sent-by of the Via element `hop` describes is one of ours (default port from the transport).
    func isOurs(hop: SIPViaHop) -> Bool {
        let host = SIPURIParts.normalisedHost(hop.host)
        let port = hop.port ?? (hop.transport.foldedASCIICase(upper: true) == "TLS" ? 5061 : 5060)
        return listeners.contains { $0.host == host && $0.port == port }
    }
}
