public import Crypto
public import Foundation

/// The append-only, tamper-evident audit log of a vault: an RFC 6962 Merkle tree over JSON entries with
/// C2SP signed-note checkpoints, durable across crashes, with group commit.
///
/// Files in `directory`: `entries.jsonl` (one record per line: leaf hash, space, canonical leaf JSON) and
/// `checkpoints.log` (signed notes, appended).
///
/// Concurrent `append` calls are batched: the first caller to find the log idle writes every pending record
/// with one `write` and one `fdatasync`, resumes the batch, then hands the lead to the next waiter. A call returns
/// its index only once its record is durable.
///
/// Several processes (the server and CLI runs) may append to one log: each batch takes an exclusive `flock`,
/// first folds in whatever other writers appended (cutting off a record a crashed writer left unfinished), then
/// writes. Opening recovers the same way.
public actor AuditLog {
    /// The log identity: first checkpoint line and signing key name.
    public let origin: String
    /// A checkpoint is signed once this many entries were appended since the last one (and on `close`).
    public let checkpointInterval: UInt64
    /// The verifier of the key this log was opened with (after ``handOver(to:principal:requestID:)``, see
    /// ``keyChain``).
    public nonisolated let verifier: NoteVerifier
    /// The audit directory.
    public nonisolated let directory: URL
    /// What opening adopted after a writer that did not close (`nil` when there was nothing to recover).
    public nonisolated let recovery: AuditRecovery?

    private var signer: NoteSigner
    /// The current key and the retired ones with their handover sizes.
    private var keys: AuditKeyChain
    private let files: LogFiles
    private var state: DiskState
    private var isClosed = false
    private var isClosing = false

    /// Queued appends not yet written.
    private var pending: [Waiter] = []
    /// Written appends waiting for a sync that starts after their write.
    private var written: [Waiter] = []
    /// Whether a caller holds the write role / the sync role.
    private var writing = false
    private var syncing = false
    private var nextWaiterID = 0
    /// Outcomes of role holders' own appends (a role holder has no continuation to resume).
    private var finished: [Int: Result<UInt64, any Error>] = [:]
    /// The tree after the last write, and after the last write a completed sync covered.
    private var writtenTip: (size: UInt64, root: TreeHash)?
    private var durableTip: (size: UInt64, root: TreeHash)?
    /// The tree and record offset at `writtenTip` and `durableTip`: the proof base of a checkpoint signed at the
    /// durable tip while later records are already written (group commit), so a witness gets it with a proof that
    /// reads only the records since its last cosignature.
    private var writtenBase: (range: CompactRange, offset: Int)?
    private var durableBase: (range: CompactRange, offset: Int)?
    /// The checkpoint a batch signed that awaits the next sync, and the newest checkpoint this writer signed that is
    /// durable (what background cosigning sends instead of signing and syncing one of its own).
    private var unsyncedCheckpoint: SignedCheckpoint?
    private var durableCheckpoint: SignedCheckpoint?
    /// A checkpoint note was appended and awaits the next sync.
    private var checkpointUnsynced = false
    /// A failed sync: the kernel may have dropped dirty pages, so this writer accepts nothing more.
    private var failure: (any Error)?
    /// The tree and record offset at recent checkpoint sizes: a consistency proof from one of them reads only the
    /// records after it (see ``consistencyProof(from:to:)``).
    private var proofBases: [UInt64: (range: CompactRange, offset: Int)] = [:]

    private enum Role: Sendable {
        case committed(UInt64)
        case write
        case sync
    }

    private struct Waiter {
        var id: Int
        /// Canonical JSON of one entry, or several for `append(contentsOf:)`.
        var entryJSON: [Data]
        var continuation: CheckedContinuation<Role, any Error>?
        var firstIndex: UInt64 = 0
    }

    /// Opens (or creates) the log in `directory`, recovering from a crash: an unfinished last record or
    /// checkpoint is cut off. Throws if the entries no longer match the latest checkpoint or it is not signed by
    /// `key` under the name `origin`.
    ///
    /// When no other writer is open, entries after the latest checkpoint were left by a writer that did not close
    /// (killed, or power lost): each must be a well-formed entry at its position, they are adopted under a new
    /// checkpoint, and an `audit.recover` entry records the range adopted and the bytes cut (see ``recovery``).
    ///
    /// `retired` are the keys `key` took over from (oldest first, see ``AuditKeyChain``); each may have signed only
    /// up to its handover size.
    public init(
        directory: URL, signer key: Curve25519.Signing.PrivateKey, origin: String,
        checkpointInterval: UInt64 = 1024, retired: [AuditKeyChain.RetiredKey] = []
    ) throws {
        let signer = try NoteSigner(name: origin, key: key)
        let keys = try AuditKeyChain(current: signer.verifier, retired: retired)
        self.origin = origin
        self.signer = signer
        self.keys = keys
        self.verifier = signer.verifier
        self.checkpointInterval = max(1, checkpointInterval)
        self.directory = directory
        let files = try LogFiles.open(directory)
        self.files = files
        do {
            // Exclusive only if no other writer is open: then nobody is still appending to an unsigned tail.
            let alone = files.writers.tryLockExclusive()
            // Alone, with every earlier writer closed cleanly: nothing can be unfinished or unsigned.
            let strict = try alone && !files.writerDidNotClose()
            var recovered: AuditRecovery?
            state = try files.locked {
                var current = try DiskState().caughtUp(
                    with: files, keys: keys, sealKey: signer.recordSealKey, recovering: true, strict: strict)
                if strict, current.tree.size > current.lastCheckpoint?.checkpoint.size ?? 0 {
                    throw AuditLogError.unsignedTail
                }
                if alone { recovered = try current.adoptUnsignedTail(of: files, signer: signer) }
                return current
            }
            recovery = recovered
            try files.markWriterOpen()
            try files.writers.lockShared()
        } catch {
            files.close()
            throw error
        }
    }

    deinit {
        if !isClosed { files.close() }
    }

    /// Number of durable entries (as of this writer's last batch).
    public var size: UInt64 { state.tree.size }

    /// The current tree head (not necessarily signed yet).
    public var currentRoot: TreeHash { state.tree.root }

    /// The latest signed checkpoint, if any.
    public var latestCheckpoint: SignedCheckpoint? { state.lastCheckpoint }

    /// The checkpoint keys: the current one and those it took over from.
    public var keyChain: AuditKeyChain { keys }

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
        let files = files
        let signer = signer
        let keys = keys
        let state = state
        let updated = try await Self.run(on: Self.ioQueue) {
            try files.locked {
                var current = try state.caughtUp(with: files, keys: keys, sealKey: signer.recordSealKey)
                // Appends may be written but not yet synced: the checkpoint must not outlive the entries it covers.
                try files.entries.sync()
                try current.writeCheckpoint(size: current.tree.size, root: current.tree.root, to: files, signer: signer)
                return current
            }
        }.get()
        adopt(updated)
        guard let written = updated.lastCheckpoint else { throw AuditLogError.corruptCheckpoint }
        durableCheckpoint = written
        return written
    }

    /// Every complete record in the file, each bound to the audit key as read now (see
    /// ``AuditLogReader/checkedRecords(keys:signer:known:)``: every signed checkpoint's root, this writer's latest
    /// included, and a seal on each record after the largest). For decisions and views that take the log's content
    /// as logged (the catalog states it records, the compliance report).
    public func checkedRecords() async throws -> [AuditRecord] {
        guard !isClosed else { throw AuditLogError.closed }
        let (known, keys, signer, directory) = (state.lastCheckpoint?.checkpoint, keys, signer, directory)
        return try await Self.run(on: Self.proofQueue) {
            try AuditLogReader(directory: directory).checkedRecords(keys: keys, signer: signer, known: known)
        }.get()
    }

    /// The newest checkpoint this writer signed that is durable, if it covers more than `size` entries (see
    /// ``submit(to:knownSize:latest:)``).
    func durableCheckpoint(after size: UInt64) -> SignedCheckpoint? {
        guard !isClosed, let durableCheckpoint, durableCheckpoint.checkpoint.size > size else { return nil }
        return durableCheckpoint
    }

    /// Signs a checkpoint over this writer's entries, then verifies the whole log against the checkpoint key and
    /// every `trusted` checkpoint. Strict about the end of the log (``AuditVerifier/WriterState/closed``) when this
    /// is the only open writer.
    public func verify(trusted: [Checkpoint] = []) async throws -> VerificationReport {
        try await checkpoint()
        let alone = files.writers.tryLockExclusive()
        let report: Result<VerificationReport, any Error>
        do {
            report = .success(
                try await AuditVerifier.verify(
                    directory: directory, keys: keys, trusted: trusted, writers: alone ? .closed : .open))
        } catch {
            report = .failure(error)
        }
        // A lock conversion is not atomic: the shared lock is taken again either way.
        try files.writers.lockShared()
        return try report.get()
    }

    /// Waits for pending appends, writes a final checkpoint, releases the files and stops accepting entries.
    public func close() async throws {
        guard !isClosed else { return }
        isClosing = true
        while !isIdle { await Task.yield() }
        if state.tree.size > 0 { try await checkpoint() }
        isClosed = true
        let files = files
        let keys = keys
        let state = state
        let sealKey = signer.recordSealKey
        // At rest the entries file is plain JSON lines: the preallocated zeroes go.
        let trimmed = await Self.run(on: Self.ioQueue) {
            try files.locked {
                var current = try state.caughtUp(with: files, keys: keys, sealKey: sealKey)
                try current.trimPadding(of: files)
            }
        }
        if case .success = trimmed { files.markClosedIfLast() }
        files.close()
        try trimmed.get()
    }

    /// Hands the log over to `newKey` (after a compromise, the old key may be known): appends an
    /// `audit.key-handover` entry naming the new key and a checkpoint of exactly that size signed by both keys, then
    /// signs with `newKey` only. Returns the handover size, the last size the old key may sign. Appends wait
    /// meanwhile; another process still holding the old key refuses to append or sign past the handover
    /// (``AuditLogError/keyRetired``).
    public func handOver(
        to newKey: Curve25519.Signing.PrivateKey, principal: String, requestID: String
    ) async throws -> UInt64 {
        guard !isClosed, !isClosing else { throw AuditLogError.closed }
        if let failure { throw failure }
        // Take the write role so no batch (which would sign with the old key) runs during the handover.
        while writing { await Task.yield() }
        writing = true
        defer {
            if !pending.isEmpty, let next = pending[0].continuation {
                pending[0].continuation = nil
                next.resume(returning: .write)
            } else {
                writing = false
            }
        }
        let newSigner = try NoteSigner(name: origin, key: newKey)
        guard newSigner.verifier.keyID != signer.verifier.keyID else { throw AuditLogError.unknownKey }
        let entry = try AuditEntry(
            principal: principal, action: AuditKeyChain.handoverAction,
            resource: AuditKeyChain.handoverResource(to: newSigner.verifier), outcome: .allowed,
            requestID: requestID, detail: "audit key handed over; the retired key signs nothing after this entry"
        ).canonicalJSON()
        let (files, oldSigner, keys, state) = (files, signer, keys, state)
        let updated = try await Self.run(on: Self.ioQueue) {
            try files.locked {
                var current = try state.caughtUp(with: files, keys: keys, sealKey: oldSigner.recordSealKey)
                _ = try current.writeRecords([[entry]], to: files, sealKey: oldSigner.recordSealKey)
                try files.entries.sync()
                try current.writeCheckpoint(
                    size: current.tree.size, root: current.tree.root, to: files, signer: oldSigner,
                    cosigner: newSigner)
                return current
            }
        }.get()
        adopt(updated)
        let size = updated.tree.size
        writtenTip = (size, updated.tree.root)
        durableTip = writtenTip
        writtenBase = (updated.tree, updated.entriesLength)
        durableBase = writtenBase
        // Signed by the old key (and the new one): background cosigning signs a fresh one under the new key.
        unsyncedCheckpoint = nil
        durableCheckpoint = nil
        self.keys = try AuditKeyChain(
            current: newSigner.verifier,
            retired: keys.retired + [.init(verifier: oldSigner.verifier, handoverSize: size)])
        signer = newSigner
        return size
    }

    /// Takes a newer disk state (another writer's records, or our own batch).
    private func adopt(_ newer: DiskState) {
        if (newer.entriesLength, newer.checkpointsLength) >= (state.entriesLength, state.checkpointsLength) {
            state = newer
        }
        if let base = newer.checkpointTree { rememberProofBase(base) }
    }

    /// Keeps the tree and record offset at a checkpoint size, for incremental consistency proofs from or to it.
    private func rememberProofBase(_ base: (range: CompactRange, offset: Int)) {
        proofBases[base.range.size] = base
        // Witnesses hold one of the last few checkpoints; older bases fall back to a full read.
        while proofBases.count > 16, let oldest = proofBases.keys.min() { proofBases[oldest] = nil }
    }

    /// The RFC 6962 consistency proof between two sizes of this log, computed off the actor. From a checkpoint size this
    /// writer signed or read (the size a witness last cosigned), it reads only the records after it and O(log n)
    /// hashes it kept; otherwise (or if that fails) it reads the whole log.
    func consistencyProof(from old: UInt64, to new: UInt64) async -> [TreeHash]? {
        guard old > 0, old < new else { return old <= new ? [] : nil }
        let (files, directory) = (files, directory)
        if let base = proofBases[old], let tip = proofBases[new], tip.offset >= base.offset {
            let incremental = await Self.run(on: Self.proofQueue) { () -> [TreeHash]? in
                let data = try files.entries.read(from: base.offset, count: tip.offset - base.offset)
                let (lines, _, _) = EntriesFile.lineRanges(in: data)
                guard UInt64(lines.count) == new - old else { return nil }
                let leaves = try data.withUnsafeBytes { buffer in
                    try lines.map { range -> TreeHash in
                        guard let parsed = EntriesFile.parse(UnsafeRawBufferPointer(rebasing: buffer[range])) else {
                            throw AuditLogError.corruptRecord
                        }
                        return parsed.stored
                    }
                }
                return Merkle.consistencyProof(from: base.range, appending: leaves[...])
            }
            if case .success(let proof?) = incremental { return proof }
        }
        return try? await Self.run(on: Self.proofQueue) {
            try AuditLogReader(directory: directory).consistencyProof(from: old, to: new)
        }.get()
    }

    // MARK: Group commit

    /// Queues records and returns the index of the first once durable.
    ///
    /// Every caller is a waiter; at most one of them writes (the write role) and at most one syncs (the sync role)
    /// at a time, so a batch is written while the previous batch's `fdatasync` is in flight, and the next sync
    /// starts as soon as that one ends. A role is handed to a waiting caller when its holder finishes.
    private func enqueue(_ entryJSON: [Data]) async throws -> UInt64 {
        guard !isClosed, !isClosing else { throw AuditLogError.closed }
        if let failure { throw failure }
        let id = nextWaiterID
        nextWaiterID += 1
        var role: Role
        if writing {
            role = try await withCheckedThrowingContinuation { continuation in
                pending.append(Waiter(id: id, entryJSON: entryJSON, continuation: continuation))
            }
        } else {
            writing = true
            pending.append(Waiter(id: id, entryJSON: entryJSON, continuation: nil))
            role = .write
        }
        while true {
            switch role {
            case .committed(let index): return index
            case .write: await writeBatch()
            case .sync: await syncBatch()
            }
            if let outcome = finished.removeValue(forKey: id) { return try outcome.get() }
            if !syncing, !written.isEmpty {
                syncing = true
                role = .sync
                continue
            }
            role = try await withCheckedThrowingContinuation { continuation in
                if let position = written.firstIndex(where: { $0.id == id }) {
                    written[position].continuation = continuation
                } else if let position = pending.firstIndex(where: { $0.id == id }) {
                    pending[position].continuation = continuation
                } else {
                    continuation.resume(throwing: AuditLogError.closed)  // Unreachable: every waiter is queued.
                }
            }
        }
    }

    /// The write role: writes every queued record (no sync) and moves the batch to `written`.
    private func writeBatch() async {
        // Appenders resumed by the last sync are about to queue again; letting them in first makes batches larger.
        await Task.yield()
        let batch = pending
        pending = []
        if let failure {
            for waiter in batch { complete(waiter, .failure(failure)) }
        } else {
            let groups = batch.map(\.entryJSON)
            let files = files
            let signer = signer
            let keys = keys
            let state = state
            let interval = checkpointInterval
            let durable = durableTip
            let base = durableBase
            let result: Result<(DiskState, [UInt64], Bool), any Error> = await Self.run(on: Self.ioQueue) {
                try files.locked {
                    var current = try state.caughtUp(with: files, keys: keys, sealKey: signer.recordSealKey)
                    let firstIndices = try current.writeRecords(groups, to: files, sealKey: signer.recordSealKey)
                    // A checkpoint covers only what a completed sync made durable; the next sync makes it durable.
                    // A failed checkpoint is retried after a later batch or at `close()`.
                    var signed = false
                    if let durable, durable.size >= (current.lastCheckpoint?.checkpoint.size ?? 0) + interval {
                        signed =
                            (try? current.writeCheckpoint(
                                size: durable.size, root: durable.root, to: files, signer: signer, sync: false))
                            ?? false
                    }
                    return (current, firstIndices, signed)
                }
            }
            switch result {
            case .success(let (updated, firstIndices, signed)):
                adopt(updated)
                writtenTip = (updated.tree.size, updated.tree.root)
                writtenBase = (updated.tree, updated.entriesLength)
                if signed {
                    checkpointUnsynced = true
                    unsyncedCheckpoint = updated.lastCheckpoint
                    if let base, let durable, base.range.size == durable.size { rememberProofBase(base) }
                }
                for (waiter, index) in zip(batch, firstIndices) {
                    var waiter = waiter
                    waiter.firstIndex = index
                    written.append(waiter)
                }
            case .failure(let error):
                for waiter in batch { complete(waiter, .failure(error)) }
            }
        }
        if !pending.isEmpty, let next = pending[0].continuation {
            pending[0].continuation = nil
            next.resume(returning: .write)
        } else {
            writing = false
        }
    }

    /// The sync role: one `fdatasync` that began after every record in `written` was written, then resumes them.
    private func syncBatch() async {
        let batch = written
        written = []
        let tip = writtenTip
        let base = writtenBase
        let checkpointsToo = checkpointUnsynced
        let checkpoint = unsyncedCheckpoint
        checkpointUnsynced = false
        unsyncedCheckpoint = nil
        var outcome: Result<Void, any Error> = .success(())
        if let failure {
            outcome = .failure(failure)
        } else {
            let files = files
            // The checkpoint note (rare) syncs beside the entries, not after them.
            async let entriesSynced = Self.run(on: Self.syncQueue) { try files.entries.sync() }
            async let checkpointsSynced: Result<Void, any Error> =
                checkpointsToo ? Self.run(on: Self.checkpointSyncQueue) { try files.checkpoints.sync() } : .success(())
            let results = await [entriesSynced, checkpointsSynced]
            for case .failure(let error) in results {
                outcome = .failure(error)
                // After a failed fdatasync the kernel may have dropped the dirty pages: later syncs prove nothing.
                failure = error
            }
        }
        if case .success = outcome {
            if let tip {
                durableTip = tip
                durableBase = base
            }
            if checkpointsToo, let checkpoint { durableCheckpoint = checkpoint }
        }
        for waiter in batch { complete(waiter, outcome.map { waiter.firstIndex }) }
        if let position = written.firstIndex(where: { $0.continuation != nil }),
            let next = written[position].continuation
        {
            written[position].continuation = nil
            next.resume(returning: .sync)
        } else {
            syncing = false
        }
    }

    /// Resumes a waiter with its outcome, or keeps it for a role holder (which has no continuation) to pick up.
    private func complete(_ waiter: Waiter, _ outcome: Result<UInt64, any Error>) {
        if let continuation = waiter.continuation {
            continuation.resume(with: outcome.map { .committed($0) })
        } else {
            finished[waiter.id] = outcome
        }
    }

    /// Whether no append is queued, being written or being synced.
    private var isIdle: Bool { !writing && !syncing && pending.isEmpty && written.isEmpty }

    // MARK: I/O queues

    /// Writes (under the file lock) are serial; syncs run on their own queues so a batch is written while the
    /// previous one syncs. Blocking calls stay off the cooperative thread pool.
    private static let ioQueue = DispatchQueue(label: "modelvault.audit.io")
    private static let syncQueue = DispatchQueue(label: "modelvault.audit.sync")
    private static let checkpointSyncQueue = DispatchQueue(label: "modelvault.audit.sync.checkpoints")
    /// Consistency proofs for witnesses read and hash records: off the actor and off the write queue.
    static let proofQueue = DispatchQueue(label: "modelvault.audit.proofs")

    static func run<T: Sendable>(
        on queue: DispatchQueue, _ work: @escaping @Sendable () throws -> T
    ) async -> Result<T, any Error> {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result { try work() }) }
        }
    }
}
