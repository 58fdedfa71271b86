import AccessControl

extension VaultSession {
    /// Checks, for a caller who may move `model`'s aliases, that `setAlias` would accept `alias` as things stand (a
    /// name, not a number or `latest`, no look-alike of another alias), before anything is stored: a push that also
    /// moves an alias refuses a bad one first, so it leaves no version behind. A caller without `model.alias` is
    /// refused here, as `setAlias` would refuse it.
    public func checkAliasCanBeSet(_ alias: String, ofModel model: String) async throws {
        guard isAllowed(.modelAlias, on: .model(model)) else {
            throw AccessControlError.denied(.modelAlias, on: .model(model))
        }
        try await vault.checkAliasCanBeSet(alias, ofModel: model)
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
