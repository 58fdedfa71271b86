import Crypto
import Foundation
import TestSupport
import Testing

@testable import Vault

/// A stand-in for age used to test the vault's storage logic on its own: real X25519 + ChaCha20-Poly1305
/// envelope encryption with per-file keys, in a private format. The age adapter has its own tests.
struct FakeCipherSuite: VaultCipherSuite {
    struct Failure: Error {}
    static let identityPrefix = "TEST-IDENTITY-"
    static let recipientPrefix = "test1"

    func generateIdentity(postQuantum: Bool) throws -> String {
        Self.identityPrefix + Curve25519.KeyAgreement.PrivateKey().rawRepresentation.hexString
    }
    func recipient(ofIdentity identity: String) throws -> String {
        Self.recipientPrefix + (try privateKey(identity)).publicKey.rawRepresentation.hexString
    }
    func validateRecipient(_ recipient: String) throws -> String {
        _ = try publicKey(recipient)
        return recipient
    }
    func parseIdentities(_ text: String) throws -> [String] {
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        for line in lines { _ = try privateKey(line) }
        return lines
    }
    func seal(_ plaintext: Data, passphrase: String, workFactor: Int) throws -> Data {
        Data("PASS".utf8) + (try ChaChaPoly.seal(plaintext, using: passphraseKey(passphrase)).combined)
    }
    func open(_ file: Data, passphrase: String) throws -> Data {
        guard file.prefix(4) == Data("PASS".utf8) else { throw Failure() }
        return try ChaChaPoly.open(ChaChaPoly.SealedBox(combined: file.dropFirst(4)), using: passphraseKey(passphrase))
    }
    func encrypt(_ plaintext: Data, to recipients: [String]) throws -> Data {
        let fileKey = SymmetricKey(size: .bits256)
        return try header(fileKey, recipients) + ChaChaPoly.seal(plaintext, using: fileKey).combined
    }
    func decrypt(_ file: Data, using identities: [String]) throws -> Data {
        let (fileKey, payload) = try unwrap(file, identities)
        return try ChaChaPoly.open(ChaChaPoly.SealedBox(combined: payload), using: fileKey)
    }
    func encryptFile(at input: URL, to output: URL, recipients: [String]) throws {
        try VaultFiles.writeAtomically(try encrypt(try Data(contentsOf: input), to: recipients), to: output)
    }
    func decryptFile(at input: URL, to output: URL, using identities: [String]) throws {
        try VaultFiles.writeAtomically(try decrypt(try Data(contentsOf: input), using: identities), to: output)
    }
    func encryptFileDigesting(at input: URL, into output: FileHandle, recipients: [String]) throws -> FileDigest {
        let plaintext = try Data(contentsOf: input)
        try output.write(contentsOf: try encrypt(plaintext, to: recipients))
        return FileDigest(of: plaintext)
    }
    func encryptFileDigesting(
        reading input: FileHandle, into output: FileHandle, recipients: [String]
    ) throws
        -> FileDigest
    {
        let plaintext = try input.readToEnd() ?? Data()
        try output.write(contentsOf: try encrypt(plaintext, to: recipients))
        return FileDigest(of: plaintext)
    }
    func decryptFileDigesting(at input: URL, into output: FileHandle, using identities: [String]) throws -> FileDigest {
        let plaintext = try decrypt(try Data(contentsOf: input), using: identities)
        try output.write(contentsOf: plaintext)
        return FileDigest(of: plaintext)
    }
    func plaintextDigest(ofFileAt url: URL, using identities: [String]) throws -> FileDigest {
        FileDigest(of: try decrypt(try Data(contentsOf: url), using: identities))
    }
    func rewrapFile(at input: URL, to output: URL, using identities: [String], for recipients: [String]) throws {
        let (fileKey, payload) = try unwrap(try Data(contentsOf: input), identities)
        try VaultFiles.writeAtomically(try header(fileKey, recipients) + payload, to: output)
    }
    func rewrapFileDigesting(
        at input: URL, to output: URL, using identities: [String], for recipients: [String]
    )
        throws -> FileDigest
    {
        let sealed = try Data(contentsOf: input)
        let (fileKey, payload) = try unwrap(sealed, identities)
        let digest = FileDigest(of: try decrypt(sealed, using: identities))
        try VaultFiles.writeAtomically(try header(fileKey, recipients) + payload, to: output)
        return digest
    }
    func reencryptFile(at input: URL, to output: URL, using identities: [String], for recipients: [String]) throws {
        try VaultFiles.writeAtomically(
            try encrypt(try decrypt(try Data(contentsOf: input), using: identities), to: recipients), to: output)
    }
    func decryptFernet(token: Data, keyText: String) throws -> Data {
        // Test stand-in: "token" is the plaintext reversed, "key" must be "right".
        guard keyText.trimmingCharacters(in: .whitespacesAndNewlines) == "right" else { throw Failure() }
        return Data(token.reversed())
    }

    private func passphraseKey(_ passphrase: String) -> SymmetricKey {
        SymmetricKey(data: SHA256.hash(data: Data(passphrase.utf8)))
    }
    private func privateKey(_ identity: String) throws -> Curve25519.KeyAgreement.PrivateKey {
        guard identity.hasPrefix(Self.identityPrefix),
            let raw = [UInt8](hex: String(identity.dropFirst(Self.identityPrefix.count)))
        else { throw Failure() }
        return try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw)
    }
    private func publicKey(_ recipient: String) throws -> Curve25519.KeyAgreement.PublicKey {
        guard recipient.hasPrefix(Self.recipientPrefix),
            let raw = [UInt8](hex: String(recipient.dropFirst(Self.recipientPrefix.count)))
        else { throw Failure() }
        return try Curve25519.KeyAgreement.PublicKey(rawRepresentation: raw)
    }
    private func wrapKey(_ shared: SharedSecret) -> SymmetricKey {
        shared.hkdfDerivedSymmetricKey(
            using: SHA256.self, salt: Data(), sharedInfo: Data("fake".utf8), outputByteCount: 32)
    }
    /// "FAKE", a count byte, then per recipient: ephemeral public key (32) + sealed file key (60).
    private func header(_ fileKey: SymmetricKey, _ recipients: [String]) throws -> Data {
        var out = Data("FAKE".utf8)
        out.append(UInt8(recipients.count))
        for recipient in recipients {
            let ephemeral = Curve25519.KeyAgreement.PrivateKey()
            let shared = try ephemeral.sharedSecretFromKeyAgreement(with: publicKey(recipient))
            out += ephemeral.publicKey.rawRepresentation
            out += try ChaChaPoly.seal(fileKey.withUnsafeBytes { Data($0) }, using: wrapKey(shared)).combined
        }
        return out
    }
    private func unwrap(_ file: Data, _ identities: [String]) throws -> (SymmetricKey, Data) {
        let bytes = Data(file)
        guard bytes.count >= 5, bytes.prefix(4) == Data("FAKE".utf8) else { throw Failure() }
        let count = Int(bytes[4])
        let headerEnd = 5 + count * 92
        guard bytes.count >= headerEnd else { throw Failure() }
        for index in 0..<count {
            let start = 5 + index * 92
            let ephemeral = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes[start..<start + 32])
            for identity in identities {
                let shared = try privateKey(identity).sharedSecretFromKeyAgreement(with: ephemeral)
                if let key = try? ChaChaPoly.open(
                    ChaChaPoly.SealedBox(combined: bytes[start + 32..<start + 92]), using: wrapKey(shared))
                {
                    return (SymmetricKey(data: key), Data(bytes[headerEnd...]))
                }
            }
        }
        throw Failure()
    }
}

/// A stand-in for OpenSSF signing: ECDSA P-256 over a JSON list of entries.
struct FakeManifestSigner: VaultManifestSigner {
    struct Failure: Error {}
    struct Bundle: Codable {
        var payload: Data
        var signature: Data
    }
    struct Entry: Codable {
        var path: String
        var sha256: String
    }

    func generateSigningKey() -> String { P256.Signing.PrivateKey().pemRepresentation }
    func publicKey(ofSigningKey privateKeyPEM: String) throws -> String {
        try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM).publicKey.pemRepresentation
    }
    func sign(_ entries: [SignedEntry], modelName: String, privateKeyPEM: String) throws -> Data {
        let payload = try JSONEncoder().encode(entries.map { Entry(path: $0.path, sha256: $0.sha256.hexString) })
        let signature = try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM).signature(for: payload)
        return try JSONEncoder().encode(Bundle(payload: payload, signature: signature.derRepresentation))
    }
    func verify(_ bundle: Data, publicKeyPEM: String) throws -> [SignedEntry] {
        let decoded = try JSONDecoder().decode(Bundle.self, from: bundle)
        let key = try P256.Signing.PublicKey(pemRepresentation: publicKeyPEM)
        guard
            key.isValidSignature(
                try P256.Signing.ECDSASignature(derRepresentation: decoded.signature), for: decoded.payload)
        else { throw Failure() }
        return try JSONDecoder().decode([Entry].self, from: decoded.payload).map {
            SignedEntry(path: $0.path, sha256: [UInt8](hex: $0.sha256) ?? [])
        }
    }
}

enum TestVault {
    static let passphrase = "correct horse battery staple"

    static func create(
        in directory: TemporaryDirectory, postQuantum: Bool = false,
        suite: any VaultCipherSuite = FakeCipherSuite()
    ) throws -> Vault {
        try Vault.create(
            at: directory.url.appending(path: "vault"), passphrase: passphrase, postQuantum: postQuantum,
            workFactor: 10, suite: suite, signer: FakeManifestSigner())
    }

    static func open(
        in directory: TemporaryDirectory, unlock: VaultUnlock = .passphrase(passphrase),
        suite: any VaultCipherSuite = FakeCipherSuite()
    ) throws -> Vault {
        try Vault.open(
            at: directory.url.appending(path: "vault"), unlockingWith: unlock, suite: suite,
            signer: FakeManifestSigner())
    }

    /// Deterministic pseudo-random bytes, so scans for plaintext windows cannot match by chance.
    static func bytes(_ count: Int, seed: UInt64) -> Data { TestData.bytes(count, seed: seed) }

    /// Writes a small model directory and returns its files.
    static func writeModel(in directory: URL, seed: UInt64 = 1) throws -> [String: Data] {
        let files = [
            "model.safetensors": bytes(200_000, seed: seed),
            "config/model_config.json": Data("{\"layers\": [\(seed), 2, 3]}".utf8),
        ]
        for (path, data) in files {
            let url = directory.appending(path: path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
        }
        return files
    }

    /// Every regular file under `url`.
    static func allFiles(under url: URL) -> [URL] { TestData.regularFiles(under: url) }
}

/// Expects `body` to throw a `VaultError` with `code`.
func expectVaultError<T>(
    _ code: VaultError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async {
    do {
        _ = try await body()
        Issue.record("expected \(code), but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as VaultError {
        #expect(error.code == code, "\(error.description)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a VaultError, got \(type(of: error))", sourceLocation: sourceLocation)
    }
}
