import ArgumentParser

/// `pcscf-alg`: the P-CSCF / IMS-ALG command line.
/// Each tool for people lives in its own file as its own subcommand.
@main
struct PCSCFAlg: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pcscf-alg",
        abstract: "P-CSCF / IMS-ALG with e2ae TLS for MSRP and BFCP (Iq / H.248 MGC).",
        subcommands: [PCSCFCommand.self, CheckConfigCommand.self, ProxyCommand.self, SIPDemoCommand.self, SDPRewriteCommand.self, H248Command.self, IqProbeCommand.self],
        // With no subcommand, `pcscf-alg` runs the P-CSCF / IMS-ALG with its loopback lab default.
        defaultSubcommand: PCSCFCommand.self
    )
}
