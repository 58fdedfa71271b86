/// A deployment artifact could not be rendered or written.
///
/// The description is fixed text naming what failed; it never carries a setting's value.
public struct DeploymentError: Error, CustomStringConvertible, Equatable {
    private enum Code: Equatable {
        case invalidSetting(String)
        case destinationNotEmpty
        case writeFailed
    }

    private let code: Code

    /// A setting of the spec is not valid; `name` is the setting's fixed name, never its value.
    static func invalidSetting(_ name: String) -> Self { Self(code: .invalidSetting(name)) }
    /// The output directory exists and is not empty, and replacing it was not asked for.
    public static let destinationNotEmpty = Self(code: .destinationNotEmpty)
    /// Writing the artifacts failed; nothing was left at the destination.
    public static let writeFailed = Self(code: .writeFailed)

    /// Whether this error is about the setting with the given name (for example `"namespace"`).
    public func isInvalidSetting(_ name: String) -> Bool { code == .invalidSetting(name) }

    /// A fixed text naming what failed.
    public var description: String {
        switch code {
        case .invalidSetting(let name) where name == "image.builder" || name == "image.runtime":
            return "invalid deployment setting: \(name) (a base image pinned by digest, NAME[:TAG]@sha256:DIGEST, "
                + "is required; deploy never looks a digest up)"
        case .invalidSetting(let name) where name == "auditForwarding.egress":
            return "invalid deployment setting: auditForwarding.egress (the audit server is a DNS name outside the "
                + "cluster: give its namespace or its addresses so the pod's egress can be limited to it)"
        case .invalidSetting(let name): return "invalid deployment setting: \(name)"
        case .destinationNotEmpty: return "the output directory exists and is not empty (use --force to replace it)"
        case .writeFailed: return "could not write the deployment artifacts"
        }
    }
}
