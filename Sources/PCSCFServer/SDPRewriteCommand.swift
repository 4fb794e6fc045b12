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
        // The command-line flags fill in (or override) "direction" and "kind" of the context file.
        var object = (try JSONSerialization.jsonObject(with: Data(contentsOf: contextURL))) as? [String: Any] ?? [:]
        if let direction { object["direction"] = direction.rawValue }
        if isOffer { object["kind"] = "offer" }
        if isAnswer { object["kind"] = "answer" }
        if object["flags"] == nil { object["flags"] = ["ue": [String](), "network": [String]()] }
        guard object["direction"] != nil, object["kind"] != nil else {
            throw ValidationError("give --direction and --offer/--answer (or put them in the context file)")
        }
        let scenario = try JSONDecoder().decode(RewriteScenario.self, from: JSONSerialization.data(withJSONObject: object))
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
