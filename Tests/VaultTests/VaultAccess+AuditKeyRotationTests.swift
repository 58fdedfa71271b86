import AccessControl
import Crypto
import Foundation
import TestSupport
import Testing

@testable import AuditLog
@testable import Vault

/// Issue 13, item 6: `keys rotate --reencrypt` (the rotation after a compromise) hands the audit log over to a new key.
/// The attacker holds the old audit key (the compromised identity could read it) and can write the vault directory,
/// but holds neither the passphrase nor the new key.
@Suite struct AuditKeyRotationAttackTests {
    /// A vault with an admin, some entries, and its audit key as the attacker copied it before the rotation.
    struct Rotated {
        let fixture: AccessFixture
        let oldKey: Curve25519.Signing.PrivateKey
        let origin: String

        init() async throws {
            fixture = try await AccessFixture()
            _ = try await fixture.admin.pushModel("m", from: .files(["w": Data([1])]))
            oldKey = try await fixture.vault.auditSigningKey()
            origin = fixture.access.verifier.name
            _ = try await fixture.admin.rotateKeys(
                passphrase: TestVault.passphrase, reencrypt: true, keepingPassphrase: true)
            try await fixture.access.close()
        }

        var audit: URL { fixture.auditDirectory }

        /// Whether the vault refuses to serve a log the attack changed: refused at open, refused to the admin, or
        /// `audit verify` fails.
        func attackIsCaught() async throws -> Bool {
            let access: VaultAccess
            do {
                access = try await VaultAccess.open(try TestVault.open(in: fixture.directory))
            } catch is VaultError {
                return true
            }
            defer { Task { try? await access.close() } }
            do {
                let admin = try await access.authenticate(token: fixture.adminToken)
                return !(try await admin.verifyAuditLog().isValid)
            } catch is VaultError {
                return true
            }
        }
    }

    /// Appends `entries` to the log's files and a checkpoint over the whole tree signed by `key` (and `cosigner`):
    /// what an attacker holding that key writes.
    static func forge(
        _ directory: URL, entries: [AuditEntry], signedBy key: Curve25519.Signing.PrivateKey, origin: String,
        cosigner: Curve25519.Signing.PrivateKey? = nil
    ) throws {
        var leaves = try AuditLogReader(directory: directory).records().map(\.leafHash)
        var lines = Data()
        for entry in entries {
            let record = AuditRecord(index: UInt64(leaves.count), entryJSON: try entry.canonicalJSON())
            lines.append(record.line)
            leaves.append(record.leafHash)
        }
        let entriesFile = try FileHandle(forWritingTo: directory.appending(path: "entries.jsonl"))
        try entriesFile.seekToEnd()
        try entriesFile.write(contentsOf: lines)
        try entriesFile.close()
        let checkpoint = Checkpoint(origin: origin, size: UInt64(leaves.count), rootHash: Merkle.root(of: leaves[...]))
        var note = try NoteSigner(name: origin, key: key).sign(checkpoint.text)
        if let cosigner { note += try NoteSigner(name: origin, key: cosigner).signatureLine(for: checkpoint.text) }
        let checkpoints = try FileHandle(forWritingTo: directory.appending(path: "checkpoints.log"))
        try checkpoints.seekToEnd()
        try checkpoints.write(contentsOf: Data(note.utf8))
        try checkpoints.close()
    }

    static func entry(_ action: String, resource: String = "vault") -> AuditEntry {
        AuditEntry(principal: "admin", action: action, resource: resource, outcome: .allowed, requestID: "forged")
    }

    @Test func theRetiredKeySigningEntriesPastItsHandoverIsRefused() async throws {
        let rotated = try await Rotated()
        #expect(try await !rotated.attackIsCaught(), "the untouched log verifies across the rotation")
        try Self.forge(
            rotated.audit, entries: [Self.entry("model.delete", resource: "model:m@1")], signedBy: rotated.oldKey,
            origin: rotated.origin)
        #expect(try await rotated.attackIsCaught())
    }

    @Test func aHandoverForgedWithTheRetiredKeyToTheAttackersKeyIsRefused() async throws {
        let rotated = try await Rotated()
        let attackerKey = Curve25519.Signing.PrivateKey()
        let attackerVerifier = try NoteVerifier(name: rotated.origin, publicKey: attackerKey.publicKey)
        try Self.forge(
            rotated.audit,
            entries: [Self.entry(AuditKeyChain.handoverAction, resource: "audit-key:" + attackerVerifier.vkey)],
            signedBy: rotated.oldKey, origin: rotated.origin, cosigner: attackerKey)
        try Self.forge(
            rotated.audit, entries: [Self.entry("model.delete", resource: "model:m@1")], signedBy: attackerKey,
            origin: rotated.origin)
        #expect(try await rotated.attackIsCaught())
    }

    @Test func deletingTheHandoverCheckpointIsRefused() async throws {
        let rotated = try await Rotated()
        let file = rotated.audit.appending(path: "checkpoints.log")
        let notes = try AuditLogReader(directory: rotated.audit).checkpointNotes()
        // The handover checkpoint carries two signatures under the log's name.
        let handover = try #require(
            notes.first { NoteVerifier.signatureKeyIDs(in: $0, name: rotated.origin).count == 2 })
        try Data(notes.filter { $0 != handover }.joined().utf8).write(to: file)
        #expect(try await rotated.attackIsCaught())
    }

    @Test func deletingTheHandoverAndContinuingWithTheRetiredKeyIsRefused() async throws {
        let rotated = try await Rotated()
        // The log cut back to just before the handover entry, then continued under the old key.
        let records = try AuditLogReader(directory: rotated.audit).records()
        let handover = try #require(records.firstIndex { (try? $0.entry().action) == AuditKeyChain.handoverAction })
        try Data(records.prefix(handover).map(\.line).joined()).write(
            to: rotated.audit.appending(path: "entries.jsonl"))
        let notes = try AuditLogReader(directory: rotated.audit).checkpointNotes()
        let kept = notes.filter { (try? AuditKeyChain.uncheckedSize(of: $0)) ?? .max <= UInt64(handover) }
        try Data(kept.joined().utf8).write(to: rotated.audit.appending(path: "checkpoints.log"))
        try Self.forge(
            rotated.audit, entries: [Self.entry("model.delete", resource: "model:m@1")], signedBy: rotated.oldKey,
            origin: rotated.origin)
        #expect(try await rotated.attackIsCaught())
    }

    @Test func replacingTheNewAuditKeyFileWithTheRetiredKeyIsRefusedNamingIt() async throws {
        let rotated = try await Rotated()
        let vault = rotated.fixture.vault
        let recipient = try DirectoryAttacker(root: vault.root).recipient()
        try await vault.suite.encrypt(rotated.oldKey.rawRepresentation, to: [recipient]).write(
            to: vault.root.appending(path: "keys/audit.age"))
        await expectRefused(naming: "keys/audit.age") {
            try await VaultAccess.open(try TestVault.open(in: rotated.fixture.directory))
        }
    }
}

/// The rotation keeps every audit path working: verification, kept checkpoints, proofs, crash resumption, witnesses.
@Suite struct AuditKeyRotationTests {
    @Test func everyAuditPathWorksAcrossTheRotation() async throws {
        let fixture = try await AccessFixture()
        _ = try await fixture.admin.pushModel("m", from: .files(["w": Data([1])]))
        let kept = try await fixture.admin.exportAuditCheckpoint()
        let before = fixture.access.verifier
        _ = try await fixture.admin.rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, keepingPassphrase: true)
        // The running process signs with the new key at once; the origin stays.
        #expect(fixture.access.verifier.keyID != before.keyID && fixture.access.verifier.name == before.name)
        _ = try await fixture.admin.principals()
        try await fixture.access.close()

        let reopened = try await VaultAccess.open(try TestVault.open(in: fixture.directory))
        #expect(reopened.verifier == fixture.access.verifier)
        #expect(try AuditVerifierKey.read(vaultAt: fixture.vault.root) == reopened.verifier)
        let admin = try await reopened.authenticate(token: fixture.adminToken)
        let trusted = try admin.trustedAuditCheckpoint(kept.note)
        let report = try await admin.verifyAuditLog(trusted: [trusted])
        #expect(report.isValid, "\(report.summary)")
        #expect(report.trustedVerified == [trusted])
        let proof = try await admin.auditProof(index: 0)
        #expect(proof.index == 0)
        try await reopened.close()
    }

    @Test func aRotationStoppedMidHandoverIsFinishedAtTheNextOpen() async throws {
        let fixture = try await AccessFixture()
        // The first step only (new key stored and pinned as next), as if the process died before the log's handover.
        let next = Curve25519.Signing.PrivateKey()
        try await fixture.vault.beginAuditKeyHandover(to: next, origin: fixture.access.verifier.name)
        try await fixture.access.close()
        let reopened = try await VaultAccess.open(try TestVault.open(in: fixture.directory))
        #expect(reopened.verifier.publicKey.rawRepresentation == next.publicKey.rawRepresentation)
        #expect(reopened.keyChain.retired.count == 1)
        let report = try await reopened.authenticate(token: fixture.adminToken).verifyAuditLog()
        #expect(report.isValid, "\(report.summary)")
        try await reopened.close()
    }

    /// A witness pins the log's key. After the rotation it refuses the new key (403): the vault reports it at open and
    /// `audit verify` fails, never silently. Restarted with the vault's new `audit/verifier.vkey` (the origin, and so
    /// its state, stay), it checks consistency with what it cosigned before and cosigns again.
    @Test func aWitnessPinningTheRetiredKeyIsReportedUntilGivenTheNewKey() async throws {
        let fixture = try await AccessFixture()
        let state = fixture.directory.url.appending(path: "witness-state.json")
        let signer = try CosignatureSigner(name: "witness.test", key: Curve25519.Signing.PrivateKey())
        let oldWitness = try Witness(signer: signer, logs: [fixture.access.verifier], stateFile: state)
        _ = try await fixture.admin.addWitness(
            try VaultWitness(url: "https://witness.test", key: signer.verifier.vkey))
        try await fixture.access.close()
        let first = try await VaultAccess.open(
            try TestVault.open(in: fixture.directory), witnessConnector: { _ in oldWitness })
        let cosignedBefore = try #require(await oldWitness.latest(origin: first.verifier.name))
        _ = try await first.authenticate(token: fixture.adminToken).rotateKeys(
            passphrase: TestVault.passphrase, reencrypt: true, keepingPassphrase: true)
        try await first.close()

        let stale = try await VaultAccess.open(
            try TestVault.open(in: fixture.directory), witnessConnector: { _ in oldWitness })
        #expect(stale.unreachableWitnesses.contains { $0.contains("refuses the log's audit key") })
        let refused = try await stale.authenticate(token: fixture.adminToken).verifyAuditLog()
        #expect(refused.problems.contains { $0.kind == .witnessRefusesKey }, "\(refused.summary)")
        try await stale.close()

        let newKey = try AuditVerifierKey.read(vaultAt: fixture.vault.root)
        let restarted = try Witness(signer: signer, logs: [newKey], stateFile: state)
        let current = try await VaultAccess.open(
            try TestVault.open(in: fixture.directory), witnessConnector: { _ in restarted })
        #expect(current.unreachableWitnesses.isEmpty)
        let report = try await current.authenticate(token: fixture.adminToken).verifyAuditLog()
        #expect(report.isValid, "\(report.summary)")
        #expect(report.newestCosignature != nil)
        let cosignedAfter = try #require(await restarted.latest(origin: newKey.name))
        #expect(cosignedAfter.size > cosignedBefore.size)
        try await current.close()
    }
}
