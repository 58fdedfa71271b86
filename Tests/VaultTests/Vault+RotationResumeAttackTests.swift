import Crypto
import Foundation
import GRDB
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
        let fixture = try await MarkedVaultFixture()
        let (directory, mark, vault) = (fixture.directory, fixture.mark, fixture.vault)
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
        try ReencryptNewPassphraseAttackTests.expectOpensOnlyWithTheNewPassphrase(fixture.directory)
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

/// The second round of that review, F5: a link or a directory planted as `keys/.rotation.lock` was taken for "a
/// rotation holds the lock", so every open skipped finishing a stopped audit key handover and the retired audit key
/// went on signing. It is an error naming the file now.
@Suite struct RotationLockFileAttackTests {
    @Test func aNonFilePlantedAsTheRotationLockIsAnErrorNotARotationUnderWay() async throws {
        let fixture = try await AccessFixture()
        let pending = Curve25519.Signing.PrivateKey()
        try await fixture.vault.beginAuditKeyHandover(to: pending, origin: fixture.access.verifier.name)
        try await fixture.access.close()
        let lock = fixture.vault.root.appending(path: "keys/.rotation.lock")
        try? FileManager.default.removeItem(at: lock)
        try FileManager.default.createDirectory(at: lock, withIntermediateDirectories: false)
        await #expect {
            try await VaultAccess.open(try TestVault.open(in: fixture.directory))
        } throws: { error in
            (error as? VaultError)?.description.contains("keys/.rotation.lock") == true
        }
        // Removed, the next open finishes the handover to the pinned key.
        try FileManager.default.removeItem(at: lock)
        let reopened = try await VaultAccess.open(try TestVault.open(in: fixture.directory))
        #expect(try await reopened.vault.auditKeyPins().next == nil)
        try await reopened.close()
    }
}

/// The third round of that review: what the unauthenticated rotation journal and a crash after the finishing commit
/// could still do.
@Suite struct RotationJournalAttackTests {
    /// F1: the work list came from `rotation_journal`, which is not authenticated: a planted unique index kept it to
    /// one row, so files stayed under the old version and the re-encrypting rotation looped for good. The work list
    /// comes from the authenticated `blobs` now, and an index the vault did not create is refused before anything
    /// runs (`CatalogStateIndexAttackTests`): the rotation stops at once, moving nothing, and does not loop.
    @Test(.timeLimit(.minutes(1))) func aPlantedJournalIndexDoesNotStopTheMovesOrLoop() async throws {
        let fixture = try await AccessFixture()
        for name in ["a", "b", "c"] {
            _ = try await fixture.admin.pushModel(name, from: .files(["w": Data([1, 2, 3])]))
        }
        try await fixture.access.close()
        let attacker = DirectoryAttacker(root: fixture.vault.root)
        try attacker.sql("DELETE FROM rotation_journal; CREATE UNIQUE INDEX planted ON rotation_journal(rotation_id)")
        await expectRefused(naming: "index planted") {
            try await TestVault.open(in: fixture.directory).rotateKeys(
                passphrase: TestVault.passphrase, reencrypt: true,
                newPassphrase: ReencryptNewPassphraseAttackTests.newPassphrase)
        }
        // Dropped, the rotation runs and moves every file.
        try attacker.sql("DROP INDEX planted")
        let vault = try TestVault.open(in: fixture.directory)
        let report = try await vault.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true,
            newPassphrase: ReencryptNewPassphraseAttackTests.newPassphrase)
        #expect(report.filesMoved == 3 && report.retiredVersions == [1])
        let below = try await vault.catalog.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM blobs WHERE key_version < 2")
        }
        #expect(below == 0)
    }

    /// F2: the retired versions' key files are deleted after the finishing commit; a crash in between left them for
    /// good, and a passphrase change then re-sealed only the live versions' files, so the retired identity kept the
    /// old passphrase. Every rotation and passphrase change sweeps them now.
    @Test func retiredKeyFilesLeftByACrashAreSweptByTheNextPassphraseChange() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.admin.pushModel("m", from: .files(["w": Data([1, 2, 3])]))
        let keys = fixture.vault.root.appending(path: "keys")
        let leftBehind = try Data(contentsOf: keys.appending(path: "identity-v1.age"))
        _ = try await fixture.vault.rotateKeys(passphrase: TestVault.passphrase)
        try await fixture.access.close()
        // As a crash between the finishing commit and the deletions leaves it.
        try leftBehind.write(to: keys.appending(path: "identity-v1.age"))
        let vault = try TestVault.open(in: fixture.directory)
        _ = try await vault.changePassphrase(
            from: TestVault.passphrase, to: ReencryptNewPassphraseAttackTests.newPassphrase, workFactor: 1)
        #expect(!FileManager.default.fileExists(atPath: keys.appending(path: "identity-v1.age").path))
    }
}

/// The second round's F1/F2 on the rotating host: the old `identity-v1.age` still opens with the old passphrase, so
/// whoever held the old identity can build a whole vault around it under a root of their own, which has no
/// high-water mark. The host keeps the recipients a `--reencrypt` retired, and refuses a vault whose newest key
/// version is one of them.
@Suite struct RetiredRecipientAttackTests {
    @Test func aVaultForgedAroundTheRetiredIdentityIsRefusedOnTheRotatingHost() async throws {
        let fixture = try await MarkedVaultFixture()
        let (directory, mark) = (fixture.directory, fixture.mark)
        try await Self.reencryptThenRestoreACopyFromBefore(fixture)
        // A root of the attacker's own: no mark for it on this host. Simulated by removing the marks (the forged
        // vault's root has none); the retired recipient alone must refuse it.
        try Self.removeMarks(of: mark)
        await expectRefused(naming: "retired on this host") {
            try await VaultAccess.open(try TestVault.open(in: directory), highWaterMark: mark)
        }
    }

    /// Removes every root's mark: what a forged vault's root of the attacker's own has on this host.
    static func removeMarks(of mark: HighWaterMark) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: mark.directory.path(percentEncoded: false))
        where name.hasSuffix(".mark") {
            try FileManager.default.removeItem(at: mark.directory.appending(path: name))
        }
    }

    /// Copies the vault as it is (the attacker's copy: the old identity, sealed under the old passphrase, which any
    /// vault made around that key file shares), re-encrypts it on the marked host, then puts the copy in its place.
    static func reencryptThenRestoreACopyFromBefore(_ fixture: MarkedVaultFixture) async throws {
        let root = fixture.vault.root
        let copy = fixture.directory.url.appending(path: "vault-copy")
        try FileManager.default.copyItem(at: root, to: copy)
        let access = try await VaultAccess.open(try TestVault.open(in: fixture.directory), highWaterMark: fixture.mark)
        _ = try await access.authenticate(token: fixture.token).rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true,
            newPassphrase: ReencryptNewPassphraseAttackTests.newPassphrase)
        try await access.close()
        try FileManager.default.removeItem(at: root)
        try FileManager.default.moveItem(at: copy, to: root)
    }
}

extension RetiredRecipientAttackTests {
    /// Review of the list, F1: the check read the catalog's newest version, but an identity-file open takes its root
    /// from the newest version it holds. A catalog forged to name a newer version of the attacker's, with a root of
    /// theirs sealed under the old identity, passed the check. The check reads the version the root came from now.
    @Test func anIdentityFileOpenOfAVaultForgedAroundTheRetiredIdentityIsRefused() async throws {
        let fixture = try await MarkedVaultFixture()
        let (directory, mark, vault) = (fixture.directory, fixture.mark, fixture.vault)
        let identity = try #require(await vault.keyRing.identities[1])
        try await Self.reencryptThenRestoreACopyFromBefore(fixture)
        // The attacker's root, sealed under the old identity, and a catalog naming a newer version of theirs.
        let root = TrustRoot.generate()
        try root.sealed(forIdentity: identity, version: 1).write(to: vault.root.appending(path: "keys/root-v1.key"))
        let stranger = try FakeCipherSuite().recipient(
            ofIdentity: FakeCipherSuite().generateIdentity(postQuantum: false))
        let queue = try DatabaseQueue(path: vault.root.appending(path: "catalog.sqlite").path(percentEncoded: false))
        try await queue.write { db in
            try db.execute(sql: "UPDATE key_versions SET state = 'retiring' WHERE version = 1")
            try db.execute(
                sql:
                    "INSERT INTO key_versions (version, recipient, created_at, state) VALUES (2, ?, '2026-12-04T00:00:00Z', 'active')",
                arguments: [stranger])
            try CatalogState(root: root).seal(db)
        }
        await expectRefused(naming: "retired on this host") {
            try await VaultAccess.open(
                try TestVault.open(in: directory, unlock: .identities(identity)), highWaterMark: mark)
        }
    }
}

extension RetiredRecipientAttackTests {
    /// `vault check` makes the open's checks: a vault forged around a retired identity is listed, not verified.
    @Test func vaultCheckListsAVaultForgedAroundTheRetiredIdentity() async throws {
        let fixture = try await MarkedVaultFixture()
        let (directory, mark) = (fixture.directory, fixture.mark)
        try await Self.reencryptThenRestoreACopyFromBefore(fixture)
        try Self.removeMarks(of: mark)
        let problems = try await Vault.checkState(
            at: directory.url.appending(path: "vault"), unlockingWith: .passphrase(TestVault.passphrase),
            suite: FakeCipherSuite(), signer: FakeManifestSigner(), highWaterMark: mark)
        #expect(problems.contains { $0.contains("retired on this host") }, "\(problems)")
    }
}
