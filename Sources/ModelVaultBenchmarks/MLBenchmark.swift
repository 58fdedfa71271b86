enum MLBenchmark {
    static func run() async throws { print("not implemented yet") }
}
