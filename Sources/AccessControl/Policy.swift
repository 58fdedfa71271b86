/// The outcome of a policy check.
public enum Decision: Sendable, Equatable {
    /// Allowed; names the binding that granted it.
    case allowed(by: RoleBinding)
    /// Denied: no binding grants the action on the resource (deny by default).
    case denied

    /// Whether the action may proceed.
    public var isAllowed: Bool {
        if case .allowed = self { return true }
        return false
    }
}

/// One policy for the CLI and the server: deny by default, grant by role and scope.
public enum Policy {
    /// Decides whether `bindings` allow `action` on `resource`.
    ///
    /// - A global binding applies everywhere; a `model:NAME` or `dataset:NAME` binding applies only to that resource.
    /// - Vault-wide actions (keys, users, tokens, audit, reports) are checked against `.global`: only global
    ///   bindings grant them.
    /// - Listing actions (`model.list`, `data.list`) are allowed if any binding of a matching kind grants them;
    ///   the caller then filters rows with `visible(_:for:bindings:)`.
    /// - A resource of the wrong kind for the action (say `data.get` on a model) is denied.
    public static func decide(_ action: Action, on resource: Scope, for bindings: [RoleBinding]) -> Decision {
        let granting = bindings.filter { PermissionMatrix.allows($0.role, action) }
        let match: RoleBinding?
        switch action.resourceKind {
        case .vault:
            match = granting.first { $0.scope == .global }
        case .model:
            guard case .model = resource else { return .denied }
            match = granting.first { $0.covers(resource) }
        case .dataset:
            guard case .dataset = resource else { return .denied }
            match = granting.first { $0.covers(resource) }
        case .modelListing:
            match = granting.first {
                if case .dataset = $0.scope { return false }
                return resource == .global || $0.covers(resource)
            }
        case .datasetListing:
            match = granting.first {
                if case .model = $0.scope { return false }
                return resource == .global || $0.covers(resource)
            }
        case .caller:
            match = granting.first
        }
        return match.map { .allowed(by: $0) } ?? .denied
    }

    /// Throws `AccessControlError.denied` unless `bindings` allow `action` on `resource`.
    @discardableResult
    public static func authorize(
        _ action: Action, on resource: Scope, for bindings: [RoleBinding]
    ) throws
        -> RoleBinding
    {
        guard case .allowed(let binding) = decide(action, on: resource, for: bindings) else {
            throw AccessControlError.denied(action, on: resource)
        }
        return binding
    }

    /// The subset of `resources` the caller may see through a listing or metadata action.
    ///
    /// For `model.list` pass `.model(name)` rows, for `data.list` `.dataset(name)` rows: a scoped binding
    /// shows only its own resource, a global one shows every row.
    public static func visible(_ resources: [Scope], for action: Action, bindings: [RoleBinding]) -> [Scope] {
        resources.filter { resource in
            bindings.contains { PermissionMatrix.allows($0.role, action) && $0.covers(resource) }
        }
    }

    /// Every role a set of bindings holds globally (for reports: who holds admin everywhere).
    public static func globalRoles(in bindings: [RoleBinding]) -> Set<Role> {
        Set(bindings.filter { $0.scope == .global }.map(\.role))
    }
}
