public import AuditLog
import Crypto
public import Foundation

extension VaultLayout {
    /// The Ed25519 key that signs audit checkpoints, encrypted to every live vault key version.
    var auditKeyFile: URL { keys.appending(path: "audit.age") }
    /// The public verifier key of the audit log (`<origin>+<key id>+<key>`), for offline proof checks.
    var auditVerifierKey: URL { audit.appending(path: "verifier.vkey") }
}

extension Vault {
    /// The audit signing key, read from `keys/audit.age` and accepted only if it is the key pinned in the
    /// authenticated catalog. A missing or substituted file is an error naming it, never a new key: a new key
    /// would let whoever deleted the log start a fresh one.
    func auditSigningKey() throws -> Curve25519.Signing.PrivateKey {
        let key = try auditSigningKey(pinned: try catalog.read { db in try TrustPin.value(.auditPublicKey, db) })
        // After a rotation the file may only open with an older key version: re-encrypt for the live ones.
        let current = try catalog.read { db in try KeyVersionRow.current(db) }
        if let identity = keyRing.identities[current.version],
            let sealed = FileManager.default.contents(atPath: layout.auditKeyFile.path(percentEncoded: false)),
            (try? suite.decrypt(sealed, using: [identity])) == nil
        {
            try storeAuditKey(key)
        }
        return key
    }

    /// The audit signing key checked against `pinned`, the pin as read from the catalog.
    func auditSigningKey(pinned: String?) throws -> Curve25519.Signing.PrivateKey {
        let url = layout.auditKeyFile
        guard let pinned else {
            throw VaultError(.tampered, "trust_pins[name=\(TrustPin.auditPublicKey.rawValue)]: missing")
        }
        guard let sealed = FileManager.default.contents(atPath: url.path(percentEncoded: false)) else {
            throw VaultError(.tampered, "keys/audit.age is missing; the pinned audit key is never regenerated")
        }
        guard let raw = try? suite.decrypt(sealed, using: keyRing.allIdentities),
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw),
            Array(key.publicKey.rawRepresentation).hexString == pinned
        else {
            throw VaultError(.tampered, "keys/audit.age does not hold the pinned audit key (substituted or damaged)")
        }
        return key
    }

    /// Writes the audit key encrypted to every live key version's recipient.
    func storeAuditKey(_ key: Curve25519.Signing.PrivateKey) throws {
        let recipients = try catalog.read { db in try KeyVersionRow.live(db).map(\.recipient) }
        try VaultFiles.writeAtomically(
            try suite.encrypt(key.rawRepresentation, to: recipients), to: layout.auditKeyFile, permissions: 0o600)
    }

    /// The checkpoint origin of this vault's log: names the log by its key, so two vaults never share one.
    static func auditOrigin(for key: Curve25519.Signing.PublicKey) -> String {
        "modelvault/audit/" + Array(SHA256.hash(data: key.rawRepresentation)).prefix(8).hexString
    }
}

/// Reads an audit verifier key file (`<origin>+<key id>+<key>`) as written at `audit/verifier.vkey`.
public enum AuditVerifierKey {
    /// The verifier of the vault at `root`, read from its public `audit/verifier.vkey` (no passphrase needed).
    public static func read(vaultAt root: URL) throws -> NoteVerifier {
        try read(file: VaultLayout(root: root).auditVerifierKey)
    }

    /// Parses a verifier key file.
    public static func read(file: URL) throws -> NoteVerifier {
        guard let data = FileManager.default.contents(atPath: file.path(percentEncoded: false)),
            let verifier = try? NoteVerifier(
                vkey: String(decoding: data, as: UTF8.self).trimmingCharacters(
                    in: .whitespacesAndNewlines))
        else { throw VaultError(.keyUnavailable, "cannot read the audit verifier key \(file.lastPathComponent)") }
        return verifier
    }
}
