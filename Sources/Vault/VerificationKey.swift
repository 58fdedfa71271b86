public import Foundation

/// A vault's public verification key in a file format of its own, written as `signing-key.pub` beside
/// `vault.json` for outside verifiers:
///
/// ```
/// modelvault verification key v1
/// key-version: 1
/// algorithm: ecdsa-p256-sha256
/// fingerprint: <SHA-256 of the DER SubjectPublicKeyInfo, hex>
/// -----BEGIN PUBLIC KEY-----
/// ...
/// -----END PUBLIC KEY-----
/// ```
///
/// The file is public and, like any file in the directory, replaceable: compare its fingerprint with one obtained
/// out of band (`modelvault init` prints it). The vault itself trusts only the key pinned in its catalog.
public struct VerificationKey: Sendable, Equatable {
    /// The first line of the format.
    public static let header = "modelvault verification key v1"

    /// The signing key version this key belongs to.
    public var keyVersion: Int
    /// The signature algorithm (`ecdsa-p256-sha256`).
    public var algorithm: String
    /// The public key, PEM (SubjectPublicKeyInfo).
    public var publicKeyPEM: String

    /// The key's fingerprint: SHA-256 of its DER bytes, hex.
    public var fingerprint: String { Vault.fingerprint(ofPEM: publicKeyPEM) }

    /// A key to write.
    public init(keyVersion: Int, algorithm: String = "ecdsa-p256-sha256", publicKeyPEM: String) {
        self.keyVersion = keyVersion
        self.algorithm = algorithm
        self.publicKeyPEM = publicKeyPEM.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Parses the file's text; refuses another header, a missing field, or a fingerprint that is not the key's.
    public init(parsing text: String) throws {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard lines.first == Self.header else {
            throw VaultError(.unreadableInput, "not a ModelVault verification key (bad header)")
        }
        var fields: [String: String] = [:]
        var pem: [String] = []
        for line in lines.dropFirst() where !line.isEmpty {
            if !pem.isEmpty || line.hasPrefix("-----BEGIN") {
                pem.append(line)
            } else if let colon = line.firstIndex(of: ":") {
                fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            } else {
                throw VaultError(.unreadableInput, "verification key: unreadable line")
            }
        }
        guard let version = fields["key-version"].flatMap({ Int($0) }), version > 0,
            let algorithm = fields["algorithm"], let fingerprint = fields["fingerprint"],
            pem.first == "-----BEGIN PUBLIC KEY-----", pem.last == "-----END PUBLIC KEY-----"
        else { throw VaultError(.unreadableInput, "verification key: a field or the PEM block is missing") }
        self.init(keyVersion: version, algorithm: algorithm, publicKeyPEM: pem.joined(separator: "\n"))
        guard self.fingerprint == fingerprint.lowercased() else {
            throw VaultError(.tampered, "verification key: the fingerprint does not match the key")
        }
    }

    /// The file's text.
    public func encoded() -> String {
        [
            Self.header, "key-version: \(keyVersion)", "algorithm: \(algorithm)", "fingerprint: \(fingerprint)",
            publicKeyPEM, "",
        ].joined(separator: "\n")
    }
}

extension VaultLayout {
    /// The public verification key, for outside verifiers.
    var verificationKey: URL { root.appending(path: "signing-key.pub") }
}
