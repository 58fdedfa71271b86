import AccessControl
import Crypto
import Foundation
import GRDB
import TestSupport
import Testing

@testable import AuditLog
@testable import Vault

/// Adversarial review 4, trust F1–F3: `keys rotate --reencrypt` is the recovery from a compromised identity. The
/// attacker kept the pre-rotation identity and copies of the vault directory (so `keys/root-v1.key`, the old audit
/// key and the old log), and can write the directory; it holds neither the passphrase nor anything made after.
@Suite struct ReencryptTrustRootAttackTests {
    /// F1: the old identity opens the stolen `keys/root-v1.key`; with that root it MACs a forged admin principal and
    /// a pin, and re-seals the state root one sequence on. The rotation made a fresh root, so nothing verifies.
    @Test func theOldIdentityAndItsRootCannotResealStateAfterAReencryptingRotation() async throws {
        let fixture = try await AccessFixture()
        let identity = try #require(await fixture.vault.keyRing.identities[1])
        let stolen = try Data(contentsOf: fixture.vault.root.appending(path: "keys/root-v1.key"))
        _ = try await fixture.admin.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, keepingPassphrase: true)
        try await fixture.access.close()

        let root = try TrustRoot.open(stolen, identity: identity, version: 1, name: "keys/root-v1.key")
        let queue = try DatabaseQueue(
            path: fixture.vault.root.appending(path: "catalog.sqlite").path(percentEncoded: false))
        try await queue.write { db in
            try db.execute(
                sql:
                    "INSERT INTO principals (name, created_at, kind) VALUES ('mallory', '2026-12-03T00:00:00Z', 'person')"
            )
            try db.execute(
                sql:
                    "INSERT INTO role_bindings (principal_id, role, scope) SELECT id, 'admin', '*' FROM principals WHERE name = 'mallory'"
            )
            try CatalogState(root: root).seal(db)
        }
        await expectRefused(naming: "state_root: fails authentication") {
            try await VaultAccess.open(try TestVault.open(in: fixture.directory))
        }
    }

    /// F1 and F3 across a crash: a `--reencrypt` rotation stopped right after its first transaction has already moved
    /// the state to the new root and pinned the next audit key. The next open finishes the audit handover, a second
    /// `keys rotate` finishes the files, and the old root verifies nothing at any point.
    @Test func aReencryptingRotationStoppedAfterItsFirstTransactionIsFinishedAndCutsTheOldRootOff() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.admin.pushModel("m", from: .files(["w": Data([1, 2, 3])]))
        let identity = try #require(await fixture.vault.keyRing.identities[1])
        let stolen = try Data(contentsOf: fixture.vault.root.appending(path: "keys/root-v1.key"))
        let oldAuditKey = fixture.access.verifier
        await #expect(throws: VaultError.self) {
            try await fixture.vault.rotateKeys(
                passphrase: TestVault.passphrase, reencrypt: true, workFactor: 1, stopAfter: 0, context: .local)
        }
        try await fixture.access.close()
        let root = try TrustRoot.open(stolen, identity: identity, version: 1, name: "keys/root-v1.key")
        let catalog = try Catalog(url: fixture.vault.root.appending(path: "catalog.sqlite")).authenticated(by: root)
        #expect(try !catalog.problems().isEmpty, "the old root still verifies the state after the first transaction")

        // The process died before the audit handover: the next open (no rotation holds the lock) finishes it.
        let reopened = try await VaultAccess.open(try TestVault.open(in: fixture.directory))
        #expect(reopened.verifier.keyID != oldAuditKey.keyID)
        #expect(try await reopened.vault.auditKeyPins().next == nil)
        let admin = try await reopened.authenticate(token: fixture.adminToken)
        let report = try await admin.rotateKeys(passphrase: TestVault.passphrase, keepingPassphrase: true)
        #expect(report.resumed && report.reencrypted)
        #expect(try await admin.verifyAuditLog().isValid)
        try await reopened.close()
        // Only the new version's root remains, and the old identity opens nothing.
        #expect(!FileManager.default.fileExists(atPath: fixture.vault.root.appending(path: "keys/root-v1.key").path))
        #expect(throws: VaultError.self) {
            try TestVault.open(in: fixture.directory, unlock: .identities(identity))
        }
    }

    /// F1 on this host: the rotation retires the old root's high-water mark, so a copy of the vault from before the
    /// rotation (sealed under the old root, with the old keys) is refused here even re-sealed with its sequence
    /// raised above the mark (which the old root allows).
    @Test func aCopyFromBeforeAReencryptingRotationIsRefusedByThisHostsMark() async throws {
        let directory = try TemporaryDirectory()
        let mark = HighWaterMark(directory: directory.url.appending(path: "host-state"))
        let vault = try TestVault.create(in: directory)
        let first = try await VaultAccess.open(vault, highWaterMark: mark)
        let token = try await first.bootstrap().token
        try await first.close()
        let identity = try #require(await vault.keyRing.identities[1])
        let oldAuditKey = try await vault.auditSigningKey()
        let origin = first.verifier.name
        let copy = directory.url.appending(path: "vault-copy")
        try FileManager.default.copyItem(at: vault.root, to: copy)
        let second = try await VaultAccess.open(try TestVault.open(in: directory), highWaterMark: mark)
        _ = try await second.authenticate(token: token).rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, keepingPassphrase: true)
        try await second.close()
        // The rotated vault still opens with the mark.
        try await VaultAccess.open(try TestVault.open(in: directory), highWaterMark: mark).close()

        try FileManager.default.removeItem(at: vault.root)
        try FileManager.default.moveItem(at: copy, to: vault.root)
        let root = try TrustRoot.open(
            try Data(contentsOf: vault.root.appending(path: "keys/root-v1.key")), identity: identity, version: 1,
            name: "keys/root-v1.key")
        let queue = try DatabaseQueue(path: vault.root.appending(path: "catalog.sqlite").path(percentEncoded: false))
        try await queue.write { db in
            try db.execute(sql: "UPDATE state_root SET sequence = 1000")
            try db.execute(
                sql:
                    "INSERT INTO principals (name, created_at, kind) VALUES ('mallory', '2026-12-03T00:00:00Z', 'person')"
            )
            try CatalogState(root: root).seal(db)
        }
        // ... and the log lengthened past the mark's size with the old audit key.
        try AuditKeyRotationAttackTests.forge(
            vault.root.appending(path: "audit"),
            entries: (0..<40).map { _ in AuditKeyRotationAttackTests.entry("model.list") }, signedBy: oldAuditKey,
            origin: origin)
        await expectRefused(naming: "retired on this host") {
            try await VaultAccess.open(try TestVault.open(in: directory), highWaterMark: mark)
        }
    }
}

/// F2: after `--reencrypt` the witness operator gives the witness the vault's new `audit/verifier.vkey`. A whole-vault
/// copy from before the rotation (old identity, old signing and audit keys) restored on a host without the
/// high-water mark must still be refused by the witness, which holds a newer tree.
@Suite struct ReencryptWitnessRollbackAttackTests {
    struct Scenario {
        let directory: TemporaryDirectory
        let token: String
        let signer: CosignatureSigner
        let stateFile: URL
        let oldLogKey: NoteVerifier
        let newLogKey: NoteVerifier
        let oldAuditKey: Curve25519.Signing.PrivateKey
        let copy: URL
        /// The witness given both keys, oldest first (as the README says), after it cosigned the rotated log.
        let following: Witness

        init() async throws {
            directory = try TemporaryDirectory()
            let vault = try TestVault.create(in: directory)
            let first = try await VaultAccess.open(vault)
            token = try await first.bootstrap().token
            signer = try CosignatureSigner(name: "witness.test", key: Curve25519.Signing.PrivateKey())
            stateFile = directory.url.appending(path: "witness-state.json")
            oldLogKey = first.verifier
            oldAuditKey = try await vault.auditSigningKey()
            let witness = try Witness(signer: signer, logs: [oldLogKey], stateFile: stateFile)
            _ = try await first.authenticate(token: token).addWitness(
                try VaultWitness(url: "https://witness.test", key: signer.verifier.vkey))
            try await first.close()
            let second = try await VaultAccess.open(
                try TestVault.open(in: directory), witnessConnector: { _ in witness })
            _ = try await second.authenticate(token: token).principals()
            try await second.close()
            copy = directory.url.appending(path: "vault-copy")
            try FileManager.default.copyItem(at: vault.root, to: copy)

            // Recovery after the compromise, then the witness is restarted with the new key added.
            let third = try await VaultAccess.open(
                try TestVault.open(in: directory), witnessConnector: { _ in witness })
            _ = try await third.authenticate(token: token).rotateKeys(
                passphrase: TestVault.passphrase, reencrypt: true, keepingPassphrase: true)
            newLogKey = third.verifier
            try await third.close()
            let following = try Witness(signer: signer, logs: [oldLogKey, newLogKey], stateFile: stateFile)
            let fourth = try await VaultAccess.open(
                try TestVault.open(in: directory), witnessConnector: { _ in following })
            #expect(fourth.unreachableWitnesses.isEmpty, "the witness given both keys cosigns the rotated log")
            _ = try await fourth.authenticate(token: token).principals()
            try await fourth.close()
            self.following = following
        }

        /// Puts the pre-rotation copy in place of the vault (another host: no high-water mark).
        func restoreCopy() throws -> URL {
            let root = directory.url.appending(path: "vault")
            try FileManager.default.removeItem(at: root)
            try FileManager.default.moveItem(at: copy, to: root)
            return root
        }
    }

    @Test func aCopyFromBeforeTheRotationIsRefusedByTheWitnessWhetherItKeptTheOldKeyOrNot() async throws {
        let scenario = try await Scenario()
        let head = try #require(await scenario.following.latest(origin: scenario.newLogKey.name))
        _ = try scenario.restoreCopy()
        // The witness restarted with the new key in place of the old one (the README's former advice) too.
        let replaced = try Witness(signer: scenario.signer, logs: [scenario.newLogKey], stateFile: scenario.stateFile)
        for witness in [scenario.following, replaced] {
            await expectRefused(naming: "witness witness.test holds a checkpoint of size \(head.size)") {
                try await VaultAccess.open(
                    try TestVault.open(in: scenario.directory), witnessConnector: { _ in witness })
            }
        }
    }

    /// The attacker also continues the restored log with the old audit key until it is longer than the witness's
    /// head: the old key never moves the log past a head the new key signed.
    @Test func aCopyContinuedWithTheRetiredAuditKeyPastTheWitnessHeadIsRefused() async throws {
        let scenario = try await Scenario()
        let head = try #require(await scenario.following.latest(origin: scenario.newLogKey.name))
        let root = try scenario.restoreCopy()
        let audit = root.appending(path: "audit")
        let size = try AuditLogReader(directory: audit).records().count
        let entries = (0...(Int(head.size) - size)).map { _ in
            AuditKeyRotationAttackTests.entry("model.delete", resource: "model:m@1")
        }
        try AuditKeyRotationAttackTests.forge(
            audit, entries: entries, signedBy: scenario.oldAuditKey, origin: scenario.oldLogKey.name)
        let following = scenario.following
        await expectRefused(naming: "witness witness.test") {
            try await VaultAccess.open(try TestVault.open(in: scenario.directory), witnessConnector: { _ in following })
        }
    }
}
