import Foundation
import GRDB

/// A model version row resolved from a reference.
struct ModelVersionRow: Sendable {
    var id: Int64
    var modelID: Int64
    var name: String
    var version: Int
    var manifestSHA256: String
}

extension Vault {
    /// Every model with its versions and aliases, by name (two queries, whatever the number of models).
    public func models() throws -> [ModelSummary] {
        try catalog.read { db in
            let versions = try Row.fetchAll(
                db,
                sql: """
                    SELECT m.name AS name, v.version AS version
                    FROM models m JOIN model_versions v ON v.model_id = m.id ORDER BY m.name, v.version
                    """)
            let aliases = try Row.fetchAll(
                db,
                sql: """
                    SELECT m.name AS name, a.alias AS alias, v.version AS version
                    FROM aliases a JOIN models m ON m.id = a.model_id JOIN model_versions v ON v.id = a.version_id
                    """)
            var aliasesByModel: [String: [String: Int]] = [:]
            for row in aliases { aliasesByModel[row["name"], default: [:]][row["alias"]] = row["version"] }
            var names: [String] = []
            var versionsByModel: [String: [Int]] = [:]
            for row in versions {
                let name: String = row["name"]
                if versionsByModel[name] == nil { names.append(name) }
                versionsByModel[name, default: []].append(row["version"])
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
            let versions = try Int.fetchAll(
                db,
                sql: """
                    SELECT v.version FROM model_versions v JOIN models m ON m.id = v.model_id
                    WHERE m.name = ? ORDER BY v.version
                    """, arguments: [name])
            guard !versions.isEmpty else { throw VaultError(.notFound, "no model named \(name)") }
            return try versions.map { try Self.modelInfo(name: name, version: $0, db) }
        }
    }

    /// Details of one model version: files, digests, signer, lineage, metrics, aliases, key versions.
    public func model(_ reference: ModelReference) throws -> ModelVersionInfo {
        try catalog.read { db in
            let row = try Self.resolveModel(reference, db)
            // `model show`: each dataset this version was built from must still have the digest it recorded.
            if let stale = try String.fetchOne(
                db,
                sql: """
                    SELECT l.dataset_name || '@' || l.dataset_version FROM lineage l
                    JOIN dataset_versions d ON d.id = l.dataset_version_id
                    WHERE l.model_version_id = ? AND d.digest != l.digest LIMIT 1
                    """, arguments: [row.id])
            {
                throw VaultError(
                    .tampered, "dataset \(stale) no longer matches the lineage digest recorded by \(reference)")
            }
            return try Self.modelInfo(name: row.name, version: row.version, db)
        }
    }

    static func resolveModel(_ reference: ModelReference, _ db: Database) throws -> ModelVersionRow {
        guard
            let modelID = try Int64.fetchOne(
                db, sql: "SELECT id FROM models WHERE name = ?", arguments: [reference.name])
        else { throw VaultError(.notFound, "no model named \(reference.name)") }
        let row: Row?
        switch reference.selector {
        case .latest:
            row = try Row.fetchOne(
                db, sql: "SELECT * FROM model_versions WHERE model_id = ? ORDER BY version DESC LIMIT 1",
                arguments: [modelID])
        case .version(let version):
            row = try Row.fetchOne(
                db, sql: "SELECT * FROM model_versions WHERE model_id = ? AND version = ?",
                arguments: [modelID, version])
        case .alias(let alias):
            row = try Row.fetchOne(
                db,
                sql: """
                    SELECT v.* FROM aliases a JOIN model_versions v ON v.id = a.version_id
                    WHERE a.model_id = ? AND a.alias = ? COLLATE NOCASE ORDER BY a.alias = ? DESC LIMIT 1
                    """, arguments: [modelID, alias, alias])  // NOCASE still reaches aliases stored before #20
        }
        guard let row else { throw VaultError(.notFound, "no model version \(reference)") }
        return ModelVersionRow(
            id: row["id"], modelID: modelID, name: reference.name, version: row["version"],
            manifestSHA256: row["manifest_sha256"])
    }

    static func modelInfo(name: String, version: Int, _ db: Database) throws -> ModelVersionInfo {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT v.* FROM model_versions v JOIN models m ON m.id = v.model_id
                    WHERE m.name = ? AND v.version = ?
                    """, arguments: [name, version])
        else { throw VaultError(.notFound, "no model version \(name)@\(version)") }
        let id: Int64 = row["id"]
        let lineage = try Row.fetchAll(
            db,
            sql: """
                SELECT dataset_name, dataset_version, digest FROM lineage WHERE model_version_id = ?
                ORDER BY dataset_name, dataset_version
                """, arguments: [id]
        ).map { LineageEntry(dataset: $0["dataset_name"], version: $0["dataset_version"], digest: $0["digest"]) }
        let aliases = try String.fetchAll(
            db, sql: "SELECT alias FROM aliases WHERE version_id = ? ORDER BY alias", arguments: [id])
        let metricsText: String? = row["metrics"]
        let metrics = try metricsText.map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
        return ModelVersionInfo(
            name: name, version: version, createdAt: row["created_at"], createdBy: row["created_by"],
            source: row["source"], signer: row["signer"], publisher: row["publisher"],
            manifestSHA256: row["manifest_sha256"], metrics: metrics,
            files: try StoredFile.fetch(db, table: "model_files", versionID: id).map(\.info), lineage: lineage,
            aliases: aliases)
    }
}
