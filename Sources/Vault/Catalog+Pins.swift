import Crypto
import Foundation
import GRDB

/// Public facts the vault trusts only as pinned in its authenticated catalog (`trust_pins`), never as read from
/// the files they describe: `vault.json` and the age key files can be written by anyone who can write the
/// directory, a sealed catalog row cannot.
enum TrustPin: String, Sendable {
    /// The manifest signing public key (PEM) that `keys/signing-vN.age` must hold.
    case signingPublicKey = "signing.public-key"
    /// The audit checkpoint key (Ed25519 public key, hex) that `keys/audit.age` must hold.
    case auditPublicKey = "audit.public-key"
    /// SHA-256 of `vault.json`'s canonical form.
    case configuration = "vault.json"
    /// The key version the current signing key was made at (1 until a `--reencrypt` rotation).
    case signingKeyVersion = "signing.key-version"
    /// The audit log origin, pinned apart from the audit key so it survives a rotation (absent in vaults made before
    /// it: derived from the first audit key, which was the only one until then).
    case auditOrigin = "audit.origin"
    /// The retired audit keys with their handover sizes (JSON, oldest first).
    case auditRetiredKeys = "audit.retired-keys"
    /// An audit key a rotation is handing over to (hex), set until the handover is committed.
    case auditNextPublicKey = "audit.next-public-key"
    /// `ROTATION-ID:base64` of a short text sealed under the new passphrase a re-encrypting rotation was started
    /// with (scrypt, as the key files), so that a resume given another "new" passphrase is refused; removed when the
    /// rotation finishes.
    case reencryptPassphraseCheck = "keys.reencrypt-passphrase-check"
    /// The high-water mark keys of the roots a re-encrypting rotation retires, sealed under the new root (base64),
    /// so that a resume retires them on this host even if the old root files are gone or replaced by then; removed
    /// when the rotation finishes.
    case reencryptRetiringMarks = "keys.reencrypt-retiring-marks"

    /// The signing key version in force (1 when never rotated).
    static func signingKeyVersion(_ db: Database) throws -> Int {
        try value(.signingKeyVersion, db).flatMap { Int($0) } ?? 1
    }

    /// Pins a replaced signing public key as history: its old signatures stay verifiable with it.
    static func setHistory(signingKeyVersion version: Int, to pem: String, _ db: Database) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO trust_pins (name, value) VALUES (?, ?)",
            arguments: ["signing.public-key.v\(version)", pem])
    }

    /// Every replaced signing public key by the key version it was made at.
    static func history(_ db: Database) throws -> [Int: String] {
        var keys: [Int: String] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT name, value FROM trust_pins WHERE name LIKE 'signing.public-key.v%'")
        {
            let name: String = row["name"]
            if let version = Int(name.dropFirst("signing.public-key.v".count)) { keys[version] = row["value"] }
        }
        return keys
    }

    static func value(_ pin: TrustPin, _ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM trust_pins WHERE name = ?", arguments: [pin.rawValue])
    }

    static func remove(_ pin: TrustPin, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM trust_pins WHERE name = ?", arguments: [pin.rawValue])
    }

    static func set(_ pin: TrustPin, to value: String, _ db: Database) throws {
        try db.execute(
            sql:
                "INSERT INTO trust_pins (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            arguments: [pin.rawValue, value])
    }
}

extension TrustPin {
    /// The value of the pin named `name`, a pin outside the fixed set (a deployment record, a client certificate
    /// mapping, a witness), if it exists.
    static func value(named name: String, _ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM trust_pins WHERE name = ?", arguments: [name])
    }

    /// Sets the pin named `name` to `value`, replacing any value it had.
    static func set(named name: String, to value: String, _ db: Database) throws {
        try db.execute(
            sql:
                "INSERT INTO trust_pins (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            arguments: [name, value])
    }

    /// Removes the pin named `name`; returns whether it existed.
    @discardableResult
    static func remove(named name: String, _ db: Database) throws -> Bool {
        try db.execute(sql: "DELETE FROM trust_pins WHERE name = ?", arguments: [name])
        return db.changesCount > 0
    }
}

extension KeyVersionRow {
    /// Records a new active key version.
    static func insert(version: Int, recipient: String, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO key_versions (version, recipient, created_at, state) VALUES (?, ?, ?, 'active')",
            arguments: [version, recipient, CatalogTime.now()])
    }
}

extension VaultConfiguration {
    /// The digest pinned for `vault.json`: SHA-256 (hex) of its fields re-encoded canonically, so the pin does not
    /// depend on whitespace. The signing public key is left out: it changes with a `--reencrypt` rotation and is
    /// checked on its own against the signing pins (current or history).
    func pinDigest() throws -> String {
        var pinned = self
        pinned.signingPublicKey = ""
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(SHA256.hash(data: try encoder.encode(pinned))).hexString
    }
}
