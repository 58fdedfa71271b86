public import Foundation

/// A self-contained, offline-checkable proof that an entry is in the log: the leaf data, its audit path, and the
/// signed checkpoint it leads to. Serialises to JSON for `audit prove` / `audit verify-proof`.
public struct InclusionProof: Sendable, Equatable, Codable {
    /// The entry's index.
    public var index: UInt64
    /// The checkpoint's tree size.
    public var treeSize: UInt64
    /// The audit path, leaf to root.
    public var hashes: [TreeHash]
    /// The exact leaf bytes (`{"entry":...,"index":N}`).
    public var leafData: Data
    /// The signed checkpoint note.
    public var checkpoint: String

    /// Creates a proof.
    public init(index: UInt64, treeSize: UInt64, hashes: [TreeHash], leafData: Data, checkpoint: String) {
        self.index = index
        self.treeSize = treeSize
        self.hashes = hashes
        self.leafData = leafData
        self.checkpoint = checkpoint
    }

    /// Checks the proof offline against the log's key and returns the proven entry.
    ///
    /// Verifies the checkpoint signature, that it covers `treeSize`, that the leaf records `index`, and that the
    /// audit path leads from the leaf hash to the checkpoint root.
    @discardableResult
    public func verify(with verifier: NoteVerifier) throws -> AuditEntry {
        let signed = try SignedCheckpoint(verifying: checkpoint, with: verifier)
        guard signed.checkpoint.size == treeSize else { throw AuditLogError.invalidProof }
        let record = AuditRecord(index: index, leafData: leafData, leafHash: Merkle.leafHash(leafData))
        guard let entry = try? record.entry() else { throw AuditLogError.invalidProof }
        guard
            Merkle.verifyInclusion(
                index: index, treeSize: treeSize, leafHash: record.leafHash, proof: hashes,
                root: signed.checkpoint.rootHash)
        else { throw AuditLogError.invalidProof }
        return entry
    }

    enum CodingKeys: String, CodingKey { case index, treeSize = "tree_size", hashes, leafData = "leaf", checkpoint }

    /// Encodes hashes as base64 and the leaf as its JSON text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(index, forKey: .index)
        try container.encode(treeSize, forKey: .treeSize)
        try container.encode(hashes.map(\.base64), forKey: .hashes)
        try container.encode(String(decoding: leafData, as: UTF8.self), forKey: .leafData)
        try container.encode(checkpoint, forKey: .checkpoint)
    }

    /// Decodes the form written by `encode(to:)`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        index = try container.decode(UInt64.self, forKey: .index)
        treeSize = try container.decode(UInt64.self, forKey: .treeSize)
        hashes = try container.decode([String].self, forKey: .hashes).map {
            guard let hash = TreeHash(base64: $0) else { throw AuditLogError.invalidProof }
            return hash
        }
        leafData = Data(try container.decode(String.self, forKey: .leafData).utf8)
        checkpoint = try container.decode(String.self, forKey: .checkpoint)
    }
}
