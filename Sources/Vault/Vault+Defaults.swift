import Foundation

extension Vault {
    /// The production cipher suite: age v1.
    static var defaultCipherSuite: any VaultCipherSuite { AgeCipherSuite() }
    /// The production manifest signer; replaced by the OpenSSF adapter once ModelSigning's API lands.
    static var defaultManifestSigner: any VaultManifestSigner { UnavailableSigner() }
}

private struct Unavailable: Error {}

private struct UnavailableSigner: VaultManifestSigner {
    func generateSigningKey() -> String { "" }
    func publicKey(ofSigningKey privateKeyPEM: String) throws -> String { throw Unavailable() }
    func sign(_ entries: [SignedEntry], modelName: String, privateKeyPEM: String) throws -> Data { throw Unavailable() }
    func verify(_ bundle: Data, publicKeyPEM: String) throws -> [SignedEntry] { throw Unavailable() }
}
