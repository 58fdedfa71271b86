import Foundation
import TestSupport
import Testing

/// Issue #20, points 5 and 8, through the binary: the security engineer's README workflow (`model import-fernet`)
/// runs under that role and can retire the key file it replaces; `vault passphrase change` re-seals the vault so that
/// the old passphrase opens nothing and a weak new one is refused.
@Suite(.serialized) struct FirstHourCredentialsCLITests {
    @Test func theSecurityEngineerImportsAFernetModelAndRetiresTheKeyFile() throws {
        try ModelVaultBinary.requireBuilt()
        guard Interop.pythonCanImport("cryptography.fernet") else { try Interop.skipOrFail("python3 cryptography") }
        let directory = try TemporaryDirectory()
        let work = directory.url
        let admin = try CLI.makeVault(in: work)
        for arguments in [
            ["user", "add", "sam", "--role", "security-engineer"], ["token", "create", "sam", "-o", "sam.token"],
        ] {
            let result = try ModelVaultBinary.run(arguments, environment: admin, in: work)
            try #require(result.status == 0, "\(arguments.prefix(2)): \(result.stderr)")
        }
        // The seed pattern: a Fernet token with its key in a file beside it (as Python's cryptography writes them).
        let script = """
            from cryptography.fernet import Fernet
            key = Fernet.generate_key()
            open("model_encryption_key.txt", "wb").write(key + b"\\n")
            open("model.enc", "wb").write(Fernet(key).encrypt(b"legacy model bytes"))
            open("model2.enc", "wb").write(Fernet(key).encrypt(b"second model"))
            """
        let seeded = try ChildProcess.tool("python3", ["-c", script], in: work).run()
        try #require(seeded.status == 0, "\(seeded.stderr)")
        var sam = admin
        sam["MODELVAULT_TOKEN"] = try String(contentsOf: work.appending(path: "sam.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)

        // Without --delete-originals: imported, and the message names both files to delete.
        let kept = try ModelVaultBinary.run(
            ["model", "import-fernet", "legacy", "model2.enc", "--key", "model_encryption_key.txt"], environment: sam,
            in: work)
        #expect(kept.status == 0, "the security engineer's README command is allowed: \(kept.stderr)")
        #expect(kept.stdout == "legacy@1\n")
        #expect(kept.stderr.contains("model_encryption_key.txt") && kept.stderr.contains("--delete-originals"))
        #expect(FileManager.default.fileExists(atPath: work.appending(path: "model2.enc").path))

        // A wrong key: refused, and nothing is deleted.
        try Data("not a fernet key\n".utf8).write(to: work.appending(path: "wrong.key"))
        let wrong = try ModelVaultBinary.run(
            ["model", "import-fernet", "legacy", "model.enc", "--key", "wrong.key", "--delete-originals"],
            environment: sam, in: work)
        #expect(wrong.status != 0)
        #expect(FileManager.default.fileExists(atPath: work.appending(path: "wrong.key").path))
        #expect(FileManager.default.fileExists(atPath: work.appending(path: "model.enc").path))

        // --delete-originals: the key file and the token are gone once the version is stored.
        let retired = try ModelVaultBinary.run(
            [
                "model", "import-fernet", "legacy", "model.enc", "--key", "model_encryption_key.txt",
                "--delete-originals",
            ],
            environment: sam, in: work)
        #expect(retired.status == 0, "\(retired.stderr)")
        #expect(retired.stdout == "legacy@2\n")
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "model_encryption_key.txt").path))
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "model.enc").path))
        let pulled = try ModelVaultBinary.run(
            ["model", "pull", "legacy@2", "-o", "out"], environment: admin, in: work)
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(try Data(contentsOf: work.appending(path: "out/model")) == Data("legacy model bytes".utf8))
    }

    @Test func thePassphraseChangesAndTheOldOneOpensNothing() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        let token = env["MODELVAULT_TOKEN"] ?? ""
        func withPassphrase(_ passphrase: String, _ extra: [String: String] = [:]) -> [String: String] {
            ["MODELVAULT_VAULT": "v", "MODELVAULT_PASSPHRASE": passphrase, "MODELVAULT_TOKEN": token].merging(extra) {
                $1
            }
        }
        let old = "cli test passphrase"
        let new = "a new and longer passphrase"

        let weak = try ModelVaultBinary.run(
            ["vault", "passphrase", "change"], environment: withPassphrase(old, ["MODELVAULT_NEW_PASSPHRASE": "abc"]),
            in: work)
        #expect(weak.status == 5 && weak.stderr.contains("passphrase"), "\(weak.stderr)")
        #expect(!weak.stderr.contains("abc"))

        let changed = try ModelVaultBinary.run(
            ["vault", "passphrase", "change"], environment: withPassphrase(old, ["MODELVAULT_NEW_PASSPHRASE": new]),
            in: work)
        #expect(changed.status == 0, "\(changed.stderr)")
        #expect(changed.stdout.contains("re-sealed") && changed.stdout.contains("old passphrase"), "\(changed.stdout)")
        #expect(!changed.stdout.contains(new) && !changed.stderr.contains(new))

        let withOld = try ModelVaultBinary.run(
            ["keys", "export-identity", "-o", "old.txt"], environment: withPassphrase(old), in: work)
        #expect(withOld.status != 0, "the old passphrase still opens the vault")
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "old.txt").path))
        let withNew = try ModelVaultBinary.run(
            ["keys", "export-identity", "-o", "new.txt"], environment: withPassphrase(new), in: work)
        #expect(withNew.status == 0, "\(withNew.stderr)")
    }
}

/// Issue #20, point 2: the data owner encrypting from the public descriptor has the same range check as the model
/// owner's vault path: a value outside the descriptor's declared range is refused (exit 5), naming the row and the
/// column, and no query is written.
@Suite struct PrivateInferenceDescriptorRangeCLITests {
    @Test func anInputOutsideTheDeclaredRangeIsRefusedOnBothPaths() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        for arguments in [
            ["data", "add", "cancer", CLI.breastCancerCSV.path],
            ["train", "clf", "--dataset", "cancer", "--label", "benign", "--model", "logistic", "--epochs", "5"],
            ["he", "keygen", "-o", "owner"], ["he", "export-descriptor", "clf@1", "-o", "clf.json"],
        ] {
            let result = try ModelVaultBinary.run(arguments, environment: env, in: work)
            try #require(result.status == 0, "\(arguments.prefix(2)): \(result.stderr)")
        }
        let descriptor = try JSONSerialization.jsonObject(with: Data(contentsOf: work.appending(path: "clf.json")))
        let bound = try #require((descriptor as? [String: Any])?["inputBound"] as? Double, "\(descriptor)")
        #expect(bound > 1 && bound < 16, "\(bound)")

        let lines = try String(contentsOf: CLI.breastCancerCSV, encoding: .utf8).split(whereSeparator: \.isNewline)
        let header = lines[0].split(separator: ",").map(String.init)
        var outlier = lines[2].split(separator: ",").map(String.init)
        outlier[1] = "1e9"
        let rows = [lines[0], lines[1], Substring(outlier.joined(separator: ","))].joined(separator: "\n") + "\n"
        try Data(rows.utf8).write(to: work.appending(path: "rows.csv"))

        let fromDescriptor = try ModelVaultBinary.run(
            ["he", "encrypt", "--keys", "owner", "--descriptor", "clf.json", "--input", "rows.csv", "-o", "q.bin"],
            in: work)
        #expect(fromDescriptor.status == 5, "\(fromDescriptor.stderr)")
        #expect(
            fromDescriptor.stderr.contains("row 2: \(header[1]) is outside the range the model accepts"),
            "\(fromDescriptor.stderr)")
        #expect(!fromDescriptor.stderr.contains("1e+09") && !fromDescriptor.stderr.contains("1e9"))
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "q.bin").path))
        let fromVault = try ModelVaultBinary.run(
            ["he", "encrypt", "--keys", "owner", "--model", "clf@1", "--input", "rows.csv", "-o", "q.bin"],
            environment: env, in: work)
        #expect(fromVault.status == 5 && fromVault.stderr.contains("row 2"), "\(fromVault.stderr)")

        // In range: encrypted. A descriptor without a declared range (exported before it existed) is refused.
        try Data((lines[0...3].joined(separator: "\n") + "\n").utf8).write(to: work.appending(path: "ok.csv"))
        let inRange = try ModelVaultBinary.run(
            ["he", "encrypt", "--keys", "owner", "--descriptor", "clf.json", "--input", "ok.csv", "-o", "q.bin"],
            in: work)
        #expect(inRange.status == 0, "\(inRange.stderr)")
        var old = try #require(descriptor as? [String: Any])
        old["inputBound"] = nil
        try JSONSerialization.data(withJSONObject: old).write(to: work.appending(path: "old.json"))
        let undeclared = try ModelVaultBinary.run(
            ["he", "encrypt", "--keys", "owner", "--descriptor", "old.json", "--input", "ok.csv", "-o", "q2.bin"],
            in: work)
        #expect(undeclared.status == 5 && undeclared.stderr.contains("declares no input range"), "\(undeclared.stderr)")
    }
}

/// Issue #20, point 10: a label that is not a column names the columns there are, and the one it probably meant.
@Suite struct TrainLabelCLITests {
    @Test func aWrongLabelListsTheColumns() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        let added = try ModelVaultBinary.run(
            ["data", "add", "cancer", CLI.breastCancerCSV.path], environment: env, in: work)
        try #require(added.status == 0, "\(added.stderr)")
        let trained = try ModelVaultBinary.run(
            ["train", "clf", "--dataset", "cancer", "--label", "Benign", "--model", "logistic"], environment: env,
            in: work)
        #expect(trained.status == 5, "\(trained.stderr)")
        #expect(trained.stderr.contains("no label column 'Benign' (did you mean 'benign'?)"), "\(trained.stderr)")
        #expect(trained.stderr.contains("the columns are 'mean_radius'"), "\(trained.stderr)")
    }
}

/// Issue #20, point 11: `--json` prints the result as one JSON document, and nothing else on stdout.
@Suite struct ResultJSONCLITests {
    @Test func resultsParseAsJSON() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        try FileManager.default.createDirectory(at: work.appending(path: "m"), withIntermediateDirectories: true)
        try Data([1]).write(to: work.appending(path: "m/w.bin"))
        func json(_ arguments: [String]) throws -> [String: Any] {
            let result = try ModelVaultBinary.run(arguments + ["--json"], environment: env, in: work)
            #expect(result.status == 0, "\(arguments.prefix(2)): \(result.stderr)")
            return try #require(
                try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any], "\(result.stdout)")
        }
        #expect(try json(["model", "push", "clf", "m"])["reference"] as? String == "clf@1")
        let alias = try json(["model", "alias", "clf@1", "production"])
        #expect(alias["alias"] as? String == "production" && alias["version"] as? String == "1", "\(alias)")
        #expect(try json(["model", "verify", "clf@1"])["verified"] as? Bool == true)
        #expect(try json(["model", "pull", "clf@1", "-o", "out"])["files"] as? Int == 1)
        #expect(try json(["user", "add", "bob", "--role", "data-scientist"])["principal"] as? String == "bob")
        #expect(try json(["role", "grant", "bob", "ml-engineer"])["granted"] as? String == "ml-engineer")
        #expect(try json(["vault", "check"])["verified"] as? Bool == true)

        // Lists read as tables (issue #20, point 11): a header row, then one row a line, with no "(1 versions)".
        for (arguments, header, row) in [
            (["model", "list"], "NAME  LATEST  VERSIONS  ALIASES", "clf   1       1         production=1"),
            (["user", "list"], "NAME", "bob"), (["token", "list"], "ID", "admin"),
            (["audit", "witness", "list"], "NAME  URL  FINGERPRINT", nil),
        ] {
            let listed = try ModelVaultBinary.run(arguments, environment: env, in: work)
            #expect(listed.status == 0, "\(arguments): \(listed.stderr)")
            let lines = listed.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix(header) == true, "\(arguments): \(listed.stdout)")
            if let row { #expect(lines.dropFirst().contains { $0.contains(row) }, "\(arguments): \(listed.stdout)") }
            #expect(!listed.stdout.contains("versions)"))
        }
    }

    /// `init`, `user bootstrap` and `deploy` print one JSON document with `--json` (issue #20, point 11).
    @Test func initBootstrapAndDeployPrintJSON() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        func json(_ arguments: [String], _ env: [String: String]) throws -> [String: Any] {
            let result = try ModelVaultBinary.run(arguments + ["--json"], environment: env, in: work)
            #expect(result.status == 0, "\(arguments.prefix(2)): \(result.stderr)")
            return try #require(
                try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any], "\(result.stdout)")
        }
        let passphrase = ["MODELVAULT_PASSPHRASE": "cli test passphrase"]
        // Without -o the token is in the document (shown once); with -o only the file's name is.
        let printed = try json(["init", "--vault", "printed"], passphrase)
        let printedAdmin = try #require(printed["admin"] as? [String: Any], "\(printed)")
        #expect((printedAdmin["token"] as? String)?.isEmpty == false && printedAdmin["file"] == nil)
        #expect(printed["signerFingerprint"] as? String != nil && printed["recipient"] as? String != nil)
        let created = try json(["init", "--vault", "v", "-o", "admin.token"], passphrase)
        let admin = try #require(created["admin"] as? [String: Any], "\(created)")
        #expect(admin["token"] == nil && admin["file"] as? String == "admin.token", "\(admin)")
        #expect(admin["principal"] as? String == "admin" && admin["expiresAt"] as? String != nil, "\(admin)")

        let vault = passphrase.merging(["MODELVAULT_VAULT": "v"]) { $1 }
        let glass = try json(["user", "bootstrap", "--break-glass", "--expires", "1h"], vault)
        #expect((glass["token"] as? String)?.isEmpty == false && glass["principal"] as? String == "admin", "\(glass)")

        let token = try String(contentsOf: work.appending(path: "admin.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let env = vault.merging(["MODELVAULT_TOKEN": token]) { $1 }
        try FileManager.default.createDirectory(at: work.appending(path: "m"), withIntermediateDirectories: true)
        try Data([1]).write(to: work.appending(path: "m/w.bin"))
        #expect(try ModelVaultBinary.run(["model", "push", "clf", "m"], environment: env, in: work).status == 0)
        let deployed = try json(
            [
                "deploy", "clf@1", "-o", "out", "--builder-image", DeployCLITests.builder, "--runtime-image",
                DeployCLITests.runtime,
            ], env)
        let files = try #require(deployed["files"] as? [String], "\(deployed)")
        #expect(files.contains { $0.hasSuffix("/Dockerfile") }, "\(files)")
        #expect((deployed["bundle"] as? String)?.hasSuffix("/bundle") == true)
        #expect((deployed["identity"] as? String)?.hasSuffix("secrets/identity") == true)
    }
}
