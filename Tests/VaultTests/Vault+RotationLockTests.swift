import Foundation
import TestSupport
import Testing

@testable import Vault

/// Issue #19: two `keys rotate` at once (two processes, modelled by two separately opened vault instances on the
/// same directory) used to create two key versions, leave a rotation unfinished and report a stored file as
/// damaged. Rotations are now serialised by a lock file: the second waits, then rotates from the first's result.
@Suite struct VaultRotationLockTests {
    @Test func twoConcurrentRotationsEndConsistentWithNoError() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let files = ["a.bin": TestVault.bytes(3000, seed: 1), "b/c.bin": TestVault.bytes(10, seed: 2)]
        for name in ["m", "n", "o"] { _ = try await vault.pushModel(name, from: .files(files)) }
        let first = try TestVault.open(in: directory)
        let second = try TestVault.open(in: directory)
        async let a = first.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: false, workFactor: 10, stopAfter: nil, context: .local)
        async let b = second.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: false, workFactor: 10, stopAfter: nil, context: .local)
        let reports = try await [a, b]
        // One after the other: versions 2 and 3, each moving every file, nothing resumed half-done.
        #expect(Set(reports.map(\.keyVersion)) == [2, 3])
        #expect(reports.allSatisfy { $0.filesMoved == 6 })
        let reopened = try TestVault.open(in: directory)
        let versions = try await reopened.keyVersions()
        #expect(versions.map(\.state) == ["retired", "retired", "active"])
        #expect(versions.map(\.fileCount) == [0, 0, 6])
        for name in ["m", "n", "o"] {
            #expect(try await reopened.loadModel(ModelReference(parsing: "\(name)@1")) == files)
        }
    }
}

/// The CI failure of 2026-12-03: a second process opened the vault while the first finished a rotation, read the
/// live key versions before the commit and then found the retired version's files deleted ("the root of trust is
/// missing", exit 6). Opening now re-reads the key versions when they changed under it.
@Suite struct VaultOpenDuringRotationTests {
    @Test func anOpenThatReadTheKeyVersionsBeforeARotationFinishedStillOpens() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        _ = try await vault.pushModel("m", from: .files(["a.bin": TestVault.bytes(100, seed: 3)]))
        _ = try await vault.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: false, workFactor: 10, stopAfter: nil, context: .local)
        // Version 1 is retired and its files are gone; this open read the list while it was still live.
        let (reopened, problems) = try Vault.unlock(
            at: directory.url.appending(path: "vault"), unlockingWith: .passphrase(TestVault.passphrase),
            suite: FakeCipherSuite(), signer: FakeManifestSigner(), versionsReadEarlier: [1])
        #expect(problems.isEmpty)
        #expect(try await reopened.keyVersions().map(\.state) == ["retired", "active"])
    }
}

/// The CI failure of 2026-12-04: the second of two `keys rotate` processes unlocked the vault before the first finished,
/// then opened its audit log after: `keys/audit.age` was sealed to the new key version only ("does not hold the pinned
/// audit key (substituted or damaged)", exit 6). The open follows the key chain the plain rotation left.
@Suite struct VaultAccessOpenAfterARotationTests {
    @Test func anAccessOpenedAfterAnotherInstanceRotatedReadsTheAuditKey() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.admin.pushModel("m", from: .files(["a.bin": TestVault.bytes(100, seed: 4)]))
        let unlockedBefore = try TestVault.open(in: fixture.directory)
        _ = try await fixture.admin.rotateKeys(passphrase: TestVault.passphrase)
        try await fixture.access.close()
        let access = try await VaultAccess.open(unlockedBefore)
        #expect(await unlockedBefore.keyRing.identities.keys.sorted() == [1, 2])
        try await access.close()
    }

    @Test func aModelPulledAfterAnotherInstanceRotatedDecrypts() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let files = ["a.bin": TestVault.bytes(300, seed: 5)]
        _ = try await vault.pushModel("m", from: .files(files))
        let unlockedBefore = try TestVault.open(in: directory)
        _ = try await vault.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: false, workFactor: 10, stopAfter: nil, context: .local)
        #expect(try await unlockedBefore.loadModel(ModelReference(parsing: "m@1")) == files)
    }
}
