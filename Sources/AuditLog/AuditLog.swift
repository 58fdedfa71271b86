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
    /// The verifier for this log's checkpoints.
    public nonisolated let verifier: NoteVerifier

    private let signer: NoteSigner
    private let files: LogFiles
    private var state: DiskState
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
    /// checkpoint is cut off. Throws if the entries no longer match the latest checkpoint or it is not signed by
    /// `key` under the name `origin`.
    public init(
        directory: URL, signer key: Curve25519.Signing.PrivateKey, origin: String,
        checkpointInterval: UInt64 = 1024
    ) throws {
        let signer = try NoteSigner(name: origin, key: key)
        self.origin = origin
        self.signer = signer
        self.verifier = signer.verifier
        self.checkpointInterval = max(1, checkpointInterval)
        let files = try LogFiles.open(directory)
        self.files = files
        do {
            state = try files.locked { try DiskState().caughtUp(with: files, verifier: signer.verifier) }
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
        let state = state
        let updated = try await Self.onIOQueue {
            try files.locked {
                var current = try state.caughtUp(with: files, verifier: signer.verifier)
                try current.writeCheckpoint(to: files, signer: signer)
                return current
            }
        }
        adopt(updated)
        guard let written = updated.lastCheckpoint else { throw AuditLogError.corruptCheckpoint }
        return written
    }

    /// Waits for pending appends, writes a final checkpoint, releases the files and stops accepting entries.
    public func close() async throws {
        guard !isClosed else { return }
        isClosing = true
        while leading || !pending.isEmpty { await Task.yield() }
        if state.tree.size > 0 { try await checkpoint() }
        isClosed = true
        files.close()
    }

    /// Takes a newer disk state (another writer's records, or our own batch).
    private func adopt(_ newer: DiskState) {
        if (newer.entriesLength, newer.checkpointsLength) >= (state.entriesLength, state.checkpointsLength) {
            state = newer
        }
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
        // Appenders resumed by the previous batch are about to queue again; letting them in first makes batches
        // larger, and the batch size is what amortises the sync.
        await Task.yield()
        let batch = pending
        pending = []
        let groups = batch.map(\.entryJSON)
        let files = files
        let signer = signer
        let state = state
        let interval = checkpointInterval
        let result: Result<(DiskState, [UInt64]), any Error> = await Self.onIOQueueReturning {
            Result {
                try files.locked {
                    var current = try state.caughtUp(with: files, verifier: signer.verifier)
                    let firstIndices = try current.writeRecords(groups, to: files)
                    // Entries are durable now; a failed checkpoint is retried at the next batch or `close()`.
                    if current.tree.size - (current.lastCheckpoint?.checkpoint.size ?? 0) >= interval {
                        try? current.writeCheckpoint(to: files, signer: signer)
                    }
                    return (current, firstIndices)
                }
            }
        }
        var ownIndex: UInt64?
        var failure: (any Error)?
        switch result {
        case .success(let (updated, firstIndices)):
            adopt(updated)
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

    // MARK: I/O queue

    private static let ioQueue = DispatchQueue(label: "modelvault.audit.io")

    /// Runs blocking file work on a dedicated queue so fsync and flock never block the cooperative thread pool.
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
}
