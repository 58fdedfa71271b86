import GRDB

/// A row of `key_versions`.
struct KeyVersionRow: Sendable {
    var version: Int
    var recipient: String
    var createdAt: String
    var state: String

    init(row: Row) {
        version = row["version"]
        recipient = row["recipient"]
        createdAt = row["created_at"]
        state = row["state"]
    }

    /// Key versions still wrapping files or active, oldest first.
    static func live(_ db: Database) throws -> [KeyVersionRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM key_versions WHERE state != 'retired' ORDER BY version")
            .map(KeyVersionRow.init(row:))
    }

    /// Every key version, retired ones too, oldest first.
    static func all(_ db: Database) throws -> [KeyVersionRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM key_versions ORDER BY version").map(KeyVersionRow.init(row:))
    }

    /// The active key version: what new files are encrypted for.
    static func current(_ db: Database) throws -> KeyVersionRow {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT * FROM key_versions WHERE state != 'retired' ORDER BY version DESC LIMIT 1")
        else { throw VaultError.storage("the catalog lists no key version") }
        return KeyVersionRow(row: row)
    }
}

/// A file row of a model or dataset version.
struct StoredFile: Sendable {
    var path: String
    var size: Int
    var sha256: String
    var blobPath: String
    var keyVersion: Int
    /// The SHA-256 the vault recorded for the stored file's age header as it wrote it (`blob_headers`); nil for a file
    /// written before the record existed, or re-wrapped by a rotation since.
    var headerSHA256: [UInt8]? = nil

    var info: VaultFileInfo { VaultFileInfo(path: path, size: size, sha256: sha256, keyVersion: keyVersion) }

    static func fetch(_ db: Database, table: String, versionID: Int64) throws -> [StoredFile] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT f.path, f.size, f.sha256, f.blob_path, b.key_version, h.sha256 AS header FROM \(table) f
                JOIN blobs b ON b.path = f.blob_path LEFT JOIN blob_headers h ON h.path = f.blob_path
                WHERE f.version_id = ? ORDER BY f.path
                """, arguments: [versionID]
        ).map {
            StoredFile(
                path: $0["path"], size: $0["size"], sha256: $0["sha256"], blobPath: $0["blob_path"],
                keyVersion: $0["key_version"], headerSHA256: ($0["header"] as String?).flatMap { [UInt8](hex: $0) })
        }
    }

    static func insert(_ files: [StoredFile], _ db: Database, table: String, versionID: Int64) throws {
        for file in files {
            try db.execute(
                sql: "INSERT INTO blobs (path, key_version) VALUES (?, ?)", arguments: [file.blobPath, file.keyVersion])
            try db.execute(
                sql: "INSERT INTO \(table) (version_id, path, size, sha256, blob_path) VALUES (?, ?, ?, ?, ?)",
                arguments: [versionID, file.path, file.size, file.sha256, file.blobPath])
            if let header = file.headerSHA256 { try BlobHeaderRows.record(header, ofPath: file.blobPath, db) }
        }
    }
}
