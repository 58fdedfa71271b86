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
        // Given after the known key it is ranked newest, as the operator's order says.
        let both = try keys.witness([keys.new, keys.retired])
        let next = try await keys.checkpoint(9)
        _ = try await both.addCheckpoint(
            AddCheckpointRequest(oldSize: 5, proof: try keys.proof(5, 9), checkpoint: next))
        #expect(await both.latest(origin: keys.log.origin)?.size == 9)
    }
}
