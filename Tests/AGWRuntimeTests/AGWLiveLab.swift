// The live lab of the ims-agw tests that shape a call themselves (restart mid-call, key log under a
// capture): pcscf-alg (P-CSCF / IMS-ALG, the MGC on Iq udp) + ims-agw (--media relay) + SIPp UE (Gm,
// TCP) and S-CSCF (Mw, UDP) running the shared e2ae MSRP scenarios, adapted to a fresh UE certificate
// whose fingerprint the UE's SDP announces (RFC 8122 §5), and the two MSRP ends of
// Tests/Peers/msrp_e2e_peer.py (TLS client as the UE, plain TCP server as the core far end).
// Missing tools: skip with the reason, fail under CI=true (Live.tool / Live.binary).

import ALGTestSupport
import Foundation
import Testing

final class AGWLiveLab: @unchecked Sendable {
    let dir: URL
    let ueFingerprint: String
    /// The plain-TCP MSRP server (the core far end) listens here; the core SIPp answers with it.
    let corePort: Int
    let mediaPorts: ClosedRange<Int>
    let python: String
    let sipp: String
    let agwPath: String
    let alg: LiveProcess
    let iqPort: Int
    let agwIqPort: Int
    let gmPort: Int
    let sipCorePort: Int
    let agwExtra: [String]
    private let lock = NSLock()
    private var _agw: LiveProcess?
    private var others: [LiveProcess] = []
    static let peer = TestRepository.url("Tests/Peers/msrp_e2e_peer.py").path

    /// The ims-agw running now (a new process after `restartAGW`).
    var agw: LiveProcess { lock.withLock { _agw! } }

    private init(dir: URL, fingerprint: String, mediaPorts: ClosedRange<Int>, python: String, sipp: String, pcscf: String,
                 agwPath: String, agwExtra: [String]) {
        self.dir = dir
        ueFingerprint = fingerprint
        self.mediaPorts = mediaPorts
        self.python = python
        self.sipp = sipp
        self.agwPath = agwPath
        self.agwExtra = agwExtra
        corePort = LoopbackSocket.freePort()
        (gmPort, sipCorePort, iqPort, agwIqPort) = (LoopbackSocket.freePort(), LoopbackSocket.freePort(), LoopbackSocket.freePort(), LoopbackSocket.freePort())
        alg = LiveProcess(pcscf, Self.pcscfArguments(gm: gmPort, sipCore: sipCorePort, iq: iqPort))
    }

    /// pcscf-alg and ims-agw up, ims-agw registered; nil (skip / CI failure recorded) when a tool is missing.
    static func start(_ test: String, mediaPorts: ClosedRange<Int>, agwExtra: [String] = []) async throws -> AGWLiveLab? {
        guard let sipp = Live.tool("sipp", for: test), let python = Live.tool("python3", for: test),
              Live.tool("openssl", for: test) != nil,
              let pcscf = Live.binary("pcscf-alg", for: test), let agwPath = Live.binary("ims-agw", for: test) else { return nil }
        let (dir, fp) = try await ueIdentity(test)
        #expect(fp.count == 95, "openssl fingerprint: \(fp)")
        // The loopback ports are picked free but others' tests run beside these: a port taken in
        // between (pcscf-alg exits "Address already in use") gets one more try with new ports.
        for attempt in 1...2 {
            let lab = AGWLiveLab(dir: dir, fingerprint: fp, mediaPorts: mediaPorts, python: python, sipp: sipp, pcscf: pcscf,
                                 agwPath: agwPath, agwExtra: agwExtra)
            try lab.alg.start()
            try lab.startAGW()
            let up = await eventually(timeout: 25) {
                (lab.alg.stderr.contains("pcscf-alg pcscf listening") && lab.alg.stderr.contains("IMS-AGW registered"))
                    || lab.alg.stderr.contains("Address already in use")
            }
            if up, !lab.alg.stderr.contains("Address already in use") { return lab }
            if attempt == 2 || !lab.alg.stderr.contains("Address already in use") {
                Issue.record("pcscf-alg did not come up with ims-agw registered\n\(lab.alg.stderr)\nAGW:\n\(lab.agw.stderr)")
                lab.stop()
                return nil
            }
            lab.stopProcesses()
            _ = await lab.agw.wait(timeout: 5)
        }
        return nil
    }

    /// Starts an ims-agw on the lab's Iq address (the same mId each time) and media ports.
    func startAGW(extra: [String] = []) throws {
        let p = LiveProcess(agwPath, ["--mgc", "udp:127.0.0.1:\(iqPort)", "--listen", "127.0.0.1:\(agwIqPort)", "--media", "relay",
                                      "--media-ports", "\(mediaPorts.lowerBound)-\(mediaPorts.upperBound)"] + agwExtra + extra)
        try p.start()
        lock.withLock { _agw = p }
    }

    /// SIGKILL: the gateway dies without a Graceful ServiceChange; returns the dead process (its log).
    func killAGW() async -> LiveProcess {
        let old = agw
        kill(old.process.processIdentifier, SIGKILL)
        _ = await old.wait(timeout: 5)
        return old
    }

    /// A shared pcscf scenario (Tests/Peers/sipp/pcscf) with this lab's UE fingerprint and core MSRP
    /// port; the OTP MG's fixed fingerprint and port checks widened to any gateway; then `edit`.
    func scenario(_ file: String, _ edit: (String) -> String = { $0 }) throws -> URL {
        let text = try Self.adaptedScenario(file, fingerprint: ueFingerprint, gatewayPorts: "4[0-9]{4}", ports: [("7654", corePort)])
        let url = dir.appendingPathComponent(file)
        try edit(text).write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Starts the core SIPp, then the UE SIPp; returns the gateway's access port from the 200 OK the UE
    /// received (nil if none within 15 s).
    func startCall(ue: URL, core: URL) async throws -> Int? {
        let (ueSipp, coreSipp) = try await Self.startSIPp(sipp, ue: ue, core: core, gm: gmPort, sipCore: sipCorePort, in: dir)
        lock.withLock { others += [coreSipp, ueSipp]; sippUE = ueSipp; sippCore = coreSipp }
        var port: Int?
        _ = await eventually(timeout: 15) {
            let text = messages(prefix: ue.deletingPathExtension().lastPathComponent)
            guard let r = text.range(of: #"m=message (4[0-9]{4}) TCP/TLS/MSRP"#, options: .regularExpression) else { return false }
            port = Int(text[r].split(separator: " ")[1])
            return true
        }
        return port
    }

    private var sippUE: LiveProcess?
    private var sippCore: LiveProcess?

    /// Waits for both SIPp instances; their exit statuses and the contents of their error logs.
    func finishCall(timeout: Double = 30) async -> (ue: Int32?, core: Int32?, errors: String) {
        let (u, c) = lock.withLock { (sippUE, sippCore) }
        let ue = await u?.wait(timeout: timeout)
        let core = await c?.wait(timeout: 10)
        let errors = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix("errors.log") }
            .compactMap { try? String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8) }.joined(separator: "\n")
        return (ue, core, errors)
    }

    /// The SIP messages a SIPp instance logged (`<scenario name>_<pid>_messages.log`).
    func messages(prefix: String) -> String {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasPrefix(prefix + "_") && $0.hasSuffix("messages.log") }
            .compactMap { try? String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8) }.joined()
    }

    /// The plain-TCP MSRP server (core far end) on `corePort`.
    func msrpServer(hold: Double = 0) throws -> LiveProcess {
        try process(python, [Self.peer, "server", "--port", "\(corePort)", "--timeout", "20", "--hold", "\(hold)"])
    }

    /// The UE's MSRP client over TLS with the certificate its SDP announced.
    func msrpClient(port: Int, hold: Double = 0) throws -> LiveProcess {
        try process(python, [Self.peer, "client", "--port", "\(port)", "--cert", dir.appendingPathComponent("ue.crt").path,
                             "--key", dir.appendingPathComponent("ue.key").path, "--timeout", "5", "--hold", "\(hold)"])
    }

    /// The MSRP ends around one call: the core's plain-TCP server, the call (`startCall`), then the UE's
    /// TLS client towards the gateway's access port; nil (issue recorded) when the UE never got that port.
    func startMSRPCall(ue: URL, core: URL, hold: Double = 0) async throws -> (server: LiveProcess, client: LiveProcess, access: Int)? {
        let server = try msrpServer(hold: hold)
        guard let access = try await startCall(ue: ue, core: core) else {
            Issue.record("the UE never got the gateway's access port\n\(agw.stderr)\n\(alg.stderr.suffix(1500))")
            return nil
        }
        return (server, try msrpClient(port: access, hold: hold), access)
    }

    /// Starts a helper process that `stop()` ends.
    func process(_ path: String, _ args: [String]) throws -> LiveProcess {
        let p = LiveProcess(path, args, directory: dir)
        try p.start()
        lock.withLock { others.append(p) }
        return p
    }

    func stop() {
        stopProcesses()
        try? FileManager.default.removeItem(at: dir)
    }

    func stopProcesses() {
        let all = lock.withLock { others + [_agw].compactMap { $0 } }
        for p in all { p.stop() }
        alg.stop()
    }

    /// The UE scenario edited to stay in the dialog after its ACK and take the BYE the ALG sends
    /// (instead of sending its own), checking its Reason (RFC 3326) names `reason`.
    static func awaitingBYE(_ xml: String, reason: String) -> String {
        guard let start = xml.range(of: "<pause milliseconds=\"100\"/>"), let end = xml.range(of: "<Reference variables=\"") else { return xml }
        return String(xml[..<start.lowerBound]) + """
          <recv request="BYE">
            <action>
              <ereg regexp="\(reason)" search_in="hdr" header="Reason:" check_it="true" assign_to="byereason"/>
            </action>
          </recv>
          <send>
            <![CDATA[
        SIP/2.0 200 OK
        [last_Via:]
        [last_From:]
        [last_To:]
        [last_Call-ID:]
        [last_CSeq:]
        Content-Length: 0

        ]]>
          </send>
          <Reference variables="byereason,
        """ + String(xml[end.upperBound...])
    }

    /// The core scenario edited to check the Reason (RFC 3326) of the BYE it receives.
    static func checkingBYEReason(_ xml: String, reason: String) -> String {
        xml.replacingOccurrences(of: "<recv request=\"BYE\"/>", with: """
        <recv request="BYE">
            <action>
              <ereg regexp="\(reason)" search_in="hdr" header="Reason:" check_it="true" assign_to="byereason"/>
            </action>
          </recv>
        """).replacingOccurrences(of: "<Reference variables=\"", with: "<Reference variables=\"byereason,")
    }
}

// MARK: The lab start shared by every live pcscf-alg + ims-agw test

extension AGWLiveLab {
    /// The UE fingerprint the shared SIPp scenarios (Tests/Peers/sipp/pcscf) carry; replaced by a fresh one.
    static let sippFingerprint = "4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF"

    /// Runs openssl with `args` in `dir` (waits up to 20 s).
    static func openssl(_ args: [String], in dir: URL) async throws {
        let p = LiveProcess("/usr/bin/openssl", args, directory: dir)
        try p.start()
        _ = await p.wait(timeout: 20)
    }

    /// A self-signed EC P-256 certificate `name`.crt with its key `name`.key in `dir`.
    static func selfSignedCertificate(_ name: String, in dir: URL) async throws {
        try await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                           "-keyout", "\(name).key", "-out", "\(name).crt", "-days", "2", "-subj", "/CN=\(name).test"], in: dir)
    }

    /// A temporary folder holding a fresh self-signed UE certificate (ue.crt, ue.key) and its SHA-256
    /// fingerprint as openssl prints it (RFC 8122 §5 form). The caller removes the folder.
    static func ueIdentity(_ name: String) async throws -> (URL, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("agw-\(name)-\(getpid())-\(LoopbackSocket.freePort())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try await selfSignedCertificate("ue", in: dir)
        // Through a file: the exit of a process can come before its piped output is read.
        let sh = LiveProcess("/bin/sh", ["-c", "openssl x509 -in ue.crt -noout -fingerprint -sha256 > ue.fp"], directory: dir)
        try sh.start()
        _ = await sh.wait(timeout: 20)
        let fp = String(((try? String(contentsOf: dir.appendingPathComponent("ue.fp"), encoding: .utf8)) ?? "").split(separator: "=").last ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return (dir, fp)
    }

    /// The text of a shared pcscf scenario (Tests/Peers/sipp/pcscf/`file`) adapted to a live lab: the UE's
    /// `fingerprint` for the scenario's, the OTP MG's fixed gateway fingerprint check widened to any
    /// gateway, the pause before BYE set to `pauseMilliseconds` (time for media), the OTP MG's port check
    /// (410xx) widened to the regular expression `gatewayPorts`, then each (text, port) of `ports`
    /// replaced by the port.
    static func adaptedScenario(_ file: String, fingerprint: String, pauseMilliseconds: Int? = nil, gatewayPorts: String? = nil,
                                ports: [(String, Int)] = []) throws -> String {
        var text = try String(contentsOf: TestRepository.url("Tests/Peers/sipp/pcscf").appendingPathComponent(file), encoding: .utf8)
            .replacingOccurrences(of: sippFingerprint, with: fingerprint)
        if let pauseMilliseconds {
            text = text.replacingOccurrences(of: "<pause milliseconds=\"100\"/>", with: "<pause milliseconds=\"\(pauseMilliseconds)\"/>")
        }
        text = text.replacingOccurrences(of: "AB:CD:EF:01:23:45:67:89", with: "[0-9A-F:]+")
        if let gatewayPorts { text = text.replacingOccurrences(of: "410[0-9][0-9]", with: gatewayPorts) }
        for (from, port) in ports { text = text.replacingOccurrences(of: from, with: "\(port)") }
        return text
    }

    /// pcscf-alg's arguments in every live lab: Gm on UDP and TCP, Mw on UDP, the S-CSCF (core SIPp)
    /// as next hop, the MGC on Iq UDP.
    static func pcscfArguments(gm: Int, sipCore: Int, iq: Int) -> [String] {
        ["pcscf", "--gm", "udp:127.0.0.1:\(gm)", "--gm", "tcp:127.0.0.1:\(gm)", "--mw", "udp:127.0.0.1:\(LoopbackSocket.freePort())",
         "--core-next-hop", "sip:127.0.0.1:\(sipCore);lr", "--iq", "udp:127.0.0.1:\(iq)", "--iq-wait", "20", "--echo-applied"]
    }

    /// SIPp's arguments common to the UE and the S-CSCF of a live lab (one call, traces, 30 s timeout).
    static let sippCommon = ["-i", "127.0.0.1", "-m", "1", "-timeout", "30", "-timeout_error", "-nostdin", "-trace_err", "-trace_msg", "-key", "exp", "600"]

    /// Starts the core SIPp (S-CSCF, UDP on `sipCore`) running `core`, then 500 ms later the UE SIPp (TCP)
    /// running `ue` towards pcscf-alg's Gm port `gm`; both log into `dir`. The caller waits for or stops them.
    static func startSIPp(_ sipp: String, ue: URL, core: URL, gm: Int, sipCore: Int, in dir: URL) async throws -> (ue: LiveProcess, core: LiveProcess) {
        let coreSipp = LiveProcess(sipp, ["-sf", core.path, "-t", "u1", "-p", "\(sipCore)", "-mp", "\(LoopbackSocket.freePort(span: 4))"] + sippCommon,
                                   directory: dir)
        try coreSipp.start()
        try await Task.sleep(for: .milliseconds(500))
        let ueSipp = LiveProcess(sipp, ["-sf", ue.path, "-t", "t1", "-p", "\(LoopbackSocket.freePort())", "-mp", "\(LoopbackSocket.freePort(span: 4))"]
                                 + sippCommon + ["127.0.0.1:\(gm)"], directory: dir)
        do { try ueSipp.start() } catch { coreSipp.stop(); throw error }
        return (ueSipp, coreSipp)
    }
}

/// pcscf-alg (the MGC on Iq UDP) and one ims-agw registering to it, as the one-call live tests start them.
struct AGWLiveSignalling {
    let alg: LiveProcess
    let agw: LiveProcess
    /// pcscf-alg's Gm port (UDP and TCP), where the UE SIPp sends.
    let gmPort: Int
    /// The S-CSCF's port (the core SIPp), pcscf-alg's core next hop.
    let sipCorePort: Int

    /// Starts both, ims-agw with `--mgc` and `--listen` followed by `agwArguments`, and expects pcscf-alg to
    /// report it listens within 20 s. The caller stops them (`stop()`).
    static func start(pcscf: String, agwPath: String, agwArguments: [String],
                      sourceLocation: SourceLocation = #_sourceLocation) async throws -> AGWLiveSignalling {
        let (gm, sipCore, iq) = (LoopbackSocket.freePort(), LoopbackSocket.freePort(), LoopbackSocket.freePort())
        let alg = LiveProcess(pcscf, AGWLiveLab.pcscfArguments(gm: gm, sipCore: sipCore, iq: iq))
        try alg.start()
        let agw = LiveProcess(agwPath, ["--mgc", "udp:127.0.0.1:\(iq)", "--listen", "127.0.0.1:\(LoopbackSocket.freePort())"] + agwArguments)
        do { try agw.start() } catch { alg.stop(); throw error }
        #expect(await eventually(timeout: 20) { alg.stderr.contains("pcscf-alg pcscf listening") }, "\(alg.stderr)\n\(agw.stderr)",
                sourceLocation: sourceLocation)
        return AGWLiveSignalling(alg: alg, agw: agw, gmPort: gm, sipCorePort: sipCore)
    }

    /// The UE and core SIPp (AGWLiveLab.startSIPp) towards this pcscf-alg.
    func startSIPp(_ sipp: String, ue: URL, core: URL, in dir: URL) async throws -> (ue: LiveProcess, core: LiveProcess) {
        try await AGWLiveLab.startSIPp(sipp, ue: ue, core: core, gm: gmPort, sipCore: sipCorePort, in: dir)
    }

    func stop() {
        agw.stop()
        alg.stop()
    }
}
