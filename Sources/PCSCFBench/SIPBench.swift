import SIPCore

/// `pcscf-bench sip [rounds]`: on the same IMS INVITE (SIPSamples.imsInvite, 2028 bytes), in one
/// process, time (a) raw libosip2 `osip_message_parse` + free and (b) our parse (scanner + libosip2
/// validation) plus the proxy forward splice: insert Via, insert Record-Route, remove the top Route
/// entry (it shares its line with a second entry), decrement Max-Forwards, produce the bytes.
/// Rounds alternate between the two so host noise hits both. Reported: the best round of each side
/// (least disturbed by host steal time, the figure to compare) and the median per-round ratio.
func runSIPBench(_ arguments: [String]) {
    if arguments.first == "parts" { runSIPPartsBench(); return }
    let rounds = arguments.first.flatMap { Int($0) } ?? 15
    let message = Array(SIPSamples.imsInvite.utf8)

    func raw(_ n: Int) -> Int { sipBenchRaw(message, n) }
    func ours(_ n: Int) -> Int { sipBenchOurs(message, n) }

    // Check once that both sides do the work they claim.
    precondition(raw(1) == 1, "libosip2 rejected the benchmark INVITE")
    precondition(ours(1) > message.count, "splice produced no bytes")

    let clock = ContinuousClock()
    func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
    // Size a batch to about 0.1 s of raw parsing.
    var n = 1_000
    while true {
        let t = seconds(clock.measure { _ = raw(n) })
        if t > 0.1 || n > 10_000_000 { break }
        n = t > 0.01 ? Int(Double(n) * 0.1 / t) + 1 : n * 10
    }
    _ = ours(n / 10)   // warm-up

    var rawRates: [Double] = [], ourRates: [Double] = [], ratios: [Double] = []
    var sink = 0
    for round in 0..<rounds {
        // Alternate which side goes first, so neither always runs on a warmer or colder CPU.
        var tr = 0.0, to = 0.0
        if round % 2 == 0 {
            tr = seconds(clock.measure { sink &+= raw(n) })
            to = seconds(clock.measure { sink &+= ours(n) })
        } else {
            to = seconds(clock.measure { sink &+= ours(n) })
            tr = seconds(clock.measure { sink &+= raw(n) })
        }
        rawRates.append(Double(n) / tr)
        ourRates.append(Double(n) / to)
        ratios.append(to / tr)
    }
    func median(_ a: [Double]) -> Double { let s = a.sorted(); return s[s.count / 2] }
    func fmt(_ v: Double) -> String { String(Int(v + 0.5)) }
    func fmt3(_ v: Double) -> String { let m = Int(v * 1000 + 0.5); return "\(m / 1000).\(String(m % 1000 + 1000).dropFirst())" }
    let bestRaw = rawRates.max() ?? 0, bestOurs = ourRates.max() ?? 0
    print("SIP benchmark: IMS INVITE \(message.count) bytes, \(rounds) alternating rounds x \(n) messages (sink \(sink % 10))")
    print("raw libosip2 parse            : \(fmt(bestRaw)) msgs/s best round, \(fmt(median(rawRates))) median")
    print("SIPCore parse + forward splice: \(fmt(bestOurs)) msgs/s best round, \(fmt(median(ourRates))) median")
    print("ratio (ours time / raw time)  : \(fmt3(bestRaw / max(bestOurs, 1))) best rounds, \(fmt3(median(ratios))) median of rounds (goal <= 1.1)")
}

/// `pcscf-bench sip parts`: where our time goes (scanner alone, full parse, splice alone).
func runSIPPartsBench() {
    let message = Array(SIPSamples.imsInvite.utf8)
    let clock = ContinuousClock()
    let n = 20_000
    func rate(_ name: String, _ body: () -> Int) {
        var sink = 0
        let d = clock.measure { sink = body() }
        let s = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        print("\(name): \(Int(Double(n) / s)) /s, \(Int(s / Double(n) * 1e9)) ns/op (sink \(sink % 7))")
    }
    rate("raw libosip2 ") { LibOSIP2.withPlainAllocators { var k = 0; message.withUnsafeBytes { b in for _ in 0..<n where LibOSIP2.parseAndFree(b) { k += 1 } }; return k } }
    rate("scan only    ") { var k = 0; for _ in 0..<n { k &+= (try? SIPParser.scan(message))?.headers.count ?? 0 }; return k }
    rate("parse no osip") { var k = 0; for _ in 0..<n { k &+= (try? SIPParser.parse(message, validateWithLibOSIP2: false))?.headers.count ?? 0 }; return k }
    guard let m = try? SIPParser.parse(message) else { print("built-in INVITE did not parse"); return }
    rate("splice only  ") {
        var k = 0
        for _ in 0..<n {
            var s = SIPSplice(m)
            s.insertTopVia("SIP/2.0/TCP pcscf.ims.mnc001.mcc001.3gppnetwork.org:5060;branch=z9hG4bK-pcscf-1")
            s.insertRecordRoute("<sip:pcscf.ims.mnc001.mcc001.3gppnetwork.org:5060;lr>")
            try? s.removeTopRoute()
            try? s.decrementMaxForwards()
            k &+= s.bytes().count
        }
        return k
    }
}

/// Raw side: libosip2 parse + free, `n` times (not inlined, so profilers see it as one symbol).
@inline(never) func sipBenchRaw(_ message: [UInt8], _ n: Int) -> Int {
    // libosip2 with its plain malloc/free, not through the validation arena's hooks.
    LibOSIP2.withPlainAllocators {
        var ok = 0
        message.withUnsafeBytes { buf in
            for _ in 0..<n where LibOSIP2.parseAndFree(buf) { ok += 1 }
        }
        return ok
    }
}

/// Our side: parse (scanner + libosip2 validation) and the proxy splice, `n` times.
/// The output goes into one reused buffer, as a transport writing into its own (pooled) buffer would.
@inline(never) func sipBenchOurs(_ message: [UInt8], _ n: Int) -> Int {
    var total = 0
    var out: [UInt8] = []
    for _ in 0..<n {
        guard let m = try? SIPParser.parse(message) else { continue }
        var s = SIPSplice(m)
        s.insertTopVia("SIP/2.0/TCP pcscf.ims.mnc001.mcc001.3gppnetwork.org:5060;branch=z9hG4bK-pcscf-1")
        s.insertRecordRoute("<sip:pcscf.ims.mnc001.mcc001.3gppnetwork.org:5060;lr>")
        try? s.removeTopRoute()
        try? s.decrementMaxForwards()
        out.removeAll(keepingCapacity: true)
        s.write(into: &out)
        total &+= out.count
    }
    return total
}
