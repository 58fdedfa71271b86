import Foundation

/// Where a pull puts the version's signature (issue #20): the signed manifest at the path the signature names
/// (`.modelvault/manifest.json`) and the OpenSSF bundle beside it, so `modelvault verify DIR --signature
/// DIR/.modelvault/model.sig --public-key vault.pem` and `model_signing verify key` accept the pulled directory as
/// it is (a signature inside the model directory is left out of the hashing by both). No name of a version's own
/// files can collide: `.modelvault/` is reserved.
extension Vault {
    /// The signature's path inside a pulled directory.
    public static let pulledSignaturePath = VaultNames.reservedPrefix + VersionManifest.signatureFileName

    /// The signed manifest and the signature bundle of a checked version, by their path in a pulled directory: the
    /// bytes that were checked, not a fresh read of the files (which could have been swapped since).
    static func signatureFiles(of checked: CheckedVersion) throws -> [String: Data] {
        [VersionManifest.signedPath: checked.manifestBytes, pulledSignaturePath: checked.signatureBundle]
    }

    /// Writes `files` (relative path → contents) under `directory`.
    static func write(_ files: [String: Data], into directory: URL) throws {
        for (path, data) in files.sorted(by: { $0.key < $1.key }) {
            let url = directory.appending(path: path)
            try VaultFiles.makeDirectory(url.deletingLastPathComponent())
            try VaultFiles.writeAtomically(data, to: url)
        }
    }
}

extension Vault {
    /// The current signing public key (PEM), as unlocked and checked against the catalog's pin: what outside
    /// verifiers of a pulled version need (`keys export-verifier`).
    public func verifierPublicKeyPEM() -> String { keyRing.signingPublicKey }
}

extension VaultSession {
    /// The vault's signing public key (PEM) for verifying pulled versions outside the vault. Public, so any
    /// authenticated caller may read it; nothing is audited.
    public func verifierPublicKeyPEM() async -> String { await vault.verifierPublicKeyPEM() }
}
