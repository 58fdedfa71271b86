import Crypto
import Foundation
import Testing

@testable import AuditLog

/// Remote `audit verify --trusted/--max-cosignature-age` (#14): the client checks the server's evidence against its
/// own trusted checkpoint and the witnesses that checkpoint carries, and a hostile or wrong answer fails the check.
@Suite struct AuditConsistencyEvidenceTests {
    /// A log of 4 entries whose checkpoint a witness cosigned (the client's trusted file), then 4 more entries.
    struct Setup {
        let temp = TemporaryLog()
        let stateFile = FileManager.default.temporaryDirectory.appendingPathComponent("witness-\(UUID().uuidString)")
        let cosigner = try! CosignatureSigner(name: "witness.test/w1", key: Curve25519.Signing.PrivateKey())
        var log: AuditLog
        /// The checkpoint of size 4 with the log's signature and the witness's cosignature.
        var trustedNote = ""

        init() async throws {
            log = try temp.open()
            for number in 0..<4 { _ = try await log.append(TemporaryLog.entry(number)) }
            let witness = WitnessEndpoint(
                verifier: cosigner.verifier,
                transport: try Witness(signer: cosigner, logs: [temp.verifier], stateFile: stateFile))
            guard case .cosigned(let note, _) = await log.submit(to: witness) else {
                Issue.record("the witness did not cosign")
                return
            }
            trustedNote = note
            for number in 4..<8 { _ = try await log.append(TemporaryLog.entry(number)) }
        }

        var keys: AuditKeyChain { try! AuditKeyChain(current: temp.verifier) }

        /// What an honest server sends for the trusted size.
        func evidence() async throws -> AuditConsistencyEvidence {
            try AuditConsistencyEvidence.gather(
                directory: temp.directory, keys: keys, signed: try await log.checkpoint(), trustedSizes: [4],
                witnesses: [cosigner.verifier])
        }

        func remove() async {
            try? await log.close()
            temp.remove()
            try? FileManager.default.removeItem(at: stateFile)
        }
    }

    @Test func anHonestAnswerProvesTheTrustedCheckpointAndItsWitness() async throws {
        let setup = try await Setup()
        let evidence = try await setup.evidence()
        let check = try evidence.check(trusted: [setup.trustedNote], maxCosignatureAge: 3600)
        #expect(check.problems.isEmpty, "\(check.problems)")
        // The trusted checkpoint, then the witness's stored cosignature (of the same size here).
        #expect(check.trustedVerified == [4, 4])
        #expect(check.newestCosignature != nil)
        // The same evidence survives the JSON the server sends.
        let decoded = try JSONDecoder().decode(
            AuditConsistencyEvidence.self, from: try JSONEncoder().encode(evidence))
        #expect(decoded == evidence)
        await setup.remove()
    }

    /// The attack: the server lists a witness of its own, whose fresh cosignature it made itself. The client's
    /// trusted checkpoint carries no cosignature of that key, so it counts for nothing and the age check fails.
    @Test func aCosignatureByAKeyTheTrustedCheckpointDoesNotCarryIsNotCounted() async throws {
        let setup = try await Setup()
        var evidence = try await setup.evidence()
        let rogue = try CosignatureSigner(name: "witness.test/w1", key: Curve25519.Signing.PrivateKey())
        let signed = try await setup.log.checkpoint()
        let now = UInt64(Date().timeIntervalSince1970)
        evidence.witnesses = [rogue.verifier.vkey]
        evidence.cosignatures = [signed.note + (try rogue.cosign(body: signed.checkpoint.text, at: now))]
        let check = try evidence.check(trusted: [setup.trustedNote], maxCosignatureAge: 3600)
        #expect(check.newestCosignature == nil)
        #expect(check.problems == [VerificationProblem(kind: .staleCosignature)])
        // A trusted checkpoint without any cosignature vouches for no witness at all, the real one included.
        let plain = try await setup.evidence()
        let bare = try SignedCheckpoint(
            signing: try setup.keys.verify(setup.trustedNote).checkpoint,
            with: NoteSigner(name: setup.temp.origin, key: setup.temp.key))
        let unvouched = try plain.check(trusted: [bare.note], maxCosignatureAge: 3600)
        #expect(unvouched.problems == [VerificationProblem(kind: .staleCosignature)])
        #expect(unvouched.trustedVerified == [4])
        await setup.remove()
    }

    /// The attack: a server whose log does not extend the trusted checkpoint (a fork signed with the same key, a
    /// rollback to an older checkpoint, or an altered proof) is inconsistent with it.
    @Test func aTreeThatDoesNotExtendTheTrustedCheckpointIsInconsistent() async throws {
        let setup = try await Setup()
        // A fork: another log under the same key, with other entries.
        let forkDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("fork-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: forkDirectory) }
        let fork = try AuditLog(directory: forkDirectory, signer: setup.temp.key, origin: setup.temp.origin)
        for number in 100..<108 { _ = try await fork.append(TemporaryLog.entry(number)) }
        let forked = try AuditConsistencyEvidence.gather(
            directory: forkDirectory, keys: setup.keys, signed: try await fork.checkpoint(), trustedSizes: [4],
            witnesses: [])
        try await fork.close()
        let forkCheck = try forked.check(trusted: [setup.trustedNote], maxCosignatureAge: nil)
        #expect(forkCheck.problems == [VerificationProblem(kind: .inconsistentWithTrusted)])
        #expect(forkCheck.trustedVerified.isEmpty)
        // An altered proof.
        var altered = try await setup.evidence()
        altered.proofs = altered.proofs.map {
            AuditConsistencyEvidence.Proof(
                from: $0.from, hashes: $0.hashes.map { _ in Data(count: 32).base64EncodedString() })
        }
        #expect(
            try altered.check(trusted: [setup.trustedNote], maxCosignatureAge: nil).problems.contains(
                VerificationProblem(kind: .inconsistentWithTrusted)))
        // A rollback: an older signed checkpoint (size 2) served as the newest.
        let older = try SignedCheckpoint(
            signing: Checkpoint(
                origin: setup.temp.origin, size: 2,
                rootHash: Merkle.root(
                    of: Array(try AuditLogReader(directory: setup.temp.directory).records().prefix(2).map(\.leafHash)))),
            with: NoteSigner(name: setup.temp.origin, key: setup.temp.key))
        let rolledBack = try AuditConsistencyEvidence.gather(
            directory: setup.temp.directory, keys: setup.keys, signed: older, trustedSizes: [4], witnesses: [])
        #expect(
            try rolledBack.check(trusted: [setup.trustedNote], maxCosignatureAge: nil).problems
                == [VerificationProblem(kind: .inconsistentWithTrusted, index: 2)])
        await setup.remove()
    }

    /// The attack: a server (or a man in the middle) that answers with another key. The trusted checkpoint does not
    /// verify under it (refused, as locally); claiming the real key retired in favour of its own, with no handover
    /// checkpoint signed by the real key, leaves its newest checkpoint unaccepted.
    @Test func anotherKeyIsRefusedAndAKeyChangeNeedsAHandover() async throws {
        let setup = try await Setup()
        let impostor = Curve25519.Signing.PrivateKey()
        let impostorSigner = try NoteSigner(name: setup.temp.origin, key: impostor)
        var replaced = try await setup.evidence()
        replaced.key = impostorSigner.verifier.vkey
        #expect(throws: AuditConsistencyError.untrustedCheckpoint) {
            try replaced.check(trusted: [setup.trustedNote], maxCosignatureAge: nil)
        }
        var chained = try await setup.evidence()
        let head = try setup.keys.verify(chained.checkpoint).checkpoint
        chained.retiredKeys = [.init(key: setup.temp.verifier.vkey, handoverSize: 5)]
        chained.key = impostorSigner.verifier.vkey
        chained.checkpoint = try SignedCheckpoint(signing: head, with: impostorSigner).note
        let check = try chained.check(trusted: [setup.trustedNote], maxCosignatureAge: nil)
        #expect(check.problems == [VerificationProblem(kind: .badCheckpointSignature)])
        #expect(check.trustedVerified.isEmpty)
        await setup.remove()
    }
}
