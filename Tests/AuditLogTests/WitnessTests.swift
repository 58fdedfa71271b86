import Crypto
import Foundation
import Testing

@testable import AuditLog

/// C2SP tlog-witness `add-checkpoint` and tlog-cosignature `cosignature/v1`, against the specs' examples, and a
/// witness refusing rollbacks, forks and bad proofs.
@Suite struct WitnessTests {
    /// The example request body of c2sp.org/tlog-witness.
    static let specRequest = """
        old 20852014
        PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
        jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
        5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
        /6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

        example.com/behind-the-sofa
        20852163
        CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

        \u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
        \u{2014} example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=

        """

    @Test func theSpecsExampleRequestParsesAndReencodesExactly() throws {
        let request = try AddCheckpointRequest(body: Data(Self.specRequest.utf8))
        #expect(request.oldSize == 20_852_014)
        #expect(request.proof.count == 4)
        #expect(request.proof[0].base64 == "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=")
        #expect(request.checkpoint.hasPrefix("example.com/behind-the-sofa\n20852163\n"))
        #expect(
            try Checkpoint(
                text: "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
            ).size == 20_852_163)
        #expect(request.body == Data(Self.specRequest.utf8))
    }

    @Test(arguments: [
        "old 012\n\nx\n", "old -1\n\nx\n", "old 1\nnot-base64\n\nx\n", "old 1\n\nno final newline", "1\n\nx\n",
        "old 1\n" + String(repeating: "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n", count: 64) + "\nx\n",
    ])
    func malformedRequestsAreRefused(body: String) {
        #expect(throws: AuditLogError.invalidProof) { _ = try AddCheckpointRequest(body: Data(body.utf8)) }
    }

    @Test func theSpecsExampleCosignatureCarriesItsTimestampAndMessage() throws {
        // From c2sp.org/tlog-cosignature: key ID, then the big-endian timestamp of the example message.
        let line =
            "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
        let blob = try #require(Data(base64Encoded: line))
        #expect(blob.count == 4 + 8 + 64)
        let timestamp = blob.dropFirst(4).prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(timestamp == 1_679_315_147)
        let body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        let message = CosignatureVerifier.message(body: body, timestamp: timestamp)
        #expect(
            String(decoding: message, as: UTF8.self)
                == "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
                + "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")
    }

    @Test func cosignaturesRoundTripAndRejectTampering() throws {
        let signer = try CosignatureSigner(name: "witness.example/w1", key: Curve25519.Signing.PrivateKey())
        let body = "vault.test/audit\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        let note = body + "\n" + (try signer.cosign(body: body, at: 1_700_000_000))
        #expect(try signer.verifier.verify(note) == 1_700_000_000)
        #expect(try CosignatureVerifier(vkey: signer.verifier.vkey) == signer.verifier)
        #expect(signer.verifier.fingerprint.count == 64)
        #expect(throws: AuditLogError.badSignature) {
            try signer.verifier.verify(note.replacingOccurrences(of: "\n5\n", with: "\n6\n"))
        }
        let other = try CosignatureSigner(name: "witness.example/w1", key: Curve25519.Signing.PrivateKey())
        #expect(throws: AuditLogError.unknownKey) { try other.verifier.verify(note) }
        // A note key (type 0x01) is not a cosignature key (type 0x04): distinct key IDs.
        let noteKey = try NoteVerifier(name: "witness.example/w1", publicKey: signer.verifier.publicKey)
        #expect(noteKey.keyID != signer.verifier.keyID)
    }

    // MARK: The witness

    private struct Setup {
        let temp = TemporaryLog()
        let stateFile = FileManager.default.temporaryDirectory.appendingPathComponent("witness-\(UUID().uuidString)")
        let cosigner = try! CosignatureSigner(name: "witness.test/w1", key: Curve25519.Signing.PrivateKey())

        func witness() throws -> Witness {
            try Witness(signer: cosigner, logs: [temp.verifier], stateFile: stateFile)
        }

        func remove() {
            temp.remove()
            try? FileManager.default.removeItem(at: stateFile)
        }

        /// Grows the log to `count` entries (closing it) and returns its latest checkpoint and the leaf hashes.
        func grow(to count: Int) async throws -> SignedCheckpoint {
            let log = try temp.open()
            for number in Int(await log.size)..<count { _ = try await log.append(TemporaryLog.entry(number)) }
            let checkpoint = try await log.checkpoint()
            try await log.close()
            return checkpoint
        }

        func proof(from old: UInt64, to new: UInt64) throws -> [TreeHash] {
            try AuditLogReader(directory: temp.directory).consistencyProof(from: old, to: new)
        }
    }

    @Test func aWitnessCosignsAGrowingLogAndRefusesRollbackForkAndBadProofs() async throws {
        let setup = Setup()
        defer { setup.remove() }
        let witness = try setup.witness()
        let first = try await setup.grow(to: 5)
        let cosignature = try await witness.addCheckpoint(
            AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: first.note), now: Date(timeIntervalSince1970: 1000))
        #expect(try setup.cosigner.verifier.verify(first.note + cosignature) == 1000)

        let second = try await setup.grow(to: 9)
        // The log must say which head it extends: the witness answers 409 with the size it holds.
        await #expect(throws: Witness.Refusal.conflict(latestSize: 5)) {
            try await witness.addCheckpoint(AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: second.note))
        }
        await #expect(throws: Witness.Refusal.invalidProof) {
            try await witness.addCheckpoint(
                AddCheckpointRequest(oldSize: 5, proof: try setup.proof(from: 4, to: 9), checkpoint: second.note))
        }
        _ = try await witness.addCheckpoint(
            AddCheckpointRequest(oldSize: 5, proof: try setup.proof(from: 5, to: 9), checkpoint: second.note))

        // Rolling back: the older checkpoint is below what the witness holds.
        await #expect(throws: Witness.Refusal.badRequest) {
            try await witness.addCheckpoint(AddCheckpointRequest(oldSize: 9, proof: [], checkpoint: first.note))
        }
        // A fork at the same size (same key, other entries).
        let fork = TemporaryLog()
        defer { fork.remove() }
        let forked = try AuditLog(directory: fork.directory, signer: setup.temp.key, origin: setup.temp.origin)
        for number in 0..<9 { _ = try await forked.append(TemporaryLog.entry(number + 500)) }
        let forkedHead = try await forked.checkpoint()
        try await forked.close()
        await #expect(throws: Witness.Refusal.conflict(latestSize: 9)) {
            try await witness.addCheckpoint(AddCheckpointRequest(oldSize: 9, proof: [], checkpoint: forkedHead.note))
        }
        // The state survives a restart.
        #expect(try await setup.witness().latest(origin: setup.temp.origin)?.size == 9)
    }

    @Test func aWitnessRefusesUnknownLogsAndForeignSignatures() async throws {
        let setup = Setup()
        defer { setup.remove() }
        let witness = try setup.witness()
        let other = try NoteSigner(name: "elsewhere/audit", key: Curve25519.Signing.PrivateKey())
        let unknown = try SignedCheckpoint(
            signing: Checkpoint(origin: "elsewhere/audit", size: 1, rootHash: Merkle.emptyRoot), with: other)
        await #expect(throws: Witness.Refusal.unknownOrigin) {
            try await witness.addCheckpoint(AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: unknown.note))
        }
        let impostor = try NoteSigner(name: setup.temp.origin, key: Curve25519.Signing.PrivateKey())
        let forged = try SignedCheckpoint(
            signing: Checkpoint(origin: setup.temp.origin, size: 1, rootHash: Merkle.emptyRoot), with: impostor)
        await #expect(throws: Witness.Refusal.badSignature) {
            try await witness.addCheckpoint(AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: forged.note))
        }
        #expect(Witness.Refusal.badSignature.status == 403)
    }

    @Test func aRollbackOfTheLogFilesIsCaughtWithTheWitnessesCosignedCheckpoint() async throws {
        let setup = Setup()
        defer { setup.remove() }
        let witness = try setup.witness()
        let first = try await setup.grow(to: 4)
        _ = try await witness.addCheckpoint(AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: first.note))
        let backup = try setup.temp.snapshot()
        let second = try await setup.grow(to: 7)
        let cosigned =
            second.note
            + (try await witness.addCheckpoint(
                AddCheckpointRequest(oldSize: 4, proof: try setup.proof(from: 4, to: 7), checkpoint: second.note)))

        // The attacker restores the older copy of the whole audit directory.
        try setup.temp.restore(backup)
        _ = try setup.cosigner.verifier.verify(cosigned)
        let held = try SignedCheckpoint(verifying: cosigned, with: setup.temp.verifier).checkpoint
        let report = try await AuditVerifier.verify(
            directory: setup.temp.directory, verifier: setup.temp.verifier, trusted: [held])
        #expect(report.problems == [VerificationProblem(kind: .inconsistentWithTrusted, index: 4)])
    }
}
