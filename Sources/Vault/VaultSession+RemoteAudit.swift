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
        try await perform(.auditAppend, on: .global, resource: "audit") {
            guard let entryID else { return try await audit(action, resource, outcome, detail: detail) }
            // The content is part of the key: an id reused for another entry records it instead of dropping it.
            let key = caller.principal + "\n" + entryID + "\n" + Self.contentDigest(action, resource, outcome, detail)
            let entries = access.appendedEntries
            guard case .record = await entries.begin(key) else { return }
            do {
                try await audit(action, resource, outcome, detail: detail)
                entries.finish(key, recorded: true)
            } catch {
                entries.finish(key, recorded: false)
                throw error
            }
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
