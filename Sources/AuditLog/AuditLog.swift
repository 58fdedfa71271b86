public import Crypto
public import Foundation

/// The append-only, tamper-evident audit log of a vault: an RFC 6962 Merkle tree over JSON entries with
/// C2SP signed-note checkpoints, durable across crashes, with group commit.
///
/// Files in `directory`: `entries.jsonl` (one record per line: leaf hash, space, canonical leaf JSON) and
/// `checkpoints.log` (signed notes, appended). One process appends at a time (an exclusive `flock`).
///
/// Concurrent `append` calls are batched: the first caller to find the log idle writes every pending record
/// with one `write` and one `fdatasync`, resumes the batch, then hands the lead to the next waiter. A call returns
/// its index only once its record is durable.
public actor AuditLog {
    /// The log identity: first checkpoint line and signing key name.
    public let origin: String
    /// A checkpoint is signed once this many entries were appended since the last one (and on `close`).
    public let checkpointInterval: UInt64
    /// The verifier for this log's checkpoints.
    public nonisolated let verifier: NoteVerifier

    private let directory: URL
    private let signer: NoteSigner
    private let entries: LogFile
    private let checkpoints: LogFile
    private var tree = CompactRange()
    private var entriesLength: Int
    private var checkpointsLength: Int
    private var lastCheckpoint: SignedCheckpoint?
    private var pending: [Waiter] = []
    private var leading = false
    private var isClosed = false
    private var isClosing = false

    private enum Wake: Sendable {
        case committed(UInt64)
        case lead
    }

    private struct Waiter {
        /// Canonical JSON of one entry, or several for `append(contentsOf:)`.
        var entryJSON: [Data]
        var continuation: CheckedContinuation<Wake, any Error>?
    }

    /// Opens (or creates) the log in `directory`, recovering from a crash: an unfinished last record or
    /// checkpoint is cut off. Throws if the entries no longer match the latest checkpoint.
    public init(
        directory: URL, signer key: Curve25519.Signing.PrivateKey, origin: String,
        checkpointInterval: UInt64 = 1024
    ) throws {
        let signer = try NoteSigner(name: origin, key: key)
        self.origin = origin
        self.signer = signer
        self.verifier = signer.verifier
        self.directory = directory
        self.checkpointInterval = max(1, checkpointInterval)
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let entriesURL = directory.appendingPathComponent(EntriesFile.entriesName)
        let created = !FileManager.default.fileExists(atPath: entriesURL.path)
        let entries = try LogFile.open(entriesURL)
        do {
            try entries.lockExclusively()
        } catch {
            entries.close()
            throw error
        }
        let checkpoints: LogFile
        do {
            checkpoints = try LogFile.open(directory.appendingPathComponent(EntriesFile.checkpointsName))
        } catch {
            entries.close()
            throw error
        }
        if created { LogFile.syncDirectory(directory) }
        self.entries = entries
        self.checkpoints = checkpoints
        do {
            let recovered = try Self.recover(entries: entries, checkpoints: checkpoints, verifier: signer.verifier)
            tree = recovered.tree
            entriesLength = recovered.entriesLength
            checkpointsLength = recovered.checkpointsLength
            lastCheckpoint = recovered.lastCheckpoint
        } catch {
            entries.close()
            checkpoints.close()
            throw error
        }
    }

    deinit {
        if !isClosed {
            entries.close()
            checkpoints.close()
        }
    }

    /// Number of durable entries.
    public var size: UInt64 { tree.size }

    /// The current tree head (not necessarily signed yet).
    public var currentRoot: TreeHash { tree.root }

    /// The latest signed checkpoint, if any.
    public var latestCheckpoint: SignedCheckpoint? { lastCheckpoint }

    /// Appends an entry and returns its index once it is durable (group commit with concurrent callers).
    public nonisolated func append(_ entry: AuditEntry) async throws -> UInt64 {
        // Encoding happens in the caller's task, outside the actor, so the actor only orders and writes.
        let json = try entry.canonicalJSON()
        return try await enqueue([json])
    }

    /// Appends several entries as one unit (consecutive indices, one write and one sync) and returns their
    /// indices once durable.
    public nonisolated func append(contentsOf entries: [AuditEntry]) async throws -> Range<UInt64> {
        guard !entries.isEmpty else { return await size..<size }
        let json = try entries.map { try $0.canonicalJSON() }
        let first = try await enqueue(json)
        return first..<first + UInt64(entries.count)
    }

    /// Signs and stores a checkpoint of the current tree (or returns the latest if nothing changed).
    @discardableResult
    public func checkpoint() async throws -> SignedCheckpoint {
        guard !isClosed else { throw AuditLogError.closed }
        if let lastCheckpoint, lastCheckpoint.checkpoint.size == tree.size { return lastCheckpoint }
        let signed = try SignedCheckpoint(
            signing: Checkpoint(origin: origin, size: tree.size, rootHash: tree.root), with: signer)
        let file = checkpoints
        let length = checkpointsLength
        let note = Data(signed.note.utf8)
        try await Self.onIOQueue { try Self.appendDurably(note, to: file, restoringLength: length) }
        checkpointsLength += note.count
        // A batch may have stored a newer checkpoint while this one was being written.
        if signed.checkpoint.size >= lastCheckpoint?.checkpoint.size ?? 0 { lastCheckpoint = signed }
        return signed
    }

    /// Waits for pending appends, writes a final checkpoint, releases the files (and the lock) and stops accepting
    /// entries.
    public func close() async throws {
        guard !isClosed else { return }
        isClosing = true
        while leading || !pending.isEmpty { await Task.yield() }
        if tree.size > 0 { try await checkpoint() }
        isClosed = true
        entries.close()
        checkpoints.close()
    }

    // MARK: Group commit

    /// Queues records and returns the index of the first once durable.
    private func enqueue(_ entryJSON: [Data]) async throws -> UInt64 {
        guard !isClosed, !isClosing else { throw AuditLogError.closed }
        if leading {
            let wake = try await withCheckedThrowingContinuation { continuation in
                pending.append(Waiter(entryJSON: entryJSON, continuation: continuation))
            }
            switch wake {
            case .committed(let index): return index
            case .lead: break  // Our record is still pending; we write this batch.
            }
        } else {
            leading = true
            pending.append(Waiter(entryJSON: entryJSON, continuation: nil))
        }
        return try await leadBatch()
    }

    /// Writes every pending record; the leader's own record (the one without a continuation) is among them.
    private func leadBatch() async throws -> UInt64 {
        let batch = pending
        pending = []
        let start = tree.size
        var records: [AuditRecord] = []
        records.reserveCapacity(batch.count)
        var bytes = Data()
        var firstIndices: [UInt64] = []
        firstIndices.reserveCapacity(batch.count)
        for waiter in batch {
            firstIndices.append(start + UInt64(records.count))
            for json in waiter.entryJSON {
                let record = AuditRecord(index: start + UInt64(records.count), entryJSON: json)
                bytes.append(record.line)
                records.append(record)
            }
        }
        var newTree = tree
        for record in records { newTree.append(record.leafHash) }
        var note: Data?
        var signed: SignedCheckpoint?
        if newTree.size - (lastCheckpoint?.checkpoint.size ?? 0) >= checkpointInterval {
            signed = try? SignedCheckpoint(
                signing: Checkpoint(origin: origin, size: newTree.size, rootHash: newTree.root), with: signer)
            note = signed.map { Data($0.note.utf8) }
        }
        let entriesFile = entries
        let checkpointsFile = checkpoints
        let entriesLength = entriesLength
        let checkpointsLength = checkpointsLength
        let written = bytes
        let checkpointNote = note
        let result: Result<Bool, AuditLogError> = await Self.onIOQueueReturning {
            do {
                try Self.appendDurably(written, to: entriesFile, restoringLength: entriesLength)
            } catch {
                return .failure(error as? AuditLogError ?? .io(0))
            }
            // Entries are durable now; a failed checkpoint is retried at the next flush, `checkpoint()` or `close()`.
            guard let checkpointNote else { return .success(false) }
            do {
                try Self.appendDurably(checkpointNote, to: checkpointsFile, restoringLength: checkpointsLength)
                return .success(true)
            } catch {
                return .success(false)
            }
        }
        var ownIndex: UInt64?
        var failure: AuditLogError?
        switch result {
        case .success(let checkpointWritten):
            tree = newTree
            self.entriesLength += written.count
            if checkpointWritten, let signed, let note {
                if signed.checkpoint.size >= lastCheckpoint?.checkpoint.size ?? 0 { lastCheckpoint = signed }
                self.checkpointsLength += note.count
            }
            for (waiter, index) in zip(batch, firstIndices) {
                if let continuation = waiter.continuation {
                    continuation.resume(returning: .committed(index))
                } else {
                    ownIndex = index
                }
            }
        case .failure(let error):
            failure = error
            for waiter in batch { waiter.continuation?.resume(throwing: error) }
        }
        handOff()
        if let failure { throw failure }
        return ownIndex!
    }

    /// Passes the lead to the oldest waiter, or marks the log idle.
    private func handOff() {
        guard !pending.isEmpty, let next = pending[0].continuation else {
            leading = false
            return
        }
        pending[0].continuation = nil
        next.resume(returning: .lead)
    }

    // MARK: I/O

    private static let ioQueue = DispatchQueue(label: "modelvault.audit.io")

    /// Runs blocking file work on a dedicated queue so fsync never blocks the cooperative thread pool.
    private static func onIOQueue<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            ioQueue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    private static func onIOQueueReturning<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            ioQueue.async { continuation.resume(returning: work()) }
        }
    }

    /// Appends and syncs; on failure cuts the file back so no partial record stays behind.
    private static func appendDurably(_ data: Data, to file: LogFile, restoringLength length: Int) throws {
        do {
            try file.append(data)
            try file.sync()
        } catch {
            try? file.truncate(to: length)
            throw error
        }
    }

    // MARK: Recovery

    private struct Recovered {
        var tree: CompactRange
        var entriesLength: Int
        var checkpointsLength: Int
        var lastCheckpoint: SignedCheckpoint?
    }

    private static func recover(entries: LogFile, checkpoints: LogFile, verifier: NoteVerifier) throws -> Recovered {
        // Checkpoints first: an unfinished trailing note is cut off; the last complete one must verify.
        let checkpointData = try checkpoints.readAll()
        let checkpointText = String(decoding: checkpointData, as: UTF8.self)
        let (notes, completeCheckpointBytes) = SignedCheckpoint.splitNotes(checkpointText)
        if completeCheckpointBytes < checkpointData.count {
            try checkpoints.truncate(to: completeCheckpointBytes)
        }
        let last = try notes.last.map { try SignedCheckpoint(verifying: $0, with: verifier) }

        let data = try entries.readAll()
        let (lines, completeBytes) = EntriesFile.lineRanges(in: data)
        var tree = CompactRange()
        var rootAtCheckpoint: TreeHash? = last?.checkpoint.size == 0 ? Merkle.emptyRoot : nil
        let checkpointSize = last?.checkpoint.size ?? 0
        var keptBytes = completeBytes
        try data.withUnsafeBytes { buffer in
            for (index, range) in lines.enumerated() {
                let line = UnsafeRawBufferPointer(rebasing: buffer[range])
                let parsed = EntriesFile.parse(line)
                // Records past the latest checkpoint were never attested: re-check them fully, and treat the
                // first bad one as the torn end of an interrupted batch.
                if UInt64(index) >= checkpointSize {
                    guard let parsed, Merkle.leafHash(parsed.leaf) == parsed.stored,
                        AuditRecord.trailingIndex(parsed.leaf) == UInt64(index)
                    else {
                        keptBytes = range.lowerBound
                        break
                    }
                }
                guard let parsed else { throw AuditLogError.corruptRecord }
                tree.append(parsed.stored)
                if tree.size == checkpointSize { rootAtCheckpoint = tree.root }
            }
        }
        if keptBytes < data.count { try entries.truncate(to: keptBytes) }
        if let last {
            guard tree.size >= last.checkpoint.size else { throw AuditLogError.logShorterThanCheckpoint }
            guard rootAtCheckpoint == last.checkpoint.rootHash else { throw AuditLogError.checkpointMismatch }
        }
        return Recovered(
            tree: tree, entriesLength: keptBytes, checkpointsLength: completeCheckpointBytes, lastCheckpoint: last)
    }
}
