// `pcscf-alg iq-probe`: lab engineers point a gateway at it to see whether it speaks Iq. It waits for
// the gateway's ServiceChange registration, then runs one e2ae MSRP stream through the procedures
// (reserve core + access, configure, release) and an audit of every context, printing each step.
import ArgumentParser
import Foundation
import H248Client
import H248Codec

struct IqProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iq-probe",
        abstract: "Wait for an Iq gateway (H.248 MG) to register, then run one e2ae MSRP stream through it.",
        discussion: """
        Example against the OTP megaco MG peer:
          pcscf-alg iq-probe --listen udp:127.0.0.1:2944 &
          escript Tests/Peers/megaco_mg.escript --mgc 127.0.0.1:2944 --transport udp --local-port 2945
        Exit status 0 when every step succeeded and no context is left on the gateway; 3 when the
        transport cannot be opened (e.g. sctp: on a kernel without SCTP).
        """
    )

    @Option(help: "Address to listen on: [udp:|tcp:|sctp:]host:port (sctp: H.248.4, needs kernel SCTP).")
    var listen = "udp:127.0.0.1:2944"

    @Flag(help: "Use TCP with TPKT framing (H.248.1 Annex D.2) instead of the --listen scheme.")
    var tcp = false

    @Flag(help: "Send compact tokens (default: pretty).")
    var compact = false

    @Option(help: "Seconds to wait for the gateway's registration.")
    var wait: Int = 60

    @Flag(help: "Print every H.248 message sent and received.")
    var trace = false

    func run() async throws {
        var address = try H248ListenAddress(parsing: listen)
        if tcp { address.kind = .tcp }
        guard let port = UInt16(exactly: address.port), port != 0 else {
            throw ValidationError("--listen needs a fixed port (the gateway must know where to register)")
        }
        var config = IqClientConfiguration(mid: .address(address.host, port: port), form: compact ? .compact : .pretty)
        config.association.keepAliveInterval = nil
        let traceFunction: (@Sendable (String) -> Void)? = trace ? { @Sendable line in print(line) } : nil
        let client: IqClient
        do {
            client = try await IqClient.listen(address, configuration: config, trace: traceFunction)
        } catch let e as H248ClientError {
            // E.g. sctp on a kernel without SCTP (platform-notes §6): fail at once, naming the cause.
            print("iq-probe: cannot listen on \(address): \(e)")
            throw ExitCode(3)
        }
        print("iq-probe: listening on \(address) (\(compact ? "compact" : "pretty")); waiting \(wait) s for a gateway")
        let version: Int
        do {
            version = try await client.waitForRegistration(timeout: .seconds(wait))
        } catch {
            print("iq-probe: no gateway registered: \(error)")
            await client.close()
            throw ExitCode(2)
        }
        print("iq-probe: gateway registered, H.248 version \(version)")
        do {
            let outcome = try await IqE2AESession().run(on: client) { print($0) }
            await client.close()
            if outcome.contextsLeft != 0 {
                print("iq-probe: FAILED: \(outcome.contextsLeft) context(s) left on the gateway")
                throw ExitCode(1)
            }
            print("iq-probe: OK")
        } catch let e as IqError {
            print("iq-probe: FAILED: \(e)")
            await client.close()
            throw ExitCode(1)
        }
    }
}
