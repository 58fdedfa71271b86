enum HEBenchmark {
    static func run() async throws { print("not implemented yet") }
}
