// `transport:host:port` listener specifications of the `pcscf-alg proxy` command line.
public import SIPTransport

public struct ProxyListenSpec: Sendable, Equatable, CustomStringConvertible {
    public var transport: SIPTransportKind
    /// Host without brackets.
    public var host: String
    /// 0 picks an ephemeral port.
    public var port: Int

    public init(transport: SIPTransportKind, host: String, port: Int) {
        self.transport = transport; self.host = host; self.port = port
    }

    /// Parses `udp:127.0.0.1:5060`, `tcp:[::1]:5060`, `tls:0.0.0.0:5061` (transport case-insensitive).
    public init?(parsing text: String) {
        guard let colon = text.firstIndex(of: ":"),
              let kind = SIPTransportKind(rawValue: text[..<colon].uppercased()) else { return nil }
        let rest = text[text.index(after: colon)...]
        guard let portColon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: portColon)...]),
              (0...65_535).contains(port) else { return nil }
        var host = String(rest[..<portColon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(transport: kind, host: host, port: port)
    }

    public var description: String {
        "\(transport.rawValue.lowercased()):\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }
}
