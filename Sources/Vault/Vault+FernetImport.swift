public import Foundation

extension Vault {
    /// Imports a model encrypted the naive way: a Fernet token with its key in a text file beside it.
    ///
    /// The token is authenticated and decrypted in memory, then stored as a proper vault version (age per file,
    /// signed manifest); the plaintext never touches disk, and the key file is not kept.
    ///
    /// - Parameters:
    ///   - token: the Fernet token file's contents (URL-safe base64 text).
    ///   - keyText: the key file's contents (URL-safe base64 of 32 bytes).
    ///   - fileName: the model file's name inside the version.
    public func importFernetModel(
        _ name: String, token: Data, keyText: String, fileName: String, datasets: [DatasetReference] = [],
        metrics: JSONValue? = nil, context: RequestContext = .local
    ) async throws -> ModelVersionInfo {
        try VaultNames.validatePath(fileName)
        let plaintext: Data
        do {
            plaintext = try suite.decryptFernet(token: token, keyText: keyText)
        } catch {
            throw VaultError(
                .legacyImportFailed, "the Fernet token does not verify with the given key (wrong key or tampered)")
        }
        return try await pushModel(
            name, from: .files([fileName: plaintext]), datasets: datasets, metrics: metrics, publisherSignature: nil,
            sourceLabel: "fernet-import", context: context)
    }
}
