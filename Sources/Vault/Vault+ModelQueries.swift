import Foundation
import GRDB

extension Vault {
    /// Every model with its versions and aliases, by name (two queries, whatever the number of models).
    public func models() throws -> [ModelSummary] {
        try catalog.read { db in
            let versions = try ModelRows.versionNumbers(db)
            let aliases = try AliasRows.all(db)
            var aliasesByModel: [String: [String: Int]] = [:]
            for row in aliases { aliasesByModel[row.model, default: [:]][row.alias] = row.version }
            var names: [String] = []
            var versionsByModel: [String: [Int]] = [:]
            for row in versions {
                let name = row.name
                if versionsByModel[name] == nil { names.append(name) }
                versionsByModel[name, default: []].append(row.version)
            }
            return names.map { name in
                ModelSummary(name: name, versions: versionsByModel[name] ?? [], aliases: aliasesByModel[name] ?? [:])
            }
        }
    }

    /// The versions of one model, oldest first.
    public func modelVersions(_ name: String) throws -> [ModelVersionInfo] {
        try VaultNames.validate(name, kind: "model name")
        return try catalog.read { db in
            let versions = try ModelVersionRow.versionNumbers(ofModelNamed: name, db)
            guard !versions.isEmpty else { throw VaultError(.notFound, "no model named \(name)") }
            return try versions.map { try Self.modelInfo(name: name, version: $0, db) }
        }
    }

    /// Details of one model version: files, digests, signer, lineage, metrics, aliases, key versions.
    public func model(_ reference: ModelReference) throws -> ModelVersionInfo {
        try catalog.read { db in
            let row = try Self.resolveModel(reference, db)
            // `model show`: each dataset this version was built from must still have the digest it recorded.
            if let stale = try LineageRows.staleDataset(ofModelVersion: row.id, db) {
                throw VaultError(
                    .tampered, "dataset \(stale) no longer matches the lineage digest recorded by \(reference)")
            }
            return try Self.modelInfo(name: row.name, version: row.version, db)
        }
    }

    static func resolveModel(_ reference: ModelReference, _ db: Database) throws -> ModelVersionRow {
        guard let modelID = try ModelRows.id(named: reference.name, db) else {
            throw VaultError(.notFound, "no model named \(reference.name)")
        }
        let row: ModelVersionRow?
        switch reference.selector {
        case .latest:
            row = try ModelVersionRow.latest(ofModel: modelID, named: reference.name, db)
        case .version(let version):
            row = try ModelVersionRow.version(version, ofModel: modelID, named: reference.name, db)
        case .alias(let alias):
            row = try ModelVersionRow.aliasTarget(alias, ofModel: modelID, named: reference.name, db)
        }
        guard let row else { throw VaultError(.notFound, "no model version \(reference)") }
        return row
    }

    static func modelInfo(name: String, version: Int, _ db: Database) throws -> ModelVersionInfo {
        guard let row = try ModelVersionRecord.find(name: name, version: version, db) else {
            throw VaultError(.notFound, "no model version \(name)@\(version)")
        }
        let id = row.id
        let lineage = try LineageRows.entries(ofModelVersion: id, db)
        let aliases = try AliasRows.names(pointingAt: id, db)
        let metricsText = row.metrics
        let metrics = try metricsText.map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
        return ModelVersionInfo(
            name: name, version: version, createdAt: row.createdAt, createdBy: row.createdBy,
            source: row.source, signer: row.signer, publisher: row.publisher,
            manifestSHA256: row.manifestSHA256, metrics: metrics,
            files: try StoredFile.fetch(db, table: "model_files", versionID: id).map(\.info), lineage: lineage,
            aliases: aliases)
    }
}
