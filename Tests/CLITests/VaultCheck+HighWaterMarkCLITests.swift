import Foundation
import TestSupport
import Testing

/// Review 3: `vault check` is "the command that says what was tampered with", yet it never reads the host's
/// high-water mark that every other command (and `audit verify`) refuses a rolled-back vault against.
@Suite(.serialized) struct VaultCheckHighWaterMarkCLITests {
    @Test func vaultCheckReportsAWholeVaultRestoredBelowTheHighWaterMarkAsVerified() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        var env = try VaultCLITests.makeVault(in: work)
        env["MODELVAULT_STATE_DIR"] = work.appending(path: "host-state").path(percentEncoded: false)
        let files = FileManager.default
        let marked = try ModelVaultBinary.run(["token", "list"], environment: env, in: work)
        #expect(marked.status == 0, "\(marked.stderr)")
        try files.copyItem(at: work.appending(path: "v"), to: work.appending(path: "v-old"))

        // A new catalog state: a principal added (raises this host's mark).
        let added = try ModelVaultBinary.run(
            ["user", "add", "bob", "--role", "data-scientist"], environment: env, in: work)
        #expect(added.status == 0, "\(added.stderr)")

        // The attacker restores the whole directory from the earlier copy.
        try files.removeItem(at: work.appending(path: "v"))
        try files.moveItem(at: work.appending(path: "v-old"), to: work.appending(path: "v"))
        let listed = try ModelVaultBinary.run(["token", "list"], environment: env, in: work)
        #expect(listed.status == 6, "every token-holding command refuses it: \(listed.stderr)")
        #expect(listed.stderr.contains("high-water mark"), "\(listed.stderr)")

        let checked = try ModelVaultBinary.run(["vault", "check"], environment: env, in: work)
        #expect(checked.status != 0, "vault check passed a vault below this host's high-water mark: \(checked.stdout)")
        #expect(!checked.stdout.contains("vault state verified"), "\(checked.stdout)")
    }
}
