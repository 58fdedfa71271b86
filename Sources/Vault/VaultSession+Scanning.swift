public import AccessControl
import Foundation
public import ModelScan

extension VaultSession {
    /// Accepting scanner findings is a security decision: it needs `model.scan` on the model (admins and security
    /// engineers). Both a refusal and every acceptance are audited, with the accepted finding IDs.
    func checkAccepting(_ scan: ModelScanOptions, model: String) async throws {
        guard !scan.accept.isEmpty else { return }
        let detail = "accept " + scan.accept.joined(separator: ", ")
        guard Policy.decide(.modelScan, on: .model(model), for: caller.bindings).isAllowed else {
            try await audit(Self.acceptAction, "model:\(model)", .denied, detail: "permission denied; \(detail)")
            throw AccessControlError.denied(.modelScan, on: .model(model))
        }
        try await audit(Self.acceptAction, "model:\(model)", .allowed, detail: detail)
    }

    /// `model.scan`: re-scans a stored version in memory (decrypted and verified first) and returns the record;
    /// the stored record, if any, is left as it is.
    public func scanModel(_ reference: ModelReference, policy: ScanPolicy = .default) async throws -> ModelScanRecord {
        try await perform(
            .modelScan, on: .model(reference.name), resource: "model:\(reference)",
            resolve: { await resolved(reference) }
        ) { try await vault.rescanModel(reference, policy: policy, context: context) }
    }

    /// `model.scan` on the whole vault: re-scans every version stored before the scanner existed (no record in
    /// its signed manifest) and stores the record, whatever it finds: serving refuses a version whose record
    /// holds a refused finding.
    ///
    /// - Returns: each version scanned, with its new record.
    public func scanUnscannedModels(
        policy: ScanPolicy = .default
    ) async throws -> [(
        reference: String, record: ModelScanRecord
    )] {
        // Every model: only a binding over the whole vault will do; each version is then audited on its own.
        guard caller.bindings.contains(where: { $0.scope == .global && PermissionMatrix.allows($0.role, .modelScan) })
        else {
            try await audit(Action.modelScan.rawValue, "vault", .denied, detail: "permission denied; --all")
            throw AccessControlError.denied(.modelScan, on: .global)
        }
        var results: [(reference: String, record: ModelScanRecord)] = []
        for reference in try await vault.allModelVersions() where try await vault.scanRecord(reference) == nil {
            let stored = try await perform(.modelScan, on: .model(reference.name), resource: "model:\(reference)") {
                let record = try await vault.rescanModel(reference, policy: policy, context: context)
                return try await vault.storeScanRecord(record, for: reference) ? record : nil
            }
            if let stored { results.append((reference.description, stored)) }
        }
        return results
    }

    /// The audit action of an accepted scanner finding.
    static let acceptAction = "model.scan.accept"
}
