import ALGTestSupport
import Foundation
import Testing

/// The built `pcscf-alg` binary with no subcommand: the P-CSCF / IMS-ALG (the README's run command).
@Suite("pcscf-alg binary (default subcommand, Iq, signals)", .serialized)
struct PCSCFBinaryTests {
    @Test("`pcscf-alg` with no subcommand runs the P-CSCF, takes the OTP MG's Iq registration, and on SIGTERM sends ServiceChange Graceful (H.248.1 §7.2.8) and exits 0")
    func defaultSubcommand() async throws {
        guard OTPMG.available() else { return }
        let binary = TestRepository.url(".build/debug/pcscf-alg").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            if LiveTool.isCI { Issue.record("\(binary) not built (swift build --build-tests builds it)") } else { print("skipping: \(binary) not built") }
            return
        }
        let iqPort = try await OTPMG.freePort()
        let alg = LiveProcess(binary, ["--gm", "udp:127.0.0.1:0", "--gm", "tcp:127.0.0.1:0", "--mw", "udp:127.0.0.1:0",
                                       "--core-next-hop", "sip:127.0.0.1:\(LoopbackSocket.freePort());lr",
                                       "--iq", "udp:127.0.0.1:\(iqPort)", "--iq-wait", "40"])
        try alg.start()
        defer { alg.stop() }
        let mg = try OTPMG(mgcPort: iqPort, localPort: try await OTPMG.freePort(), duration: 45)
        defer { _ = mg.stop() }
        // The listeners come up only once the gateway registered (--iq-wait), so both lines must appear.
        #expect(await eventually(timeout: 40) { alg.stderr.contains("IMS-AGW registered") }, "\(alg.stderr)\nMG: \(mg.text)")
        #expect(await eventually(timeout: 10) { alg.stderr.contains("pcscf-alg pcscf listening gm=udp:127.0.0.1:") }, "\(alg.stderr)")
        alg.process.terminate()
        let status = await alg.wait(timeout: 10)
        #expect(status == 0, "exit \(String(describing: status)): \(alg.stderr.suffix(800))")
        // Graceful shutdown (H.248.1 §7.2.8): the MGC's ServiceChange on ROOT reached the MG and was answered.
        #expect(await eventually(timeout: 10) { mg.text.lowercased().contains("servicechange from mgc term=root") }, "MG: \(mg.text)")
        #expect(alg.stderr.contains("iq ServiceChange ctx=- term=ROOT method=graceful reason=909 result=ok"), "\(alg.stderr.suffix(800))")
    }
}
