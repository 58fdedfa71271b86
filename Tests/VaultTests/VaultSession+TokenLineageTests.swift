import AccessControl
import AuditLog
import Foundation
import GRDB
import TestSupport
import Testing

@testable import Vault

/// Defects 4 and 5 of issue #15: admins locked out for good, and self-issued tokens escaping expiry and
/// revocation.
@Suite struct VaultSessionTokenLineageTests {
    /// Defect 4: a security engineer (`token.revoke`) could revoke every admin token, and nothing brought an
    /// admin back. Revoking the last usable token of the last global admin is refused, like removing the admin.
    @Test func revokingTheLastAdminsLastTokenIsRefused() async throws {
        let fixture = try await AccessFixture()
        let (security, _) = try await fixture.session("sam", RoleBinding(role: .securityEngineer))
        let adminTokens = try await fixture.admin.tokens().filter { $0.principal == "admin" }
        #expect(adminTokens.count == 1)
        await #expect(throws: VaultError.self) { try await security.revokeToken(id: adminTokens[0].id) }
        await #expect(throws: VaultError.self) { try await fixture.admin.revokeToken(id: adminTokens[0].id) }
        _ = try await fixture.access.authenticate(token: fixture.adminToken)
        // A second token made from the first dies with it, so it does not count as a way back in.
        let spare = try await fixture.admin.createToken(for: "admin")
        await #expect(throws: VaultError.self) { try await security.revokeToken(id: adminTokens[0].id) }
        // With a second admin holding a token of its own, the first admin's token may go.
        try await fixture.admin.addPrincipal("root2", binding: RoleBinding(role: .admin))
        _ = try await fixture.admin.createToken(for: "root2")
        try await security.revokeToken(id: adminTokens[0].id)
        await #expect(throws: AccessControlError.revokedToken) {
            try await fixture.access.authenticate(token: spare.token)
        }
        await #expect(throws: AccessControlError.revokedToken) {
            try await fixture.access.authenticate(token: fixture.adminToken)
        }
    }

    /// Defect 4, the way back: whoever holds the unlocking secret (here: the open vault) mints an admin token,
    /// with an expiry, and the audit log records it as break-glass.
    @Test func breakGlassMintsAnExpiringAuditedAdminToken() async throws {
        let fixture = try await AccessFixture()
        // Lock every admin out the hard way (bypassing the guard, as a damaged catalog might).
        try await fixture.vault.catalog.write { db in
            try db.execute(sql: "UPDATE token_hashes SET revoked_at = ?", arguments: [AccessTime.format(Date())])
        }
        await #expect(throws: AccessControlError.revokedToken) {
            try await fixture.access.authenticate(token: fixture.adminToken)
        }
        let issued = try await fixture.access.breakGlass(admin: "admin", lifetime: 3600)
        let expiry = try #require(issued.info.expiresAt.flatMap(AccessTime.parse))
        #expect(expiry <= Date().addingTimeInterval(3601))
        let session = try await fixture.access.authenticate(token: issued.token)
        #expect(session.caller.bindings.contains(RoleBinding(role: .admin)))
        let entries = try AuditLogReader(directory: fixture.auditDirectory).tail(5).map(\.entry)
        #expect(entries.contains { $0.action == "user.break-glass" && $0.resource == "principal:admin" })
        // No expiry, or one past the cap, is refused: a break-glass token is temporary by construction.
        await #expect(throws: VaultError.self) { try await fixture.access.breakGlass(admin: "admin", lifetime: 0) }
        await #expect(throws: VaultError.self) {
            try await fixture.access.breakGlass(admin: "admin", lifetime: 30 * 86_400)
        }
    }

    /// Defect 5: `token create` for oneself with an expiring token issued a token that never expired and survived
    /// the revocation of the token that created it.
    @Test func aSelfIssuedTokenNeitherOutlivesNorSurvivesItsParent() async throws {
        let fixture = try await AccessFixture()
        try await fixture.admin.addPrincipal("dana", binding: RoleBinding(role: .dataScientist))
        let parent = try await fixture.admin.createToken(for: "dana", lifetime: 3600)
        let dana = try await fixture.access.authenticate(token: parent.token)
        let child = try await dana.createToken(for: "dana")  // asks for no expiry
        let parentExpiry = try #require(parent.info.expiresAt.flatMap(AccessTime.parse))
        let childExpiry = try #require(child.info.expiresAt.flatMap(AccessTime.parse), "the child never expires")
        #expect(childExpiry <= parentExpiry)
        let longer = try await dana.createToken(for: "dana", lifetime: 30 * 86_400)
        #expect(try #require(longer.info.expiresAt.flatMap(AccessTime.parse)) <= parentExpiry)
        // A grandchild, then revoke the parent: the whole line dies with it.
        let childSession = try await fixture.access.authenticate(token: child.token)
        let grandchild = try await childSession.createToken(for: "dana")
        try await fixture.admin.revokeToken(id: parent.info.id)
        for token in [child.token, grandchild.token, longer.token] {
            await #expect(throws: AccessControlError.revokedToken) {
                try await fixture.access.authenticate(token: token)
            }
        }
    }
}
