import ArgumentParser

struct SDPRewriteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sdp-rewrite", abstract: "Show what the IMS-ALG does to an SDP (placeholder).")
    func run() throws { print("sdp-rewrite: not built yet") }
}
