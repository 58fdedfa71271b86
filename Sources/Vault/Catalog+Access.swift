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
        // A self-issued token records the token that created it: it dies with it (issue #15, defect 5).
        migrator.registerMigration("v3-token-lineage") { db in
            try db.execute(sql: "ALTER TABLE token_hashes ADD COLUMN parent_token_id TEXT")
        }
        // `verifications` became an authenticated table (the compliance report reads it): records written before
        // cannot be authenticated after the fact, and adopting them would adopt whatever was planted with them.
        migrator.registerMigration("v4-authenticated-verifications") { db in
            try db.execute(sql: "DELETE FROM verifications")
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

    static func storeToken(
        _ hash: TokenHash, principal id: Int64, expiresAt: Date?, parent: String? = nil, _ db: Database
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO token_hashes (hash, principal_id, created_at, expires_at, token_id, parent_token_id)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                hash.hex, id, AccessTime.format(Date()), expiresAt.map(AccessTime.format), hash.id, parent,
            ])
    }

    /// The expiry of token `id` (nil: none), or nil when there is no such token.
    static func tokenExpiry(id: String, _ db: Database) throws -> Date?? {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT expires_at FROM token_hashes WHERE token_id = ?", arguments: [id])
        else { return nil }
        return .some((row["expires_at"] as String?).flatMap(AccessTime.parse))
    }

    /// The ids of `ids` and every token created from them, transitively.
    static func lineage(of ids: [String], _ db: Database) throws -> Set<String> {
        var result = Set(ids)
        var frontier = ids
        while !frontier.isEmpty {
            let placeholders = frontier.map { _ in "?" }.joined(separator: ",")
            let children = try String.fetchAll(
                db, sql: "SELECT token_id FROM token_hashes WHERE parent_token_id IN (\(placeholders))",
                arguments: StatementArguments(frontier))
            frontier = children.filter { result.insert($0).inserted }
        }
        return result
    }

    /// Refuses a change after which no enabled global admin would hold a usable token: revoking `revoking`,
    /// and (for a principal being removed or losing `admin`) not counting `losingAdmin`. Without this guard a
    /// security engineer could revoke every admin token and leave the vault without an admin.
    static func requireAdminAccessRemains(
        revoking: Set<String> = [], losingAdmin: Int64? = nil, _ db: Database
    ) throws {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT t.token_id, t.expires_at, p.id AS principal FROM token_hashes t
                JOIN principals p ON p.id = t.principal_id
                JOIN role_bindings b ON b.principal_id = p.id AND b.role = 'admin' AND b.scope = 'global'
                WHERE p.disabled = 0 AND t.revoked_at IS NULL
                """)
        let now = Date()
        let usable = rows.contains { row in
            let expires = (row["expires_at"] as String?).flatMap(AccessTime.parse)
            return !revoking.contains(row["token_id"] as String? ?? "") && (row["principal"] as Int64) != losingAdmin
                && (expires.map { $0 > now } ?? true)
        }
        guard usable else {
            throw VaultError(
                .invalidName,
                "refusing to remove the last usable admin access (the holder of the vault passphrase can mint one "
                    + "with `modelvault user bootstrap --break-glass`)")
        }
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

    /// Revokes a token by id, with every token created from it; returns its owner, or nil when no such token
    /// exists. Refused when it would leave no usable admin token.
    static func revokeToken(id: String, _ db: Database) throws -> String? {
        guard
            let owner = try String.fetchOne(
                db,
                sql:
                    "SELECT p.name FROM token_hashes t JOIN principals p ON p.id = t.principal_id WHERE t.token_id = ?",
                arguments: [id])
        else { return nil }
        let revoked = try lineage(of: [id], db)
        try requireAdminAccessRemains(revoking: revoked, db)
        try revokeTokens(revoked, db)
        return owner
    }

    private static func revokeTokens(_ ids: Set<String>, _ db: Database) throws {
        let now = AccessTime.format(Date())
        for id in ids {
            try db.execute(
                sql: "UPDATE token_hashes SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
                arguments: [now, id])
        }
    }

    /// The public id of every stored token, sorted.
    static func tokenIDs(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT token_id FROM token_hashes ORDER BY token_id")
    }

    static func tokenOwner(id: String, _ db: Database) throws -> String? {
        try String.fetchOne(
            db,
            sql: "SELECT p.name FROM token_hashes t JOIN principals p ON p.id = t.principal_id WHERE t.token_id = ?",
            arguments: [id])
    }

    /// Removes a principal: bindings deleted, tokens revoked, the row kept (disabled) so tokens keep an owner.
    static func removePrincipal(_ id: Int64, _ db: Database) throws {
        let own = try String.fetchAll(
            db, sql: "SELECT token_id FROM token_hashes WHERE principal_id = ? AND token_id IS NOT NULL",
            arguments: [id])
        let revoked = try lineage(of: own, db)
        try requireAdminAccessRemains(revoking: revoked, losingAdmin: id, db)
        try db.execute(sql: "DELETE FROM role_bindings WHERE principal_id = ?", arguments: [id])
        try db.execute(
            sql: "UPDATE token_hashes SET revoked_at = ? WHERE principal_id = ? AND revoked_at IS NULL",
            arguments: [AccessTime.format(Date()), id])
        try revokeTokens(revoked, db)
        try db.execute(sql: "UPDATE principals SET disabled = 1 WHERE id = ?", arguments: [id])
    }

    static func recordVerification(model: String, version: Int, ok: Bool, by principal: String, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO verifications (model, version, verified_at, ok, verified_by) VALUES (?, ?, ?, ?, ?)",
            arguments: [model, version, AccessTime.format(Date()), ok, principal])
    }

    /// Every recorded verification of a model version, oldest first.
    static func verifications(_ db: Database) throws -> [VerificationRow] {
        try Row.fetchAll(
            db, sql: "SELECT model, version, verified_at, ok, verified_by FROM verifications ORDER BY id"
        ).map {
            VerificationRow(
                model: $0["model"], version: $0["version"], verifiedAt: $0["verified_at"], ok: $0["ok"],
                verifiedBy: $0["verified_by"])
        }
    }
}

/// A row of `verifications`: one `model verify` of a model version and its outcome.
struct VerificationRow: Sendable {
    var model: String
    var version: Int
    var verifiedAt: String
    var ok: Bool
    var verifiedBy: String
}

/// Token timestamps: ISO 8601 UTC with seconds, so expiry comparisons are exact to the second.
enum AccessTime {
    static func format(_ date: Date) -> String { date.formatted(.iso8601) }
    static func parse(_ text: String) -> Date? { try? Date.ISO8601FormatStyle().parse(text) }
}
