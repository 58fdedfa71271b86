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

    static func value(_ pin: TrustPin, _ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM trust_pins WHERE name = ?", arguments: [pin.rawValue])
    }

    static func set(_ pin: TrustPin, to value: String, _ db: Database) throws {
        try db.execute(
            sql:
                "INSERT INTO trust_pins (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            arguments: [pin.rawValue, value])
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
    /// depend on whitespace but covers every field.
    func pinDigest() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(SHA256.hash(data: try encoder.encode(self))).hexString
    }
}
