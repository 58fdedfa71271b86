import Crypto
import Foundation
import TestSupport
import Testing

@testable import AuditLog

/// Replays `Fuzz/Corpus/signed-note` with the fuzz target's calls, then seeded mutations of it (`FuzzCorpus`):
/// notes, checkpoints, cosignatures, add-checkpoint bodies and verifier keys parse or throw, never trap.
@Suite struct SignedNoteFuzzCorpusTests {
    @Test func signedNoteCorpusReplays() throws {
        // The fuzz target's fixed keys.
        let logKey = try Curve25519.Signing.PrivateKey(rawRepresentation: Data(repeating: 7, count: 32))
        let witnessKey = try Curve25519.Signing.PrivateKey(rawRepresentation: Data(repeating: 9, count: 32))
        let signer = try NoteSigner(name: "modelvault.example/log", key: logKey)
        let verifier = signer.verifier
        let cosignatures = try CosignatureVerifier(name: "witness.example", publicKey: witnessKey.publicKey)
        let run = try FuzzCorpus.replay("signed-note") { bytes in
            guard let mode = bytes.first else { return false }
            let rest = Data(bytes.dropFirst())
            let text = String(decoding: rest, as: UTF8.self)
            switch mode % 5 {
            case 0: return (try? SignedCheckpoint(verifying: text, with: verifier)) != nil
            case 1:
                guard let note = try? signer.sign(text) else { return false }
                return (try? SignedCheckpoint(verifying: note, with: verifier)) != nil
            case 2: return (try? cosignatures.verify(text)) != nil
            case 3:
                guard let request = try? AddCheckpointRequest(body: rest) else { return false }
                return (try? SignedCheckpoint(verifying: request.checkpoint, with: verifier)) != nil
            default:
                let note = try? NoteVerifier(vkey: text)
                let cosignature = try? CosignatureVerifier(vkey: text)
                return note != nil || cosignature != nil
            }
        }
        #expect(run.replayed >= 5)
        #expect(run.accepted >= 1)
    }
}
