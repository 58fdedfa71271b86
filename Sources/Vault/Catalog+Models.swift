import GRDB

// The model registry's catalog queries: models, their versions and the lineage each version records.

/// A model version row resolved from a reference.
struct ModelVersionRow: Sendable {
    var id: Int64
    var modelID: Int64
    var name: String
    var version: Int
    var manifestSHA256: String
}

extension ModelVersionRow {
    private init(_ row: Row, modelID: Int64, name: String) {
        self.init(
            id: row["id"], modelID: modelID, name: name, version: row["version"],
            manifestSHA256: row["manifest_sha256"])
    }

    /// The newest version of model `modelID` (named `name`), if it has one.
    static func latest(ofModel modelID: Int64, named name: String, _ db: Database) throws -> ModelVersionRow? {
        try Row.fetchOne(
            db, sql: "SELECT * FROM model_versions WHERE model_id = ? ORDER BY version DESC LIMIT 1",
            arguments: [modelID]
        ).map { ModelVersionRow($0, modelID: modelID, name: name) }
    }

    /// Version `version` of model `modelID` (named `name`), if it exists.
    static func version(
        _ version: Int, ofModel modelID: Int64, named name: String, _ db: Database
    ) throws -> ModelVersionRow? {
        try Row.fetchOne(
            db, sql: "SELECT * FROM model_versions WHERE model_id = ? AND version = ?",
            arguments: [modelID, version]
        ).map { ModelVersionRow($0, modelID: modelID, name: name) }
    }

    /// The version alias `alias` of model `modelID` (named `name`) points at, if any. The alias as typed is
    /// preferred; otherwise one differing only in case (aliases stored before #20 kept their case).
    static func aliasTarget(
        _ alias: String, ofModel modelID: Int64, named name: String, _ db: Database
    ) throws -> ModelVersionRow? {
        try Row.fetchOne(
            db,
            sql: """
                SELECT v.* FROM aliases a JOIN model_versions v ON v.id = a.version_id
                WHERE a.model_id = ? AND a.alias = ? COLLATE NOCASE ORDER BY a.alias = ? DESC LIMIT 1
                """, arguments: [modelID, alias, alias]  // NOCASE still reaches aliases stored before #20
        ).map { ModelVersionRow($0, modelID: modelID, name: name) }
    }

    /// The version numbers of the model named `name`, oldest first (empty when there is no such model).
    static func versionNumbers(ofModelNamed name: String, _ db: Database) throws -> [Int] {
        try Int.fetchAll(
            db,
            sql: """
                SELECT v.version FROM model_versions v JOIN models m ON m.id = v.model_id
                WHERE m.name = ? ORDER BY v.version
                """, arguments: [name])
    }

    /// The highest version number of model `modelID`, nil when it has none.
    static func highestVersion(ofModel modelID: Int64, _ db: Database) throws -> Int? {
        try Int.fetchOne(db, sql: "SELECT MAX(version) FROM model_versions WHERE model_id = ?", arguments: [modelID])
    }

    /// Every model version by model name then version: `NAME/VERSION`, as version directories are named.
    static func directoryNames(_ db: Database) throws -> [String] {
        try String.fetchAll(
            db,
            sql: """
                SELECT m.name || '/' || v.version FROM model_versions v JOIN models m ON m.id = v.model_id
                """)
    }

    /// Every model version with its manifest digest, by model name then version.
    static func manifestDigests(_ db: Database) throws -> [(name: String, version: Int, digest: String)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT m.name AS name, v.version AS version, v.manifest_sha256 AS digest
                FROM model_versions v JOIN models m ON m.id = v.model_id ORDER BY m.name, v.version
                """
        ).map { (name: $0["name"] as String, version: $0["version"] as Int, digest: $0["digest"] as String) }
    }

    /// The manifest digest recorded for model version `id`, nil if there is no such version.
    static func manifestDigest(ofVersion id: Int64, _ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT manifest_sha256 FROM model_versions WHERE id = ?", arguments: [id])
    }

    /// Records a new manifest (its digest) and signer for model version `id`.
    static func setManifest(ofVersion id: Int64, sha256: String, signer: String, _ db: Database) throws {
        try db.execute(
            sql: "UPDATE model_versions SET manifest_sha256 = ?, signer = ? WHERE id = ?",
            arguments: [sha256, signer, id])
    }

    /// Records `fingerprint` as the signer of every model version (all re-signed with a new key).
    static func setSignerOfEveryVersion(_ fingerprint: String, _ db: Database) throws {
        try db.execute(sql: "UPDATE model_versions SET signer = ?", arguments: [fingerprint])
    }

    /// Records a new version of model `modelID`; returns its row id. `metrics` is JSON text.
    static func insert(
        modelID: Int64, version: Int, manifestSHA256: String, signer: String, publisher: String?, metrics: String?,
        source: String, createdAt: String, createdBy: String, _ db: Database
    ) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO model_versions (model_id, version, manifest_sha256, signer, publisher, metrics,
                    source, created_at, created_by)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                modelID, version, manifestSHA256, signer, publisher, metrics, source, createdAt, createdBy,
            ])
        return db.lastInsertedRowID
    }
}

/// Every column of a `model_versions` row, for `model show`.
struct ModelVersionRecord: Sendable {
    var id: Int64
    var createdAt: String
    var createdBy: String
    var source: String
    var signer: String
    var publisher: String?
    var manifestSHA256: String
    /// JSON text, if the version records metrics.
    var metrics: String?

    /// Version `version` of the model named `name`, if it exists.
    static func find(name: String, version: Int, _ db: Database) throws -> ModelVersionRecord? {
        try Row.fetchOne(
            db,
            sql: """
                SELECT v.* FROM model_versions v JOIN models m ON m.id = v.model_id
                WHERE m.name = ? AND v.version = ?
                """, arguments: [name, version]
        ).map {
            ModelVersionRecord(
                id: $0["id"], createdAt: $0["created_at"], createdBy: $0["created_by"], source: $0["source"],
                signer: $0["signer"], publisher: $0["publisher"], manifestSHA256: $0["manifest_sha256"],
                metrics: $0["metrics"])
        }
    }
}

/// The `models` table.
enum ModelRows {
    /// The id of the model named `name`, nil if there is none.
    static func id(named name: String, _ db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT id FROM models WHERE name = ?", arguments: [name])
    }

    /// Records a new model named `name`; returns its id.
    static func insert(name: String, createdAt: String, _ db: Database) throws -> Int64 {
        try db.execute(sql: "INSERT INTO models (name, created_at) VALUES (?, ?)", arguments: [name, createdAt])
        return db.lastInsertedRowID
    }

    /// Every model's name with each of its version numbers, by name then version.
    static func versionNumbers(_ db: Database) throws -> [(name: String, version: Int)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT m.name AS name, v.version AS version
                FROM models m JOIN model_versions v ON v.model_id = m.id ORDER BY m.name, v.version
                """
        ).map { (name: $0["name"] as String, version: $0["version"] as Int) }
    }
}

/// The `lineage` table: the dataset versions (and their digests) each model version was built from.
enum LineageRows {
    /// The lineage of model version `id`, by dataset name then version.
    static func entries(ofModelVersion id: Int64, _ db: Database) throws -> [LineageEntry] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT dataset_name, dataset_version, digest FROM lineage WHERE model_version_id = ?
                ORDER BY dataset_name, dataset_version
                """, arguments: [id]
        ).map { LineageEntry(dataset: $0["dataset_name"], version: $0["dataset_version"], digest: $0["digest"]) }
    }

    /// `NAME@VERSION` of a dataset model version `id` was built from whose digest is no longer the one the lineage
    /// recorded, if any.
    static func staleDataset(ofModelVersion id: Int64, _ db: Database) throws -> String? {
        try String.fetchOne(
            db,
            sql: """
                SELECT l.dataset_name || '@' || l.dataset_version FROM lineage l
                JOIN dataset_versions d ON d.id = l.dataset_version_id
                WHERE l.model_version_id = ? AND d.digest != l.digest LIMIT 1
                """, arguments: [id])
    }

    /// How many model versions recorded dataset version `id` with a digest other than `digest`.
    static func countRecordingOtherDigest(
        ofDatasetVersion id: Int64, than digest: String, _ db: Database
    ) throws
        -> Int
    {
        try Int.fetchOne(
            db, sql: "SELECT COUNT(*) FROM lineage WHERE dataset_version_id = ? AND digest != ?",
            arguments: [id, digest]) ?? 0
    }

    /// Records that model version `modelVersionID` was built from dataset version `datasetVersionID` (`entry`).
    static func insert(
        modelVersionID: Int64, datasetVersionID: Int64, entry: LineageEntry, _ db: Database
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO lineage (model_version_id, dataset_version_id, dataset_name, dataset_version,
                    digest) VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [modelVersionID, datasetVersionID, entry.dataset, entry.version, entry.digest])
    }
}
