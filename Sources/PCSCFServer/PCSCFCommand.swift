// `pcscf-alg pcscf`: the P-CSCF (TS 24.229 §5.2) on the running proxy: Gm listeners towards the UEs,
// Mw listeners towards the core, REGISTER to the core next hops (failover order), media-security
// capabilities (`Security-Server: ...;mediasec`), identity assertion, Service-Route / Path routing.
import ALGServer
import ArgumentParser
import Dispatch
import Foundation
import H248Client
import IMSALG
import Logging
import ProxyRuntime
import SDPRewrite
import ServiceLifecycle
import SIPTransport

struct PCSCFCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pcscf",
        abstract: "Run the P-CSCF / IMS-ALG until SIGTERM/SIGINT (graceful drain), configured by one YAML file.",
        discussion: """
        Configuration: the embedded default (the loopback lab, Fixtures/config/pcscf-alg.yaml), then --config FILE, then the environment (PCSCF_<KEY_PATH>, e.g. PCSCF_SIP_GM_UDP), then the flags and --set key.path=value. Every key: Docs/configuration.md; check a file with `pcscf-alg check-config FILE`.

        Prints "pcscf-alg pcscf listening ..." to stderr when ready. SIGTERM/SIGINT: new INVITEs get 503 with Retry-After (shutdown.retry_after), established dialogs may end until shutdown.drain_timeout, then a ServiceChange (Graceful) goes to the IMS-AGW and the process exits 0.

        SIGUSR1 logs every stored binding with its media-security flags (notice level; identities only with --log-level debug).

        Example: pcscf-alg pcscf --config pcscf.yaml --set sip.gm.tls=0.0.0.0:5061 --set shutdown.drain_timeout=60s
        """
    )

    @Option(name: .customLong("config"), help: "YAML configuration file (Docs/configuration.md). Default: the embedded loopback lab.")
    var config: String?

    @Option(name: .customLong("set"), help: "Override one key: key.path=value (lists comma-separated), repeatable; wins over file and environment.")
    var set: [String] = []

    @Option(name: .customLong("gm"), help: "Gm (UE side) listener transport:host:port, repeatable (udp, tcp, tls); replaces sip.gm.udp/tcp/tls.")
    var gm: [String] = []

    @Option(name: .customLong("mw"), help: "Mw (core side) listener transport:host:port, repeatable; replaces sip.mw.udp/tcp/tls.")
    var mw: [String] = []

    @Option(name: .customLong("core-next-hop"), help: "I-CSCF/S-CSCF URI for REGISTER, repeatable, failover order (sip.core_next_hops).")
    var coreNextHop: [String] = []

    @Option(name: .customLong("domain"), help: "The P-CSCF's domain (sip.domain).")
    var domain: String?

    @Option(name: .customLong("advertise"), help: "Host written into Path (sip.advertised_host).")
    var advertise: String?

    @Option(name: .customLong("mediasec"), help: "Network media security announced with ;mediasec: msrp-tls,bfcp-tls,sdes-srtp or none (pcscf.mediasec).")
    var mediasec: String?

    @Option(name: .customLong("iq"), help: "Iq (H.248) listen address udp:host:port or tcp:host:port (iq.listen); turns the IMS-ALG on.")
    var iq: String?

    @Flag(name: .customLong("iq-pretty"), help: "Send pretty H.248 tokens on Iq (iq.encoding=pretty).")
    var iqPretty = false

    @Option(name: .customLong("iq-wait"), help: "Seconds to wait at start for the IMS-AGW to register (iq.wait_for_gateway).")
    var iqWait: Int?

    @Flag(name: .customLong("no-iq"), help: "Run without an IMS-AGW: SDP passes unchanged (iq.enabled=false).")
    var noIq = false

    @Flag(name: .customLong("echo-applied"), help: "Also put a=3ge2ae:applied in answers sent to the UE (alg.policy.indicate_applied_in_answer, specs.md U9).")
    var echoApplied = false

    @Option(name: .customLong("log-format"), help: "text or json (logging.format).")
    var logFormat: String?

    @OptionGroup var common: ServerCommonOptions

    /// The configuration from every layer; the flags are command-line overrides like --set.
    func loadConfiguration(environment: [String: String]) throws -> PCSCFConfigFile {
        var c = PCSCFConfigFile.load(file: config, environment: environment)
        let cli = "command line"
        for (side, specs) in [("gm", gm), ("mw", mw)] where !specs.isEmpty {
            var byKind: [String: [String]] = ["udp": [], "tcp": [], "tls": []]
            for text in specs {
                guard let spec = ProxyListenSpec(parsing: text) else { throw ValidationError("bad listener \(text) (transport:host:port)") }
                let host = spec.host.contains(":") ? "[\(spec.host)]" : spec.host
                byKind[spec.transport.rawValue.lowercased(), default: []].append("\(host):\(spec.port)")
            }
            for (kind, items) in byKind { c.setList("sip.\(side).\(kind)", items, source: cli) }
        }
        if !coreNextHop.isEmpty { c.setList("sip.core_next_hops", coreNextHop, source: cli) }
        if let domain { c.setScalar("sip.domain", domain, source: cli) }
        if let advertise { c.setScalar("sip.advertised_host", advertise, source: cli) }
        if let mediasec { c.setScalar("pcscf.mediasec", mediasec, source: cli) }
        if let cert = common.tlsCert { for side in ["gm", "mw"] { c.setScalar("sip.\(side).tls_certificate", cert, source: cli) } }
        if let key = common.tlsKey { for side in ["gm", "mw"] { c.setScalar("sip.\(side).tls_private_key", key, source: cli) } }
        if common.tlsVerify != "full" { c.setScalar("sip.tls_verify", common.tlsVerify, source: cli) }
        if common.logLevel != "info" { c.setScalar("logging.level", common.logLevel.lowercased(), source: cli) }
        if let logFormat { c.setScalar("logging.format", logFormat, source: cli) }
        if let iq { c.setScalar("iq.listen", iq, source: cli); c.setScalar("iq.enabled", "true", source: cli) }
        if noIq { c.setScalar("iq.enabled", "false", source: cli) }
        if iqPretty { c.setScalar("iq.encoding", "pretty", source: cli) }
        if let iqWait { c.setScalar("iq.wait_for_gateway", "\(max(0, iqWait))s", source: cli) }
        if echoApplied { c.setScalar("alg.policy.indicate_applied_in_answer", "true", source: cli) }
        for o in set { c.merge(override: o, source: "--set") }
        return c
    }

    func run() async throws {
        let file = try loadConfiguration(environment: ProcessInfo.processInfo.environment)
        var run: PCSCFRunSettings
        do { run = try file.settings() } catch {
            FileHandle.standardError.write(Data("pcscf-alg: invalid configuration\n\(error.description)\n".utf8))
            throw ExitCode(2)
        }
        run.service.runsReaperTask = false   // the ServiceGroup runs it
        PCSCFLogging.bootstrap(level: run.logLevel, json: run.jsonLogs)
        var logger = Logger(label: "pcscf-alg.pcscf")
        logger.logLevel = run.logLevel

        let service: PCSCFService
        do { service = try await PCSCFService.start(run.service, logger: logger) } catch let e as PCSCFServiceError {
            throw ValidationError(e.description)
        }
        let bound = ServerCommandSupport.boundListeners(service.server.transport)
        let line = "pcscf-alg pcscf listening \(bound) path=\(service.configuration.pathURI) core=\(run.service.coreNextHops.joined(separator: ","))\n"

        // SIGUSR1: dump the bindings (the admin view); identities only at debug.
        signal(SIGUSR1, SIG_IGN)
        let dump = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: DispatchQueue(label: "pcscf-alg.dump"))
        let log = logger
        let redact = run.logLevel > .debug
        dump.setEventHandler {
            Task {
                let all = await service.bindings()
                log.notice("\(all.count) binding(s)")
                for b in all { log.notice("binding \(redact ? Self.redacted(b) : b.description)") }
            }
        }
        dump.resume()

        // The group traps SIGTERM/SIGINT before any service runs, so the "listening" line (printed by
        // the first service) comes only once a signal can no longer kill the process.
        let ready = ReadyAnnouncement { FileHandle.standardError.write(Data(line.utf8)) }
        let group = ServiceGroup(services: [ready] + service.lifecycleServices(shutdown: run.shutdown),
                                 gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
        dump.cancel()
        logger.notice("stopped")
    }

    /// The binding line with the identities and the contact's user part redacted (info and above).
    static func redacted(_ b: PCSCFBindingView) -> String {
        var copy = b
        copy.binding.contact = ProxyLogFormat.redactUser(b.binding.contact)
        copy.binding.identities = b.binding.identities.map(ProxyLogFormat.redactUser)
        return copy.description
    }
}

/// Prints the ready line when the group runs, then waits for shutdown.
struct ReadyAnnouncement: Service {
    let announce: @Sendable () -> Void
    func run() async throws {
        announce()
        try? await gracefulShutdown()
    }
}
