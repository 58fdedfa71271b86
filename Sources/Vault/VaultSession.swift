public import AccessControl
public import AuditLog
import BlockingWork
public import Foundation

/// One authenticated caller's view of a vault: every operation is authorised with `AccessControl.Policy`
/// before anything else happens, and every attempt (allowed, denied or failed) is appended to the audit log.
///
/// Get one from ``VaultAccess/authenticate(token:requestID:clientAddress:)``. Method names mirror ``Vault``'s.
public struct VaultSession: Sendable {
    /// The door this session came through.
    let access: VaultAccess
    /// Who is calling.
    public let caller: Caller
    /// The request context handed to the vault (principal and request id).
    public let context: RequestContext
    /// The caller's network address, for server requests.
    public let clientAddress: String?

    init(access: VaultAccess, caller: Caller, context: RequestContext, clientAddress: String?) {
        self.access = access
        self.caller = caller
        self.context = context
        self.clientAddress = clientAddress
    }

    var vault: Vault { access.vault }

    /// The vault directory.
    public var root: URL { access.vault.root }

    /// Whether the caller may perform `action` on `resource` (no audit entry; for hiding UI, not for enforcing).
    public func isAllowed(_ action: Action, on resource: Scope = .global) -> Bool {
        Policy.decide(action, on: resource, for: caller.bindings).isAllowed
    }

    /// Authorises `action` on `scope`, records the attempt, runs `body`, and records a failure if it throws.
    ///
    /// - Parameters:
    ///   - resource: the audited resource name (e.g. `model:fraud@3`); defaults to the scope.
    ///   - resolve: for allowed calls, a more precise resource name (say the version an alias points to).
    func perform<T>(
        _ action: Action, on scope: Scope, resource: String? = nil, resolve: (() async -> String?)? = nil,
        _ body: () async throws -> T
    ) async throws -> T {
        var resource = resource ?? Self.resourceName(scope)
        guard Policy.decide(action, on: scope, for: caller.bindings).isAllowed else {
            try await audit(action.rawValue, resource, .denied, detail: "permission denied")
            throw AccessControlError.denied(action, on: scope)
        }
        if let resolve, let precise = await resolve() { resource = precise }
        try await audit(action.rawValue, resource, .allowed)
        let result: T
        do {
            // Vault work blocks (SQLite, files, whole-file decryption): the body's nonisolated parts, task groups
            // included, run on the blocking pool, as the vault actor's own methods do.
            result = try await withTaskExecutorPreference(BlockingExecutor.shared) { try await body() }
        } catch {
            // Error descriptions are fixed, secret-free texts (VaultError, AccessControlError, AuditLogError).
            try? await audit(action.rawValue, resource, .failed, detail: String(describing: error))
            throw error
        }
        // A changed catalog state goes into the log, so restoring an older catalog is caught later.
        try await access.recordState(requestID: context.requestID)
        return result
    }

    func audit(
        _ action: String, _ resource: String, _ outcome: AuditEntry.Outcome, detail: String? = nil
    )
        async throws
    {
        try await access.record(
            principal: caller.principal, action: action, resource: resource, outcome: outcome,
            requestID: context.requestID, clientAddress: clientAddress, detail: detail)
    }

    static func resourceName(_ scope: Scope) -> String {
        scope == .global ? "vault" : scope.description
    }
}
