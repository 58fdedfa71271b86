import Foundation
import GRDB
import TestSupport
import Testing

@testable import Vault
@testable import VaultCrypto

/// Adversarial review 5, trust F1 and F2: the attacker kept the pre-rotation identity and a copy of `keys/` (or of
/// the whole vault) and can write the vault directory, but holds no passphrase. `keys rotate --reencrypt` re-seals
/// every key file under a new passphrase, so nothing from before the rotation opens with the passphrase in use.
@Suite struct ReencryptNewPassphraseAttackTests {
    static let newPassphrase = "a brand new vault passphrase 2026"

    /// The vault in `directory` opens with the new passphrase and no longer with the old one.
    static func expectOpensOnlyWithTheNewPassphrase(_ directory: TemporaryDirectory) throws {
        _ = try TestVault.open(in: directory, unlock: .passphrase(newPassphrase))
        #expect(throws: VaultError.self) {
            try TestVault.open(in: directory, unlock: .passphrase(TestVault.passphrase))
        }
    }

    /// A `--reencrypt` to `newPassphrase` that dies after moving `files` files.
    static func stopReencrypt(_ vault: Vault, afterMoving files: Int) async {
        await #expect(throws: VaultError.self) {
            try await vault.rotateKeys(
                passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: newPassphrase, workFactor: 1,
                stopAfter: files, context: .local)
        }
    }

    /// F1: the old `identity-v1.age` is planted as `identity-v3.age` beside a root the attacker chose, with a
    /// `key_versions` row 3 for the old recipient and the catalog re-sealed under that root. Before the fix the
    /// vault opened with the unchanged passphrase and adopted the attacker's root.
    @Test func aPlantedKeyVersionSealedUnderTheOldPassphraseIsRefused() async throws {
        let fixture = try await AccessFixture()
        let identity = try #require(await fixture.vault.keyRing.identities[1])
        let keys = fixture.vault.root.appending(path: "keys")
        let oldSealed = try Data(contentsOf: keys.appending(path: "identity-v1.age"))
        let oldRecipient = try #require(try await fixture.vault.keyVersions().first?.recipient)
        _ = try await fixture.admin.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: Self.newPassphrase)
        try await fixture.access.close()
        // Every live key file was re-sealed: none opens with the old passphrase (before the fix all did), and the
        // attacker's saved copy does not open with the new one.
        let suite = FakeCipherSuite()
        let live = try FileManager.default.contentsOfDirectory(atPath: keys.path(percentEncoded: false))
            .filter { $0.hasPrefix("identity-v") && $0.hasSuffix(".age") }
        #expect(!live.isEmpty)
        for name in live {
            let sealed = try Data(contentsOf: keys.appending(path: name))
            #expect(
                (try? suite.open(sealed, passphrase: TestVault.passphrase)) == nil, "\(name) opens with the old one")
            #expect((try? suite.open(sealed, passphrase: Self.newPassphrase)) != nil, "\(name) is not re-sealed")
        }
        #expect((try? suite.open(oldSealed, passphrase: Self.newPassphrase)) == nil)

        try oldSealed.write(to: keys.appending(path: "identity-v3.age"))
        let planted = TrustRoot.generate()
        try planted.sealed(forIdentity: identity, version: 3).write(to: keys.appending(path: "root-v3.key"))
        let queue = try DatabaseQueue(
            path: fixture.vault.root.appending(path: "catalog.sqlite").path(percentEncoded: false))
        try await queue.write { db in
            try KeyVersionRow.insert(version: 3, recipient: oldRecipient, db)
            _ = try CatalogState(root: planted).seal(db)
        }
        for passphrase in [TestVault.passphrase, Self.newPassphrase] {
            #expect(throws: VaultError.self, "the planted version opened with one passphrase") {
                try TestVault.open(in: fixture.directory, unlock: .passphrase(passphrase))
            }
        }
    }

    /// F2: a whole-vault copy from before the rotation (old keys, old root, pins of its own) does not open with the
    /// passphrase in use after the rotation, on any host.
    @Test func aPreRotationCopyDoesNotOpenWithThePassphraseInUse() async throws {
        let fixture = try await AccessFixture()
        let elsewhere = try TemporaryDirectory()
        try FileManager.default.copyItem(
            at: fixture.vault.root, to: elsewhere.url.appending(path: "vault"))
        _ = try await fixture.admin.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: Self.newPassphrase)
        try await fixture.access.close()
        // The rotated vault opens with the new passphrase only; the copy does not open with it.
        try Self.expectOpensOnlyWithTheNewPassphrase(fixture.directory)
        #expect(throws: VaultError.self) {
            try TestVault.open(in: elsewhere, unlock: .passphrase(Self.newPassphrase))
        }
    }

    /// A `--reencrypt` stopped after its first transaction is resumed with the new passphrase given again; giving the
    /// old one as the new one on a fresh rotation is refused before anything changes.
    @Test func aResumedRotationFinishesUnderTheNewPassphrase() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.admin.pushModel("m", from: .files(["w": Data([1, 2, 3])]))
        await Self.stopReencrypt(fixture.vault, afterMoving: 0)
        try await fixture.access.close()
        // What `keys rotate` checks to refuse finishing it without `--reencrypt` and the new passphrase. The new key
        // version is sealed under the new passphrase (review 8, F2): the stopped vault opens with both.
        let stopped = try TestVault.open(
            in: fixture.directory, unlock: .passphrases([TestVault.passphrase, Self.newPassphrase]))
        #expect(try await stopped.hasUnfinishedReencryptingRotation())
        let reopened = try await VaultAccess.open(stopped)
        let admin = try await reopened.authenticate(token: fixture.adminToken)
        let report = try await admin.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: Self.newPassphrase)
        #expect(report.resumed && report.reencrypted)
        #expect(try await !stopped.hasUnfinishedReencryptingRotation())
        await #expect(throws: VaultError.self) {
            try await admin.rotateKeys(
                passphrase: Self.newPassphrase, reencrypt: true, newPassphrase: Self.newPassphrase)
        }
        try await reopened.close()
        _ = try TestVault.open(in: fixture.directory, unlock: .passphrase(Self.newPassphrase))
    }

    /// A library caller (not the CLI) asks for a re-encrypting rotation with no new passphrase. Before the fix it ran
    /// and kept the passphrase, so every pre-rotation key file still opened (F1 and F2 held again); now it is refused
    /// before a key version, a rotation or a key file changes, through the session and the raw vault alike.
    @Test func aReencryptingRotationWithoutANewPassphraseIsRefusedBeforeAnythingChanges() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.admin.pushModel("m", from: .files(["w": Data([1, 2, 3])]))
        let identityFile = fixture.vault.root.appending(path: "keys/identity-v1.age")
        let before = try Data(contentsOf: identityFile)
        await expectVaultError(.weakPassphrase) {
            try await fixture.admin.rotateKeys(passphrase: TestVault.passphrase, reencrypt: true)
        }
        await expectVaultError(.weakPassphrase) {
            try await fixture.vault.rotateKeys(passphrase: TestVault.passphrase, reencrypt: true)
        }
        #expect(try await fixture.vault.keyVersions().count == 1)
        #expect(try await !fixture.vault.hasUnfinishedReencryptingRotation())
        #expect(try Data(contentsOf: identityFile) == before)
        try await fixture.access.close()
    }

    /// An interrupted `--reencrypt` resumed by a plain `rotateKeys` (no new passphrase) would finish with the key files
    /// still sealed under the old passphrase; refused, the rotation stays unfinished, and it resumes with one.
    @Test func resumingAReencryptingRotationWithoutANewPassphraseIsRefused() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.admin.pushModel("m", from: .files(["w": Data([1, 2, 3])]))
        await Self.stopReencrypt(fixture.vault, afterMoving: 0)
        try await fixture.access.close()
        let stopped = try TestVault.open(
            in: fixture.directory, unlock: .passphrases([TestVault.passphrase, Self.newPassphrase]))
        let reopened = try await VaultAccess.open(stopped)
        let admin = try await reopened.authenticate(token: fixture.adminToken)
        await expectVaultError(.weakPassphrase) {
            try await admin.rotateKeys(passphrase: TestVault.passphrase)
        }
        await expectVaultError(.weakPassphrase) {
            try await stopped.rotateKeys(passphrase: TestVault.passphrase)
        }
        #expect(try await stopped.hasUnfinishedReencryptingRotation())
        let report = try await admin.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: Self.newPassphrase)
        #expect(report.resumed && report.reencrypted)
        try await reopened.close()
        _ = try TestVault.open(in: fixture.directory, unlock: .passphrase(Self.newPassphrase))
    }

    /// The process died after the final re-seal and before the rotation was marked finished, so the vault opens with
    /// the new passphrase only. A resume given the old passphrase as the "new" one sealed every key file back under
    /// it (the copies from before the rotation then opened again); now it is refused before anything changes.
    @Test func aResumeGivenTheOldPassphraseAsTheNewOneIsRefused() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.admin.pushModel("m", from: .files(["w": Data([1, 2, 3])]))
        await Self.stopReencrypt(fixture.vault, afterMoving: 0)
        _ = try await fixture.vault.resealKeyFiles(from: TestVault.passphrase, to: Self.newPassphrase, workFactor: 1)
        try await fixture.access.close()
        let stopped = try TestVault.open(in: fixture.directory, unlock: .passphrase(Self.newPassphrase))
        let reopened = try await VaultAccess.open(stopped)
        let admin = try await reopened.authenticate(token: fixture.adminToken)
        await expectVaultError(.wrongPassphrase) {
            try await admin.rotateKeys(
                passphrase: Self.newPassphrase, reencrypt: true, newPassphrase: TestVault.passphrase)
        }
        let report = try await admin.rotateKeys(
            passphrase: Self.newPassphrase, reencrypt: true, newPassphrase: Self.newPassphrase)
        #expect(report.resumed && report.reencrypted)
        try await reopened.close()
        try Self.expectOpensOnlyWithTheNewPassphrase(fixture.directory)
    }

    /// Review 7, H1: a plain rotation died part-way; `--reencrypt` then resumed the plain one and reported success,
    /// so the key files still opened with the old passphrase and no new root or signing key was made. Now it is
    /// refused before anything changes; finishing the plain rotation first lets the re-encrypting one run.
    @Test func aReencryptOverAnUnfinishedPlainRotationIsRefusedNotSilentlyPlain() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.admin.pushModel("m", from: .files(["w": Data([1, 2, 3])]))
        await #expect(throws: VaultError.self) {
            try await fixture.vault.rotateKeys(
                passphrase: TestVault.passphrase, reencrypt: false, workFactor: 1, stopAfter: 0, context: .local)
        }
        let signingKeyBefore = try await fixture.vault.catalog.read { db in try TrustPin.signingKeyVersion(db) }
        await expectVaultError(.rotationInterrupted) {
            try await fixture.admin.rotateKeys(
                passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: Self.newPassphrase)
        }
        #expect(try await fixture.vault.hasUnfinishedPlainRotation())
        #expect(try await fixture.vault.catalog.read { db in try TrustPin.signingKeyVersion(db) } == signingKeyBefore)
        let plain = try await fixture.admin.rotateKeys(passphrase: TestVault.passphrase)
        #expect(plain.resumed && !plain.reencrypted)
        let reencrypted = try await fixture.admin.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: Self.newPassphrase)
        #expect(!reencrypted.resumed && reencrypted.reencrypted)
        try await fixture.access.close()
        try Self.expectOpensOnlyWithTheNewPassphrase(fixture.directory)
    }

    /// #13: a crash between the renames of a passphrase change's re-seal left some key files under the new passphrase
    /// and some under the old one, and the vault opened with neither. The new sealings are now all staged beside the
    /// files before the first rename, so the stopped vault opens with the new passphrase and a second run finishes.
    @Test func aResealStoppedBetweenItsRenamesOpensWithTheNewPassphraseAndFinishes() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.admin.pushModel("m", from: .files(["w": Data([1, 2, 3])]))
        await expectVaultError(.rotationInterrupted) {
            try await fixture.vault.resealKeyFiles(
                from: TestVault.passphrase, to: Self.newPassphrase, workFactor: 1, stopAfterRenames: 1)
        }
        try await fixture.access.close()
        let keys = fixture.vault.root.appending(path: "keys")
        let suite = FakeCipherSuite()
        // The split the crash leaves: identity-v1.age renamed under the new passphrase, signing.age not yet.
        let v1 = try Data(contentsOf: keys.appending(path: "identity-v1.age"))
        #expect((try? suite.open(v1, passphrase: Self.newPassphrase)) != nil)
        #expect(throws: VaultError.self) {
            try TestVault.open(in: fixture.directory, unlock: .passphrase(TestVault.passphrase))
        }
        let stopped = try TestVault.open(in: fixture.directory, unlock: .passphrase(Self.newPassphrase))
        let report = try await stopped.changePassphrase(from: TestVault.passphrase, to: Self.newPassphrase)
        #expect(report.alreadyChanged.contains("keys/identity-v1.age"), "\(report)")
        _ = try TestVault.open(in: fixture.directory, unlock: .passphrase(Self.newPassphrase))
        let staged = try FileManager.default.contentsOfDirectory(atPath: keys.path(percentEncoded: false))
            .filter { $0.hasSuffix(".resealed") }
        #expect(staged.isEmpty, "\(staged)")
    }

    /// Second review of the F2 fix, F1: the final re-seal of a `--reencrypt` sealed the retiring versions' key files,
    /// the old identity among them, under the new passphrase. Copied before the rotation deleted it, that file opened
    /// with the new passphrase to an identity the attacker holds, and could be planted as a key version of a forged
    /// vault. No key file of a retiring version is sealed under the new passphrase now, at any point.
    @Test func noFileSealsTheOldIdentityUnderTheNewPassphraseAtAnyPoint() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.admin.pushModel("m", from: .files(["w": Data([1, 2, 3])]))
        let oldIdentity = try #require(await fixture.vault.keyRing.identities[1])
        await expectVaultError(.rotationInterrupted) {
            try await fixture.vault.rotateKeys(
                passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: Self.newPassphrase, workFactor: 1,
                stopAfter: nil, stopBeforeFinishing: true, context: .local)
        }
        try await fixture.access.close()
        let keys = fixture.vault.root.appending(path: "keys")
        let suite = FakeCipherSuite()
        func expectNoOldIdentityUnderTheNewPassphrase() throws {
            for name in try FileManager.default.contentsOfDirectory(atPath: keys.path(percentEncoded: false)) {
                guard let sealed = FileManager.default.contents(atPath: keys.appending(path: name).path) else {
                    continue
                }
                if let opened = try? suite.open(sealed, passphrase: Self.newPassphrase) {
                    #expect(String(decoding: opened, as: UTF8.self) != oldIdentity, "keys/\(name)")
                }
            }
        }
        try expectNoOldIdentityUnderTheNewPassphrase()
        let stopped = try TestVault.open(
            in: fixture.directory, unlock: .passphrases([TestVault.passphrase, Self.newPassphrase]))
        let report = try await stopped.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: Self.newPassphrase)
        #expect(report.resumed && report.retiredVersions == [1])
        try expectNoOldIdentityUnderTheNewPassphrase()
        #expect(!FileManager.default.fileExists(atPath: keys.appending(path: "identity-v1.age").path))
        try Self.expectOpensOnlyWithTheNewPassphrase(fixture.directory)
    }

    /// Second review of the F2 fix, F4: a push encrypted under the old version that committed after the rotation's
    /// moves kept that version live, so the rotation reported success with a file the old identity opens. Such a
    /// commit is refused while a `--reencrypt` is unfinished.
    @Test func aPushUnderARetiringVersionIsRefusedDuringAReencrypt() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.admin.pushModel("m", from: .files(["w": Data([1, 2, 3])]))
        await Self.stopReencrypt(fixture.vault, afterMoving: 0)
        await #expect {
            try await fixture.vault.catalog.read { db in try Vault.requireUsable(keyVersion: 1, db) }
        } throws: { error in
            (error as? VaultError)?.description.contains("being replaced") == true
        }
        try await fixture.vault.catalog.read { db in try Vault.requireUsable(keyVersion: 2, db) }
        try await fixture.access.close()
    }

    /// Review 8, F2: until the final re-seal, a `--reencrypt`'s new identity was sealed under the old passphrase, so a
    /// copy of `keys/` taken while it ran (it re-encrypts every stored file: minutes to hours) opened the new
    /// identity, and with it the new root of trust, with the passphrase thought compromised. It is sealed under the
    /// new passphrase from the rotation's first transaction now; the stopped vault opens only with both passphrases
    /// (a clear error names the unfinished rotation), and the resume finishes under the new one.
    @Test func aCopyOfKeysTakenDuringAReencryptDoesNotOpenTheNewIdentityWithTheOldPassphrase() async throws {
        let fixture = try await AccessFixture()
        for name in ["a", "b", "c"] {
            _ = try await fixture.admin.pushModel(name, from: .files(["w": Data([1, 2, 3])]))
        }
        await #expect(throws: VaultError.self) {
            try await fixture.vault.rotateKeys(
                passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: Self.newPassphrase, workFactor: 1,
                stopAfter: 1, context: .local)
        }
        try await fixture.access.close()
        let keys = fixture.vault.root.appending(path: "keys")
        let suite = FakeCipherSuite()
        let copied = try FileManager.default.contentsOfDirectory(atPath: keys.path(percentEncoded: false))
        #expect(copied.contains("identity-v2.age"), "\(copied)")
        for name in copied where name.hasPrefix("identity-v2") {
            let sealed = try Data(contentsOf: keys.appending(path: name))
            #expect((try? suite.open(sealed, passphrase: TestVault.passphrase)) == nil, "\(name)")
            #expect((try? suite.open(sealed, passphrase: Self.newPassphrase)) != nil, "\(name)")
        }
        do {
            _ = try TestVault.open(in: fixture.directory, unlock: .passphrase(TestVault.passphrase))
            Issue.record("the stopped vault opened with the old passphrase alone")
        } catch let error as VaultError {
            #expect(error.code == .wrongPassphrase && error.description.contains("--reencrypt` is unfinished"))
        }
        let stopped = try TestVault.open(
            in: fixture.directory, unlock: .passphrases([TestVault.passphrase, Self.newPassphrase]))
        let report = try await stopped.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: Self.newPassphrase)
        #expect(report.resumed && report.reencrypted)
        try Self.expectOpensOnlyWithTheNewPassphrase(fixture.directory)
    }

    /// The review of the F2 fix, finding 1: after a crash before the new-passphrase check was written, a resume given
    /// the two passphrases swapped (the new one as the passphrase in use, the old one as the new one) opened the vault
    /// with both, recorded the old one as new and re-sealed every key file, the new identity included, under it. The
    /// candidate must now open the rotation's new identity before it is recorded.
    @Test func aResumeWithThePassphrasesSwappedIsRefused() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.admin.pushModel("m", from: .files(["w": Data([1, 2, 3])]))
        await Self.stopReencrypt(fixture.vault, afterMoving: 0)
        try await fixture.vault.catalog.write { db in try TrustPin.remove(.reencryptPassphraseCheck, db) }
        try await fixture.access.close()
        let swapped = try TestVault.open(
            in: fixture.directory, unlock: .passphrases([Self.newPassphrase, TestVault.passphrase]))
        await expectVaultError(.wrongPassphrase) {
            try await swapped.rotateKeys(
                passphrase: Self.newPassphrase, reencrypt: true, newPassphrase: TestVault.passphrase)
        }
        #expect(throws: VaultError.self) {
            try TestVault.open(in: fixture.directory, unlock: .passphrase(TestVault.passphrase))
        }
        let report = try await swapped.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: Self.newPassphrase)
        #expect(report.resumed && report.reencrypted)
        try Self.expectOpensOnlyWithTheNewPassphrase(fixture.directory)
    }

    /// Review 8, F3: the new-passphrase check is written just after the rotation's first transaction. A crash in
    /// between left none, and a resume given the passphrase in use as the "new" one recorded it and finished with
    /// every key file still under the old passphrase. Refused now; the real new passphrase still finishes it.
    @Test func aResumeWithoutTheCheckMayNotTakeTheOldPassphraseAsTheNewOne() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.admin.pushModel("m", from: .files(["w": Data([1, 2, 3])]))
        await Self.stopReencrypt(fixture.vault, afterMoving: 0)
        // The crash came before the check was written. Since review 8, F2 the new key version is sealed under the
        // new passphrase, so the old one given as the new one does not even open it.
        try await fixture.vault.catalog.write { db in try TrustPin.remove(.reencryptPassphraseCheck, db) }
        await expectVaultError(.wrongPassphrase) {
            try await fixture.admin.rotateKeys(
                passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: TestVault.passphrase)
        }
        let report = try await fixture.admin.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: Self.newPassphrase)
        #expect(report.resumed && report.reencrypted)
        try await fixture.access.close()
        #expect(throws: VaultError.self) {
            try TestVault.open(in: fixture.directory, unlock: .passphrase(TestVault.passphrase))
        }
    }

    /// Review 8, F7: a blob that cannot be written for the new key (a full disk) was reported as damaged; it is a
    /// storage error now, and a blob that does not decrypt is still reported as damaged.
    @Test func aRotationThatCannotWriteABlobIsAStorageErrorNotDamage() {
        #expect(Vault.moveFailure(AgeError.output("cannot write the output"), of: "b").code == .storage)
        #expect(Vault.moveFailure(AgeError.headerMAC, of: "b").code == .decryptionFailed)
        #expect(Vault.moveFailure(VaultError.storage("x"), of: "b").code == .storage)
    }

    /// F3: a `--reencrypt` that dies after its first transaction (before any file moves and before the audit handover)
    /// has already retired the old root's mark on this host, so the verbatim pre-rotation copy is refused here.
    @Test func aCopyFromBeforeAStoppedReencryptIsRefusedByThisHostsMark() async throws {
        let fixture = try await MarkedVaultFixture()
        let (directory, mark, vault) = (fixture.directory, fixture.mark, fixture.vault)
        let copy = directory.url.appending(path: "vault-copy")
        try FileManager.default.copyItem(at: vault.root, to: copy)
        let rotating = try TestVault.open(in: directory)
        await #expect(throws: VaultError.self) {
            try await rotating.rotateKeys(
                passphrase: TestVault.passphrase, reencrypt: true, newPassphrase: Self.newPassphrase, workFactor: 1,
                stopAfter: 0, context: .local, retireMark: { try mark.retire(key: $0) })
        }
        try FileManager.default.removeItem(at: vault.root)
        try FileManager.default.moveItem(at: copy, to: vault.root)
        await expectRefused(naming: "retired on this host") {
            try await VaultAccess.open(try TestVault.open(in: directory), highWaterMark: mark)
        }
    }
}
