/// Where a role binding applies, and what an action is performed on.
public enum Scope: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The whole vault.
    case global
    /// One model (all its versions), by name.
    case model(String)
    /// One dataset (all its versions), by name.
    case dataset(String)

    /// Parses `global`, `model:NAME` or `dataset:NAME` (the `--scope` syntax).
    public init(_ text: String) throws {
        if text == "global" || text == "*" {
            self = .global
            return
        }
        guard let colon = text.firstIndex(of: ":") else { throw AccessControlError.invalidScope }
        let kind = text[..<colon]
        let name = String(text[text.index(after: colon)...])
        guard !name.isEmpty, !name.contains(where: { $0.isWhitespace || $0 == ":" }) else {
            throw AccessControlError.invalidScope
        }
        switch kind {
        case "model": self = .model(name)
        case "dataset": self = .dataset(name)
        default: throw AccessControlError.invalidScope
        }
    }

    /// The `--scope` text: `global`, `model:NAME` or `dataset:NAME`.
    public var description: String {
        switch self {
        case .global: "global"
        case .model(let name): "model:\(name)"
        case .dataset(let name): "dataset:\(name)"
        }
    }

    /// Encodes as its text form, so catalogs and JSON output stay readable.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// Decodes the text form written by `encode(to:)`.
    public init(from decoder: any Decoder) throws {
        try self.init(try decoder.singleValueContainer().decode(String.self))
    }
}

/// A role granted to a principal, globally or on one model or dataset.
public struct RoleBinding: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The granted role.
    public var role: Role
    /// Where the role applies.
    public var scope: Scope

    /// Creates a binding; the default scope is the whole vault.
    public init(role: Role, scope: Scope = .global) {
        self.role = role
        self.scope = scope
    }

    /// `role` or `role@scope` for scoped bindings.
    public var description: String {
        scope == .global ? role.rawValue : "\(role.rawValue)@\(scope)"
    }

    /// Whether this binding can authorise something on `resource`.
    public func covers(_ resource: Scope) -> Bool {
        scope == .global || scope == resource
    }
}
