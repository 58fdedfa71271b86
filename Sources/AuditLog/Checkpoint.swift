import Foundation

/// A tree head in C2SP tlog-checkpoint form: origin line, tree size line, base64 root hash line.
public struct Checkpoint: Sendable, Equatable, Codable {
    /// The log identity (also the signing key name).
    public var origin: String
    /// Number of leaves.
    public var size: UInt64
    /// RFC 6962 root of the first `size` leaves.
    public var rootHash: TreeHash

    /// Creates a checkpoint.
    public init(origin: String, size: UInt64, rootHash: TreeHash) {
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
    }

    /// The note text that is signed.
    public var text: String { "\(origin)\n\(size)\n\(rootHash.base64)\n" }

    /// Parses a checkpoint note text (extension lines are accepted and ignored).
    public init(text: String) throws {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard text.hasSuffix("\n"), lines.count >= 4, !lines[0].isEmpty,
            let size = UInt64(lines[1]), String(size) == lines[1],
            let root = TreeHash(base64: String(lines[2]))
        else { throw AuditLogError.corruptCheckpoint }
        self.init(origin: String(lines[0]), size: size, rootHash: root)
    }

    enum CodingKeys: String, CodingKey { case origin, size, rootHash = "root" }

    /// Encodes with the root in base64.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(origin, forKey: .origin)
        try container.encode(size, forKey: .size)
        try container.encode(rootHash.base64, forKey: .rootHash)
    }

    /// Decodes the form written by `encode(to:)`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let root = TreeHash(base64: try container.decode(String.self, forKey: .rootHash)) else {
            throw AuditLogError.corruptCheckpoint
        }
        self.init(
            origin: try container.decode(String.self, forKey: .origin),
            size: try container.decode(UInt64.self, forKey: .size), rootHash: root)
    }
}

/// A checkpoint with its signed-note form.
public struct SignedCheckpoint: Sendable, Equatable {
    /// The parsed checkpoint.
    public var checkpoint: Checkpoint
    /// The complete signed note (text, blank line, signature lines).
    public var note: String

    /// Signs a checkpoint.
    public init(signing checkpoint: Checkpoint, with signer: NoteSigner) throws {
        self.checkpoint = checkpoint
        self.note = try signer.sign(checkpoint.text)
    }

    /// A checkpoint and a note already signed over it (and possibly its extension lines).
    init(checkpoint: Checkpoint, note: String) {
        self.checkpoint = checkpoint
        self.note = note
    }

    /// Verifies a signed note and parses its checkpoint; the origin must equal the key name.
    public init(verifying note: String, with verifier: NoteVerifier) throws {
        let text = try verifier.verify(note)
        let checkpoint = try Checkpoint(text: text)
        guard checkpoint.origin == verifier.name else { throw AuditLogError.unknownKey }
        self.checkpoint = checkpoint
        self.note = note
    }

    /// Splits a checkpoints file into notes. A trailing incomplete note (crash mid-write) is returned
    /// separately as the byte count of the complete prefix.
    static func splitNotes(_ text: String) -> (notes: [String], completeByteCount: Int) {
        var notes: [String] = []
        var current: [Substring] = []
        var inSignatures = false
        var consumed = 0
        var completeBytes = 0
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // The final element after the last "\n" is either empty (complete) or a partial line.
        for (number, line) in lines.enumerated() {
            let isLast = number == lines.count - 1
            if isLast { break }
            let lineBytes = line.utf8.count + 1
            if inSignatures && !line.hasPrefix("\u{2014} ") {
                notes.append(current.joined(separator: "\n") + "\n")
                completeBytes = consumed
                current = []
                inSignatures = false
            }
            if line.isEmpty && !inSignatures {
                inSignatures = true
            }
            current.append(line)
            consumed += lineBytes
        }
        if inSignatures, let last = current.last, last.hasPrefix("\u{2014} ") {
            notes.append(current.joined(separator: "\n") + "\n")
            completeBytes = consumed
        }
        return (notes, completeBytes)
    }
}
