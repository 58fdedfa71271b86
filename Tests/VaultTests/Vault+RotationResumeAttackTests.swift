import Crypto
import Foundation
import TestSupport
import Testing
import VaultCrypto

@testable import Vault

/// The review of the re-encrypt window fix (F2): what an attacker who holds the old identity, and can write the vault
/// directory, could still do to a `keys rotate --reencrypt` that stopped or that met state left by another operation.
@Suite struct ReencryptResumeAttackTests {
    static let newPassphrase = ReencryptNewPassphraseAttackTests.newPassphrase

    enum RootFileTampering: CaseIterable, Sendable { case deleted, replaced }

    /// A crash before the rotation retired the old root's high-water mark, then the old root file deleted or replaced
    /// (with a root the old identity seals): the resume used to read the marks to retire from that file, so it retired
    /// none (or another root's) and the pre-rotation copy still opened on the rotating host.
    @Test(arguments: RootFileTampering.allCases)
    func aResumeRetiresTheOldRootsMarkWhateverBecameOfItsFile(_ tampering: RootFileTampering) async throws {
        let directory = try TemporaryDirectory()
        let mark = HighWaterMark(directory: directory.url.appending(path: "host-state"))
        let vault = try TestVault.create(in: directory)
        let first = try await VaultAccess.open(vault, highWaterMark: mark)
        let token = try await first.bootstrap().token
        _ = try await first.authenticate(token: token).pushModel("m", from: .files(["w": Data([1, 2, 3])]))
        try await first.close()
        let oldIdentity = try #require(await vault.keyRing.identities[1])
        let copy = directory.url.appending(path: "vault-copy")
        try FileManager.default.copyItem(at: vault.root, to: copy)

        // The process dies after the first transaction, before it retires the old root's mark.
        let rotating = try TestVault.open(in: directory)
        await #expect(throws: VaultError.self) {
            try await rotating.rotateKeys(
                passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: Self.newPassphrase, workFactor: 1,
                stopAfter: 0, context: .local,
                retireMark: { _ in throw VaultError.storage("the process died here (test)") })
        }
        let rootFile = vault.root.appending(path: "keys/root-v1.key")
        switch tampering {
        case .deleted: try FileManager.default.removeItem(at: rootFile)
        case .replaced:
            try TrustRoot.generate().sealed(forIdentity: oldIdentity, version: 1).write(to: rootFile)
        }

        let resuming = try TestVault.open(
            in: directory, unlock: .passphrases([TestVault.passphrase, Self.newPassphrase]))
        let report = try await resuming.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: Self.newPassphrase, workFactor: 1,
            stopAfter: nil, context: .local, retireMark: { try mark.retire(key: $0) })
        #expect(report.resumed)
        try FileManager.default.removeItem(at: vault.root)
        try FileManager.default.moveItem(at: copy, to: vault.root)
        await expectRefused(naming: "retired on this host") {
            try await VaultAccess.open(try TestVault.open(in: directory), highWaterMark: mark)
        }
    }

    /// A handover left pending by an audit key rotation has its next key sealed to the old key versions. A
    /// `--reencrypt` used to reuse it, so the audit key in force after the rotation was one the old identity opens.
    @Test func aReencryptFinishesAPendingAuditHandoverAndPinsAFreshNextKey() async throws {
        let fixture = try await AccessFixture()
        let pending = Curve25519.Signing.PrivateKey()
        try await fixture.vault.beginAuditKeyHandover(to: pending, origin: fixture.access.verifier.name)
        let pendingHex = Array(pending.publicKey.rawRepresentation).hexString

        // Without a log to hand over (the library alone), the rotation is refused before anything changes.
        await #expect(throws: VaultError.self) {
            try await fixture.vault.rotateKeys(
                passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: Self.newPassphrase)
        }
        #expect(try await fixture.vault.keyVersions().count == 1)

        _ = try await fixture.admin.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: Self.newPassphrase)
        let pins = try await fixture.vault.auditKeyPins()
        #expect(pins.next == nil)
        let current = try await fixture.vault.catalog.read { db in try TrustPin.value(.auditPublicKey, db) }
        #expect(current != nil && current != pendingHex)
        // The pending key was handed over to first, then retired by the rotation's own handover.
        #expect(pins.retired.count == 2)
        try await fixture.access.close()
    }

    /// A stray `identity-v*.age` in keys/ that opens with neither passphrase used to stop the final re-seal, leaving a
    /// vault that opened only with both passphrases. Only the live versions' key files are re-sealed now.
    @Test func aPlantedIdentityFileDoesNotStopTheFinalReseal() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.admin.pushModel("m", from: .files(["w": Data([1, 2, 3])]))
        let suite = FakeCipherSuite()
        let stray = try suite.seal(Data("not an identity".utf8), passphrase: "someone else's passphrase", workFactor: 1)
        try stray.write(to: fixture.vault.root.appending(path: "keys/identity-v99.age"))
        let report = try await fixture.vault.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: Self.newPassphrase)
        #expect(report.reencrypted && !report.resumed)
        try await fixture.access.close()
        _ = try TestVault.open(in: fixture.directory, unlock: .passphrase(Self.newPassphrase))
        #expect(throws: VaultError.self) {
            try TestVault.open(in: fixture.directory, unlock: .passphrase(TestVault.passphrase))
        }
    }

    /// A version another process created is unlocked from its key file during a rotation: the identity in it must be
    /// the one the authenticated catalog records for that version, not any identity sealed under the passphrase.
    @Test func aKeyFileOfAnotherVersionCreatedMeanwhileMustHoldThatVersionsIdentity() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        _ = try await vault.pushModel("m", from: .files(["w": Data([1, 2, 3])]), context: .local)
        let other = try TestVault.open(in: directory)
        _ = try await other.rotateKeys(passphrase: TestVault.passphrase)
        let suite = FakeCipherSuite()
        let stranger = try suite.generateIdentity(postQuantum: false)
        try suite.seal(Data(stranger.utf8), passphrase: TestVault.passphrase, workFactor: 1)
            .write(to: vault.root.appending(path: "keys/identity-v2.age"))
        await #expect {
            try await vault.rotateKeys(passphrase: TestVault.passphrase)
        } throws: { error in
            (error as? VaultError)?.description.contains("another key version's identity") == true
        }
    }
}
