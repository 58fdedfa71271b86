public import Foundation

/// Everything besides the weights needed to rebuild and run a model: stored as `model_config.json` next to
/// `model.safetensors`.
public struct ModelConfig: Codable, Sendable, Equatable {
    /// The version of this file's layout.
    public var formatVersion: Int
    /// The architecture family.
    public var kind: ModelKind
    /// The layers, input first; the safetensors names are "layers.<index>.weight|bias".
    public var layers: [LayerSpec]
    /// The shape of one example as the first layer sees it (e.g. [30] or [8, 8, 1]).
    public var inputShape: [Int]
    /// The feature columns, in the order the model reads them (prediction matches CSV columns by these names).
    public var featureNames: [String]
    /// The label column the model was trained on.
    public var labelColumn: String
    /// The class names; probabilities are reported in this order.
    public var labelNames: [String]
    /// The standardisation fitted on the training rows, applied to raw features before the first layer.
    public var standardization: Standardization
    /// The loss the model was trained with.
    public var loss: Loss
    /// The options used for training (lineage; nil for imported models).
    public var training: TrainingOptions?

    /// The current `formatVersion`.
    public static let currentFormatVersion = 1

    /// Creates a configuration.
    public init(
        kind: ModelKind, layers: [LayerSpec], inputShape: [Int], featureNames: [String], labelColumn: String,
        labelNames: [String], standardization: Standardization, loss: Loss, training: TrainingOptions?
    ) {
        formatVersion = Self.currentFormatVersion
        self.kind = kind
        self.layers = layers
        self.inputShape = inputShape
        self.featureNames = featureNames
        self.labelColumn = labelColumn
        self.labelNames = labelNames
        self.standardization = standardization
        self.loss = loss
        self.training = training
    }

    /// The JSON text (snake_case keys, sorted, pretty-printed so diffs and digests are stable).
    public func jsonData() throws(MLError) -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return try encoder.encode(self)
        } catch {
            throw MLError(.invalidConfiguration, "the configuration could not be encoded")
        }
    }

    /// Decodes and checks a `model_config.json`.
    public init(jsonData data: Data) throws(MLError) {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            self = try decoder.decode(ModelConfig.self, from: data)
        } catch {
            throw MLError(.invalidConfiguration, "model_config.json is not a valid configuration")
        }
        try validate()
    }

    /// Checks the parts agree with each other.
    func validate() throws(MLError) {
        guard formatVersion == Self.currentFormatVersion else {
            throw MLError(.invalidConfiguration, "unsupported format version")
        }
        guard !featureNames.isEmpty, standardization.mean.count == featureNames.count,
            standardization.std.count == featureNames.count
        else {
            throw MLError(.invalidConfiguration, "the standardisation does not match the feature names")
        }
        guard standardization.std.allSatisfy({ $0.isFinite && $0 > 0 }), standardization.mean.allSatisfy(\.isFinite)
        else {
            throw MLError(.invalidConfiguration, "the standardisation holds invalid values")
        }
        guard inputShape.allSatisfy({ $0 > 0 }), inputShape.checkedProduct() == featureNames.count else {
            throw MLError(.invalidConfiguration, "the input shape does not match the feature count")
        }
        guard labelNames.count >= 2, Set(labelNames).count == labelNames.count else {
            throw MLError(.invalidConfiguration, "the label names must be at least two distinct names")
        }
        guard !layers.isEmpty else { throw MLError(.invalidConfiguration, "the model has no layers") }
        try validateArchitecture()
    }
}
