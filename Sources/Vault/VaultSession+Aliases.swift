extension VaultSession {
    /// Checks `alias` is a name `setAlias` would accept (not a number, not `latest`), before anything is stored:
    /// a push that also moves an alias refuses a bad one first, so it leaves no version behind.
    public static func validateAliasName(_ alias: String) throws {
        _ = try AliasNames.normalized(alias)
    }

    /// `model.show`: the version `alias` of `model` points at, or `nil` when it has no such alias.
    public func aliasTarget(_ alias: String, ofModel model: String) async throws -> Int? {
        try await perform(.modelShow, on: .model(model), resource: "model:\(model):\(alias)") {
            try await vault.aliasTarget(alias, ofModel: model)
        }
    }

    /// `model.alias`: removes an alias; returns the version it pointed at.
    @discardableResult
    public func removeAlias(_ alias: String, ofModel model: String) async throws -> Int {
        try await perform(.modelAlias, on: .model(model), resource: "model:\(model):\(alias)") {
            try await vault.removeAlias(alias, ofModel: model, context: context)
        }
    }
}
