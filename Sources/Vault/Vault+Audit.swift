public import AuditLog
import Crypto
public import Foundation

extension VaultLayout {
    /// The Ed25519 key that signs audit checkpoints, encrypted to every live vault key version.
    var auditKeyFile: URL { keys.appending(path: "audit.age") }
    /// The public verifier key of the audit log (`<origin>+<key id>+<key>`), for offline proof checks.
    var auditVerifierKey: URL { audit.appending(path: "verifier.vkey") }
    /// The audit key a rotation is handing over to, until the handover is committed.
    var nextAuditKeyFile: URL { keys.appending(path: "audit-next.age") }
}

extension Vault {
    /// The audit signing key, read from `keys/audit.age` and accepted only if it is the key pinned in the
    /// authenticated catalog. A missing or substituted file is an error naming it, never a new key: a new key
    /// would let whoever deleted the log start a fresh one.
    func auditSigningKey() throws -> Curve25519.Signing.PrivateKey {
        // Another process may have finished a rotation since this one unlocked: the file is then sealed to the new
        // version only, which the key chain reaches (CI, 2026-12-04: "keys/audit.age does not hold the pinned audit
        // key", exit 6, from the second of two `keys rotate` at once).
        let current = try catalog.read { db in try KeyVersionRow.current(db) }
        if keyRing.identities[current.version] == nil { try followKeyChain() }
        let key = try auditSigningKey(pinned: try catalog.read { db in try TrustPin.value(.auditPublicKey, db) })
        // After a rotation the file may only open with an older key version: re-encrypt for the live ones.
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
        if let key = sealedAuditKey(at: url, pinned: pinned) { return key }
        // A rotation that stopped after committing the new key but before moving its file into place.
        if let key = sealedAuditKey(at: layout.nextAuditKeyFile, pinned: pinned) {
            try VaultFiles.move(layout.nextAuditKeyFile, to: url)
            return key
        }
        guard VaultFiles.exists(url) else {
            throw VaultError(.tampered, "keys/audit.age is missing; the pinned audit key is never regenerated")
        }
        throw VaultError(.tampered, "keys/audit.age does not hold the pinned audit key (substituted or damaged)")
    }

    /// The key sealed in `url` if it is the one `pinned` (hex) names.
    private func sealedAuditKey(at url: URL, pinned: String) -> Curve25519.Signing.PrivateKey? {
        guard let sealed = FileManager.default.contents(atPath: url.path(percentEncoded: false)),
            let raw = try? suite.decrypt(sealed, using: keyRing.allIdentities),
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw),
            Array(key.publicKey.rawRepresentation).hexString == pinned
        else { return nil }
        return key
    }

    /// What the authenticated catalog pins about the audit key chain: the origin (`nil` in vaults made before it was
    /// pinned), the retired keys, and the key a handover in progress goes to.
    func auditKeyPins() throws -> (origin: String?, retired: [AuditKeyChain.RetiredKey], next: String?) {
        try catalog.read { db in
            let origin = try TrustPin.value(.auditOrigin, db)
            var retired: [AuditKeyChain.RetiredKey] = []
            if let text = try TrustPin.value(.auditRetiredKeys, db) {
                guard let rows = try? JSONDecoder().decode([RetiredAuditKey].self, from: Data(text.utf8)),
                    let keys = try? rows.map({
                        AuditKeyChain.RetiredKey(
                            verifier: try NoteVerifier(vkey: $0.key), handoverSize: $0.handoverSize)
                    })
                else {
                    throw VaultError(.tampered, "trust_pins[name=\(TrustPin.auditRetiredKeys.rawValue)]: malformed")
                }
                retired = keys
            }
            return (origin, retired, try TrustPin.value(.auditNextPublicKey, db))
        }
    }

    /// The key a handover in progress goes to, from `keys/audit-next.age` checked against its pin.
    func nextAuditKey(pinned: String) throws -> Curve25519.Signing.PrivateKey {
        guard
            let key = sealedAuditKey(at: layout.nextAuditKeyFile, pinned: pinned)
                ?? sealedAuditKey(
                    at: layout.auditKeyFile, pinned: pinned)
        else {
            throw VaultError(
                .tampered,
                "keys/audit-next.age does not hold the pinned next audit key (missing, substituted or damaged)")
        }
        return key
    }

    /// First step of an audit key rotation: stores `key` (sealed to the live key versions) as the next key and pins
    /// it, and pins the log origin if this vault predates that pin. Nothing signs with it yet.
    func beginAuditKeyHandover(to key: Curve25519.Signing.PrivateKey, origin: String) throws {
        let recipients = try catalog.read { db in try KeyVersionRow.live(db).map(\.recipient) }
        try VaultFiles.writeAtomically(
            try suite.encrypt(key.rawRepresentation, to: recipients), to: layout.nextAuditKeyFile, permissions: 0o600)
        try catalog.write { db in
            if try TrustPin.value(.auditOrigin, db) == nil { try TrustPin.set(.auditOrigin, to: origin, db) }
            try TrustPin.set(.auditNextPublicKey, to: Array(key.publicKey.rawRepresentation).hexString, db)
        }
    }

    /// Last step: the log handed over to `key` at `handoverSize`; pins it as the audit key, `retiring` as retired up to
    /// that size, and moves its file into place.
    func commitAuditKeyHandover(
        to key: Curve25519.Signing.PrivateKey, retiring: NoteVerifier, handoverSize: UInt64
    ) throws {
        try catalog.write { db in
            var rows: [RetiredAuditKey] = []
            if let text = try TrustPin.value(.auditRetiredKeys, db) {
                rows = (try? JSONDecoder().decode([RetiredAuditKey].self, from: Data(text.utf8))) ?? []
            }
            rows.append(RetiredAuditKey(key: retiring.vkey, handoverSize: handoverSize))
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            try TrustPin.set(.auditRetiredKeys, to: String(decoding: try encoder.encode(rows), as: UTF8.self), db)
            try TrustPin.set(.auditPublicKey, to: Array(key.publicKey.rawRepresentation).hexString, db)
            try TrustPin.remove(.auditNextPublicKey, db)
        }
        if VaultFiles.exists(layout.nextAuditKeyFile) {
            try VaultFiles.move(layout.nextAuditKeyFile, to: layout.auditKeyFile)
        }
    }

    /// Writes the audit key encrypted to `recipients`, by default every live key version's recipient.
    func storeAuditKey(_ key: Curve25519.Signing.PrivateKey, recipients: [String]? = nil) throws {
        let recipients = try recipients ?? catalog.read { db in try KeyVersionRow.live(db).map(\.recipient) }
        try VaultFiles.writeAtomically(
            try suite.encrypt(key.rawRepresentation, to: recipients), to: layout.auditKeyFile, permissions: 0o600)
    }

    /// The checkpoint origin of this vault's log: names the log by its key, so two vaults never share one.
    static func auditOrigin(for key: Curve25519.Signing.PublicKey) -> String {
        "modelvault/audit/" + Array(SHA256.hash(data: key.rawRepresentation)).prefix(8).hexString
    }
}

/// A retired audit key as pinned: its verifier key and the last tree size it may sign.
struct RetiredAuditKey: Codable {
    var key: String
    var handoverSize: UInt64
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
