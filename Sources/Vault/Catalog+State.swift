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

    /// The authenticated tables. Not covered: `rotation_journal` (progress only: `blobs` says where each file is).
    static let tables: [AuthenticatedTable] = [
        AuthenticatedTable(
            name: "key_versions", key: ["version"],
            columns: ["version", "recipient", "created_at", "state", "retired_at"]),
        AuthenticatedTable(name: "blobs", key: ["path"], columns: ["path", "key_version"]),
        // A planted record would have the server wrap for a caller the key of whatever file sits at that path.
        AuthenticatedTable(name: "blob_headers", key: ["path"], columns: ["path", "sha256"]),
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
        // The compliance report's "last verification" column reads it: a forged row would show a check never run.
        AuthenticatedTable(
            name: "verifications", key: ["id"],
            columns: ["id", "model", "version", "verified_at", "ok", "verified_by"]),
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

    /// Every problem with the state in `db`: a schema the vault did not create, pages SQLite's integrity check
    /// refuses, an unauthenticated root, an index that is not the one the root commits to, rows without a valid MAC,
    /// rows whose authenticated record is gone.
    func problems(_ db: Database) throws -> [StateProblem] {
        var problems = try Self.schemaProblems(db) + Self.integrityProblems(db)
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
                // Named only when something is wrong: the label is built per character, for every row otherwise.
                if row.holdsNUL {
                    problems.append(StateProblem(record: Self.label(table, key: row.key), reason: Self.nulReason))
                }
                guard let mac = remaining.removeValue(forKey: row.key) else {
                    problems.append(
                        StateProblem(
                            record: Self.label(table, key: row.key),
                            reason: "not authenticated (written outside the vault)"))
                    continue
                }
                if !constantTimeEqual(mac, row.mac) {
                    problems.append(
                        StateProblem(
                            record: Self.label(table, key: row.key),
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

    /// Every difference between the catalog's schema and the one the vault's migrations create: an entry added
    /// (an index, a trigger, a view, `sqlite_stat1`), removed, or whose definition changed. Root pages are not
    /// compared (they differ between files); ``integrityProblems(_:)`` checks what they point at. A planted trigger
    /// would run inside the next honest write's transaction, and the seal after it would authenticate whatever it
    /// inserted; a planted covering index answers lookups without reading the table the row MACs cover.
    static func schemaProblems(_ db: Database) throws -> [StateProblem] {
        guard let expected = expectedSchema else {
            return [StateProblem(record: "sqlite_schema", reason: "the schema to compare it with could not be built")]
        }
        var problems: [StateProblem] = []
        var seen: Set<String> = []
        for entry in try schemaEntries(db) {
            let record = "sqlite_schema[\(printable(entry.type)) \(printable(entry.name))]"
            guard seen.insert(entry.name).inserted else {
                problems.append(StateProblem(record: record, reason: "defined twice"))
                continue
            }
            guard let wanted = expected[entry.name] else {
                problems.append(StateProblem(record: record, reason: "not created by the vault"))
                continue
            }
            if wanted != entry {
                problems.append(StateProblem(record: record, reason: "definition changed outside the vault"))
            }
        }
        for name in expected.keys.sorted() where !seen.contains(name) {
            let type = expected[name]?.type ?? "entry"
            problems.append(StateProblem(record: "sqlite_schema[\(type) \(name)]", reason: "missing"))
        }
        return problems
    }

    /// SQLite's own check of every page: an index whose entries are not exactly its table's rows (pages written
    /// outside SQLite, an index's root page pointed at another B-tree), B-trees out of order, pages used twice or
    /// never. Row MACs cover what a scan of each table reads; this makes every index read agree with that scan.
    static func integrityProblems(_ db: Database) throws -> [StateProblem] {
        let output = try String.fetchAll(db, sql: "PRAGMA integrity_check(100)")
        guard output != ["ok"] else { return [] }
        let messages = output.flatMap { $0.split(separator: "\n").map(String.init) }.filter { !$0.hasPrefix("***") }
        // Index disagreements name what was attacked; unused pages only show that something was removed.
        let ordered = messages.filter { $0.contains("index") } + messages.filter { !$0.contains("index") }
        let shown = ordered.prefix(3).map { printable($0) }.joined(separator: "; ")
        let more = ordered.count > 3 ? "; and \(ordered.count - 3) more" : ""
        return [
            StateProblem(
                record: "catalog.sqlite",
                reason: "fails SQLite's integrity check (written outside SQLite): \(shown)\(more)")
        ]
    }

    /// One `sqlite_schema` entry without its root page.
    struct SchemaEntry: Equatable, Sendable {
        var type: String
        var name: String
        var table: String
        var sql: String?
    }

    /// The schema the vault's migrations create, by name, taken once from an in-memory catalog.
    static let expectedSchema: [String: SchemaEntry]? = {
        guard let queue = try? DatabaseQueue(), (try? Catalog.migrator.migrate(queue)) != nil,
            let entries = try? queue.read({ db in try schemaEntries(db) })
        else { return nil }
        return Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }()

    private static func schemaEntries(_ db: Database) throws -> [SchemaEntry] {
        try Row.fetchAll(db, sql: "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name").map {
            row in
            SchemaEntry(
                type: (row["type"] as String?) ?? "", name: (row["name"] as String?) ?? "",
                table: (row["tbl_name"] as String?) ?? "", sql: row["sql"])
        }
    }

    /// Text from the catalog file fit for an error: no control or format characters (a terminal escape, a bidi
    /// override), at most 120 characters.
    static func printable(_ text: String) -> String {
        let scalars = text.unicodeScalars
        let cleaned = String(
            String.UnicodeScalarView(
                scalars.prefix(120).map { scalar in
                    let category = scalar.properties.generalCategory
                    return category == .control || category == .format ? "?" : scalar
                }))
        return scalars.count > 120 ? cleaned + "..." : cleaned
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
        // Defence in depth: never seal rows a planted trigger may have written in this transaction. (The integrity
        // check is not repeated: the verification this write began with ran it, and SQLite kept the indexes since.)
        let schema = try Self.schemaProblems(db)
        guard schema.isEmpty else { throw Self.error(schema) }
        var current: [String: [String: Data]] = [:]
        for entry in try Self.index(db) { current[entry.table, default: [:]][entry.key] = entry.mac }
        var changed = false
        for table in Self.tables {
            var remaining = current[table.name] ?? [:]
            var sealed: Set<String> = []
            for row in try rows(of: table, db) {
                // Neither can come from the vault's own writes (keys are primary keys; values come from Swift
                // strings): sealing either would authenticate a row SQL finds differently from what is MAC'd.
                guard !row.holdsNUL else {
                    throw Self.error([StateProblem(record: Self.label(table, key: row.key), reason: Self.nulReason)])
                }
                guard sealed.insert(row.key).inserted else {
                    throw Self.error([StateProblem(record: Self.label(table, key: row.key), reason: "key held twice")])
                }
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

    static let nulReason =
        "holds a NUL character (SQL compares the whole text, the authenticated record stops at the NUL)"

    /// One row of an authenticated table as the state sees it.
    private struct AuthenticatedRow {
        var key: String
        var mac: Data
        /// Whether a text value holds a NUL byte.
        var holdsNUL: Bool
    }

    /// Every row of `table` with its key text and MAC. SQLite's `quote()` renders each value unambiguously (type
    /// included: NULL, integers, 'text' with quotes doubled, X'blob') except text with a NUL byte, which it (and
    /// GRDB's text reading) cuts there while SQL comparisons see it whole: so such a row is flagged, not MAC'd as if
    /// whole. The rendering is read as bytes, so text that is not valid UTF-8 is MAC'd as stored, not as repaired.
    private func rows(of table: AuthenticatedTable, _ db: Database) throws -> [AuthenticatedRow] {
        let key = table.key.map { "quote(\($0))" }.joined(separator: " || char(31) || ")
        let content = table.columns.map { "quote(\($0))" }.joined(separator: " || ',' || ")
        let nul = table.columns.map { "(typeof(\($0)) = 'text' AND instr(CAST(\($0) AS BLOB), x'00') > 0)" }
            .joined(separator: " OR ")
        // HMAC is a value type: keyed and fed the table's prefix once, then copied for each row.
        var keyed = HMAC<SHA256>(key: rowKey)
        keyed.update(data: Data("modelvault catalog row v1\n\(table.name)\n".utf8))
        var rows: [AuthenticatedRow] = []
        let cursor = try Row.fetchCursor(
            db, sql: "SELECT \(key), CAST(\(content) AS BLOB), \(nul) FROM \(table.name)")
        while let row = try cursor.next() {
            let bytes: Data = row[1]
            var mac = keyed
            mac.update(data: bytes)
            rows.append(AuthenticatedRow(key: row[0], mac: Data(mac.finalize()), holdsNUL: row[2]))
        }
        return rows
    }

    /// `table[column=value, ...]` for a row key (token hashes are named by token id only).
    static func label(_ table: AuthenticatedTable, key: String) -> String {
        let values = key.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
        let pairs = zip(table.key, values).filter { !(table.name == "token_hashes" && $0.0 == "hash") }
        return "\(table.name)[\(pairs.map { "\($0.0)=\(printable($0.1))" }.joined(separator: ", "))]"
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
    // Through raw buffers: `Data`'s iterator costs more than the comparison, once per row of every verification.
    return lhs.withUnsafeBytes { (left: UnsafeRawBufferPointer) -> Bool in
        rhs.withUnsafeBytes { (right: UnsafeRawBufferPointer) -> Bool in
            var difference: UInt8 = 0
            for index in 0..<left.count { difference |= left[index] ^ right[index] }
            return difference == 0
        }
    }
}
