import AccessControl
import Foundation
import GRDB
import TestSupport
import Testing

@testable import Vault

/// Review 3: the rollback checks (catalog against the log, the whole vault against the host's high-water mark) run
/// once, in `VaultAccess.open`. A server keeps its `VaultAccess` open for days; an attacker with write access to the
/// vault directory and no key puts an earlier, self-consistent copy of `catalog.sqlite` back under it (through
/// SQLite's own backup API, so every open connection sees it) and nothing compares the catalog with the newer state
/// the process itself sealed, logged and marked.
@Suite struct VaultAccessLiveRollbackAttackTests {
    @Test func catalogRolledBackUnderARunningServerRevivesARevokedToken() async throws {
        let directory = try TemporaryDirectory()
        let mark = HighWaterMark(directory: directory.url.appending(path: "host-state"))
        let vault = try TestVault.create(in: directory)
        // Opened as `modelvault serve` opens it: a long-lived access with the host's high-water mark.
        let server = try await VaultAccess.open(vault, checkpointInterval: 256, highWaterMark: mark)
        let admin = try await server.authenticate(token: try await server.bootstrap().token)
        try await admin.addPrincipal("mallory", binding: RoleBinding(role: .admin))
        let stolen = try await admin.createToken(for: "mallory")

        // The attacker saves the catalog while mallory's token is still valid ...
        let attacker = DirectoryAttacker(root: vault.root)
        let copy = directory.url.appending(path: "catalog-copy.sqlite")
        try attacker.backup(to: copy)
        // ... the admin revokes it (a new sealed state, logged and raised in the high-water mark) ...
        try await admin.revokeToken(id: stolen.info.id)
        var refusedAfterRevocation = false
        do { _ = try await server.authenticate(token: stolen.token) } catch { refusedAfterRevocation = true }
        #expect(refusedAfterRevocation, "the revocation did not take effect")

        // ... and the attacker puts the older catalog back while the server runs.
        try attacker.restore(from: copy)
        do {
            let session = try await server.authenticate(token: stolen.token)
            Issue.record(
                """
                the running server accepted a catalog older than the state it sealed: the revoked token of \
                \(session.caller.principal) authenticates again
                """)
        } catch let error as VaultError {
            #expect(error.code == .tampered, "\(error.description)")
        } catch {
            Issue.record("refused for another reason than the rollback: \(error)")
        }
    }
}
