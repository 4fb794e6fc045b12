// `pcscf-alg check-config [FILE]`: validates a configuration file (with the environment and --set
// overrides, as `pcscf` would read them) and names every bad key with its reason. Exit 0 when valid,
// 1 otherwise. With no file it checks the embedded default.
import ALGServer
import ArgumentParser
import Foundation

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a pcscf-alg YAML configuration; every bad key is named with its reason (exit 1).",
        discussion: """
        Reports unknown keys (with a did-you-mean), wrong types, values out of range, bad addresses and URIs, and TLS certificate/key files that cannot be read. The PCSCF_* environment is applied as `pcscf` would (--ignore-environment to check the file alone). --print shows the effective value and source of every key.
        """
    )

    @Argument(help: "The YAML file; none checks the embedded default.")
    var file: String?

    @Option(name: .customLong("set"), help: "key.path=value override, repeatable.")
    var set: [String] = []

    @Flag(name: .customLong("ignore-environment"), help: "Do not apply PCSCF_* environment variables.")
    var ignoreEnvironment = false

    @Flag(name: .customLong("print"), help: "Print every key with its effective value and where it came from.")
    var print = false

    func run() throws {
        let env = ignoreEnvironment ? [:] : ProcessInfo.processInfo.environment
        let c = PCSCFConfigFile.load(file: file, environment: env, overrides: set)
        let issues = c.validate()
        if print {
            for key in PCSCFConfigFile.keys {
                Swift.print("\(key.path) = \(c.values[key.path]?.description ?? "-")  [\(c.sources[key.path] ?? "-")]")
            }
        }
        let name = file ?? "embedded default"
        if issues.isEmpty {
            Swift.print("\(name): valid (\(PCSCFConfigFile.keys.count) keys)")
            return
        }
        for issue in issues { Swift.print(issue.description) }
        Swift.print("\(name): \(issues.count) bad key(s)")
        throw ExitCode(1)
    }
}
