public import AccessControl
import Foundation

/// Who a caller is, as the vault sees it: `modelvault whoami` (locally and through `GET /v1/whoami`).
public struct CallerIdentity: Sendable, Codable, Equatable {
    /// The principal's name.
    public var principal: String
    /// Person or service account.
    public var kind: PrincipalKind
    /// Its role bindings now (`role` or `role@scope`).
    public var bindings: [RoleBinding]
    /// What the bindings allow: `action` for a global grant, `action@scope` for a scoped one, in matrix order.
    public var permissions: [String]
    /// The id of the token the caller authenticated with; `nil` for a client certificate.
    public var tokenID: String?
    /// When that token expires (ISO 8601), if it does.
    public var tokenExpiresAt: String?

    /// The permissions `bindings` grant, as listed in ``permissions``.
    public static func permissions(of bindings: [RoleBinding]) -> [String] {
        var listed: [String] = []
        for action in Action.allCases {
            for binding in bindings.sorted(by: { $0.description < $1.description })
            where PermissionMatrix.allows(binding.role, action) {
                let text = binding.scope == .global ? action.rawValue : "\(action.rawValue)@\(binding.scope)"
                if !listed.contains(text) { listed.append(text) }
                if binding.scope == .global { break }
            }
        }
        return listed
    }
}

extension VaultSession {
    /// `whoami`: the caller's principal, bindings, permissions and token (id and expiry, never the token). Every
    /// person and service role may ask (the `audit-writer` role grants nothing but appending); audited like any
    /// read.
    public func whoami() async throws -> CallerIdentity {
        let name = caller.principal
        let tokenID = caller.tokenID.isEmpty ? nil : caller.tokenID
        return try await perform(.whoami, on: .global, resource: "principal:\(name)") {
            try vault.catalog.read { db in
                let principal = try AccessCatalog.principals(db).first { $0.name == name }
                guard let principal else { throw VaultError(.notFound, "no principal named \(name)") }
                let token = try tokenID.flatMap { id in try AccessCatalog.tokens(db).first { $0.id == id } }
                return CallerIdentity(
                    principal: name, kind: principal.kind, bindings: principal.bindings,
                    permissions: CallerIdentity.permissions(of: principal.bindings), tokenID: tokenID,
                    tokenExpiresAt: token?.expiresAt)
            }
        }
    }
}
