import Foundation
import Testing
import SDPCore
import SIPCore
@testable import SDPRewrite

@Suite("SDP rewrite fixtures (Fixtures/sdp/rewrite: specs.md §9 worked examples and extra cases)")
struct RewriteFixtureTests {
    @Test("Fixture: forwarded SDP and gateway request match; every emitted SDP passes libosip2 sdp_message_parse",
          arguments: Repo.rewriteCases)
    func fixture(name: String) throws {
        let base = "Fixtures/sdp/rewrite/\(name)/"
        let contextText = try #require(Repo.text(base + "context.json"))
        let scenario = try JSONDecoder().decode(RewriteScenario.self, from: Data(contextText.utf8))
        let input = try #require(Repo.text(base + "input.sdp"))
        #expect(LibOSIP2.acceptsSDP(input) || scenario.expectError != nil)
        do {
            let outcome = try scenario.run(input: input) { Repo.text(base + $0) }
            #expect(scenario.expectError == nil, "expected a rejection")
            let expectedSDP = try #require(Repo.text(base + "expected.sdp"))
            let out = outcome.sdp.serialized()
            #expect(out == expectedSDP)
            #expect(outcome.sdp.serializedBytes() == Array(expectedSDP.utf8), "byte output differs from the String output")
            #expect(LibOSIP2.acceptsSDP(out), "libosip2 rejects the emitted SDP")
            let expectedJSON = try #require(Repo.text(base + "expected-request.json"))
            let expectedRequest = try JSONDecoder().decode(GatewayRequest.self, from: Data(expectedJSON.utf8))
            #expect(outcome.request == expectedRequest)
        } catch let error as RewriteError {
            let expected = try #require(scenario.expectError, "unexpected rejection \(error)")
            #expect(error.sipStatus == expected.sipStatus)
            #expect(error.code == expected.code)
            if let sdpCode = expected.sdpCode { #expect(error.sdp?.code == sdpCode) }
            #expect(error.warningHeaderValue(agent: "p.example").hasPrefix("\(error.warningCode) p.example \""))
        }
    }

    @Test("At least the six worked examples of specs.md §9 are present as fixtures")
    func specExamplesPresent() {
        let spec = Repo.rewriteCases.filter { $0.contains("-spec-9.") }
        #expect(spec.count >= 8)
        for n in ["9.1", "9.2", "9.3", "9.4", "9.5", "9.6"] { #expect(spec.contains { $0.contains("spec-\(n)-") }) }
    }
}
