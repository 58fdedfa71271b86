extension VaultSession {
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
