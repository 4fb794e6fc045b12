import ArgumentParser

struct H248Command: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "h248", abstract: "H.248 (Megaco) text tools (placeholder).")
    func run() throws { print("h248: not built yet") }
}
