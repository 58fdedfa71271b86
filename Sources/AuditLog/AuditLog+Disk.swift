import Crypto
import Foundation

/// The two files of an audit directory.
struct LogFiles: Sendable {
    let entries: LogFile
    let checkpoints: LogFile
    /// Held shared by every open writer (see `EntriesFile.writersName`); not empty while a writer is open or after
    /// one did not close.
    let writers: LogFile
    /// The log predates the writers' marker.
    let legacy: Bool

    /// Whether the marker says a writer is open or did not close (crashed); the last writer to close empties it.
    func writerDidNotClose() throws -> Bool {
        try legacy || writers.size() > 0
    }

    /// Marks a writer open (durably, before it appends anything).
    func markWriterOpen() throws {
        guard try writers.size() == 0 else { return }
        try writers.overwrite(Data("open\n".utf8), at: 0)
        try writers.sync()
    }

    /// Marks every writer closed, if this is the last one open.
    func markClosedIfLast() {
        guard writers.tryLockExclusive() else { return }
        try? writers.truncate(to: 0)
    }

    static func open(_ directory: URL) throws -> LogFiles {
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let entriesURL = directory.appendingPathComponent(EntriesFile.entriesName)
        let created = !FileManager.default.fileExists(atPath: entriesURL.path)
        // Written at known offsets, not appended: the file may end in preallocated zeroes.
        let entries = try LogFile.open(entriesURL, appending: false)
        let checkpoints: LogFile
        do {
            checkpoints = try LogFile.open(directory.appendingPathComponent(EntriesFile.checkpointsName))
        } catch {
            entries.close()
            throw error
        }
        let writers: LogFile
        let writersURL = directory.appendingPathComponent(EntriesFile.writersName)
        // A log from before the marker existed: its last writers never closed cleanly (treated as a crash).
        let legacy = !created && !FileManager.default.fileExists(atPath: writersURL.path)
        do {
            writers = try LogFile.open(writersURL, appending: false)
        } catch {
            entries.close()
            checkpoints.close()
            throw error
        }
        if created {
            do {
                try LogFile.syncDirectory(directory)
            } catch {
                entries.close()
                checkpoints.close()
                writers.close()
                throw error
            }
        }
        return LogFiles(entries: entries, checkpoints: checkpoints, writers: writers, legacy: legacy)
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
        writers.close()
    }
}

/// What a writer knows of the files: the tree over the entries, file lengths, latest checkpoint.
struct DiskState: Sendable {
    var tree = CompactRange()
    var entriesLength = 0
    var checkpointsLength = 0
    var lastCheckpoint: SignedCheckpoint?
    /// The entries file length last seen: the records, then zeroes a writer preallocated.
    var allocatedLength = 0
    /// Preallocations made by this writer; each one is twice the last.
    var extensions = 0
    /// Bytes cut off the end while catching up: from the end of the last good record to the end of the file.
    var discardedBytes = 0
    /// The tree at the latest checkpoint's size and where the next record starts: the base of an incremental
    /// consistency proof to a witness that holds that checkpoint.
    var checkpointTree: (range: CompactRange, offset: Int)?

    /// This state advanced over whatever was appended since (by another writer, or before a crash).
    ///
    /// New checkpoints are read first and the latest must verify. New records are folded into the tree: records
    /// a checkpoint covers are taken by their stored hash (the verifier rechecks them), later ones are checked in
    /// full, and the first bad or unfinished one is cut off with everything after it (the torn end of an interrupted
    /// batch). The records end at the first NUL byte (preallocated zeroes follow). When `recovering` (opening after a
    /// possible crash), anything non-zero after that end is cut off too: pages of an unfinished batch can reach the
    /// disk out of order. With `strict` (every writer closed cleanly, so nothing can be unfinished) anything to cut
    /// is an error instead, and the files are left as found. Must run under the lock.
    ///
    /// A newest checkpoint carrying a signature under the log's name from a key `keys` does not know means another
    /// writer handed the log over to a new key: ``AuditLogError/keyRetired``, so this writer signs nothing more.
    ///
    /// Every complete record after the checkpoint must carry a seal under `sealKey` (see ``AuditRecord``), or
    /// ``AuditLogError/unsealedTail`` is thrown: this writer would otherwise fold a record appended by hand into its
    /// tree and sign it at its next checkpoint (the shared lock says only that some process holds the file open).
    func caughtUp(
        with files: LogFiles, keys: AuditKeyChain, sealKey: SymmetricKey, recovering: Bool = false,
        strict: Bool = false
    ) throws -> DiskState {
        var state = self
        let checkpointsSize = try files.checkpoints.size()
        guard checkpointsSize >= state.checkpointsLength else { throw AuditLogError.corruptCheckpoint }
        if checkpointsSize > state.checkpointsLength {
            let data = try files.checkpoints.read(
                from: state.checkpointsLength, count: checkpointsSize - state.checkpointsLength)
            let (notes, complete) = SignedCheckpoint.splitNotes(String(decoding: data, as: UTF8.self))
            if complete < data.count {
                guard !strict else { throw AuditLogError.trailingBytes }
                try files.checkpoints.truncate(to: state.checkpointsLength + complete)
            }
            if let note = notes.last {
                let newest = try keys.verify(note)
                guard NoteVerifier.signatureKeyIDs(in: note, name: keys.origin).allSatisfy(keys.contains(keyID:))
                else { throw AuditLogError.keyRetired }
                guard newest.checkpoint.size >= state.lastCheckpoint?.checkpoint.size ?? 0 else {
                    throw AuditLogError.checkpointMismatch
                }
                state.lastCheckpoint = newest
            }
            state.checkpointsLength += complete
        }

        let entriesSize = try files.entries.size()
        guard entriesSize >= state.entriesLength else { throw AuditLogError.logShorterThanCheckpoint }
        state.allocatedLength = entriesSize
        let checkpointSize = state.lastCheckpoint?.checkpoint.size ?? 0
        var rootAtCheckpoint: TreeHash? = state.tree.size == checkpointSize ? state.tree.root : nil
        if state.tree.size == checkpointSize { state.checkpointTree = (state.tree, state.entriesLength) }
        if entriesSize > state.entriesLength {
            let data = try files.entries.readRecords(from: state.entriesLength, upTo: entriesSize)
            let (lines, complete, _) = EntriesFile.lineRanges(in: data)
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
                        let record = AuditRecord(index: tree.size, leafData: Data(parsed.leaf), leafHash: parsed.stored)
                        // Strict (every writer closed): any record here is refused as an unsigned tail anyway.
                        guard strict || record.isSealed(by: sealKey) else { throw AuditLogError.unsealedTail }
                    }
                    guard let parsed else { throw AuditLogError.corruptRecord }
                    tree.append(parsed.stored)
                    if tree.size == checkpointSize {
                        rootAtCheckpoint = tree.root
                        state.checkpointTree = (tree, state.entriesLength + range.upperBound + 1)
                    }
                }
            }
            let end = state.entriesLength + kept
            if try kept < data.count || (recovering && files.entries.hasNonZeroBytes(from: end, upTo: entriesSize)) {
                guard !strict else { throw AuditLogError.trailingBytes }
                state.discardedBytes += entriesSize - end
                try files.entries.truncate(to: end)
                state.allocatedLength = end
            }
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

    /// Appends the records of each group with consecutive indices (one write, no sync: the caller syncs) and returns
    /// each group's first index. On failure the file is cut back, so no partial record stays behind. Must run under
    /// the lock.
    mutating func writeRecords(_ groups: [[Data]], to files: LogFiles, sealKey: SymmetricKey) throws -> [UInt64] {
        var tree = self.tree
        var bytes = Data()
        var firstIndices: [UInt64] = []
        firstIndices.reserveCapacity(groups.count)
        for group in groups {
            firstIndices.append(tree.size)
            for json in group {
                let record = AuditRecord(index: tree.size, entryJSON: json, sealKey: sealKey)
                bytes.append(record.line)
                tree.append(record.leafHash)
            }
        }
        let end = entriesLength + bytes.count
        var allocated = allocatedLength
        if end > allocated {
            // Zeroes are written once ahead of the records, so a later sync changes no size or extent and waits for
            // no journal commit. 64 KiB first (one CLI run), doubling to 16 MiB (a busy server).
            let chunk = (64 << 10) << min(extensions, 8)
            allocated = (end + chunk + 4095) / 4096 * 4096
            bytes.append(Data(count: allocated - end))
        }
        do {
            try files.entries.overwrite(bytes, at: entriesLength)
        } catch {
            try? files.entries.truncate(to: entriesLength)
            throw error
        }
        if allocated > allocatedLength {
            allocatedLength = allocated
            extensions += 1
        }
        self.tree = tree
        entriesLength = end
        return firstIndices
    }

    /// Cuts the preallocated zeroes off the entries file (so at rest it is plain JSON lines). Must run under the lock.
    mutating func trimPadding(of files: LogFiles) throws {
        guard allocatedLength > entriesLength else { return }
        try files.entries.truncate(to: entriesLength)
        allocatedLength = entriesLength
    }

    /// Signs and appends a checkpoint of the first `size` entries (whose root is `root`; they must be durable),
    /// unless the latest checkpoint already covers that many. Returns whether one was written. Without `sync` the
    /// caller must sync the checkpoints file. A `cosigner` adds its signature line (a key handover).
    @discardableResult
    mutating func writeCheckpoint(
        size: UInt64, root: TreeHash, to files: LogFiles, signer: NoteSigner, cosigner: NoteSigner? = nil,
        sync: Bool = true
    ) throws -> Bool {
        if let lastCheckpoint, lastCheckpoint.checkpoint.size >= size { return false }
        let checkpoint = Checkpoint(origin: signer.name, size: size, rootHash: root)
        var signed = try SignedCheckpoint(signing: checkpoint, with: signer)
        if let cosigner {
            // The handover names its successor in an extension line, so that the retired key's signature binds the
            // new key: a witness takes a key it was not first given only from the key in force (review 8, F4).
            let text = checkpoint.text + AuditKeyChain.handoverLine(naming: cosigner.verifier)
            signed = SignedCheckpoint(checkpoint: checkpoint, note: try signer.sign(text))
            signed.note += try cosigner.signatureLine(for: text)
        }
        let note = Data(signed.note.utf8)
        try Self.append(note, to: files.checkpoints, restoringLength: checkpointsLength, sync: sync)
        checkpointsLength += note.count
        lastCheckpoint = signed
        if size == tree.size { checkpointTree = (tree, entriesLength) }
        return true
    }

    private static func append(_ data: Data, to file: LogFile, restoringLength length: Int, sync: Bool) throws {
        do {
            try file.append(data)
            if sync { try file.sync() }
        } catch {
            try? file.truncate(to: length)
            throw error
        }
    }
}
