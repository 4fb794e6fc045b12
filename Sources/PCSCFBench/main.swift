// pcscf-bench: hot-path benchmarks, each compared in the same run with a peer.
// Build with `swift build -c release` and run `.build/release/pcscf-bench <sip|sdp|h248|txn|iq|proxy|agw|calls>`.
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "sip": runSIPBench(Array(arguments.dropFirst()))
case "sdp": runSDPBench(Array(arguments.dropFirst()))
case "h248": runH248Bench(Array(arguments.dropFirst()))
case "txn": runTxnBench(Array(arguments.dropFirst()))
case "path": runCallPathBench(Array(arguments.dropFirst()))
case "iq": runIqBench(Array(arguments.dropFirst()))
case "proxy": runProxyBench(Array(arguments.dropFirst()))
case "agw": runAGWBench(Array(arguments.dropFirst()))
case "calls": runCallsBench(Array(arguments.dropFirst()))
case "loop": runLoopBench(Array(arguments.dropFirst()))
default:
    print("usage: pcscf-bench <sip|sdp|h248|txn|path|iq|proxy|agw|calls|loop> [options]   (iq, proxy: run from the repo root; iq [--transport udp|tcp] [--cycles N] [--window W]; proxy --help; calls --help; loop [calls] [--warmup N]; agw [--mib N] [--streams 1,100] [--pings N])")
}
