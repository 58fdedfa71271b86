import AuditLog
public import Vault
public import VaultServer

/// Appends one entry per server request to the vault's tamper-evident audit log: principal (or `anonymous`),
/// the vault action the route is authorised as, the model or dataset, the outcome, the client's address and
/// the request id the client also received. An append that fails fails the request (HTTP 503).
public struct VaultRequestAuditor: AuditSink {
    let access: VaultAccess

    /// Creates an auditor over an opened vault.
    public init(access: VaultAccess) {
        self.access = access
    }

    /// Records one request durably.
    public func record(_ record: RequestAuditRecord) async throws {
        try await access.appendAuditEntry(
            principal: record.principal ?? "anonymous", action: record.action?.vaultAction.rawValue ?? "server.request",
            resource: Self.resource(of: record), outcome: Self.outcome(of: record.status),
            requestID: record.requestID, clientAddress: record.clientAddress,
            detail: "\(record.method) \(record.route) \(record.status)")
    }

    /// Names the resource the way the CLI's entries do (`model:NAME`, `dataset:NAME`), so reports count both.
    static func resource(of record: RequestAuditRecord) -> String {
        guard let name = record.resource else { return "server" }
        return record.route.contains("/datasets/") ? "dataset:\(name)" : "model:\(name)"
    }

    /// Refusals by authentication or policy are `denied`; any other error status is `failed`.
    static func outcome(of status: Int) -> AuditEntry.Outcome {
        switch status {
        case 200..<400: .allowed
        case 401, 403: .denied
        default: .failed
        }
    }
}
