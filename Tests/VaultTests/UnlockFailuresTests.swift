import AuditLog
import Foundation
import TestSupport
import Testing

@testable import Vault

/// Failed unlocks are kept unauthenticated until the next successful open signs them into the audit log.
@Suite struct UnlockFailuresTests {
    @Test func aWrongPassphraseIsRecordedThenFoldedIntoTheSignedLog() async throws {
        let fixture = try await AccessFixture()
        try await fixture.access.close()
        await expectVaultError(.wrongPassphrase) {
            try TestVault.open(in: fixture.directory, unlock: .passphrase("hunter2"))
        }
        let pending = fixture.auditDirectory.appending(path: "unlock-failures.log")
        let text = try String(contentsOf: pending, encoding: .utf8)
        #expect(text.contains("wrong-passphrase"))
        #expect(!text.contains("hunter2"))

        let access = try await VaultAccess.open(try TestVault.open(in: fixture.directory))
        let entries = try AuditLogReader(directory: fixture.auditDirectory).entries().map(\.entry)
        #expect(
            entries.contains {
                $0.action == "vault.unlock" && $0.outcome == .denied && ($0.detail ?? "").contains("wrong-passphrase")
            })
        #expect(!FileManager.default.fileExists(atPath: pending.path(percentEncoded: false)))
        try await access.close()
    }
}
