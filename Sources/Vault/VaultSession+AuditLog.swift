import AccessControl
public import AuditLog
public import Foundation

extension VaultSession {
    /// `audit.verify`: recomputes the tree from every entry and checks every checkpoint (signature, root,
    /// consistency) against the vault's audit key; reports the first bad index. When no other writer is open, an
    /// unsigned tail or bytes after the last record fail it too. Each `trusted` checkpoint (see
    /// ``trustedAuditCheckpoint(_:)``) must be a prefix of the log, so a rollback, truncation or fork fails.
    /// Runs even when the log is too damaged to append to.
    ///
    /// With witnesses configured (and reachable by this process), each is asked whether it holds a newer or another
    /// tree, its newest stored cosignature is a trusted checkpoint too, and the report gives the newest
    /// cosignature's time; `maxCosignatureAge` (seconds) makes an older one, or none, a failure.
    ///
    /// `trustedNotes` are checkpoints as exported (signed notes), checked with ``trustedAuditCheckpoint(_:)`` once the
    /// caller is authorised, so a caller without `audit.verify` is refused the same way whatever the files hold (as
    /// through the server, where the check needs the server's answer).
    public func verifyAuditLog(
        trusted: [Checkpoint] = [], trustedNotes: [String] = [], maxCosignatureAge: TimeInterval? = nil
    ) async throws -> VerificationReport {
        guard let log = access.log else {
            // Nothing can be appended to a damaged log; the decision is still made before anything is read.
            guard isAllowed(.auditVerify) else { throw AccessControlError.denied(.auditVerify, on: .global) }
            let trusted = try trusted + trustedNotes.map(trustedAuditCheckpoint)
            var report = try await AuditVerifier.verify(
                directory: vault.layout.audit, keys: access.keyChain, trusted: trusted)
            // The standalone check holds no seal key, trusts the writers' lock (anyone can hold it) and skips a
            // checkpoint line from an unknown key; the vault refused the log for a reason it may not see. Never sound.
            report.add(VerificationProblem(kind: .unopenable))
            return report
        }
        return try await perform(.auditVerify, on: .global, resource: "audit") {
            let trusted = try trusted + trustedNotes.map(trustedAuditCheckpoint)
            if access.witnesses.isEmpty, maxCosignatureAge == nil { return try await log.verify(trusted: trusted) }
            return try await log.verify(
                trusted: trusted, witnesses: access.witnesses.map(\.1), maxCosignatureAge: maxCosignatureAge)
        }
    }

    /// `audit.read`: the latest signed checkpoint, signed now over every entry so far (for `audit checkpoint -o`).
    public func exportAuditCheckpoint() async throws -> SignedCheckpoint {
        guard let log = access.log else {
            throw VaultError(.tampered, "the audit log cannot be opened; run `modelvault audit verify`")
        }
        return try await perform(.auditRead, on: .global, resource: "audit") {
            try await log.checkpoint()
        }
    }

    /// Parses a checkpoint exported earlier and checks it is signed by this vault's audit key (the one responsible for
    /// its size: a checkpoint kept from before a rotation verifies under the retired key it was made with).
    public func trustedAuditCheckpoint(_ note: String) throws -> Checkpoint {
        do {
            return try access.keyChain.verify(note).checkpoint
        } catch {
            throw VaultError(.tampered, "the trusted checkpoint is not signed by this vault's audit key")
        }
    }

    /// `audit.read`: an inclusion proof of entry `index` against a signed checkpoint (signed now if needed).
    public func auditProof(index: UInt64) async throws -> InclusionProof {
        try await perform(.auditRead, on: .global, resource: "audit:\(index)") {
            try await access.log?.checkpoint()
            return try AuditLogReader(directory: vault.layout.audit).inclusionProof(
                index: index, verifiedBy: access.keyChain)
        }
    }

    /// `audit.verify`: what a remote client needs to check the log against checkpoints it trusts, itself (see
    /// ``AuditConsistencyEvidence``): a checkpoint signed now, the key chain and its handovers, consistency proofs
    /// from `trustedSizes`, and each configured witness's stored cosignature.
    public func auditConsistencyEvidence(trustedSizes: [UInt64]) async throws -> AuditConsistencyEvidence {
        guard let log = access.log else {
            throw VaultError(.tampered, "the audit log cannot be opened; run `modelvault audit verify`")
        }
        return try await perform(.auditVerify, on: .global, resource: "audit") {
            let signed = try await log.checkpoint()
            return try AuditConsistencyEvidence.gather(
                directory: vault.layout.audit, keys: access.keyChain, signed: signed, trustedSizes: trustedSizes,
                witnesses: try access.configuredWitnesses().map(\.verifier))
        }
    }

    /// `audit.read`: up to `limit` entries from index `start` on, as signed now, for a remote `audit tail --follow`.
    /// When none is there yet but entries `ignorable` accepts (the follower's own audited polls), waits up to `wait`
    /// for the log to grow (a long poll), so an idle follower sends about one request per `wait`, not a stream.
    public func auditEntries(
        from start: UInt64, limit: Int, waitingUpTo wait: Duration,
        ignoring ignorable: @escaping @Sendable (AuditEntry) -> Bool
    ) async throws -> [(index: UInt64, entry: AuditEntry)] {
        guard let log = access.log else {
            throw VaultError(.tampered, "the audit log cannot be opened; run `modelvault audit verify`")
        }
        return try await perform(.auditRead, on: .global, resource: "audit") {
            let reader = AuditLogReader(directory: vault.layout.audit)
            let size = await log.size
            let pending = size > start ? try reader.records().dropFirst(Int(start)).map { try $0.entry() } : []
            // A cursor past the log (never a follower's: it starts at most at the size it was last answered) gets
            // its empty answer at once.
            if start <= size, !pending.contains(where: { !ignorable($0) }) {
                let deadline = ContinuousClock.now + wait
                while await log.size <= size, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
            let entries = try reader.entries(coveredBy: try await access.signedAuditCheckpoint())
            return Array(entries.filter { $0.index >= start }.prefix(max(0, limit)))
        }
    }

    /// `audit.read`: the last `count` entries, as signed now (see ``VaultAccess/signedAuditCheckpoint()``).
    public func auditTail(_ count: Int) async throws -> [(index: UInt64, entry: AuditEntry)] {
        try await perform(.auditRead, on: .global, resource: "audit") {
            let checkpoint = try await access.signedAuditCheckpoint()
            return try AuditLogReader(directory: vault.layout.audit).entries(coveredBy: checkpoint).suffix(
                max(0, count))
        }
    }

    /// `audit.read`, authorised and audited once: the log's reader, which `audit tail --follow` polls. A poll is not
    /// an audited read of its own, so following the log does not feed it one entry per poll.
    public func auditReaderForFollowing() async throws -> AuditLogReader {
        try await perform(.auditRead, on: .global, resource: "audit") {
            AuditLogReader(directory: vault.layout.audit)
        }
    }

    /// `audit.read`: entries at or after `since` in `format`, as signed now (see
    /// ``VaultAccess/signedAuditCheckpoint()``).
    public func auditExport(_ format: AuditExportFormat, since: Date? = nil) async throws -> Data {
        try await perform(.auditRead, on: .global, resource: "audit") {
            try AuditLogReader(directory: vault.layout.audit).export(
                format, since: since, coveredBy: try await access.signedAuditCheckpoint())
        }
    }

    /// The verifier of this vault's checkpoints (public).
    public var auditVerifier: NoteVerifier { access.verifier }
}
