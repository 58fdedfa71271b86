import Foundation
import TestSupport
import Testing

/// Adversarial review 5, trust F1 and F2, through the binary: `keys rotate --reencrypt` takes a new passphrase (never
/// over `--remote`) and leaves the vault opening with it only.
@Suite struct KeysRotateReencryptCLITests {
    @Test(.timeLimit(.minutes(5))) func reencryptTakesANewPassphraseAndTheOldOneNoLongerOpensTheVault() async throws {
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
        let new = "a new and longer passphrase after rotation"
        try Data("\(new)\n".utf8).write(to: work.appending(path: "new.txt"))

        let remote = try ModelVaultBinary.run(
            ["keys", "rotate", "--reencrypt", "--server", "https://127.0.0.1:9"],
            environment: withPassphrase(old, ["MODELVAULT_NEW_PASSPHRASE": new]), in: work)
        #expect(remote.status == 2 && remote.stderr.contains("vault host"), "\(remote.stderr)")
        let stray = try ModelVaultBinary.run(
            ["keys", "rotate", "--new-passphrase-file", "new.txt"], environment: withPassphrase(old), in: work)
        #expect(stray.status == 2, "\(stray.stderr)")
        let same = try ModelVaultBinary.run(
            ["keys", "rotate", "--reencrypt"], environment: withPassphrase(old, ["MODELVAULT_NEW_PASSPHRASE": old]),
            in: work)
        #expect(same.status != 0, "the old passphrase was accepted as the new one")

        let rotated = try ModelVaultBinary.run(
            ["keys", "rotate", "--reencrypt", "--new-passphrase-file", "new.txt", "--json"],
            environment: withPassphrase(old), in: work)
        try #require(rotated.status == 0, "\(rotated.stderr)")
        #expect(!rotated.stdout.contains(new) && !rotated.stderr.contains(new))

        let withOld = try ModelVaultBinary.run(["keys", "list"], environment: withPassphrase(old), in: work)
        #expect(withOld.status != 0, "the old passphrase still opens the vault after --reencrypt")
        let withNew = try ModelVaultBinary.run(["keys", "list", "--json"], environment: withPassphrase(new), in: work)
        #expect(withNew.status == 0, "\(withNew.stderr)")
    }
}
