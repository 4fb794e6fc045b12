func runH248Bench(_ arguments: [String]) {
    print("H248 benchmark: not built yet")
}
