import GRDB

extension Vault {
    /// Points `alias` (such as `staging`, `production`, `archived`) of a model at one version; every move is
    /// recorded in the alias history.
    ///
    /// The reference must name a version (`NAME@VERSION`): an alias set from `NAME` would silently promote
    /// whatever was pushed last. Alias names are stored lowercase, and a name a reader could mistake for another
    /// alias of the model (differing only by case, `_`/`-`/`.`, `0`/`o`, `1`/`l`/`i`) is refused.
    ///
    /// - Returns: the version the alias pointed at before, if any.
    @discardableResult
    public func setAlias(
        _ alias: String, to reference: ModelReference, context: RequestContext = .local
    ) throws
        -> Int?
    {
        let alias = try AliasNames.normalized(alias)
        guard case .version = reference.selector else {
            throw VaultError(
                .invalidReference, "name the version to point \(alias) at: \(reference.name)@VERSION")
        }
        return try catalog.write { db in
            let row = try Self.resolveModel(reference, db)
            let existing = try String.fetchAll(
                db, sql: "SELECT alias FROM aliases WHERE model_id = ?", arguments: [row.modelID])
            if let twin = existing.first(where: { $0 != alias && AliasNames.skeleton($0) == AliasNames.skeleton(alias) }
            ) {
                throw VaultError(
                    .invalidName,
                    "alias \(alias) is too easily confused with the existing alias \(twin) of \(row.name); "
                        + "remove that one first (model alias --delete \(row.name) \(twin))")
            }
            let previous = try Int.fetchOne(
                db,
                sql: """
                    SELECT v.version FROM aliases a JOIN model_versions v ON v.id = a.version_id
                    WHERE a.model_id = ? AND a.alias = ?
                    """, arguments: [row.modelID, alias])
            let now = CatalogTime.now()
            try db.execute(
                sql: """
                    INSERT INTO aliases (model_id, alias, version_id, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (model_id, alias) DO UPDATE SET version_id = excluded.version_id,
                        updated_at = excluded.updated_at, updated_by = excluded.updated_by
                    """, arguments: [row.modelID, alias, row.id, now, context.principal])
            try db.execute(
                sql: """
                    INSERT INTO alias_history (model_id, alias, from_version, to_version, changed_at, changed_by)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [row.modelID, alias, previous, row.version, now, context.principal])
            return previous
        }
    }

    /// The version `alias` of `model` points at, or `nil` when the model has no such alias.
    public func aliasTarget(_ alias: String, ofModel model: String) throws -> Int? {
        try VaultNames.validate(model, kind: "model name")
        let reference = try ModelReference(name: model, selector: .alias(alias))
        return try catalog.read { db in
            do { return try Self.resolveModel(reference, db).version } catch let error as VaultError
                where error.code == .notFound
            {
                guard try Int64.fetchOne(db, sql: "SELECT id FROM models WHERE name = ?", arguments: [model]) != nil
                else { throw error }
                return nil
            }
        }
    }

    /// Removes `alias` from a model (recorded in the alias history with no target version).
    ///
    /// - Returns: the version the alias pointed at.
    @discardableResult
    public func removeAlias(_ alias: String, ofModel model: String, context: RequestContext = .local) throws -> Int {
        try VaultNames.validate(model, kind: "model name")
        try VaultNames.validate(alias, kind: "alias")
        return try catalog.write { db in
            guard
                let modelID = try Int64.fetchOne(db, sql: "SELECT id FROM models WHERE name = ?", arguments: [model])
            else { throw VaultError(.notFound, "no model named \(model)") }
            // The name as typed first, so an alias stored in mixed case before #20 can still be removed.
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT a.alias, v.version FROM aliases a JOIN model_versions v ON v.id = a.version_id
                        WHERE a.model_id = ? AND a.alias = ? COLLATE NOCASE ORDER BY a.alias = ? DESC LIMIT 1
                        """, arguments: [modelID, alias, alias])
            else { throw VaultError(.notFound, "model \(model) has no alias \(alias)") }
            let stored: String = row["alias"]
            let version: Int = row["version"]
            try db.execute(
                sql: "DELETE FROM aliases WHERE model_id = ? AND alias = ?", arguments: [modelID, stored])
            // to_version is NOT NULL in the catalog schema; 0 (never a version number) records a removal.
            try db.execute(
                sql: """
                    INSERT INTO alias_history (model_id, alias, from_version, to_version, changed_at, changed_by)
                    VALUES (?, ?, ?, 0, ?, ?)
                    """, arguments: [modelID, stored, version, CatalogTime.now(), context.principal])
            return version
        }
    }

    /// Every recorded move of a model's aliases, oldest first.
    public func aliasHistory(_ model: String) throws -> [AliasChange] {
        try VaultNames.validate(model, kind: "model name")
        return try catalog.read { db in
            guard let modelID = try Int64.fetchOne(db, sql: "SELECT id FROM models WHERE name = ?", arguments: [model])
            else { throw VaultError(.notFound, "no model named \(model)") }
            return try Row.fetchAll(
                db, sql: "SELECT * FROM alias_history WHERE model_id = ? ORDER BY id", arguments: [modelID]
            ).map {
                let target: Int = $0["to_version"]
                return AliasChange(
                    alias: $0["alias"], fromVersion: $0["from_version"], toVersion: target == 0 ? nil : target,
                    changedAt: $0["changed_at"], changedBy: $0["changed_by"])
            }
        }
    }
}
