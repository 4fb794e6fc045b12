// `pcscf-bench calls [--rate 50] [--duration 10] [--transport udp|tcp] [--modes msrp,audio,plain]
//                    [--no-kamailio] [--pcscf PATH] [--base-port P] [--keep-logs]`
//
// IMS-ALG calls through the real `pcscf-alg pcscf` (issue 9 §5): a SIPp UE (Gm) registers once with
// msrp-tls;mediasec (TS 33.328 §7.1), then calls at a fixed rate; each call offers e2ae MSRP
// (TCP/TLS/MSRP, a=fingerprint, a=3ge2ae:requested), a SIPp far end (Mw) answers TCP/MSRP, the UE
// ACKs and BYEs. The IMS-AGW is the OTP megaco MG (Tests/Peers/megaco_mg.escript) on Iq, so every call
// costs an Add (access + core termination), a Modify on the answer and a Subtract on the BYE. The same
// P-CSCF then runs RTP-audio-only calls (anchored on the AGW too) and plain calls (no SDP: the P-CSCF
// hooks without the ALG), and `pcscf-bench proxy`'s code measures `pcscf-alg proxy` and Kamailio's
// plain stateful figure at the same rate in the same run.
//
// Reported per run: calls per second achieved (successful calls / time from the first INVITE to the
// last call's end, from SIPp's statistics), successful and failed calls, setup latency (UE INVITE sent
// -> 200 received, from the UE SIPp's `-trace_msg` timestamps, microseconds) p50/p90/p99, and CPU ms per call of
// pcscf-alg (utime + stime from /proc, the whole process) and, separately, of the MG (the escript's
// BEAM, process tree).
//
// Run from the repository root (Tests/Peers/megaco_mg.escript, `.build/release/pcscf-alg`). Needs sipp
// and escript (erlang-base, erlang-megaco); Kamailio is optional ("kamailio not installed").
// Bounded: rate <= `CallsBenchLimits.rates`, duration <= `durations`, calls per run <= `maxCalls` (the
// MG's media port range); every SIPp run is killed at duration + grace; every process started here is
// killed at the end of its run, on error and on SIGINT/SIGTERM (`SpawnRegistry`).
import Dispatch
import Foundation

private enum CallsBenchLimits {
    static let mgScript = "Tests/Peers/megaco_mg.escript"
    static let defaultPCSCF = ".build/release/pcscf-alg"
    static let rates = 1...500
    static let durations = 1...60
    /// The MG hands out two media ports per termination from `mgPortBase`: 6000 calls of two
    /// terminations stay below 65535.
    static let maxCalls = 6_000
    static let mgPortBase = 20_000
    static let startTimeout: Duration = .seconds(15)
    static let portWait: Duration = .seconds(10)
    static let grace = 20  // seconds past --duration before the UAC is killed
    static let recvTimeoutMilliseconds = 5_000
    /// Calls after the first wait this long before their INVITE, so the registration (call 1) is done.
    static let registrationHeadStartMilliseconds = 1_000
}

enum CallMode: String, CaseIterable {
    /// e2ae MSRP: TCP/TLS/MSRP + fingerprint + a=3ge2ae:requested from the UE, TCP/MSRP from the core.
    case msrp
    /// One RTP audio stream, anchored on the AGW (alg.policy.anchor_rtp).
    case audio
    /// No SDP at all: the P-CSCF's SIP work only, no Iq.
    case plain

    var label: String {
        switch self {
        case .msrp: "pcscf-alg e2ae MSRP"
        case .audio: "pcscf-alg RTP audio"
        case .plain: "pcscf-alg plain (no SDP)"
        }
    }
}

private struct CallsOptions {
    var rate = 50
    var duration = 10
    var tcp = false
    var modes: [CallMode] = CallMode.allCases
    var kamailio = true
    var pcscf = CallsBenchLimits.defaultPCSCF
    var basePort = 16_060
    var keep = false
    var transport: String { tcp ? "tcp" : "udp" }
}

private struct CallsPorts {
    let gm: Int, mw: Int, registrar: Int, uas: Int, uac: Int, iq: Int, mg: Int, uacMedia: Int, uasMedia: Int, registrarMedia: Int
    init(base: Int) {
        gm = base; mw = base + 10; registrar = base + 20; uas = base + 30; uac = base + 40; iq = base + 50; mg = base + 51
        uacMedia = base + 1_000; uasMedia = base + 1_100; registrarMedia = base + 1_200
    }
}

private struct CallsResult {
    var label: String
    var calls: Int
    var ok = 0
    var failed = 0
    var unfinished = 0
    var callsPerSecond: Double?
    var latencies: [Double] = []  // ms
    var pcscfCPU = 0.0  // seconds
    var mgCPU: Double?
    var causes: [(String, Int)] = []
    var error: String?

    func perCall(_ seconds: Double) -> Double? { ok > 0 ? seconds * 1_000 / Double(ok) : nil }

    /// Nearest-rank percentile of the setup latencies.
    func percentile(_ p: Double) -> Double? {
        guard !latencies.isEmpty else { return nil }
        let sorted = latencies.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }
}

// MARK: - Scenarios

private enum CallsScenario {
    /// The UE's m-sections, or nil for no SDP (SIPp's [media_port] is for audio/video lines only: the
    /// MSRP ports are fixed; no MSRP flows, the OTP MG relays nothing).
    static func ueMedia(_ mode: CallMode) -> String? {
        switch mode {
        case .msrp:
            return """
            m=message 50000 TCP/TLS/MSRP *
            a=accept-types:message/cpim
            a=path:msrps://[local_ip]:50000/s[call_number];tcp
            a=setup:actpass
            a=connection:new
            a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF
            a=msrp-cema
            a=3ge2ae:requested

            """
        case .audio: return "m=audio [media_port] RTP/AVP 0\na=rtpmap:0 PCMU/8000\na=sendrecv\n"
        case .plain: return nil
        }
    }

    static func coreMedia(_ mode: CallMode) -> String? {
        switch mode {
        case .msrp:
            return """
            m=message 7654 TCP/MSRP *
            a=accept-types:message/cpim
            a=path:msrp://[local_ip]:7654/c[call_number];tcp
            a=setup:passive
            a=connection:new
            a=msrp-cema

            """
        case .audio: return "m=audio [media_port] RTP/AVP 0\na=rtpmap:0 PCMU/8000\na=sendrecv\n"
        case .plain: return nil
        }
    }

    static func body(_ user: String, _ media: String?) -> (headers: String, body: String) {
        guard let media else { return ("Content-Length: 0\n", "") }
        return ("Content-Type: application/sdp\nContent-Length: [len]\n",
                "v=0\no=\(user) 1 1 IN IP4 [local_ip]\ns=-\nc=IN IP4 [local_ip]\nt=0 0\n" + media)
    }

    /// A `<send>`; a message without body ends with the empty line, one with a body with its last line.
    static func send(_ message: String, retrans: Bool = false) -> String {
        var m = message
        while m.hasSuffix("\n") { m.removeLast() }
        m += m.contains("\n\n") ? "\n" : "\n\n"
        return "  <send\(retrans ? " retrans=\"500\"" : "")>\n    <![CDATA[\n\(m)]]>\n  </send>\n"
    }

    /// The UE: call 1 registers (401, 200) with msrp-tls;mediasec, every other call waits for it; then
    /// (SIPp maps a message to a call by the Call-ID part after "///": the REGISTER's own Call-ID
    /// "reg///<id>" still lands in call 1)
    /// INVITE -> 200 (the setup latency), ACK, BYE -> 200.
    static func uac(_ mode: CallMode, tcp: Bool) -> String {
        let via = "SIP/2.0/\(tcp ? "TCP" : "UDP") [local_ip]:[local_port]"
        let contact = "<sip:alice@[local_ip]:[local_port]\(tcp ? ";transport=tcp" : "")>"
        var x = """
        <?xml version="1.0" encoding="UTF-8"?>
        <scenario name="pcscf-bench calls UE (\(mode.rawValue))">
          <nop>
            <action>
              <assignstr assign_to="cn" value="[call_number]"/>
              <todouble assign_to="n" variable="cn"/>
              <test assign_to="later" variable="n" compare="greater_than" value="1"/>
            </action>
          </nop>
          <nop next="1" test="later"/>

        """
        for (cseq, auth) in [(1, "nonce=\"\",response=\"\""), (2, "nonce=\"abc\",response=\"0123\"")] {
            x += send("""
            REGISTER sip:ims.test SIP/2.0
            Via: \(via);branch=[branch]
            Max-Forwards: 70
            From: <sip:alice@ims.test>;tag=reg[pid]
            To: <sip:alice@ims.test>
            Call-ID: reg///[call_id]
            CSeq: \(cseq) REGISTER
            Contact: \(contact)
            Expires: 600
            Security-Client: msrp-tls;mediasec, bfcp-tls;mediasec
            \(cseq == 2 ? "Security-Verify: msrp-tls;mediasec\n" : "")Require: mediasec
            Proxy-Require: mediasec
            Supported: path
            Authorization: Digest username="alice@ims.test",realm="ims.test",uri="sip:ims.test",\(auth)
            Content-Length: 0

            """, retrans: true)
            x += "  <recv response=\"\(cseq == 1 ? 401 : 200)\"/>\n"
        }
        x += "  <nop next=\"2\"/>\n  <label id=\"1\"/>\n  <pause milliseconds=\"\(CallsBenchLimits.registrationHeadStartMilliseconds)\"/>\n  <label id=\"2\"/>\n"
        let (headers, sdp) = body("alice", ueMedia(mode))
        x += send("""
        INVITE sip:bob@ims.test SIP/2.0
        Via: \(via);branch=[branch]
        Max-Forwards: 70
        From: <sip:alice@ims.test>;tag=[pid]c[call_number]
        To: <sip:bob@ims.test>
        Call-ID: [call_id]
        CSeq: 1 INVITE
        Contact: \(contact)
        \(headers)
        \(sdp)
        """, retrans: true)
        x += "  <recv response=\"100\" optional=\"true\"/>\n  <recv response=\"180\" optional=\"true\"/>\n"
        x += "  <recv response=\"200\" rrs=\"true\"/>\n"
        for (method, cseq) in [("ACK", 1), ("BYE", 2)] {
            x += send("""
            \(method) [next_url] SIP/2.0
            Via: \(via);branch=[branch]
            [routes]
            Max-Forwards: 70
            From: <sip:alice@ims.test>;tag=[pid]c[call_number]
            [last_To:]
            Call-ID: [call_id]
            CSeq: \(cseq) \(method)
            Content-Length: 0

            """, retrans: method == "BYE")
        }
        return x + "  <recv response=\"200\"/>\n</scenario>\n"
    }

    /// The far end: INVITE -> 200 (with the core's answer), ACK, BYE -> 200.
    static func uas(_ mode: CallMode, tcp: Bool) -> String {
        let (headers, sdp) = body("bob", coreMedia(mode))
        var x = """
        <?xml version="1.0" encoding="UTF-8"?>
        <scenario name="pcscf-bench calls far end (\(mode.rawValue))">
          <recv request="INVITE" rrs="true"/>

        """
        x += send("""
        SIP/2.0 200 OK
        [last_Via:]
        [last_From:]
        [last_To:];tag=[pid]e[call_number]
        [last_Call-ID:]
        [last_CSeq:]
        [last_Record-Route:]
        Contact: <sip:bob@[local_ip]:[local_port]\(tcp ? ";transport=tcp" : "")>
        \(headers)
        \(sdp)
        """, retrans: true)
        x += "  <recv request=\"ACK\"/>\n  <recv request=\"BYE\"/>\n"
        x += send("""
        SIP/2.0 200 OK
        [last_Via:]
        [last_From:]
        [last_To:]
        [last_Call-ID:]
        [last_CSeq:]
        Content-Length: 0

        """)
        return x + "</scenario>\n"
    }

    /// The S-CSCF for the one registration (401, then 200 with Path echoed and a Service-Route that
    /// points the UE's calls at the far-end SIPp).
    static func registrar(uasPort: Int, tcp: Bool) -> String {
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<scenario name=\"pcscf-bench calls S-CSCF registrar\">\n"
        x += "  <recv request=\"REGISTER\"/>\n" + send("""
        SIP/2.0 401 Unauthorized
        [last_Via:]
        [last_From:]
        [last_To:];tag=r[pid]
        [last_Call-ID:]
        [last_CSeq:]
        WWW-Authenticate: Digest realm="ims.test", nonce="abc", algorithm=AKAv1-MD5, qop="auth"
        Content-Length: 0

        """) + "  <recv request=\"REGISTER\"/>\n" + send("""
        SIP/2.0 200 OK
        [last_Via:]
        [last_From:]
        [last_To:];tag=r[pid]
        [last_Call-ID:]
        [last_CSeq:]
        [last_Contact:];expires=600
        [last_Path:]
        Service-Route: <sip:orig@127.0.0.1:\(uasPort);lr\(tcp ? ";transport=tcp" : "")>
        P-Associated-URI: <sip:alice@ims.test>
        Content-Length: 0

        """)
        return x + "</scenario>\n"
    }

    /// pcscf-alg's configuration: Gm and Mw on loopback, the registrar as core next hop, Iq on UDP
    /// (compact) for the MG, warnings only (no per-request log lines in the measurement).
    static func config(_ ports: CallsPorts, tcp: Bool) -> String {
        """
        sip:
          domain: pcscf.bench.test
          gm:
            udp: [\(tcp ? "" : "\"127.0.0.1:\(ports.gm)\"")]
            tcp: [\(tcp ? "\"127.0.0.1:\(ports.gm)\"" : "")]
          mw:
            udp: ["127.0.0.1:\(ports.mw)"]
            tcp: [\(tcp ? "\"127.0.0.1:\(ports.mw)\"" : "")]
          core_next_hops: ["sip:127.0.0.1:\(ports.registrar);lr"]
          limits:
            udp_max_message_bytes: 4000
        iq:
          enabled: true
          listen: udp:127.0.0.1:\(ports.iq)
          encoding: compact
          wait_for_gateway: 10s
        logging:
          level: warning

        """
    }
}

// MARK: - One measured run

/// Setup times (ms) from the UE SIPp's `-trace_msg` log: per Call-ID, its first INVITE sent to the
/// first 200 received with CSeq INVITE. Each logged message starts with a line of dashes and the
/// time SIPp sent or processed it ("2026-11-23 17:36:29.712382", microseconds); SIPp's own
/// response-time figures (`-trace_rtt`) come in whole milliseconds of its scheduler tick.
func parseSetupTimes(_ log: String) -> [Double] {
    var sent: [Substring: Double] = [:]
    var done: Set<Substring> = []
    var result: [Double] = []
    // The SIP lines end in CRLF, one Character in Swift: make every line end "\n" first.
    let text = log.replacingOccurrences(of: "\r\n", with: "\n")
    for block in text.split(separator: "\n-----------------------------------------------", omittingEmptySubsequences: true) {
        let lines = block.split(separator: "\n", maxSplits: 30, omittingEmptySubsequences: true)
        guard lines.count > 3 else { continue }
        // " 2026-11-23 17:36:29.712382": seconds of the day.
        let stamp = lines[0].split(separator: " ").last.map { $0.split(separator: ":") } ?? []
        guard stamp.count == 3, let h = Double(stamp[0]), let m = Double(stamp[1]), let sec = Double(stamp[2]) else { continue }
        let t = (h * 3_600 + m * 60 + sec) * 1_000
        let isSent = lines[1].contains("message sent")
        let startLine = lines[2]
        guard let callID = lines.first(where: { $0.hasPrefix("Call-ID:") })?.dropFirst(8).drop(while: { $0 == " " }),
              let cseq = lines.first(where: { $0.hasPrefix("CSeq:") }), cseq.hasSuffix("INVITE") else { continue }
        if isSent, startLine.hasPrefix("INVITE "), sent[callID] == nil {
            sent[callID] = t
        } else if !isSent, startLine.hasPrefix("SIP/2.0 200"), !done.contains(callID), let t0 = sent[callID] {
            done.insert(callID)
            var d = t - t0
            if d < 0 { d += 86_400_000 }  // past midnight
            result.append(d)
        }
    }
    return result
}

private func waitFree(_ ports: [Int], tcp: Bool) throws {
    let freeBy = ContinuousClock.now + CallsBenchLimits.portWait
    for port in ports {
        while isListening(port, tcp: tcp) || (tcp && isListening(port, tcp: false)) {
            guard ContinuousClock.now < freeBy else { throw BenchError("port \(port) is already in use (choose another --base-port)") }
            usleep(100_000)
        }
    }
}

private func waitFor(_ what: String, in spawned: Spawned, others: [Spawned] = [], _ ready: () -> Bool) throws {
    let readyBy = ContinuousClock.now + CallsBenchLimits.startTimeout
    while !ready() {
        for s in [spawned] + others where !s.process.isRunning {
            throw BenchError("\(s.name) exited (status \(s.process.terminationStatus)) waiting for \(what): " + s.log.suffix(600))
        }
        guard ContinuousClock.now < readyBy else { throw BenchError("no \(what) after \(CallsBenchLimits.startTimeout): " + spawned.log.suffix(600)) }
        usleep(50_000)
    }
}

private func measureCalls(_ mode: CallMode, _ o: CallsOptions, sipp: String, escript: String) -> CallsResult {
    let calls = o.rate * o.duration
    var result = CallsResult(label: mode.label, calls: calls)
    let ports = CallsPorts(base: o.basePort)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pcscf-bench-calls-\(mode.rawValue)-\(UUID().uuidString.prefix(8))")
    var spawned: [Spawned] = []
    defer {
        for s in spawned.reversed() { s.stop() }
        if o.keep { print("    (logs kept in \(dir.path))") } else { try? FileManager.default.removeItem(at: dir) }
    }
    do {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try waitFree([ports.gm, ports.mw, ports.registrar, ports.uas, ports.uac], tcp: o.tcp)
        try waitFree([ports.iq, ports.mg, ports.registrar], tcp: false)
        let write = { (name: String, text: String) throws -> String in
            let url = dir.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        let uacFile = try write("uac.xml", CallsScenario.uac(mode, tcp: o.tcp))
        let uasFile = try write("uas.xml", CallsScenario.uas(mode, tcp: o.tcp))
        let registrarFile = try write("registrar.xml", CallsScenario.registrar(uasPort: ports.uas, tcp: o.tcp))
        let configFile = try write("pcscf-alg.yaml", CallsScenario.config(ports, tcp: o.tcp))
        let t = o.tcp ? "t1" : "u1"
        let lifetime = o.duration + CallsBenchLimits.grace + 30

        let registrar = try Spawned("registrar", sipp, [
            "-sf", registrarFile, "-t", "u1", "-i", "127.0.0.1", "-p", "\(ports.registrar)", "-mp", "\(ports.registrarMedia)",
            "-m", "1", "-nostdin", "-timeout", "\(lifetime)",
        ], directory: dir)
        spawned.append(registrar)
        let uas = try Spawned("uas", sipp, [
            "-sf", uasFile, "-t", t, "-i", "127.0.0.1", "-p", "\(ports.uas)", "-mp", "\(ports.uasMedia)",
            "-nostdin", "-timeout", "\(lifetime)",
        ], directory: dir)
        spawned.append(uas)
        let pcscf = try Spawned("pcscf-alg", o.pcscf, ["pcscf", "--config", configFile], directory: dir)
        spawned.append(pcscf)
        try waitFor("pcscf-alg Iq listener", in: pcscf) { isListening(ports.iq, tcp: false) }
        // The MG's stdout is its log ("MG ..."): kept in mg.log.
        let mg = try Spawned("mg", escript, [
            FileManager.default.currentDirectoryPath + "/" + CallsBenchLimits.mgScript,
            "--mgc", "127.0.0.1:\(ports.iq)", "--transport", "udp", "--encoding", "compact", "--version", "3",
            "--local-port", "\(ports.mg)", "--media-ip", "127.0.0.1", "--port-base", "\(CallsBenchLimits.mgPortBase)",
            "--duration", "\(lifetime)",
        ], directory: dir, stdoutToLog: true)
        spawned.append(mg)
        try waitFor("pcscf-alg listening (the MG registered)", in: pcscf, others: [mg, uas, registrar]) {
            pcscf.log.contains("pcscf-alg pcscf listening") && isListening(ports.gm, tcp: o.tcp) && isListening(ports.uas, tcp: o.tcp)
        }
        try waitFor("the MG's ServiceChange answered", in: mg, others: [pcscf]) { mg.log.contains("reply=[") }

        let pcscfTree = pcscf.tree(), mgTree = mg.tree()
        let pcscfBefore = cpuTicks(pcscfTree), mgBefore = cpuTicks(mgTree)
        let stat = dir.appendingPathComponent("uac.csv")
        let start = ContinuousClock.now
        let uac = try Spawned("uac", sipp, [
            "-sf", uacFile, "-t", t, "-i", "127.0.0.1", "-p", "\(ports.uac)", "-mp", "\(ports.uacMedia)",
            "127.0.0.1:\(ports.gm)", "-r", "\(o.rate)", "-m", "\(calls)", "-l", "\(max(500, o.rate * 5))",
            "-nostdin", "-trace_stat", "-stf", stat.path, "-fd", "1", "-trace_msg",
            "-recv_timeout", "\(CallsBenchLimits.recvTimeoutMilliseconds)", "-timeout", "\(o.duration + CallsBenchLimits.grace)",
        ], directory: dir)
        spawned.append(uac)
        let exited = uac.wait(until: start + .seconds(o.duration + CallsBenchLimits.grace + 5))
        let wall = start.duration(to: .now)
        result.pcscfCPU = Double(max(0, cpuTicks(pcscf.tree()) - pcscfBefore)) / ticksPerSecond
        if mode != .plain { result.mgCPU = Double(max(0, cpuTicks(mg.tree()) - mgBefore)) / ticksPerSecond }
        if !exited { uac.stop() }
        guard let s = parseStat(stat, calls: calls) else {
            throw BenchError("no SIPp statistics: " + uac.log.suffix(600))
        }
        result.ok = s.ok
        result.failed = s.failed
        result.unfinished = max(0, calls - s.ok - s.failed)
        result.causes = s.causes
        // The first call's INVITE leaves after its registration, the others after the head start:
        // the calls ran from then to the UAC's end.
        let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
            - Double(CallsBenchLimits.registrationHeadStartMilliseconds) / 1_000
        if seconds > 0 { result.callsPerSecond = Double(s.ok) / seconds }
        let messages = (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.first { $0.hasPrefix("uac_") && $0.hasSuffix("_messages.log") }
        result.latencies = messages.flatMap { try? String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8) }.map(parseSetupTimes) ?? []
        if !pcscf.process.isRunning { result.error = "pcscf-alg died during the run: " + pcscf.log.suffix(400) }
        let adds = mg.log.components(separatedBy: "MG ADD ").count - 1
        if mode != .plain, adds < s.ok {
            result.error = (result.error.map { $0 + "; " } ?? "") + "the MG saw \(adds) Adds for \(s.ok) calls"
        }
    } catch {
        result.error = "\(error)"
    }
    return result
}

// MARK: - Entry point

private func parseCallsOptions(_ arguments: [String]) -> CallsOptions? {
    var o = CallsOptions()
    var i = 0
    func int(_ s: String, _ range: ClosedRange<Int>) -> Int? { Int(s).flatMap { range.contains($0) ? $0 : nil } }
    while i < arguments.count {
        let v = i + 1 < arguments.count ? arguments[i + 1] : ""
        switch arguments[i] {
        case "--rate": guard let r = int(v, CallsBenchLimits.rates) else { return nil }; o.rate = r; i += 1
        case "--duration": guard let d = int(v, CallsBenchLimits.durations) else { return nil }; o.duration = d; i += 1
        case "--transport":
            guard v == "udp" || v == "tcp" else { return nil }
            o.tcp = v == "tcp"; i += 1
        case "--modes":
            let ms = v.split(separator: ",").compactMap { CallMode(rawValue: String($0)) }
            guard !ms.isEmpty, ms.count == v.split(separator: ",").count else { return nil }
            o.modes = ms; i += 1
        case "--no-kamailio": o.kamailio = false
        case "--pcscf": guard !v.isEmpty else { return nil }; o.pcscf = v; i += 1
        case "--base-port": guard let p = int(v, 1_024...60_000) else { return nil }; o.basePort = p; i += 1
        case "--keep-logs": o.keep = true
        default: return nil
        }
        i += 1
    }
    guard o.rate * o.duration <= CallsBenchLimits.maxCalls else { return nil }
    return o
}

private func formatCalls(_ r: CallsResult) -> String {
    func ms(_ v: Double?) -> String { v.map { String(format: "%7.1f", $0) } ?? "      -" }
    func cpu(_ v: Double?) -> String { v.map { String(format: "%8.3f", $0) } ?? "       -" }
    let name = r.label.padding(toLength: 26, withPad: " ", startingAt: 0)
    return "\(name) \(r.callsPerSecond.map { String(format: "%7.1f", $0) } ?? "      -") \(String(format: "%6d", r.ok)) \(String(format: "%6d", r.failed + r.unfinished))"
        + "  \(ms(r.percentile(50))) \(ms(r.percentile(90))) \(ms(r.percentile(99)))"
        + "  \(cpu(r.perCall(r.pcscfCPU)))  \(cpu(r.mgCPU.flatMap { r.perCall($0) }))"
        + (r.unfinished > 0 ? "  [\(r.unfinished) unfinished]" : "")
        + (r.causes.isEmpty ? "" : "  [" + r.causes.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + "]")
        + (r.error.map { "  ERROR: \($0.replacingOccurrences(of: "\n", with: " | "))" } ?? "")
}

func runCallsBench(_ arguments: [String]) {
    guard let o = parseCallsOptions(arguments) else {
        print("""
            usage: pcscf-bench calls [--rate 50 (1-500)] [--duration 10 (1-60 s; rate x duration <= \(CallsBenchLimits.maxCalls))]
                                     [--transport udp|tcp] [--modes msrp,audio,plain] [--no-kamailio]
                                     [--pcscf .build/release/pcscf-alg] [--base-port 16060] [--keep-logs]   (run from the repo root)
            """)
        return
    }
    guard FileManager.default.fileExists(atPath: CallsBenchLimits.mgScript) else {
        print("calls bench: \(CallsBenchLimits.mgScript) not found: run pcscf-bench from the repository root"); return
    }
    guard let sipp = findExecutable("sipp") else { print("calls bench: sipp (sip-tester) not on PATH"); return }
    guard let escript = findExecutable("escript") else { print("calls bench: escript (erlang-base, erlang-megaco) not on PATH"); return }
    guard FileManager.default.isExecutableFile(atPath: o.pcscf) else {
        print("calls bench: \(o.pcscf) not found (swift build -c release --product pcscf-alg)"); return
    }
    let signalSources = killChildrenOnSignals("calls bench")
    defer {
        for s in signalSources { s.cancel() }
        SpawnRegistry.shared.killAll()
    }
    let clock = ContinuousClock()
    let benchStart = clock.now
    let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    print("calls bench: \(o.transport), SIPp UE -> pcscf-alg pcscf (Iq: OTP megaco MG) -> SIPp far end on 127.0.0.1; "
          + "\(ProcessInfo.processInfo.activeProcessorCount) CPUs, load average \(load)")
    print("fixed rate \(o.rate) calls/s for \(o.duration) s (\(o.rate * o.duration) calls per run); call = INVITE, 200, ACK, BYE, 200; setup = UE INVITE -> 200")
    print("run                         calls/s     ok failed  setup ms p50     p90     p99  pcscf CPU ms/call  MG CPU ms/call")
    var results: [CallMode: CallsResult] = [:]
    for mode in o.modes {
        let r = measureCalls(mode, o, sipp: sipp, escript: escript)
        print(formatCalls(r))
        results[mode] = r
    }
    if let m = results[.msrp], let p = results[.plain], let mc = m.perCall(m.pcscfCPU), let pc = p.perCall(p.pcscfCPU), pc > 0 {
        print(String(format: "pcscf-alg CPU per e2ae MSRP call / per plain call: %.2f (%.3f vs %.3f ms)", mc / pc, mc, pc))
    }

    // The plain stateful proxies under the same rate, from `pcscf-bench proxy`.
    print("plain stateful proxy at the same rate (pcscf-bench proxy: SIPp uac -> proxy -> uas, no SDP):")
    if !o.kamailio {
        print("  (skipped: --no-kamailio)")
    } else if let kamailio = findExecutable("kamailio") {
        guard FileManager.default.fileExists(atPath: "Benchmarks/kamailio/kamailio_stateful_bench.cfg") else {
            print("  Benchmarks/kamailio/ not found"); return
        }
        var po = ProxyBenchOptions()
        po.rate = o.rate
        po.duration = o.duration
        po.tcp = o.tcp
        po.pcscf = o.pcscf
        po.basePort = o.basePort + 2_000
        po.keep = o.keep
        print(proxyTableHeader)
        var proxy: [ProxyKind: ProxyRunResult] = [:]
        for k in [ProxyKind.pcscf, .kamailio] {
            let r = measureProxyRun(k, rate: o.rate, duration: o.duration, po, sipp: sipp, kamailio: kamailio)
            print(formatProxyRun(r))
            proxy[k] = r
        }
        if let m = results[.msrp], let mc = m.perCall(m.pcscfCPU), let kc = proxy[.kamailio]?.cpuMillisecondsPerCall, kc > 0 {
            print(String(format: "pcscf-alg CPU per e2ae MSRP call / Kamailio per plain stateful call: %.2f (%.3f vs %.4f ms)", mc / kc, mc, kc))
        }
    } else {
        print("  kamailio not installed (scripts/install-deps.sh --bench)")
    }
    print(String(format: "calls bench: total %.0f s", Double(benchStart.duration(to: clock.now).components.seconds)))
}
