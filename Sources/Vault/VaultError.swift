/// A vault operation that failed, with a fixed-text description naming what failed.
///
/// Descriptions name vaults, models, datasets, versions and file paths, never key material, passphrases or
/// plaintext.
public struct VaultError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The kind of failure, for callers that branch on it (the CLI maps all of them to exit code 1).
    public enum Code: String, Sendable, Equatable {
        case vaultNotFound
        case vaultExists
        case wrongPassphrase
        case identityMismatch
        case invalidName
        case invalidReference
        case invalidPath
        case notFound
        case duplicateFile
        case emptyInput
        case unreadableInput
        case signatureInvalid
        case publisherSignatureInvalid
        case digestMismatch
        case decryptionFailed
        case tampered
        case outputExists
        case invalidMetrics
        case keyUnavailable
        case rotationInterrupted
        case invalidRecipient
        case legacyImportFailed
        /// The model scanner found something at or above the policy's threshold that nobody accepted.
        case scanRefused
        case storage
        /// A new passphrase is below ``PassphrasePolicy``.
        case weakPassphrase
    }

    /// The kind of failure.
    public let code: Code
    /// A one-line, secret-free explanation.
    public let description: String
    /// For ``Code/scanRefused``: every refused finding as `FILE#FINDING-ID`.
    public internal(set) var refusedFindings: [String] = []

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    static func storage(_ what: String) -> VaultError { VaultError(.storage, "vault storage failed: \(what)") }

    /// A re-encrypting key rotation (new or resumed) was asked for without a new passphrase.
    static let newPassphraseRequired = VaultError(
        .weakPassphrase,
        "a re-encrypting key rotation needs a new passphrase: key files from before it would still open with this one")
}
