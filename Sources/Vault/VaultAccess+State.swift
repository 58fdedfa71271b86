import AuditLog
import Crypto
import Foundation

/// A catalog state recorded in the audit log: its sequence number and the digest of its index.
struct LoggedState: Sendable, Equatable {
    var sequence: Int64
    var digest: Data

    /// The action of the audit entries that record a state.
    static let action = "state.commit"

    var detail: String { "sequence=\(sequence) digest=\(Array(digest).hexString)" }

    init(sequence: Int64, digest: Data) {
        self.sequence = sequence
        self.digest = digest
    }

    /// Parses an entry's `detail`; `nil` for anything else.
    init?(detail: String?) {
        guard let detail else { return nil }
        var fields: [Substring: Substring] = [:]
        for part in detail.split(separator: " ") {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[pair[0]] = pair[1] }
        }
        guard let sequence = fields["sequence"].flatMap({ Int64($0) }), let hex = fields["digest"],
            let bytes = [UInt8](hex: String(hex)), bytes.count == 32
        else { return nil }
        self.init(sequence: sequence, digest: Data(bytes))
    }

    /// The newest states recorded in the log at `directory`: the highest sequence among the last few `state.commit`
    /// entries (processes race to record, so the very last one may be a little older than another).
    static func newest(in directory: URL) throws -> LoggedState? {
        newest(in: try AuditLogReader(directory: directory).records())
    }

    /// ``newest(in:)`` over records already read (and checked by the open log).
    static func newest(in records: [AuditRecord]) -> LoggedState? {
        var found: [LoggedState] = []
        for record in records.reversed() {
            guard let entry = try? record.entry(), entry.action == action, entry.principal == "vault",
                let state = LoggedState(detail: entry.detail)
            else { continue }
            found.append(state)
            if found.count == 16 { break }
        }
        return found.max { $0.sequence < $1.sequence }
    }
}

extension VaultAccess {
    /// Refuses a catalog whose sealed state is older than (or forks from) the newest state recorded in the audit
    /// log: the catalog and its root restored together from an older copy are self-consistent, the log is not.
    /// `records` are the log's records as the open log checked them (`nil` when it could not open: then the file is
    /// read as it is, and only `audit verify` runs).
    static func checkAgainstLog(_ vault: Vault, records: [AuditRecord]?, directory: URL) throws -> LoggedState? {
        guard let current = try vault.catalog.read({ db in try CatalogState.root(db) }) else {
            throw VaultError(.tampered, "state_root: missing")
        }
        return try checkAgainstLog(
            current: LoggedState(sequence: current.sequence, digest: current.digest), records: records,
            lenient: records == nil, directory: directory)
    }

    /// ``checkAgainstLog(_:records:directory:)`` for a catalog state already read (`vault check` reads it unverified).
    /// `lenient`: the log could not be opened or checked, so nothing but `audit verify` will run; a log that cannot be
    /// read is then left for it to report rather than refused here.
    static func checkAgainstLog(
        current: LoggedState, records: [AuditRecord]? = nil, lenient: Bool = false, directory: URL
    ) throws -> LoggedState? {
        // A log the vault could not open or check is not judged here: its content is not bound to the audit key (a
        // planted state would name the catalog as rolled back), only `audit verify` runs, and it reports the log.
        if lenient { return nil }
        let logged = records.map { LoggedState.newest(in: $0) } ?? ((try? LoggedState.newest(in: directory)) ?? nil)
        guard let logged else {
            // The vault logs every state it seals (bootstrap onwards). A catalog sealed past its first state with no
            // state.commit in the log means the log was deleted or cut back: the rollback check must not be skipped.
            if current.sequence > 1 {
                throw VaultError(
                    .tampered,
                    "audit/: no state.commit entry records catalog state \(current.sequence) (the audit log was deleted or cut back)"
                )
            }
            return nil
        }
        do {
            if current.sequence < logged.sequence {
                throw VaultError(
                    .tampered,
                    "catalog.sqlite: its state \(current.sequence) is older than state \(logged.sequence) recorded in the audit log (rolled back)"
                )
            }
            if current.sequence == logged.sequence, current.digest != logged.digest {
                throw VaultError(
                    .tampered,
                    "catalog.sqlite: its state \(current.sequence) differs from the one recorded in the audit log (forked)"
                )
            }
        }
        return logged
    }

    /// The catalog's sealed state as the log records it.
    static func currentState(_ vault: Vault) throws -> LoggedState? {
        try vault.catalog.read { db in try CatalogState.root(db) }.map {
            LoggedState(sequence: $0.sequence, digest: $0.digest)
        }
    }

    /// Appends a `state.commit` entry when the catalog's sealed state moved since this process last recorded one,
    /// so a later rollback of the catalog is caught against the log.
    ///
    /// The catalog commits before its entry is appended, so an append that fails (review 8: a record planted where
    /// the next one goes, blanked afterwards) must not leave the new state known nowhere outside the catalog: the
    /// host's mark is raised to it first, and a failed append is retried by the next call (at the latest, `close`).
    func recordState(requestID: String) async throws {
        guard let log else { return }
        guard let root = try vault.catalog.read({ db in try CatalogState.root(db) }) else { return }
        let state = LoggedState(sequence: root.sequence, digest: root.digest)
        let previous = loggedState.withLock { last -> LoggedState?? in
            guard let previous = last, previous.sequence >= state.sequence else {
                defer { last = state }
                return .some(last)
            }
            return .none
        }
        guard case .some(let before) = previous else { return }
        do {
            if let highWater {
                try highWater.mark.raise(
                    to: HighWaterMark.Mark(state: state, logSize: await log.size), key: highWater.key)
            }
            let index = try await log.append(
                AuditEntry(
                    principal: "vault", action: LoggedState.action, resource: "catalog", outcome: .allowed,
                    requestID: requestID, detail: state.detail))
            if let highWater {
                try highWater.mark.raise(
                    to: HighWaterMark.Mark(state: state, logSize: index + 1), key: highWater.key)
            }
        } catch {
            loggedState.withLock { last in
                if last == state { last = before }
            }
            throw error
        }
    }
}

extension VaultAccess {
    /// Retires a root's high-water mark on this host, for a `--reencrypt` rotation in progress (`nil`: no mark kept).
    var markRetirement: (@Sendable (SymmetricKey) throws -> Void)? {
        guard let mark = highWater?.mark else { return nil }
        return { rootKey in try mark.retire(key: rootKey) }
    }

    /// Adds a `--reencrypt` rotation's retired key versions to this host's list (`nil`: no mark kept).
    var recipientRetirement: (@Sendable ([String]) throws -> Void)? {
        guard let mark = highWater?.mark else { return nil }
        return { recipients in try mark.retire(recipients: recipients) }
    }

    /// After a `--reencrypt` rotation made a new root of trust: retires the old root's mark on this host (a copy of
    /// the vault from before the rotation, sealed under the old root, is then refused here) and raises the new
    /// root's mark to the current state.
    func followTrustRoot() async throws {
        let key = await vault.highWaterKey()
        guard let current = highWater, current.key != key else { return }
        try current.mark.retire(key: current.key)
        highWaterState.withLock { $0 = (current.mark, key) }
        if let state = try Self.currentState(vault) {
            try current.mark.raise(to: HighWaterMark.Mark(state: state, logSize: await log?.size ?? 0), key: key)
        }
    }
}
