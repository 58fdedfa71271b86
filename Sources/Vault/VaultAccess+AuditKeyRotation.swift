public import AuditLog
import Crypto
import Foundation

extension VaultAccess {
    /// Replaces the audit key (`keys rotate --reencrypt`: after a compromise the old key may be known).
    ///
    /// Three steps, each durable before the next, so a crash anywhere is finished at the next open: the new key is
    /// stored and pinned as the next key; the log appends the handover entry naming it and a checkpoint of that size
    /// signed by both keys (``AuditLog/handOver(to:principal:requestID:)``); the catalog pins it as the audit key and
    /// the old one as retired up to the handover size. From then on the old key is valid only up to that size.
    /// A `--reencrypt` rotation pins the next key in its first transaction; this hands over to that key and returns
    /// the handover size, or `nil` when no handover is pending (an open after a crash already finished it). A log
    /// that cannot be opened is an error (the next open finishes the handover), never a silently kept key.
    func rotateAuditKey(principal: String, requestID: String) async throws -> UInt64? {
        guard let log else {
            throw VaultError(
                .tampered,
                "the audit log cannot be opened (\(damage ?? "unknown")): the audit key was not replaced; repair the log (`modelvault audit verify`), then reopen the vault to finish the handover"
            )
        }
        guard let next = try await vault.auditKeyPins().next else { return nil }
        let key = try await vault.nextAuditKey(pinned: next)
        let updated = try await Self.handOver(log, to: key, vault: vault, principal: principal, requestID: requestID)
        keys.withLock { $0 = updated }
        return updated.retired.last?.handoverSize
    }

    /// Hands `log` over to `key` (already pinned as the next key) and commits the new key in the catalog.
    static func handOver(
        _ log: AuditLog, to key: Curve25519.Signing.PrivateKey, vault: Vault, principal: String, requestID: String
    ) async throws -> AuditKeyChain {
        let retiring = await log.keyChain.current
        let size = try await log.handOver(to: key, principal: principal, requestID: requestID)
        try await vault.commitAuditKeyHandover(to: key, retiring: retiring, handoverSize: size)
        let keys = await log.keyChain
        try writeVerifierKey(keys.current, layout: vault.layout)
        return keys
    }

    /// The size of the checkpoint in `directory` that hands `old` over to `new` (signed by both), if the log holds
    /// one: a rotation that stopped after the log's handover but before the catalog commit.
    static func handoverSize(
        in directory: URL, from old: NoteVerifier, to new: Curve25519.Signing.PrivateKey, origin: String
    ) throws -> UInt64? {
        let successor = try NoteVerifier(name: origin, publicKey: new.publicKey)
        let notes = (try? AuditLogReader(directory: directory).checkpointNotes()) ?? []
        for note in notes.reversed() {
            guard let first = try? SignedCheckpoint(verifying: note, with: old),
                (try? SignedCheckpoint(verifying: note, with: successor)) != nil
            else { continue }
            return first.checkpoint.size
        }
        return nil
    }

    /// Writes the public `audit/verifier.vkey` (for offline checks and witnesses) when it is not the current key.
    static func writeVerifierKey(_ verifier: NoteVerifier, layout: VaultLayout) throws {
        let text = Data((verifier.vkey + "\n").utf8)
        if FileManager.default.contents(atPath: layout.auditVerifierKey.path(percentEncoded: false)) != text {
            try VaultFiles.writeAtomically(text, to: layout.auditVerifierKey)
        }
    }
}
