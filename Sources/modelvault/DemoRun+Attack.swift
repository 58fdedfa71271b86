import AccessControl
import Foundation
import GRDB
import Vault

/// The demo's attack on the vault's state: someone who can write the vault directory, but holds no passphrase,
/// inserts the hash of a token of their own for `admin` with one SQL statement.
///
/// The raw SQL here is deliberate, the only SQL outside the vault's catalog layer (`Vault/Catalog*.swift`): it plays
/// an attacker editing `catalog.sqlite` directly with its own connection, around the vault
/// (`CatalogLayeringTests` allows this file by name).
extension DemoRun {
    func mintTokenAndDetect(_ state: inout DemoState) async throws {
        let access = try state.requireAccess()
        let minted = APIToken.generate()
        let catalog = try DatabaseQueue(path: root.appending(path: "catalog.sqlite").path(percentEncoded: false))
        // The attacker's own SQL on the catalog file, bypassing the vault (on purpose: see above).
        try await catalog.write { db in
            try db.execute(
                sql: """
                    INSERT INTO token_hashes (hash, principal_id, created_at, token_id)
                    VALUES (?, (SELECT id FROM principals WHERE name = 'admin'), '2026-01-01T00:00:00Z', ?)
                    """, arguments: [minted.hash.hex, minted.hash.id])
        }
        say("  inserted SHA-256 of a chosen token for admin into token_hashes (token id \(minted.hash.id))")
        do {
            _ = try await access.authenticate(token: minted.token)
            throw DemoFailure("the vault accepted a token minted in its catalog")
        } catch let error as VaultError where error.code == .tampered {
            say("  refused before any use: \(error.description)")
        }
        let problems = try await access.unlockedVault.checkState()
        say("  `modelvault vault check` lists \(problems.count) bad record: \(problems.joined(separator: "; "))")
        try await catalog.write { db in
            try db.execute(sql: "DELETE FROM token_hashes WHERE token_id = ?", arguments: [minted.hash.id])
        }
        guard try await access.unlockedVault.checkState().isEmpty else {
            throw DemoFailure("the vault state does not verify after removing the minted row")
        }
        say("  removed the row again: every record verifies (each row's HMAC under a key only the passphrase reaches)")
    }
}
