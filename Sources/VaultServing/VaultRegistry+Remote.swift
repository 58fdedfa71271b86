import AccessControl
import AuditLog
import Foundation
import Vault
public import VaultServer

/// One entry of `GET /v1/audit/tail`.
struct IndexedAuditEntry: Encodable, Sendable {
    var index: UInt64
    var entry: AuditEntry
}

/// A freshly issued token: shown once.
struct IssuedTokenRecord: Encodable, Sendable {
    var token: String
    var info: TokenInfo
}

/// A confirmation for operations that return nothing else.
struct DoneRecord: Encodable, Sendable {
    var done: String
}

/// The result of `model alias --delete`: the alias and the version it pointed at.
struct AliasRemovedRecord: Encodable, Sendable {
    var model: String
    var removed: String
    var version: String
}

/// The result of `keys rotate`.
struct RotationRecord: Encodable, Sendable {
    var keyVersion: Int
    var filesMoved: Int
    var reencrypted: Bool
}

extension VaultRegistry {
    /// Runs a remote CLI command in a session for `principal` (authorise, audit, act) and returns its record.
    public func perform(
        _ operation: RemoteOperation, principal: String, requestID: String
    ) async throws -> RegistryRecord {
        try await mappingErrors {
            if case .createToken(let name, let expiresIn, let presented) = operation {
                // The presented token, so a self-issued token is bounded by it as in local mode.
                let session = try access.session(presenting: presented, requestID: requestID)
                guard session.caller.principal == principal else { throw RegistryError.forbidden }
                if let expiresIn, !(expiresIn > 0 && expiresIn <= 100 * 365 * 86_400) { throw RegistryError.invalid }
                let issued = try await session.createToken(for: name ?? principal, lifetime: expiresIn)
                return IssuedTokenRecord(token: issued.token, info: issued.info)
            }
            if case .whoami(let presented?) = operation {
                // The presented token names its id and expiry; the gateway already authenticated it.
                let session = try access.session(presenting: presented, requestID: requestID)
                guard session.caller.principal == principal else { throw RegistryError.forbidden }
                return try await session.whoami()
            }
            let session = try access.session(forPrincipal: principal, requestID: requestID)
            switch operation {
            case .verifyModel(let name, let version):
                return try await session.verifyModel(try Self.modelReference(name, version))
            case .showDatasetVersion(let name, let version):
                return try await session.dataset(try Self.datasetReference(name, version))
            case .listKeys:
                return try await session.keyVersions()
            case .listKeyFiles(let version):
                return try await session.files(wrappedFor: version)
            case .removeAlias(let model, let alias):
                let version = try await session.removeAlias(alias, ofModel: model)
                return AliasRemovedRecord(model: model, removed: alias.lowercased(), version: String(version))
            case .rotateKeys(let request):
                // The route refused a passphrase in the body; rotate with the one this server was unlocked with.
                guard request.passphrase == nil else { throw RegistryError.invalid }
                guard let passphrase = rotationPassphrase else { throw RegistryError.noPassphraseHeld }
                let report = try await session.rotateKeys(passphrase: passphrase, reencrypt: request.reencrypt ?? false)
                return RotationRecord(
                    keyVersion: report.keyVersion, filesMoved: report.filesMoved, reencrypted: report.reencrypted)
            case .listPrincipals:
                return try await session.principals()
            case .addPrincipal(let request):
                let kind: PrincipalKind
                switch request.kind {
                case nil, "person": kind = .person
                case "service": kind = .service
                default: throw RegistryError.invalid
                }
                return try await session.addPrincipal(
                    request.name, kind: kind, binding: try Self.binding(request.binding))
            case .removePrincipal(let name):
                try await session.removePrincipal(name)
                return DoneRecord(done: "removed \(name)")
            case .grantRole(let name, let text):
                let binding = try Self.binding(text)
                try await session.grant(binding, to: name)
                return DoneRecord(done: "granted \(binding) to \(name)")
            case .revokeRole(let name, let text):
                let binding = try Self.binding(text)
                try await session.revoke(binding, from: name)
                return DoneRecord(done: "revoked \(binding) from \(name)")
            case .listTokens:
                return try await session.tokens()
            case .revokeToken(let id):
                try await session.revokeToken(id: id)
                return DoneRecord(done: "revoked token \(id)")
            case .auditTail(let count):
                return try await session.auditTail(count).map { IndexedAuditEntry(index: $0.index, entry: $0.entry) }
            case .auditTailFrom(let start, let count, let wait):
                // The follower's own polls (this request's read, and the gateway's record of the earlier ones) do
                // not end the wait, or an idle follower would poll as fast as it can.
                let ownPoll: @Sendable (AuditEntry) -> Bool = { entry in
                    entry.principal == principal && entry.action == Action.auditRead.rawValue
                        && (entry.requestID == requestID || entry.detail?.hasPrefix("GET /v1/audit/tail ") == true)
                }
                return try await session.auditEntries(
                    from: start, limit: count, waitingUpTo: .seconds(wait), ignoring: ownPoll
                ).map { IndexedAuditEntry(index: $0.index, entry: $0.entry) }
            case .auditCheckpoint(let sizes):
                return try await session.auditConsistencyEvidence(trustedSizes: sizes)
            case .auditVerify:
                let report = try await session.verifyAuditLog()
                return AuditVerificationSummary(
                    ok: report.problemCount == 0, entryCount: report.entryCount,
                    checkpointCount: report.checkpointCount, latestCheckpointSize: report.latestCheckpoint?.size,
                    problemCount: report.problemCount, problems: report.problems.prefix(20).map { "\($0)" },
                    firstBadIndex: report.firstBadIndex, root: report.recomputedRoot.base64,
                    entriesAfterLatestCheckpoint: report.uncheckpointedEntries,
                    unfinishedTail: report.hasUnfinishedTail,
                    auditKey: session.auditVerifier.vkey)
            case .auditProof(let index):
                return try await session.auditProof(index: index)
            case .appendAudit(let request):
                try request.validate()
                guard let outcome = AuditEntry.Outcome(rawValue: request.outcome) else { throw RegistryError.invalid }
                try await session.appendAuditEntry(
                    action: request.action, resource: request.resource, outcome: outcome, detail: request.detail,
                    entryID: request.id)
                return DoneRecord(done: "recorded")
            case .appendAuditBatch(let batch):
                try batch.validate()
                let entries = try batch.entries.map { request in
                    guard let outcome = AuditEntry.Outcome(rawValue: request.outcome) else {
                        throw RegistryError.invalid
                    }
                    return AppendedAuditEntry(
                        action: request.action, resource: request.resource, outcome: outcome, detail: request.detail,
                        entryID: request.id)
                }
                return AppendAuditBatchResult(recorded: try await session.appendAuditEntries(entries))
            case .train(let dataset, let body):
                return try await train(dataset: dataset, body: body, session: session)
            case .evaluate(let model, let version, let request):
                return try await evaluate(model: model, version: version, request, session: session)
            case .predict(let model, let version, let request):
                return try await predict(model: model, version: version, request, session: session)
            case .createToken:
                throw RegistryError.invalid
            case .whoami:
                // A client certificate: no token to describe.
                return try await session.whoami()
            }
        }
    }

    /// `role` or `role@scope`, as `role grant` and `user list` write it.
    static func binding(_ text: String) throws -> RoleBinding {
        let parts = text.split(separator: "@", maxSplits: 1).map(String.init)
        guard let roleText = parts.first, let role = try? Role(parsing: roleText) else { throw RegistryError.invalid }
        guard parts.count == 2 else { return RoleBinding(role: role) }
        guard let scope = try? Scope(parts[1]) else { throw RegistryError.invalid }
        return RoleBinding(role: role, scope: scope)
    }
}
