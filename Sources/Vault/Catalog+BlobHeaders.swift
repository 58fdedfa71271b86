import GRDB

/// The vault's record of the age header it wrote for each stored file (`blob_headers`, an authenticated table).
///
/// With the vault's identities a header fixes its file key, so a streamed pull that finds the recorded header in
/// place wraps for the caller the very key the vault encrypted that file with, without decrypting the payload: a file
/// swapped in from another model (anyone can encrypt to the vault's recipient) has another header and is refused.
/// Only the encrypting process's memory is the source of a record, never a file read back from disk. A file without
/// a record (written before it existed, or re-wrapped by a rotation) is checked by decrypting its payload instead.
enum BlobHeaderRows {
    /// The table, added on top of the authenticated state.
    static func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5-blob-headers") { db in
            try db.execute(
                sql: """
                    CREATE TABLE blob_headers (
                        path TEXT PRIMARY KEY REFERENCES blobs(path),
                        sha256 TEXT NOT NULL
                    );
                    """)
        }
    }

    /// Records the SHA-256 of the header the vault wrote for the stored file at `path`.
    static func record(_ sha256: [UInt8], ofPath path: String, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO blob_headers (path, sha256) VALUES (?, ?)", arguments: [path, sha256.hexString])
    }

    /// Forgets the records of every stored file under a key version below `version`: done in the transaction that
    /// lists a rotation's next files, before any of them is re-wrapped, so no record ever names a header that is gone
    /// (a pull then checks the payload).
    static func forget(below version: Int, _ db: Database) throws {
        try db.execute(
            sql: "DELETE FROM blob_headers WHERE path IN (SELECT path FROM blobs WHERE key_version < ?)",
            arguments: [version])
    }
}
