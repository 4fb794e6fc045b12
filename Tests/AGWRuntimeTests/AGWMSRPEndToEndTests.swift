// End to end over real sockets: SIPp UE and S-CSCF, pcscf-alg (P-CSCF / IMS-ALG, MGC), ims-agw
// (--media relay: AGWMedia's TLS/TCP relay), a Python MSRP client over TLS whose certificate matches
// the fingerprint the UE put in its SDP, and a plain-TCP MSRP server on the core side
// (Tests/Peers/msrp_e2e_peer.py). TS 23.334 §5.11.2.2 (IMS-AGW duties, seed 000), seed 003 (MSRP),
// RFC 4975 (MSRP SEND / 200), RFC 8122 (fingerprint check).

import ALGTestSupport
import Foundation
import Testing

struct MSRPCallResult {
    var clientStatus: Int32?
    var clientOut: String
    var serverOut: String
    var agwLog: String
    var algLog: String
    var ueStatus: Int32?
    var coreStatus: Int32?
    var errors: String
}

@Suite("End to end: UE MSRP over TLS → ims-agw → plain TCP MSRP core (pcscf-alg + SIPp)", .serialized)
struct AGWMSRPEndToEndTests {
    /// One originating e2ae MSRP call; the UE's MSRP client uses `clientCert` (nil = the one its SDP announced).
    /// `terminating`: the core offers (core_alg_terminate.xml) and the UE answers (ue_alg_answer.xml);
    /// otherwise the UE offers (ue_alg_call.xml / core_alg_call.xml).
    static func call(wrongCertificate: Bool, terminating: Bool = false) async throws -> MSRPCallResult? {
        let test = "AGWMSRPEndToEndTests"
        guard let sipp = Live.tool("sipp", for: test), let python = Live.tool("python3", for: test),
              Live.tool("openssl", for: test) != nil,
              let pcscf = Live.binary("pcscf-alg", for: test), let agwPath = Live.binary("ims-agw", for: test) else { return nil }
        // The UE's certificate (its SDP fingerprint) and, for the negative case, another one.
        let (dir, fp) = try await AGWLiveLab.ueIdentity("msrp")
        defer { try? FileManager.default.removeItem(at: dir) }
        try await AGWLiveLab.selfSignedCertificate("other", in: dir)
        #expect(fp.count == 95, "openssl fingerprint: \(fp)")
        let corePort = LoopbackSocket.freePort()
        // The shared scenarios, with this UE's fingerprint, the core MSRP port, and time for MSRP before BYE.
        func adapt(_ file: String) throws -> String {
            try AGWLiveLab.adaptedScenario(file, fingerprint: fp, pauseMilliseconds: 6000, ports: [("7654", corePort)])
        }
        let ueXML = try adapt(terminating ? "ue_alg_answer.xml" : "ue_alg_call.xml")
        let coreXML = try adapt(terminating ? "core_alg_terminate.xml" : "core_alg_call.xml")
        try ueXML.write(to: dir.appendingPathComponent("ue.xml"), atomically: true, encoding: .utf8)
        try coreXML.write(to: dir.appendingPathComponent("core.xml"), atomically: true, encoding: .utf8)

        let lab = try await AGWLiveSignalling.start(pcscf: pcscf, agwPath: agwPath, agwArguments: ["--media", "relay", "--media-ports", "41000-41999"])
        defer { lab.stop() }
        let (alg, agw) = (lab.alg, lab.agw)
        let peer = TestRepository.url("Tests/Peers/msrp_e2e_peer.py").path
        let server = LiveProcess(python, [peer, "server", "--port", "\(corePort)", "--timeout", "20"])
        try server.start()
        defer { server.stop() }
        let (ueSipp, coreSipp) = try await lab.startSIPp(sipp, ue: dir.appendingPathComponent("ue.xml"), core: dir.appendingPathComponent("core.xml"), in: dir)
        // The gateway's access port, from the 200 OK the UE received.
        var accessPort: String?
        _ = await eventually(timeout: 15) {
            let logs = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasPrefix("ue_") && $0.hasSuffix("messages.log") }
            for l in logs {
                let text = (try? String(contentsOf: dir.appendingPathComponent(l), encoding: .utf8)) ?? ""
                if let r = text.range(of: #"m=message (4[0-9]{4}) TCP/TLS/MSRP"#, options: .regularExpression) {
                    accessPort = String(text[r].split(separator: " ")[1])
                    return true
                }
            }
            return false
        }
        guard let accessPort else {
            Issue.record("the UE never got the gateway's access port\n\(agw.stderr)\n\(alg.stderr.suffix(1500))")
            return nil
        }
        let name = wrongCertificate ? "other" : "ue"
        let client = LiveProcess(python, [peer, "client", "--port", accessPort, "--cert", dir.appendingPathComponent("\(name).crt").path,
                                          "--key", dir.appendingPathComponent("\(name).key").path, "--timeout", "5"])
        try client.start()
        let clientStatus = await client.wait(timeout: 15)
        let ueStatus = await ueSipp.wait(timeout: 30)
        let coreStatus = await coreSipp.wait(timeout: 10)
        try await Task.sleep(for: .milliseconds(300))
        let errors = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix("errors.log") }
            .compactMap { try? String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8) }.joined(separator: "\n")
        return MSRPCallResult(clientStatus: clientStatus, clientOut: client.stdout + client.stderr, serverOut: server.stdout + server.stderr,
                              agwLog: agw.stderr, algLog: alg.stderr, ueStatus: ueStatus, coreStatus: coreStatus, errors: errors)
    }

    @Test("MSRP SEND crosses both ways (TLS access ↔ TCP core) with 200 OKs; the UE's certificate matches its SDP fingerprint")
    func msrpBothWays() async throws {
        guard let r = try await Self.call(wrongCertificate: false) else { return }
        let context = "client:\n\(r.clientOut)\nserver:\n\(r.serverOut)\nAGW:\n\(r.agwLog)\n\(r.errors.prefix(1500))"
        #expect(r.clientStatus == 0, "\(context)")
        #expect(r.clientOut.contains("SEND out ok") && r.clientOut.contains("SEND in ok"), "\(context)")
        #expect(r.serverOut.contains("SEND in ok") && r.serverOut.contains("SEND out ok"), "\(context)")
        #expect(r.ueStatus == 0 && r.coreStatus == 0, "\(context)")
    }

    @Test("UE-terminating call (the core offers, the UE answers a=setup:active): MSRP SEND both ways through ims-agw")
    func msrpTerminating() async throws {
        guard let r = try await Self.call(wrongCertificate: false, terminating: true) else { return }
        let context = "client:\n\(r.clientOut)\nserver:\n\(r.serverOut)\nAGW:\n\(r.agwLog)\n\(r.errors.prefix(1500))"
        #expect(r.clientStatus == 0, "\(context)")
        #expect(r.serverOut.contains("SEND in ok") && r.serverOut.contains("SEND out ok"), "\(context)")
        #expect(r.ueStatus == 0 && r.coreStatus == 0, "\(context)")
    }

    @Test("A UE presenting another certificate than its SDP fingerprint is refused, and the TLS failure is notified to the MGC (seed 000)")
    func wrongCertificateRefused() async throws {
        guard let r = try await Self.call(wrongCertificate: true) else { return }
        let context = "client:\n\(r.clientOut)\nserver:\n\(r.serverOut)\nAGW:\n\(r.agwLog)"
        #expect(r.clientStatus == 2, "\(context)")
        #expect(r.clientOut.contains("refused"), "\(context)")
        #expect(!r.serverOut.contains("SEND in ok"), "no byte of the UE reached the core: \(context)")
        #expect(r.agwLog.contains("Notify ip/1 tlsbsc/estfail -> ok"), "\(context)")
        // pcscf-alg removes the failed stream; it was the call's only one, so it ends the dialog with a
        // BYE towards both sides (seed 000; TS 23.334 §5.11.2.2).
        #expect(r.algLog.contains("iq Notify dir=in") && r.algLog.contains("event=tlsbsc/estfail"), "\(r.algLog.suffix(2000))")
        #expect(r.algLog.contains("originated BYE gm") && r.algLog.contains("originated BYE mw"), "\(r.algLog.suffix(2000))")
    }
}

@Suite("ims-agw driven by the OTP MGC alone: TLS byte exchange on a TCP/TLS/BFCP stream relayed to TCP/BFCP", .serialized)
struct AGWBFCPRelayTests {
    @Test("OTP MGC reserves core TCP/BFCP (active, Remote = the core server) and access TCP/TLS/BFCP (passive, Remote fingerprint = the client's); a TLS client's bytes cross both ways (seed 004)")
    func bfcpTLSBytes() async throws {
        let test = "bfcpTLSBytes"
        guard let escript = Live.otp(for: test), let python = Live.tool("python3", for: test), Live.tool("openssl", for: test) != nil,
              let agwPath = Live.binary("ims-agw", for: test) else { return }
        let (dir, fp) = try await AGWLiveLab.ueIdentity("bfcp")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(fp.count == 95)
        let corePort = LoopbackSocket.freePort()
        let steps = """
        Context = $ { Add = $ { Media { Stream = 1 { Local {
        v=0
        c=IN IP4 $
        m=application $ TCP/BFCP *
        a=setup:active
        }, Remote {
        v=0
        c=IN IP4 127.0.0.1
        m=application \(corePort) TCP/BFCP *
        a=setup:passive
        } } }, Events = 1 { tcpbcc/estfail } } }
        %%
        Context = 1 { Add = $ { Media { Stream = 1 { Local {
        v=0
        c=IN IP4 $
        m=application $ TCP/TLS/BFCP *
        a=setup:passive
        a=fingerprint:$
        }, Remote {
        v=0
        c=IN IP4 127.0.0.1
        m=application 9 TCP/TLS/BFCP *
        a=setup:active
        a=fingerprint:sha-256 \(fp)
        } } }, Events = 2 { tlsbsc/estfail } } }
        %%
        sleep 8000
        """
        let (mgc, mgcPort) = try await Self.startMGC(escript, steps: steps, in: dir)
        defer { mgc.stop() }
        let peer = TestRepository.url("Tests/Peers/msrp_e2e_peer.py").path
        let server = LiveProcess(python, [peer, "server", "--port", "\(corePort)", "--timeout", "20"])
        try server.start()
        defer { server.stop() }
        let agw = LiveProcess(agwPath, ["--mgc", "udp:127.0.0.1:\(mgcPort)", "--listen", "127.0.0.1:\(LoopbackSocket.freePort())",
                                        "--media", "relay", "--media-ports", "44000-44099"])
        try agw.start()
        defer { agw.stop() }
        #expect(await eventually(timeout: 20) { mgc.stdout.contains("MGC STEP 2 ") }, "MGC:\n\(mgc.stdout)\nAGW:\n\(agw.stderr)")
        let step2 = Live.stepLine(mgc.stdout, 2)
        guard let r = step2.range(of: #"application (44[0-9]{3}) TCP/TLS/BFCP"#, options: .regularExpression) else {
            Issue.record("no access port in \(step2)\nAGW:\n\(agw.stderr)")
            return
        }
        let accessPort = String(step2[r].split(separator: " ")[1])
        #expect(step2.contains("fingerprint:sha-256 "), "\(step2)")
        let client = LiveProcess(python, [peer, "client", "--port", accessPort, "--cert", dir.appendingPathComponent("ue.crt").path,
                                          "--key", dir.appendingPathComponent("ue.key").path, "--timeout", "5"])
        try client.start()
        let status = await client.wait(timeout: 15)
        try await Task.sleep(for: .milliseconds(300))
        let context = "client:\n\(client.stdout)\(client.stderr)\nserver:\n\(server.stdout)\nAGW:\n\(agw.stderr)"
        #expect(status == 0, "\(context)")
        #expect(server.stdout.contains("SEND in ok") && server.stdout.contains("SEND out ok"), "\(context)")
    }
}

extension AGWBFCPRelayTests {
    @Test("Establish TLS signal: the gateway is TLS client towards a UE TLS server (access a=setup:active), checks the UE's certificate against Remote; a core TCP client's bytes cross both ways (specs.md §5.2, seed 004)")
    func gatewayAsTLSClient() async throws {
        let test = "gatewayAsTLSClient"
        guard let escript = Live.otp(for: test), let python = Live.tool("python3", for: test), Live.tool("openssl", for: test) != nil,
              let agwPath = Live.binary("ims-agw", for: test) else { return }
        let (dir, fp) = try await AGWLiveLab.ueIdentity("tlsc")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(fp.count == 95)
        let uePort = LoopbackSocket.freePort()
        let steps = """
        Context = $ { Add = $ { Media { Stream = 1 { Local {
        v=0
        c=IN IP4 $
        m=message $ TCP/MSRP *
        a=setup:passive
        } } }, Events = 1 { tcpbcc/estfail } } }
        %%
        Context = 1 { Add = $ { Media { Stream = 1 { Local {
        v=0
        c=IN IP4 $
        m=message $ TCP/TLS/MSRP *
        a=setup:active
        a=fingerprint:$
        }, Remote {
        v=0
        c=IN IP4 127.0.0.1
        m=message \(uePort) TCP/TLS/MSRP *
        a=setup:passive
        a=fingerprint:sha-256 \(fp)
        } } }, Events = 2 { tlsbsc/estfail }, Signals { tlsbsc/establish } } }
        %%
        sleep 8000
        """
        let (mgc, mgcPort) = try await Self.startMGC(escript, steps: steps, in: dir)
        defer { mgc.stop() }
        let peer = TestRepository.url("Tests/Peers/msrp_e2e_peer.py").path
        let ueServer = LiveProcess(python, [peer, "server", "--tls", "--port", "\(uePort)", "--cert", dir.appendingPathComponent("ue.crt").path,
                                            "--key", dir.appendingPathComponent("ue.key").path, "--timeout", "20"])
        try ueServer.start()
        defer { ueServer.stop() }
        let agw = LiveProcess(agwPath, ["--mgc", "udp:127.0.0.1:\(mgcPort)", "--listen", "127.0.0.1:\(LoopbackSocket.freePort())",
                                        "--media", "relay", "--media-ports", "45000-45099"])
        try agw.start()
        defer { agw.stop() }
        #expect(await eventually(timeout: 20) { mgc.stdout.contains("MGC STEP 2 ") }, "MGC:\n\(mgc.stdout)\nAGW:\n\(agw.stderr)")
        let step1 = Live.stepLine(mgc.stdout, 1)
        guard let r = step1.range(of: #"message (45[0-9]{3}) TCP/MSRP"#, options: .regularExpression) else {
            Issue.record("no core port in \(step1)\nAGW:\n\(agw.stderr)")
            return
        }
        let corePort = String(step1[r].split(separator: " ")[1])
        let coreClient = LiveProcess(python, [peer, "client", "--plain", "--port", corePort, "--timeout", "8"])
        try coreClient.start()
        let status = await coreClient.wait(timeout: 15)
        try await Task.sleep(for: .milliseconds(300))
        let context = "core client:\n\(coreClient.stdout)\(coreClient.stderr)\nUE server:\n\(ueServer.stdout)\(ueServer.stderr)\nAGW:\n\(agw.stderr)\nMGC:\n\(mgc.stdout.suffix(800))"
        #expect(status == 0, "\(context)")
        #expect(ueServer.stdout.contains("SEND in ok") && ueServer.stdout.contains("SEND out ok"), "\(context)")
    }
}

extension AGWBFCPRelayTests {
    /// The OTP megaco MGC running `steps` (Tests/Peers/megaco_mgc.escript), once it listens. The caller stops it.
    static func startMGC(_ escript: String, steps: String, in dir: URL) async throws -> (LiveProcess, Int) {
        try steps.write(to: dir.appendingPathComponent("steps.txt"), atomically: true, encoding: .utf8)
        let mgcPort = LoopbackSocket.freePort()
        let mgc = LiveProcess(escript, [TestRepository.url("Tests/Peers/megaco_mgc.escript").path, "--port", "\(mgcPort)",
                                        "--steps", dir.appendingPathComponent("steps.txt").path, "--linger", "1", "--duration", "30"])
        try mgc.start()
        #expect(await eventually(timeout: 15) { mgc.stdout.contains("MGC listening") }, "\(mgc.stdout)\(mgc.stderr)")
        return (mgc, mgcPort)
    }
}
