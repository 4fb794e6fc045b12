// `pcscf-alg proxy`: the generic RFC 3261 stateful proxy (ProxyRuntime without IMS hooks). Used by
// the SIPp tests and by `pcscf-bench proxy` for CPU-per-call comparison with Kamailio; keep the flags
// stable (Docs/proxy-runtime.md).
import ArgumentParser
import Foundation
import Logging
import ProxyRuntime
import SIPTransaction
import SIPTransport
import UnixSignals

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

    @Option(name: .customLong("max-transactions"), help: "Bound on live transactions (new requests beyond it get 503).")
    var maxTransactions = TransactionLayerConfiguration.defaultMaximumTransactions

    @Flag(name: .customLong("no-record-route"), help: "Do not insert Record-Route.")
    var noRecordRoute = false

    @Flag(name: .customLong("no-libosip2-check"),
          help: "Judge received messages with SIPCore's scanner alone (malformed input still gets 400/505/513); skip the libosip2 syntax check.")
    var noLibOSIP2Check = false

    @OptionGroup var common: ServerCommonOptions

    func run() async throws {
        // Trapped at the start of run(), before the "listening" line, so a signal that arrives between that
        // line and the wait still stops the process cleanly (swift-service-lifecycle UnixSignals).
        let stop = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let level = try ServerCommandSupport.logLevel(common.logLevel)
        let verify = try ServerCommandSupport.tlsVerify(common.tlsVerify)
        let listeners = try ServerCommandSupport.listeners(gm: gm, mw: mw, tlsCert: common.tlsCert, tlsKey: common.tlsKey)
        guard !listeners.isEmpty else { throw ValidationError("give at least one --gm or --mw listener") }

        let logger = ServerCommandSupport.bootstrapLogging(level, label: "pcscf-alg.proxy")

        // Branch tokens and tags unique across runs (RFC 3261 §8.1.1.7): start time and pid.
        let stamp = UInt64(Date().timeIntervalSince1970 * 1000) & 0xFFFF_FFFF
        let prefix = String(stamp, radix: 36) + String(ProcessInfo.processInfo.processIdentifier, radix: 36)
        var transport = SIPTransportConfiguration(listeners: listeners, warningAgent: "pcscf-alg",
                                                  tlsClient: SIPTLSClientSettings(verify: verify))
        transport.validatesWithLibOSIP2 = !noLibOSIP2Check
        let configuration = ProxyServerConfiguration(
            transport: transport, nextHop: nextHop, recordRoute: !noRecordRoute,
            transactions: TransactionLayerConfiguration(maximumTransactions: maxTransactions), idPrefix: prefix)
        let server = ProxyServer(configuration: configuration, logger: logger)
        try await server.start()
        let bound = ServerCommandSupport.boundListeners(server.transport)
        FileHandle.standardError.write(Data("pcscf-alg proxy listening \(bound) next-hop=\(nextHop ?? "-")\n".utf8))
        var signals = stop.makeAsyncIterator()
        _ = await signals.next()
        logger.notice("signal received, shutting down")
        await server.shutdown()
    }
}
