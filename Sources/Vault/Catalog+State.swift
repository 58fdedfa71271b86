import Crypto
import Foundation
import GRDB

/// One catalog table whose rows are authenticated: the columns that identify a row and those the MAC covers.
struct AuthenticatedTable: Sendable {
    var name: String
    /// The columns that identify a row (its natural key).
    var key: [String]
    /// Every column the MAC covers, key columns included.
    var columns: [String]
}

/// A catalog record that failed verification, named by table and key.
struct StateProblem: Sendable, CustomStringConvertible, Equatable {
    /// The record: `table[column=value, ...]`, `state_root`, or a vault file.
    var record: String
    /// What is wrong with it.
    var reason: String

    var description: String { "\(record): \(reason)" }
}

/// Authenticated catalog state (issue 13): every security-relevant row has an HMAC-SHA256, under a key derived
/// from the vault's root of trust, in `state_index`; `state_root` holds a sequence number and a digest of the whole
/// index, MAC'd under a second derived key. A row written outside the vault has no valid MAC; a row copied from
/// another vault has a MAC under another key; an older, once-valid row (a token before its revocation, a removed
/// binding, an old alias) no longer matches the index; an index restored with it no longer matches the root.
///
/// Every read verifies the whole state first and every write verifies, runs, then re-seals in the same
/// transaction, so nothing unauthenticated is ever served, and a tampered row is never sealed by a later write.
struct CatalogState: Sendable {
    private let rowKey: SymmetricKey
    private let rootKey: SymmetricKey

    init(root: TrustRoot) {
        rowKey = root.key(for: "catalog row mac v1")
        rootKey = root.key(for: "catalog state root mac v1")
    }

    /// The authenticated tables. Not covered: `rotation_journal` (progress only: `blobs` says where each file is)
    /// and `verifications` (a log of results, not an input to any decision).
    static let tables: [AuthenticatedTable] = [
        AuthenticatedTable(
            name: "key_versions", key: ["version"],
            columns: ["version", "recipient", "created_at", "state", "retired_at"]),
        AuthenticatedTable(name: "blobs", key: ["path"], columns: ["path", "key_version"]),
        AuthenticatedTable(name: "datasets", key: ["id"], columns: ["id", "name", "created_at"]),
        AuthenticatedTable(
            name: "dataset_versions", key: ["id"],
            columns: ["id", "dataset_id", "version", "processed", "description", "digest", "created_at", "created_by"]),
        AuthenticatedTable(
            name: "dataset_files", key: ["version_id", "path"],
            columns: ["version_id", "path", "size", "sha256", "blob_path"]),
        AuthenticatedTable(name: "models", key: ["id"], columns: ["id", "name", "created_at"]),
        AuthenticatedTable(
            name: "model_versions", key: ["id"],
            columns: [
                "id", "model_id", "version", "manifest_sha256", "signer", "publisher", "metrics", "source",
                "created_at", "created_by",
            ]),
        AuthenticatedTable(
            name: "model_files", key: ["version_id", "path"],
            columns: ["version_id", "path", "size", "sha256", "blob_path"]),
        AuthenticatedTable(
            name: "lineage", key: ["model_version_id", "dataset_version_id"],
            columns: ["model_version_id", "dataset_version_id", "dataset_name", "dataset_version", "digest"]),
        AuthenticatedTable(
            name: "aliases", key: ["model_id", "alias"],
            columns: ["model_id", "alias", "version_id", "updated_at", "updated_by"]),
        AuthenticatedTable(
            name: "alias_history", key: ["id"],
            columns: ["id", "model_id", "alias", "from_version", "to_version", "changed_at", "changed_by"]),
        AuthenticatedTable(
            name: "rotations", key: ["id"],
            columns: ["id", "target_version", "reencrypt", "started_at", "finished_at", "started_by"]),
        AuthenticatedTable(
            name: "principals", key: ["id"], columns: ["id", "name", "created_at", "disabled", "kind"]),
        AuthenticatedTable(
            name: "role_bindings", key: ["principal_id", "role", "scope"],
            columns: ["principal_id", "role", "scope"]),
        AuthenticatedTable(
            name: "token_hashes", key: ["token_id", "hash"],
            columns: ["hash", "principal_id", "created_at", "expires_at", "revoked_at", "token_id", "parent_token_id"]),
        AuthenticatedTable(name: "trust_pins", key: ["name"], columns: ["name", "value"]),
    ]

    /// The state tables and the pins, added on top of the registry and access-control tables.
    static func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3-authenticated-state") { db in
            try db.execute(
                sql: """
                    CREATE TABLE trust_pins (
                        name TEXT PRIMARY KEY,
                        value TEXT NOT NULL
                    );
                    CREATE TABLE state_index (
                        tbl TEXT NOT NULL,
                        key TEXT NOT NULL,
                        mac BLOB NOT NULL,
                        PRIMARY KEY (tbl, key)
                    );
                    CREATE TABLE state_root (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        sequence INTEGER NOT NULL,
                        digest BLOB NOT NULL,
                        mac BLOB NOT NULL
                    );
                    """)
        }
    }

    // MARK: Verification

    /// Every problem with the state in `db`: an unauthenticated root, an index that is not the one the root
    /// commits to, rows without a valid MAC, rows whose authenticated record is gone.
    func problems(_ db: Database) throws -> [StateProblem] {
        var problems = try Self.schemaProblems(db)
        let index = try Self.index(db)
        if let root = try Row.fetchOne(db, sql: "SELECT sequence, digest, mac FROM state_root WHERE id = 1") {
            let sequence: Int64 = root["sequence"]
            let digest: Data = root["digest"]
            if !constantTimeEqual(rootMAC(sequence: sequence, digest: digest), root["mac"]) {
                problems.append(StateProblem(record: "state_root", reason: "fails authentication"))
            } else if !constantTimeEqual(Self.digest(of: index), digest) {
                problems.append(
                    StateProblem(
                        record: "state_index",
                        reason:
                            "does not match the authenticated state root \(sequence) (entries added, removed or restored)"
                    ))
            }
        } else {
            problems.append(StateProblem(record: "state_root", reason: "missing"))
        }
        var expected: [String: [String: Data]] = [:]
        for entry in index { expected[entry.table, default: [:]][entry.key] = entry.mac }
        for table in Self.tables {
            var remaining = expected[table.name] ?? [:]
            for row in try rows(of: table, db) {
                let label = Self.label(table, key: row.key)
                guard let mac = remaining.removeValue(forKey: row.key) else {
                    problems.append(
                        StateProblem(record: label, reason: "not authenticated (written outside the vault)"))
                    continue
                }
                if !constantTimeEqual(mac, row.mac) {
                    problems.append(
                        StateProblem(
                            record: label,
                            reason:
                                "differs from its authenticated record (changed, swapped or restored outside the vault)"
                        ))
                }
            }
            for key in remaining.keys.sorted() {
                problems.append(
                    StateProblem(record: Self.label(table, key: key), reason: "deleted outside the vault"))
            }
        }
        return problems
    }

    /// Triggers and views: the vault creates none, and neither is a row the MACs cover. A planted trigger would run
    /// inside the next honest write's transaction, and the seal after it would authenticate whatever it inserted.
    static func schemaProblems(_ db: Database) throws -> [StateProblem] {
        try Row.fetchAll(
            db, sql: "SELECT type, name FROM sqlite_schema WHERE type IN ('trigger', 'view') ORDER BY type, name"
        ).map { row in
            let type: String = row["type"]
            let name: String = row["name"]
            return StateProblem(record: "sqlite_schema[\(type) \(name)]", reason: "not created by the vault")
        }
    }

    /// Throws `VaultError.tampered` naming the first bad records, if any.
    func requireValid(_ db: Database) throws {
        let problems = try problems(db)
        guard !problems.isEmpty else { return }
        throw Self.error(problems)
    }

    static func error(_ problems: [StateProblem]) -> VaultError {
        let shown = problems.prefix(3).map(\.description).joined(separator: "; ")
        let more = problems.count > 3 ? " and \(problems.count - 3) more" : ""
        return VaultError(
            .tampered,
            "vault state fails authentication: \(shown)\(more); nothing was served (run `modelvault vault check`)")
    }

    // MARK: Sealing

    /// Recomputes the MAC of every authenticated row, updates the index where it changed and, if anything did,
    /// advances the state sequence and re-MACs the root. Call only on state just verified (or a new catalog).
    @discardableResult
    func seal(_ db: Database) throws -> Int64 {
        // Defence in depth: never seal rows a planted trigger may have written in this transaction.
        let schema = try Self.schemaProblems(db)
        guard schema.isEmpty else { throw Self.error(schema) }
        var current: [String: [String: Data]] = [:]
        for entry in try Self.index(db) { current[entry.table, default: [:]][entry.key] = entry.mac }
        var changed = false
        for table in Self.tables {
            var remaining = current[table.name] ?? [:]
            for row in try rows(of: table, db) {
                if let mac = remaining.removeValue(forKey: row.key), mac == row.mac { continue }
                try db.execute(
                    sql: "INSERT OR REPLACE INTO state_index (tbl, key, mac) VALUES (?, ?, ?)",
                    arguments: [table.name, row.key, row.mac])
                changed = true
            }
            for key in remaining.keys {
                try db.execute(
                    sql: "DELETE FROM state_index WHERE tbl = ? AND key = ?", arguments: [table.name, key])
                changed = true
            }
        }
        let previous = try Int64.fetchOne(db, sql: "SELECT sequence FROM state_root WHERE id = 1")
        guard changed || previous == nil else { return previous! }
        let sequence = (previous ?? 0) + 1
        let digest = Self.digest(of: try Self.index(db))
        try db.execute(
            sql: "INSERT OR REPLACE INTO state_root (id, sequence, digest, mac) VALUES (1, ?, ?, ?)",
            arguments: [sequence, digest, rootMAC(sequence: sequence, digest: digest)])
        return sequence
    }

    /// The sequence number and digest of the sealed state (for the audit log).
    static func root(_ db: Database) throws -> (sequence: Int64, digest: Data)? {
        guard let row = try Row.fetchOne(db, sql: "SELECT sequence, digest FROM state_root WHERE id = 1") else {
            return nil
        }
        return (row["sequence"], row["digest"])
    }

    // MARK: Encoding

    private struct IndexEntry {
        var table: String
        var key: String
        var mac: Data
    }

    /// The index in SQLite's binary order of (table, key), the order the digest is taken in.
    private static func index(_ db: Database) throws -> [IndexEntry] {
        var entries: [IndexEntry] = []
        let cursor = try Row.fetchCursor(db, sql: "SELECT tbl, key, mac FROM state_index ORDER BY tbl, key")
        while let row = try cursor.next() {
            entries.append(IndexEntry(table: row[0], key: row[1], mac: row[2]))
        }
        return entries
    }

    /// SHA-256 over the index in its stored order, each field length-prefixed.
    private static func digest(of index: [IndexEntry]) -> Data {
        var hasher = SHA256()
        for entry in index {
            hasher.update(data: lengthPrefixed(Data(entry.table.utf8)))
            hasher.update(data: lengthPrefixed(Data(entry.key.utf8)))
            hasher.update(data: lengthPrefixed(entry.mac))
        }
        return Data(hasher.finalize())
    }

    private func rootMAC(sequence: Int64, digest: Data) -> Data {
        var message = Data("modelvault catalog state v1\n".utf8)
        withUnsafeBytes(of: UInt64(bitPattern: sequence).bigEndian) { message.append(contentsOf: $0) }
        message.append(digest)
        return Data(HMAC<SHA256>.authenticationCode(for: message, using: rootKey))
    }

    /// Every row of `table` with its key text and MAC. SQLite's `quote()` renders each value unambiguously (type
    /// included: NULL, integers, 'text' with quotes doubled, X'blob'), so one string per row is the MAC'd encoding.
    private func rows(of table: AuthenticatedTable, _ db: Database) throws -> [(key: String, mac: Data)] {
        let key = table.key.map { "quote(\($0))" }.joined(separator: " || char(31) || ")
        let content = table.columns.map { "quote(\($0))" }.joined(separator: " || ',' || ")
        // HMAC is a value type: keyed and fed the table's prefix once, then copied for each row.
        var keyed = HMAC<SHA256>(key: rowKey)
        keyed.update(data: Data("modelvault catalog row v1\n\(table.name)\n".utf8))
        var rows: [(key: String, mac: Data)] = []
        let cursor = try Row.fetchCursor(db, sql: "SELECT \(key), \(content) FROM \(table.name)")
        while let row = try cursor.next() {
            let text: String = row[1]
            var mac = keyed
            mac.update(data: Data(text.utf8))
            rows.append((row[0], Data(mac.finalize())))
        }
        return rows
    }

    /// `table[column=value, ...]` for a row key (token hashes are named by token id only).
    static func label(_ table: AuthenticatedTable, key: String) -> String {
        let values = key.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
        let pairs = zip(table.key, values).filter { !(table.name == "token_hashes" && $0.0 == "hash") }
        return "\(table.name)[\(pairs.map { "\($0.0)=\($0.1)" }.joined(separator: ", "))]"
    }

    private static func lengthPrefixed(_ bytes: Data) -> Data {
        var data = Data()
        withUnsafeBytes(of: UInt64(bytes.count).bigEndian) { data.append(contentsOf: $0) }
        data.append(bytes)
        return data
    }
}

/// Compares two MACs without an early exit.
func constantTimeEqual(_ lhs: Data, _ rhs: Data) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for (left, right) in zip(lhs, rhs) { difference |= left ^ right }
    return difference == 0
}
