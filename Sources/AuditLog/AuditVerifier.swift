public import Crypto
public import Foundation

/// One thing `AuditVerifier` found wrong.
public struct VerificationProblem: Sendable, Equatable, CustomStringConvertible {
    /// What kind of damage.
    public enum Kind: String, Sendable, Equatable {
        /// A line that is not `<hash> <leaf JSON>`.
        case malformedRecord = "malformed record"
        /// The stored leaf hash differs from the hash of the stored entry: the entry was modified.
        case leafHashMismatch = "entry modified (leaf hash mismatch)"
        /// The entry records another position: entries were deleted, inserted or reordered here.
        case indexMismatch = "entry out of place (deleted, inserted or swapped entries)"
        /// A checkpoint covers more entries than the log holds: the log was truncated.
        case missingEntries = "entries missing (log truncated)"
        /// A checkpoint that does not parse.
        case malformedCheckpoint = "malformed checkpoint"
        /// A checkpoint whose signature does not verify under the log key.
        case badCheckpointSignature = "checkpoint signature invalid"
        /// A checkpoint smaller than an earlier one.
        case checkpointSizeRegression = "checkpoint tree size went backwards"
        /// A checkpoint whose root differs from the recomputed tree: signed over a forked or rewritten tree.
        case checkpointRootMismatch = "checkpoint root differs from the recomputed tree (fork or rewrite)"
        /// Bytes after the last record that are not the preallocated zeroes: junk, or (with no writer open) a
        /// record nobody finished.
        case trailingBytes = "bytes after the last record that are neither a record nor preallocated zeroes"
        /// Entries after the latest checkpoint while no writer is open: every writer signs its entries when it
        /// closes, and the next writer adopts what a killed one left, so an unsigned tail was added by hand.
        case unsignedEntries = "entries after the latest checkpoint while no writer is open (unsigned tail)"
        /// The log is not consistent with a checkpoint trusted from elsewhere (exported earlier, or cosigned by a
        /// witness): the log was rolled back, truncated or forked.
        case inconsistentWithTrusted = "log not consistent with a trusted checkpoint (rollback, truncation or fork)"
        /// A witness holds a larger tree, or another tree, than the local log: rolled back, truncated or forked.
        case inconsistentWithWitness = "a witness holds a checkpoint the log is not consistent with (rollback or fork)"
        /// The newest cosignature is older than the policy allows (or there is none).
        case staleCosignature = "newest witness cosignature older than the policy allows"
        /// A retired key's handover is not in the log: no handover entry naming the next key just before the handover
        /// size, or no checkpoint of that size signed by both keys (deleted or forged).
        case handoverMissing = "audit key handover missing (no handover entry and checkpoint signed by both keys)"
        /// A witness refuses the log's checkpoint key: it still pins a retired audit key (restart it with the vault's
        /// new audit/verifier.vkey), or was never given this log's key.
        case witnessRefusesKey = "a witness refuses the log's checkpoint key (it pins a retired or another key)"
        /// The vault could not open the log to append (a record without a valid seal, a checkpoint signed by an
        /// unknown key, damage): the standalone check above cannot see all of that, and the vault refuses every
        /// command until it is repaired, so the log is not reported sound.
        case unopenable =
            "the vault cannot open the log to append (records it did not write, an unknown key, or damage)"
    }

    /// The kind.
    public var kind: Kind
    /// The first entry index affected, when known.
    public var index: UInt64?
    /// The position of the checkpoint concerned in the checkpoints file, for checkpoint problems.
    public var checkpoint: Int?

    /// A problem of `kind`, at entry `index` or checkpoint `checkpoint` when known.
    public init(kind: Kind, index: UInt64? = nil, checkpoint: Int? = nil) {
        self.kind = kind
        self.index = index
        self.checkpoint = checkpoint
    }

    /// Names the problem and where it is.
    public var description: String {
        var text = kind.rawValue
        if let index { text += " at entry \(index)" }
        if let checkpoint { text += " (checkpoint #\(checkpoint))" }
        return text
    }
}

/// The result of a full audit-log verification.
public struct VerificationReport: Sendable {
    /// Complete records in the entries file.
    public var entryCount: UInt64
    /// Checkpoints in the checkpoints file.
    public var checkpointCount: Int
    /// The root recomputed from every entry.
    public var recomputedRoot: TreeHash
    /// The latest checkpoint whose signature verified.
    public var latestCheckpoint: Checkpoint?
    /// Whether an unfinished record (an interrupted append) follows the last complete one.
    public var hasUnfinishedTail: Bool
    /// Problems in log order (at most `problemLimit` kept; `problemCount` counts all).
    public var problems: [VerificationProblem]
    /// All problems found, including those not kept in `problems`.
    public var problemCount: Int
    /// The first entry index that is bad (or, for a rewritten range, the first index no good checkpoint covers).
    public var firstBadIndex: UInt64?
    /// Whether no writer was open, so the end of the log was checked strictly (no unsigned tail, no unfinished
    /// record).
    public var writersClosed = false
    /// Trusted checkpoints the log was proven consistent with.
    public var trustedVerified: [Checkpoint] = []
    /// The time of the newest witness cosignature found, when witnesses were consulted.
    public var newestCosignature: Date?

    /// Adds a problem found outside the files (by a witness, or by policy).
    public mutating func add(_ problem: VerificationProblem) {
        problemCount += 1
        if problems.count < AuditVerifier.problemLimit { problems.append(problem) }
        if let index = problem.index { firstBadIndex = min(firstBadIndex ?? index, index) }
    }

    /// Whether the log verified: no problems.
    public var isValid: Bool { problemCount == 0 }

    /// Entries appended after the latest valid checkpoint (not yet attested by a signature).
    public var uncheckpointedEntries: UInt64 { entryCount - min(entryCount, latestCheckpoint?.size ?? 0) }

    /// A few lines for `audit verify`: the verdict, sizes, the first bad index and the problems found.
    public var summary: String {
        var lines: [String] = []
        if isValid {
            lines.append(
                "audit log OK: \(entryCount) entries, \(checkpointCount) checkpoints, root \(recomputedRoot.base64)")
        } else {
            let first = firstBadIndex.map { "first bad index \($0)" } ?? "checkpoint problem"
            lines.append("audit log FAILED: \(first); \(problemCount) problem(s) in \(entryCount) entries")
            lines += problems.map { "  \($0)" }
            if problemCount > problems.count { lines.append("  ... \(problemCount - problems.count) more") }
        }
        if uncheckpointedEntries > 0, !writersClosed {
            lines.append("note: \(uncheckpointedEntries) entries after the latest checkpoint are not yet signed")
        }
        for trusted in trustedVerified {
            lines.append("consistent with the trusted checkpoint of size \(trusted.size)")
        }
        if let newestCosignature {
            let age = Int(Date().timeIntervalSince(newestCosignature))
            lines.append("newest witness cosignature: \(age) s old")
        }
        if hasUnfinishedTail { lines.append("note: an unfinished record (interrupted append) follows the last entry") }
        return lines.joined(separator: "\n")
    }
}

/// Recomputes an audit log from its files and checks it against its signed checkpoints.
public enum AuditVerifier {
    /// Problems kept in a report; the count covers all.
    public static let problemLimit = 100

    /// Whether writers may still be appending, which decides how strictly the end of the log is checked.
    public enum WriterState: Sendable {
        /// Finds out from the writers' lock (`writers.lock`): closed if nobody holds it. The lock is then held
        /// exclusively while verifying, so no writer opens meanwhile.
        case probe
        /// No writer is open: every entry must be under a checkpoint, and only zeroes may follow the last record.
        case closed
        /// Writers are open: entries after the latest checkpoint and an unfinished record are in flight (notes).
        case open
    }

    /// Verifies the log in `directory` against `verifier` (the log's checkpoint key).
    ///
    /// Recomputes every leaf hash (in parallel) and checks it against the stored hash and the entry's position,
    /// rebuilds the tree, verifies every checkpoint signature, and checks every checkpoint's root against the
    /// recomputed tree at its size (which makes consecutive checkpoints consistent). Reports the first bad index.
    ///
    /// Each `trusted` checkpoint (already verified by the caller, for example exported earlier or cosigned by a
    /// witness) must be a prefix of the log: its size at most the entry count, its root the recomputed root at that
    /// size, and a consistency proof from it to the latest checkpoint must verify. Otherwise the log was rolled
    /// back, truncated or forked.
    public static func verify(
        directory: URL, verifier: NoteVerifier, trusted: [Checkpoint] = [], writers: WriterState = .probe
    ) async throws -> VerificationReport {
        try await verify(
            directory: directory, keys: AuditKeyChain(current: verifier), trusted: trusted, writers: writers)
    }

    /// Verifies the log against its key chain (see ``AuditKeyChain``): each checkpoint must be signed by the key
    /// responsible for its size, and each retired key's handover must be in the log (the handover entry naming the
    /// next key at index `handoverSize - 1`, and a checkpoint of exactly `handoverSize` signed by both keys).
    public static func verify(
        directory: URL, keys: AuditKeyChain, trusted: [Checkpoint] = [], writers: WriterState = .probe
    ) async throws -> VerificationReport {
        var closed: Bool
        var probe: LogFile?
        switch writers {
        case .closed: closed = true
        case .open: closed = false
        case .probe:
            // No lock file: no writer of this version ever opened the log.
            probe = try? LogFile.open(
                directory.appendingPathComponent(EntriesFile.writersName), create: false, appending: false)
            closed = probe?.tryLockExclusive() ?? true
        }
        defer { probe?.close() }
        var report = try await verifyFiles(directory: directory, keys: keys, trusted: trusted, closed: closed)
        report.writersClosed = closed
        return report
    }

    private static func verifyFiles(
        directory: URL, keys: AuditKeyChain, trusted: [Checkpoint], closed: Bool
    ) async throws -> VerificationReport {
        let entriesData = try readIfPresent(directory.appendingPathComponent(EntriesFile.entriesName))
        let checkpointData = try readIfPresent(directory.appendingPathComponent(EntriesFile.checkpointsName))
        let (lines, completeBytes, contentBytes) = EntriesFile.lineRanges(in: entriesData)

        let (leaves, exact, exactCount) = await hashLeaves(entriesData, lines: lines)
        var problems = exact
        var problemCount = exactCount
        var firstBad: UInt64? = exact.first?.index

        // Checkpoints: signature, monotonic size, root against the recomputed tree.
        let (notes, _) = SignedCheckpoint.splitNotes(String(decoding: checkpointData, as: UTF8.self))
        var parsed: [(position: Int, checkpoint: Checkpoint)] = []
        var checkpointProblems: [VerificationProblem] = []
        // Handover sizes whose checkpoint also verifies under the next key.
        var handedOver: Set<UInt64> = []
        for (position, note) in notes.enumerated() {
            do {
                let checkpoint = try keys.verify(note).checkpoint
                parsed.append((position, checkpoint))
                if let index = keys.retired.firstIndex(where: { $0.handoverSize == checkpoint.size }),
                    (try? SignedCheckpoint(verifying: note, with: keys.successor(of: index))) != nil
                {
                    handedOver.insert(checkpoint.size)
                }
            } catch let error as AuditLogError where error == .corruptCheckpoint {
                checkpointProblems.append(.init(kind: .malformedCheckpoint, index: nil, checkpoint: position))
            } catch {
                checkpointProblems.append(.init(kind: .badCheckpointSignature, index: nil, checkpoint: position))
            }
        }
        let wanted = Set(parsed.map(\.checkpoint.size) + trusted.map(\.size))
        var roots: [UInt64: TreeHash] = wanted.contains(0) ? [0: Merkle.emptyRoot] : [:]
        var tree = CompactRange()
        for leaf in leaves {
            tree.append(leaf)
            if wanted.contains(tree.size) { roots[tree.size] = tree.root }
        }
        let count = UInt64(leaves.count)
        var previousSize: UInt64 = 0
        var goodSize: UInt64 = 0  // Largest size attested by a checkpoint matching the recomputed tree.
        var latest: Checkpoint?
        for (position, checkpoint) in parsed {
            latest = checkpoint
            if checkpoint.size < previousSize {
                checkpointProblems.append(.init(kind: .checkpointSizeRegression, index: nil, checkpoint: position))
            }
            previousSize = max(previousSize, checkpoint.size)
            if checkpoint.size > count {
                checkpointProblems.append(.init(kind: .missingEntries, index: count, checkpoint: position))
            } else if roots[checkpoint.size] != checkpoint.rootHash {
                // Which entry changed cannot be told from a root; name the first index no good checkpoint covers,
                // unless an exact problem in this range already explains it.
                let explained = exact.contains { ($0.index ?? .max) < checkpoint.size }
                let lowerBound = min(goodSize, checkpoint.size)
                checkpointProblems.append(
                    .init(kind: .checkpointRootMismatch, index: explained ? nil : lowerBound, checkpoint: position))
            } else {
                goodSize = max(goodSize, checkpoint.size)
            }
        }
        // The end of the log: only zeroes may follow the last record, except a record in flight while writers
        // are open (a torn record never holds a NUL; a NUL followed by more bytes is junk either way).
        let trailing = entriesData[completeBytes..<contentBytes]
        if !trailing.isEmpty, closed || trailing.contains(0) {
            checkpointProblems.append(.init(kind: .trailingBytes, index: count))
        }
        if closed, count > (latest?.size ?? 0) {
            checkpointProblems.append(.init(kind: .unsignedEntries, index: latest?.size ?? 0))
        }
        // Each retired key handed over in the log itself: the entry naming its successor, under a doubly signed head.
        for (index, key) in keys.retired.enumerated() {
            let entry = key.handoverSize - 1
            let named =
                entry < UInt64(lines.count)
                && entriesData.withUnsafeBytes { buffer in
                    EntriesFile.parse(UnsafeRawBufferPointer(rebasing: buffer[lines[Int(entry)]])).map {
                        AuditKeyChain.isHandover($0.leaf, to: keys.successor(of: index))
                    } ?? false
                }
            if !named || !handedOver.contains(key.handoverSize) {
                checkpointProblems.append(.init(kind: .handoverMissing, index: entry))
            }
        }
        var trustedVerified: [Checkpoint] = []
        for checkpoint in trusted {
            if checkpoint.size > count {
                checkpointProblems.append(.init(kind: .inconsistentWithTrusted, index: count))
            } else if roots[checkpoint.size] != checkpoint.rootHash || checkpoint.origin != keys.origin {
                checkpointProblems.append(.init(kind: .inconsistentWithTrusted, index: nil))
            } else if let latest, latest.size >= checkpoint.size, latest.size <= count {
                // What a witness or an auditor holding only the two heads would check.
                let proof = try Merkle.consistencyProof(from: Int(checkpoint.size), in: leaves[0..<Int(latest.size)])
                if Merkle.verifyConsistency(
                    oldSize: checkpoint.size, newSize: latest.size, oldRoot: checkpoint.rootHash,
                    newRoot: latest.rootHash, proof: proof)
                {
                    trustedVerified.append(checkpoint)
                } else {
                    checkpointProblems.append(.init(kind: .inconsistentWithTrusted, index: nil))
                }
            } else {
                // The entries hold it, but no signed checkpoint of the log reaches it: the checkpoints were cut.
                checkpointProblems.append(.init(kind: .inconsistentWithTrusted, index: latest?.size ?? 0))
            }
        }
        for problem in checkpointProblems {
            if let index = problem.index { firstBad = min(firstBad ?? index, index) }
        }
        problemCount += checkpointProblems.count
        problems.append(contentsOf: checkpointProblems.prefix(max(0, problemLimit - problems.count)))
        return VerificationReport(
            entryCount: count, checkpointCount: notes.count, recomputedRoot: tree.root, latestCheckpoint: latest,
            hasUnfinishedTail: completeBytes < contentBytes, problems: problems, problemCount: problemCount,
            firstBadIndex: firstBad, trustedVerified: trustedVerified)
    }

    /// Verifies with a bare Ed25519 key; the key name is the origin of the checkpoints (the first line).
    public static func verify(
        directory: URL, publicKey: Curve25519.Signing.PublicKey
    ) async throws
        -> VerificationReport
    {
        let checkpointData = try readIfPresent(directory.appendingPathComponent(EntriesFile.checkpointsName))
        let origin = String(decoding: checkpointData.prefix { $0 != 0x0A }, as: UTF8.self)
        guard !origin.isEmpty else {
            // No checkpoint yet: any valid name verifies nothing, so the entries alone are checked.
            return try await verify(
                directory: directory, verifier: NoteVerifier(name: "unsigned", publicKey: publicKey))
        }
        return try await verify(directory: directory, verifier: NoteVerifier(name: origin, publicKey: publicKey))
    }

    /// Recomputes all leaf hashes in parallel chunks and collects record-level problems in index order.
    private static func hashLeaves(
        _ data: Data, lines: [Range<Int>]
    ) async
        -> (leaves: [TreeHash], problems: [VerificationProblem], problemCount: Int)
    {
        let chunkCount = max(1, min(lines.count / 4096, ProcessInfo.processInfo.activeProcessorCount * 4))
        let chunkSize = (lines.count + chunkCount - 1) / max(1, chunkCount)
        struct Chunk: Sendable {
            var start: Int
            var leaves: [TreeHash]
            var problems: [VerificationProblem]
            var problemCount: Int
        }
        let chunks = await withTaskGroup(of: Chunk.self) { group in
            for chunkStart in stride(from: 0, to: lines.count, by: max(1, chunkSize)) {
                let range = chunkStart..<min(lines.count, chunkStart + chunkSize)
                group.addTask {
                    var chunk = Chunk(start: chunkStart, leaves: [], problems: [], problemCount: 0)
                    chunk.leaves.reserveCapacity(range.count)
                    data.withUnsafeBytes { buffer in
                        for lineNumber in range {
                            let index = UInt64(lineNumber)
                            let line = UnsafeRawBufferPointer(rebasing: buffer[lines[lineNumber]])
                            guard let parsed = EntriesFile.parse(line) else {
                                // The raw line stands in as the leaf so the tree still reflects the damage.
                                chunk.leaves.append(Merkle.leafHash(line))
                                chunk.problemCount += 1
                                if chunk.problems.count < problemLimit {
                                    chunk.problems.append(.init(kind: .malformedRecord, index: index))
                                }
                                continue
                            }
                            let leaf = Merkle.leafHash(parsed.leaf)
                            chunk.leaves.append(leaf)
                            var kind: VerificationProblem.Kind?
                            if leaf != parsed.stored {
                                kind = .leafHashMismatch
                            } else if AuditRecord.trailingIndex(parsed.leaf) != index {
                                kind = .indexMismatch
                            }
                            if let kind {
                                chunk.problemCount += 1
                                if chunk.problems.count < problemLimit {
                                    chunk.problems.append(.init(kind: kind, index: index))
                                }
                            }
                        }
                    }
                    return chunk
                }
            }
            var all: [Chunk] = []
            for await chunk in group { all.append(chunk) }
            return all.sorted { $0.start < $1.start }
        }
        var leaves: [TreeHash] = []
        leaves.reserveCapacity(lines.count)
        var problems: [VerificationProblem] = []
        var count = 0
        for chunk in chunks {
            leaves.append(contentsOf: chunk.leaves)
            count += chunk.problemCount
            problems.append(contentsOf: chunk.problems.prefix(max(0, problemLimit - problems.count)))
        }
        return (leaves, problems, count)
    }

    /// The whole file, read (not mapped: a writer trimming its preallocated zeroes at close, or anyone truncating the
    /// file, would turn a read of a mapped page past the new end into SIGBUS).
    static func readIfPresent(_ url: URL) throws -> Data {
        guard FileManager.default.fileExists(atPath: url.path) else { return Data() }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw AuditLogError.io(0)
        }
    }
}
