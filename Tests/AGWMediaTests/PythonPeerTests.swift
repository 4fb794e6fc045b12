import AGWMedia
import ALGTestSupport
import Foundation
import Testing

/// An independent MSRP stack (Python `ssl`, certificate minted by the `openssl` CLI) on both sides of
/// the gateway: TS 23.334 §5.11.2.2 "convert unprotected MSRP packets to protected MSRP packets and vice versa".
@Suite("AGWMedia: Python MSRP peers (Tests/Peers/msrp_tls_peer.py)", .serialized)
struct PythonPeerTests {
    @Test("TR 29.828 §5.1.1.2.4: Python TLS client (openssl cert = Remote fingerprint) → access; plain Python MSRP server on core; 3 SENDs + 200 OKs")
    func pythonTLSClientToPlainServer() async throws {
        guard let python = LiveTool.path("python3"), LiveTool.path("openssl") != nil else {
            if LiveTool.isCI { Issue.record("python3/openssl missing under CI") }
            return
        }
        let peer = TestRepository.url("Tests/Peers/msrp_tls_peer.py").path
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("agw-py-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cert = dir.appendingPathComponent("ue.crt").path, keyFile = dir.appendingPathComponent("ue.key").path
        let fpOut = try runProcess(python, [peer, "client", "--print-fingerprint", "--cert", cert, "--key", keyFile])
        let ueFP = try CertificateFingerprint(sdpValue: fpOut.trimmingCharacters(in: .whitespacesAndNewlines))

        let plane = try makePlane()
        let events = EventLog(plane)
        let access = key("access"), core = key("core")
        let la = try await plane.allocate(MediaAllocation(key: access, transport: .tls, bindHost: "127.0.0.1", setup: .passive, wantsFingerprint: true))
        _ = try await plane.allocate(MediaAllocation(key: core, transport: .tcp, bindHost: "127.0.0.1", setup: .active))
        let corePort = LoopbackSocket.freePort()
        let server = LiveProcess(python, [peer, "server", "--plain", "--port", "\(corePort)", "--count", "3", "--timeout", "15"])
        try server.start()
        #expect(await eventually { server.stdout.contains("server on") })
        try await plane.configure(access, remote: MediaRemote(host: "127.0.0.1", port: 9, setup: .active, fingerprint: ueFP), establishTLS: nil)
        try await plane.configure(core, remote: MediaRemote(host: "127.0.0.1", port: corePort, setup: .passive), establishTLS: nil)
        try await plane.interconnect(access, core, mode: .proxy)
        let client = LiveProcess(python, [peer, "client", "--port", "\(la.port)", "--count", "3", "--timeout", "15", "--client-cert",
                                          "--cert", cert, "--key", keyFile, "--expect-fingerprint", la.fingerprint?.sdpValue ?? "none"])
        try client.start()
        let clientStatus = await client.wait(timeout: 20)
        let serverStatus = await server.wait(timeout: 5)
        #expect(clientStatus == 0, "client: \(client.stdout) \(client.stderr)")
        #expect(serverStatus == 0, "server: \(server.stdout) \(server.stderr)")
        #expect(client.stdout.contains("3 passed, 0 failed"))
        #expect(server.stdout.contains("3 passed, 0 failed"))
        #expect(events.all.contains(.connected(access)))
        await plane.shutdown()
    }
}
