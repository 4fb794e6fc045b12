import Foundation
import Testing
@testable import H248Codec

/// What we encode, OTP megaco decodes back to the same meaning (issue 5 §4; H.248.1 Annex B
/// interoperability with an independent stack). Uses Tests/Peers/megaco_codec.escript:
/// `check-eq <ours> <otp> ...` decodes both with OTP and compares the records.
/// Without `escript` on PATH the test fails when CI=true and is skipped (with a printed reason) otherwise.
@Suite("OTP megaco interop", .serialized)
struct OTPInteropTests {
    static var script: String { Repo.root.appendingPathComponent("Tests/Peers/megaco_codec.escript").path }

    /// Returns the escript path, or nil after recording/printing why the test cannot run.
    static func escript() -> String? {
        guard let e = Repo.which("escript") else {
            if Repo.isCI { Issue.record("escript not on PATH (install erlang-base, erlang-megaco)") }
            else { print("SKIP OTP interop: escript not on PATH (install erlang-base, erlang-megaco)") }
            return nil
        }
        guard FileManager.default.fileExists(atPath: script) else {
            if Repo.isCI { Issue.record("missing \(script)") } else { print("SKIP OTP interop: missing \(script)") }
            return nil
        }
        return e
    }

    @Test("our pretty and compact encodings of every OTP fixture decode in OTP to the same records")
    func encodeThenOTPDecode() throws {
        guard let escript = Self.escript() else { return }
        let files = Repo.fixtureFiles
        try #require(!files.isEmpty, "no fixtures")
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("h248-ours-\(getpid())")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        var args = ["-c", ""]
        args = [Self.script, "check-eq"]
        for f in files {
            let m = try H248Message(parsing: Repo.read(f))
            let form: H248TextForm = f.hasSuffix(".compact") ? .compact : .pretty
            let out = tmp.appendingPathComponent(f)
            try m.encoded(form).write(to: out, atomically: false, encoding: .utf8)
            args += [out.path, Repo.fixtureDir.appendingPathComponent(f).path]
        }
        let (status, output) = try Repo.run(escript, args)
        let lines = output.split(separator: "\n")
        let same = lines.filter { $0.hasPrefix("SAME ") }.count
        for l in lines where !l.hasPrefix("SAME ") { Issue.record("OTP: \(l)") }
        #expect(same == files.count, "OTP judged \(same) of \(files.count) the same")
        #expect(status == 0)
    }

    @Test("OTP decodes our encodings of the specs §10.5 examples (both forms)")
    func specExamplesAcceptedByOTP() throws {
        guard let escript = Self.escript() else { return }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("h248-spec-\(getpid())")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        var count = 0
        for (name, text) in SpecExamples.all {
            let m = try H248Message(parsing: text)
            for form in H248TextForm.allCases {
                try m.encoded(form).write(to: tmp.appendingPathComponent("\(name).v3.\(form.rawValue)"),
                                          atomically: false, encoding: .utf8)
                count += 1
            }
        }
        // roundtrip: OTP decodes each file and re-encodes it with the same encoder and version.
        let (status, output) = try Repo.run(escript, [Self.script, "roundtrip", tmp.path])
        for l in output.split(separator: "\n") where l.hasPrefix("RT FAIL") || l.contains("ERROR") {
            Issue.record("OTP: \(l)")
        }
        #expect(output.contains("roundtrip: \(count) files"), "\(output)")
        #expect(status == 0, "\(output)")
    }
}
