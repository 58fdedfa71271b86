import GRDB

extension Vault {
    /// Points `alias` (such as `staging`, `production`, `archived`) of a model at one version; every move is
    /// recorded in the alias history.
    ///
    /// - Returns: the version the alias pointed at before, if any.
    @discardableResult
    public func setAlias(
        _ alias: String, to reference: ModelReference, context: RequestContext = .local
    ) throws
        -> Int?
    {
        try VaultNames.validate(alias, kind: "alias")
        guard Int(alias) == nil, alias != "latest" else {
            throw VaultError(.invalidName, "an alias cannot be a number or 'latest'")
        }
        return try catalog.write { db in
            let row = try Self.resolveModel(reference, db)
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

    /// Every recorded move of a model's aliases, oldest first.
    public func aliasHistory(_ model: String) throws -> [AliasChange] {
        try VaultNames.validate(model, kind: "model name")
        return try catalog.read { db in
            guard let modelID = try Int64.fetchOne(db, sql: "SELECT id FROM models WHERE name = ?", arguments: [model])
            else { throw VaultError(.notFound, "no model named \(model)") }
            return try Row.fetchAll(
                db, sql: "SELECT * FROM alias_history WHERE model_id = ? ORDER BY id", arguments: [modelID]
            ).map {
                AliasChange(
                    alias: $0["alias"], fromVersion: $0["from_version"], toVersion: $0["to_version"],
                    changedAt: $0["changed_at"], changedBy: $0["changed_by"])
            }
        }
    }
}
