extension Vault {
    /// The production cipher suite: age v1.
    static var defaultCipherSuite: any VaultCipherSuite { AgeCipherSuite() }
    /// The production manifest signer: OpenSSF model signing with ECDSA P-256.
    static var defaultManifestSigner: any VaultManifestSigner { OpenSSFManifestSigner() }
}
