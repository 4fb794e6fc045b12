// `pcscf-bench h248`: H248Codec text decode/encode, pretty and compact, timed on the same message set
// as OTP megaco in the same run (Tests/Peers/h248_codec_bench.escript), with the four ratios.
import Foundation
import H248Codec

/// Options: `--dir <fixtures>` (default Fixtures/h248), `--seconds <n>` CPU seconds per column (default 2),
/// `--no-otp` (Swift figures only), `--escript <path>`.
func runH248Bench(_ arguments: [String]) {
    var dir = "Fixtures/h248"
    var seconds = 2.0
    var withOTP = true
    var only: String?
    var script = "Tests/Peers/h248_codec_bench.escript"
    var k = 0
    while k < arguments.count {
        let a = arguments[k]
        let next = k + 1 < arguments.count ? arguments[k + 1] : nil
        switch a {
        case "--dir": if let n = next { dir = n; k += 1 }
        case "--seconds": if let n = next, let v = Double(n) { seconds = v; k += 1 }
        case "--escript": if let n = next { script = n; k += 1 }
        case "--no-otp": withOTP = false
        case "--only": if let n = next { only = n; k += 1 }  // decode | encode (for profiling)
        default:
            print("usage: pcscf-bench h248 [--dir DIR] [--seconds N] [--no-otp] [--escript PATH] [--only decode|encode]")
            return
        }
        k += 1
    }
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    func load(_ suffix: String) -> [[UInt8]] {
        names.filter { $0.hasSuffix(suffix) }.compactMap { FileManager.default.contents(atPath: dir + "/" + $0) }
            .map { Array($0) }
    }
    let sets: [(H248TextForm, [[UInt8]])] = [(.pretty, load(".pretty")), (.compact, load(".compact"))]
    guard !sets[0].1.isEmpty else {
        print("h248 bench: no *.pretty/*.compact messages in \(dir) (generate with "
              + "`escript Tests/Peers/megaco_codec.escript gen \(dir)`)")
        return
    }

    // OTP runs concurrently with the Swift measurement (2 cores): both see the same machine load,
    // which on a shared box matters more than the one core each gives up.
    let otpRun = withOTP ? startOTP(script: script, dir: dir, seconds: Int(seconds.rounded(.up))) : nil
    var swift: [H248TextForm: (n: Int, avg: Int, dec: Double, enc: Double)] = [:]
    for (form, msgs) in sets {
        let parser = H248TextParser()
        let encoder = H248TextEncoder(form: form)
        let decoded = msgs.compactMap { try? parser.parse(bytes: $0) }
        if decoded.count != msgs.count {
            print("warning: \(msgs.count - decoded.count) \(form) messages did not decode")
        }
        let good = msgs.filter { (try? parser.parse(bytes: $0)) != nil }
        let avg = good.reduce(0) { $0 + $1.count } / max(good.count, 1)
        let dec = only == "encode" ? 0 : perMessage(seconds: seconds, count: good.count) { i in
            (try? parser.parse(bytes: good[i]))?.version ?? 0
        }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(4096)
        let enc = only == "decode" ? 0 : perMessage(seconds: seconds, count: decoded.count) { i in
            buffer.removeAll(keepingCapacity: true)
            encoder.encode(decoded[i], into: &buffer)
            return buffer.count
        }
        swift[form] = (good.count, avg, dec, enc)
    }

    var otp: [String: (dec: Double, enc: Double)] = [:]
    if withOTP {
        otp = otpRun.map(finishOTP) ?? [:]
        if otp.isEmpty { print("OTP figures unavailable (escript missing or failed); Swift only") }
    }

    print("H.248 text codec, µs per message (release build; CPU time, \(Int(seconds)) CPU-s per column; OTP measured concurrently on the same files)")
    print("form      msgs  avgB   swift_dec   otp_dec  dec_ratio   swift_enc   otp_enc  enc_ratio")
    var ratios: [String] = []
    for form in [H248TextForm.pretty, .compact] {
        guard let s = swift[form] else { continue }
        let o = otp[form.rawValue]
        let dr = o.map { $0.dec / s.dec }
        let er = o.map { $0.enc / s.enc }
        print(pad(form.rawValue, 8) + pad("\(s.n)", 6, right: true) + pad("\(s.avg)", 6, right: true)
              + num(s.dec, 12) + num(o?.dec, 10) + ratio(dr, 11) + num(s.enc, 12) + num(o?.enc, 10) + ratio(er, 11))
        if let dr { ratios.append("\(form.rawValue) decode \(String(format: "%.1f", dr))x") }
        if let er { ratios.append("\(form.rawValue) encode \(String(format: "%.1f", er))x") }
    }
    if !ratios.isEmpty {
        print("ratios (OTP time / Swift time, goal >= 3x): " + ratios.joined(separator: ", "))
    }
}

/// Runs `body` over indices 0..<count until this thread has used `seconds` of CPU time; returns
/// CPU µs per call. CPU time (CLOCK_THREAD_CPUTIME_ID) rather than wall time: the machine is shared,
/// and preemption by other work must not count. The OTP escript measures its VM's CPU time the same
/// way (one scheduler, no busy-waiting).
private func perMessage(seconds: Double, count: Int, _ body: (Int) -> Int) -> Double {
    guard count > 0 else { return 0 }
    var sink = 0
    for i in 0..<count { sink &+= body(i) }  // warm-up
    func cpuMicros() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1e6 + Double(ts.tv_nsec) / 1e3
    }
    let start = cpuMicros()
    let budget = seconds * 1e6
    var calls = 0
    var used = 0.0
    repeat {
        for i in 0..<count { sink &+= body(i) }
        calls += count
        used = cpuMicros() - start
    } while used < budget
    if sink == 42 { print("") }  // keep the work observable
    return used / Double(calls)
}

private func startOTP(script: String, dir: String, seconds: Int) -> (Process, Pipe)? {
    guard FileManager.default.fileExists(atPath: script) else { return nil }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["escript", script, dir, String(max(seconds, 1))]
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return nil }
    return (p, pipe)
}

private func finishOTP(_ run: (Process, Pipe)) -> [String: (dec: Double, enc: Double)] {
    let (p, pipe) = run
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    var out: [String: (dec: Double, enc: Double)] = [:]
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
        let f = line.split(separator: " ")
        guard f.count >= 6, f[0] == "otp" else { continue }
        var dec: Double?
        var enc: Double?
        for kv in f.dropFirst(2) {
            let parts = kv.split(separator: "=")
            guard parts.count == 2 else { continue }
            if parts[0] == "decode_us" { dec = Double(parts[1]) }
            if parts[0] == "encode_us" { enc = Double(parts[1]) }
        }
        if let dec, let enc { out[String(f[1])] = (dec, enc) }
    }
    return out
}

private func pad(_ s: String, _ w: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, w - s.count))
    return right ? fill + s : s + fill
}

private func num(_ v: Double?, _ w: Int) -> String {
    pad(v.map { String(format: "%.2f", $0) } ?? "-", w, right: true)
}

private func ratio(_ v: Double?, _ w: Int) -> String {
    pad(v.map { String(format: "%.1fx", $0) } ?? "-", w, right: true)
}
