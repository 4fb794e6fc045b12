func runSDPBench(_ arguments: [String]) {
    print("SDP benchmark: not built yet")
}
