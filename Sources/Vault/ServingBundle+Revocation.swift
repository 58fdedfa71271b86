import AccessControl
public import Foundation
import GRDB

/// What the vault remembers of one deployment (issue #19): the identity its bundles are wrapped for, the serial of
/// the newest bundle, and the identities retired by `deploy --rotate-identity`. Kept as a pin in the authenticated
/// catalog, so an attacker with write access to the vault directory cannot un-revoke an identity or lower a serial.
public struct DeploymentRecord: Codable, Sendable, Equatable {
    /// The serial of the newest bundle made for the deployment (1 for the first).
    public var serial: Int
    /// The deployment identity's recipient the current bundles are wrapped for.
    public var recipient: String
    /// Recipients of earlier identities: the vault never wraps a bundle for them again.
    public var revoked: [String]
    /// The exact names of the models the deployment serves, sorted. Deployment names are folded to DNS labels
    /// (`fraud_a` and `fraud-a` give one name), so a record is only ever continued for the same models: another
    /// model's deploy must not revoke this deployment's identity nor wrap its bundle for that identity. `nil` in a
    /// record written before the field existed; the next bundle records its models.
    public var models: [String]?
}

extension VaultSession {
    /// `model.deploy` on `model`: the vault's record of `deployment`, if it was deployed before. Throws
    /// ``VaultError`` when the record belongs to other models (a folded name shared by two models).
    public func deploymentRecord(_ deployment: String, model: String) async throws -> DeploymentRecord? {
        let vault = self.vault
        return try await perform(.modelDeploy, on: .model(model), resource: "deployment:\(deployment)") {
            let record = try await vault.deploymentRecord(deployment)
            if let record { try Vault.requireSameModels(record, [model], deployment) }
            return record
        }
    }
}

extension Vault {
    static func deploymentPinName(_ deployment: String) -> String { "deployment.\(deployment)" }

    func deploymentRecord(_ deployment: String) throws -> DeploymentRecord? {
        try catalog.read { db in try Self.deploymentRecord(deployment, db) }
    }

    static func deploymentRecord(_ deployment: String, _ db: Database) throws -> DeploymentRecord? {
        guard
            let text = try String.fetchOne(
                db, sql: "SELECT value FROM trust_pins WHERE name = ?", arguments: [deploymentPinName(deployment)])
        else { return nil }
        guard let record = try? JSONDecoder().decode(DeploymentRecord.self, from: Data(text.utf8)) else {
            throw VaultError(.tampered, "the deployment record of \(deployment) is not valid")
        }
        return record
    }

    /// Whether `recipient` is the current identity of some recorded deployment (a revoked one does not count).
    /// A caller without `model.pull` may re-wrap a model only for such a recipient, whose identity lives in a pod.
    func isCurrentDeploymentRecipient(_ recipient: String) throws -> Bool {
        let wanted = recipient.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return try catalog.read { db in
            let prefix = Self.deploymentPinName("")
            let names = try String.fetchAll(
                db, sql: "SELECT name FROM trust_pins WHERE substr(name, 1, ?) = ?",
                arguments: [prefix.count, prefix])
            for name in names {
                let deployment = String(name.dropFirst(prefix.count))
                if let record = try Self.deploymentRecord(deployment, db), record.recipient.lowercased() == wanted {
                    return true
                }
            }
            return false
        }
    }

    /// Records a new bundle for `deployment` wrapped for `recipient` and returns its serial: the same identity
    /// continues the deployment; another one needs `rotateIdentity`, which revokes the previous identity; a
    /// revoked identity is refused for good.
    /// The record is the deployment of `models` (exact names) only: a deployment name recorded for other models is
    /// refused before anything changes.
    func registerDeploymentBundle(
        _ deployment: String, models: [String], recipient: String, rotateIdentity: Bool
    ) throws -> Int {
        let models = models.sorted()
        return try catalog.write { db in
            var record =
                try Self.deploymentRecord(deployment, db)
                ?? DeploymentRecord(serial: 0, recipient: recipient, revoked: [], models: models)
            try Self.requireSameModels(record, models, deployment)
            record.models = models
            guard !record.revoked.contains(recipient) else {
                throw VaultError(.identityMismatch, "the deployment identity of \(deployment) was revoked")
            }
            if record.recipient != recipient {
                guard rotateIdentity else {
                    throw VaultError(
                        .identityMismatch,
                        "\(deployment) is deployed for another identity; use --rotate-identity to replace it")
                }
                record.revoked.append(record.recipient)
                record.recipient = recipient
            }
            guard record.serial < Int.max else { throw VaultError.storage("the deployment serial is exhausted") }
            record.serial += 1
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try db.execute(
                sql:
                    "INSERT INTO trust_pins (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                arguments: [
                    Self.deploymentPinName(deployment), String(decoding: try encoder.encode(record), as: UTF8.self),
                ])
            return record.serial
        }
    }

    /// Refuses a record made for other models than `models` (compared as exact strings, never folded).
    static func requireSameModels(_ record: DeploymentRecord, _ models: [String], _ deployment: String) throws {
        guard let recorded = record.models, recorded != models.sorted() else { return }
        throw VaultError(
            .identityMismatch,
            "\(deployment) is already the deployment of \(recorded.joined(separator: ", ")); a model whose name folds "
                + "to the same deployment name cannot be deployed under it")
    }
}
