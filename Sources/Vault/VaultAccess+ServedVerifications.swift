extension VaultAccess {
    /// Records the outcome of the server's load of a model version, which checks the signature and every file's
    /// digest as `model verify` does, so the compliance report counts it (issue #20: versions the server had
    /// verified were listed as "never verified").
    public func recordServedVerification(model: String, version: Int, ok: Bool) throws {
        try vault.catalog.write { db in
            try AccessCatalog.recordVerification(model: model, version: version, ok: ok, by: "server", db)
        }
    }
}
