import Foundation
import TestSupport
import Testing

/// Issue #20, the first hour: mistakes a new user makes are refused with a message naming the fix, and the
/// credentials a first run creates are safe by default.
@Suite(.serialized) struct FirstHourCLITests {
    /// A vault with model `clf` at versions 1 and 2.
    static func vaultWithTwoVersions(in work: URL) throws -> [String: String] {
        let env = try CLI.makeVault(in: work)
        let model = work.appending(path: "model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        for byte in [UInt8(1), 2] {
            try Data([byte]).write(to: model.appending(path: "weights.bin"))
            let pushed = try ModelVaultBinary.run(["model", "push", "clf", "model"], environment: env, in: work)
            #expect(pushed.status == 0, "\(pushed.stderr)")
        }
        return env
    }

    static func production(_ env: [String: String], in work: URL) throws -> ChildProcess.Output {
        try ModelVaultBinary.run(["model", "show", "clf:production", "--json"], environment: env, in: work)
    }

    @Test func aliasMistakesAreRefusedNotSilent() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try Self.vaultWithTwoVersions(in: work)

        // No version: refused (it used to promote the newest push, unreviewed).
        let implicit = try ModelVaultBinary.run(["model", "alias", "clf", "production"], environment: env, in: work)
        #expect(implicit.status == 2)
        #expect(implicit.stderr.contains("clf@VERSION"))
        #expect(try Self.production(env, in: work).status == 4)

        // Case is normalised: `Production` is `production`.
        let first = try ModelVaultBinary.run(["model", "alias", "clf@1", "Production"], environment: env, in: work)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "clf:production -> 1\n")

        // Moving production without a terminal or --yes: refused, nothing moved.
        let unconfirmed = try ModelVaultBinary.run(
            ["model", "alias", "clf@2", "production"], environment: env, in: work)
        #expect(unconfirmed.status == 2)
        #expect(unconfirmed.stderr.contains("--yes"))
        #expect(try Self.production(env, in: work).stdout.contains("\"version\" : 1"))
        let confirmed = try ModelVaultBinary.run(
            ["model", "alias", "clf@2", "production", "--yes"], environment: env, in: work)
        #expect(confirmed.stdout == "clf:production -> 2 (was 1)\n", "\(confirmed.stderr)")

        // A look-alike of an existing alias: refused, naming the existing one.
        let twin = try ModelVaultBinary.run(["model", "alias", "clf@1", "pr0duction"], environment: env, in: work)
        #expect(twin.status == 5)
        #expect(twin.stderr.contains("production"))

        // --delete removes it.
        let removed = try ModelVaultBinary.run(
            ["model", "alias", "--delete", "clf", "production"], environment: env, in: work)
        #expect(removed.stdout == "removed clf:production (was version 2)\n", "\(removed.stderr)")
        #expect(try Self.production(env, in: work).status == 4)
        let again = try ModelVaultBinary.run(
            ["model", "alias", "--delete", "clf", "production"], environment: env, in: work)
        #expect(again.status == 4)
    }

    @Test func aWeakPassphraseIsRefusedAtInit() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        for weak in ["abc", "aaaaaaaaaaaaaaaa", "123456789012345"] {
            let created = try ModelVaultBinary.run(
                ["init", "--vault", "v"], environment: ["MODELVAULT_PASSPHRASE": weak], in: directory.url)
            #expect(created.status == 5)
            #expect(created.stderr.contains("passphrase"))
            #expect(!created.stderr.contains(weak))
            #expect(!FileManager.default.fileExists(atPath: directory.url.appending(path: "v/vault.json").path))
        }
    }

    @Test func tokensExpireByDefault() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let invalid = try ModelVaultBinary.run(
            ["init", "--vault", "w", "--token-expires", "0d"],
            environment: ["MODELVAULT_PASSPHRASE": "cli test passphrase"], in: work)
        #expect(invalid.status == 2)
        #expect(invalid.stderr.contains("--token-expires"))

        // The first admin token (init's default) and a new token both expire unless `never` is asked for.
        let env = try CLI.makeVault(in: work)
        #expect(
            try ModelVaultBinary.run(
                ["user", "add", "bob", "--role", "data-scientist"], environment: env, in: work
            ).status == 0)
        let bob = try ModelVaultBinary.run(
            ["token", "create", "bob", "--out", "bob.token"], environment: env, in: work)
        #expect(bob.stdout.contains("expires"), "\(bob.stderr)")
        let forever = try ModelVaultBinary.run(
            ["token", "create", "bob", "--expires", "never"], environment: env, in: work)
        #expect(forever.status == 0, "\(forever.stderr)")
        let listed = try ModelVaultBinary.run(["token", "list", "--json"], environment: env, in: work)
        let tokens = try #require(
            try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]], "\(listed.stderr)")
        #expect(tokens.count == 3)
        #expect(tokens.filter { $0["expiresAt"] is String }.count == 2)

        // --json: the token only when it was not written to a file.
        let json = try ModelVaultBinary.run(
            ["token", "create", "bob", "--out", "bob2.token", "--json"], environment: env, in: work)
        let created = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(created?["expiresAt"] is String, "\(json.stdout)\(json.stderr)")
        #expect(created?["token"] == nil && created?["file"] as? String == "bob2.token")
        let rotated = try ModelVaultBinary.run(
            ["keys", "rotate", "--json"],
            environment: [
                "MODELVAULT_PASSPHRASE": "cli test passphrase", "MODELVAULT_VAULT": "v",
                "MODELVAULT_TOKEN": env["MODELVAULT_TOKEN"]!,
            ], in: work)
        let report = try JSONSerialization.jsonObject(with: Data(rotated.stdout.utf8)) as? [String: Any]
        #expect(report?["keyVersion"] as? Int == 2, "\(rotated.stdout)\(rotated.stderr)")
    }
}

/// Issue #20: errors about the user's files name the file and say what is wrong, with the not-found exit code.
@Suite struct FileErrorCLITests {
    @Test(arguments: [
        (["encrypt", "-R", "me.pub", "missing.bin"], "input file"),
        (["decrypt", "-i", "missing.key", "x.age"], "identity file"),
        (["model", "list", "--token-file", "missing.token"], "API token file"),
        (["model", "list", "--passphrase-file", "missing.pass"], "passphrase file"),
    ])
    func aMissingFileIsNamed(arguments: [String], what: String) throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(
            at: directory.url.appending(path: "v"), withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: directory.url.appending(path: "v/vault.json"))
        let keygen = try ModelVaultBinary.run(["keygen", "-o", "me.key"], in: directory.url)
        let recipient = keygen.stderr.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("age1") } ?? ""
        try Data((recipient + "\n").utf8).write(to: directory.url.appending(path: "me.pub"))
        let missing = try #require(arguments.first { $0.hasPrefix("missing") })
        let result = try ModelVaultBinary.run(
            arguments, environment: ["MODELVAULT_VAULT": "v", "MODELVAULT_TOKEN": "mvt_x"], in: directory.url)
        #expect(result.status == 4, "\(result.stderr)")
        #expect(result.stderr.contains("cannot read the \(what) \(missing): no such file"), "\(result.stderr)")
    }
}
