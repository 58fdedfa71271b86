public import Foundation

extension Vault {
    /// Every record of this vault's state that fails authentication, one line each naming it
    /// (`table[column=value]: why`, or `keys/audit.age`); empty when the whole state verifies.
    public func checkState() throws -> [String] {
        try catalog.problems().map(\.description) + auditKeyProblems()
    }

    /// Unlocks the vault at `root` even when its state fails authentication and lists every bad record: catalog
    /// rows, the signing and audit key files, `vault.json` (`modelvault vault check`).
    public static func checkState(at root: URL, unlockingWith unlock: VaultUnlock) async throws -> [String] {
        try await checkState(at: root, unlockingWith: unlock, suite: defaultCipherSuite, signer: defaultManifestSigner)
    }

    static func checkState(
        at root: URL, unlockingWith unlock: VaultUnlock, suite: any VaultCipherSuite, signer: any VaultManifestSigner
    ) async throws -> [String] {
        let (vault, problems) = try Vault.unlock(at: root, unlockingWith: unlock, suite: suite, signer: signer)
        return try await problems.map(\.description) + vault.auditKeyProblems()
    }

    /// The audit key file checked against its pin. The pin is read unverified here so a bad catalog does not hide
    /// a bad key file; the catalog check covers the pin itself.
    private func auditKeyProblems() throws -> [String] {
        do {
            _ = try auditSigningKey(
                pinned: try catalog.unverifiedRead { db in try TrustPin.value(.auditPublicKey, db) })
            return []
        } catch let error as VaultError where error.code == .tampered {
            return [error.description]
        }
    }
}
