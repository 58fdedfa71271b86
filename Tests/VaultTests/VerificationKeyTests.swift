import Foundation
import TestSupport
import Testing

@testable import Vault

/// `signing-key.pub`: the public verification key's own file format, and the manifests' schema version.
@Suite struct VerificationKeyTests {
    @Test func aNewVaultWritesItsVerificationKeyFile() throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let text = try String(contentsOf: vault.root.appending(path: "signing-key.pub"), encoding: .utf8)
        let key = try VerificationKey(parsing: text)
        #expect(key == vault.verificationKey)
        #expect(key.publicKeyPEM == vault.signingPublicKey.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(key.fingerprint == vault.signerFingerprint)
        #expect(text.hasPrefix("modelvault verification key v1\nkey-version: 1\nalgorithm: ecdsa-p256-sha256\n"))
    }

    @Test func aFingerprintThatIsNotTheKeysIsRefused() throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let text = vault.verificationKey.encoded().replacingOccurrences(
            of: "fingerprint: \(vault.signerFingerprint)", with: "fingerprint: \(String(repeating: "0", count: 64))")
        #expect(throws: VaultError.self) { try VerificationKey(parsing: text) }
        #expect(throws: VaultError.self) { try VerificationKey(parsing: "not a key\n") }
    }

    @Test func manifestsCarryASchemaVersionAndRoomForLaterFields() throws {
        var manifest = VersionManifest(
            model: "m", version: 1, createdAt: "2026-01-01T00:00:00Z", createdBy: "admin", source: "push", files: [],
            lineage: [], metrics: nil, publisher: nil)
        manifest.extensions = ["scan": .object(["verdict": .string("clean")])]
        let decoded = try JSONDecoder().decode(VersionManifest.self, from: try manifest.encoded())
        #expect(decoded == manifest)
        #expect(decoded.format == VersionManifest.currentFormat)
    }
}
