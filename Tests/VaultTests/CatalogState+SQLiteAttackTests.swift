import AccessControl
import Foundation
import GRDB
import TestSupport
import Testing

@testable import Vault

/// Attacks through SQLite's indexes rather than its rows (trust review, issue 13): the row MACs cover what a full
/// scan of each table reads, but a lookup reads an index first, and an index whose pages were written outside
/// SQLite answers with rows the table does not hold. Each must be refused before anything is served.
@Suite struct CatalogStateIndexAttackTests {
    /// `aliases`' primary-key index redirected so that `m:production` finds the row of `m:staging` (version 1):
    /// the schema is unchanged and every row still carries its MAC; only the index's pages lie.
    @Test func aliasIndexRedirectedToAnOlderVersionIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        for byte in [UInt8(1), 2] { _ = try await vault.pushModel("m", from: .files(["w": Data([byte])])) }
        try await vault.setAlias("staging", to: ModelReference(parsing: "m@1"))
        try await vault.setAlias("production", to: ModelReference(parsing: "m@2"))
        try DirectoryAttacker(root: vault.root).plantIndexContent(
            "sqlite_autoindex_aliases_1", on: "aliases", columns: ["model_id", "alias"],
            tweak: """
                DELETE FROM planted_rows WHERE alias = 'staging';
                UPDATE planted_rows SET rowid = (SELECT rowid FROM aliases WHERE alias = 'staging')
                WHERE alias = 'production';
                """)
        await expectRefused(naming: "sqlite_autoindex_aliases_1") {
            try await vault.loadModel(ModelReference(parsing: "m:production"))
        }
        #expect(try await vault.checkState().contains { $0.contains("sqlite_autoindex_aliases_1") })
    }

    /// `token_hashes_by_id` widened into a covering index holding a minted admin token's row: a lookup by token id
    /// then never reads the table, whose rows all verify.
    @Test func widenedTokenIndexMintsNoAdminToken() async throws {
        let fixture = try await AccessFixture()
        let minted = APIToken.generate()
        let columns = ["token_id", "hash", "principal_id", "created_at", "expires_at", "revoked_at"]
        try DirectoryAttacker(root: fixture.vault.root).plantIndexContent(
            "token_hashes_by_id", on: "token_hashes", columns: columns,
            definition: "CREATE UNIQUE INDEX token_hashes_by_id ON token_hashes(\(columns.joined(separator: ", ")))",
            tweak: """
                INSERT INTO planted_rows (token_id, hash, principal_id, created_at)
                VALUES (?, ?, (SELECT id FROM principals WHERE name = 'admin'), '2026-01-01T00:00:00Z')
                """, arguments: [minted.hash.id, minted.hash.hex])
        await expectRefused(naming: "token_hashes_by_id") { try await fixture.access.authenticate(token: minted.token) }
        await expectRefused(naming: "token_hashes_by_id") { try fixture.access.caller(presenting: minted.token) }
    }

    /// An index the vault does not create, even one that agrees with its table today, is where the attacks above
    /// start (a covering index is read instead of the table); statistics steer which index a lookup reads.
    @Test func indexesAndStatisticsTheVaultDidNotCreateAreRefused() async throws {
        let fixture = try await AccessFixture()
        let attacker = DirectoryAttacker(root: fixture.vault.root)
        try attacker.sql("CREATE INDEX aliases_cover ON aliases (model_id, alias, version_id)")
        await expectRefused(naming: "aliases_cover") { try await fixture.admin.principals() }
        try attacker.sql("DROP INDEX aliases_cover; ANALYZE")
        await expectRefused(naming: "sqlite_stat1") { try await fixture.admin.principals() }
    }

    /// A table's definition changed in place (a column's collation, here), with every row left as it was.
    @Test func aTableDefinitionChangedInPlaceIsRefused() async throws {
        let fixture = try await AccessFixture()
        let attacker = DirectoryAttacker(root: fixture.vault.root)
        try await DatabaseQueue(path: attacker.catalog.path(percentEncoded: false)).write { db in
            let version = try #require(try Int.fetchOne(db, sql: "PRAGMA schema_version"))
            try db.execute(sql: "PRAGMA writable_schema = ON")
            try db.execute(
                sql:
                    "UPDATE sqlite_schema SET sql = replace(sql, 'name TEXT NOT NULL UNIQUE', 'name TEXT NOT NULL UNIQUE COLLATE NOCASE') WHERE name = 'principals'"
            )
            try db.execute(sql: "PRAGMA writable_schema = OFF")
            try db.execute(sql: "PRAGMA schema_version = \(version + 1)")
        }
        await expectRefused(naming: "principals") { try await fixture.admin.principals() }
    }

    /// A catalog as the vault leaves it passes the structural check (no false alarm from SQLite's own entries).
    @Test func anUntouchedCatalogHasNoStructuralProblems() async throws {
        let fixture = try await AccessFixture()
        let (alice, _) = try await fixture.session("alice", RoleBinding(role: .dataScientist))
        _ = try await alice.createToken(for: "alice")
        #expect(try await fixture.vault.checkState().isEmpty)
    }
}

/// Attacks on how a row is rendered for its MAC (review of the index fix): SQLite's `quote()` and GRDB's text
/// reading stop at a NUL byte while SQL comparisons see the whole text, so a NUL-suffixed value kept its MAC yet
/// no longer matched a lookup; text that is not UTF-8 was MAC'd as repaired, not as stored.
@Suite struct CatalogStateEncodingAttackTests {
    /// The child's `parent_token_id` NUL-suffixed: the revocation's `WHERE parent_token_id IN (...)` missed it, so
    /// the child outlived its parent and the suffix could be removed again without a trace.
    @Test func aNULInAChildTokensParentDoesNotLetItOutliveTheParentsRevocation() async throws {
        let fixture = try await AccessFixture()
        let (alice, issued) = try await fixture.session("alice", RoleBinding(role: .dataScientist))
        let child = try await alice.createToken(for: "alice")
        try DirectoryAttacker(root: fixture.vault.root).sql(
            "UPDATE token_hashes SET parent_token_id = parent_token_id || char(0) || 'x' WHERE token_id = ?",
            arguments: [child.info.id])
        await expectRefused(naming: "NUL") { try await fixture.admin.revokeToken(id: issued.info.id) }
        await expectRefused(naming: "token_hashes") { try await fixture.access.authenticate(token: child.token) }
    }

    /// The alias key NUL-suffixed: the admin's move inserted a second `production` row beside it, and the seal
    /// then authenticated the attacker's old row too.
    @Test func aNULInAnAliasIsRefusedBeforeAnyWriteSealsIt() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        for byte in [UInt8(1), 2] { _ = try await vault.pushModel("m", from: .files(["w": Data([byte])])) }
        try await vault.setAlias("production", to: ModelReference(parsing: "m@1"))
        try DirectoryAttacker(root: vault.root).sql(
            "UPDATE aliases SET alias = alias || char(0) || 'x' WHERE alias = 'production'")
        await expectRefused(naming: "aliases") {
            try await vault.setAlias("production", to: ModelReference(parsing: "m@2"))
        }
        #expect(try await vault.checkState().contains { $0.contains("aliases") && $0.contains("NUL") })
    }

    /// A stored U+FFFD replaced by a truncated four-byte sequence, which UTF-8 repair turns back into U+FFFD: the
    /// bytes differ (SQL sees another value) and so must the MAC.
    @Test func textThatIsNotUTF8IsAuthenticatedAsStoredNotAsRepaired() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        _ = try await vault.addDataset("d", contents: ["rows.csv": Data("a\n1\n".utf8)], description: "x\u{FFFD}y")
        try DirectoryAttacker(root: vault.root).sql(
            "UPDATE dataset_versions SET description = CAST(x'78F09F9879' AS TEXT)")
        await expectRefused(naming: "dataset_versions") { try await vault.datasets() }
    }
}
