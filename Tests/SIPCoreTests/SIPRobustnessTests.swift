// Covers: "network input never traps" (house rules): deterministic mutations of every fixture
// (byte flips, truncations, duplications, CR/LF/colon/comma/quote injections) go through the parser,
// every typed view, the splice, the response builder and the stream framer without trapping; every
// failure is a typed SIPParseError with a disposition.
import ALGTestSupport
import Testing
@testable import SIPCore


private func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
    var b = input
    let specials: [UInt8] = [0x0D, 0x0A, 0x3A, 0x2C, 0x22, 0x3C, 0x3E, 0x20, 0x09, 0x00, 0xFF, 0x3B, 0x5C]
    for _ in 0..<(1 + rng.below(4)) {
        guard !b.isEmpty else { b = [0x0D, 0x0A]; continue }
        let i = rng.below(b.count)
        switch rng.below(6) {
        case 0: b[i] = UInt8(truncatingIfNeeded: rng.next())
        case 1: b[i] = specials[rng.below(specials.count)]
        case 2: b.removeSubrange(i..<min(b.count, i + 1 + rng.below(40)))
        case 3: b.insert(contentsOf: b[i..<min(b.count, i + 1 + rng.below(60))], at: rng.below(b.count))
        case 4: b = Array(b[..<i])
        default: b.insert(specials[rng.below(specials.count)], at: i)
        }
    }
    return b
}

private func exerciseViews(_ m: SIPMessage) {
    _ = m.summary
    _ = m.contacts.map(\.featureTags)
    _ = m.vias.map(\.rport)
    _ = m.pChargingVector
    for f in m.headers { _ = m.elementRanges(of: f); _ = m.value(of: f) }
    var s = SIPSplice(m)
    if m.isRequest {
        s.insertTopVia("SIP/2.0/UDP p;branch=z9hG4bK-f")
        s.insertRecordRoute("<sip:p;lr>")
        try? s.removeTopRoute()
        try? s.decrementMaxForwards()
        s.replaceBody([1, 2, 3])
        _ = SIPResponseBuilder.response(to: m, status: 400, reason: "Bad Request", toTag: "t",
                                        warning: .init(code: 399, agent: "p", text: "x"))
    } else {
        try? s.removeTopVia()
    }
    _ = s.bytes()
}

@Suite("Robustness: mutated fixtures never trap")
struct SIPRobustnessTests {
    @Test("parser, views, splice and responses survive 40 mutations of each fixture", arguments: Fixtures.sipCases)
    func mutatedFixtures(_ name: String) {
        let original = Fixtures.bytes(name)
        var rng = SplitMix64(state: name.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 })  // FNV-1a of the name
        var parsed = 0, failed = 0
        for _ in 0..<40 {
            let input = mutate(original, &rng)
            do {
                let m = try SIPParser.parse(input)
                exerciseViews(m)
                parsed += 1
            } catch {
                failed += 1
                #expect(!error.code.name.isEmpty)
                if error.isResponse { #expect(error.disposition == .drop) }
                // A scannable head still yields views and (for requests) an error response.
                if let m = try? SIPParser.scan(input) {
                    exerciseViews(m)
                    _ = SIPResponseBuilder.response(for: error, request: m, toTag: "t", warningAgent: "p")
                }
            }
        }
        #expect(parsed + failed == 40)
    }

    @Test("stream framer survives mutated streams fed in random chunk sizes")
    func mutatedStreams() {
        var rng = SplitMix64(state: 42)
        let cases = Fixtures.sipCases.map(Fixtures.bytes)
        for _ in 0..<300 {
            var stream: [UInt8] = []
            for _ in 0..<(1 + rng.below(4)) { stream += mutate(cases[rng.below(cases.count)], &rng) }
            var f = SIPStreamFramer()
            var k = 0
            loop: while k < stream.count {
                let step = 1 + rng.below(200)
                f.append(stream[k..<min(stream.count, k + step)])
                k += step
                while true {
                    do {
                        guard let frame = try f.next() else { break }
                        if case .message(let m) = frame { _ = try? SIPParser.parse(m) }
                    } catch {
                        #expect(f.failed)
                        break loop
                    }
                }
            }
            #expect(f.bufferedCount <= stream.count)
        }
    }
}
