/// A model version loaded in memory and ready to answer inference requests.
///
/// The vault integration implements this over a decrypted, verified model; tests use tiny in-memory models.
public protocol ServedModel: Sendable {
    /// The model's name in the registry.
    var name: String { get }
    /// The version being served (for example "3").
    var version: String { get }
    /// A short platform tag reported in metadata, for example "modelvault_mlp".
    var platform: String { get }
    /// The inputs the model expects, in order.
    var inputs: [TensorMetadata] { get }
    /// The outputs the model produces, in order.
    var outputs: [TensorMetadata] { get }
    /// Runs the model. `inputs` holds exactly the declared inputs, already validated against `inputs`.
    func infer(_ inputs: [String: Tensor]) throws -> [String: Tensor]
    /// What the model says about its columns, sent as the metadata's `parameters`; `nil` when it knows none.
    var columns: ModelColumns? { get }
}

extension ServedModel {
    /// Models that know nothing of their columns (an ONNX graph names tensors only) describe none.
    public var columns: ModelColumns? { nil }
}

/// The columns behind a served model's tensors, so a client can build its input and read the output without the
/// model's files (issue #20): the input's feature columns in order, the label column it predicts, and the class
/// names the `class` output indexes.
public struct ModelColumns: Sendable, Equatable {
    /// The input columns, in the order of the input tensor's last dimension.
    public var featureNames: [String]
    /// The column the model was trained to predict.
    public var label: String
    /// The classes, in the order of the `probabilities` output; `class` is an index into them.
    public var classNames: [String]

    /// Columns as named at training time.
    public init(featureNames: [String], label: String, classNames: [String]) {
        self.featureNames = featureNames
        self.label = label
        self.classNames = classNames
    }
}

/// A request a served model refuses for the client's reason (an input its graph does not accept, a request
/// over the model's allocation cap or deadline): answered as 400 with the fixed text, never as a server error.
public struct InferenceRejected: Error, Sendable, Equatable {
    /// The fixed text naming what was refused (never tensor values).
    public let message: String

    /// A refusal with a fixed text.
    public init(_ message: String) { self.message = message }
}

/// A served model that also answers CKKS private-inference requests (`POST /v1/models/{name}/private-infer`).
public protocol PrivatelyServedModel: ServedModel {
    /// Answers one serialised private-inference request (parameters, evaluation keys and encrypted rows) with the
    /// serialised encrypted scores. A request the model owner's policy refuses throws `PrivateInferenceRefused`.
    func privateInfer(_ request: [UInt8]) throws -> [UInt8]
}

/// A private-inference request refused before or during evaluation; the message is a fixed text naming the
/// check that failed (answered as 400).
public struct PrivateInferenceRefused: Error, Sendable, Equatable {
    /// The fixed text.
    public let message: String

    /// A refusal with a fixed text.
    public init(_ message: String) { self.message = message }
}

/// One model version known to the catalog, and whether it may be served.
public enum CatalogEntry: Sendable {
    /// A verified model, ready to serve.
    case verified(any ServedModel)
    /// A model version that failed verification (signature, digest or decryption); it is never served.
    case unverified(name: String, version: String)

    /// The model's name.
    public var name: String {
        switch self {
        case .verified(let model): model.name
        case .unverified(let name, _): name
        }
    }

    /// The model's version.
    public var version: String {
        switch self {
        case .verified(let model): model.version
        case .unverified(_, let version): version
        }
    }
}

/// The source of the models the server serves; polled so that alias moves are picked up without a restart.
public protocol ModelCatalog: Sendable {
    /// The model versions to serve now. For each name, the first entry is the default version (the one
    /// `/v2/models/{name}` addresses, usually the `production` alias); further entries of the same name are
    /// reachable by `/v2/models/{name}/versions/{version}`.
    func currentModels() async throws -> [CatalogEntry]
}
