import AccessControl
import Testing

@testable import Vault

@Suite struct VaultSessionKeysTests {
    /// The master identity decrypts everything; a security engineer (no `data.get`, no `model.pull`) must not be
    /// able to export it, only an admin.
    @Test func onlyAnAdminMayExportTheMasterIdentity() async throws {
        let fixture = try await AccessFixture()
        let (security, _) = try await fixture.session("sec", RoleBinding(role: .securityEngineer))
        await #expect(throws: AccessControlError.denied(.keysExportIdentity, on: .global)) {
            _ = try await security.identityFile()
        }
        #expect(try fixture.lastEntry().outcome == .denied)
        let exported = try await fixture.admin.identityFile()
        #expect(exported.contains("AGE-SECRET-KEY-") || exported.contains(FakeCipherSuite.identityPrefix))
    }

    /// The security engineer's README workflow retires Fernet key files with `model import-fernet`.
    @Test func aSecurityEngineerMayImportALegacyModel() {
        #expect(PermissionMatrix.allows(.securityEngineer, .modelImport))
    }
}
