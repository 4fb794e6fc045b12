func runSIPBench(_ arguments: [String]) {
    print("SIP benchmark: not built yet")
}
