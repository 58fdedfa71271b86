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
            try Self.refuseLookAlike(alias, among: try AliasRows.names(ofModel: row.modelID, db), of: row.name)
            let previous = try AliasRows.targetVersion(ofAlias: alias, model: row.modelID, db)
            let now = CatalogTime.now()
            try AliasRows.set(alias, ofModel: row.modelID, to: row.id, at: now, by: context.principal, db)
            try AliasHistoryRows.recordMove(
                alias, ofModel: row.modelID, from: previous, to: row.version, at: now, by: context.principal, db)
            return previous
        }
    }

    /// Checks, before anything is stored, that `setAlias` would accept `alias` for `model` as things stand: a valid
    /// name, not a number or `latest`, and not a look-alike of another alias of the model (a push that also moves
    /// an alias refuses a bad one first, so it leaves no version behind).
    public func checkAliasCanBeSet(_ alias: String, ofModel model: String) throws {
        let alias = try AliasNames.normalized(alias)
        try VaultNames.validate(model, kind: "model name")
        try catalog.read { db in
            guard let modelID = try ModelRows.id(named: model, db) else { return }
            try Self.refuseLookAlike(alias, among: try AliasRows.names(ofModel: modelID, db), of: model)
        }
    }

    private static func refuseLookAlike(_ alias: String, among existing: [String], of model: String) throws {
        if let twin = existing.first(where: { $0 != alias && AliasNames.skeleton($0) == AliasNames.skeleton(alias) }) {
            throw VaultError(
                .invalidName,
                "alias \(alias) is too easily confused with the existing alias \(twin) of \(model); "
                    + "remove that one first (model alias --delete \(model) \(twin))")
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
                guard try ModelRows.id(named: model, db) != nil else { throw error }
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
            guard let modelID = try ModelRows.id(named: model, db) else {
                throw VaultError(.notFound, "no model named \(model)")
            }
            // The name as typed first, so an alias stored in mixed case before #20 can still be removed.
            guard let row = try AliasRows.find(alias, ofModel: modelID, db) else {
                throw VaultError(.notFound, "model \(model) has no alias \(alias)")
            }
            let stored = row.alias
            let version = row.version
            try AliasRows.delete(stored, ofModel: modelID, db)
            // to_version is NOT NULL in the catalog schema; 0 (never a version number) records a removal.
            try AliasHistoryRows.recordRemoval(
                stored, ofModel: modelID, from: version, at: CatalogTime.now(), by: context.principal, db)
            return version
        }
    }

    /// Every recorded move of a model's aliases, oldest first.
    public func aliasHistory(_ model: String) throws -> [AliasChange] {
        try VaultNames.validate(model, kind: "model name")
        return try catalog.read { db in
            guard let modelID = try ModelRows.id(named: model, db) else {
                throw VaultError(.notFound, "no model named \(model)")
            }
            return try AliasHistoryRows.changes(ofModel: modelID, db)
        }
    }
}
