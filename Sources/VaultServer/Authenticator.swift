/// An operation a request performs, checked against the caller's roles.
public enum ServerAction: String, Sendable, CaseIterable {
    /// Read the server metadata (`GET /v2`).
    case readServerMetadata = "server.metadata"
    /// Read a model's metadata or readiness.
    case readModelMetadata = "model.metadata"
    /// Run inference on a model.
    case infer = "model.infer"
    /// Run CKKS private inference on a model (encrypted rows in, encrypted scores out).
    case privateInfer = "model.private-infer"
    /// Scrape `/metrics`.
    case readMetrics = "metrics.read"
    /// List models in the registry.
    case listModels = "model.list"
    /// Show one model, its versions and aliases.
    case showModel = "model.show"
    /// Push a new model version.
    case pushModel = "model.push"
    /// Pull a model version re-encrypted for the caller.
    case pullModel = "model.pull"
    /// Move a model alias to another version.
    case moveAlias = "model.alias"
    /// Make a deployment's serving bundle: record the deployment and re-wrap the served version for its identity.
    case deployModel = "model.deploy"
    /// List datasets.
    case listDatasets = "data.list"
    /// Show one dataset.
    case showDataset = "data.show"
    /// Export the audit log.
    case exportAudit = "audit.export"
    /// Read the compliance report.
    case readReport = "report.read"
    /// Add a dataset version (streamed upload).
    case addDataset = "data.add"
    /// Download a dataset version's decrypted files (streamed, plaintext over TLS).
    case getDataset = "data.get"
    /// Verify a model version's signature and digests.
    case verifyModel = "model.verify"
    /// List key versions (no key material).
    case listKeys = "keys.list"
    /// Rotate the vault's keys.
    case rotateKeys = "keys.rotate"
    /// List principals and their bindings.
    case listPrincipals = "user.list"
    /// Add or remove principals.
    case managePrincipals = "user.manage"
    /// Grant or revoke role bindings.
    case manageRoles = "role.manage"
    /// List tokens (ids, owners, expiry; never the tokens).
    case listTokens = "token.list"
    /// Create a token for the caller itself.
    case createOwnToken = "token.create-own"
    /// Create a token for another principal.
    case createToken = "token.create"
    /// Revoke a token: the caller's own at the gateway; the vault session demands `token.revoke` for another's.
    case revokeToken = "token.revoke-own"
    /// Read audit entries and inclusion proofs.
    case readAudit = "audit.read"
    /// Verify the audit log.
    case verifyAudit = "audit.verify"
    /// Append an entry to the audit log (a serving-only pod's record).
    case appendAudit = "audit.append"
    /// Train a model on a vault dataset server-side (the trained model is pushed as `model.push`).
    case train = "train"
    /// Evaluate a model version on a vault dataset server-side (metrics only).
    case evaluate = "evaluate"
    /// Run a model version server-side on rows the caller sends.
    case predict = "predict"
    /// Read the caller's own principal, bindings, permissions and token id and expiry.
    case whoami = "whoami"
}

/// What an action applies to.
public enum ServerResource: Sendable, Hashable {
    /// The server or the whole registry.
    case global
    /// One model.
    case model(String)
    /// One dataset.
    case dataset(String)
}

/// The outcome of checking a bearer token for an action.
public enum AuthorizationDecision: Sendable, Equatable {
    /// The token is valid and its principal may perform the action.
    case allowed(principal: String)
    /// The token is unknown, expired or revoked (HTTP 401).
    case unauthenticated
    /// The token is valid but its principal lacks the permission (HTTP 403).
    case forbidden(principal: String)
}

/// Checks bearer tokens (and, with mutual TLS, client certificates) and permissions; the vault integration
/// implements this with its token hashes, client certificate mappings and role matrix.
public protocol Authenticator: Sendable {
    /// Decides whether the holder of `bearerToken` may perform `action` on `resource`.
    ///
    /// The token is a secret: implementations compare hashes and never log or store it.
    func authorize(
        bearerToken: String, action: ServerAction, resource: ServerResource
    ) async
        -> AuthorizationDecision

    /// Decides whether the holder of the client certificate whose SubjectPublicKeyInfo hashes (SHA-256, lowercase
    /// hex) to `clientCertificateSPKI` may perform `action` on `resource`. The server asks only for a certificate
    /// the TLS handshake verified against its client CA (`--client-ca`).
    ///
    /// Deny by default: a certificate mapped to no principal answers `.unauthenticated`.
    func authorize(
        clientCertificateSPKI: String, action: ServerAction, resource: ServerResource
    ) async -> AuthorizationDecision
}

extension Authenticator {
    /// Certificates authenticate nobody unless the authenticator maps them to principals.
    public func authorize(
        clientCertificateSPKI: String, action: ServerAction, resource: ServerResource
    ) async -> AuthorizationDecision {
        .unauthenticated
    }
}
