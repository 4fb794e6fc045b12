// ims-agw --key-log under a loopback capture (issue 10): an e2ae MSRP call through pcscf-alg +
// ims-agw, captured with dumpcap, decoded with tshark. The access leg is TLS (TCP/TLS/MSRP, RFC 4975
// §6 / TS 33.328 e2ae) whose records tshark decrypts with the key log ims-agw wrote (NSS key log
// format); the core leg is plain MSRP that tshark's MSRP dissector reads; without the key log the
// access leg shows no MSRP text at all. tshark 4.0's `tls.port` decode-as table has no MSRP entry,
// so the decrypted access records are read as tshark shows them (`data.text`), the core leg with `msrp.*`.
// tshark/dumpcap missing, or no capture permission: skip with the reason, fail under CI=true.

import ALGTestSupport
import Foundation
import Testing

@Suite("ims-agw --key-log: tshark decrypts the TLS access leg, the core leg is plain MSRP (RFC 4975, TS 33.328 e2ae)", .serialized)
struct AGWKeyLogLiveTests {
    /// tshark on `capture` (fields output, tab separated), bounded in time; `options` before the filter.
    static func tshark(_ tshark: String, _ capture: URL, _ options: [String], filter: String, fields: [String]) async -> [String] {
        let p = LiveProcess(tshark, ["-r", capture.path, "-n"] + options + ["-o", "data.show_as_text:TRUE", "-Y", filter, "-T", "fields"]
                            + fields.flatMap { ["-e", $0] })
        guard (try? p.start()) != nil else { return [] }
        _ = await p.wait(timeout: 30)
        return p.stdout.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    @Test("MSRP SEND/200 visible decrypted inside TLS on the access leg with ims-agw's key log, plain MSRP on the core leg; no plaintext on the access leg without the key log")
    func keyLogDecryptsAccessLeg() async throws {
        let test = "keyLogDecryptsAccessLeg"
        guard let tshark = Live.tool("tshark", for: test), let dumpcap = Live.tool("dumpcap", for: test) else { return }
        let keyLog = FileManager.default.temporaryDirectory.appendingPathComponent("agw-keylog-\(getpid())-\(LoopbackSocket.freePort()).txt")
        defer { try? FileManager.default.removeItem(at: keyLog) }
        let media = 47_700...47_749
        guard let lab = try await AGWLiveLab.start(test, mediaPorts: media, agwExtra: ["--key-log", keyLog.path]) else { return }
        defer { lab.stop() }
        let capture = lab.dir.appendingPathComponent("msrp.pcapng")
        // LiveProcess spawns with an empty signal mask (`runWithSignalsUnblocked`), so dumpcap sees SIGINT.
        let dump = try lab.process(dumpcap, ["-i", "lo", "-f", "tcp port \(lab.corePort) or tcp portrange \(media.lowerBound)-\(media.upperBound)",
                                             "-w", capture.path, "-a", "duration:40", "-q"])
        guard await eventually(timeout: 10, { dump.stderr.contains("Capturing on") }) else {
            let why = "dumpcap cannot capture on lo as this user: \(dump.stderr.prefix(400))"
            if LiveTool.isCI { Issue.record("\(why)") } else { print("skipping \(test): \(why)") }
            return
        }
        let ue = try lab.scenario("ue_alg_call.xml") { $0.replacingOccurrences(of: "<pause milliseconds=\"100\"/>", with: "<pause milliseconds=\"3000\"/>") }
        let core = try lab.scenario("core_alg_call.xml")
        guard let (server, client, access) = try await lab.startMSRPCall(ue: ue, core: core) else { return }
        let clientStatus = await client.wait(timeout: 15)
        _ = await server.wait(timeout: 5)
        // libpcap's TPACKET_V3 ring hands a block to dumpcap only when it is full or its timeout expires;
        // packets in a block not yet handed over when dumpcap stops are lost. Wait well past that timeout
        // (the last SEND/200 went missing with 200 ms on a loaded machine).
        try await Task.sleep(for: .milliseconds(1500))
        dump.process.interrupt()   // dumpcap closes the file and exits 0 on SIGINT
        #expect(await dump.wait(timeout: 10) == 0, "dumpcap stops on SIGINT and closes the capture: \(dump.stderr.suffix(300))")
        let call = await lab.finishCall()
        let context = "client:\n\(client.stdout)\(client.stderr)\nserver:\n\(server.stdout)\(server.stderr)\nAGW:\n\(lab.agw.stderr)"
        #expect(clientStatus == 0 && server.stdout.contains("SEND in ok"), "\(context)")
        #expect(call.ue == 0 && call.core == 0, "\(call.errors.prefix(1500))")

        let keys = (try? String(contentsOf: keyLog, encoding: .utf8)) ?? ""
        #expect(keys.contains("CLIENT_TRAFFIC_SECRET_0") || keys.contains("CLIENT_RANDOM"), "NSS key log lines: \(keys.prefix(300))")
        let accessLeg = "tcp.port == \(access)"
        let coreLeg = "tcp.port == \(lab.corePort)"
        let withKeys = ["-o", "tls.keylog_file:\(keyLog.path)"]
        let noKeys = ["-o", "tls.keylog_file:"]

        // Access leg, key log given: the decrypted TLS application data are the MSRP SEND and its 200 OK.
        let decrypted = await Self.tshark(tshark, capture, withKeys, filter: "\(accessLeg) && tls && data", fields: ["tcp.srcport", "data.text"])
        let ueSend = decrypted.first { $0.contains(" SEND\\r\\n") && $0.contains("hello from the UE over TLS") }
        #expect(ueSend.map { $0.split(separator: "\t").last?.hasPrefix("MSRP ") == true } == true, "decrypted access leg:\n\(decrypted.joined(separator: "\n"))")
        #expect(decrypted.contains { $0.hasPrefix("\(access)\t") && $0.contains(" 200 OK\\r\\n") }, "the 200 OK the gateway relays to the UE, in TLS:\n\(decrypted.joined(separator: "\n"))")
        #expect(decrypted.contains { $0.contains("hello from the core over TCP") }, "the core's SEND reaches the UE in TLS:\n\(decrypted.joined(separator: "\n"))")

        // Core leg: tshark's MSRP dissector reads plain MSRP, and there is no TLS at all.
        let plain = await Self.tshark(tshark, capture, noKeys, filter: "\(coreLeg) && msrp", fields: ["msrp.method", "msrp.status.code", "tcp.dstport"])
        #expect(plain.contains { $0.hasPrefix("SEND\t\t\(lab.corePort)") }, "the UE's SEND reaches the core server as plain MSRP:\n\(plain.joined(separator: "\n"))")
        #expect(plain.contains { $0.hasPrefix("\t200\t") && !$0.hasSuffix("\t\(lab.corePort)") }, "the core's 200 OK:\n\(plain.joined(separator: "\n"))")
        #expect(await Self.tshark(tshark, capture, noKeys, filter: "\(coreLeg) && tls", fields: ["frame.number"]).isEmpty)

        // Access leg without the key log: TLS application data, not a byte of MSRP text.
        let sealed = await Self.tshark(tshark, capture, noKeys, filter: "\(accessLeg) && tls.app_data", fields: ["frame.number"])
        #expect(!sealed.isEmpty, "the access leg carries TLS application data")
        let leaked = await Self.tshark(tshark, capture, noKeys, filter: "\(accessLeg) && (msrp || data || frame contains \"MSRP\" || frame contains \"hello\")", fields: ["frame.number"])
        #expect(leaked.isEmpty, "no plaintext MSRP on the access leg without the key log: frames \(leaked)")
    }
}
