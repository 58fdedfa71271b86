public import AccessControl
import Foundation

/// Whether a principal is a person or a service account (a deployment, a CI job, the server).
public enum PrincipalKind: String, Sendable, Codable, CaseIterable {
    /// A person.
    case person
    /// A service account.
    case service
}

/// Someone or something that acts on a vault: a name, a kind, and role bindings.
public struct Principal: Sendable, Codable, Equatable {
    /// The principal's unique name.
    public var name: String
    /// Person or service account.
    public var kind: PrincipalKind
    /// When it was added (ISO 8601).
    public var createdAt: String
    /// Its role bindings (global or scoped).
    public var bindings: [RoleBinding]
}

/// A stored API token as listed: never the token itself, nor its hash.
public struct TokenInfo: Sendable, Codable, Equatable {
    /// The public token id (for `token revoke ID`).
    public var id: String
    /// The principal it authenticates.
    public var principal: String
    /// When it was created (ISO 8601).
    public var createdAt: String
    /// When it expires, if ever (ISO 8601).
    public var expiresAt: String?
    /// When it was revoked, if it was (ISO 8601).
    public var revokedAt: String?

    /// `active`, `expired` or `revoked`.
    public var state: String {
        if revokedAt != nil { return "revoked" }
        if let expiresAt, let date = AccessTime.parse(expiresAt), date <= Date() { return "expired" }
        return "active"
    }
}

/// A freshly created token: the secret is shown once and never stored.
public struct IssuedToken: Sendable {
    /// The token text (`mvt_...`). Show it to the user once; it cannot be recovered.
    public var token: String
    /// Its public description.
    public var info: TokenInfo
}

/// The authenticated caller of a vault operation: a principal and its role bindings.
public struct Caller: Sendable, Equatable {
    /// The principal's name.
    public var principal: String
    /// Its role bindings at authentication time.
    public var bindings: [RoleBinding]
    /// The id of the token it authenticated with.
    public var tokenID: String
}
