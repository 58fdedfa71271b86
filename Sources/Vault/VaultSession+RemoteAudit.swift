public import AuditLog
import Crypto
public import Foundation

extension VaultSession {
    /// `audit.append`: records an entry a serving-only pod reports (what it loaded or served) under the caller's
    /// own principal, after the attempt itself is audited. The caller cannot name another principal, a request id
    /// or a time: the session supplies them.
    ///
    /// With `entryID` (the forwarder's id for the entry), a retry of an entry this process already recorded for the
    /// same principal is answered without recording it again: a pod whose attempt timed out after the vault wrote
    /// the entry would otherwise put it in the log twice.
    public func appendAuditEntry(
        action: String, resource: String, outcome: AuditEntry.Outcome, detail: String?, entryID: String? = nil
    ) async throws {
        // One path for one entry and for a batch: the same permission check, audited attempt and entry key.
        try await appendAuditEntries([
            AppendedAuditEntry(action: action, resource: resource, outcome: outcome, detail: detail, entryID: entryID)
        ])
    }
}

/// One entry of an `audit.append` batch (see ``VaultSession/appendAuditEntries(_:)``).
public struct AppendedAuditEntry: Sendable, Equatable {
    /// What happened (checked by the caller's vocabulary).
    public var action: String
    /// What it happened to.
    public var resource: String
    /// How it ended.
    public var outcome: AuditEntry.Outcome
    /// Optional detail.
    public var detail: String?
    /// The sender's id for the entry, so that a retried batch records it once.
    public var entryID: String?

    /// Creates an entry.
    public init(
        action: String, resource: String, outcome: AuditEntry.Outcome, detail: String? = nil, entryID: String? = nil
    ) {
        self.action = action
        self.resource = resource
        self.outcome = outcome
        self.detail = detail
        self.entryID = entryID
    }
}

extension VaultSession {
    /// The most entries one ``appendAuditEntries(_:)`` call records.
    public static let maxAppendBatch = 64

    /// `audit.append` for a batch of entries (1 to ``maxAppendBatch``): one permission check and one audited attempt,
    /// then every entry not recorded before (per principal, id and content, as ``appendAuditEntry(action:resource:outcome:detail:entryID:)``)
    /// is appended in one durable write. A pod forwarding one entry per request topped out at about 115 entries/s
    /// under the per-principal request limit (review 5, deploy F4).
    ///
    /// - Returns: how many entries were recorded now (the rest were recorded by an earlier attempt).
    @discardableResult
    public func appendAuditEntries(_ batch: [AppendedAuditEntry]) async throws -> Int {
        guard (1...Self.maxAppendBatch).contains(batch.count) else {
            throw VaultError(.invalidReference, "an audit batch holds 1 to \(Self.maxAppendBatch) entries")
        }
        return try await perform(.auditAppend, on: .global, resource: "audit") {
            let table = access.appendedEntries
            let keys = batch.map { entry in
                entry.entryID.map {
                    caller.principal + "\n" + $0 + "\n"
                        + Self.contentDigest(entry.action, entry.resource, entry.outcome, entry.detail)
                }
            }
            // Claimed in one global order (sorted), so two batches holding the same ids in another order never wait
            // for each other (review 8, F1: [X, Y] and [Y, X] at once deadlocked both requests for good).
            var claimed: Set<String> = []
            for key in Set(keys.compactMap { $0 }).sorted() {
                if case .record = await table.begin(key) { claimed.insert(key) }
            }
            // In the batch's order; the same entry twice in one batch is one entry.
            var fresh: [AppendedAuditEntry] = []
            var taken: Set<String> = []
            for (entry, key) in zip(batch, keys) {
                guard let key else {
                    fresh.append(entry)
                    continue
                }
                if claimed.contains(key), taken.insert(key).inserted { fresh.append(entry) }
            }
            do {
                try await access.record(
                    entries: fresh.map { ($0.action, $0.resource, $0.outcome, $0.detail) }, principal: caller.principal,
                    requestID: context.requestID, clientAddress: clientAddress)
            } catch {
                for key in claimed { table.finish(key, of: caller.principal, recorded: false) }
                throw error
            }
            for key in claimed { table.finish(key, of: caller.principal, recorded: true) }
            return fresh.count
        }
    }
}

extension VaultSession {
    /// SHA-256 (hex) of an entry's fields, each length-prefixed so that no two entries share an encoding.
    static func contentDigest(
        _ action: String, _ resource: String, _ outcome: AuditEntry.Outcome, _ detail: String?
    ) -> String {
        var hasher = SHA256()
        for field in [action, resource, outcome.rawValue, detail.map { "+" + $0 } ?? "-"] {
            let bytes = Data(field.utf8)
            hasher.update(data: Data(String(bytes.count).utf8 + [0x3A]))
            hasher.update(data: bytes)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

extension VaultAccess {
    /// A session for the holder of an API token the server has already authenticated: like
    /// ``session(forPrincipal:requestID:clientAddress:)``, but it knows the token, so a token the caller issues
    /// itself is bounded by this one's expiry and revoked with it, as in local mode. Records nothing.
    public func session(
        presenting token: String, requestID: String = UUID().uuidString, clientAddress: String? = nil
    ) throws -> VaultSession {
        let caller = try caller(presenting: token)
        return VaultSession(
            access: self, caller: caller, context: RequestContext(principal: caller.principal, requestID: requestID),
            clientAddress: clientAddress)
    }
}
