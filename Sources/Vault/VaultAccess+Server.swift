public import AccessControl
public import AuditLog
public import Foundation

/// What a long-running server needs beyond per-call sessions: token resolution without an audit entry (the
/// server audits each request itself, once), sessions for callers it already authenticated, and direct
/// audit appends for its own requests.
extension VaultAccess {
    /// The caller an API token authenticates, checked like ``authenticate(token:requestID:clientAddress:)``
    /// (well-formed, known, full hash compared in constant time, not expired or revoked) but recording
    /// nothing: the server writes one audit entry per request, whatever the outcome.
    ///
    /// - Throws: `AccessControlError.invalidToken`, `.expiredToken` or `.revokedToken`.
    public func caller(presenting token: String) throws -> Caller {
        guard APIToken.isWellFormed(token) else { throw AccessControlError.invalidToken }
        let presented = APIToken.hash(token)
        let found = try vault.catalog.read { db -> (TokenRecord, [RoleBinding])? in
            guard let record = try AccessCatalog.tokenRecord(id: presented.id, db), record.matches(presented) else {
                return nil
            }
            let principal = try AccessCatalog.requirePrincipal(record.principal, db)
            return (record, try AccessCatalog.bindings(ofPrincipal: principal, db))
        }
        guard let (record, bindings) = found else { throw AccessControlError.invalidToken }
        try record.checkUsable()
        return Caller(principal: record.principal, bindings: bindings, tokenID: record.id)
    }

    /// A session for a principal the server has already authenticated by token, with its current bindings.
    /// Every operation is still authorised by the policy and audited under `requestID`.
    public func session(
        forPrincipal name: String, requestID: String = UUID().uuidString, clientAddress: String? = nil
    ) throws -> VaultSession {
        let bindings = try vault.catalog.read { db in
            try AccessCatalog.bindings(ofPrincipal: try AccessCatalog.requirePrincipal(name, db), db)
        }
        return VaultSession(
            access: self, caller: Caller(principal: name, bindings: bindings, tokenID: ""),
            context: RequestContext(principal: name, requestID: requestID), clientAddress: clientAddress)
    }

    /// Appends one entry for a request handled outside a session (a server request, a model load).
    /// Fails closed: throws when the log is damaged or the append cannot be made durable.
    public func appendAuditEntry(
        principal: String, action: String, resource: String, outcome: AuditEntry.Outcome, requestID: String,
        clientAddress: String? = nil, detail: String? = nil
    ) async throws {
        try await record(
            principal: principal, action: action, resource: resource, outcome: outcome, requestID: requestID,
            clientAddress: clientAddress, detail: detail)
    }

    /// The audit log's entries (at or after `since`) in `format`, with no audit entry of its own: for a server
    /// that has authorised `audit.read` and audits the request itself.
    public func exportAuditLog(_ format: AuditExportFormat, since: Date? = nil) async throws -> Data {
        try AuditLogReader(directory: vault.layout.audit).export(
            format, since: since, coveredBy: try await signedAuditCheckpoint())
    }

    /// A checkpoint signed now over every entry so far, after this process's writer checked the seal of every record
    /// another writer appended since its last batch: what reads of the log (report, export, tail) are limited to,
    /// checked against its root, so a record planted in the file is never counted or shown as logged.
    func signedAuditCheckpoint() async throws -> Checkpoint {
        guard let log else {
            throw VaultError(.tampered, "the audit log cannot be opened; run `modelvault audit verify`")
        }
        return try await log.checkpoint().checkpoint
    }

    /// The compliance report, with no audit entry of its own: for a server that has authorised `report.read`
    /// and audits the request itself.
    public func complianceReport() async throws -> ComplianceReport {
        let reader = VaultSession(
            access: self, caller: Caller(principal: "server", bindings: [], tokenID: ""),
            context: RequestContext(principal: "server"), clientAddress: nil)
        return try await reader.makeReport()
    }

    /// Signs a checkpoint over every entry appended so far (a no-op when the latest one covers them all).
    public func checkpoint() async throws {
        try await log?.checkpoint()
    }

    /// The unlocked vault behind this door, for a server's own reads (loading the models it serves).
    public var unlockedVault: Vault { vault }
}
