import Foundation
import TestSupport
import Testing

/// Remote `audit verify --trusted` and `audit tail --follow` (#14) against a real server, compared with local mode.
extension RemoteModeCLITests {
    /// The environment of a remote-mode child as `persona`: the server's URL, its certificate and the token only.
    static func remoteEnvironment(
        _ server: RunningServer, _ vault: PreparedVault, _ persona: String
    ) -> [String: String] {
        ModelVaultBinary.environment(adding: [
            "MODELVAULT_SERVER": server.url, "MODELVAULT_CA_FILE": server.certificate.path,
            "MODELVAULT_TOKEN": vault.tokens[persona] ?? "", "MODELVAULT_PASSPHRASE": "",
        ])
    }

    /// The attack: a checkpoint the server's log does not extend (a fork of the vault, signed with the same key) and
    /// another vault's checkpoint fail remote `audit verify --trusted` with exit 6 and the same problem as locally;
    /// the client decides, on the server's checkpoint, proofs and keys. A kept checkpoint of this vault is proven
    /// consistent with the same line as locally; a token without `audit.verify` is refused (3) both ways.
    @Test(.timeLimit(.minutes(10))) func auditVerifyTrustedIsDecidedByTheClientAndFailsLikeLocally() async throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let vault = try PreparedVault(in: directory.url)
        let work = vault.work
        // A fork: a copy of the vault (same audit key) that goes on with other entries, on a host of its own.
        try FileManager.default.copyItem(at: work.appending(path: "v"), to: work.appending(path: "v-fork"))
        var fork = vault.adminEnvironment
        fork["MODELVAULT_VAULT"] = "v-fork"
        fork["MODELVAULT_STATE_DIR"] = work.appending(path: "fork-state").path
        for arguments in [["model", "list"], ["keys", "list"], ["audit", "checkpoint", "-o", "forked.cp"]] {
            let ran = try ModelVaultBinary.run(arguments, environment: fork, in: work)
            #expect(ran.status == 0, "\(arguments): \(ran.stderr)")
        }
        // Another vault's checkpoint.
        let other = work.appending(path: "other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        let otherEnvironment = try CLI.makeVault(in: other)
        #expect(
            try ModelVaultBinary.run(
                ["audit", "checkpoint", "-o", "../foreign.cp"], environment: otherEnvironment, in: other
            )
            .status == 0)
        let kept = try vault.admin(["audit", "checkpoint", "-o", "kept.cp"])
        #expect(kept.status == 0, "\(kept.stderr)")
        let keptSize = try String(contentsOf: work.appending(path: "kept.cp"), encoding: .utf8)
            .split(separator: "\n")[1]
        // Locally first (no server holds the vault yet).
        let localForked = try vault.admin(["audit", "verify", "--trusted", "forked.cp"])
        let localForeign = try vault.admin(["audit", "verify", "--trusted", "foreign.cp"])
        let localDenied = try vault.local("dana", ["audit", "verify", "--trusted", "kept.cp"])
        let server = try await RunningServer(vault)
        defer { server.stop() }

        let consistent = try server.remote(vault, "sam", ["audit", "verify", "--trusted", "kept.cp"])
        #expect(consistent.status == 0, "\(consistent.stdout + consistent.stderr)")
        #expect(consistent.stdout.contains("consistent with the trusted checkpoint of size \(keptSize)\n"))
        let forked = try server.remote(vault, "sam", ["audit", "verify", "--trusted", "forked.cp"])
        let problem = "problem: log not consistent with a trusted checkpoint (rollback, truncation or fork)"
        #expect(
            localForked.status == 6 && localForked.stdout.contains(problem),
            "\(localForked.stdout + localForked.stderr)")
        #expect(
            forked.status == localForked.status && forked.stdout.contains(problem), "\(forked.stdout + forked.stderr)")
        let foreign = try server.remote(vault, "sam", ["audit", "verify", "--trusted", "foreign.cp"])
        #expect(localForeign.status == 6, "\(localForeign.stdout + localForeign.stderr)")
        #expect(foreign.status == 6 && foreign.stdout.isEmpty, "\(foreign.stdout + foreign.stderr)")
        #expect(foreign.stderr == localForeign.stderr)
        // Without `audit.verify`: refused as on the other audit routes.
        let denied = try server.remote(vault, "dana", ["audit", "verify", "--trusted", "kept.cp"])
        #expect(
            localDenied.status == 3 && denied.status == 3,
            "\(localDenied.stdout + localDenied.stderr) / \(denied.stdout + denied.stderr)")
        // Witness age: no witness vouched for by a trusted checkpoint, so none counts (as locally with none).
        let stale = try server.remote(
            vault, "sam", ["audit", "verify", "--trusted", "kept.cp", "--max-cosignature-age", "3600"])
        #expect(stale.status == 6)
        #expect(stale.stdout.contains("problem: newest witness cosignature older than the policy allows"))
    }

    /// `audit tail --follow` through the server: entries appended while it follows are printed as local `--follow`
    /// prints them (JSON lines), each once and none left out (every index in order, checked against a plain tail),
    /// and SIGTERM ends it as it ends a local follower (128 + 15). A token without `audit.read` is refused (3).
    @Test(.timeLimit(.minutes(10))) func auditTailFollowPrintsEveryNewEntryOnceThroughTheServer() async throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let vault = try PreparedVault(in: directory.url)
        let server = try await RunningServer(vault)
        defer { server.stop() }
        let follower = try BackgroundProcess(
            ["audit", "tail", "--follow", "-n", "1", "--json"], in: vault.work,
            environment: Self.remoteEnvironment(server, vault, "sam"))
        // Its first line (the newest entry) means it is following from there on.
        #expect(try await follower.line(startingWith: "{", timeout: .seconds(60)) != nil, "\(follower.output)")
        for round in 0..<3 {
            #expect(try server.remote(vault, "mel", ["model", "list"]).status == 0, "round \(round)")
            #expect(try server.remote(vault, "dana", ["keys", "list"]).status == 3, "round \(round)")
        }
        func followed() -> [[String: Any]] {
            follower.output.split(separator: "\n").filter { $0.hasPrefix("{") }.compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }
        func byMel(_ entries: [[String: Any]]) -> Int {
            entries.filter { $0["principal"] as? String == "mel" && $0["action"] as? String == "model.list" }.count
        }
        // What a plain tail shows after the commands, which the follower must print too.
        let tail = try server.remote(vault, "sam", ["audit", "tail", "-n", "1000", "--json"])
        let all = try #require(try JSONSerialization.jsonObject(with: tail.stdoutData) as? [[String: Any]])
        func deniedToDana(_ entries: [[String: Any]]) -> Int {
            entries.filter { $0["principal"] as? String == "dana" && $0["outcome"] as? String == "denied" }.count
        }
        let expected = byMel(all)
        let expectedDenied = deniedToDana(all)
        #expect(expected >= 3 && expectedDenied >= 3)
        // Both kinds reached (the last round's denial comes after mel's last list).
        for _ in 0..<600
        where (byMel(followed()) < expected || deniedToDana(followed()) < expectedDenied) && follower.isRunning {
            try await Task.sleep(for: .milliseconds(100))
        }
        let lines = followed()
        let indices = lines.compactMap { $0["index"] as? Int }
        #expect(indices.count == lines.count)
        // Every index once, in order, none skipped.
        let first = indices.first ?? 0
        #expect(!indices.isEmpty && indices == Array(first..<(first + indices.count)), "\(indices)")
        #expect(byMel(lines) == expected, "\(follower.output)")
        #expect(deniedToDana(lines) >= 3, "\(follower.output)")
        // The same entries as the plain tail printed, where both hold them.
        let byIndex = Dictionary(all.compactMap { entry in (entry["index"] as? Int).map { ($0, entry) } }) { $1 }
        for line in lines {
            guard let index = line["index"] as? Int, let entry = byIndex[index] else { continue }
            #expect(entry["requestID"] as? String == line["requestID"] as? String, "entry \(index)")
            #expect(entry["action"] as? String == line["action"] as? String, "entry \(index)")
        }
        #expect(try await follower.stop() == 128 + SIGTERM, "\(follower.output)")

        // Without `audit.read`: refused before anything is followed.
        let denied = try server.remote(vault, "dana", ["audit", "tail", "--follow", "-n", "0"])
        #expect(denied.status == 3, "\(denied.stdout + denied.stderr)")
    }
}
