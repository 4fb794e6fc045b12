// House rule: network input never traps. Seeded mutations of real Iq transactions (the OTP MGC
// steps fixture) go through the codec and the gateway; each decodable one gets a reply with its own
// transaction id, and the state stays within its bounds.

import ALGTestSupport
import Foundation
import H248Codec
import IMSAGW
import Testing

@Suite("IMSAGW robustness: mutated Iq requests never trap (house rule; H.248.8 error codes)")
struct AGWRobustnessTests {
    static func seeds() throws -> [String] {
        let text = try String(contentsOf: TestRepository.url("Fixtures/agw/mgc_steps.txt"), encoding: .utf8)
        return text.components(separatedBy: "\n%%\n").filter { !$0.hasPrefix("sleep") }
            .enumerated().map { "MEGACO/3 [127.0.0.1]:2944\nTransaction = \($0.offset + 1) {\n\($0.element)\n}\n" }
    }

    @Test("5 000 seeded mutations: decodable requests get a reply with their id; contexts stay bounded", arguments: [UInt64(1), 2, 3, 4, 5])
    func mutations(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let bases = try Self.seeds().map { Array($0.utf8) }
        #expect(bases.count >= 6)
        var config = AGWConfiguration()
        config.maximumContexts = 50
        var gw = AGWGateway(configuration: config)
        var media = FakeMedia()
        let alphabet = Array("{}=,$*-/:\" \n0123456789abcXYZ".utf8)
        var decoded = 0
        for i in 0..<1_000 {
            var b = bases[rng.below(bases.count)]
            for _ in 0...rng.below(4) {
                guard !b.isEmpty else { break }
                let at = rng.below(b.count)
                switch rng.below(3) {
                case 0: b[at] = alphabet[rng.below(alphabet.count)]
                case 1: b.remove(at: at)
                default: b.insert(alphabet[rng.below(alphabet.count)], at: at)
                }
            }
            guard let m = try? H248TextParser().parse(bytes: b) else { continue }
            for case .request(let r) in m.transactions {
                decoded += 1
                let e = gw.execute(r, now: .seconds(Int64(i)))
                let o = gw.complete(e, results: media.perform(e))
                #expect(o.reply.id == r.id)
                _ = gw.timerFired(now: .seconds(Int64(i)), timestamp: nil)
            }
            #expect(gw.contexts.count <= 50)
        }
        #expect(decoded > 50, "the mutations must still exercise the gateway")
    }
}
