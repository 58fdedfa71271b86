/// The body of `POST /v1/models/{model}/deploy` (`deploy` in remote mode): what the vault needs to make and record
/// a deployment's serving bundle. The deployment identity is the client's: only its recipient travels.
public struct DeployModelRequest: Sendable, Codable, Equatable {
    /// The version to deploy: a number or an alias name (default: `production`).
    public var version: String?
    /// The recipient of the identity the client made for this deploy. The vault wraps the bundle for it when the
    /// deployment is new in `namespace` or `rotateIdentity` is set; otherwise it continues the recorded identity
    /// (``DeploymentAnswer/newIdentity`` says which).
    public var recipient: String
    /// The Kubernetes namespace the deployment runs in: the vault keeps one record per namespace.
    public var namespace: String
    /// Make the client's identity the deployment's and revoke the recorded one.
    public var rotateIdentity: Bool?
    /// Continue a record written before namespaces as this namespace's.
    public var adoptLegacyRecord: Bool?

    /// Creates a request.
    public init(
        version: String? = nil, recipient: String, namespace: String, rotateIdentity: Bool? = nil,
        adoptLegacyRecord: Bool? = nil
    ) {
        self.version = version
        self.recipient = recipient
        self.namespace = namespace
        self.rotateIdentity = rotateIdentity
        self.adoptLegacyRecord = adoptLegacyRecord
    }

    /// Why a deploy of a deployment recorded before namespaces is refused without `adoptLegacyRecord`.
    public static let legacyRecordRefused =
        "the vault's record of this deployment predates namespaces; in the namespace it serves, run deploy again "
        + "with --adopt-legacy-record"
}

/// What the vault decided for a remote deploy, streamed as `deployment.json` beside the bundle. The client takes
/// nothing from it on trust: every field is checked against the signed bundle before anything is written.
public struct DeploymentAnswer: Sendable, Codable, Equatable {
    /// The file name of the answer in the stream.
    public static let fileName = "deployment.json"
    /// The directory of the bundle in the stream.
    public static let bundleDirectory = "bundle"

    /// The model deployed.
    public var model: String
    /// The version deployed (an alias resolved to its number).
    public var version: Int
    /// The deployment's name in the vault's records (its Kubernetes objects' name).
    public var deploymentName: String
    /// The bundle's serial: the pod's `--min-bundle-serial`.
    public var serial: Int
    /// The recipient the bundle is wrapped for.
    public var recipient: String
    /// Whether that is the client's new identity (false: the deployment keeps the identity it had).
    public var newIdentity: Bool
    /// Whether this deploy adopted a record written before namespaces.
    public var adoptedLegacyRecord: Bool

    /// Creates an answer.
    public init(
        model: String, version: Int, deploymentName: String, serial: Int, recipient: String, newIdentity: Bool,
        adoptedLegacyRecord: Bool
    ) {
        self.model = model
        self.version = version
        self.deploymentName = deploymentName
        self.serial = serial
        self.recipient = recipient
        self.newIdentity = newIdentity
        self.adoptedLegacyRecord = adoptedLegacyRecord
    }
}
