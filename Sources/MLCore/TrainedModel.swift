public import Foundation

/// One row's prediction.
public struct Prediction: Codable, Sendable, Equatable {
    /// The most probable class name.
    public var label: String
    /// The index of `label` in the model's label names.
    public var classIndex: Int
    /// The probability of each class, in the order of the model's label names.
    public var probabilities: [Float]
}

/// A trained model: its configuration (architecture, preprocessing, names) and its network weights.
///
/// It round-trips through two in-memory files, `model.safetensors` and `model_config.json`, so a vault can
/// encrypt and decrypt it without plaintext touching the disk.
public struct TrainedModel: Sendable {
    /// The weights file name.
    public static let weightsFileName = "model.safetensors"
    /// The configuration file name.
    public static let configFileName = "model_config.json"

    /// Architecture, preprocessing, feature and label names.
    public let config: ModelConfig
    /// The network with its trained weights.
    public let network: Network

    /// Creates a model from its parts; the network must match the configuration's layers.
    public init(config: ModelConfig, network: Network) throws(MLError) {
        try config.validate()
        guard network.specs == config.layers else {
            throw MLError(.invalidConfiguration, "the network does not match the configured layers")
        }
        self.config = config
        self.network = network
    }

    /// Rebuilds a model from the bytes of `model.safetensors` and `model_config.json` (other entries are ignored).
    public init(files: [String: Data]) throws(MLError) {
        guard let configData = files[Self.configFileName] else {
            throw MLError(.invalidConfiguration, "\(Self.configFileName) is missing")
        }
        guard let weightsData = files[Self.weightsFileName] else {
            throw MLError(.invalidConfiguration, "\(Self.weightsFileName) is missing")
        }
        let config = try ModelConfig(jsonData: configData)
        let weights = try SafeTensors.decode(weightsData).float32Tensors()
        // The configuration's shapes were checked already; matching them against the stored tensors before
        // building the network bounds what building allocates by the size of the weights file.
        for (index, layer) in config.layers.enumerated() {
            for (name, shape) in zip(["weight", "bias"], layer.parameterShapes) {
                guard weights["layers.\(index).\(name)"]?.shape == shape else {
                    throw MLError(
                        .invalidConfiguration, "tensor layers.\(index).\(name) is missing or has the wrong shape")
                }
            }
        }
        var generator = SeededGenerator(seed: 0)
        var network = try Network(specs: config.layers, using: &generator)
        try network.loadParameters(weights)
        guard network.parametersAreFinite else { throw MLError(.invalidConfiguration, "the weights are not finite") }
        try self.init(config: config, network: network)
    }

    /// The two files that store this model: `model.safetensors` and `model_config.json`.
    public func files() throws(MLError) -> [String: Data] {
        var tensors: [String: Tensor] = [:]
        for (name, tensor) in network.namedParameters { tensors[name] = tensor }
        let metadata = ["format": "modelvault", "kind": config.kind.rawValue]
        return [
            Self.weightsFileName: SafeTensors.encode(tensors, metadata: metadata),
            Self.configFileName: try config.jsonData(),
        ]
    }

    /// Class probabilities for raw (unstandardised) features, [rows, features] in `config.featureNames` order.
    /// Large batches are split across cores.
    public func probabilities(for features: Tensor) -> Tensor {
        precondition(features.rank == 2 && features.shape[1] == config.featureNames.count, "feature width differs")
        let rows = features.shape[0]
        let classes = config.labelNames.count
        let standardized = config.standardization.apply(to: features)
        let chunk = 256
        let chunks = (rows + chunk - 1) / chunk
        var out = [Float](repeating: 0, count: rows * classes)
        let model = self
        out.withUnsafeMutableBufferPointer { buffer in
            // Each chunk writes its own rows, so sharing the pointer is race-free.
            nonisolated(unsafe) let target = buffer.baseAddress!
            let work: @Sendable (Int) -> Void = { index in
                let range = (index * chunk)..<min((index + 1) * chunk, rows)
                let part = model.outputProbabilities(standardized.rows(range))
                part.scalars.withUnsafeBufferPointer { source in
                    (target + range.lowerBound * classes).update(from: source.baseAddress!, count: source.count)
                }
            }
            if chunks > 1 && ProcessInfoCores.count > 1 {
                DispatchQueue.concurrentPerform(iterations: chunks, execute: work)
            } else {
                for index in 0..<chunks { work(index) }
            }
        }
        return Tensor(shape: [rows, classes], scalars: out)
    }

    /// The network output for standardised rows, as one probability per class.
    func outputProbabilities(_ standardized: Tensor) -> Tensor {
        let output = network(standardized.reshaped([standardized.shape[0]] + config.inputShape))
        guard output.shape[1] == 1 else { return output }
        // A single sigmoid output is P(class 1).
        var scalars: [Float] = []
        scalars.reserveCapacity(output.count * 2)
        for p in output.scalars { scalars += [1 - p, p] }
        return Tensor(shape: [output.shape[0], 2], scalars: scalars)
    }

    /// Predictions for raw feature rows in `config.featureNames` order.
    public func predict(rows: [[Float]]) throws(MLError) -> [Prediction] {
        let width = config.featureNames.count
        for (index, row) in rows.enumerated() {
            guard row.count == width else {
                throw MLError(.invalidInput, "row \(index + 1) has \(row.count) values but the model takes \(width)")
            }
            guard row.allSatisfy(\.isFinite) else {
                throw MLError(.invalidInput, "row \(index + 1) holds a value that is not a finite number")
            }
        }
        return try predictions(for: Tensor(shape: [rows.count, width], scalars: rows.flatMap { $0 }))
    }

    /// Predictions for a CSV with a header: feature columns are matched by name (the label column and any other
    /// extra columns are ignored).
    public func predict(csv data: Data) throws(MLError) -> [Prediction] {
        try predict(CSVTable.parse(data))
    }

    /// Predictions for a parsed CSV table (columns matched by name).
    public func predict(_ table: CSVTable) throws(MLError) -> [Prediction] {
        try predictions(for: try table.numericColumns(config.featureNames))
    }

    /// Class probabilities like ``probabilities(for:)``, refusing a row whose output is not finite (huge finite
    /// inputs can overflow inside the network): such a row has no class, and must not be given one.
    public func checkedProbabilities(for features: Tensor) throws(MLError) -> Tensor {
        let probabilities = probabilities(for: features)
        let classes = config.labelNames.count
        if let bad = probabilities.scalars.firstIndex(where: { !$0.isFinite }) {
            throw MLError(
                .invalidInput, "row \(bad / max(classes, 1) + 1) makes the model's output non-finite (values too large)"
            )
        }
        return probabilities
    }

    private func predictions(for features: Tensor) throws(MLError) -> [Prediction] {
        let probabilities = try checkedProbabilities(for: features)
        let classes = config.labelNames.count
        return probabilities.argmaxPerRow().enumerated().map { row, best in
            Prediction(
                label: config.labelNames[best], classIndex: best,
                probabilities: Array(probabilities.scalars[(row * classes)..<((row + 1) * classes)]))
        }
    }

    /// Evaluates on a labelled data set whose feature columns and label names are matched by name.
    public func evaluate(_ dataset: Dataset) throws(MLError) -> Evaluation {
        let relabeled = try dataset.relabeled(as: config.labelNames)
        var positions: [Int] = []
        for name in config.featureNames {
            guard let position = dataset.featureNames.firstIndex(of: name) else {
                throw MLError(.invalidInput, "column '\(name)' is missing")
            }
            positions.append(position)
        }
        let width = dataset.featureNames.count
        var features = [Float](repeating: 0, count: dataset.count * positions.count)
        for row in 0..<dataset.count {
            for (column, position) in positions.enumerated() {
                features[row * positions.count + column] = dataset.features.scalars[row * width + position]
            }
        }
        let probabilities = try checkedProbabilities(
            for: Tensor(shape: [dataset.count, positions.count], scalars: features))
        return Evaluation(labels: relabeled.labels, probabilities: probabilities, labelNames: config.labelNames)
    }

    /// The rows of `data` held out when this model was trained: the same stratified split its recorded seed and test
    /// fraction gave, or nil when it records no training (an imported model).
    public func heldOutRows(of data: Dataset) throws(MLError) -> Dataset? {
        guard let training = config.training else { return nil }
        return try data.stratifiedSplit(fraction: training.testFraction, seed: training.seed).test
    }

    /// Evaluates on a CSV that holds the model's label column and feature columns (matched by name).
    public func evaluate(csv data: Data, label: String? = nil) throws(MLError) -> Evaluation {
        try evaluate(Dataset.csv(data, label: label ?? config.labelColumn))
    }

    /// Predictions as CSV: `prediction` then one `p_<label>` column per class.
    public func predictionsCSV(_ predictions: [Prediction]) -> String {
        let header = ["prediction"] + config.labelNames.map { "p_\($0)" }
        let rows = predictions.map { [$0.label] + $0.probabilities.map { "\($0)" } }
        return CSVTable(header: header, rows: rows).text()
    }
}

extension Network {
    /// Whether every parameter value is finite.
    var parametersAreFinite: Bool {
        layers.allSatisfy { $0.parameters.allSatisfy { $0.scalars.allSatisfy(\.isFinite) } }
    }
}
