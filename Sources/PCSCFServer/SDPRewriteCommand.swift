// `pcscf-alg sdp-rewrite`: shows lab engineers what the IMS-ALG does to one SDP (the rewritten SDP
// and the AGW request), using the same pure state machine as the proxy.
import ArgumentParser
import Foundation
import SDPCore
import SDPRewrite

struct SDPRewriteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sdp-rewrite",
        abstract: "Rewrite an SDP read from stdin as the IMS-ALG would, and print the AGW request.",
        discussion: """
        The context file is JSON: {"flags": {"ue": ["msrp-tls"], "network": ["msrp-tls"]},
        "policy": {...}, "gateway": {"streams": [{"index": 0, "access": {"address": "192.0.2.1", "port": 40001},
        "core": {"address": "198.51.100.1", "port": 40002}, "fingerprint": "sha-256 AB:..."}]},
        "prior": [{"direction": "originating", "kind": "offer", "sdpFile": "offer.sdp", "gateway": {...}}]}
        (see Fixtures/sdp/rewrite/*/context.json). --direction/--offer/--answer override the file.
        """
    )

    enum Direction: String, ExpressibleByArgument { case originating, terminating }

    @Option(help: "Who offered in this exchange: originating (the served UE) or terminating (the core).")
    var direction: Direction?

    @Flag(name: .customLong("offer"), help: "The SDP on stdin is an offer.")
    var isOffer = false

    @Flag(name: .customLong("answer"), help: "The SDP on stdin is an answer.")
    var isAnswer = false

    @Option(help: "Context JSON file (flags, policy, gateway answer, prior exchanges).")
    var context: String

    @Flag(help: "Print JSON ({\"sdp\": ..., \"gatewayRequest\": ...}) instead of text.")
    var json = false

    func validate() throws {
        if isOffer && isAnswer { throw ValidationError("give only one of --offer and --answer") }
    }

    func run() throws {
        let contextURL = URL(fileURLWithPath: context)
        let data = try Data(contentsOf: contextURL)
        var scenario = try JSONDecoder().decode(RewriteScenario.self, from: data)
        if let direction { scenario.direction = direction == .originating ? .originating : .terminating }
        if isOffer { scenario.kind = .offer }
        if isAnswer { scenario.kind = .answer }
        var input = ""
        while let line = readLine(strippingNewline: false) { input += line }
        let folder = contextURL.deletingLastPathComponent()
        do {
            let outcome = try scenario.run(input: input) { name in
                try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                struct Output: Encodable { var sdp: String; var gatewayRequest: GatewayRequest }
                let out = try encoder.encode(Output(sdp: outcome.sdp.serialized(), gatewayRequest: outcome.request))
                print(String(decoding: out, as: UTF8.self))
            } else {
                print("--- SDP to forward (\(scenario.kind.rawValue), \(scenario.direction.rawValue)) ---")
                print(outcome.sdp.serialized(), terminator: "")
                print("--- gateway request ---")
                print(outcome.request.humanReadable, terminator: "")
            }
        } catch let error as RewriteError {
            print("rejected: \(error.sipStatus)")
            print("Warning: \(error.warningHeaderValue(agent: "pcscf.invalid"))")
            print("detail: \(error.description)")
            throw ExitCode(1)
        }
    }
}
