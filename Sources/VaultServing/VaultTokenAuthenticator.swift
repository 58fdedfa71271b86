public import AccessControl
import Foundation
public import Vault
public import VaultServer

/// Checks bearer tokens against the vault's token hashes and authorises requests with the vault's role
/// matrix, the same policy the CLI enforces.
///
/// A resolved token (its principal and role bindings) is cached for `cacheLifetime`, keyed by the token's
/// hash, so a busy server does not read the catalog on every request; revoking a token, letting it expire or
/// changing a principal's roles takes effect within that time. Unknown tokens are never cached.
public struct VaultTokenAuthenticator: Authenticator {
    let access: VaultAccess
    let cache: CallerCache<TokenHash>
    let certificates: CallerCache<String>

    /// Creates an authenticator over an opened vault.
    public init(access: VaultAccess, cacheLifetime: Duration = .seconds(2)) {
        self.access = access
        self.cache = CallerCache(lifetime: cacheLifetime)
        self.certificates = CallerCache(lifetime: cacheLifetime)
    }

    /// Decides whether the holder of `bearerToken` may perform `action` on `resource`.
    public func authorize(
        bearerToken: String, action: ServerAction, resource: ServerResource
    ) async -> AuthorizationDecision {
        guard APIToken.isWellFormed(bearerToken) else { return .unauthenticated }
        let key = APIToken.hash(bearerToken)
        let caller: Caller
        if let cached = await cache.caller(for: key) {
            caller = cached
        } else {
            // Unknown, expired, revoked, or a catalog that cannot be read: fail closed.
            guard let resolved = try? access.caller(presenting: bearerToken) else { return .unauthenticated }
            await cache.store(resolved, for: key)
            caller = resolved
        }
        return Self.decide(action, on: resource, for: caller)
    }

    /// Decides for the holder of a verified client certificate, by the principal its public key is mapped to
    /// (`modelvault user cert add`). Unmapped, expired or removed mappings, and a catalog that fails
    /// authentication, authenticate nobody; the resolved caller is cached like a token's.
    public func authorize(
        clientCertificateSPKI: String, action: ServerAction, resource: ServerResource
    ) async -> AuthorizationDecision {
        let caller: Caller
        if let cached = await certificates.caller(for: clientCertificateSPKI) {
            caller = cached
        } else {
            guard let resolved = try? access.caller(presentingCertificateSPKI: clientCertificateSPKI) else {
                return .unauthenticated
            }
            await certificates.store(resolved, for: clientCertificateSPKI)
            caller = resolved
        }
        return Self.decide(action, on: resource, for: caller)
    }

    static func decide(_ action: ServerAction, on resource: ServerResource, for caller: Caller) -> AuthorizationDecision
    {
        let decision = Policy.decide(action.vaultAction, on: resource.scope, for: caller.bindings)
        return decision.isAllowed ? .allowed(principal: caller.principal) : .forbidden(principal: caller.principal)
    }
}

/// Resolved callers by token hash (or client certificate key hash), each for a bounded time.
actor CallerCache<Key: Hashable & Sendable> {
    private let lifetime: Duration
    private var entries: [Key: (caller: Caller, expires: ContinuousClock.Instant)] = [:]

    init(lifetime: Duration) {
        self.lifetime = lifetime
    }

    func caller(for key: Key) -> Caller? {
        guard let entry = entries[key] else { return nil }
        guard entry.expires > .now else {
            entries[key] = nil
            return nil
        }
        return entry.caller
    }

    func store(_ caller: Caller, for key: Key) {
        // Bounded: a flood of distinct valid tokens cannot grow the cache without limit.
        if entries.count >= 10_000 { entries.removeAll(keepingCapacity: true) }
        entries[key] = (caller, .now + lifetime)
    }
}
