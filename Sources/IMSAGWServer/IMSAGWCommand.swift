// ims-agw: the companion IMS-AGW (H.248 MG on Iq). Registers with the MGC, answers its commands,
// relays media (AGWMedia) or runs signalling-only (`--media none`), and on SIGTERM/SIGINT sends a
// Graceful ServiceChange and exits 0. Defaults form a loopback lab with `pcscf-alg pcscf`
// (Iq udp 127.0.0.1:2944). Docs/ims-agw.md lists every option.

import AGWRuntime
import ArgumentParser
import Foundation
import H248Client
import H248Codec
import IMSAGW
import Logging
import UnixSignals

@main
struct IMSAGWCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ims-agw",
        abstract: "IMS-AGW: an H.248 (Iq) media gateway that terminates TLS for MSRP/BFCP and relays to plain TCP.")

    @Option(help: "The MGC: udp|tcp|sctp:HOST:PORT (pcscf-alg's lab Iq listen).")
    var mgc = "udp:127.0.0.1:2944"

    @Option(help: "Our Iq address HOST:PORT (bound for UDP, source for TCP; port 0 = any).")
    var listen = "127.0.0.1:2946"

    @Option(help: "Our H.248 mId, e.g. [127.0.0.1]:2946 or <agw1.lab> (default: [listen host]:listen port).")
    var mid: String?

    @Option(help: "H.248 text form we send: pretty|compact.")
    var encoding = "pretty"

    @Option(name: .customLong("version"), help: "H.248.1 version offered in the ServiceChange (1...3).")
    var h248Version = 3

    @Option(help: "ServiceChange Profile NAME/VERSION (TS 29.334 §5.1; unknown, same default as pcscf-alg).")
    var profile = "iqprofile/1"

    @Flag(name: .customLong("warm-restart"), help: "Register with 902 Warm Boot instead of 901 Cold Boot.")
    var warmRestart = false

    @Option(name: .customLong("media"), help: "Media plane: relay (AGWMedia, TCP/TLS/UDP relay) or none (signalling only).")
    var mediaKind = "relay"

    @Option(name: .customLong("media-address"), help: "Address media ports are bound to and returned in Local c=.")
    var mediaAddress = "127.0.0.1"

    @Option(name: .customLong("media-ports"), help: "Media port range LOW-HIGH.")
    var mediaPorts = "40000-40999"

    @Option(name: .customLong("cert-mode"), help: "TLS certificate per stream or per gateway: stream|gateway.")
    var certMode = "stream"

    @Option(name: .customLong("cert"), help: "PEM certificate of the access-side TLS identity, used for every stream (with --key; its SHA-256 fingerprint goes in Local). Default: self-signed, generated.")
    var certFile: String?

    @Option(name: .customLong("key"), help: "PEM private key of --cert (must match it).")
    var keyFile: String?

    @Option(name: .customLong("fingerprint"), help: "Fingerprint returned with --media none (sha-256 HEX).")
    var fingerprint = "sha-256 " + Array(repeating: "00", count: 32).joined(separator: ":")

    @Option(help: "Heartbeat period in seconds for every hangterm/thb, overriding the MGC's timerx (default: timerx).")
    var heartbeat: UInt32?

    @Option(name: .customLong("default-heartbeat"), help: "Heartbeat period when hangterm/thb comes without timerx, seconds.")
    var defaultHeartbeat: UInt32 = 60

    @Option(name: .customLong("key-log"), help: "Write TLS session keys (NSS key log format) to this file. Off by default.")
    var keyLog: String?

    @Flag(name: .customLong("msrp-application-aware"),
          help: "Application-aware MSRP (seed 003): rewrite To-Path/From-Path on streams the MGC reserves as TCP/MSRP + TCP/TLS/MSRP. Off by default.")
    var msrpApplicationAware = false

    @Option(name: .customLong("log-level"), help: "trace|debug|info|notice|warning|error|critical.")
    var logLevel = "info"

    @Option(name: .customLong("term-prefix"), help: "Prefix of ephemeral TerminationIDs (<prefix>/<n>).")
    var termPrefix = "ip"

    // Package tokens the specs leave unknown (iq-tokens.md): the same defaults as pcscf-alg.
    @Option(name: .customLong("token-tls-establish")) var tlsEstablish = IqPackageTokens().tlsEstablishSignal
    @Option(name: .customLong("token-tls-failure")) var tlsFailure = IqPackageTokens().tlsEstablishFailureEvent
    @Option(name: .customLong("token-tcp-establish")) var tcpEstablish = IqPackageTokens().tcpEstablishSignal
    @Option(name: .customLong("token-tcp-failure")) var tcpFailure = IqPackageTokens().tcpEstablishFailureEvent
    @Option(name: .customLong("token-heartbeat")) var heartbeatEvent = IqPackageTokens().heartbeatEvent
    @Option(name: .customLong("token-interlinkage")) var interlinkage = IqPackageTokens().interlinkageProperty
    @Option(name: .customLong("token-bearer-released")) var bearerReleased = AGWConfiguration().bearerReleasedEvent

    func configuration() throws -> AGWRuntimeConfiguration {
        let mgcAddress: H248ListenAddress
        do { mgcAddress = try H248ListenAddress(parsing: mgc) } catch { throw ValidationError("--mgc \(mgc): \(error)") }
        let listenAddress: H248ListenAddress
        do { listenAddress = try H248ListenAddress(parsing: "\(mgcAddress.kind.rawValue):\(listen)") } catch { throw ValidationError("--listen \(listen): \(error)") }
        var c = AGWRuntimeConfiguration(mgc: mgcAddress, listen: listenAddress, mid: try mid.map(Self.parseMID))
        guard let form = H248TextForm(rawValue: encoding) else { throw ValidationError("--encoding is pretty or compact") }
        c.form = form
        guard (1...3).contains(h248Version) else { throw ValidationError("--version must be 1, 2 or 3") }
        c.registration.version = h248Version
        let pf = profile.split(separator: "/")
        guard pf.count == 2, let pv = Int(pf[1]), !pf[0].isEmpty else { throw ValidationError("--profile is NAME/VERSION") }
        c.registration.profile = ServiceChangeProfile(name: String(pf[0]), version: pv)
        c.gateway.tokens.profileName = String(pf[0])
        c.gateway.tokens.profileVersion = pv
        c.gateway.tokens.tlsEstablishSignal = tlsEstablish
        c.gateway.tokens.tlsEstablishFailureEvent = tlsFailure
        c.gateway.tokens.tcpEstablishSignal = tcpEstablish
        c.gateway.tokens.tcpEstablishFailureEvent = tcpFailure
        c.gateway.tokens.heartbeatEvent = heartbeatEvent
        c.gateway.tokens.interlinkageProperty = interlinkage
        c.gateway.bearerReleasedEvent = bearerReleased
        c.gateway.heartbeatOverrideSeconds = heartbeat
        c.gateway.defaultHeartbeatSeconds = defaultHeartbeat
        c.gateway.terminationPrefix = termPrefix
        c.warmStart = warmRestart
        return c
    }

    static func parseMID(_ text: String) throws -> MID {
        if text.hasPrefix("<"), let close = text.firstIndex(of: ">") {
            let name = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            return .domain(name, port: rest.hasPrefix(":") ? UInt16(rest.dropFirst()) : nil)
        }
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            return .address(host, port: rest.hasPrefix(":") ? UInt16(rest.dropFirst()) : nil)
        }
        guard !text.isEmpty else { throw ValidationError("--mid is empty") }
        return .device(text)
    }

    func portRange() throws -> ClosedRange<UInt16> {
        let p = mediaPorts.split(separator: "-")
        guard p.count == 2, let lo = UInt16(p[0]), let hi = UInt16(p[1]), lo <= hi else { throw ValidationError("--media-ports is LOW-HIGH") }
        return lo...hi
    }

    func run() async throws {
        // Trapped before anything else runs (swift-service-lifecycle UnixSignals), so an early SIGTERM is not lost.
        let stop = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else { throw ValidationError("unknown --log-level \(logLevel)") }
        LoggingSystem.bootstrap { name in
            var h = StreamLogHandler.standardError(label: name)
            h.logLevel = level
            return h
        }
        var logger = Logger(label: "ims-agw")
        logger.logLevel = level
        let config = try configuration()
        let media = try await makeMedia(logger: logger)
        let runtime = AGWRuntime(configuration: config, media: media, logger: logger)
        try await runtime.start()
        FileHandle.standardError.write(Data("ims-agw iq=\(config.mgc) from=\(await runtime.localAddress.map { "\($0)" } ?? listen) media=\(mediaKind)\n".utf8))
        var signals = stop.makeAsyncIterator()
        _ = await signals.next()
        logger.notice("signal received: Graceful ServiceChange, shutting down")
        await runtime.shutdown()
    }

    func makeMedia(logger: Logger) async throws -> any AGWMediaDriver {
        switch mediaKind {
        case "none":
            return AGWSignallingOnlyMedia(address: mediaAddress, ports: try portRange(), fingerprint: fingerprint)
        case "relay":
            return try await AGWMediaPlaneDriver.make(address: mediaAddress, ports: try portRange(), certificatePerStream: certMode == "stream",
                                                      certificateFile: certFile, keyFile: keyFile, keyLogFile: keyLog,
                                                      msrpApplicationAware: msrpApplicationAware, logger: logger)
        default:
            throw ValidationError("--media is relay or none")
        }
    }
}
