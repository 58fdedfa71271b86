import AccessControl
public import AuditLog
import Crypto
public import Foundation
public import Logging
public import Vault
public import VaultServer

/// The models of a checked serving bundle, for a serving-only server: fixed for the life of the process (a new
/// deployment brings a new bundle). Every version was verified when the bundle was opened.
public struct BundleModelCatalog: ModelCatalog {
    let entries: [CatalogEntry]

    /// Builds the served form of each version in `bundle`. A version that cannot be served (an unscanned one
    /// without `allowUnscanned`, or files that are not a model) is reported unverified and never served.
    public init(
        bundle: ServingBundle, allowUnscanned: Bool = false, logger: Logger = Logger(label: "modelvault.catalog")
    ) {
        entries = bundle.models.map { model in
            do {
                guard model.scanned || allowUnscanned else { throw ScanGateRefusal.neverScanned }
                return .verified(
                    try VaultModelCatalog.servedModel(name: model.name, version: model.version, files: model.files))
            } catch {
                logger.error(
                    "refusing to serve a bundled model version",
                    metadata: [
                        "model": .string("\(model.name)@\(model.version)"),
                        "reason": .string(String(describing: error)),
                    ])
                return .unverified(name: model.name, version: String(model.version))
            }
        }
    }

    /// The bundled versions.
    public func currentModels() async throws -> [CatalogEntry] { entries }
}

/// Bearer tokens checked against a serving bundle's token snapshot, authorised with the vault's role matrix.
public struct BundleTokenAuthenticator: Authenticator {
    let bundle: ServingBundle

    /// Creates an authenticator over a checked bundle.
    public init(bundle: ServingBundle) {
        self.bundle = bundle
    }

    /// Decides whether the holder of `bearerToken` may perform `action` on `resource`.
    public func authorize(
        bearerToken: String, action: ServerAction, resource: ServerResource
    ) async -> AuthorizationDecision {
        guard let caller = try? bundle.caller(presenting: bearerToken) else { return .unauthenticated }
        let decision = Policy.decide(action.vaultAction, on: resource.scope, for: caller.bindings)
        return decision.isAllowed ? .allowed(principal: caller.principal) : .forbidden(principal: caller.principal)
    }
}

/// The audit trail of a serving-only pod: an append-only RFC 6962 log of its own in a writable directory, its
/// checkpoints signed with a key derived from the deployment identity (so the pod needs no vault key). The pod
/// holds that key, so this log is tamper-evident to a verifier holding its checkpoints, not proof against the pod
/// itself: export its checkpoints (or forward entries to the vault) to pin it.
public struct BundleAuditLog: AuditSink {
    /// The log.
    public let log: AuditLog
    /// Called with each entry after it is durably in the local log, e.g. to queue it for the vault's log
    /// (`serve --audit-server`); it must not wait for the network.
    public var forward: (@Sendable (AuditEntry) async -> Void)?
    /// Extra metrics for `GET /metrics` (the forwarder's counters).
    public var metrics: (@Sendable () async -> String)?

    /// Opens (or creates) the log in `directory` for `deployment`.
    public init(directory: URL, deployment: String, identity: String) throws {
        log = try AuditLog(
            directory: directory, signer: Self.signingKey(identity: identity),
            origin: "modelvault-deployment/\(deployment)", checkpointInterval: 256)
    }

    /// The checkpoint signing key, derived from the deployment identity so that nothing else needs storing.
    static func signingKey(identity: String) throws -> Curve25519.Signing.PrivateKey {
        // The identity lines only, so a changed comment in the file keeps the same key.
        let lines = identity.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        let seed = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(lines.joined(separator: "\n").utf8)),
            info: Data("modelvault deployment audit checkpoint key v1".utf8), outputByteCount: 32)
        return try seed.withUnsafeBytes { try Curve25519.Signing.PrivateKey(rawRepresentation: Data($0)) }
    }

    /// Appends one entry for a served request, durably.
    public func record(_ record: RequestAuditRecord) async throws {
        try await append(
            AuditEntry(
                principal: record.principal ?? "anonymous",
                action: record.action?.vaultAction.rawValue ?? "server.request",
                resource: VaultRequestAuditor.resource(of: record),
                outcome: VaultRequestAuditor.outcome(of: record.status), requestID: record.requestID,
                clientAddress: record.clientAddress, detail: "\(record.method) \(record.route) \(record.status)"))
    }

    /// Records one load of a bundled version.
    public func recordLoad(of model: ServingBundle.Model, served: Bool) async throws {
        try await append(
            AuditEntry(
                principal: "server", action: "model.load", resource: "model:\(model.name)@\(model.version)",
                outcome: served ? .allowed : .failed, requestID: UUID().uuidString,
                detail: served ? "verified from the serving bundle and decrypted into memory" : "not served"))
    }

    /// The forwarder's counters, if any.
    public func metricsExposition() async -> String { await metrics?() ?? "" }

    /// The local log first (fail closed), then the forward hook.
    private func append(_ entry: AuditEntry) async throws {
        _ = try await log.append(entry)
        await forward?(entry)
    }

    /// The `POST /v1/audit/entries` body for a pod's entry: the vault records it under the pod's own principal, so
    /// the caller it served goes into the detail. Actions outside the route's vocabulary become `serving.NAME`, and
    /// every field is escaped (``LogText/escaped(_:)``) and clipped to the route's bounds in bytes, so whatever a
    /// caller sends, the vault accepts the entry rather than refusing and dropping it (review 4, F5 and F6).
    public static func appendRequest(for entry: AuditEntry) -> AppendAuditRequest {
        var action = entry.action
        if !AppendAuditRequest.allowedActions.contains(action) {
            let name = String(
                String.UnicodeScalarView(
                    action.lowercased().unicodeScalars.filter {
                        ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "-"
                    }))
            action = String(("serving." + (name.isEmpty ? "request" : name)).prefix(64))
        }
        func printable(_ text: String, _ limit: Int) -> String {
            LogText.clipped(LogText.escaped(text), toUTF8Bytes: limit)
        }
        var detail = "by \(entry.principal); request \(entry.requestID)"
        if let client = entry.clientAddress { detail += "; client \(client)" }
        if let more = entry.detail { detail += "; \(more)" }
        let resource = printable(entry.resource, AppendAuditRequest.maxResourceBytes)
        return AppendAuditRequest(
            action: action, resource: resource.isEmpty ? "pod" : resource, outcome: entry.outcome.rawValue,
            detail: printable(detail, AppendAuditRequest.maxDetailBytes))
    }
}
