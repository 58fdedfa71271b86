import AccessControl
import Crypto
import Foundation
import GRDB
import TestSupport
import Testing

@testable import AuditLog
@testable import Vault

/// An attacker with write access to the vault directory and no passphrase or identity: it edits
/// `catalog.sqlite` with plain SQL and replaces files with ones encrypted to the vault's public recipient.
struct DirectoryAttacker {
    let root: URL

    var catalog: URL { root.appending(path: "catalog.sqlite") }

    /// Runs SQL against the catalog through a connection of its own.
    func sql(_ statements: String, arguments: StatementArguments = StatementArguments()) throws {
        let queue = try DatabaseQueue(path: catalog.path(percentEncoded: false))
        try queue.write { db in try db.execute(sql: statements, arguments: arguments) }
    }

    /// One row of the catalog, as the attacker would save it to restore later.
    func row(_ sql: String, arguments: StatementArguments = StatementArguments()) throws -> Row {
        let queue = try DatabaseQueue(path: catalog.path(percentEncoded: false))
        return try #require(try queue.read { db in try Row.fetchOne(db, sql: sql, arguments: arguments) })
    }

    /// Copies the whole catalog (every table, the state root included) to `file`.
    func backup(to file: URL) throws {
        let source = try DatabaseQueue(path: catalog.path(percentEncoded: false))
        let destination = try DatabaseQueue(path: file.path(percentEncoded: false))
        try source.backup(to: destination)
    }

    /// Puts a copy made by ``backup(to:)`` back in place of the catalog.
    func restore(from file: URL) throws {
        let source = try DatabaseQueue(path: file.path(percentEncoded: false))
        let destination = try DatabaseQueue(path: catalog.path(percentEncoded: false))
        try source.backup(to: destination)
    }

    /// Replaces the B-tree of `index` (on `table`) with one built from the table's rows as `tweak` leaves them, and
    /// its definition with `definition` when given: the index then answers lookups with rows the table does not
    /// hold. `tweak` is SQL run on a scratch table `planted_rows` holding `columns` and each row's rowid; the scratch
    /// table's schema entries are then deleted (`PRAGMA writable_schema`), leaving only its pages behind.
    func plantIndexContent(
        _ index: String, on table: String, columns: [String], definition: String? = nil, tweak: String,
        arguments: StatementArguments = StatementArguments()
    ) throws {
        let list = columns.joined(separator: ", ")
        let queue = try DatabaseQueue(path: catalog.path(percentEncoded: false))
        try queue.write { db in
            let version = try #require(try Int.fetchOne(db, sql: "PRAGMA schema_version"))
            try db.execute(
                sql: """
                    CREATE TABLE planted_rows (\(list));
                    INSERT INTO planted_rows (rowid, \(list)) SELECT rowid, \(list) FROM \(table);
                    """)
            try db.execute(sql: tweak, arguments: arguments)
            try db.execute(sql: "CREATE INDEX planted_index ON planted_rows (\(list))")
            try db.execute(sql: "PRAGMA writable_schema = ON")
            try db.execute(
                sql: """
                    UPDATE sqlite_schema SET sql = coalesce(?, sql),
                        rootpage = (SELECT rootpage FROM sqlite_schema WHERE name = 'planted_index')
                    WHERE name = ?;
                    DELETE FROM sqlite_schema WHERE tbl_name = 'planted_rows';
                    """, arguments: [definition, index])
            try db.execute(sql: "PRAGMA writable_schema = OFF")
            try db.execute(sql: "PRAGMA schema_version = \(version + 1)")
        }
    }

    /// The vault's public recipient, which anyone with read access can see.
    func recipient() throws -> String {
        try #require(try row("SELECT recipient FROM key_versions ORDER BY version DESC LIMIT 1")["recipient"])
    }
}

/// Expects `body` to be refused with `VaultError.tampered` whose text names `record`.
func expectRefused<T>(
    naming record: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async {
    do {
        _ = try await body()
        Issue.record("the attack succeeded: nothing refused it", sourceLocation: sourceLocation)
    } catch let error as VaultError {
        #expect(error.code == .tampered, "\(error.description)", sourceLocation: sourceLocation)
        #expect(error.description.contains(record), "\(error.description)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected VaultError.tampered, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Attacks on the vault's state by someone who can write the vault directory but holds no secret (issue 13).
/// Each one must be refused with an error naming the record, and nothing served, pulled, trained on or verified.
@Suite struct VaultAttackTests {
    // MARK: Keys and pins

    @Test func forgedSigningKeyAndVaultJSONAreRefusedAtOpen() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        _ = try await vault.pushModel("m", from: .files(["w": Data([1])]))
        let attacker = DirectoryAttacker(root: vault.root)
        // A signing key of the attacker's, encrypted to the public recipient, pinned in a rewritten vault.json.
        let forged = P256.Signing.PrivateKey()
        let suite = FakeCipherSuite()
        try suite.encrypt(Data(forged.pemRepresentation.utf8), to: [try attacker.recipient()])
            .write(to: vault.root.appending(path: "keys/signing-v1.age"))
        var configuration = try VaultConfiguration.read(from: vault.root.appending(path: "vault.json"))
        configuration.signingPublicKey = forged.publicKey.pemRepresentation
        try configuration.write(to: vault.root.appending(path: "vault.json"))
        await expectRefused(naming: "signing-v1.age") { try TestVault.open(in: directory) }
    }

    @Test func replacedVaultJSONIsRefusedAtOpen() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        var configuration = try VaultConfiguration.read(from: vault.root.appending(path: "vault.json"))
        // Claiming post-quantum identities (or any other change) is a substitution of the file.
        configuration.postQuantum.toggle()
        try configuration.write(to: vault.root.appending(path: "vault.json"))
        await expectRefused(naming: "vault.json") { try TestVault.open(in: directory) }
    }

    @Test func replacedAuditKeyIsRefusedAtOpen() async throws {
        let fixture = try await AccessFixture()
        try await fixture.access.close()
        let attacker = DirectoryAttacker(root: fixture.vault.root)
        try FakeCipherSuite().encrypt(
            Curve25519.Signing.PrivateKey().rawRepresentation, to: [try attacker.recipient()]
        ).write(to: fixture.vault.root.appending(path: "keys/audit.age"))
        let reopened = try TestVault.open(in: fixture.directory)
        await expectRefused(naming: "audit.age") { try await VaultAccess.open(reopened) }
    }

    @Test func missingAuditKeyIsNotRegenerated() async throws {
        let fixture = try await AccessFixture()
        try await fixture.access.close()
        // Deleting the log with its key must not give the attacker a fresh, empty log under a new key.
        try FileManager.default.removeItem(at: fixture.vault.root.appending(path: "keys/audit.age"))
        try FileManager.default.removeItem(at: fixture.auditDirectory)
        let reopened = try TestVault.open(in: fixture.directory)
        await expectRefused(naming: "audit.age") { try await VaultAccess.open(reopened) }
        #expect(!FileManager.default.fileExists(atPath: fixture.vault.root.appending(path: "keys/audit.age").path))
    }

    // MARK: Tokens and bindings

    @Test func mintedAdminTokenIsRefused() async throws {
        let fixture = try await AccessFixture()
        let minted = APIToken.generate()
        try DirectoryAttacker(root: fixture.vault.root).sql(
            """
            INSERT INTO token_hashes (hash, principal_id, created_at, token_id)
            VALUES (?, (SELECT id FROM principals WHERE name = 'admin'), '2026-01-01T00:00:00Z', ?)
            """, arguments: [minted.hash.hex, minted.hash.id])
        await expectRefused(naming: "token_hashes") { try await fixture.access.authenticate(token: minted.token) }
    }

    /// Every column of every authenticated table is covered by its row MAC: a column added later and left out would
    /// be writable outside the vault (as `token_hashes.parent_token_id`, the token lineage, once was).
    @Test func everyColumnOfAnAuthenticatedTableIsAuthenticated() async throws {
        let fixture = try await AccessFixture()
        let queue = try DatabaseQueue(
            path: fixture.vault.root.appending(path: "catalog.sqlite").path(percentEncoded: false))
        try await queue.read { db in
            for table in CatalogState.tables {
                let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(\(table.name))").map { $0["name"] as String }
                #expect(Set(columns) == Set(table.columns), "\(table.name)")
            }
        }
    }

    /// Detaching a self-issued token from its parent would let it survive the parent's revocation.
    @Test func detachingATokenFromItsParentIsRefused() async throws {
        let fixture = try await AccessFixture()
        let (alice, _) = try await fixture.session("alice", RoleBinding(role: .dataScientist))
        let child = try await alice.createToken(for: "alice")
        try DirectoryAttacker(root: fixture.vault.root).sql(
            "UPDATE token_hashes SET parent_token_id = NULL WHERE token_id = ?", arguments: [child.info.id])
        await expectRefused(naming: "token_hashes") { try await fixture.access.authenticate(token: child.token) }
    }

    /// A trigger is not a row, so row MACs do not see it; planted in catalog.sqlite, it would fire inside the next
    /// honest write's transaction and the seal would then MAC the rows it inserted (a minted admin token).
    @Test func plantedTriggerIsRefusedBeforeAnyWriteSealsWhatItInserts() async throws {
        let fixture = try await AccessFixture()
        let minted = APIToken.generate()
        try DirectoryAttacker(root: fixture.vault.root).sql(
            """
            CREATE TRIGGER mint AFTER INSERT ON principals BEGIN
                INSERT INTO token_hashes (hash, principal_id, created_at, token_id)
                VALUES ('\(minted.hash.hex)', (SELECT id FROM principals WHERE name = 'admin'),
                        '2026-01-01T00:00:00Z', '\(minted.hash.id)');
            END
            """)
        await expectRefused(naming: "trigger mint") {
            try await fixture.admin.addPrincipal("bob", binding: RoleBinding(role: .devops))
        }
        await expectRefused(naming: "trigger mint") { try await fixture.access.authenticate(token: minted.token) }
    }

    @Test func mintedAdminTokenIsRefusedByTheServerAuthenticator() async throws {
        let fixture = try await AccessFixture()
        let minted = APIToken.generate()
        try DirectoryAttacker(root: fixture.vault.root).sql(
            """
            INSERT INTO token_hashes (hash, principal_id, created_at, token_id)
            VALUES (?, (SELECT id FROM principals WHERE name = 'admin'), '2026-01-01T00:00:00Z', ?)
            """, arguments: [minted.hash.hex, minted.hash.id])
        await expectRefused(naming: "token_hashes") { try fixture.access.caller(presenting: minted.token) }
    }

    @Test func tokenRowCopiedFromAnotherVaultIsRefused() async throws {
        let fixture = try await AccessFixture()
        let other = try await AccessFixture()
        // The other vault's admin token, with its row copied over: same principal id, same name.
        let row = try DirectoryAttacker(root: other.vault.root).row(
            "SELECT * FROM token_hashes WHERE principal_id = (SELECT id FROM principals WHERE name = 'admin')")
        try DirectoryAttacker(root: fixture.vault.root).sql(
            """
            INSERT INTO token_hashes (hash, principal_id, created_at, expires_at, revoked_at, token_id)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            arguments: [
                row["hash"], row["principal_id"], row["created_at"], row["expires_at"], row["revoked_at"],
                row["token_id"],
            ])
        await expectRefused(naming: "token_hashes") { try await fixture.access.authenticate(token: other.adminToken) }
    }

    @Test func tokenRowRestoredFromBeforeItsRevocationIsRefused() async throws {
        let fixture = try await AccessFixture()
        let (_, issued) = try await fixture.session("alice", RoleBinding(role: .admin))
        let attacker = DirectoryAttacker(root: fixture.vault.root)
        let saved = try attacker.row("SELECT * FROM token_hashes WHERE token_id = ?", arguments: [issued.info.id])
        try await fixture.admin.revokeToken(id: issued.info.id)
        try attacker.sql(
            "UPDATE token_hashes SET revoked_at = ? WHERE token_id = ?",
            arguments: [saved["revoked_at"], issued.info.id])
        await expectRefused(naming: "token_hashes") { try await fixture.access.authenticate(token: issued.token) }
        await expectRefused(naming: "token_hashes") { try fixture.access.caller(presenting: issued.token) }
    }

    @Test func deletedBindingRowsAreRefused() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.session("auditor", RoleBinding(role: .complianceOfficer))
        try DirectoryAttacker(root: fixture.vault.root).sql(
            "DELETE FROM role_bindings WHERE principal_id = (SELECT id FROM principals WHERE name = 'auditor')")
        await expectRefused(naming: "role_bindings") { try await fixture.admin.principals() }
    }

    @Test func removedBindingRestoredIsRefused() async throws {
        let fixture = try await AccessFixture()
        let (_, issued) = try await fixture.session("bob", RoleBinding(role: .admin))
        let attacker = DirectoryAttacker(root: fixture.vault.root)
        let saved = try attacker.row(
            "SELECT * FROM role_bindings WHERE principal_id = (SELECT id FROM principals WHERE name = 'bob')")
        try await fixture.admin.revoke(RoleBinding(role: .admin), from: "bob")
        try attacker.sql(
            "INSERT INTO role_bindings (principal_id, role, scope) VALUES (?, ?, ?)",
            arguments: [saved["principal_id"], saved["role"], saved["scope"]])
        await expectRefused(naming: "role_bindings") { try await fixture.access.authenticate(token: issued.token) }
    }

    // MARK: Models, aliases and datasets

    @Test func aliasRollbackBySQLIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        for byte in [UInt8(1), 2] { _ = try await vault.pushModel("m", from: .files(["w": Data([byte])])) }
        try await vault.setAlias("production", to: ModelReference(parsing: "m@2"))
        try DirectoryAttacker(root: vault.root).sql(
            "UPDATE aliases SET version_id = (SELECT id FROM model_versions WHERE version = 1) WHERE alias = 'production'"
        )
        await expectRefused(naming: "aliases") { try await vault.loadModel(ModelReference(parsing: "m:production")) }
    }

    @Test func oldAliasRowRestoredIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        for byte in [UInt8(1), 2] { _ = try await vault.pushModel("m", from: .files(["w": Data([byte])])) }
        try await vault.setAlias("production", to: ModelReference(parsing: "m@1"))
        let attacker = DirectoryAttacker(root: vault.root)
        let saved = try attacker.row("SELECT * FROM aliases WHERE alias = 'production'")
        try await vault.setAlias("production", to: ModelReference(parsing: "m@2"))
        try attacker.sql(
            "UPDATE aliases SET version_id = ?, updated_at = ?, updated_by = ? WHERE alias = 'production'",
            arguments: [saved["version_id"], saved["updated_at"], saved["updated_by"]])
        await expectRefused(naming: "aliases") { try await vault.loadModel(ModelReference(parsing: "m:production")) }
    }

    /// The compliance report's "last verification" column: a row claiming a check that never ran.
    @Test func forgedVerificationRecordIsRefused() async throws {
        let fixture = try await AccessFixture()
        try DirectoryAttacker(root: fixture.vault.root).sql(
            """
            INSERT INTO verifications (model, version, verified_at, ok, verified_by)
            VALUES ('m', 1, '2026-01-01T00:00:00Z', 1, 'admin')
            """)
        await expectRefused(naming: "verifications") { try await fixture.admin.complianceReport() }
    }

    /// A vault made before `verifications` was authenticated: its records (unsealed) are dropped by the migration
    /// at the next open, and the vault opens clean.
    @Test func verificationRecordsFromBeforeTheyWereAuthenticatedAreDropped() async throws {
        let directory = try TemporaryDirectory()
        _ = try TestVault.create(in: directory)
        try DirectoryAttacker(root: directory.url.appending(path: "vault")).sql(
            """
            INSERT INTO verifications (model, version, verified_at, ok, verified_by)
            VALUES ('m', 1, '2026-01-01T00:00:00Z', 1, 'admin');
            DELETE FROM grdb_migrations WHERE identifier = 'v4-authenticated-verifications';
            """)
        let vault = try TestVault.open(in: directory)
        #expect(try await vault.checkState().isEmpty)
        let catalog = await vault.catalog
        let count = try catalog.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM verifications") }
        #expect(count == 0)
    }

    @Test func swappedVersionRowsAreRefused() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        for byte in [UInt8(1), 2] { _ = try await vault.pushModel("m", from: .files(["w": Data([byte])])) }
        // Version numbers exchanged: `m@1` would now serve what was pushed as version 2.
        try DirectoryAttacker(root: vault.root).sql(
            """
            UPDATE model_versions SET version = -version;
            UPDATE model_versions SET version = CASE version WHEN -1 THEN 2 ELSE 1 END;
            """)
        await expectRefused(naming: "model_versions") { try await vault.loadModel(ModelReference(parsing: "m@1")) }
        await expectRefused(naming: "model_versions") { try await vault.models() }
    }

    @Test func poisonedDatasetIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        _ = try await vault.addDataset("d", contents: ["train.csv": Data("x,y\n1,0\n2,1\n".utf8)])
        let attacker = DirectoryAttacker(root: vault.root)
        // Labels flipped, re-encrypted to the public recipient, catalog digests updated to match.
        let poisoned = Data("x,y\n1,1\n2,0\n".utf8)
        let blob: String = try attacker.row("SELECT blob_path FROM dataset_files")["blob_path"]
        try FakeCipherSuite().encrypt(poisoned, to: [try attacker.recipient()])
            .write(to: vault.root.appending(path: blob))
        let digest = FileDigest(of: poisoned).hex
        try attacker.sql(
            "UPDATE dataset_files SET sha256 = ?, size = ?", arguments: [digest, poisoned.count])
        try attacker.sql(
            "UPDATE dataset_versions SET digest = ?",
            arguments: [Vault.datasetDigest([("train.csv", digest)])])
        await expectRefused(naming: "dataset_") { try await vault.readDataset(DatasetReference(parsing: "d@1")) }
    }

    @Test func replacedDatasetManifestIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        _ = try await vault.addDataset("d", contents: ["train.csv": Data("x,y\n1,0\n".utf8)])
        // The catalog is left alone; the attacker rewrites the manifest beside the files.
        let manifest = vault.root.appending(path: "data/raw/d/1/manifest.json")
        var fields = (try? JSONSerialization.jsonObject(with: Data(contentsOf: manifest))) as? [String: Any] ?? [:]
        fields["createdBy"] = "dana"
        try JSONSerialization.data(withJSONObject: fields).write(to: manifest)
        await expectVaultError(.signatureInvalid) { try await vault.readDataset(DatasetReference(parsing: "d@1")) }
        let output = directory.url.appending(path: "out")
        await expectVaultError(.signatureInvalid) {
            try await vault.getDataset(DatasetReference(parsing: "d@1"), to: output)
        }
        #expect(!FileManager.default.fileExists(atPath: output.path(percentEncoded: false)))
    }

    // MARK: Whole-catalog rollback

    /// A vault whose catalog was put back, closed, to a consistent copy (state root included) taken while alice's
    /// admin token was still valid; the token has since been revoked.
    private func vaultWithACatalogRestoredFromBeforeARevocation() async throws -> AccessFixture {
        let fixture = try await AccessFixture()
        let (_, issued) = try await fixture.session("alice", RoleBinding(role: .admin))
        let attacker = DirectoryAttacker(root: fixture.vault.root)
        let copy = fixture.directory.url.appending(path: "catalog-copy.sqlite")
        try attacker.backup(to: copy)
        try await fixture.admin.revokeToken(id: issued.info.id)
        try await fixture.access.close()
        try attacker.restore(from: copy)
        return fixture
    }

    @Test func catalogRestoredFromAnEarlierCopyIsRefusedAgainstTheLog() async throws {
        let fixture = try await vaultWithACatalogRestoredFromBeforeARevocation()
        // The restored catalog is self-consistent, so the vault opens; the log it recorded states in refuses it.
        let reopened = try TestVault.open(in: fixture.directory)
        await expectRefused(naming: "catalog.sqlite") { try await VaultAccess.open(reopened) }
    }

    /// Review 6 (2026-12-04): the same rollback, with the newest `state.commit` record reworded (`state.comm1t`) under
    /// the leaf hash stored beside it. The log's catch-up reads only stored hashes for records a checkpoint covers, so
    /// the log opened, the state check read the reworded text, found an older state and let the revoked token in.
    @Test func aStateRecordRewordedUnderItsStoredHashCannotHideTheRollback() async throws {
        let fixture = try await vaultWithACatalogRestoredFromBeforeARevocation()
        let url = fixture.auditDirectory.appending(path: "entries.jsonl")
        var lines = String(decoding: try Data(contentsOf: url), as: UTF8.self).components(separatedBy: "\n")
        let newest = try #require(lines.lastIndex { $0.contains(#""action":"state.commit""#) })
        lines[newest] = lines[newest].replacingOccurrences(of: "state.commit", with: "state.comm1t")
        try Data(lines.joined(separator: "\n").utf8).write(to: url)
        let reopened = try TestVault.open(in: fixture.directory)
        // It opens for `audit verify` alone: every other operation, the revoked token's included, is refused.
        let access = try await VaultAccess.open(reopened)
        await expectRefused(naming: "audit log cannot be opened") {
            try await access.authenticate(token: fixture.adminToken).models()
        }
        let report = try await access.authenticate(token: fixture.adminToken).verifyAuditLog()
        #expect(!report.isValid)
    }

    /// The same rollback, with the audit log's entries deleted too, so that no logged state is left to compare with.
    @Test func catalogRestoredWithTheAuditLogDeletedIsRefused() async throws {
        let fixture = try await vaultWithACatalogRestoredFromBeforeARevocation()
        for name in ["entries.jsonl", "checkpoints.log"] {
            try FileManager.default.removeItem(at: fixture.auditDirectory.appending(path: name))
        }
        let reopened = try TestVault.open(in: fixture.directory)
        await expectRefused(naming: "audit/") { try await VaultAccess.open(reopened) }
    }

    /// The whole vault directory put back to an earlier copy, catalog and audit log together: every signature and
    /// every logged state in it agree, so only a mark kept outside the directory shows the rollback.
    @Test func wholeVaultRestoredFromAnEarlierCopyIsRefusedAgainstTheHighWaterMark() async throws {
        let directory = try TemporaryDirectory()
        let mark = HighWaterMark(directory: directory.url.appending(path: "host-state"))
        let vault = try TestVault.create(in: directory)
        let first = try await VaultAccess.open(vault, highWaterMark: mark)
        let token = try await first.bootstrap().token
        try await first.close()
        let copy = directory.url.appending(path: "vault-copy")
        try FileManager.default.copyItem(at: vault.root, to: copy)

        // Later: a principal is given a binding (a new catalog state, logged and signed).
        let second = try await VaultAccess.open(try TestVault.open(in: directory), highWaterMark: mark)
        let admin = try await second.authenticate(token: token)
        try await admin.addPrincipal("bob", binding: RoleBinding(role: .dataScientist))
        try await second.close()

        // The attacker restores the earlier copy of the whole directory.
        try FileManager.default.removeItem(at: vault.root)
        try FileManager.default.moveItem(at: copy, to: vault.root)
        let reopened = try TestVault.open(in: directory)
        await expectRefused(naming: "high-water mark") { try await VaultAccess.open(reopened, highWaterMark: mark) }
    }

    /// On a host with no high-water mark of the vault, a witness that cosigned a newer checkpoint refuses the
    /// restored copy: the vault asks it at open whether it holds a larger tree, and nothing opens.
    @Test func wholeVaultRestoredWhileAWitnessHoldsANewerCheckpointIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let first = try await VaultAccess.open(vault)
        let token = try await first.bootstrap().token
        let witness = try Witness(
            signer: try CosignatureSigner(name: "witness.test", key: Curve25519.Signing.PrivateKey()),
            logs: [first.verifier], stateFile: directory.url.appending(path: "witness-state.json"))
        let connector: WitnessConnector = { _ in witness }
        _ = try await first.authenticate(token: token).addWitness(
            try VaultWitness(url: "https://witness.test", key: witness.signer.verifier.vkey))
        try await first.close()
        // The witness learns the head at the next open and at its close.
        let second = try await VaultAccess.open(try TestVault.open(in: directory), witnessConnector: connector)
        _ = try await second.authenticate(token: token).principals()
        try await second.close()
        let copy = directory.url.appending(path: "vault-copy")
        try FileManager.default.copyItem(at: vault.root, to: copy)

        let third = try await VaultAccess.open(try TestVault.open(in: directory), witnessConnector: connector)
        try await third.authenticate(token: token).addPrincipal("bob", binding: RoleBinding(role: .dataScientist))
        try await third.close()
        let cosigned = try #require(await witness.latest(origin: first.verifier.name))

        try FileManager.default.removeItem(at: vault.root)
        try FileManager.default.moveItem(at: copy, to: vault.root)
        let reopened = try TestVault.open(in: directory)
        await expectRefused(naming: "witness witness.test holds a checkpoint of size \(cosigned.size)") {
            try await VaultAccess.open(reopened, witnessConnector: connector)
        }
    }

    /// Only `audit/` put back to an earlier copy (no catalog change since): the log is shorter than the host saw.
    @Test func auditLogRestoredAloneIsRefusedAgainstTheHighWaterMark() async throws {
        let directory = try TemporaryDirectory()
        let mark = HighWaterMark(directory: directory.url.appending(path: "host-state"))
        let vault = try TestVault.create(in: directory)
        let first = try await VaultAccess.open(vault, highWaterMark: mark)
        let token = try await first.bootstrap().token
        try await first.close()
        let audit = vault.root.appending(path: "audit")
        let copy = directory.url.appending(path: "audit-copy")
        try FileManager.default.copyItem(at: audit, to: copy)
        // Later: reads only (audited, no catalog state change).
        let second = try await VaultAccess.open(try TestVault.open(in: directory), highWaterMark: mark)
        let admin = try await second.authenticate(token: token)
        _ = try await admin.principals()
        try await second.close()

        try FileManager.default.removeItem(at: audit)
        try FileManager.default.moveItem(at: copy, to: audit)
        let reopened = try TestVault.open(in: directory)
        await expectRefused(naming: "high-water mark") { try await VaultAccess.open(reopened, highWaterMark: mark) }
    }

    /// A mark file the attacker wrote (or edited to a lower state) does not verify under the vault's root.
    @Test func aForgedHighWaterMarkIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let mark = HighWaterMark(directory: directory.url.appending(path: "host-state"))
        let vault = try TestVault.create(in: directory)
        let first = try await VaultAccess.open(vault, highWaterMark: mark)
        _ = try await first.bootstrap()
        try await first.close()
        let files = try FileManager.default.contentsOfDirectory(at: mark.directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "mark" }
        let file = try #require(files.first)
        let text = try String(contentsOf: file, encoding: .utf8)
        try Data(text.replacingOccurrences(of: "sequence=", with: "sequence=0").utf8).write(to: file)
        let reopened = try TestVault.open(in: directory)
        await expectRefused(naming: "high-water mark does not verify") {
            try await VaultAccess.open(reopened, highWaterMark: mark)
        }
    }

    // MARK: vault check

    @Test func vaultCheckListsEveryBadRecord() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.session("auditor", RoleBinding(role: .complianceOfficer))
        let minted = APIToken.generate()
        let attacker = DirectoryAttacker(root: fixture.vault.root)
        try attacker.sql(
            """
            INSERT INTO token_hashes (hash, principal_id, created_at, token_id)
            VALUES (?, (SELECT id FROM principals WHERE name = 'admin'), '2026-01-01T00:00:00Z', ?)
            """, arguments: [minted.hash.hex, minted.hash.id])
        try attacker.sql(
            "DELETE FROM role_bindings WHERE principal_id = (SELECT id FROM principals WHERE name = 'auditor')")
        let problems = try await fixture.vault.checkState()
        #expect(problems.count == 2, "\(problems)")
        #expect(problems.contains { $0.contains("token_hashes") && $0.contains(minted.hash.id) })
        #expect(problems.contains { $0.contains("role_bindings") })
    }

    @Test func untouchedVaultChecksClean() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.session("auditor", RoleBinding(role: .complianceOfficer))
        _ = try await fixture.vault.pushModel("m", from: .files(["w": Data([1])]))
        #expect(try await fixture.vault.checkState().isEmpty)
    }
}

/// Rotation that recovers from a compromised signing key (issue 13): `keys rotate --reencrypt` makes a new one.
@Suite struct SigningKeyRotationTests {
    @Test func reencryptingRotationReplacesTheSigningKeyAndResignsEverything() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        _ = try await vault.pushModel("m", from: .files(["w": Data([1])]))
        _ = try await vault.addDataset("d", contents: ["train.csv": Data("x,y\n1,0\n".utf8)])
        let oldKey = vault.signingPublicKey
        _ = try await vault.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, workFactor: 10, stopAfter: nil, context: .local)

        let reopened = try TestVault.open(in: directory)
        #expect(reopened.signingPublicKey != oldKey)
        _ = try await reopened.verifyModel(ModelReference(parsing: "m@1"))
        _ = try await reopened.readDataset(DatasetReference(parsing: "d@1"))
        #expect(try await reopened.model(ModelReference(parsing: "m@1")).signer == reopened.signerFingerprint)
        let problems = try await reopened.checkState()
        #expect(problems.isEmpty, "\(problems)")
        let pub = try VerificationKey(
            parsing: try String(contentsOf: reopened.root.appending(path: "signing-key.pub"), encoding: .utf8))
        #expect(pub.keyVersion == 2 && pub.publicKeyPEM == reopened.signingPublicKey)

        // The old signature stays as history, verifiable with the old key (pinned as history)...
        let version = reopened.root.appending(path: "models/encrypted/m/1")
        let history = try Data(contentsOf: version.appending(path: "model.sig.v1"))
        #expect(throws: Never.self) { _ = try FakeManifestSigner().verify(history, publicKeyPEM: oldKey) }
        // ...but a signature made with the old, possibly compromised key is no longer accepted.
        try history.write(to: version.appending(path: "model.sig"))
        await expectVaultError(.signatureInvalid) { try await reopened.verifyModel(ModelReference(parsing: "m@1")) }
    }

    /// Issue 13, item 6: a rotation after compromise must not keep the audit key the compromised identity could read.
    /// (The attacks on the handover are in `AuditKeyRotationAttackTests`.)
    @Test func reencryptingRotationReplacesTheAuditKey() async throws {
        let fixture = try await AccessFixture()
        let before = try AuditVerifierKey.read(vaultAt: fixture.vault.root)
        _ = try await fixture.admin.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, keepingPassphrase: true)
        try await fixture.access.close()
        let reopened = try await VaultAccess.open(try TestVault.open(in: fixture.directory))
        #expect(reopened.verifier.publicKey.rawRepresentation != before.publicKey.rawRepresentation)
        #expect(reopened.verifier.name == before.name)
        try await reopened.close()
    }

    @Test func theRotationAndTheNewSigningKeyAreRecordedInTheLog() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.admin.pushModel("m", from: .files(["w": Data([1])]))
        let report = try await fixture.admin.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, keepingPassphrase: true)
        let entries = try AuditLogReader(directory: fixture.auditDirectory).entries().map(\.entry)
        let fingerprint = await fixture.vault.currentSignerFingerprint()
        #expect(
            entries.contains {
                $0.action == "keys.rotate" && $0.resource == "keys:v\(report.keyVersion)"
                    && ($0.detail ?? "").contains("signing key replaced, fingerprint \(fingerprint)")
            })
        #expect(entries.contains { $0.action == "state.commit" })
    }
}

/// Review of 2026-12-04, round 4: when the vault could not open its audit log (a record it did not write, a
/// checkpoint carrying a signature from an unknown key), `audit verify` fell back to the standalone check, which holds
/// no seal key, trusts the writers' lock and skips signature lines from unknown keys, and printed "verified" on a
/// log cut back below the host's mark or holding a forged record: the command every refusal sends the operator to.
@Suite struct AuditVerifyFallbackAttackTests {
    @Test func aLogTheVaultCannotOpenIsNeverReportedSound() async throws {
        let fixture = try await AccessFixture()
        try await fixture.access.close()
        // A hand-made record, no seal, after the last checkpoint; the attacker holds a shared lock on the writers'
        // marker so the verifier believes a writer is still open.
        let audit = fixture.vault.root.appending(path: "audit")
        let count = try AuditLogReader(directory: audit).records().count
        let forged = AuditRecord(
            index: UInt64(count),
            entryJSON: try AuditEntry(
                principal: "admin", action: "model.delete", resource: "model:evil", outcome: .allowed,
                requestID: "forged"
            ).canonicalJSON())
        let entries = try FileHandle(forWritingTo: audit.appending(path: "entries.jsonl"))
        try entries.seekToEnd()
        try entries.write(contentsOf: forged.line)
        try entries.close()
        let lock = open(audit.appending(path: "writers.lock").path, O_RDONLY)
        #expect(lock >= 0)
        defer { close(lock) }
        #expect(flock(lock, LOCK_SH) == 0)
        let reopened = try await VaultAccess.open(try TestVault.open(in: fixture.directory))
        let report = try await reopened.authenticate(token: fixture.adminToken).verifyAuditLog()
        #expect(!report.isValid, "\(report.summary)")
        #expect(report.problems.contains { $0.kind == .unopenable })
    }
}
