import AccessControl
public import AuditLog
public import Foundation

extension VaultSession {
    /// `audit.verify`: recomputes the tree from every entry and checks every checkpoint (signature, root,
    /// consistency); reports the first bad index. Runs even when the log is too damaged to append to.
    public func verifyAuditLog() async throws -> VerificationReport {
        if access.log == nil {
            // Nothing can be appended to a damaged log; the decision is still made before anything is read.
            guard isAllowed(.auditVerify) else { throw AccessControlError.denied(.auditVerify, on: .global) }
            return try await AuditVerifier.verify(directory: vault.layout.audit, verifier: access.verifier)
        }
        return try await perform(.auditVerify, on: .global, resource: "audit") {
            try await AuditVerifier.verify(directory: vault.layout.audit, verifier: access.verifier)
        }
    }

    /// `audit.read`: an inclusion proof of entry `index` against a signed checkpoint (signed now if needed).
    public func auditProof(index: UInt64) async throws -> InclusionProof {
        try await perform(.auditRead, on: .global, resource: "audit:\(index)") {
            try await access.log?.checkpoint()
            return try AuditLogReader(directory: vault.layout.audit).inclusionProof(
                index: index, verifiedBy: access.verifier)
        }
    }

    /// `audit.read`: the last `count` entries.
    public func auditTail(_ count: Int) async throws -> [(index: UInt64, entry: AuditEntry)] {
        try await perform(.auditRead, on: .global, resource: "audit") {
            try AuditLogReader(directory: vault.layout.audit).tail(count)
        }
    }

    /// `audit.read`: entries at or after `since` in `format`.
    public func auditExport(_ format: AuditExportFormat, since: Date? = nil) async throws -> Data {
        try await perform(.auditRead, on: .global, resource: "audit") {
            try AuditLogReader(directory: vault.layout.audit).export(format, since: since)
        }
    }

    /// The verifier of this vault's checkpoints (public).
    public var auditVerifier: NoteVerifier { access.verifier }
}
