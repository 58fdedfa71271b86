import AccessControl
import Foundation

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

    /// The audit action of an accepted scanner finding.
    static let acceptAction = "model.scan.accept"
}
