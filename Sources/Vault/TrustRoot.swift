import Crypto
import Foundation

/// The vault's root of trust: a random 256-bit secret reachable only through the unlocking secret.
///
/// It is stored once per key version as `keys/root-vN.key`, sealed (ChaCha20-Poly1305) under a key derived with
/// HKDF-SHA256 from that version's vault identity. age files are encrypted to the vault's *public* recipient, so
/// anyone can write one; this file can only be written by someone holding an identity. Every catalog record MAC,
/// the state root and the pins of the signing and audit keys derive from it. A plain rotation seals the same root for
/// the new key version; `keys rotate --reencrypt` (a suspected compromise) makes a fresh one, so the old identity and
/// the old root file, which the attacker may hold, authenticate nothing the vault accepts afterwards.
struct TrustRoot: Sendable {
    private let secret: SymmetricKey

    private static let magic = Data("modelvault-root/1\n".utf8)

    private init(secret: SymmetricKey) { self.secret = secret }

    /// A fresh root for a new vault.
    static func generate() -> TrustRoot { TrustRoot(secret: SymmetricKey(size: .bits256)) }

    /// The root sealed for key version `version`, as stored in `keys/root-vN.key`.
    func sealed(forIdentity identity: String, version: Int) throws -> Data {
        let box = try ChaChaPoly.seal(
            secret.withUnsafeBytes { Data($0) }, using: Self.wrapKey(identity, version: version),
            authenticating: Self.context(version))
        return Self.magic + box.combined
    }

    /// Opens `keys/root-vN.key` with the identity of version `version`; `name` is the file's vault-relative path.
    static func open(_ data: Data?, identity: String, version: Int, name: String) throws -> TrustRoot {
        guard let data else {
            throw VaultError(.tampered, "\(name) is missing: the vault's root of trust cannot be loaded")
        }
        guard data.starts(with: magic),
            let box = try? ChaChaPoly.SealedBox(combined: data.dropFirst(magic.count)),
            let secret = try? ChaChaPoly.open(
                box, using: wrapKey(identity, version: version), authenticating: context(version)),
            secret.count == 32
        else {
            throw VaultError(.tampered, "\(name) fails authentication with the vault identity (substituted or damaged)")
        }
        return TrustRoot(secret: SymmetricKey(data: secret))
    }

    /// A key for one purpose, derived from the root (HKDF-SHA256; `purpose` is the info string).
    func key(for purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: secret, salt: Data("modelvault/trust-root".utf8), info: Data(purpose.utf8),
            outputByteCount: 32)
    }

    private static func wrapKey(_ identity: String, version: Int) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(identity.utf8)), salt: Data("modelvault/root-wrap".utf8),
            info: context(version), outputByteCount: 32)
    }

    private static func context(_ version: Int) -> Data {
        Data("modelvault root of trust, key version \(version)".utf8)
    }
}

extension VaultLayout {
    /// The root of trust sealed under key version `version`'s identity.
    func rootFile(version: Int) -> URL { keys.appending(path: "root-v\(version).key") }
}
