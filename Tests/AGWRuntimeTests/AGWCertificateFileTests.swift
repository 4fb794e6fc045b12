// ims-agw --cert/--key (issue 10): the access-side TLS identity from PEM files, used for every TLS
// stream; the fingerprint the gateway returns in Local (and pcscf-alg puts in the UE's SDP) is the
// SHA-256 of that certificate's DER (RFC 8122 §5, TS 33.328 Annex M: fingerprints instead of a PKI),
// and it is the certificate the UE's TLS client is shown. A key that does not match, or one file
// without the other, stops ims-agw at start.

import AGWMedia
import AGWRuntime
import ALGTestSupport
import Foundation
import Logging
import Testing

@Suite("ims-agw --cert/--key: the gateway's TLS identity from PEM files (RFC 8122 §5)", .serialized)
struct AGWCertificateFileTests {
    /// A folder with gw.crt/gw.key, other.key and openssl's SHA-256 fingerprint of gw.crt.
    static func files(_ test: String) async throws -> (URL, String)? {
        guard Live.tool("openssl", for: test) != nil else { return nil }
        let (dir, _) = try await AGWLiveLab.ueIdentity("cert-\(test)")
        try await AGWLiveLab.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                                "-keyout", "gw.key", "-out", "gw.crt", "-days", "2", "-subj", "/CN=agw.test"], in: dir)
        try await AGWLiveLab.openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "other.key"], in: dir)
        let sh = LiveProcess("/bin/sh", ["-c", "openssl x509 -in gw.crt -noout -fingerprint -sha256 > gw.fp"], directory: dir)
        try sh.start()
        _ = await sh.wait(timeout: 20)
        let fp = String(((try? String(contentsOf: dir.appendingPathComponent("gw.fp"), encoding: .utf8)) ?? "").split(separator: "=").last ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(fp.count == 95, "openssl fingerprint \(fp)")
        return (dir, fp)
    }

    @Test("TLSIdentity.load: the fingerprint is the SHA-256 of the file's certificate (as openssl computes it); bad files are typed errors")
    func loadComputesFingerprint() async throws {
        guard let (dir, fp) = try await Self.files("loadComputesFingerprint") else { return }
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try TLSIdentity.load(certificateFile: dir.appendingPathComponent("gw.crt").path, keyFile: dir.appendingPathComponent("gw.key").path)
        #expect(id.fingerprint.sdpValue == "sha-256 \(fp)")
        // A key file given as the certificate, a missing file: refused with the reason, no trap.
        #expect(throws: MediaError.self) {
            try TLSIdentity.load(certificateFile: dir.appendingPathComponent("gw.key").path, keyFile: dir.appendingPathComponent("gw.key").path)
        }
        #expect(throws: MediaError.self) {
            try TLSIdentity.load(certificateFile: dir.appendingPathComponent("none.crt").path, keyFile: dir.appendingPathComponent("gw.key").path)
        }
        // A key that is not the certificate's loads, but the media plane refuses to start with it.
        let other = dir.appendingPathComponent("other.key").path
        _ = try TLSIdentity.load(certificateFile: dir.appendingPathComponent("gw.crt").path, keyFile: other)
        await #expect(throws: (any Error).self) {
            _ = try await AGWMediaPlaneDriver.make(address: "127.0.0.1", ports: 47_900...47_909, certificatePerStream: false,
                                                   certificateFile: dir.appendingPathComponent("gw.crt").path, keyFile: other,
                                                   keyLogFile: nil, logger: Logger(label: "test"))
        }
        // The matching pair: the plane's gateway fingerprint is the file's.
        let driver = try await AGWMediaPlaneDriver.make(address: "127.0.0.1", ports: 47_910...47_919, certificatePerStream: true,
                                                        certificateFile: dir.appendingPathComponent("gw.crt").path,
                                                        keyFile: dir.appendingPathComponent("gw.key").path, keyLogFile: nil, logger: Logger(label: "test"))
        let plane = try await #require(driver as? AGWMediaPlaneDriver).plane
        #expect(plane.gatewayFingerprint?.sdpValue == "sha-256 \(fp)", "--cert wins over --cert-mode stream")
        await plane.shutdown()
    }

    @Test("ims-agw --cert/--key through pcscf-alg + SIPp: the UE's SDP carries the file certificate's fingerprint, the UE's TLS client is shown that certificate, MSRP crosses; a mismatched key or a lone --cert stops ims-agw")
    func gatewayUsesFileCertificate() async throws {
        let test = "gatewayUsesFileCertificate"
        guard let (dir, fp) = try await Self.files(test), let agwPath = Live.binary("ims-agw", for: test) else { return }
        defer { try? FileManager.default.removeItem(at: dir) }
        let cert = dir.appendingPathComponent("gw.crt").path
        for bad in [["--cert", cert, "--key", dir.appendingPathComponent("other.key").path], ["--cert", cert]] {
            let p = LiveProcess(agwPath, ["--mgc", "udp:127.0.0.1:\(LoopbackSocket.freePort())", "--listen", "127.0.0.1:0", "--media", "relay"] + bad)
            try p.start()
            let status = await p.wait(timeout: 10)
            #expect(status != nil && status != 0, "ims-agw \(bad) must not start: \(p.stderr)")
        }
        guard let lab = try await AGWLiveLab.start(test, mediaPorts: 47_800...47_849,
                                                   agwExtra: ["--cert", cert, "--key", dir.appendingPathComponent("gw.key").path]) else { return }
        defer { lab.stop() }
        #expect(lab.agw.stderr.contains("fingerprint sha-256 \(fp)"), "\(lab.agw.stderr)")
        let ue = try lab.scenario("ue_alg_call.xml") {
            $0.replacingOccurrences(of: "<pause milliseconds=\"100\"/>", with: "<pause milliseconds=\"3000\"/>")
                .replacingOccurrences(of: "a=fingerprint:sha-256 [0-9A-F:]+", with: "a=fingerprint:sha-256 \(fp)")
        }
        let core = try lab.scenario("core_alg_call.xml")
        guard let (server, client, _) = try await lab.startMSRPCall(ue: ue, core: core) else { return }
        let status = await client.wait(timeout: 15)
        let call = await lab.finishCall()
        #expect(status == 0 && server.stdout.contains("SEND in ok"), "client:\n\(client.stdout)\nserver:\n\(server.stdout)\nAGW:\n\(lab.agw.stderr)")
        #expect(client.stdout.contains("server certificate sha-256 \(fp)"), "\(client.stdout)")
        #expect(lab.messages(prefix: "ue_alg_call").contains("a=fingerprint:sha-256 \(fp)"))
        #expect(call.ue == 0 && call.core == 0, "\(call.errors.prefix(1500))")
    }
}
