// End to end over real sockets for BFCP (seed 004): SIPp UE and S-CSCF, pcscf-alg (IMS-ALG, MGC),
// ims-agw (--media relay), a Python BFCP end over TLS whose certificate matches the fingerprint the UE
// put in its SDP, and a plain-TCP BFCP end on the core side (Tests/Peers/bfcp_e2e_peer.py). The gateway
// relays bytes (it does not parse BFCP): an RFC 8855 Hello / HelloAck and a 64 KiB binary blob cross
// in each direction and must arrive intact. After BYE the gateway holds no context (its Iq log line
// "[contexts=N]" after the Subtract).
//
// Who connects, from the rewritten SDP (specs.md §7, U10: for BFCP the SDP offerer is the TLS client):
// - originating (ue_alg_bfcp.xml / core_alg_bfcp.xml, Fixtures/sdp/rewrite/05, 06): the core answers
//   a=setup:active, so the core opens TCP to the gateway's core port; the answer towards the UE says
//   a=setup:active, so the gateway opens TCP to the UE's port (interlinkage: the core's SYN triggers it,
//   TS 23.334 §5.16), and the UE, the offerer, starts TLS on that connection (no Establish TLS);
// - terminating (ue_alg_bfcp_answer.xml / core_alg_bfcp_terminate.xml, Fixtures/sdp/rewrite/07, 08): the UE
//   answers a=setup:active and opens TCP to the gateway's access port; the gateway, the offerer towards the
//   UE, is TLS client (Establish TLS at Reserve); the UE's SYN triggers the gateway's SYN to the core port.

import ALGTestSupport
import Foundation
import Testing

struct BFCPCallResult {
    var ueOut: String
    var coreOut: String
    var ueStatus: Int32?
    var coreStatus: Int32?
    var ueSipp: Int32?
    var coreSipp: Int32?
    var agwLog: String
    var algLog: String
    var errors: String

    var context: String {
        "UE peer:\n\(ueOut)\ncore peer:\n\(coreOut)\nAGW:\n\(agwLog)\nALG:\n\(algLog.suffix(1500))\n\(errors.prefix(1500))"
    }
}

@Suite("End to end: BFCP over TLS (UE) ↔ ims-agw ↔ plain TCP BFCP (core), signalled by SIPp through pcscf-alg", .serialized)
struct AGWBFCPEndToEndTests {
    /// The first `regex` match (capture = the port) in the SIPp message logs of `prefix` ("ue_" / "core_").
    static func port(in dir: URL, prefix: String, _ regex: String) -> String? {
        let logs = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasPrefix(prefix) && $0.hasSuffix("messages.log") }
        for l in logs {
            let text = (try? String(contentsOf: dir.appendingPathComponent(l), encoding: .utf8)) ?? ""
            if let r = text.range(of: regex, options: .regularExpression) {
                return text[r].split(separator: " ").dropFirst().first.map(String.init)
            }
        }
        return nil
    }

    static func call(terminating: Bool) async throws -> BFCPCallResult? {
        let test = "AGWBFCPEndToEndTests"
        guard let sipp = Live.tool("sipp", for: test), let python = Live.tool("python3", for: test),
              Live.tool("openssl", for: test) != nil,
              let pcscf = Live.binary("pcscf-alg", for: test), let agwPath = Live.binary("ims-agw", for: test) else { return nil }
        let (dir, fp) = try await AGWLiveLab.ueIdentity("bfcp-e2e")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(fp.count == 95, "openssl fingerprint \(fp)")
        let uePort = LoopbackSocket.freePort(), corePort = LoopbackSocket.freePort()
        // The shared scenarios with this UE's fingerprint, free BFCP ports for the UE (50010) and the core
        // (7700), the gateway's port range, and time for the byte exchange before BYE.
        func adapt(_ file: String) throws -> String {
            try AGWLiveLab.adaptedScenario(file, fingerprint: fp, pauseMilliseconds: 5000, gatewayPorts: "43[0-9]{3}",
                                           ports: [("50010", uePort), ("7700", corePort)])
        }
        let ueXML = try adapt(terminating ? "ue_alg_bfcp_answer.xml" : "ue_alg_bfcp.xml")
        let coreXML = try adapt(terminating ? "core_alg_bfcp_terminate.xml" : "core_alg_bfcp.xml")
        try ueXML.write(to: dir.appendingPathComponent("ue.xml"), atomically: true, encoding: .utf8)
        try coreXML.write(to: dir.appendingPathComponent("core.xml"), atomically: true, encoding: .utf8)

        let lab = try await AGWLiveSignalling.start(pcscf: pcscf, agwPath: agwPath, agwArguments: ["--media", "relay", "--media-ports", "43000-43999"])
        defer { lab.stop() }
        let (alg, agw) = (lab.alg, lab.agw)
        let peer = TestRepository.url("Tests/Peers/bfcp_e2e_peer.py").path
        let cert = ["--cert", dir.appendingPathComponent("ue.crt").path, "--key", dir.appendingPathComponent("ue.key").path]
        // The listening ends start before the call: originating, the UE (the gateway connects to it);
        // terminating, the core (the gateway connects to it).
        var uePeer: LiveProcess?
        var corePeer: LiveProcess?
        if terminating {
            let p = LiveProcess(python, [peer, "core", "--listen", "\(corePort)", "--timeout", "20"])
            try p.start()
            corePeer = p
        } else {
            let p = LiveProcess(python, [peer, "ue", "--listen", "\(uePort)", "--timeout", "20"] + cert)
            try p.start()
            uePeer = p
        }
        defer { uePeer?.stop(); corePeer?.stop() }
        let (ueSipp, coreSipp) = try await lab.startSIPp(sipp, ue: dir.appendingPathComponent("ue.xml"), core: dir.appendingPathComponent("core.xml"), in: dir)
        defer { ueSipp.stop(); coreSipp.stop() }
        if terminating {
            // The gateway's access port, from the INVITE the UE received; the UE opens TCP and is TLS server.
            var accessPort: String?
            _ = await eventually(timeout: 15) {
                accessPort = Self.port(in: dir, prefix: "ue_", #"m=application (43[0-9]{3}) TCP/TLS/BFCP"#)
                return accessPort != nil
            }
            guard let accessPort else {
                Issue.record("the UE never got the gateway's access port\n\(agw.stderr)\n\(alg.stderr.suffix(1500))")
                return nil
            }
            let p = LiveProcess(python, [peer, "ue", "--connect", accessPort, "--tls-server", "--timeout", "10"] + cert)
            try p.start()
            uePeer = p
        } else {
            // The gateway's core port, from the INVITE the core received; the core opens TCP (a=setup:active).
            var gwCorePort: String?
            _ = await eventually(timeout: 15) {
                gwCorePort = Self.port(in: dir, prefix: "core_", #"m=application (43[0-9]{3}) TCP/BFCP"#)
                return gwCorePort != nil
            }
            guard let gwCorePort else {
                Issue.record("the core never got the gateway's core port\n\(agw.stderr)\n\(alg.stderr.suffix(1500))")
                return nil
            }
            let p = LiveProcess(python, [peer, "core", "--connect", gwCorePort, "--timeout", "10"])
            try p.start()
            corePeer = p
        }
        let ueStatus = await uePeer?.wait(timeout: 20)
        let coreStatus = await corePeer?.wait(timeout: 20)
        let ueSippStatus = await ueSipp.wait(timeout: 30)
        let coreSippStatus = await coreSipp.wait(timeout: 10)
        // The Subtract after BYE, then the gateway's context count.
        _ = await eventually(timeout: 5) { agw.stderr.lowercased().contains("subtract=") && agw.stderr.contains("[contexts=0]") }
        let errors = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix("errors.log") }
            .compactMap { try? String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8) }.joined(separator: "\n")
        return BFCPCallResult(ueOut: (uePeer?.stdout ?? "") + (uePeer?.stderr ?? ""), coreOut: (corePeer?.stdout ?? "") + (corePeer?.stderr ?? ""),
                              ueStatus: ueStatus, coreStatus: coreStatus, ueSipp: ueSippStatus, coreSipp: coreSippStatus,
                              agwLog: agw.stderr, algLog: alg.stderr, errors: errors)
    }

    /// The last Iq line of the gateway that answered a Subtract: the context count after it.
    static func contextsAfterLastSubtract(_ log: String) -> String? {
        guard let line = log.split(separator: "\n").last(where: { $0.lowercased().contains("subtract=") && $0.contains("[contexts=") }),
              let r = line.range(of: #"\[contexts=[0-9]+\]"#, options: .regularExpression) else { return nil }
        return String(line[r])
    }

    static func check(_ r: BFCPCallResult) {
        #expect(r.ueStatus == 0, "\(r.context)")
        #expect(r.coreStatus == 0, "\(r.context)")
        // RFC 8855 Hello + 64 KiB out of the UE, HelloAck + 64 KiB out of the core, each received intact.
        #expect(r.ueOut.contains("tls ok TLSv1."), "\(r.context)")
        #expect(r.ueOut.contains("bytes out ok 65555") && r.ueOut.contains("bytes in ok 65575"), "\(r.context)")
        #expect(r.coreOut.contains("bytes in ok 65555") && r.coreOut.contains("bytes out ok 65575"), "\(r.context)")
        #expect(r.ueSipp == 0 && r.coreSipp == 0, "\(r.context)")
        #expect(!r.agwLog.contains("estfail"), "no TLS/TCP establishment failure: \(r.context)")
        #expect(Self.contextsAfterLastSubtract(r.agwLog) == "[contexts=0]", "no gateway context left after BYE: \(r.context)")
    }

    @Test("Originating BFCP (seed 004 originating flow): the core's SYN triggers the gateway's SYN to the UE, the UE (SDP offerer) starts TLS with the certificate of its SDP fingerprint; Hello/HelloAck and 64 KiB cross both ways intact; no context after BYE")
    func bfcpOriginating() async throws {
        guard let r = try await Self.call(terminating: false) else { return }
        Self.check(r)
    }

    @Test("Terminating BFCP (seed 004 terminating flow): the UE opens TCP (a=setup:active), the gateway is TLS client (Establish TLS at Reserve) and checks the UE's certificate; bytes cross both ways intact; no context after BYE")
    func bfcpTerminating() async throws {
        guard let r = try await Self.call(terminating: true) else { return }
        Self.check(r)
    }
}
