import Crypto
import Foundation

/// What opening a log adopted after a writer that did not close (killed, or power lost).
///
/// Such a writer can leave entries after the latest checkpoint (appended and synced, not yet signed) and an
/// unfinished record. The next writer that finds no other writer open checks the tail (each record's leaf hash, its
/// position, and that it decodes as an entry; the tree up to the checkpoint must match the checkpoint's root), cuts
/// the unfinished record, signs a checkpoint over what it adopts and records both in an `audit.recover` entry. A
/// crash is therefore never called an attack, and an adopted tail is never signed silently: whoever reads the log
/// sees which entries no writer signed before recovery.
public struct AuditRecovery: Sendable, Equatable, CustomStringConvertible {
    /// The entries adopted (they were after the latest checkpoint).
    public var adopted: Range<UInt64>
    /// Bytes cut after the last good record (unfinished records, and the rest of the file after them).
    public var discardedBytes: Int
    /// The index of the `audit.recover` entry.
    public var entryIndex: UInt64

    /// One line for the CLI.
    public var description: String {
        "audit log recovered after a writer that did not close: adopted \(adopted.count) unsigned entries "
            + "(\(adopted.lowerBound)..<\(adopted.upperBound)), cut \(discardedBytes) bytes of unfinished records "
            + "(recorded as entry \(entryIndex))"
    }
}

extension DiskState {
    /// Adopts the tail left by a writer that did not close (see ``AuditRecovery``). Must run under the lock, with no
    /// other writer open.
    mutating func adoptUnsignedTail(of files: LogFiles, signer: NoteSigner) throws -> AuditRecovery? {
        let signed = lastCheckpoint?.checkpoint.size ?? 0
        guard tree.size > signed || discardedBytes > 0 else { return nil }
        let adopted = signed..<tree.size
        if !adopted.isEmpty { try checkEntries(adopted, in: files, sealKey: signer.recordSealKey) }
        let detail =
            "adopted entries \(adopted.lowerBound)..<\(adopted.upperBound) left unsigned by a writer that did not "
            + "close; cut \(discardedBytes) bytes of unfinished records"
        let entry = AuditEntry(
            principal: "modelvault", action: "audit.recover", resource: "audit", outcome: .allowed,
            requestID: UUID().uuidString, detail: detail)
        let firstIndices = try writeRecords(
            [[try entry.canonicalJSON()]], to: files, sealKey: signer.recordSealKey)
        try files.entries.sync()
        try writeCheckpoint(size: tree.size, root: tree.root, to: files, signer: signer)
        return AuditRecovery(adopted: adopted, discardedBytes: discardedBytes, entryIndex: firstIndices[0])
    }

    /// Throws `corruptRecord` unless every record in `range` decodes as an entry at its index, and `unsealedTail`
    /// unless each carries a seal under `sealKey` (the writers' open marker is a plain file anyone can write: the
    /// seal is what shows that a writer, not someone with the directory, appended the record).
    private func checkEntries(_ range: Range<UInt64>, in files: LogFiles, sealKey: SymmetricKey) throws {
        let data = try files.entries.readRecords(from: 0, upTo: entriesLength)
        let (lines, _, _) = EntriesFile.lineRanges(in: data)
        guard range.upperBound <= UInt64(lines.count) else { throw AuditLogError.corruptRecord }
        try data.withUnsafeBytes { buffer in
            for index in range {
                guard let parsed = EntriesFile.parse(UnsafeRawBufferPointer(rebasing: buffer[lines[Int(index)]])) else {
                    throw AuditLogError.corruptRecord
                }
                let leaf = Data(parsed.leaf)
                let record = AuditRecord(index: index, leafData: leaf, leafHash: parsed.stored)
                _ = try record.entry()
                guard record.isSealed(by: sealKey) else { throw AuditLogError.unsealedTail }
            }
        }
    }
}
