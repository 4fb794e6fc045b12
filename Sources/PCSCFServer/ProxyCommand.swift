// `pcscf-alg proxy`: the generic RFC 3261 stateful proxy (ProxyRuntime without IMS hooks). Used by
// the SIPp tests and by `pcscf-bench proxy` for CPU-per-call comparison with Kamailio; keep the flags
// stable (Docs/proxy-runtime.md).
import ArgumentParser
import Dispatch
import Foundation
import Logging
import ProxyRuntime
import SIPTransaction
import SIPTransport

struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Run the generic SIP stateful proxy (RFC 3261 §16) until SIGINT/SIGTERM.",
        discussion: """
        Requests from Gm go to --next-hop (out of Mw); requests from Mw go by Route / Request-URI out
        of Gm. Prints one line "pcscf-alg proxy listening ..." to stderr when ready.
        Example:
          pcscf-alg proxy --gm udp:127.0.0.1:5060 --gm tcp:127.0.0.1:5060 --mw udp:127.0.0.1:5070 \\
            --next-hop 'sip:127.0.0.1:5080;transport=udp'
        """
    )

    @Option(name: .customLong("gm"), help: "Gm (access side) listener transport:host:port, repeatable (udp, tcp, tls; port 0 = ephemeral).")
    var gm: [String] = []

    @Option(name: .customLong("mw"), help: "Mw (core side) listener transport:host:port, repeatable.")
    var mw: [String] = []

    @Option(name: .customLong("next-hop"), help: "SIP URI where initial requests from Gm go, e.g. 'sip:127.0.0.1:5080;transport=udp'.")
    var nextHop: String?

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain for tls listeners.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key for tls listeners.")
    var tlsKey: String?

    @Option(name: .customLong("tls-verify"), help: "Outgoing TLS certificate check: full or none.")
    var tlsVerify = "full"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Option(name: .customLong("max-transactions"), help: "Bound on live transactions (new requests beyond it get 503).")
    var maxTransactions = TransactionLayerConfiguration.defaultMaximumTransactions

    @Flag(name: .customLong("no-record-route"), help: "Do not insert Record-Route.")
    var noRecordRoute = false

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard let verify = SIPTLSClientSettings.Verify(rawValue: tlsVerify) else { throw ValidationError("--tls-verify is full or none") }
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
        guard !listeners.isEmpty else { throw ValidationError("give at least one --gm or --mw listener") }

        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "pcscf-alg.proxy")
        logger.logLevel = level

        // Branch tokens and tags unique across runs (RFC 3261 §8.1.1.7): start time and pid.
        let stamp = UInt64(Date().timeIntervalSince1970 * 1000) & 0xFFFF_FFFF
        let prefix = String(stamp, radix: 36) + String(ProcessInfo.processInfo.processIdentifier, radix: 36)
        let transport = SIPTransportConfiguration(listeners: listeners, warningAgent: "pcscf-alg",
                                                  tlsClient: SIPTLSClientSettings(verify: verify))
        let configuration = ProxyServerConfiguration(
            transport: transport, nextHop: nextHop, recordRoute: !noRecordRoute,
            transactions: TransactionLayerConfiguration(maximumTransactions: maxTransactions), idPrefix: prefix)
        let server = ProxyServer(configuration: configuration, logger: logger)
        try await server.start()
        let bound = server.transport.listeners.map {
            "\($0.side.rawValue)=\(ProxyListenSpec(transport: $0.transport, host: $0.configuration.host, port: $0.port))"
        }
        FileHandle.standardError.write(Data("pcscf-alg proxy listening \(bound.joined(separator: " ")) next-hop=\(nextHop ?? "-")\n".utf8))
        await SignalWaiter.wait(for: [SIGINT, SIGTERM])
        logger.notice("signal received, shutting down")
        await server.shutdown()
    }
}

/// Waits for the first of some signals (dispatch sources; the default action is ignored meanwhile).
enum SignalWaiter {
    final class Once: @unchecked Sendable {
        private let lock = NSLock()
        private var fired = false
        func take() -> Bool { lock.lock(); defer { lock.unlock() }; if fired { return false }; fired = true; return true }
    }

    nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []

    static func wait(for signals: [Int32]) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = Once()
            let queue = DispatchQueue(label: "pcscf-alg.signals")
            for sig in signals {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
                source.setEventHandler { if once.take() { continuation.resume() } }
                source.resume()
                sources.append(source)
            }
        }
    }
}
