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
import SIPTransport

struct PCSCFCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pcscf",
        abstract: "Run the P-CSCF (registration, identity, Path/Service-Route, mediasec) until SIGINT/SIGTERM.",
        discussion: """
        REGISTER from Gm goes to the first usable --core-next-hop (failover order; names resolved with getaddrinfo at start and every minute). Prints "pcscf-alg pcscf listening ..." to stderr when ready.

        SIGUSR1 logs every stored binding with its media-security flags (notice level); --log-level debug also logs each binding as it is stored, refreshed, removed or swept.

        With --iq udp:127.0.0.1:2944 the IMS-ALG is on: an IMS-AGW (H.248 MG) registers there and INVITE/UPDATE offers and 18x/2xx answers are rewritten through it (e2ae MSRP/BFCP TLS on Gm, TCP on Mw).

        Example: pcscf-alg pcscf --gm tcp:127.0.0.1:5060 --mw udp:127.0.0.1:5070 --core-next-hop 'sip:127.0.0.1:6060;lr' --domain pcscf.ims.example --mediasec msrp-tls,bfcp-tls
        """
    )

    @Option(name: .customLong("gm"), help: "Gm (UE side) listener transport:host:port, repeatable (udp, tcp, tls). Default: udp and tcp on 127.0.0.1:5060.")
    var gm: [String] = []

    @Option(name: .customLong("mw"), help: "Mw (core side) listener transport:host:port, repeatable. Default: udp:127.0.0.1:5070.")
    var mw: [String] = []

    @Option(name: .customLong("core-next-hop"), help: "I-CSCF/S-CSCF URI for REGISTER, repeatable, failover order. Default: sip:127.0.0.1:5080;lr.")
    var coreNextHop: [String] = []

    @Option(name: .customLong("domain"), help: "The P-CSCF's domain (icid host, Warning agent, local alias).")
    var domain = "pcscf.ims.example"

    @Option(name: .customLong("advertise"), help: "Host written into Path (default: the Mw listener's host).")
    var advertise: String?

    @Option(name: .customLong("mediasec"), help: "Network media-security support announced with ;mediasec (msrp-tls,bfcp-tls,sdes-srtp; 'none').")
    var mediasec = "msrp-tls,bfcp-tls"

    @Option(name: .customLong("config"), help: "JSON file with PCSCFConfiguration keys (Docs/pcscf.md); flags override it.")
    var config: String?

    @Option(name: .customLong("iq"), help: "Iq (H.248) listen address for the IMS-AGW, udp:host:port or tcp:host:port; enables the IMS-ALG (SDP through the gateway). Default: udp:127.0.0.1:2944; --no-iq turns the ALG off.")
    var iq: String?

    @Flag(name: .customLong("iq-pretty"), help: "Send pretty H.248 tokens on Iq (default: compact).")
    var iqPretty = false

    @Option(name: .customLong("iq-wait"), help: "Seconds to wait at start for the IMS-AGW to register (offers get 503 until it does).")
    var iqWait: Int = 30

    @OptionGroup var common: ServerCommonOptions

    static let labGm = ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"]
    static let labMw = ["udp:127.0.0.1:5070"]
    static let labCore = "sip:127.0.0.1:5080;lr"
    static let labIq = "udp:127.0.0.1:2944"

    @Flag(name: .customLong("no-iq"), help: "Run without an IMS-AGW: SDP passes unchanged (no IMS-ALG).")
    var noIq = false

    @Flag(name: .customLong("echo-applied"), help: "Also put a=3ge2ae:applied in answers sent to the UE (specs.md U9; default: only in offers).")
    var echoApplied = false

    func run() async throws {
        let stop = SignalWaiter([SIGINT, SIGTERM])
        let level = try ServerCommandSupport.logLevel(common.logLevel)
        let verify = try ServerCommandSupport.tlsVerify(common.tlsVerify)
        // The loopback lab default (README): UE side on 5060, core side on 5070, S-CSCF at 5080, IMS-AGW
        // registering on Iq udp 2944. Each applies only when its flags are absent.
        let gm = gm.isEmpty ? Self.labGm : gm
        let mw = mw.isEmpty ? Self.labMw : mw
        let coreNextHop = coreNextHop.isEmpty ? [Self.labCore] : coreNextHop
        let iq = noIq ? nil : (iq ?? Self.labIq)
        let listeners = try ServerCommandSupport.listeners(gm: gm, mw: mw, tlsCert: common.tlsCert, tlsKey: common.tlsKey)
        var pcscf = PCSCFConfiguration()
        if let config {
            guard let data = FileManager.default.contents(atPath: config) else { throw ValidationError("cannot read \(config)") }
            do { pcscf = try JSONDecoder().decode(PCSCFConfiguration.self, from: data) } catch {
                throw ValidationError("\(config): \(error)")
            }
        }
        pcscf.networkMediaSecurity = try Self.mechanisms(mediasec)

        let logger = ServerCommandSupport.bootstrapLogging(level, label: "pcscf-alg.pcscf")

        let settings = PCSCFServiceConfiguration(
            pcscf: pcscf, listeners: listeners, coreNextHops: coreNextHop, domain: domain, advertisedHost: advertise,
            tlsClient: SIPTLSClientSettings(verify: verify),
            iq: try iq.map { text in
                let address: H248ListenAddress
                do { address = try H248ListenAddress(parsing: text) } catch { throw ValidationError("--iq \(text): \(error)") }
                var session = ALGSessionConfiguration()
                session.policy.indicateAppliedInAnswer = echoApplied
                return PCSCFIqSettings(listen: address, form: iqPretty ? .pretty : .compact, waitForGateway: .seconds(max(0, iqWait)),
                                       session: session)
            })
        let service: PCSCFService
        do { service = try await PCSCFService.start(settings, logger: logger) } catch let e as PCSCFServiceError {
            throw ValidationError(e.description)
        }
        let bound = ServerCommandSupport.boundListeners(service.server.transport)
        FileHandle.standardError.write(Data(
            "pcscf-alg pcscf listening \(bound) path=\(service.configuration.pathURI) core=\(coreNextHop.joined(separator: ","))\n".utf8))

        // SIGUSR1: dump the bindings (the admin view).
        signal(SIGUSR1, SIG_IGN)
        let dump = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: DispatchQueue(label: "pcscf-alg.dump"))
        let log = logger
        dump.setEventHandler {
            Task {
                let all = await service.bindings()
                log.notice("\(all.count) binding(s)")
                for b in all { log.notice("binding \(b)") }
            }
        }
        dump.resume()

        await stop.wait()
        dump.cancel()
        logger.notice("signal received, shutting down")
        await service.shutdown()
    }

    /// `msrp-tls,bfcp-tls` → the set; `none` or empty → no announcement.
    static func mechanisms(_ text: String) throws -> Set<MediaSecurityMechanism> {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        if names == ["none"] { return [] }
        var out: Set<MediaSecurityMechanism> = []
        for n in names {
            guard let m = MediaSecurityMechanism(rawValue: n) else {
                throw ValidationError("unknown --mediasec mechanism \(n) (msrp-tls, bfcp-tls, sdes-srtp)")
            }
            out.insert(m)
        }
        return out
    }
}
