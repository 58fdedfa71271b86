import Foundation
import Vault

/// `model list` on a vault with 1,000 model versions: what verifying the authenticated catalog state adds (issue 13
/// asks for under 50 ms in a release build).
///
/// A command's first catalog read verifies every authenticated row against its MAC and the MAC'd state root; that is
/// the added cost, measured here as `checkState()` (the same full verification, which `vault check` runs), next to
/// the listing itself. Setting up the 1,000 versions (real pushes) takes about 80 s on a 2-core VM.
enum StateBenchmark {
    static let versions = 1000
    static let rounds = 20

    static func run() async throws {
        let base = FileManager.default.temporaryDirectory.appending(path: "modelvault-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let vault = try Vault.create(at: base.appending(path: "vault"), passphrase: "benchmark passphrase")
        let pushStart = ContinuousClock.now
        for _ in 0..<versions {
            _ = try await vault.pushModel(
                "m", from: .files(["weights.bin": Data([1, 2, 3]), "config.json": Data("{}".utf8)]))
        }
        print("pushed \(versions) versions in \(format(ContinuousClock.now - pushStart))")
        var verification: [Duration] = []
        var listing: [Duration] = []
        for _ in 0..<rounds {
            let verifyStart = ContinuousClock.now
            let problems = try await vault.checkState()
            verification.append(ContinuousClock.now - verifyStart)
            precondition(problems.isEmpty, "the benchmark vault does not verify")
            let listStart = ContinuousClock.now
            let models = try await vault.models()
            listing.append(ContinuousClock.now - listStart)
            precondition(models.first?.versions.count == versions)
        }
        print(
            "model list, \(versions) versions: full state verification median \(format(median(verification))), "
                + "listing median \(format(median(listing))) (\(rounds) rounds; budget for the verification: 50 ms)")
    }

    private static func median(_ values: [Duration]) -> Duration { values.sorted()[values.count / 2] }

    private static func format(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return seconds < 1 ? String(format: "%.1f ms", seconds * 1000) : String(format: "%.2f s", seconds)
    }
}
