import Foundation
import TestSupport
import Testing

/// Issue #19: two `keys rotate` processes at once used to create two key versions, leave one rotation unfinished
/// and report a stored file as "damaged". Rotation is serialised by a lock file across processes: here, two real
/// processes.
@Suite(.serialized) struct KeysRotateConcurrencyCLITests {
    @Test(.timeLimit(.minutes(5))) func twoRotateProcessesAtOnceEndConsistentWithNoError() async throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        let model = work.appending(path: "model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        let weights = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try weights.write(to: model.appending(path: "weights.bin"))
        for name in ["m", "n"] {
            let pushed = try ModelVaultBinary.run(["model", "push", name, "model"], environment: env, in: work)
            try #require(pushed.status == 0, "\(pushed.stderr)")
        }
        // Rotation needs the passphrase; both processes unlock with it (not the pre-rotation identity file).
        let passphrase = [
            "MODELVAULT_VAULT": "v", "MODELVAULT_TOKEN": env["MODELVAULT_TOKEN"] ?? "",
            "MODELVAULT_PASSPHRASE": "cli test passphrase",
        ]
        let rotate = { @Sendable in
            try ModelVaultBinary.run(["keys", "rotate", "--json"], environment: passphrase, in: work)
        }
        async let first = Task.detached(operation: rotate).value
        async let second = Task.detached(operation: rotate).value
        let results = try await [first, second]
        for result in results {
            #expect(result.status == 0, "\(result.stderr)")
            #expect(!result.stderr.contains("damaged") && !result.stdout.contains("damaged"), "\(result.stderr)")
        }
        let versions = results.compactMap {
            (try? JSONSerialization.jsonObject(with: $0.stdoutData) as? [String: Any])?["keyVersion"] as? Int
        }
        #expect(Set(versions) == [2, 3], "one after the other: \(results.map(\.stdout))")

        let listed = try ModelVaultBinary.run(["keys", "list", "--json"], environment: passphrase, in: work)
        try #require(listed.status == 0, "\(listed.stderr)")
        let keys = try #require(try JSONSerialization.jsonObject(with: listed.stdoutData) as? [[String: Any]])
        #expect(keys.compactMap { $0["state"] as? String } == ["retired", "retired", "active"])
        #expect(keys.compactMap { $0["fileCount"] as? Int }.last == 2)
        for name in ["m", "n"] {
            let pulled = try ModelVaultBinary.run(
                ["model", "pull", "\(name)@1", "-o", "pulled-\(name)"], environment: passphrase, in: work)
            #expect(pulled.status == 0, "\(pulled.stderr)")
            #expect(try Data(contentsOf: work.appending(path: "pulled-\(name)/weights.bin")) == weights)
        }
    }
}
