/// An access-control failure. Descriptions are fixed texts: they never carry tokens or hashes.
public struct AccessControlError: Error, Equatable, Sendable, CustomStringConvertible {
    private enum Code: Equatable, Sendable {
        case unknownRole, invalidScope, invalidExpiry, invalidToken, expiredToken, revokedToken, denied
    }
    private let code: Code

    /// The action and resource of a denial (public names, never secrets), if this is a denial.
    public let deniedAction: Action?
    /// The resource of a denial, if this is a denial.
    public let deniedResource: Scope?

    private init(_ code: Code, action: Action? = nil, resource: Scope? = nil) {
        self.code = code
        self.deniedAction = action
        self.deniedResource = resource
    }

    /// A role name that is not one of `Role.allCases`.
    public static let unknownRole = AccessControlError(.unknownRole)
    /// A scope that is not `global`, `model:NAME` or `dataset:NAME`.
    public static let invalidScope = AccessControlError(.invalidScope)
    /// An expiry that is not a positive number followed by s, m, h, d or w (e.g. `30d`).
    public static let invalidExpiry = AccessControlError(.invalidExpiry)
    /// A token that is malformed or matches no stored token.
    public static let invalidToken = AccessControlError(.invalidToken)
    /// A token past its expiry.
    public static let expiredToken = AccessControlError(.expiredToken)
    /// A token that was revoked.
    public static let revokedToken = AccessControlError(.revokedToken)

    /// The caller's bindings do not allow `action` on `resource`.
    public static func denied(_ action: Action, on resource: Scope) -> AccessControlError {
        AccessControlError(.denied, action: action, resource: resource)
    }

    /// Whether this is a policy denial (as opposed to an authentication failure or bad input).
    public var isDenial: Bool { code == .denied }

    /// A fixed text naming what failed.
    public var description: String {
        switch code {
        case .unknownRole:
            "unknown role (expected one of: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .invalidScope: "invalid scope (expected global, model:NAME or dataset:NAME)"
        case .invalidExpiry:
            "invalid expiry (expected a positive number and a unit s, m, h, d or w, e.g. 30d, or never)"
        case .invalidToken: "invalid API token"
        case .expiredToken: "API token expired"
        case .revokedToken: "API token revoked"
        case .denied:
            "permission denied: \(deniedAction?.rawValue ?? "action") on \(deniedResource?.description ?? "resource")"
        }
    }
}
