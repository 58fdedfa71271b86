import Foundation

/// `vault.json`: the format version and public key-ring facts; never a secret.
struct VaultConfiguration: Codable, Sendable, Equatable {
    /// Bumped on incompatible layout changes.
    var formatVersion: Int
    /// When the vault was created (ISO 8601).
    var createdAt: String
    /// Whether vault identities are the ML-KEM-768+X25519 hybrid.
    var postQuantum: Bool
    /// The vault's signing public key (PEM), as a convenience for outside verifiers.
    var signingPublicKey: String

    static let currentFormat = 1

    static func read(from url: URL) throws -> VaultConfiguration {
        guard let data = FileManager.default.contents(atPath: url.path(percentEncoded: false)) else {
            throw VaultError(
                .vaultNotFound, "no vault at \(url.deletingLastPathComponent().path(percentEncoded: false))")
        }
        guard let configuration = try? JSONDecoder().decode(VaultConfiguration.self, from: data),
            configuration.formatVersion == currentFormat
        else {
            throw VaultError(.storage, "vault.json is unreadable or of an unknown format version")
        }
        return configuration
    }

    func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try VaultFiles.writeAtomically(try encoder.encode(self), to: url, permissions: 0o644)
    }
}
