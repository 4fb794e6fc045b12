import ArgumentParser

struct SIPDemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sip-demo", abstract: "Parse and forward-splice a SIP message (placeholder).")
    func run() throws { print("sip-demo: not built yet") }
}
