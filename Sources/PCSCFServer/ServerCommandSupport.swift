// What the server subcommands (`pcscf`, `proxy`) share: listener flags -> transport configuration,
// --log-level / --tls-verify parsing, logging bootstrap and the "listening" line.
import ArgumentParser
import Foundation
import Logging
import ProxyRuntime
import SIPTransport

/// Flags both server subcommands take.
struct ServerCommonOptions: ParsableArguments {
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain for tls listeners.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key for tls listeners.")
    var tlsKey: String?

    @Option(name: .customLong("tls-verify"), help: "Outgoing TLS certificate check: full or none.")
    var tlsVerify = "full"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"
}

enum ServerCommandSupport {
    /// `transport:host:port` listener flags per side; `tls` listeners take the certificate and key.
    static func listeners(gm: [String], mw: [String], tlsCert: String?, tlsKey: String?) throws -> [SIPListenerConfiguration] {
        var listeners: [SIPListenerConfiguration] = []
        for (side, specs) in [(SIPSide.gm, gm), (SIPSide.mw, mw)] {
            for text in specs {
                guard let spec = ProxyListenSpec(parsing: text) else { throw ValidationError("bad listener \(text) (transport:host:port)") }
                var tls: SIPTLSServerSettings?
                if spec.transport == .tls {
                    guard let tlsCert, let tlsKey else { throw ValidationError("tls listener \(text) needs --tls-cert and --tls-key") }
                    tls = SIPTLSServerSettings(certificateChainPath: tlsCert, privateKeyPath: tlsKey)
                }
                listeners.append(SIPListenerConfiguration(side: side, transport: spec.transport, host: spec.host, port: spec.port, tls: tls))
            }
        }
        return listeners
    }

    static func logLevel(_ text: String) throws -> Logger.Level {
        guard let level = Logger.Level(rawValue: text.lowercased()) else { throw ValidationError("unknown --log-level \(text)") }
        return level
    }

    static func tlsVerify(_ text: String) throws -> SIPTLSClientSettings.Verify {
        guard let verify = SIPTLSClientSettings.Verify(rawValue: text) else { throw ValidationError("--tls-verify is full or none") }
        return verify
    }

    /// swift-log to stderr at `level`; returns the command's logger.
    static func bootstrapLogging(_ level: Logger.Level, label: String) -> Logger {
        LoggingSystem.bootstrap { name in
            var handler = StreamLogHandler.standardError(label: name)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }

    /// `side=transport:host:port` for every bound listener (the "listening" line tests and benches wait for).
    static func boundListeners(_ transport: SIPTransportService) -> String {
        transport.listeners.map {
            "\($0.side.rawValue)=\(ProxyListenSpec(transport: $0.transport, host: $0.configuration.host, port: $0.port))"
        }.joined(separator: " ")
    }
}
