import AccessControl
public import Foundation
import GRDB

/// What the vault remembers of one deployment (issue #19): the identity its bundles are wrapped for, the serial of
/// the newest bundle, and the identities retired by `deploy --rotate-identity`. Kept as a pin in the authenticated
/// catalog, so an attacker with write access to the vault directory cannot un-revoke an identity or lower a serial.
///
/// A record belongs to one namespace and the models it serves (review 5, F3): it is kept under
/// `deployment/NAMESPACE/NAME`, so a deploy of the same models to another namespace has its own identity, serial
/// and revocations. Records written before namespaces are kept under `deployment.NAME`; see
/// ``VaultSession/deploymentRecord(_:namespace:model:)`` for the rule that carries them over.
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
    /// The Kubernetes namespace the deployment runs in (review 5, F3). `nil` in a record written before records
    /// were kept per namespace, and in one registered without a namespace.
    public var namespace: String?
}

extension VaultSession {
    /// `model.deploy` on `model`: the vault's record of `deployment` in `namespace`, if it was deployed there
    /// before. Throws ``VaultError`` when the record belongs to other models (a folded name shared by two models).
    ///
    /// A record from before namespaces (kept under the deployment name alone) is the record of the namespace it
    /// names, if it names one; otherwise of the first namespace that deploys it, which moves it there (a deploy to
    /// another namespace afterwards starts a record of its own). `namespace` `nil` reads that legacy record only.
    public func deploymentRecord(
        _ deployment: String, namespace: String? = nil, model: String
    ) async throws -> DeploymentRecord? {
        let vault = self.vault
        let resource = "deployment:" + (namespace.map { "\($0)/" } ?? "") + deployment
        return try await perform(.modelDeploy, on: .model(model), resource: resource) {
            let record = try await vault.deploymentRecord(deployment, namespace: namespace)
            if let record { try Vault.requireSameModels(record, [model], deployment) }
            return record
        }
    }
}

extension Vault {
    /// The `trust_pins` row of a record: `deployment.NAME` without a namespace (every record written before
    /// namespaces), `deployment/NAMESPACE/NAME` with one. The two prefixes never collide.
    static func deploymentPinName(_ deployment: String, namespace: String? = nil) -> String {
        guard let namespace else { return legacyDeploymentPrefix + deployment }
        return deploymentPrefix + namespace + "/" + deployment
    }

    static let legacyDeploymentPrefix = "deployment."
    static let deploymentPrefix = "deployment/"

    /// A namespace is a DNS-1123 label (Kubernetes' rule), so it cannot hold the `/` that ends it in a pin name.
    static func requireValidNamespace(_ namespace: String?) throws {
        guard let namespace else { return }
        let valid =
            !namespace.isEmpty && namespace.utf8.count <= 63
            && namespace.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
            && !namespace.hasPrefix("-") && !namespace.hasSuffix("-")
        guard valid else { throw VaultError(.invalidName, "a deployment namespace must be a DNS-1123 label") }
    }

    func deploymentRecord(_ deployment: String, namespace: String? = nil) throws -> DeploymentRecord? {
        try Self.requireValidNamespace(namespace)
        return try catalog.read { db in try Self.deploymentRecord(deployment, namespace: namespace, db)?.record }
    }

    /// The record of `deployment` in `namespace` and the pin it is kept under: the namespace's own, else a legacy
    /// record that names this namespace or none (see ``VaultSession/deploymentRecord(_:namespace:model:)``).
    static func deploymentRecord(
        _ deployment: String, namespace: String?, _ db: Database
    ) throws -> (record: DeploymentRecord, pin: String)? {
        let own = deploymentPinName(deployment, namespace: namespace)
        if let record = try deploymentRecord(pin: own, db) {
            guard namespace == nil || record.namespace == namespace else {
                throw VaultError(.tampered, "the deployment record of \(deployment) names another namespace")
            }
            return (record, own)
        }
        guard namespace != nil else { return nil }
        let legacy = deploymentPinName(deployment)
        guard let record = try deploymentRecord(pin: legacy, db),
            record.namespace == nil || record.namespace == namespace
        else { return nil }
        return (record, legacy)
    }

    static func deploymentRecord(pin: String, _ db: Database) throws -> DeploymentRecord? {
        guard let text = try TrustPin.value(named: pin, db) else { return nil }
        guard let record = try? JSONDecoder().decode(DeploymentRecord.self, from: Data(text.utf8)) else {
            throw VaultError(.tampered, "a deployment record is not valid")
        }
        return record
    }

    /// Every deployment record (of every namespace, and the legacy ones) with the pin it is kept under.
    static func allDeploymentRecords(_ db: Database) throws -> [(pin: String, record: DeploymentRecord)] {
        let names = try TrustPin.deploymentRecordNames(
            legacyPrefix: legacyDeploymentPrefix, prefix: deploymentPrefix, db)
        return try names.compactMap { name in try deploymentRecord(pin: name, db).map { (name, $0) } }
    }

    /// Whether `recipient` is the current identity of some recorded deployment, in any namespace (a revoked one
    /// does not count). A caller without `model.pull` may re-wrap a model only for such a recipient, whose identity
    /// lives in a pod.
    func isCurrentDeploymentRecipient(_ recipient: String, forModel model: String? = nil) throws -> Bool {
        let wanted = Self.normalizedRecipient(recipient)
        return try catalog.read { db in
            try Self.allDeploymentRecords(db).contains {
                // A record from before models were recorded names none: it is taken at its word.
                Self.normalizedRecipient($0.record.recipient) == wanted
                    && (model == nil || $0.record.models.map { $0.contains(model!) } ?? true)
            }
        }
    }

    static func normalizedRecipient(_ recipient: String) -> String {
        recipient.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// Records a new bundle for `deployment` in `namespace` wrapped for `recipient` and returns its serial: the same
    /// identity continues the deployment; another one needs `rotateIdentity`, which revokes the previous identity;
    /// a revoked identity is refused for good.
    /// The record is the deployment of `models` (exact names) in `namespace` only: a deployment name recorded for
    /// other models is refused before anything changes, and a record of another namespace is never touched. An
    /// identity belongs to one deployment: a new record, or a rotation, for a recipient that another record holds
    /// (current or revoked) is refused, so no deployment can revoke another's identity. A legacy record this
    /// namespace continues is moved under its own pin in the same transaction.
    ///
    /// A record from before namespaces names none, so any namespace could take it over (its identity and serial) by
    /// deploying first: it is adopted only with `adoptLegacyRecord`, in the namespace it serves (review 7, L1).
    /// Recipients are compared and stored trimmed and lower-cased, so a revoked identity cannot return in another
    /// spelling (review 7, L2).
    func registerDeploymentBundle(
        _ deployment: String, namespace: String? = nil, models: [String], recipient: String, rotateIdentity: Bool,
        adoptLegacyRecord: Bool = false
    ) throws -> Int {
        try Self.requireValidNamespace(namespace)
        let models = models.sorted()
        let recipient = Self.normalizedRecipient(recipient)
        return try catalog.write { db in
            let found = try Self.deploymentRecord(deployment, namespace: namespace, db)
            if let found, namespace != nil, found.record.namespace == nil, !adoptLegacyRecord {
                throw VaultError(
                    .identityMismatch,
                    "the record of \(deployment) predates namespaces: adopt it in the namespace it serves "
                        + "(deploy --adopt-legacy-record)")
            }
            var record =
                found?.record
                ?? DeploymentRecord(serial: 0, recipient: recipient, revoked: [], models: models, namespace: namespace)
            try Self.requireSameModels(record, models, deployment)
            record.models = models
            record.namespace = namespace ?? record.namespace
            guard !record.revoked.contains(where: { Self.normalizedRecipient($0) == recipient }) else {
                throw VaultError(.identityMismatch, "the deployment identity of \(deployment) was revoked")
            }
            let continues = Self.normalizedRecipient(record.recipient) == recipient
            if found == nil || !continues {
                try Self.requireUnclaimedRecipient(recipient, except: found?.pin, db)
            }
            if !continues {
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
            let pin = Self.deploymentPinName(deployment, namespace: namespace)
            if let old = found?.pin, old != pin {
                try TrustPin.remove(named: old, db)
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try TrustPin.set(named: pin, to: String(decoding: try encoder.encode(record), as: UTF8.self), db)
            return record.serial
        }
    }

    /// Refuses `recipient` when a record other than the one under `except` holds it, current or revoked.
    static func requireUnclaimedRecipient(_ recipient: String, except: String?, _ db: Database) throws {
        let wanted = normalizedRecipient(recipient)
        for (pin, record) in try allDeploymentRecords(db) where pin != except {
            let held = [record.recipient] + record.revoked
            guard !held.contains(where: { normalizedRecipient($0) == wanted }) else {
                throw VaultError(.identityMismatch, "the deployment identity belongs to another deployment")
            }
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
