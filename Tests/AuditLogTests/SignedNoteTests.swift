import Crypto
import Foundation
import Testing

@testable import AuditLog

@Suite struct SignedNoteTests {
    /// The example verifier key and note from c2sp.org/signed-note.
    static let specVKey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    static let specNote = """
        This is an example message.

        \u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=

        """

    @Test func verifiesTheSpecExample() throws {
        let verifier = try NoteVerifier(vkey: Self.specVKey)
        #expect(verifier.name == "example.com/foo")
        #expect(verifier.keyID == 0x530d_903a)
        #expect(verifier.vkey == Self.specVKey)
        #expect(try verifier.verify(Self.specNote) == "This is an example message.\n")
    }

    @Test func rejectsAModifiedSpecExample() throws {
        let verifier = try NoteVerifier(vkey: Self.specVKey)
        let altered = Self.specNote.replacingOccurrences(of: "example message", with: "exemplary message")
        #expect(throws: AuditLogError.badSignature) { try verifier.verify(altered) }
    }

    @Test func ignoresUnknownKeysButNeedsOneKnownSignature() throws {
        let verifier = try NoteVerifier(vkey: Self.specVKey)
        let other = try NoteSigner(name: "other.example/key", key: Curve25519.Signing.PrivateKey())
        let foreign = try other.sign("This is an example message.\n")
        #expect(throws: AuditLogError.unknownKey) { try verifier.verify(foreign) }
        // A foreign signature next to the valid one is ignored.
        let foreignLine = foreign.split(separator: "\n").last!
        let cosigned = Self.specNote + foreignLine + "\n"
        #expect(try verifier.verify(cosigned) == "This is an example message.\n")
    }

    @Test func signsAndVerifiesRoundTrip() throws {
        let key = Curve25519.Signing.PrivateKey()
        let signer = try NoteSigner(name: "vault.example/audit", key: key)
        let note = try signer.sign("hello\nworld\n")
        #expect(note.hasPrefix("hello\nworld\n\n\u{2014} vault.example/audit "))
        #expect(try signer.verifier.verify(note) == "hello\nworld\n")
        let parsed = try NoteVerifier(vkey: signer.verifier.vkey)
        #expect(parsed == signer.verifier)
        // Key ID per spec: SHA-256(name || 0x0A || 0x01 || key)[:4].
        let digest = Array(
            SHA256.hash(data: Array("vault.example/audit\n".utf8) + [0x01] + key.publicKey.rawRepresentation))
        #expect(signer.verifier.keyID == digest[0..<4].reduce(0) { $0 << 8 | UInt32($1) })
        let wrongKey = try NoteVerifier(
            name: "vault.example/audit", publicKey: Curve25519.Signing.PrivateKey().publicKey)
        #expect(throws: AuditLogError.unknownKey) { try wrongKey.verify(note) }
    }

    @Test func rejectsInvalidKeyNames() {
        for name in ["", "a b", "a+b"] {
            #expect(throws: AuditLogError.invalidOrigin) {
                try NoteSigner(name: name, key: Curve25519.Signing.PrivateKey())
            }
        }
    }

    @Test func checkpointTextFollowsTlogCheckpoint() throws {
        let root = Merkle.leafHash([1, 2, 3])
        let checkpoint = Checkpoint(origin: "vault.example/audit", size: 20_852_163, rootHash: root)
        #expect(checkpoint.text == "vault.example/audit\n20852163\n\(root.base64)\n")
        #expect(try Checkpoint(text: checkpoint.text) == checkpoint)
        for bad in ["x\n01\n\(root.base64)\n", "x\n1\nnotbase64\n", "x\n1\n\(root.base64)", "\n1\n\(root.base64)\n"] {
            #expect(throws: AuditLogError.corruptCheckpoint) { try Checkpoint(text: bad) }
        }
        let signer = try NoteSigner(name: "vault.example/audit", key: Curve25519.Signing.PrivateKey())
        let signed = try SignedCheckpoint(signing: checkpoint, with: signer)
        #expect(try SignedCheckpoint(verifying: signed.note, with: signer.verifier) == signed)
    }

    @Test func splitsACheckpointsFileAndFindsATornTail() throws {
        let signer = try NoteSigner(name: "o", key: Curve25519.Signing.PrivateKey())
        let notes = try (1...3).map {
            try SignedCheckpoint(
                signing: Checkpoint(origin: "o", size: UInt64($0), rootHash: Merkle.emptyRoot),
                with: signer
            ).note
        }
        let file = notes.joined()
        let (split, complete) = SignedCheckpoint.splitNotes(file)
        #expect(split == notes)
        #expect(complete == file.utf8.count)
        let firstTwo = notes[0].utf8.count + notes[1].utf8.count
        for cut in firstTwo..<file.utf8.count {
            let torn = String(decoding: Array(file.utf8)[0..<cut], as: UTF8.self)
            let (partial, kept) = SignedCheckpoint.splitNotes(torn)
            #expect(partial == Array(notes[0..<2]), "cut at \(cut)")
            #expect(kept == firstTwo)
        }
    }
}
