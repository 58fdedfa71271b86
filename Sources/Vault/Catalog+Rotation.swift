import GRDB

// Key rotation's catalog queries: key versions, the blobs wrapped for them, rotations and their journal.

extension KeyVersionRow {
    /// Every key version with how many stored files are wrapped for it, oldest first.
    static func withFileCounts(_ db: Database) throws -> [KeyVersionInfo] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT k.version AS version, k.recipient AS recipient, k.created_at AS created_at,
                    k.state AS state, COUNT(b.path) AS files
                FROM key_versions k LEFT JOIN blobs b ON b.key_version = k.version
                GROUP BY k.version ORDER BY k.version
                """
        ).map {
            KeyVersionInfo(
                version: $0["version"], recipient: $0["recipient"], createdAt: $0["created_at"],
                state: $0["state"], fileCount: $0["files"])
        }
    }

    /// The numbers of the key versions not retired, oldest first.
    static func liveVersions(_ db: Database) throws -> [Int] {
        try Int.fetchAll(db, sql: "SELECT version FROM key_versions WHERE state != 'retired' ORDER BY version")
    }

    /// The numbers of the key versions not retired and below `version`.
    static func liveVersions(below version: Int, _ db: Database) throws -> [Int] {
        try Int.fetchAll(
            db, sql: "SELECT version FROM key_versions WHERE state != 'retired' AND version < ?",
            arguments: [version])
    }

    /// The numbers of the retired key versions.
    static func retiredVersions(_ db: Database) throws -> [Int] {
        try Int.fetchAll(db, sql: "SELECT version FROM key_versions WHERE state = 'retired'")
    }

    /// The recipients of every key version below `version`, retired ones too.
    static func recipients(below version: Int, _ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT recipient FROM key_versions WHERE version < ?", arguments: [version])
    }

    /// The recipient recorded for key version `version`, nil if there is no such version.
    static func recipient(ofVersion version: Int, _ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT recipient FROM key_versions WHERE version = ?", arguments: [version])
    }

    /// The state (`active`, `retiring`, `retired`) of key version `version`, nil if there is no such version.
    static func state(ofVersion version: Int, _ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT state FROM key_versions WHERE version = ?", arguments: [version])
    }

    /// The highest key version number, nil when there is none.
    static func highestVersion(_ db: Database) throws -> Int? {
        try Int.fetchOne(db, sql: "SELECT MAX(version) FROM key_versions")
    }

    /// Marks the active key version retiring (a rotation to a new one starts).
    static func markActiveRetiring(_ db: Database) throws {
        try db.execute(sql: "UPDATE key_versions SET state = 'retiring' WHERE state = 'active'")
    }

    /// The retiring key versions no stored file is wrapped for any more.
    static func retirableVersions(_ db: Database) throws -> [Int] {
        try Int.fetchAll(
            db,
            sql: """
                SELECT version FROM key_versions WHERE state = 'retiring'
                AND version NOT IN (SELECT DISTINCT key_version FROM blobs)
                """)
    }

    /// Marks key version `version` retired at `time`.
    static func markRetired(_ version: Int, at time: String, _ db: Database) throws {
        try db.execute(
            sql: "UPDATE key_versions SET state = 'retired', retired_at = ? WHERE version = ?",
            arguments: [time, version])
    }
}

/// The `blobs` table: which key version each stored file's header is wrapped for.
enum BlobRows {
    /// The stored files (vault-relative paths) wrapped for key version `version`, by path.
    static func paths(wrappedFor version: Int, _ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT path FROM blobs WHERE key_version = ? ORDER BY path", arguments: [version])
    }

    /// The stored files wrapped for a key version below `version`, by path.
    static func paths(below version: Int, _ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT path FROM blobs WHERE key_version < ? ORDER BY path", arguments: [version])
    }

    /// Whether any stored file is wrapped for a key version below `version`.
    static func any(below version: Int, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM blobs WHERE key_version < ? LIMIT 1", arguments: [version]) == true
    }

    /// Records that the stored file at `path` is now wrapped for key version `version`.
    static func setKeyVersion(_ version: Int, ofPath path: String, _ db: Database) throws {
        try db.execute(sql: "UPDATE blobs SET key_version = ? WHERE path = ?", arguments: [version, path])
    }
}

/// A row of `rotations`: a key rotation to `targetVersion`.
struct RotationRow: Sendable {
    var id: Int64
    var targetVersion: Int
    var reencrypt: Bool

    /// The newest unfinished rotation, if any.
    static func unfinished(_ db: Database) throws -> RotationRow? {
        try Row.fetchOne(db, sql: "SELECT * FROM rotations WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1").map {
            RotationRow(id: $0["id"], targetVersion: $0["target_version"], reencrypt: $0["reencrypt"])
        }
    }

    /// Whether a `--reencrypt` rotation is unfinished.
    static func hasUnfinishedReencrypting(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM rotations WHERE finished_at IS NULL AND reencrypt = 1 LIMIT 1")
            ?? false
    }

    /// Whether a rotation without `--reencrypt` is unfinished.
    static func hasUnfinishedPlain(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM rotations WHERE finished_at IS NULL AND reencrypt = 0 LIMIT 1")
            ?? false
    }

    /// Whether an unfinished `--reencrypt` rotation targets key version `version`.
    static func hasUnfinishedReencrypting(targeting version: Int, _ db: Database) throws -> Bool {
        try Bool.fetchOne(
            db,
            sql: """
                SELECT 1 FROM rotations WHERE finished_at IS NULL AND reencrypt = 1 AND target_version = ?
                """, arguments: [version]) ?? false
    }

    /// How many rotations are unfinished.
    static func unfinishedCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rotations WHERE finished_at IS NULL") ?? 0
    }

    /// Records a rotation started to key version `target`; returns its id.
    static func start(
        target: Int, reencrypt: Bool, at time: String, by principal: String, _ db: Database
    ) throws -> Int64 {
        try db.execute(
            sql: "INSERT INTO rotations (target_version, reencrypt, started_at, started_by) VALUES (?, ?, ?, ?)",
            arguments: [target, reencrypt, time, principal])
        return db.lastInsertedRowID
    }

    /// Marks rotation `id` finished at `time`.
    static func markFinished(_ id: Int64, at time: String, _ db: Database) throws {
        try db.execute(sql: "UPDATE rotations SET finished_at = ? WHERE id = ?", arguments: [time, id])
    }
}

/// `rotation_journal`: a rotation's progress, file by file (not authenticated: `blobs` says where each file is).
enum RotationJournal {
    /// Adds every stored file under a key version below `target` to rotation `rotationID`'s journal as pending
    /// (files already in it are left).
    static func addPending(rotationID: Int64, below target: Int, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO rotation_journal (rotation_id, blob_path, state)
                SELECT ?, path, 'pending' FROM blobs WHERE key_version < ?
                """, arguments: [rotationID, target])
    }

    /// Marks pending again every journal entry of rotation `rotationID` whose file is under a version below `target`.
    static func markPending(rotationID: Int64, below target: Int, _ db: Database) throws {
        try db.execute(
            sql: """
                UPDATE rotation_journal SET state = 'pending' WHERE rotation_id = ? AND blob_path IN
                    (SELECT path FROM blobs WHERE key_version < ?)
                """, arguments: [rotationID, target])
    }

    /// Marks the file at `path` moved in rotation `rotationID`.
    static func markDone(rotationID: Int64, path: String, _ db: Database) throws {
        try db.execute(
            sql: "UPDATE rotation_journal SET state = 'done' WHERE rotation_id = ? AND blob_path = ?",
            arguments: [rotationID, path])
    }
}
