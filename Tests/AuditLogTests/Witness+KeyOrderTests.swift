import Crypto
import Foundation
import Testing

@testable import AuditLog

/// Review 5, trust F4: after an audit-key rotation the witness is given the retired key and the new one, and once the
/// new key signed a head the retired key must never move the log past it. The witness used to decide which key was
/// newer by the order of `--log-key` at each start, so an operator who restarted it with the keys in another order
/// let the retired (possibly stolen) key grow the log again, and one who left the retired key out had the new key's
/// checkpoints refused. The rotation order is now kept in the witness's state.
@Suite struct WitnessKeyOrderTests {
    struct Keys {
        let log = TemporaryLog()
        let stateFile = FileManager.default.temporaryDirectory.appending(path: "witness-order-\(UUID().uuidString)")
        let cosigner = try! CosignatureSigner(name: "witness.test/w1", key: Curve25519.Signing.PrivateKey())
        /// The retired key is the log's own key; the new key signs the same checkpoints after the rotation.
        let newKey = Curve25519.Signing.PrivateKey()

        var retired: NoteVerifier { log.verifier }
        var new: NoteVerifier { try! NoteVerifier(name: log.origin, publicKey: newKey.publicKey) }

        func witness(_ keys: [NoteVerifier]) throws -> Witness {
            try Witness(signer: cosigner, logs: keys, stateFile: stateFile)
        }

        /// The log grown to `count` entries, its checkpoint signed by `key` (the log's own key when `nil`).
        func checkpoint(_ count: Int, signedBy key: Curve25519.Signing.PrivateKey? = nil) async throws -> String {
            let audit = try log.open()
            for number in Int(await audit.size)..<count { _ = try await audit.append(TemporaryLog.entry(number)) }
            let head = try await audit.checkpoint()
            try await audit.close()
            guard let key else { return head.note }
            return try SignedCheckpoint(signing: head.checkpoint, with: NoteSigner(name: log.origin, key: key)).note
        }

        /// The log grown to `count` entries, its checkpoint the handover a rotation writes: it names the new key
        /// in an extension line and is signed by the log's own (retired) key and by the new key.
        func handover(_ count: Int) async throws -> String {
            let head = try SignedCheckpoint(verifying: try await checkpoint(count), with: retired).checkpoint
            let text = head.text + AuditKeyChain.handoverLine(naming: new)
            let signed = try NoteSigner(name: log.origin, key: log.key).sign(text)
            return signed + (try NoteSigner(name: log.origin, key: newKey).signatureLine(for: text))
        }

        func proof(_ old: UInt64, _ new: UInt64) throws -> [TreeHash] {
            try AuditLogReader(directory: log.directory).consistencyProof(from: old, to: new)
        }

        func remove() {
            log.remove()
            try? FileManager.default.removeItem(at: stateFile)
        }
    }

    /// The new key signed the head at 9; a restart with the keys given newest first is refused before it serves, so
    /// the retired key cannot take the log to 12 (before the fix it could).
    @Test func aRestartWithTheKeysInAnotherOrderIsRefused() async throws {
        let keys = Keys()
        defer { keys.remove() }
        let witness = try keys.witness([keys.retired, keys.new])
        _ = try await witness.addCheckpoint(
            AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: try await keys.checkpoint(5)))
        let nine = try await keys.checkpoint(9, signedBy: keys.newKey)
        _ = try await witness.addCheckpoint(
            AddCheckpointRequest(oldSize: 5, proof: try keys.proof(5, 9), checkpoint: nine))
        #expect(throws: Witness.ConfigurationError.self) { try keys.witness([keys.new, keys.retired]) }
        // Given in the right order, the retired key is still held below the head.
        let restarted = try keys.witness([keys.retired, keys.new])
        let stolen = try await keys.checkpoint(12)
        await #expect(throws: Witness.Refusal.conflict(latestSize: 9)) {
            try await restarted.addCheckpoint(
                AddCheckpointRequest(oldSize: 9, proof: try keys.proof(9, 12), checkpoint: stolen))
        }
    }

    /// A restart without the retired key, then with it again at the end: the kept order still ranks it below the
    /// new key, whose checkpoints go on being cosigned (before the fix the new key was refused once it stood first).
    @Test func leavingTheRetiredKeyOutOrAddingItBackChangesNoRank() async throws {
        let keys = Keys()
        defer { keys.remove() }
        let first = try keys.witness([keys.retired, keys.new])
        _ = try await first.addCheckpoint(
            AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: try await keys.checkpoint(5, signedBy: keys.newKey))
        )
        let newOnly = try keys.witness([keys.new])
        let nine = try await keys.checkpoint(9, signedBy: keys.newKey)
        _ = try await newOnly.addCheckpoint(
            AddCheckpointRequest(oldSize: 5, proof: try keys.proof(5, 9), checkpoint: nine))
        #expect(throws: Witness.ConfigurationError.self) { try keys.witness([keys.new, keys.retired]) }
        let both = try keys.witness([keys.retired, keys.new])
        let stolen = try await keys.checkpoint(12)
        await #expect(throws: Witness.Refusal.conflict(latestSize: 9)) {
            try await both.addCheckpoint(
                AddCheckpointRequest(oldSize: 9, proof: try keys.proof(9, 12), checkpoint: stolen))
        }
        let twelve = try await keys.checkpoint(12, signedBy: keys.newKey)
        _ = try await both.addCheckpoint(
            AddCheckpointRequest(oldSize: 9, proof: try keys.proof(9, 12), checkpoint: twelve))
        #expect(await both.latest(origin: keys.log.origin)?.size == 12)
    }

    /// Review 9: a state file that exists but cannot be read was taken for no state, so the witness started afresh
    /// and cosigned a rolled-back log from size 0. Only an absent file starts afresh now.
    @Test func aStateFileThatCannotBeReadIsRefusedNotTakenForNone() async throws {
        let keys = Keys()
        defer { keys.remove() }
        try FileManager.default.createDirectory(at: keys.stateFile, withIntermediateDirectories: false)
        #expect(throws: AuditLogError.self) { try keys.witness([keys.retired]) }
        try FileManager.default.removeItem(at: keys.stateFile)
        try FileManager.default.createSymbolicLink(
            atPath: keys.stateFile.path, withDestinationPath: "/nonexistent-witness-state")
        #expect(throws: AuditLogError.self) { try keys.witness([keys.retired]) }
        try FileManager.default.removeItem(at: keys.stateFile)
        _ = try keys.witness([keys.retired])
    }

    /// Review 7, M1: a witness that knows only the new key (started after the rotation) is later given the retired
    /// key first, oldest first as documented. A key new to the state used to be ranked newest wherever it stood, so
    /// the retired key outranked the key in force; now a new key given before a known one is refused.
    @Test func aKeyNewToTheWitnessGivenBeforeAKnownOneIsRefused() async throws {
        let keys = Keys()
        defer { keys.remove() }
        let newOnly = try keys.witness([keys.new])
        _ = try await newOnly.addCheckpoint(
            AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: try await keys.checkpoint(5, signedBy: keys.newKey))
        )
        #expect(throws: Witness.ConfigurationError.self) { try keys.witness([keys.retired, keys.new]) }
    }

    /// Review 8, F4: the same witness (it knows only the new key) is given the retired key after it, the order the
    /// M1 check allows. A key new to the state used to be ranked newest, so the retired, possibly stolen key took the
    /// log from 5 to 9. Now a key new to the state signs nothing unless the key in force named it in a handover, and
    /// the new key's signature on a plain checkpoint, with the retired key's signature line added to it, names
    /// nobody (review 9, finding 1: that note endorsed the retired key in the first attempt at this fix).
    @Test func aRetiredKeyGivenAfterTheKeyInForceToAWitnessThatNeverSawItSignsNothing() async throws {
        let keys = Keys()
        defer { keys.remove() }
        let newOnly = try keys.witness([keys.new])
        _ = try await newOnly.addCheckpoint(
            AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: try await keys.checkpoint(5, signedBy: keys.newKey))
        )
        let both = try keys.witness([keys.new, keys.retired])
        let stolen = try await keys.checkpoint(9)
        await #expect(throws: Witness.Refusal.badSignature) {
            try await both.addCheckpoint(
                AddCheckpointRequest(oldSize: 5, proof: try keys.proof(5, 9), checkpoint: stolen))
        }
        // A checkpoint the new key signed, with the retired key's line added: taken as the new key's, no more.
        let newHead = try SignedCheckpoint(
            verifying: try await keys.checkpoint(9, signedBy: keys.newKey), with: keys.new)
        let pasted =
            newHead.note
            + (try NoteSigner(name: keys.log.origin, key: keys.log.key).signatureLine(for: newHead.checkpoint.text))
        _ = try await both.addCheckpoint(
            AddCheckpointRequest(oldSize: 5, proof: try keys.proof(5, 9), checkpoint: pasted))
        let further = try await keys.checkpoint(12)
        for witness in [both, try keys.witness([keys.new, keys.retired])] {
            await #expect(throws: Witness.Refusal.badSignature) {
                try await witness.addCheckpoint(
                    AddCheckpointRequest(oldSize: 9, proof: try keys.proof(9, 12), checkpoint: further))
            }
        }
    }

    /// The rotation the other way: the witness knows only the key in force (5), and is restarted with the new key
    /// added, or given in its place. The new key's checkpoints are refused until the handover that names it moves
    /// the log past the head; from then on it is the key in force, and the old key moves nothing.
    @Test(arguments: [true, false])
    func aNewKeyJoinsThroughTheHandoverThatNamesIt(keepingTheOldKey: Bool) async throws {
        let keys = Keys()
        defer { keys.remove() }
        let first = try keys.witness([keys.retired])
        _ = try await first.addCheckpoint(
            AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: try await keys.checkpoint(5)))
        let restarted = try keys.witness(keepingTheOldKey ? [keys.retired, keys.new] : [keys.new])
        let early = try await keys.checkpoint(7, signedBy: keys.newKey)
        await #expect(throws: Witness.Refusal.badSignature) {
            try await restarted.addCheckpoint(
                AddCheckpointRequest(oldSize: 5, proof: try keys.proof(5, 7), checkpoint: early))
        }
        let handover = try await keys.handover(9)
        _ = try await restarted.addCheckpoint(
            AddCheckpointRequest(oldSize: 5, proof: try keys.proof(5, 9), checkpoint: handover))
        let twelve = try await keys.checkpoint(12, signedBy: keys.newKey)
        _ = try await restarted.addCheckpoint(
            AddCheckpointRequest(oldSize: 9, proof: try keys.proof(9, 12), checkpoint: twelve))
        let later = try keys.witness([keys.retired, keys.new])
        let stolen = try await keys.checkpoint(15)
        await #expect(throws: Witness.Refusal.conflict(latestSize: 12)) {
            try await later.addCheckpoint(
                AddCheckpointRequest(oldSize: 12, proof: try keys.proof(12, 15), checkpoint: stolen))
        }
    }

    /// A witness still given only the old key takes the handover and keeps the key it names: from then on the old
    /// key moves nothing past the handover, and the start that gives the new key makes it the key in force.
    @Test func aWitnessThatMissedTheNewKeyKeepsTheNamedSuccessorAndHoldsTheOldKeyAtTheHandover() async throws {
        let keys = Keys()
        defer { keys.remove() }
        let stale = try keys.witness([keys.retired])
        _ = try await stale.addCheckpoint(
            AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: try await keys.checkpoint(5)))
        let handover = try await keys.handover(9)
        _ = try await stale.addCheckpoint(
            AddCheckpointRequest(oldSize: 5, proof: try keys.proof(5, 9), checkpoint: handover))
        let stolen = try await keys.checkpoint(12)
        for witness in [stale, try keys.witness([keys.retired])] {
            await #expect(throws: Witness.Refusal.conflict(latestSize: 9)) {
                try await witness.addCheckpoint(
                    AddCheckpointRequest(oldSize: 9, proof: try keys.proof(9, 12), checkpoint: stolen))
            }
        }
        let given = try keys.witness([keys.retired, keys.new])
        await #expect(throws: Witness.Refusal.conflict(latestSize: 9)) {
            try await given.addCheckpoint(
                AddCheckpointRequest(oldSize: 9, proof: try keys.proof(9, 12), checkpoint: stolen))
        }
        let twelve = try await keys.checkpoint(12, signedBy: keys.newKey)
        _ = try await given.addCheckpoint(
            AddCheckpointRequest(oldSize: 9, proof: try keys.proof(9, 12), checkpoint: twelve))
        #expect(await given.latest(origin: keys.log.origin)?.size == 12)
    }

    /// Review 9 (second round), finding 4: anyone can append a junk signature line under the new key's ID to the
    /// real handover, which failed the new key's own check and left it pending though given. The key in force's
    /// word is enough for a key the operator gave.
    @Test func aSpoiledSignatureLineOfTheNamedKeyDoesNotKeepItOut() async throws {
        let keys = Keys()
        defer { keys.remove() }
        _ = try await keys.witness([keys.retired]).addCheckpoint(
            AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: try await keys.checkpoint(5)))
        let witness = try keys.witness([keys.retired, keys.new])
        let keyID = NoteVerifier.keyIDBytes(keys.new.keyID)
        let junk =
            "\u{2014} \(keys.log.origin) " + Data(keyID + [UInt8](repeating: 7, count: 64)).base64EncodedString() + "\n"
        let spoiled = try await keys.handover(9) + junk
        _ = try await witness.addCheckpoint(
            AddCheckpointRequest(oldSize: 5, proof: try keys.proof(5, 9), checkpoint: spoiled))
        let twelve = try await keys.checkpoint(12, signedBy: keys.newKey)
        _ = try await witness.addCheckpoint(
            AddCheckpointRequest(oldSize: 9, proof: try keys.proof(9, 12), checkpoint: twelve))
        #expect(await witness.latest(origin: keys.log.origin)?.size == 12)
    }

    /// Review 9 (second round), finding 1: a rotation made before handovers named their successor leaves a witness
    /// that knew only the old key no way to take the new one. The operator adopts it (`--adopt-log-key`), which is
    /// written to the state; adopting a key the state knows as older is refused.
    @Test func anOperatorAdoptsTheNewKeyOfAHandoverThatNamesNone() async throws {
        let keys = Keys()
        defer { keys.remove() }
        _ = try await keys.witness([keys.retired]).addCheckpoint(
            AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: try await keys.checkpoint(5)))
        // The old handover: both keys sign the plain checkpoint text.
        let head = try SignedCheckpoint(verifying: try await keys.checkpoint(9), with: keys.retired)
        let legacy =
            head.note
            + (try NoteSigner(name: keys.log.origin, key: keys.newKey).signatureLine(for: head.checkpoint.text))
        let given = try keys.witness([keys.retired, keys.new])
        _ = try await given.addCheckpoint(
            AddCheckpointRequest(oldSize: 5, proof: try keys.proof(5, 9), checkpoint: legacy))
        let twelve = try await keys.checkpoint(12, signedBy: keys.newKey)
        await #expect(throws: Witness.Refusal.badSignature) {
            try await given.addCheckpoint(
                AddCheckpointRequest(oldSize: 9, proof: try keys.proof(9, 12), checkpoint: twelve))
        }
        _ = try Witness(
            signer: keys.cosigner, logs: [keys.retired, keys.new], stateFile: keys.stateFile, adopting: [keys.new])
        // Kept in the state: a later start without the adoption still has the new key in force.
        let later = try keys.witness([keys.retired, keys.new])
        let stolen = try await keys.checkpoint(12)
        await #expect(throws: Witness.Refusal.conflict(latestSize: 9)) {
            try await later.addCheckpoint(
                AddCheckpointRequest(oldSize: 9, proof: try keys.proof(9, 12), checkpoint: stolen))
        }
        _ = try await later.addCheckpoint(
            AddCheckpointRequest(oldSize: 9, proof: try keys.proof(9, 12), checkpoint: twelve))
        #expect(throws: Witness.ConfigurationError.self) {
            try Witness(
                signer: keys.cosigner, logs: [keys.retired, keys.new], stateFile: keys.stateFile,
                adopting: [keys.retired])
        }
    }
}
