import Foundation
import TestSupport
import Testing

/// `modelvault witness serve` and `modelvault audit witness add` through the built binaries: a vault whose log a
/// witness cosigns, attacked by someone who restores the whole vault directory from an earlier copy.
@Suite(.serialized) struct WitnessCommandsTests {
    /// A running `modelvault witness serve`: its URL, verifier key and the certificate clients pin.
    final class RunningWitness {
        let process = Process()
        let output: URL
        var url = ""
        var key = ""

        init(state: String, logKey: String, port: String = "0", in work: URL) async throws {
            output = work.appending(path: "witness-\(UUID().uuidString).out")
            FileManager.default.createFile(atPath: output.path, contents: nil)
            let handle = try FileHandle(forWritingTo: output)
            process.executableURL = ModelVaultBinary.url
            process.arguments = [
                "witness", "serve", "--state", state, "--log-key", logKey, "--self-signed", "--cert-out",
                "\(state)/cert.pem", "--port", port,
            ]
            process.currentDirectoryURL = work
            process.standardOutput = handle
            process.standardError = handle
            try process.runSerially()
            for _ in 0..<300 where url.isEmpty {
                try await Task.sleep(for: .milliseconds(100))
                let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
                for line in text.split(separator: "\n") {
                    if line.hasPrefix("listening on ") { url = String(line.dropFirst("listening on ".count)) }
                    if line.hasPrefix("witness key: ") { key = String(line.dropFirst("witness key: ".count)) }
                }
            }
        }

        var text: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

        func stop() async throws {
            process.terminate()
            for _ in 0..<300 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        }
    }

    private static func run(
        _ arguments: [String], env: [String: String], in work: URL
    ) throws -> (status: Int32, output: String) {
        let result = try ModelVaultBinary.run(arguments, environment: env, in: work)
        return (result.status, result.stdout + result.stderr)
    }

    @Test(.timeLimit(.minutes(10)))
    func aWholeVaultRestoredFromAnEarlierCopyIsRefusedBecauseTheWitnessHoldsANewerCheckpoint() async throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        var env = try CLI.makeVault(in: work)
        env["MODELVAULT_STATE_DIR"] = work.appending(path: "host-a").path(percentEncoded: false)
        // Another host, with no high-water mark of this vault: only the witness can tell.
        let elsewhere = env.merging(["MODELVAULT_STATE_DIR": work.appending(path: "host-b").path]) { $1 }
        var witness = try await RunningWitness(state: "w", logKey: "v/audit/verifier.vkey", in: work)
        var started = [witness]
        defer { for process in started where process.process.isRunning { process.process.terminate() } }
        #expect(!witness.url.isEmpty && witness.key.contains("+"), "\(witness.text)")

        // `--json` (issue #20, point 11): one document naming the pinned key and the cosignature.
        let added = try ModelVaultBinary.run(
            ["audit", "witness", "add", witness.url, "--key", witness.key, "--ca", "w/cert.pem", "--json"],
            environment: env, in: work)
        #expect(added.status == 0, "\(added.stderr)")
        let pinned = try #require(
            try JSONSerialization.jsonObject(with: added.stdoutData) as? [String: Any], "\(added.stdout)")
        #expect((pinned["fingerprint"] as? String)?.isEmpty == false, "\(pinned)")
        #expect(pinned["cosignedAt"] as? String != nil, "\(pinned)")
        let verified = try Self.run(["audit", "verify"], env: env, in: work)
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("newest witness cosignature"), "\(verified.output)")

        // The attacker's earlier copy; then the vault moves on and the witness cosigns the newer head.
        let files = FileManager.default
        try files.copyItem(at: work.appending(path: "v"), to: work.appending(path: "v-old"))
        for _ in 0..<2 {
            let listed = try Self.run(["token", "list"], env: env, in: work)
            #expect(listed.status == 0, "\(listed.output)")
        }

        // Witness down: commands go on (with a note); a staleness policy can make verification fail.
        try await witness.stop()
        let offline = try Self.run(["token", "list"], env: env, in: work)
        #expect(offline.status == 0, "\(offline.output)")
        #expect(offline.output.contains("did not answer"), "\(offline.output)")
        let stale = try Self.run(["audit", "verify", "--max-cosignature-age", "0"], env: env, in: work)
        #expect(stale.status == 6, "\(stale.output)")
        #expect(stale.output.contains("older than the policy"), "\(stale.output)")

        // Restarted (same port) from its durable state: same key, and it still holds the newer checkpoint.
        let port = witness.url.split(separator: ":").last.map(String.init) ?? ""
        witness = try await RunningWitness(state: "w", logKey: "v/audit/verifier.vkey", port: port, in: work)
        started.append(witness)
        #expect(!witness.url.isEmpty, "\(witness.text)")

        try files.removeItem(at: work.appending(path: "v"))
        try files.copyItem(at: work.appending(path: "v-old"), to: work.appending(path: "v"))
        let refused = try Self.run(["audit", "verify"], env: elsewhere, in: work)
        #expect(refused.status == 6, "\(refused.output)")
        #expect(refused.output.contains("witness"), "\(refused.output)")
        #expect(refused.output.contains("rolled back"), "\(refused.output)")
        let listed = try Self.run(["model", "list"], env: elsewhere, in: work)
        #expect(listed.status == 6, "\(listed.output)")
        #expect(listed.output.contains("rolled back"), "\(listed.output)")
    }
}
