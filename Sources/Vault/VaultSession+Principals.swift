public import AccessControl
public import Foundation

extension VaultSession {
    /// `user.manage`: adds a principal with one role binding. Issue it a token with ``createToken(for:lifetime:)``.
    @discardableResult
    public func addPrincipal(
        _ name: String, kind: PrincipalKind = .person, binding: RoleBinding
    ) async throws -> Principal {
        try await perform(.userManage, on: .global, resource: "principal:\(name)") {
            try VaultNames.validate(name, kind: "principal name")
            return try vault.catalog.write { db in
                let id = try AccessCatalog.addPrincipal(name, kind: kind, db)
                try AccessCatalog.grant(binding, to: id, db)
                return try AccessCatalog.principals(db).first { $0.name == name }!
            }
        }
    }

    /// `user.list`: every principal and its bindings.
    public func principals() async throws -> [Principal] {
        try await perform(.userList, on: .global, resource: "principals") {
            try vault.catalog.read { db in try AccessCatalog.principals(db) }
        }
    }

    /// `user.manage`: removes a principal (bindings dropped, tokens revoked). The last global admin stays.
    public func removePrincipal(_ name: String) async throws {
        try await perform(.userManage, on: .global, resource: "principal:\(name)") {
            try vault.catalog.write { db in
                let id = try AccessCatalog.requirePrincipal(name, db)
                let isAdmin = try AccessCatalog.bindings(ofPrincipal: id, db).contains(RoleBinding(role: .admin))
                if isAdmin, try AccessCatalog.globalAdminCount(db) <= 1 {
                    throw VaultError(.invalidName, "refusing to remove the last global admin")
                }
                try AccessCatalog.removePrincipal(id, db)
                try ClientCertificatePins.removeAll(of: name, db)
            }
        }
    }

    /// `role.manage`: grants a role binding.
    public func grant(_ binding: RoleBinding, to name: String) async throws {
        try await perform(.roleManage, on: .global, resource: "principal:\(name)") {
            try vault.catalog.write { db in
                try AccessCatalog.grant(binding, to: try AccessCatalog.requirePrincipal(name, db), db)
            }
        }
    }

    /// `role.manage`: revokes a role binding. The last global admin binding stays.
    public func revoke(_ binding: RoleBinding, from name: String) async throws {
        try await perform(.roleManage, on: .global, resource: "principal:\(name)") {
            try vault.catalog.write { db in
                let id = try AccessCatalog.requirePrincipal(name, db)
                if binding == RoleBinding(role: .admin), try AccessCatalog.globalAdminCount(db) <= 1 {
                    throw VaultError(.invalidName, "refusing to revoke the last global admin")
                }
                if binding == RoleBinding(role: .admin) {
                    try AccessCatalog.requireAdminAccessRemains(losingAdmin: id, db)
                }
                guard try AccessCatalog.revoke(binding, from: id, db) else {
                    throw VaultError(.notFound, "\(name) has no binding \(binding)")
                }
            }
        }
    }

    /// `token.create` (or `token.create-own` for the caller itself): a new API token, returned once.
    ///
    /// A token the caller issues to itself never outlives the token it was created with (its expiry is the
    /// earlier of the two) and is revoked with it; its scope is the principal's, as the creator's is. A token an
    /// admin issues to another principal is an administrative grant and stands on its own.
    ///
    /// - Parameter lifetime: seconds until expiry; `nil` for none (compliance reports flag such tokens).
    public func createToken(for name: String, lifetime: TimeInterval? = nil) async throws -> IssuedToken {
        let action: Action = name == caller.principal ? .tokenCreateOwn : .tokenCreate
        return try await perform(action, on: .global, resource: "principal:\(name)") {
            let generated = APIToken.generate()
            let requested = lifetime.map { Date().addingTimeInterval($0) }
            let parent = name == caller.principal && !caller.tokenID.isEmpty ? caller.tokenID : nil
            let info = try vault.catalog.write { db in
                var expiresAt = requested
                if let parent, case .some(.some(let parentExpiry)) = try AccessCatalog.tokenExpiry(id: parent, db) {
                    expiresAt = min(requested ?? parentExpiry, parentExpiry)
                }
                try AccessCatalog.storeToken(
                    generated.hash, principal: try AccessCatalog.requirePrincipal(name, db), expiresAt: expiresAt,
                    parent: parent, db)
                return try AccessCatalog.tokens(db).first { $0.id == generated.hash.id }!
            }
            try await audit(action.rawValue, "token:\(info.id)", .allowed, detail: "issued to \(name)")
            return IssuedToken(token: generated.token, info: info)
        }
    }

    /// `token.list`: every token's id, owner, expiry and state (never the token or its hash).
    public func tokens() async throws -> [TokenInfo] {
        try await perform(.tokenList, on: .global, resource: "tokens") {
            try vault.catalog.read { db in try AccessCatalog.tokens(db) }
        }
    }

    /// `token.revoke` (or `token.revoke-own` for one of the caller's tokens).
    public func revokeToken(id: String) async throws {
        let owner = try vault.catalog.read { db in try AccessCatalog.tokenOwner(id: id, db) }
        let action: Action = owner == caller.principal ? .tokenRevokeOwn : .tokenRevoke
        try await perform(action, on: .global, resource: "token:\(id)") {
            guard try vault.catalog.write({ db in try AccessCatalog.revokeToken(id: id, db) }) != nil else {
                throw VaultError(.notFound, "no token with id \(id)")
            }
        }
    }
}
