import AccessControl
import Foundation
import GRDB
import TestSupport
import Testing

/// `modelvault vault check` through the built binary: clean on an untouched vault, every bad record listed and a
/// non-zero exit after an attacker's SQL.
@Suite(.serialized) struct VaultCheckCLITests {
    @Test func vaultCheckListsAMintedTokenAndExitsNonZero() throws {
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try VaultCLITests.makeVault(in: work)
        let clean = try ModelVaultBinary.run(["vault", "check"], environment: env, in: work)
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(clean.stdout.contains("vault state verified"))

        let minted = APIToken.generate()
        // The attacker writes the catalog with plain SQL (write access to the vault directory, no key).
        let catalog = try DatabaseQueue(path: work.appending(path: "v/catalog.sqlite").path(percentEncoded: false))
        try catalog.write { db in
            try db.execute(
                sql: """
                    INSERT INTO token_hashes (hash, principal_id, created_at, token_id)
                    VALUES (?, (SELECT id FROM principals WHERE name = 'admin'), '2026-01-01T00:00:00Z', ?)
                    """, arguments: [minted.hash.hex, minted.hash.id])
        }
        let listed = try ModelVaultBinary.run(["vault", "check"], environment: env, in: work)
        #expect(listed.status != 0)
        #expect(listed.stdout.contains("token_hashes[token_id='\(minted.hash.id)']"), "\(listed.stdout)")
        #expect(listed.stderr.contains("1 bad record"), "\(listed.stderr)")

        // The minted token itself gets nothing.
        var attacker = env
        attacker["MODELVAULT_TOKEN"] = minted.token
        let used = try ModelVaultBinary.run(["model", "list"], environment: attacker, in: work)
        #expect(used.status == 6)
        #expect(used.stderr.contains("token_hashes"), "\(used.stderr)")
    }
}
