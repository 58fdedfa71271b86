import Foundation
import TestSupport
import Testing

extension RemoteModeCLITests.PreparedVault {
    /// A vault holding only model `alpha` (one file, `weights`) and the admin's token, with its verifier exported
    /// to `vault.pem`: enough to serve.
    init(minimal work: URL, weights: String) throws {
        self.work = work
        adminEnvironment = try CLI.makeVault(in: work)
        tokens["admin"] = adminEnvironment["MODELVAULT_TOKEN"]
        #expect(try admin(["keys", "export-verifier", "-o", "vault.pem"]).status == 0)
        let source = work.appending(path: "src")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try Data(weights.utf8).write(to: source.appending(path: "weights.bin"))
        let pushed = try admin(["model", "push", "alpha", "src"])
        #expect(pushed.status == 0, "\(pushed.stderr)")
    }
}

extension RemoteModeCLITests {
    /// The attack (review 4, F3): a compromised server serves a model signed by another key. The client pinned the
    /// real vault's verification key; the server it reaches runs another vault (its own signing key, its own
    /// `alpha`) with a token that is valid there. The decrypting pull is refused (exit 6) and nothing is left at the
    /// output path or beside it; the same pull pinned to the serving vault's own key succeeds, and a pull with no
    /// pinned key is refused before anything is fetched. Before the fix the pull wrote the hostile weights, exit 0.
    @Test(.timeLimit(.minutes(5))) func aPullSignedByAnotherKeyIsRefusedAndLeavesNothing() async throws {
        try ModelVaultBinary.requireBuilt()
        let realDirectory = try TemporaryDirectory()
        let hostileDirectory = try TemporaryDirectory()
        let real = try PreparedVault(minimal: realDirectory.url, weights: "the real weights")
        let hostile = try PreparedVault(minimal: hostileDirectory.url, weights: "EVIL-MODEL-BYTES")
        let server = try await RunningServer(hostile)
        defer { server.stop() }
        let client = hostile.work.appending(path: "client")
        try FileManager.default.createDirectory(at: client, withIntermediateDirectories: true)

        func pull(_ output: String, verifier: URL?) throws -> ChildProcess.Output {
            try ModelVaultBinary.run(
                ["model", "pull", "alpha@1", "-o", output] + (verifier.map { ["--verifier", $0.path] } ?? []),
                environment: [
                    "MODELVAULT_SERVER": server.url, "MODELVAULT_CA_FILE": server.certificate.path,
                    "MODELVAULT_TOKEN": hostile.tokens["admin"] ?? "", "MODELVAULT_PASSPHRASE": "",
                ], in: client)
        }
        let refused = try pull("out", verifier: real.work.appending(path: "vault.pem"))
        #expect(refused.status == 6, "\(refused.stderr)")
        #expect(refused.stderr.contains("does not verify with the pinned verifier"), "\(refused.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: client.path).isEmpty)

        let unpinned = try pull("out", verifier: nil)
        #expect(unpinned.status == 2, "\(unpinned.stderr)")
        #expect(unpinned.stderr.contains("--verifier"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: client.path).isEmpty)

        let pinnedToServer = try pull("out", verifier: hostile.work.appending(path: "vault.pem"))
        #expect(pinnedToServer.status == 0, "\(pinnedToServer.stderr)")
        let weights = try Data(contentsOf: client.appending(path: "out/weights.bin"))
        #expect(weights == Data("EVIL-MODEL-BYTES".utf8))
    }
}

extension RemoteModeCLITests {
    /// `modelvault whoami` names the same principal, roles and token locally and through `GET /v1/whoami`, in text
    /// and JSON; no token, or a wrong one, is refused remotely (exit 3). And the attack of review 4, F6: a denied
    /// `token create OTHER` used to mint (and revoke) a token for the caller; with whoami no token is issued.
    @Test(.timeLimit(.minutes(5))) func whoamiNamesTheSameCallerLocallyAndRemotely() async throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        var vault = try PreparedVault(minimal: directory.url, weights: "w")
        #expect(try vault.admin(["user", "add", "dana", "--role", "data-scientist"]).status == 0)
        #expect(try vault.admin(["token", "create", "dana", "--expires", "1d", "-o", "dana.token"]).status == 0)
        vault.tokens["dana"] = try String(contentsOf: vault.work.appending(path: "dana.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try await RunningServer(vault)
        defer { server.stop() }
        let local = try vault.local("admin", ["whoami", "--json"])
        let remote = try server.remote(vault, "admin", ["whoami", "--json"])
        #expect(local.status == 0 && remote.status == 0, "\(local.stderr) \(remote.stderr)")
        #expect(local.stdout == remote.stdout)
        let identity = try #require(
            try JSONSerialization.jsonObject(with: Data(remote.stdout.utf8)) as? [String: Any])
        #expect(identity["principal"] as? String == "admin")
        let token = try #require(vault.tokens["admin"])
        #expect((identity["tokenID"] as? String)?.count == 16)
        #expect(!remote.stdout.contains(token))
        let text = try server.remote(vault, "admin", ["whoami"])
        #expect(text.stdout.contains("principal: admin") && text.stdout.contains("roles: admin"), "\(text.stdout)")
        #expect(try server.remote(vault, "nobody", ["whoami"]).status == 3)

        let before = try vault.admin(["token", "list", "--json"]).stdout
        #expect(try server.remote(vault, "dana", ["token", "create", "admin", "-o", "stolen.token"]).status == 3)
        #expect(try vault.admin(["token", "list", "--json"]).stdout == before)
        let own = try server.remote(vault, "dana", ["token", "create", "dana", "--expires", "1h", "-o", "own.token"])
        #expect(own.status == 0, "\(own.stderr)")
    }
}

extension RemoteModeCLITests {
    /// The attack (review 5, R1): which version `alpha:production` or a bare `alpha` means is the server's unsigned
    /// word, so a hostile server can hand out an older version that is still genuinely signed. Here the server's
    /// answer moves production from 2 back to 1 (the client cannot tell that from a hostile rewrite): the pinned
    /// pull by alias is refused (exit 6) and leaves nothing at or beside the output. An explicit `alpha@1` is still
    /// allowed; `--allow-older` accepts the move and resets the mark; `--min-version` pins a first use. Before the
    /// fix the rolled-back pull wrote version 1 with exit 0.
    @Test(.timeLimit(.minutes(5))) func aServerRollingAnAliasBackToAnOlderSignedVersionIsRefused() async throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let vault = try PreparedVault(minimal: directory.url, weights: "alpha weights v1")
        let next = vault.work.appending(path: "src2")
        try FileManager.default.createDirectory(at: next, withIntermediateDirectories: true)
        try Data("alpha weights v2".utf8).write(to: next.appending(path: "weights.bin"))
        #expect(try vault.admin(["model", "push", "alpha", "src2"]).status == 0)
        #expect(try vault.admin(["model", "alias", "alpha@2", "production"]).status == 0)
        let server = try await RunningServer(vault)
        defer { server.stop() }
        let client = vault.work.appending(path: "client")
        try FileManager.default.createDirectory(at: client, withIntermediateDirectories: true)
        let state = vault.work.appending(path: "state")

        func pull(_ arguments: [String], state: URL = state) throws -> ChildProcess.Output {
            try ModelVaultBinary.run(
                ["model", "pull"] + arguments,
                environment: [
                    "MODELVAULT_SERVER": server.url, "MODELVAULT_CA_FILE": server.certificate.path,
                    "MODELVAULT_TOKEN": vault.tokens["admin"] ?? "", "MODELVAULT_PASSPHRASE": "",
                    "MODELVAULT_VERIFIER": vault.work.appending(path: "vault.pem").path,
                    "XDG_STATE_HOME": state.path,
                ], in: client)
        }
        func weights(_ output: String) throws -> String {
            try String(contentsOf: client.appending(path: "\(output)/weights.bin"), encoding: .utf8)
        }
        let first = try pull(["alpha:production", "-o", "p1"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try weights("p1") == "alpha weights v2")
        #expect(try pull(["alpha", "-o", "l1"]).status == 0)
        let marks = state.appending(path: "modelvault/pulled-versions.json")
        let mode = try FileManager.default.attributesOfItem(atPath: marks.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        // The server now says production is version 1.
        #expect(try vault.admin(["model", "alias", "alpha@1", "production", "--yes"]).status == 0)
        let rolledBack = try pull(["alpha:production", "-o", "p2"])
        #expect(rolledBack.status == 6, "\(rolledBack.stderr)")
        #expect(rolledBack.stderr.contains("refusing a rollback"), "\(rolledBack.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: client.path).sorted() == ["l1", "p1"])

        // An explicit version is the caller's own choice; --allow-older accepts the move and resets the mark.
        let explicit = try pull(["alpha@1", "-o", "e1"])
        #expect(explicit.status == 0, "\(explicit.stderr)")
        let accepted = try pull(["alpha:production", "-o", "p3", "--allow-older"])
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(try weights("p3") == "alpha weights v1")
        #expect(try pull(["alpha:production", "-o", "p4"]).status == 0)

        // A first use (no mark yet) pinned with --min-version.
        let fresh = vault.work.appending(path: "fresh-state")
        let pinned = try pull(["alpha", "-o", "m1", "--min-version", "3"], state: fresh)
        #expect(pinned.status == 6, "\(pinned.stderr)")
        #expect(!FileManager.default.fileExists(atPath: client.appending(path: "m1").path))
        #expect(try pull(["alpha", "-o", "m2", "--min-version", "2"], state: fresh).status == 0)
    }
}
