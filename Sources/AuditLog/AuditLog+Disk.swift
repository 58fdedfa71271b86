import Foundation

/// The two files of an audit directory.
struct LogFiles: Sendable {
    let entries: LogFile
    let checkpoints: LogFile

    static func open(_ directory: URL) throws -> LogFiles {
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let entriesURL = directory.appendingPathComponent(EntriesFile.entriesName)
        let created = !FileManager.default.fileExists(atPath: entriesURL.path)
        let entries = try LogFile.open(entriesURL)
        let checkpoints: LogFile
        do {
            checkpoints = try LogFile.open(directory.appendingPathComponent(EntriesFile.checkpointsName))
        } catch {
            entries.close()
            throw error
        }
        if created { LogFile.syncDirectory(directory) }
        return LogFiles(entries: entries, checkpoints: checkpoints)
    }

    /// Runs `body` holding the exclusive lock that serialises writers (across processes too).
    func locked<T>(_ body: () throws -> T) throws -> T {
        try entries.lock()
        defer { entries.unlock() }
        return try body()
    }

    func close() {
        entries.close()
        checkpoints.close()
    }
}

/// What a writer knows of the files: the tree over the entries, file lengths, latest checkpoint.
struct DiskState: Sendable {
    var tree = CompactRange()
    var entriesLength = 0
    var checkpointsLength = 0
    var lastCheckpoint: SignedCheckpoint?

    /// This state advanced over whatever was appended since (by another writer, or before a crash).
    ///
    /// New checkpoints are read first and the latest must verify. New records are folded into the tree: records
    /// a checkpoint covers are taken by their stored hash (the verifier rechecks them), later ones are checked in
    /// full, and the first bad or unfinished one is cut off with everything after it (the torn end of an interrupted
    /// batch). Must run under the lock.
    func caughtUp(with files: LogFiles, verifier: NoteVerifier) throws -> DiskState {
        var state = self
        let checkpointsSize = try files.checkpoints.size()
        guard checkpointsSize >= state.checkpointsLength else { throw AuditLogError.corruptCheckpoint }
        if checkpointsSize > state.checkpointsLength {
            let data = try files.checkpoints.read(
                from: state.checkpointsLength, count: checkpointsSize - state.checkpointsLength)
            let (notes, complete) = SignedCheckpoint.splitNotes(String(decoding: data, as: UTF8.self))
            if complete < data.count { try files.checkpoints.truncate(to: state.checkpointsLength + complete) }
            if let note = notes.last {
                let newest = try SignedCheckpoint(verifying: note, with: verifier)
                guard newest.checkpoint.size >= state.lastCheckpoint?.checkpoint.size ?? 0 else {
                    throw AuditLogError.checkpointMismatch
                }
                state.lastCheckpoint = newest
            }
            state.checkpointsLength += complete
        }

        let entriesSize = try files.entries.size()
        guard entriesSize >= state.entriesLength else { throw AuditLogError.logShorterThanCheckpoint }
        let checkpointSize = state.lastCheckpoint?.checkpoint.size ?? 0
        var rootAtCheckpoint: TreeHash? = state.tree.size == checkpointSize ? state.tree.root : nil
        if entriesSize > state.entriesLength {
            let data = try files.entries.read(from: state.entriesLength, count: entriesSize - state.entriesLength)
            let (lines, complete) = EntriesFile.lineRanges(in: data)
            var kept = complete
            var tree = state.tree
            try data.withUnsafeBytes { buffer in
                for range in lines {
                    let parsed = EntriesFile.parse(UnsafeRawBufferPointer(rebasing: buffer[range]))
                    if tree.size >= checkpointSize {
                        guard let parsed, Merkle.leafHash(parsed.leaf) == parsed.stored,
                            AuditRecord.trailingIndex(parsed.leaf) == tree.size
                        else {
                            kept = range.lowerBound
                            break
                        }
                    }
                    guard let parsed else { throw AuditLogError.corruptRecord }
                    tree.append(parsed.stored)
                    if tree.size == checkpointSize { rootAtCheckpoint = tree.root }
                }
            }
            if kept < data.count { try files.entries.truncate(to: state.entriesLength + kept) }
            state.tree = tree
            state.entriesLength += kept
        }
        if let checkpoint = state.lastCheckpoint?.checkpoint {
            guard state.tree.size >= checkpoint.size else { throw AuditLogError.logShorterThanCheckpoint }
            // A checkpoint below what this writer had already seen was checked when it was first read.
            if let rootAtCheckpoint, rootAtCheckpoint != checkpoint.rootHash { throw AuditLogError.checkpointMismatch }
        }
        return state
    }

    /// Appends the records of each group with consecutive indices (one write, one sync) and returns each group's
    /// first index. On failure the file is cut back, so no partial record stays behind. Must run under the lock.
    mutating func writeRecords(_ groups: [[Data]], to files: LogFiles) throws -> [UInt64] {
        var tree = self.tree
        var bytes = Data()
        var firstIndices: [UInt64] = []
        firstIndices.reserveCapacity(groups.count)
        for group in groups {
            firstIndices.append(tree.size)
            for json in group {
                let record = AuditRecord(index: tree.size, entryJSON: json)
                bytes.append(record.line)
                tree.append(record.leafHash)
            }
        }
        try Self.appendDurably(bytes, to: files.entries, restoringLength: entriesLength)
        self.tree = tree
        entriesLength += bytes.count
        return firstIndices
    }

    /// Signs and appends a checkpoint of the current tree, unless the latest already covers it.
    mutating func writeCheckpoint(to files: LogFiles, signer: NoteSigner) throws {
        if let lastCheckpoint, lastCheckpoint.checkpoint.size == tree.size { return }
        let signed = try SignedCheckpoint(
            signing: Checkpoint(origin: signer.name, size: tree.size, rootHash: tree.root), with: signer)
        let note = Data(signed.note.utf8)
        try Self.appendDurably(note, to: files.checkpoints, restoringLength: checkpointsLength)
        checkpointsLength += note.count
        lastCheckpoint = signed
    }

    private static func appendDurably(_ data: Data, to file: LogFile, restoringLength length: Int) throws {
        do {
            try file.append(data)
            try file.sync()
        } catch {
            try? file.truncate(to: length)
            throw error
        }
    }
}
