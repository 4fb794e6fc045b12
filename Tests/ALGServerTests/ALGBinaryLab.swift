// The product as users run it, for the live IMS-ALG call cases (issue 9 §4): the built `pcscf-alg pcscf`
// binary with Gm on TCP (or UDP), Mw on UDP, the core SIPp as next hop and Iq on UDP (compact), and the
// OTP megaco MG (Tests/Peers/megaco_mg.escript) registered to it as the IMS-AGW. What the in-process
// harness read from the actors, this one reads from the binary's log (one info line per session
// established and per session ended) and from the MG's own state (`MG LIVE contexts=… terminations=…`
// after every transaction the MGC sent).
import ALGTestSupport
import Foundation
import Testing

final class ALGBinaryLab: @unchecked Sendable {
    let process: LiveProcess
    let mg: OTPMG
    /// The Gm listener's port (TCP, or UDP with `gmUDP`).
    let gm: Int

    private init(process: LiveProcess, mg: OTPMG, gm: Int) {
        self.process = process; self.mg = mg; self.gm = gm
    }

    /// Starts the binary and the MG and waits until the MG registered (`--iq-wait`: the SIP listeners
    /// open only then). Nil when the binary is not built (skip; a failure under CI=true).
    static func start(corePort: Int, gmUDP: Bool, mgExtra: [String]) async throws -> ALGBinaryLab? {
        let binary = TestRepository.url(".build/debug/pcscf-alg").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            if LiveTool.isCI { Issue.record("\(binary) not built (swift build --build-tests builds it)") } else { print("skipping: \(binary) not built") }
            return nil
        }
        let (gm, iq) = (PCSCFLive.freePort(), try await OTPMG.freePort())
        let level = ProcessInfo.processInfo.environment["ALG_LOG"] ?? "info"
        let process = LiveProcess(binary, [
            "pcscf", "--gm", "\(gmUDP ? "udp" : "tcp"):127.0.0.1:\(gm)", "--mw", "udp:127.0.0.1:\(PCSCFLive.freePort())",
            "--core-next-hop", "sip:127.0.0.1:\(corePort);lr", "--domain", "pcscf.test",
            "--iq", "udp:127.0.0.1:\(iq)", "--iq-wait", "20", "--echo-applied", "--log-level", level,
            "--set", "iq.encoding=compact", "--set", "iq.timers.long_timer=5s", "--set", "alg.setup_timeout=60s",
        ])
        try process.start()
        let mg: OTPMG
        do {
            mg = try OTPMG(mgcPort: iq, localPort: try await OTPMG.freePort(), duration: 45,
                           extra: ["--port-base", "41000", "--media-ip", "127.0.0.1"] + mgExtra)
        } catch {
            process.stop()
            throw error
        }
        let lab = ALGBinaryLab(process: process, mg: mg, gm: gm)
        guard await eventually(timeout: 25, { process.stderr.contains("pcscf-alg pcscf listening") }) else {
            Issue.record("pcscf-alg did not open its listeners: \(process.stderr.suffix(2000))\nMG: \(mg.text)")
            lab.stop()
            return nil
        }
        return lab
    }

    var log: String { process.stderr }

    /// Sessions that reached established ("session established" lines).
    var establishments: Int { log.components(separatedBy: ": session established; ").count - 1 }

    /// Polls (up to 5 s) until the binary's last session line says no session is active (true at
    /// once when no session was ever created).
    func drained() async -> Bool {
        await eventually(timeout: 5) {
            guard let last = self.log.split(separator: "\n").last(where: { $0.contains(" sessions active") }) else { return true }
            return last.hasSuffix(" 0 sessions active")
        }
    }

    /// The gateway audit: the MG's own count after the last transaction the MGC sent is zero contexts
    /// and zero terminations (true at once when the MGC never sent one). Polls up to 5 s, since the MG's
    /// log can lag behind its replies.
    func gatewayHoldsNoContext() async -> Bool {
        await eventually(timeout: 5) {
            guard let last = self.mg.text.split(separator: "\n").last(where: { $0.hasPrefix("MG LIVE ") }) else { return true }
            return last == "MG LIVE contexts=0 terminations=0"
        }
    }

    func stop() {
        process.stop()
        mg.stop()
    }
}
