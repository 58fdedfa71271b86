import Foundation

// Benchmarks run in release builds: `swift run -c release ModelVaultBenchmarks [SUITE...]`.
// Each suite measures ModelVault and its named peer in the same run and prints the ratio.
let suites: [(name: String, run: () async throws -> Void)] = [
    ("age", AgeBenchmark.run),
    ("signing", SigningBenchmark.run),
    ("vault", VaultBenchmark.run),
    ("audit", AuditBenchmark.run),
    ("ml", MLBenchmark.run),
    ("he", HEBenchmark.run),
    ("server", ServerBenchmark.run),
    ("scan", ScanBenchmark.run),
]

// `scan` measures the scanner in a child process: this binary re-run with `--scan-child PATH [--deep]`.
if CommandLine.arguments.count > 2, CommandLine.arguments[1] == "--scan-child" {
    ScanBenchmark.child(Array(CommandLine.arguments.dropFirst(2)))
}

let requested = Set(CommandLine.arguments.dropFirst())
for suite in suites where requested.isEmpty || requested.contains(suite.name) {
    print("== \(suite.name) ==")
    do {
        try await suite.run()
    } catch {
        print("\(suite.name): failed: \(error)")
        exit(1)
    }
}
