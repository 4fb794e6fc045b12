// Application-aware MSRP end to end (seed 003; TS 23.334 §5.19; specs.md §6.2-6.3): an MSRP call WITHOUT
// a=msrp-cema through pcscf-alg (default policy cemaAbsent = rewritePath: it rewrites a=path, reserves
// TCP/MSRP towards the core and sends each peer's a=path in Remote) and ims-agw. The MSRP ends
// (Tests/Peers/msrp_path_peer.py) check session matching as an endpoint without CEMA does (RFC 4975
// §7.3): To-Path must be its own a=path URI and From-Path the a=path it received in SDP.
// With `--msrp-application-aware` the gateway rewrites the paths and both ends accept; without it (the
// default) the same call fails the check: the ALG and the gateway must be configured together
// (Docs/ims-agw.md "Application-aware MSRP").

import ALGTestSupport
import Foundation
import Testing

@Suite("End to end: application-aware MSRP without CEMA (pcscf-alg rewrites a=path, ims-agw rewrites To-Path/From-Path)", .serialized)
struct AGWMSRPApplicationAwareEndToEndTests {
    struct Result {
        var client: String
        var server: String
        var clientStatus: Int32?
        var serverStatus: Int32?
        var uePeerPath: String
        var corePeerPath: String
        var accessPort: String
        var context: String
    }

    /// The first capture of `regex` in the SIPp message logs whose name starts with `prefix`.
    static func capture(in dir: URL, prefix: String, _ regex: String) -> String? {
        let logs = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasPrefix(prefix) && $0.hasSuffix("messages.log") }
        for l in logs {
            let text = (try? String(contentsOf: dir.appendingPathComponent(l), encoding: .utf8)) ?? ""
            guard let re = try? NSRegularExpression(pattern: regex),
                  let m = re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), m.numberOfRanges > 1,
                  let r = Range(m.range(at: 1), in: text) else { continue }
            return String(text[r])
        }
        return nil
    }

    static func call(applicationAware: Bool) async throws -> Result? {
        let test = "AGWMSRPApplicationAwareEndToEndTests"
        guard let sipp = Live.tool("sipp", for: test), let python = Live.tool("python3", for: test),
              Live.tool("openssl", for: test) != nil,
              let pcscf = Live.binary("pcscf-alg", for: test), let agwPath = Live.binary("ims-agw", for: test) else { return nil }
        let (dir, fp) = try await AGWLiveLab.ueIdentity("msrp-aware")
        defer { try? FileManager.default.removeItem(at: dir) }
        let corePort = LoopbackSocket.freePort()
        // The shared MSRP scenarios without a=msrp-cema (so the ALG treats the stream as application-aware).
        func adapt(_ file: String) throws -> String {
            try AGWLiveLab.adaptedScenario(file, fingerprint: fp, pauseMilliseconds: 5000, gatewayPorts: "46[0-9]{3}", ports: [("7654", corePort)])
                .replacingOccurrences(of: "a=msrp-cema\n", with: "")
        }
        let ueXML = try adapt("ue_alg_call.xml"), coreXML = try adapt("core_alg_call.xml")
        #expect(!ueXML.contains("msrp-cema") && !coreXML.contains("msrp-cema"))
        try ueXML.write(to: dir.appendingPathComponent("ue.xml"), atomically: true, encoding: .utf8)
        try coreXML.write(to: dir.appendingPathComponent("core.xml"), atomically: true, encoding: .utf8)

        let lab = try await AGWLiveSignalling.start(pcscf: pcscf, agwPath: agwPath,
                                                    agwArguments: ["--media", "relay", "--media-ports", "46000-46999"] + (applicationAware ? ["--msrp-application-aware"] : []))
        defer { lab.stop() }
        let (alg, agw) = (lab.alg, lab.agw)
        let (ueSipp, coreSipp) = try await lab.startSIPp(sipp, ue: dir.appendingPathComponent("ue.xml"), core: dir.appendingPathComponent("core.xml"), in: dir)
        defer { ueSipp.stop(); coreSipp.stop() }
        // What each end learnt from SDP: the UE the gateway's access URI (200 OK), the core the gateway's core URI (INVITE).
        var uePeerPath: String?, corePeerPath: String?, accessPort: String?
        _ = await eventually(timeout: 15) {
            uePeerPath = Self.capture(in: dir, prefix: "ue_", #"a=path:(msrps://127\.0\.0\.1:46[0-9]{3}/[^\s]+)"#)
            accessPort = Self.capture(in: dir, prefix: "ue_", #"m=message (46[0-9]{3}) TCP/TLS/MSRP"#)
            corePeerPath = Self.capture(in: dir, prefix: "core_", #"a=path:(msrp://127\.0\.0\.1:46[0-9]{3}/[^\s]+)"#)
            return uePeerPath != nil && corePeerPath != nil && accessPort != nil
        }
        guard let uePeerPath, let corePeerPath, let accessPort else {
            Issue.record("the rewritten a=path never reached the ends\n\(agw.stderr)\n\(alg.stderr.suffix(1500))")
            return nil
        }
        let peer = TestRepository.url("Tests/Peers/msrp_path_peer.py").path
        let server = LiveProcess(python, [peer, "server", "--port", "\(corePort)", "--me", "msrp://127.0.0.1:\(corePort)/kjh34;tcp",
                                          "--peer", corePeerPath, "--timeout", "10"])
        try server.start()
        defer { server.stop() }
        _ = await eventually(timeout: 5) { server.stdout.contains("listening") }
        let client = LiveProcess(python, [peer, "client", "--port", accessPort, "--me", "msrps://127.0.0.1:50000/u8kd2;tcp", "--peer", uePeerPath,
                                          "--cert", dir.appendingPathComponent("ue.crt").path, "--key", dir.appendingPathComponent("ue.key").path,
                                          "--timeout", "5"])
        try client.start()
        let clientStatus = await client.wait(timeout: 15)
        let serverStatus = await server.wait(timeout: 10)
        _ = await ueSipp.wait(timeout: 30)
        _ = await coreSipp.wait(timeout: 10)
        let context = "client:\n\(client.stdout)\(client.stderr)\nserver:\n\(server.stdout)\(server.stderr)\nAGW:\n\(agw.stderr)\nALG:\n\(alg.stderr.suffix(1200))"
        return Result(client: client.stdout, server: server.stdout, clientStatus: clientStatus, serverStatus: serverStatus,
                      uePeerPath: uePeerPath, corePeerPath: corePeerPath, accessPort: accessPort, context: context)
    }

    @Test("ims-agw --msrp-application-aware: each end sees only its own a=path in To-Path and the SDP peer's in From-Path (RFC 4975 §7.3), SEND and 200 OK both ways; the a=path towards the UE names the gateway's access port (seed 003)")
    func pathsMatchWhenApplicationAware() async throws {
        guard let r = try await Self.call(applicationAware: true) else { return }
        #expect(r.uePeerPath.hasPrefix("msrps://127.0.0.1:\(r.accessPort)/kjh34;"), "\(r.uePeerPath) \(r.context)")
        #expect(r.corePeerPath.hasSuffix("/u8kd2;tcp"), "\(r.corePeerPath)")
        #expect(r.clientStatus == 0 && r.serverStatus == 0, "\(r.context)")
        #expect(r.client.contains("SEND out ok") && r.client.contains("SEND in ok"), "\(r.context)")
        #expect(r.server.contains("SEND in ok") && r.server.contains("SEND out ok"), "\(r.context)")
    }

    @Test("Without the option (the default) the gateway is application-agnostic: the same call fails the core's session match (its To-Path is the gateway's URI), so the option must go with pcscf-alg's cemaAbsent=rewritePath")
    func pathsMismatchWhenAgnostic() async throws {
        guard let r = try await Self.call(applicationAware: false) else { return }
        #expect(r.serverStatus == 1, "\(r.context)")
        #expect(r.server.contains("failed: SEND: To-Path"), "\(r.context)")
    }
}
