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
    /// The audit signing key: read from `keys/audit.age`, or created on first use (at `init`, or lazily for a vault
    /// made before access control, as long as its log holds no checkpoint signed by a lost key).
    func auditSigningKey() throws -> Curve25519.Signing.PrivateKey {
        let url = layout.auditKeyFile
        if let sealed = FileManager.default.contents(atPath: url.path(percentEncoded: false)) {
            guard let raw = try? suite.decrypt(sealed, using: keyRing.allIdentities),
                let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            else { throw VaultError(.keyUnavailable, "cannot unlock the vault's audit signing key (keys/audit.age)") }
            // After a rotation the file may only open with an older key version: re-encrypt for the live ones.
            let current = try catalog.read { db in try KeyVersionRow.current(db) }
            if let identity = keyRing.identities[current.version],
                (try? suite.decrypt(sealed, using: [identity])) == nil
            {
                try storeAuditKey(key)
            }
            return key
        }
        let checkpoints = layout.audit.appending(path: "checkpoints.log")
        if let data = FileManager.default.contents(atPath: checkpoints.path(percentEncoded: false)), !data.isEmpty {
            throw VaultError(
                .keyUnavailable, "the audit signing key (keys/audit.age) is missing but the audit log has checkpoints")
        }
        let key = Curve25519.Signing.PrivateKey()
        try storeAuditKey(key)
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
