import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

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

    /// Tunes glibc malloc before any other thread exists, then runs the command.
    static func main() async {
        tuneAllocator()
        await main(nil)
    }

    /// One malloc arena, grown and kept in large steps. The proxy allocates on its event-loop thread,
    /// which otherwise gets its own arena; a secondary arena grows its heap page by page (an `mprotect`
    /// per page while the live transactions build up) and gives pages back when its top frees. The main
    /// arena grows by `M_TOP_PAD` at a time and keeps up to `M_TRIM_THRESHOLD` free at its top; blocks up to
    /// `M_MMAP_THRESHOLD` (the transaction tables as they grow) come from it rather than from fresh mmaps.
    static func tuneAllocator() {
        #if canImport(Glibc)
        // <malloc.h> is not in Glibc's module map: mallopt is looked up, its options are glibc's values.
        typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
        let mTrimThreshold: Int32 = -1, mTopPad: Int32 = -2, mMmapThreshold: Int32 = -3, mArenaMax: Int32 = -8
        _ = mallopt(mArenaMax, 1)
        _ = mallopt(mTopPad, 16 << 20)
        _ = mallopt(mTrimThreshold, 64 << 20)
        _ = mallopt(mMmapThreshold, 16 << 20)
        #endif
    }
}
