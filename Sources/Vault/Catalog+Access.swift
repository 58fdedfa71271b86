import AccessControl
import Foundation
import GRDB

extension Catalog {
    /// The access-control columns and tables added on top of `v1-registry`'s principal tables.
    static func registerAccessMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2-access") { db in
            try db.execute(
                sql: """
                    ALTER TABLE principals ADD COLUMN kind TEXT NOT NULL DEFAULT 'person';
                    ALTER TABLE token_hashes ADD COLUMN token_id TEXT;
                    CREATE UNIQUE INDEX token_hashes_by_id ON token_hashes(token_id);
                    CREATE TABLE verifications (
                        id INTEGER PRIMARY KEY,
                        model TEXT NOT NULL,
                        version INTEGER NOT NULL,
                        verified_at TEXT NOT NULL,
                        ok INTEGER NOT NULL,
                        verified_by TEXT NOT NULL
                    );
                    CREATE INDEX verifications_by_version ON verifications(model, version);
                    """)
        }
    }
}

/// Catalog queries behind principals, role bindings and token hashes. Tokens themselves are never stored.
enum AccessCatalog {
    static func principalID(_ name: String, _ db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT id FROM principals WHERE name = ? AND disabled = 0", arguments: [name])
    }

    static func requirePrincipal(_ name: String, _ db: Database) throws -> Int64 {
        guard let id = try principalID(name, db) else { throw VaultError(.notFound, "no principal named \(name)") }
        return id
    }

    static func bindings(ofPrincipal id: Int64, _ db: Database) throws -> [RoleBinding] {
        try Row.fetchAll(
            db, sql: "SELECT role, scope FROM role_bindings WHERE principal_id = ? ORDER BY role, scope",
            arguments: [id]
        ).compactMap { row in
            guard let role = Role(rawValue: row["role"]), let scope = try? Scope(row["scope"] as String) else {
                return nil
            }
            return RoleBinding(role: role, scope: scope)
        }
    }

    static func principals(_ db: Database) throws -> [Principal] {
        try Row.fetchAll(
            db, sql: "SELECT id, name, kind, created_at FROM principals WHERE disabled = 0 ORDER BY name"
        ).map { row in
            Principal(
                name: row["name"], kind: PrincipalKind(rawValue: row["kind"]) ?? .person, createdAt: row["created_at"],
                bindings: try bindings(ofPrincipal: row["id"], db))
        }
    }

    /// Creates (or re-enables a removed) principal.
    static func addPrincipal(_ name: String, kind: PrincipalKind, _ db: Database) throws -> Int64 {
        if let existing = try Row.fetchOne(
            db, sql: "SELECT id, disabled FROM principals WHERE name = ?", arguments: [name])
        {
            guard existing["disabled"] as Bool else {
                throw VaultError(.invalidName, "a principal named \(name) already exists")
            }
            try db.execute(
                sql: "UPDATE principals SET disabled = 0, kind = ?, created_at = ? WHERE id = ?",
                arguments: [kind.rawValue, CatalogTime.now(), existing["id"] as Int64])
            return existing["id"]
        }
        try db.execute(
            sql: "INSERT INTO principals (name, created_at, kind) VALUES (?, ?, ?)",
            arguments: [name, CatalogTime.now(), kind.rawValue])
        return db.lastInsertedRowID
    }

    static func grant(_ binding: RoleBinding, to id: Int64, _ db: Database) throws {
        try db.execute(
            sql: "INSERT OR IGNORE INTO role_bindings (principal_id, role, scope) VALUES (?, ?, ?)",
            arguments: [id, binding.role.rawValue, binding.scope.description])
    }

    /// Removes a binding; returns whether it existed.
    static func revoke(_ binding: RoleBinding, from id: Int64, _ db: Database) throws -> Bool {
        try db.execute(
            sql: "DELETE FROM role_bindings WHERE principal_id = ? AND role = ? AND scope = ?",
            arguments: [id, binding.role.rawValue, binding.scope.description])
        return db.changesCount > 0
    }

    /// How many enabled principals hold `admin` globally.
    static func globalAdminCount(_ db: Database) throws -> Int {
        try Int.fetchOne(
            db,
            sql: """
                SELECT COUNT(DISTINCT p.id) FROM principals p JOIN role_bindings b ON b.principal_id = p.id
                WHERE p.disabled = 0 AND b.role = 'admin' AND b.scope = 'global'
                """) ?? 0
    }

    static func storeToken(_ hash: TokenHash, principal id: Int64, expiresAt: Date?, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO token_hashes (hash, principal_id, created_at, expires_at, token_id) VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [hash.hex, id, AccessTime.format(Date()), expiresAt.map(AccessTime.format), hash.id])
    }

    /// The token record with public id `id` (the hash's id), if any.
    static func tokenRecord(id: String, _ db: Database) throws -> TokenRecord? {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT t.hash, t.created_at, t.expires_at, t.revoked_at, p.name, p.disabled
                    FROM token_hashes t JOIN principals p ON p.id = t.principal_id WHERE t.token_id = ?
                    """, arguments: [id])
        else { return nil }
        let disabled: Bool = row["disabled"]
        let revoked = (row["revoked_at"] as String?).flatMap(AccessTime.parse)
        return TokenRecord(
            principal: row["name"], hash: try TokenHash(hex: row["hash"]),
            createdAt: AccessTime.parse(row["created_at"]) ?? Date(),
            expiresAt: (row["expires_at"] as String?).flatMap(AccessTime.parse),
            // A removed principal's tokens stop working even if a revocation was somehow missed.
            revokedAt: revoked ?? (disabled ? Date.distantPast : nil))
    }

    static func tokens(_ db: Database) throws -> [TokenInfo] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT t.token_id, t.created_at, t.expires_at, t.revoked_at, p.name
                FROM token_hashes t JOIN principals p ON p.id = t.principal_id ORDER BY t.created_at, t.token_id
                """
        ).map { row in
            TokenInfo(
                id: row["token_id"] ?? "", principal: row["name"], createdAt: row["created_at"],
                expiresAt: row["expires_at"], revokedAt: row["revoked_at"])
        }
    }

    /// Revokes a token by id; returns its owner, or nil when no such token exists.
    static func revokeToken(id: String, _ db: Database) throws -> String? {
        guard
            let owner = try String.fetchOne(
                db,
                sql:
                    "SELECT p.name FROM token_hashes t JOIN principals p ON p.id = t.principal_id WHERE t.token_id = ?",
                arguments: [id])
        else { return nil }
        try db.execute(
            sql: "UPDATE token_hashes SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
            arguments: [AccessTime.format(Date()), id])
        return owner
    }

    static func tokenOwner(id: String, _ db: Database) throws -> String? {
        try String.fetchOne(
            db,
            sql: "SELECT p.name FROM token_hashes t JOIN principals p ON p.id = t.principal_id WHERE t.token_id = ?",
            arguments: [id])
    }

    /// Removes a principal: bindings deleted, tokens revoked, the row kept (disabled) so tokens keep an owner.
    static func removePrincipal(_ id: Int64, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM role_bindings WHERE principal_id = ?", arguments: [id])
        try db.execute(
            sql: "UPDATE token_hashes SET revoked_at = ? WHERE principal_id = ? AND revoked_at IS NULL",
            arguments: [AccessTime.format(Date()), id])
        try db.execute(sql: "UPDATE principals SET disabled = 1 WHERE id = ?", arguments: [id])
    }

    static func recordVerification(model: String, version: Int, ok: Bool, by principal: String, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO verifications (model, version, verified_at, ok, verified_by) VALUES (?, ?, ?, ?, ?)",
            arguments: [model, version, AccessTime.format(Date()), ok, principal])
    }
}

/// Token timestamps: ISO 8601 UTC with seconds, so expiry comparisons are exact to the second.
enum AccessTime {
    static func format(_ date: Date) -> String { date.formatted(.iso8601) }
    static func parse(_ text: String) -> Date? { try? Date.ISO8601FormatStyle().parse(text) }
}
