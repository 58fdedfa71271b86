import Foundation
import GRDB
import Synchronization

/// The SQLite catalog (GRDB, WAL): the single source of truth for what the vault holds.
///
/// Writes are immediate transactions, so two processes allocating version numbers are serialised by SQLite;
/// a busy database is retried for up to a minute.
///
/// Once the vault is unlocked the catalog carries its ``CatalogState``: every read then verifies the whole
/// authenticated state first, and every write verifies it, runs, and re-seals it in the same transaction.
struct Catalog: Sendable {
    let pool: DatabasePool
    /// The authenticator of the state; `nil` only while a vault is being opened (nothing is served then).
    var state: CatalogState? { authenticator.withLock { $0 } }
    /// Shared by every copy of this catalog value: a `--reencrypt` rotation replaces the root of trust in place.
    private let authenticator: Authenticator
    /// Which connections saw verified state, and when.
    private let verified = VerifiedConnections()
    /// The newest state this process verified or sealed: every later read refuses an older one.
    let floor = StateFloor()

    init(url: URL) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(60)
        configuration.foreignKeysEnabled = true
        do {
            pool = try DatabasePool(path: url.path(percentEncoded: false), configuration: configuration)
            try Catalog.migrator.migrate(pool)
        } catch let error as VaultError {
            throw error
        } catch {
            throw VaultError.storage("cannot open the catalog")
        }
        authenticator = Authenticator(nil)
    }

    private init(pool: DatabasePool, state: CatalogState) {
        self.pool = pool
        self.authenticator = Authenticator(state)
    }

    /// The same catalog, verified and sealed with keys derived from `root`.
    func authenticated(by root: TrustRoot) -> Catalog { Catalog(pool: pool, state: CatalogState(root: root)) }

    /// Runs `body` in an immediate write transaction on verified state, then re-seals the state; maps database
    /// errors to `VaultError`.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try mapErrors("catalog write failed") {
            try pool.write { db in
                // Taken inside the immediate transaction: no other connection can commit until it ends.
                let version = try verify(db)
                let result = try body(db)
                if let state {
                    try state.seal(db)
                    if let root = try CatalogState.root(db) {
                        try floor.admit(LoggedState(sequence: root.sequence, digest: root.digest))
                    }
                    // What this connection just sealed is verified state; another connection's commit changes
                    // `data_version` and forces a full check again.
                    verified.record(version, db)
                }
                return result
            }
        }
    }

    /// Runs `body` in a write transaction on state verified under the current root, then re-authenticates the whole
    /// state (every row MAC, the index, a new state root one sequence on) under `root`, which from the commit on is
    /// the only root this catalog accepts. One transaction: a crash leaves the state wholly under one root or the other.
    func reroot<T>(to root: TrustRoot, _ body: (Database) throws -> T) throws -> T {
        guard state != nil else { throw VaultError.storage("the catalog has no authenticator") }
        let fresh = CatalogState(root: root)
        let result = try mapErrors("catalog write failed") {
            try pool.write { db in
                try verify(db)
                let result = try body(db)
                try db.execute(sql: "DELETE FROM state_index")
                try fresh.seal(db)
                if let root = try CatalogState.root(db) {
                    try floor.admit(LoggedState(sequence: root.sequence, digest: root.digest))
                }
                return result
            }
        }
        authenticator.withLock { $0 = fresh }
        return result
    }

    /// Runs `body` on a read-only snapshot after verifying its state, mapping database errors to `VaultError`.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try mapErrors("catalog read failed") {
            try pool.read { db in
                try verify(db)
                return try body(db)
            }
        }
    }

    /// Seals a catalog that has no state yet (a vault being created): `body` fills it, then it is sealed.
    func initialize(_ body: (Database) throws -> Void) throws {
        guard let state else { throw VaultError.storage("the catalog has no authenticator") }
        try mapErrors("catalog write failed") {
            try pool.write { db in
                guard try CatalogState.root(db) == nil else {
                    throw VaultError.storage("the catalog is already sealed")
                }
                try body(db)
                try state.seal(db)
            }
        }
    }

    /// Every bad record of the state (empty when it verifies), for `vault check`.
    func problems() throws -> [StateProblem] {
        guard let state else { throw VaultError.storage("the catalog has no authenticator") }
        return try mapErrors("catalog read failed") { try pool.read { db in try state.problems(db) } }
    }

    /// Reads without verification: only for choosing which key files to try while unlocking.
    func unverifiedRead<T>(_ body: (Database) throws -> T) throws -> T {
        try mapErrors("catalog read failed") { try pool.read(body) }
    }

    /// Verifies the whole state, unless this connection verified it within the last second and no connection has
    /// committed since (SQLite's `data_version`): a CLI command's several reads then cost one verification.
    @discardableResult
    private func verify(_ db: Database) throws -> Int {
        // Read before verifying: a commit racing the verification then changes it and forces the next check.
        let version = try VerifiedConnections.dataVersion(db)
        guard let state, !verified.isCurrent(version, db) else { return version }
        try state.requireValid(db)
        // A self-consistent but older catalog put back under this process (SQLite's backup API reaches every open
        // connection) passes the check above; it must never be newer than what this process already saw.
        if let root = try CatalogState.root(db) {
            try floor.admit(LoggedState(sequence: root.sequence, digest: root.digest))
        }
        verified.record(version, db)
        return version
    }

    private func mapErrors<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as VaultError {
            throw error
        } catch {
            throw VaultError.storage(what)
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-registry") { db in
            try db.execute(
                sql: """
                    CREATE TABLE key_versions (
                        version INTEGER PRIMARY KEY,
                        recipient TEXT NOT NULL,
                        created_at TEXT NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('active', 'retiring', 'retired')),
                        retired_at TEXT
                    );
                    CREATE TABLE blobs (
                        path TEXT PRIMARY KEY,
                        key_version INTEGER NOT NULL REFERENCES key_versions(version)
                    );
                    CREATE INDEX blobs_by_key ON blobs(key_version);

                    CREATE TABLE datasets (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL UNIQUE,
                        created_at TEXT NOT NULL
                    );
                    CREATE TABLE dataset_versions (
                        id INTEGER PRIMARY KEY,
                        dataset_id INTEGER NOT NULL REFERENCES datasets(id),
                        version INTEGER NOT NULL,
                        processed INTEGER NOT NULL,
                        description TEXT,
                        digest TEXT NOT NULL,
                        created_at TEXT NOT NULL,
                        created_by TEXT NOT NULL,
                        UNIQUE (dataset_id, version)
                    );
                    CREATE TABLE dataset_files (
                        version_id INTEGER NOT NULL REFERENCES dataset_versions(id),
                        path TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        sha256 TEXT NOT NULL,
                        blob_path TEXT NOT NULL REFERENCES blobs(path),
                        PRIMARY KEY (version_id, path)
                    );

                    CREATE TABLE models (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL UNIQUE,
                        created_at TEXT NOT NULL
                    );
                    CREATE TABLE model_versions (
                        id INTEGER PRIMARY KEY,
                        model_id INTEGER NOT NULL REFERENCES models(id),
                        version INTEGER NOT NULL,
                        manifest_sha256 TEXT NOT NULL,
                        signer TEXT NOT NULL,
                        publisher TEXT,
                        metrics TEXT,
                        source TEXT NOT NULL,
                        created_at TEXT NOT NULL,
                        created_by TEXT NOT NULL,
                        UNIQUE (model_id, version)
                    );
                    CREATE TABLE model_files (
                        version_id INTEGER NOT NULL REFERENCES model_versions(id),
                        path TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        sha256 TEXT NOT NULL,
                        blob_path TEXT NOT NULL REFERENCES blobs(path),
                        PRIMARY KEY (version_id, path)
                    );
                    CREATE TABLE lineage (
                        model_version_id INTEGER NOT NULL REFERENCES model_versions(id),
                        dataset_version_id INTEGER NOT NULL REFERENCES dataset_versions(id),
                        dataset_name TEXT NOT NULL,
                        dataset_version INTEGER NOT NULL,
                        digest TEXT NOT NULL,
                        PRIMARY KEY (model_version_id, dataset_version_id)
                    );
                    CREATE TABLE aliases (
                        model_id INTEGER NOT NULL REFERENCES models(id),
                        alias TEXT NOT NULL,
                        version_id INTEGER NOT NULL REFERENCES model_versions(id),
                        updated_at TEXT NOT NULL,
                        updated_by TEXT NOT NULL,
                        PRIMARY KEY (model_id, alias)
                    );
                    CREATE TABLE alias_history (
                        id INTEGER PRIMARY KEY,
                        model_id INTEGER NOT NULL REFERENCES models(id),
                        alias TEXT NOT NULL,
                        from_version INTEGER,
                        to_version INTEGER NOT NULL,
                        changed_at TEXT NOT NULL,
                        changed_by TEXT NOT NULL
                    );

                    CREATE TABLE rotations (
                        id INTEGER PRIMARY KEY,
                        target_version INTEGER NOT NULL REFERENCES key_versions(version),
                        reencrypt INTEGER NOT NULL,
                        started_at TEXT NOT NULL,
                        finished_at TEXT,
                        started_by TEXT NOT NULL
                    );
                    CREATE TABLE rotation_journal (
                        rotation_id INTEGER NOT NULL REFERENCES rotations(id),
                        blob_path TEXT NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
                        PRIMARY KEY (rotation_id, blob_path)
                    );

                    -- Access control (a later issue) fills these; they live here so one transaction covers both.
                    CREATE TABLE principals (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL UNIQUE,
                        created_at TEXT NOT NULL,
                        disabled INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE TABLE role_bindings (
                        principal_id INTEGER NOT NULL REFERENCES principals(id),
                        role TEXT NOT NULL,
                        scope TEXT NOT NULL,
                        PRIMARY KEY (principal_id, role, scope)
                    );
                    CREATE TABLE token_hashes (
                        hash TEXT PRIMARY KEY,
                        principal_id INTEGER NOT NULL REFERENCES principals(id),
                        created_at TEXT NOT NULL,
                        expires_at TEXT,
                        revoked_at TEXT
                    );
                    """)
        }
        registerAccessMigrations(&migrator)
        CatalogState.registerMigrations(&migrator)
        BlobHeaderRows.registerMigrations(&migrator)
        return migrator
    }
}

/// Timestamps in the catalog: ISO 8601, UTC, second precision.
enum CatalogTime {
    static func now() -> String { Date().formatted(.iso8601) }
}

/// The catalog's current authenticator, replaced when a `--reencrypt` rotation makes a fresh root of trust.
private final class Authenticator: Sendable {
    private let current: Mutex<CatalogState?>

    init(_ state: CatalogState?) { current = Mutex(state) }

    func withLock<T>(_ body: (inout CatalogState?) -> T) -> T { current.withLock { body(&$0) } }
}

/// The newest catalog state (sequence and digest) a process has verified, sealed, found in the audit log or in the
/// host's high-water mark: the state sequence only ever grows, so a state below it, or another state at it, is a
/// rollback (or fork) of the catalog under the running process.
final class StateFloor: Sendable {
    private let newest = Mutex<LoggedState?>(nil)

    /// Refuses `state` when it is older than the floor (or differs at the same sequence); raises the floor to it.
    func admit(_ state: LoggedState) throws {
        try newest.withLock { newest in
            if let floor = newest {
                if state.sequence < floor.sequence {
                    throw VaultError(
                        .tampered,
                        "catalog.sqlite: its state \(state.sequence) is older than state \(floor.sequence) this process already saw (rolled back under a running process); nothing was served"
                    )
                }
                if state.sequence == floor.sequence {
                    guard state.digest == floor.digest else {
                        throw VaultError(
                            .tampered,
                            "catalog.sqlite: its state \(state.sequence) differs from the one this process already saw (forked); nothing was served"
                        )
                    }
                    return
                }
            }
            newest = state
        }
    }

    /// Raises the floor to `state` when it is newer, without judging the current catalog (seeded at open).
    func raise(to state: LoggedState) {
        newest.withLock { newest in
            if newest == nil || newest!.sequence < state.sequence { newest = state }
        }
    }
}

/// Per connection: the `data_version` at which its view of the catalog was last verified, and when. `data_version`
/// changes whenever another connection (another process, an attacker's sqlite3) commits, so an unchanged value
/// means an unchanged database; the one-second limit bounds what an edit bypassing SQLite could go unseen for.
final class VerifiedConnections: Sendable {
    private let seen = Mutex<[ObjectIdentifier: (version: Int, at: ContinuousClock.Instant)]>([:])
    private static let maximumAge = Duration.seconds(1)

    func isCurrent(_ version: Int, _ db: Database) -> Bool {
        let id = ObjectIdentifier(db)
        return seen.withLock { seen in
            guard let entry = seen[id] else { return false }
            return entry.version == version && ContinuousClock.now - entry.at < Self.maximumAge
        }
    }

    func record(_ version: Int, _ db: Database) {
        let id = ObjectIdentifier(db)
        seen.withLock { $0[id] = (version, ContinuousClock.now) }
    }

    static func dataVersion(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0
    }
}
