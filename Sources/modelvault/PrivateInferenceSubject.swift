import Foundation
import Homomorphic
import MLCore
import ONNX
import Vault

/// How `he decrypt` turns a row's decrypted scores into what it prints, as the model's own runtime would.
enum ScoreTransform: String, Codable, Sendable {
    /// Built-in models: one score → sigmoid (P of the second class), several → softmax.
    case builtIn = "built-in"
    /// Raw scores (a `Gemm` with no activation, a `LinearClassifier` with `post_transform` NONE).
    case none
    /// A sigmoid per score (`LOGISTIC`, or a `Gemm` followed by `Sigmoid`).
    case logistic
    /// A sigmoid per score, then each row divided by its sum (skl2onnx's one-vs-rest `Normalizer` L1).
    case logisticL1 = "logistic-l1"
    /// Softmax over the row.
    case softmax
    /// One regressed value per row (`LinearRegressor`): printed as the prediction, with no classes.
    case regression

    /// The row's probabilities (or, for `regression`, its one value).
    func apply(_ scores: [Double]) -> [Double] {
        switch self {
        case .builtIn: return probabilities(fromScores: scores)
        case .none, .regression: return scores
        case .logistic: return scores.map { 1 / (1 + exp(-$0)) }
        case .logisticL1:
            let values = scores.map { 1 / (1 + exp(-$0)) }
            let total = values.reduce(0, +)
            return total > 0 ? values.map { $0 / total } : values
        case .softmax:
            let top = scores.max() ?? 0
            let exps = scores.map { exp($0 - top) }
            let total = exps.reduce(0, +)
            return exps.map { $0 / total }
        }
    }
}

/// What private inference needs of a model version, built-in or ONNX: the linear (or square-MLP) weights for the
/// owner, and for the data owner the preprocessing applied before encryption and the names to read results by.
struct PrivateInferenceSubject {
    /// `logistic`, `he-mlp` or `onnx-linear`.
    var kind: String
    /// The feature columns in model order; empty: the CSV's columns in header order (an ONNX model naming none).
    var featureNames: [String]
    var labelNames: [String]
    /// Applied to raw rows before encryption (a built-in model's standardisation, an ONNX `Scaler`).
    var standardization: Standardization
    var model: PrivateModel
    var transform: ScoreTransform

    /// The subject for a version's decrypted files: a built-in model, or a linear ONNX model.
    init(files: [String: Data], reference: ModelReference) throws {
        if let onnx = files.first(where: { ONNXModel.looksLikeModel([UInt8]($0.value)) }) {
            let model: ONNXModel
            do {
                model = try ONNXModel(file: onnx.key, in: files)
            } catch {
                throw CLIError("\(error)", status: .invalidInput)
            }
            self = try Self(onnx: model)
            return
        }
        let trained = try trainedModel(files, reference)
        kind = trained.config.kind.rawValue
        featureNames = trained.config.featureNames
        labelNames = trained.config.labelNames
        standardization = trained.config.standardization
        model = try trained.privateModel()
        transform = .builtIn
    }

    /// The standardised feature rows of a CSV: columns by name, or every column in header order.
    func standardizedRows(csv data: Data) throws -> [[Double]] {
        try Self.standardizedRows(csv: data, featureNames: featureNames, standardization: standardization)
    }

    static func standardizedRows(
        csv data: Data, featureNames: [String], standardization: Standardization
    ) throws -> [[Double]] {
        let table = try CSVTable.parse(data)
        let names = featureNames.isEmpty ? table.header : featureNames
        let width = standardization.mean.count
        guard names.count == width else {
            throw CLIError(
                "the model takes \(width) features; the CSV has \(names.count) columns (it names none, so every "
                    + "column is a feature, in header order)", status: .invalidInput)
        }
        let raw = try table.numericColumns(names)
        let standardized = standardization.apply(to: raw)
        return (0..<raw.shape[0]).map { row in
            standardized.scalars[(row * width)..<((row + 1) * width)].map(Double.init)
        }
    }
}
