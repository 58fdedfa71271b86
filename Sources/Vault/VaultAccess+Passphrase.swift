public import Foundation

extension VaultAccess {
    /// `modelvault vault passphrase change`: re-seals every passphrase-encrypted key file under `new`
    /// (``Vault/changePassphrase(from:to:)``), recorded in the audit log as `vault.passphrase-change`.
    ///
    /// Needs no token: whoever holds the passphrase is admin (DESIGN.md, "local mode is break-glass").
    public func changePassphrase(
        from old: String, to new: String, requestID: String = UUID().uuidString
    ) async throws -> PassphraseChangeReport {
        let report = try await vault.changePassphrase(from: old, to: new)
        try await record(
            principal: "passphrase-holder", action: "vault.passphrase-change", resource: "vault", outcome: .allowed,
            requestID: requestID,
            detail: "re-sealed \(report.resealed.count) key files"
                + (report.alreadyChanged.isEmpty ? "" : "; \(report.alreadyChanged.count) already re-sealed"))
        return report
    }
}
