import Foundation
import MLCore
import ONNX

/// `predict` and `evaluate` for ONNX classifiers and regressors whose input is one `[N, F]` numeric tensor.
///
/// CSV columns map to the F features in header order (the label column left out), unless the model's
/// `metadata_props` name them under `feature_names` (comma-separated). Class names come from the classifier's
/// `classlabels_*` attribute; a model that only outputs probabilities (a torch export) has classes `0..<C`.
struct ONNXPredictor {
    /// What one run produced for every row.
    struct Output {
        /// The predicted class (or the regressed value) per row.
        var predictions: [String]
        /// Class probabilities `[rows][classes]`, when the model outputs them.
        var probabilities: [[Float]]?
    }

    let model: ONNXModel
    let input: String
    let elementType: ElementType
    let featureCount: Int
    let featureNames: [String]?
    let classNames: [String]?

    /// The predictor for a version's files, or `nil` when no file is ONNX (a built-in model).
    init?(files: [String: Data]) throws {
        let onnx = files.filter { ONNXModel.looksLikeModel([UInt8]($0.value)) }
        guard let path = onnx.first?.key else { return nil }
        guard onnx.count == 1 else {
            throw CLIError("the model version holds several ONNX models", status: .invalidInput)
        }
        do {
            model = try ONNXModel(file: path, in: files)
        } catch {
            throw CLIError("\(error)", status: .invalidInput)
        }
        let shapeError = CLIError(
            "predict and evaluate support ONNX models whose input is one [N, F] numeric tensor", status: .invalidInput)
        guard model.graph.inputs.count == 1, case .tensor(let type, let shape?) = model.graph.inputs[0].type,
            type == .float || type == .double, shape.count == 2, case .fixed(let features) = shape[1], features > 0
        else { throw shapeError }
        input = model.graph.inputs[0].name
        elementType = type
        featureCount = features
        featureNames = model.metadata["feature_names"].map {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        var classes: [String]?
        for node in model.graph.nodes where node.domain == "ai.onnx.ml" {
            if case .strings(let names)? = node.attributes["classlabels_strings"], !names.isEmpty { classes = names }
            if case .ints(let names)? = node.attributes["classlabels_int64s"], !names.isEmpty {
                classes = names.map(String.init)
            }
        }
        classNames = classes
    }

    /// The feature matrix from a CSV table: the named columns, or every column but `label` in header order.
    func features(_ table: CSVTable, excluding label: String?) throws -> MLCore.Tensor {
        let names = featureNames ?? table.header.filter { $0 != label }
        guard names.count == featureCount else {
            throw CLIError(
                "the model takes \(featureCount) features; the CSV has \(names.count) feature columns",
                status: .invalidInput)
        }
        return try table.numericColumns(names)
    }

    /// Runs the model on `features` (`[rows, F]`).
    func run(_ features: MLCore.Tensor) throws -> Output {
        let shape = features.shape
        let tensor =
            elementType == .double
            ? ONNX.Tensor(shape: shape, doubles: features.scalars.map(Double.init))
            : ONNX.Tensor(shape: shape, floats: features.scalars)
        let results: [String: ONNX.Tensor]
        do {
            results = try model.run([input: tensor])
        } catch {
            throw CLIError("\(error)", status: .invalidInput)
        }
        let rows = shape[0]
        let outputs = model.graph.outputs.compactMap { results[$0.name] }
        // The label: an integer or string vector; probabilities (or a regression): a float matrix or vector.
        let label = outputs.first { $0.elementType != .float && $0.elementType != .double && $0.shape == [rows] }
        let scores = outputs.first { ($0.elementType == .float || $0.elementType == .double) && $0.shape.first == rows }
        var probabilities: [[Float]]?
        if let scores, let values = scores.floats, scores.shape.count == 2, scores.shape[1] > 1 || label != nil {
            let width = scores.shape[1]
            probabilities = (0..<rows).map { Array(values[($0 * width)..<(($0 + 1) * width)]) }
        }
        let predictions: [String]
        if let label {
            switch label.storage {
            case .string(let values): predictions = values
            default: predictions = (label.int64s ?? []).map(String.init)
            }
        } else if let probabilities {
            predictions = probabilities.map { row in
                let best = row.indices.max { row[$0] < row[$1] } ?? 0
                return classNames.map { $0[best] } ?? String(best)
            }
        } else if let scores, let values = scores.floats, values.count == rows {
            predictions = values.map { "\($0)" }
        } else {
            throw CLIError(
                "the ONNX model's outputs are neither a label nor class scores nor one value per row",
                status: .invalidInput)
        }
        guard predictions.count == rows else {
            throw CLIError("the ONNX model did not produce one prediction per row", status: .invalidInput)
        }
        return Output(predictions: predictions, probabilities: probabilities)
    }

    /// The class names for `probabilities` of width `width`.
    func classes(width: Int) -> [String] {
        if let classNames, classNames.count == width { return classNames }
        return (0..<width).map(String.init)
    }

    /// `prediction` then one `p_<class>` column per class, as for built-in models.
    func predictionsCSV(_ output: Output) -> String {
        let width = output.probabilities?.first?.count ?? 0
        let header = ["prediction"] + classes(width: width).map { "p_\($0)" }
        let rows = output.predictions.indices.map { index in
            [output.predictions[index]] + (output.probabilities?[index].map { "\($0)" } ?? [])
        }
        return CSVTable(header: header, rows: rows).text()
    }

    /// Accuracy, precision, recall, F1, ROC AUC and the confusion matrix on a labelled CSV.
    func evaluate(csv: Data, label: String?) throws -> Evaluation {
        guard let label = label ?? model.metadata["label_column"] else {
            throw CLIError("name the label column with --label (the ONNX model does not)", status: .usage)
        }
        let table = try CSVTable.parse(csv)
        guard let labelIndex = table.header.firstIndex(of: label) else {
            throw CLIError("the dataset has no column '\(label)'", status: .invalidInput)
        }
        let output = try run(try features(table, excluding: label))
        guard let probabilities = output.probabilities, let width = probabilities.first?.count else {
            throw CLIError("evaluate needs an ONNX classifier that outputs class probabilities", status: .invalidInput)
        }
        let names = classes(width: width)
        var truth: [Int] = []
        for row in table.rows {
            let text = row[labelIndex]
            // CSV labels such as "1.0" name class "1".
            let normalised = Double(text).flatMap { $0 == $0.rounded() ? String(Int64($0)) : nil } ?? text
            guard let index = names.firstIndex(of: text) ?? names.firstIndex(of: normalised) else {
                throw CLIError("the dataset's label '\(text)' is not one of the model's classes", status: .invalidInput)
            }
            truth.append(index)
        }
        return Evaluation(
            labels: truth,
            probabilities: MLCore.Tensor(shape: [truth.count, width], scalars: probabilities.flatMap { $0 }),
            labelNames: names)
    }
}
