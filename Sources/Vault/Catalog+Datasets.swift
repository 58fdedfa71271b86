import GRDB

// Datasets' catalog queries: `datasets` and `dataset_versions` (their files: `StoredFile`).

/// The `datasets` table.
enum DatasetRows {
    /// The id of the dataset named `name`, nil if there is none.
    static func id(named name: String, _ db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT id FROM datasets WHERE name = ?", arguments: [name])
    }

    /// Records a new dataset named `name`; returns its id.
    static func insert(name: String, createdAt: String, _ db: Database) throws -> Int64 {
        try db.execute(sql: "INSERT INTO datasets (name, created_at) VALUES (?, ?)", arguments: [name, createdAt])
        return db.lastInsertedRowID
    }

    /// Every dataset with its latest version number and how many versions it has, by name.
    static func summaries(_ db: Database) throws -> [DatasetSummary] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT d.name AS name, MAX(v.version) AS latest, COUNT(v.id) AS count
                FROM datasets d JOIN dataset_versions v ON v.dataset_id = d.id GROUP BY d.id ORDER BY d.name
                """
        ).map { DatasetSummary(name: $0["name"], latestVersion: $0["latest"], versionCount: $0["count"]) }
    }
}

/// A dataset version row resolved from a reference: what lineage records of it.
struct DatasetVersionRow: Sendable {
    var id: Int64
    var version: Int
    var digest: String
}

extension DatasetVersionRow {
    private init(_ row: Row) { self.init(id: row["id"], version: row["version"], digest: row["digest"]) }

    /// Version `version` of dataset `datasetID`, if it exists.
    static func version(_ version: Int, ofDataset datasetID: Int64, _ db: Database) throws -> DatasetVersionRow? {
        try Row.fetchOne(
            db, sql: "SELECT * FROM dataset_versions WHERE dataset_id = ? AND version = ?",
            arguments: [datasetID, version]
        ).map(DatasetVersionRow.init)
    }

    /// The newest version of dataset `datasetID`, if it has one.
    static func latest(ofDataset datasetID: Int64, _ db: Database) throws -> DatasetVersionRow? {
        try Row.fetchOne(
            db, sql: "SELECT * FROM dataset_versions WHERE dataset_id = ? ORDER BY version DESC LIMIT 1",
            arguments: [datasetID]
        ).map(DatasetVersionRow.init)
    }

    /// The highest version number of dataset `datasetID`, nil when it has none.
    static func highestVersion(ofDataset datasetID: Int64, _ db: Database) throws -> Int? {
        try Int.fetchOne(
            db, sql: "SELECT MAX(version) FROM dataset_versions WHERE dataset_id = ?", arguments: [datasetID])
    }

    /// Every dataset version by dataset name then version.
    static func all(_ db: Database) throws -> [(name: String, version: Int)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT d.name AS name, v.version AS version, v.id AS id
                FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id ORDER BY d.name, v.version
                """
        ).map { (name: $0["name"] as String, version: $0["version"] as Int) }
    }

    /// Every dataset version's name, version number and whether it is processed data (where its directory is).
    static func directories(_ db: Database) throws -> [(name: String, version: Int, processed: Bool)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT d.name AS name, v.version AS version, v.processed AS processed
                FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id
                """
        ).map { (name: $0["name"] as String, version: $0["version"] as Int, processed: $0["processed"] as Bool) }
    }

    /// Records a new version of dataset `datasetID`; returns its row id.
    static func insert(
        datasetID: Int64, version: Int, processed: Bool, description: String?, digest: String, createdAt: String,
        createdBy: String, _ db: Database
    ) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO dataset_versions (dataset_id, version, processed, description, digest, created_at,
                    created_by) VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [datasetID, version, processed, description, digest, createdAt, createdBy])
        return db.lastInsertedRowID
    }
}

/// Every column of a `dataset_versions` row but its ids, for `data show`.
struct DatasetVersionRecord: Sendable {
    var version: Int
    var processed: Bool
    var description: String?
    var digest: String
    var createdAt: String
    var createdBy: String

    /// The dataset version with row id `id`, if it exists.
    static func find(id: Int64, _ db: Database) throws -> DatasetVersionRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM dataset_versions WHERE id = ?", arguments: [id]).map {
            DatasetVersionRecord(
                version: $0["version"], processed: $0["processed"], description: $0["description"],
                digest: $0["digest"], createdAt: $0["created_at"], createdBy: $0["created_by"])
        }
    }
}
