import AccessControl
import AuditLog
import Foundation
import GRDB
import TestSupport
import Testing

@testable import Vault

struct AccessTokenTests {
    @Test func wrongExpiredAndRevokedTokensAreRefusedAndAudited() async throws {
        let fixture = try await AccessFixture()
        try await fixture.admin.addPrincipal("alice", binding: RoleBinding(role: .dataScientist))

        // Wrong: well formed but unknown, and malformed.
        let unknown = APIToken.generate().token
        await #expect(throws: AccessControlError.invalidToken) { try await fixture.access.authenticate(token: unknown) }
        #expect(try fixture.lastEntry().principal == "anonymous")
        #expect(try fixture.lastEntry().outcome == .denied)
        await #expect(throws: AccessControlError.invalidToken) {
            try await fixture.access.authenticate(token: "not-a-token")
        }
        // A real token with one character changed.
        var altered = Array(fixture.adminToken)
        altered[10] = altered[10] == "A" ? "B" : "A"
        await #expect(throws: AccessControlError.invalidToken) {
            try await fixture.access.authenticate(token: String(altered))
        }

        // Expired.
        let expiring = try await fixture.admin.createToken(for: "alice", lifetime: 3600)
        _ = try await fixture.access.authenticate(token: expiring.token)
        try await fixture.vault.catalog.write { db in
            try db.execute(
                sql: "UPDATE token_hashes SET expires_at = ? WHERE token_id = ?",
                arguments: [AccessTime.format(Date().addingTimeInterval(-1)), expiring.info.id])
        }
        await #expect(throws: AccessControlError.expiredToken) {
            try await fixture.access.authenticate(token: expiring.token)
        }
        #expect(try fixture.lastEntry().principal == "alice")
        #expect(try fixture.lastEntry().outcome == .denied)

        // Revoked (by its owner), and a removed principal's token.
        let own = try await fixture.admin.createToken(for: "alice")
        let alice = try await fixture.access.authenticate(token: own.token)
        try await alice.revokeToken(id: own.info.id)
        await #expect(throws: AccessControlError.revokedToken) {
            try await fixture.access.authenticate(token: own.token)
        }
        let second = try await fixture.admin.createToken(for: "alice")
        try await fixture.admin.removePrincipal("alice")
        await #expect(throws: AccessControlError.revokedToken) {
            try await fixture.access.authenticate(token: second.token)
        }
        #expect(try await fixture.admin.tokens().filter { $0.principal == "alice" }.allSatisfy { $0.state != "active" })
        #expect(try await fixture.admin.verifyAuditLog().isValid)
    }

    @Test func noTokenIsStoredAnywhereInTheVault() async throws {
        let fixture = try await AccessFixture()
        try await fixture.admin.addPrincipal("svc", kind: .service, binding: RoleBinding(role: .mlEngineer))
        let issued = try await fixture.admin.createToken(for: "svc", lifetime: 86_400)
        let svc = try await fixture.access.authenticate(token: issued.token)
        _ = try await svc.models()
        await #expect(throws: AccessControlError.self) { try await svc.keyVersions() }
        _ = try? await fixture.access.authenticate(token: issued.token + "x")
        try await fixture.access.close()

        for token in [fixture.adminToken, issued.token] {
            #expect(fixture.everyFileContains(token).isEmpty)
            // Not even the base64 body without the prefix.
            #expect(fixture.everyFileContains(String(token.dropFirst(APIToken.prefix.count))).isEmpty)
        }
        let export = try AuditLogReader(directory: fixture.auditDirectory).export(.jsonl, coveredBy: nil)
        #expect(!export.isEmpty)
        #expect(export.range(of: Data(issued.token.utf8)) == nil)
        // Listings carry ids, never tokens or hashes.
        let reopened = try await VaultAccess.open(fixture.vault)
        let admin = try await reopened.authenticate(token: fixture.adminToken)
        let listed = try JSONEncoder().encode(try await admin.tokens())
        #expect(String(decoding: listed, as: UTF8.self).contains(issued.info.id))
        #expect(!String(decoding: listed, as: UTF8.self).contains(APIToken.hash(issued.token).hex))
    }

    @Test func auditKeyIsEncryptedAndSurvivesRotationAndReopen() async throws {
        let fixture = try await AccessFixture()
        let verifier = fixture.access.verifier
        _ = try await fixture.admin.rotateKeys(passphrase: TestVault.passphrase)
        try await fixture.access.close()
        let reopened = try TestVault.open(in: fixture.directory)
        let access = try await VaultAccess.open(reopened)
        #expect(access.verifier == verifier)
        #expect(try AuditVerifierKey.read(vaultAt: reopened.root) == verifier)
        let session = try await access.authenticate(token: fixture.adminToken)
        #expect(try await session.verifyAuditLog().isValid)
    }

    @Test func theAuditKeyIsMadeAndPinnedAtCreationAndNeverRegenerated() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        #expect(FileManager.default.fileExists(atPath: vault.root.appending(path: "keys/audit.age").path))
        let access = try await VaultAccess.open(vault)
        #expect(try !access.hasPrincipals())
        _ = try await access.bootstrap()
        try await access.close()
        try FileManager.default.removeItem(at: vault.root.appending(path: "keys/audit.age"))
        await expectVaultError(.tampered) { try await VaultAccess.open(vault) }
    }
}
