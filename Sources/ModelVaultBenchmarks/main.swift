import Foundation
import VaultCrypto

// Benchmarks run in release builds: `swift run -c release ModelVaultBenchmarks [SUITE...]`.
// Each suite measures ModelVault and its named peer in the same run and prints the ratio.
let suites: [(name: String, run: () async throws -> Void)] = [
    ("age", AgeBenchmark.run),
    ("signing", SigningBenchmark.run),
    ("vault", VaultBenchmark.run),
    ("audit", AuditBenchmark.run),
    ("state", StateBenchmark.run),
    ("ml", MLBenchmark.run),
    ("he", HEBenchmark.run),
    ("server", ServerBenchmark.run),
    ("scan", ScanBenchmark.run),
    ("remote", RemoteBenchmark.run),
    ("forward", ForwardBenchmark.run),
]

// `scan` measures the scanner in a child process: this binary re-run with `--scan-child PATH [--deep]`.
if CommandLine.arguments.count > 2, CommandLine.arguments[1] == "--scan-child" {
    ScanBenchmark.child(Array(CommandLine.arguments.dropFirst(2)))
}

// The same process-wide heap tuning as the `modelvault` executable, so in-process figures match the CLI's.
HeapTuning.keepFreedChunksForReuse()

// Opt-in: each suite takes minutes and needs its peer, so nothing runs unless named (`all` runs every suite).
let requested = Set(CommandLine.arguments.dropFirst())
let known = Set(suites.map(\.name))
guard !requested.isEmpty, requested.isSubset(of: known.union(["all"])) else {
    let names = suites.map(\.name).joined(separator: "|")
    print("usage: swift run -c release ModelVaultBenchmarks (\(names)|all)...")
    print("peers come from the environment where they are not on PATH: MODELVAULT_MLSERVER_VENV (server)")
    exit(2)
}
for suite in suites where requested.contains("all") || requested.contains(suite.name) {
    print("== \(suite.name) ==")
    do {
        try await suite.run()
    } catch {
        print("\(suite.name): failed: \(error)")
        exit(1)
    }
}
