public import Foundation

/// Read-only access to an audit directory: entries, checkpoints, proofs, tail and export.
/// Needs no signing key and takes no lock, so `audit tail|export|prove` run beside a live writer.
public struct AuditLogReader: Sendable {
    /// The audit directory.
    public let directory: URL

    /// Reads the log in `directory`.
    public init(directory: URL) {
        self.directory = directory
    }

    /// Every complete record, in order. Leaf hashes are recomputed from the stored data, not trusted: a record whose
    /// text no longer matches the hash stored beside it throws (a checkpoint binds the stored hashes, and a writer's
    /// catch-up reads only those, so text swapped under a kept hash would otherwise pass for signed).
    public func records() throws -> [AuditRecord] {
        let data = try AuditVerifier.readIfPresent(directory.appendingPathComponent(EntriesFile.entriesName))
        let (lines, _, _) = EntriesFile.lineRanges(in: data)
        return try data.withUnsafeBytes { buffer in
            try lines.enumerated().map { number, range in
                guard let parsed = EntriesFile.parse(UnsafeRawBufferPointer(rebasing: buffer[range])) else {
                    throw AuditLogError.corruptRecord
                }
                let leafData = Data(parsed.leaf)
                let leafHash = Merkle.leafHash(leafData)
                guard leafHash == parsed.stored else { throw AuditLogError.corruptRecord }
                return AuditRecord(index: UInt64(number), leafData: leafData, leafHash: leafHash)
            }
        }
    }

    /// The records `checkpoint` covers, read once and checked against its signed root: a record appended after it
    /// (sealed or not) is left out, and a covered record changed or swapped since it was signed is refused, even when
    /// the file changes between a verification and this read. Pass a checkpoint whose signature was checked.
    public func records(coveredBy checkpoint: Checkpoint) throws -> [AuditRecord] {
        let all = try records()
        guard UInt64(all.count) >= checkpoint.size else { throw AuditLogError.logShorterThanCheckpoint }
        let covered = Array(all.prefix(Int(checkpoint.size)))
        guard Merkle.root(of: covered.lazy.map(\.leafHash)) == checkpoint.rootHash else {
            throw AuditLogError.checkpointMismatch
        }
        return covered
    }

    /// Every complete record, each bound to the audit key: every checkpoint in `checkpoints.log` must verify under
    /// `keys` (as must `known`, one the caller already holds), the records up to each one's size must give its root
    /// (their text, not the hashes stored beside it), and every record after the largest must carry `signer`'s seal.
    /// Taking the largest signed size, not the last note, catches a log cut back with an older note appended.
    /// Throws ``AuditLogError/logShorterThanCheckpoint``, ``AuditLogError/checkpointMismatch``,
    /// ``AuditLogError/corruptRecord``, ``AuditLogError/unsealedTail`` or a note's verification error.
    public func checkedRecords(
        keys: AuditKeyChain, signer: NoteSigner, known: Checkpoint? = nil
    ) throws -> [AuditRecord] {
        let records = try records()
        var checkpoints = try checkpointNotes().map { note in
            // As a writer's catch-up: a signature under the log's name from a key the chain does not hold means the
            // log was handed over to a key this reader does not know (or a line was planted), and it is refused.
            guard NoteVerifier.signatureKeyIDs(in: note, name: keys.origin).allSatisfy(keys.contains(keyID:)) else {
                throw AuditLogError.keyRetired
            }
            return try keys.verify(note).checkpoint
        }
        if let known { checkpoints.append(known) }
        checkpoints = checkpoints.filter { $0.size > 0 }.sorted { $0.size < $1.size }
        let largest = checkpoints.last?.size ?? 0
        guard UInt64(records.count) >= largest else { throw AuditLogError.logShorterThanCheckpoint }
        var tree = CompactRange()
        var next = 0
        for record in records.prefix(Int(largest)) {
            tree.append(record.leafHash)
            while next < checkpoints.count, checkpoints[next].size == tree.size {
                guard tree.root == checkpoints[next].rootHash else { throw AuditLogError.checkpointMismatch }
                next += 1
            }
        }
        for record in records[Int(largest)...] where !record.isSealed(by: signer.recordSealKey) {
            throw AuditLogError.unsealedTail
        }
        return records
    }

    /// The entries `checkpoint` covers, with their indices (see ``records(coveredBy:)``).
    public func entries(coveredBy checkpoint: Checkpoint) throws -> [(index: UInt64, entry: AuditEntry)] {
        try records(coveredBy: checkpoint).map { ($0.index, try $0.entry()) }
    }

    /// Every entry with its index, in order.
    public func entries() throws -> [(index: UInt64, entry: AuditEntry)] {
        try records().map { ($0.index, try $0.entry()) }
    }

    /// The last `count` entries.
    public func tail(_ count: Int) throws -> [(index: UInt64, entry: AuditEntry)] {
        try records().suffix(max(0, count)).map { ($0.index, try $0.entry()) }
    }

    /// Entries at or after `since` (all when `nil`).
    public func entries(since: Date?) throws -> [(index: UInt64, entry: AuditEntry)] {
        let all = try entries()
        guard let since else { return all }
        return all.filter { $0.entry.time >= since }
    }

    /// Every checkpoint that verifies under `verifier`, in file order.
    public func checkpoints(verifiedBy verifier: NoteVerifier) throws -> [SignedCheckpoint] {
        let data = try AuditVerifier.readIfPresent(directory.appendingPathComponent(EntriesFile.checkpointsName))
        let (notes, _) = SignedCheckpoint.splitNotes(String(decoding: data, as: UTF8.self))
        return try notes.map { try SignedCheckpoint(verifying: $0, with: verifier) }
    }

    /// Every complete checkpoint note in file order, unverified.
    public func checkpointNotes() throws -> [String] {
        let data = try AuditVerifier.readIfPresent(directory.appendingPathComponent(EntriesFile.checkpointsName))
        return SignedCheckpoint.splitNotes(String(decoding: data, as: UTF8.self)).notes
    }

    /// Every checkpoint that verifies under the key of `keys` responsible for its size, in file order.
    public func checkpoints(verifiedBy keys: AuditKeyChain) throws -> [SignedCheckpoint] {
        let data = try AuditVerifier.readIfPresent(directory.appendingPathComponent(EntriesFile.checkpointsName))
        let (notes, _) = SignedCheckpoint.splitNotes(String(decoding: data, as: UTF8.self))
        return try notes.map { try keys.verify($0) }
    }

    /// An inclusion proof for entry `index` against the latest checkpoint that covers it.
    public func inclusionProof(index: UInt64, verifiedBy verifier: NoteVerifier) throws -> InclusionProof {
        try inclusionProof(index: index, verifiedBy: try AuditKeyChain(current: verifier))
    }

    /// An inclusion proof for entry `index` against the latest checkpoint that covers it, across key rotations.
    public func inclusionProof(index: UInt64, verifiedBy keys: AuditKeyChain) throws -> InclusionProof {
        guard let checkpoint = try checkpoints(verifiedBy: keys).last(where: { $0.checkpoint.size > index })
        else { throw AuditLogError.indexOutOfRange }
        let records = try records()
        let size = Int(checkpoint.checkpoint.size)
        guard records.count >= size else { throw AuditLogError.logShorterThanCheckpoint }
        let leaves = records.prefix(size).map(\.leafHash)
        let record = records[Int(index)]
        let path = try Merkle.inclusionProof(index: Int(index), in: leaves[...])
        guard
            Merkle.verifyInclusion(
                index: index, treeSize: UInt64(size), leafHash: record.leafHash, proof: path,
                root: checkpoint.checkpoint.rootHash)
        else { throw AuditLogError.checkpointMismatch }
        return InclusionProof(
            index: index, treeSize: UInt64(size), hashes: path, leafData: record.leafData, checkpoint: checkpoint.note)
    }

    /// A consistency proof between two tree sizes of the current log.
    public func consistencyProof(from oldSize: UInt64, to newSize: UInt64) throws -> [TreeHash] {
        let records = try records()
        guard newSize <= UInt64(records.count), oldSize <= newSize else { throw AuditLogError.indexOutOfRange }
        return try Merkle.consistencyProof(from: Int(oldSize), in: records.prefix(Int(newSize)).map(\.leafHash)[...])
    }
}

extension AuditRecord {
    init(index: UInt64, leafData: Data, leafHash: TreeHash) {
        self.index = index
        self.leafData = leafData
        self.leafHash = leafHash
    }
}
