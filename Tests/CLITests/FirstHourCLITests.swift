import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

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

/// Issue #20, point 11: one flag vocabulary. Every command's help offers `-o/--output` rather than `--out` or
/// `--token-out`, `--public-key` rather than `--publisher-key`, and states a default once; the old spellings still
/// work as hidden aliases. `--quiet` silences progress on any command; `--json` on `audit verify` and `audit tail`.
@Suite struct FlagVocabularyCLITests {
    /// The subcommand names listed in a help text's SUBCOMMANDS section.
    static func subcommands(in help: String) -> [String] {
        guard let section = help.range(of: "SUBCOMMANDS:") else { return [] }
        // A name sits at an indent of exactly two; wrapped descriptions are indented further.
        return help[section.upperBound...].split(separator: "\n").prefix { !$0.isEmpty && $0.hasPrefix("  ") }
            .filter { $0.dropFirst(2).first != " " }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
            .filter { $0 != "help" }
    }

    @Test func everyCommandsHelpUsesTheOneVocabulary() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        var pending: [[String]] = [[]]
        var seen = 0
        var problems: [String] = []
        while let path = pending.popLast() {
            let help = try ModelVaultBinary.run(path + ["--help"], in: directory.url)
            #expect(help.status == 0, "\(path): \(help.stderr)")
            seen += 1
            let text = help.stdout
            let command = (["modelvault"] + path).joined(separator: " ")
            for old in ["--out ", "--out <", "--token-out", "--publisher-key"] where text.contains(old) {
                problems.append("\(command) offers \(old.trimmingCharacters(in: .whitespaces))")
            }
            // An option's entry (from its `  -` line to the next) that states its default in the text as well as
            // in ArgumentParser's `(default: …)`.
            var entry = ""
            let lines = text.split(separator: "\n").map(String.init) + ["  -"]
            for line in lines {
                if line.hasPrefix("  -") || line.hasPrefix("  <") {
                    if entry.contains("(default ") && entry.contains("(default:") {
                        problems.append("\(command) states a default twice: \(entry.prefix(40))")
                    }
                    entry = ""
                }
                entry += line + " "
            }
            if path.count < 3 { pending += Self.subcommands(in: text).map { path + [$0] } }
        }
        #expect(seen > 40, "walked only \(seen) help pages")
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// Leaf commands without `--json`, each with the reason: the output is the data itself, another format is its
    /// JSON, the command runs until stopped, or it prints no result on stdout (only the file it writes).
    static let noJSON: [String: String] = [
        "keygen": "writes or prints the age identity and recipient exactly as age-keygen does",
        "encrypt": "streams the encrypted data itself", "decrypt": "streams the decrypted data itself",
        "data sample": "writes the CSV itself", "predict": "writes the predictions CSV itself",
        "he decrypt": "writes the predictions CSV itself", "audit export": "--format jsonl is its JSON",
        "report": "--format json is its JSON", "audit prove": "prints the proof, which is JSON",
        "serve": "runs until stopped", "witness serve": "runs until stopped",
        "demo": "a narrated walk-through; its exit code is the result",
        "keys export-identity": "prints no result on stdout (progress only)",
        "he export-descriptor": "prints no result on stdout; the descriptor file is JSON",
        "he encrypt": "prints no result on stdout (progress only)",
        "he infer": "prints no result on stdout (progress only)",
        "model export": "prints no result on stdout (progress only); the file is ONNX",
    ]

    @Test func everyCommandsHelpHasAnExampleAndEveryResultHasJSON() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        var pending: [[String]] = [[]]
        var leaves: [String] = []
        var missingExamples: [String] = []
        var missingJSON: [String] = []
        while let path = pending.popLast() {
            let help = try ModelVaultBinary.run(path + ["--help"], in: directory.url).stdout
            let command = path.joined(separator: " ")
            // An `Examples:` section with at least one full command line.
            let examples = help.components(separatedBy: "Examples:").dropFirst().first ?? ""
            if !examples.split(separator: "\n").contains(where: { $0.hasPrefix("  modelvault") }) {
                missingExamples.append("modelvault \(command)")
            }
            // The SUBCOMMANDS section ends at its first blank line (before "See 'modelvault help …'").
            var children: [String] = []
            if let section = help.range(of: "SUBCOMMANDS:") {
                children = help[section.upperBound...].split(separator: "\n", omittingEmptySubsequences: false)
                    .dropFirst().prefix { !$0.isEmpty }.filter { $0.hasPrefix("  ") && $0.dropFirst(2).first != " " }
                    .compactMap { $0.split(separator: " ").first.map(String.init) }.filter { $0 != "help" }
            }
            if children.isEmpty {
                leaves.append(command)
                if !help.contains("--json"), Self.noJSON[command] == nil { missingJSON.append(command) }
            }
            pending += children.map { path + [$0] }
        }
        #expect(leaves.count > 50, "walked only \(leaves.count) commands")
        #expect(missingExamples.isEmpty, "no example in the help of: \(missingExamples.joined(separator: ", "))")
        #expect(Set(Self.noJSON.keys).isSubset(of: Set(leaves)), "an exemption names no command")
        #expect(missingJSON.isEmpty, "prints a result without --json: \(missingJSON.joined(separator: ", "))")
    }

    @Test func aTypoGetsASuggestion() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        // A bad value found while running names the flag in one line, not the top-level usage.
        let since = try ModelVaultBinary.run(["audit", "export", "--since", "yesterday"], in: directory.url)
        #expect(since.status == 2 && since.stderr.hasPrefix("modelvault: error: --since"), "\(since.stderr)")
        #expect(!since.stderr.contains("Usage: modelvault <subcommand>"))
        for (arguments, suggestion) in [
            (["modle", "list"], "did you mean 'model'?"), (["model", "lsit"], "did you mean 'list'?"),
            (["model", "list", "--jsno"], "did you mean '--json'?"),
        ] {
            let result = try ModelVaultBinary.run(arguments, in: directory.url)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains(suggestion), "\(arguments): \(result.stderr)")
        }
    }

    @Test func oldSpellingsStillWorkAndQuietSilencesProgress() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        #expect(
            try ModelVaultBinary.run(["user", "add", "bob", "--role", "data-scientist"], environment: env, in: work)
                .status == 0)
        for (flag, file) in [("-o", "a.token"), ("--output", "b.token"), ("--out", "c.token")] {
            let created = try ModelVaultBinary.run(["token", "create", "bob", flag, file], environment: env, in: work)
            #expect(created.status == 0, "\(flag): \(created.stderr)")
            #expect(FileManager.default.fileExists(atPath: work.appending(path: file).path), "\(flag)")
        }
        let unpaired = try ModelVaultBinary.run(
            ["model", "push", "m", "a.token", "--publisher-key", "a.token"], environment: env, in: work)
        #expect(unpaired.status == 2 && unpaired.stderr.contains("--public-key"), "\(unpaired.stderr)")

        // --quiet anywhere before `--`: no progress lines; the result still prints.
        let loud = try ModelVaultBinary.run(["data", "sample", "breast-cancer", "-o", "a.csv"], in: work)
        #expect(loud.status == 0 && !loud.stderr.isEmpty, "\(loud.stderr)")
        for arguments in [
            ["--quiet", "data", "sample", "digits", "-o", "b.csv"],
            ["data", "sample", "digits", "-o", "c.csv", "--quiet"],
        ] {
            let quiet = try ModelVaultBinary.run(arguments, in: work)
            #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(arguments): \(quiet.stderr)")
        }
        let trained = try ModelVaultBinary.run(
            ["data", "add", "cancer", "a.csv", "--quiet"], environment: env, in: work)
        #expect(trained.stdout == "cancer@1\n", "\(trained.stderr)")
        let sample = try ModelVaultBinary.run(["data", "sample", "breast-cancer", "-o", "a.csv"], in: work)
        #expect(sample.status == 5 && sample.stderr.contains("a.csv"), "an existing output is named: \(sample.stderr)")

        // --json on audit verify and audit tail.
        let verified = try ModelVaultBinary.run(["audit", "verify", "--json"], environment: env, in: work)
        let report = try JSONSerialization.jsonObject(with: verified.stdoutData) as? [String: Any]
        #expect(report?["valid"] as? Bool == true, "\(verified.stdout)\(verified.stderr)")
        let tail = try ModelVaultBinary.run(["audit", "tail", "-n", "3", "--json"], environment: env, in: work)
        let entries = try JSONSerialization.jsonObject(with: tail.stdoutData) as? [[String: Any]]
        #expect(entries?.count == 3, "\(tail.stdout)\(tail.stderr)")
        #expect(entries?.allSatisfy { $0["action"] is String && $0["principal"] is String } == true)
    }
}

/// Issue #20, point 2: `--eval-keys` takes the evaluation keys file, never the directory holding the secret key,
/// and a result decrypts only under the key pair it was computed for.
@Suite struct PrivateInferenceKeysCLITests {
    @Test func evaluationKeysAreAFileAndResultsAreBoundToTheirKey() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        for arguments in [
            ["data", "add", "cancer", CLI.breastCancerCSV.path],
            ["train", "clf", "--dataset", "cancer", "--label", "benign", "--model", "logistic", "--epochs", "5"],
            ["he", "keygen", "-o", "owner"], ["he", "keygen", "-o", "other"],
        ] {
            let result = try ModelVaultBinary.run(arguments, environment: env, in: work)
            try #require(result.status == 0, "\(arguments.prefix(2)): \(result.stderr)")
        }
        let csv = try String(contentsOf: CLI.breastCancerCSV, encoding: .utf8).split(whereSeparator: \.isNewline)
            .prefix(4)
        try Data((csv.joined(separator: "\n") + "\n").utf8).write(to: work.appending(path: "rows.csv"))
        // The model owner exports the public descriptor; the data owner encrypts with no vault, token or passphrase.
        let exported = try ModelVaultBinary.run(
            ["he", "export-descriptor", "clf@1", "-o", "clf.json"], environment: env, in: work)
        try #require(exported.status == 0, "\(exported.stderr)")
        let descriptor = try String(contentsOf: work.appending(path: "clf.json"), encoding: .utf8)
        #expect(descriptor.contains("mean_radius") && !descriptor.contains("weight"), "\(descriptor)")
        let encrypted = try ModelVaultBinary.run(
            ["he", "encrypt", "--keys", "owner", "--descriptor", "clf.json", "--input", "rows.csv", "-o", "q.bin"],
            in: work)
        try #require(encrypted.status == 0, "\(encrypted.stderr)")

        let directoryGiven = try ModelVaultBinary.run(
            ["he", "infer", "clf@1", "q.bin", "--eval-keys", "owner", "-o", "r.bin"], environment: env, in: work)
        #expect(directoryGiven.status == 2 && directoryGiven.stderr.contains("secret key"), "\(directoryGiven.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "r.bin").path))
        let inferred = try ModelVaultBinary.run(
            ["he", "infer", "clf@1", "q.bin", "--eval-keys", "owner/evaluation.keys", "-o", "r.bin"], environment: env,
            in: work)
        try #require(inferred.status == 0, "\(inferred.stderr)")

        let wrongKey = try ModelVaultBinary.run(["he", "decrypt", "--keys", "other", "r.bin"], in: work)
        #expect(wrongKey.status == 5 && wrongKey.stderr.contains("another key pair"), "\(wrongKey.stderr)")
        #expect(wrongKey.stdout.isEmpty)
        let decrypted = try ModelVaultBinary.run(["he", "decrypt", "--keys", "owner", "r.bin"], in: work)
        #expect(decrypted.status == 0, "\(decrypted.stderr)")
        #expect(decrypted.stdout.split(separator: "\n").count == 4)
        // The same predictions as plaintext inference.
        let plain = try ModelVaultBinary.run(
            ["predict", "clf@1", "--input", "rows.csv", "-o", "plain.csv"], environment: env, in: work)
        try #require(plain.status == 0, "\(plain.stderr)")
        let privateClasses = decrypted.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[0] }
        #expect(privateClasses.map(String.init) == (try CLI.firstColumn(work.appending(path: "plain.csv"))))
    }
}

/// Issue #20, point 10: a busy port is named, and found before the vault is unlocked or any model loaded.
@Suite struct BusyPortCLITests {
    @Test func aBusyPortIsNamedBeforeTheVaultIsOpened() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        // Hold a listening socket on a free loopback port.
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(holder >= 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(holder, generic, length) == 0 && listen(holder, 1) == 0
                    && getsockname(holder, generic, &length) == 0
            }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        // No vault at all: a server that unlocked first would fail on that (exit 4) instead.
        let result = try ModelVaultBinary.run(
            ["serve", "--insecure-http", "--port", String(port), "--vault", "no-such-vault"], in: directory.url)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(
            result.stderr.contains("127.0.0.1:\(port)") && result.stderr.contains("already in use"), "\(result.stderr)")
        #expect(!result.stderr.contains("unlocking"))
    }
}
