extension Vault {
    /// Every catalog record that fails authentication (placeholder until the state is authenticated).
    public func checkState() throws -> [String] { [] }
}
