import GRDB

// Model aliases' catalog queries: `aliases` and `alias_history`.

/// The `aliases` table: each model's named pointers at its versions.
enum AliasRows {
    /// Every alias of every model with the version it points at.
    static func all(_ db: Database) throws -> [(model: String, alias: String, version: Int)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT m.name AS name, a.alias AS alias, v.version AS version
                FROM aliases a JOIN models m ON m.id = a.model_id JOIN model_versions v ON v.id = a.version_id
                """
        ).map { (model: $0["name"] as String, alias: $0["alias"] as String, version: $0["version"] as Int) }
    }

    /// The aliases of model `modelID`.
    static func names(ofModel modelID: Int64, _ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT alias FROM aliases WHERE model_id = ?", arguments: [modelID])
    }

    /// The aliases pointing at model version `versionID`, sorted.
    static func names(pointingAt versionID: Int64, _ db: Database) throws -> [String] {
        try String.fetchAll(
            db, sql: "SELECT alias FROM aliases WHERE version_id = ? ORDER BY alias", arguments: [versionID])
    }

    /// The version number alias `alias` (exactly so) of model `modelID` points at, if it exists.
    static func targetVersion(ofAlias alias: String, model modelID: Int64, _ db: Database) throws -> Int? {
        try Int.fetchOne(
            db,
            sql: """
                SELECT v.version FROM aliases a JOIN model_versions v ON v.id = a.version_id
                WHERE a.model_id = ? AND a.alias = ?
                """, arguments: [modelID, alias])
    }

    /// The alias of model `modelID` named `alias` as stored, with the version number it points at: the alias as
    /// typed first, otherwise one differing only in case (stored in mixed case before #20).
    static func find(
        _ alias: String, ofModel modelID: Int64, _ db: Database
    ) throws -> (alias: String, version: Int)? {
        try Row.fetchOne(
            db,
            sql: """
                SELECT a.alias, v.version FROM aliases a JOIN model_versions v ON v.id = a.version_id
                WHERE a.model_id = ? AND a.alias = ? COLLATE NOCASE ORDER BY a.alias = ? DESC LIMIT 1
                """, arguments: [modelID, alias, alias]
        ).map { (alias: $0["alias"] as String, version: $0["version"] as Int) }
    }

    /// Points alias `alias` of model `modelID` at model version `versionID` (creating or moving it).
    static func set(
        _ alias: String, ofModel modelID: Int64, to versionID: Int64, at time: String, by principal: String,
        _ db: Database
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO aliases (model_id, alias, version_id, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (model_id, alias) DO UPDATE SET version_id = excluded.version_id,
                    updated_at = excluded.updated_at, updated_by = excluded.updated_by
                """, arguments: [modelID, alias, versionID, time, principal])
    }

    /// Deletes alias `alias` (exactly so) of model `modelID`.
    static func delete(_ alias: String, ofModel modelID: Int64, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM aliases WHERE model_id = ? AND alias = ?", arguments: [modelID, alias])
    }
}

/// The `alias_history` table: every move and removal of an alias.
enum AliasHistoryRows {
    /// Records that alias `alias` of model `modelID` moved from version `from` (nil: it is new) to version `to`.
    static func recordMove(
        _ alias: String, ofModel modelID: Int64, from: Int?, to: Int, at time: String, by principal: String,
        _ db: Database
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO alias_history (model_id, alias, from_version, to_version, changed_at, changed_by)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [modelID, alias, from, to, time, principal])
    }

    /// Records that alias `alias` of model `modelID`, pointing at version `from`, was removed. `to_version` is NOT
    /// NULL in the catalog schema; 0 (never a version number) records a removal.
    static func recordRemoval(
        _ alias: String, ofModel modelID: Int64, from: Int, at time: String, by principal: String, _ db: Database
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO alias_history (model_id, alias, from_version, to_version, changed_at, changed_by)
                VALUES (?, ?, ?, 0, ?, ?)
                """, arguments: [modelID, alias, from, time, principal])
    }

    /// Every recorded move of model `modelID`'s aliases, oldest first (a removal has no target version).
    static func changes(ofModel modelID: Int64, _ db: Database) throws -> [AliasChange] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM alias_history WHERE model_id = ? ORDER BY id", arguments: [modelID]
        ).map {
            let target: Int = $0["to_version"]
            return AliasChange(
                alias: $0["alias"], fromVersion: $0["from_version"], toVersion: target == 0 ? nil : target,
                changedAt: $0["changed_at"], changedBy: $0["changed_by"])
        }
    }
}
