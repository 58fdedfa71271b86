import Foundation
import Homomorphic
import MLCore
import ONNX

/// Private inference for linear ONNX models: `[Scaler →] LinearClassifier | LinearRegressor | Gemm`, followed only
/// by nodes that read the scores (`Sigmoid`/`Softmax` after a `Gemm`, `Normalizer` L1, `Cast`, `ZipMap`,
/// `Identity`). The `Scaler` runs on the data owner's side before encryption, as a built-in model's
/// standardisation does; the linear layer runs encrypted; the activation runs after decryption.
extension PrivateInferenceSubject {
    init(onnx model: ONNXModel) throws {
        func refuse(_ why: String) -> CLIError {
            CLIError(
                "private inference supports linear ONNX models (LinearClassifier, LinearRegressor, or Gemm after an "
                    + "optional Scaler): \(why)", status: .invalidInput)
        }
        let graph = model.graph
        guard graph.inputs.count == 1, case .tensor(let type, let shape?) = graph.inputs[0].type,
            type == .float || type == .double, shape.count == 2, case .fixed(let features) = shape[1], features > 0
        else { throw refuse("the model's input is not one [N, F] numeric tensor") }
        var nodes = graph.nodes[...]
        var current = graph.inputs[0].name
        var standardization = Standardization(
            mean: Array(repeating: 0, count: features), std: Array(repeating: 1, count: features))
        if let first = nodes.first, first.opType == "Scaler", first.domain == "ai.onnx.ml",
            first.inputs.first == current
        {
            let offset = Self.floats(first.attributes["offset"]) ?? [0]
            let scale = Self.floats(first.attributes["scale"]) ?? [1]
            guard offset.count == features || offset.count == 1, scale.count == features || scale.count == 1,
                offset.allSatisfy(\.isFinite), scale.allSatisfy({ $0.isFinite && $0 > 0 })
            else { throw refuse("node '\(first.name)': the Scaler's offset or scale is not usable") }
            standardization = Standardization(
                mean: (0..<features).map { offset.count == 1 ? offset[0] : offset[$0] },
                std: (0..<features).map { 1 / (scale.count == 1 ? scale[0] : scale[$0]) })
            current = first.outputs.first ?? ""
            nodes = nodes.dropFirst()
        }
        guard let linear = nodes.first, linear.inputs.first == current else {
            throw refuse("no linear node reads the input")
        }
        var weights: [[Double]]
        var bias: [Double]
        var transform: ScoreTransform
        var labels: [String]?
        switch (linear.domain, linear.opType) {
        case ("ai.onnx.ml", "LinearClassifier"), ("ai.onnx.ml", "LinearRegressor"):
            let coefficients = Self.floats(linear.attributes["coefficients"]) ?? []
            guard !coefficients.isEmpty, coefficients.count % features == 0 else {
                throw refuse("node '\(linear.name)': the coefficients do not match the \(features) features")
            }
            let rows = coefficients.count / features
            weights = (0..<rows).map { row in
                coefficients[(row * features)..<((row + 1) * features)].map(Double.init)
            }
            let intercepts = Self.floats(linear.attributes["intercepts"]) ?? []
            guard intercepts.isEmpty || intercepts.count == rows else {
                throw refuse("node '\(linear.name)': the intercepts do not match the coefficients")
            }
            bias = intercepts.isEmpty ? Array(repeating: 0, count: rows) : intercepts.map(Double.init)
            let post = Self.string(linear.attributes["post_transform"]) ?? "NONE"
            if linear.opType == "LinearRegressor" {
                guard rows == 1, post == "NONE" else {
                    throw refuse("node '\(linear.name)': only one target with post_transform NONE")
                }
                transform = .regression
                labels = ["value"]
            } else {
                switch post {
                case "NONE": transform = .none
                case "LOGISTIC": transform = .logistic
                case "SOFTMAX": transform = .softmax
                default: throw refuse("node '\(linear.name)': post_transform \(post) is not supported")
                }
                if case .ints(let names)? = linear.attributes["classlabels_ints"] { labels = names.map(String.init) }
                if case .strings(let names)? = linear.attributes["classlabels_strings"] { labels = names }
                // onnxruntime turns one coefficient row for two classes into scores [-s, s]; skl2onnx writes both
                // rows, so only that form is taken.
                guard labels?.count == rows else {
                    throw refuse("node '\(linear.name)': one coefficient row per class is required")
                }
            }
        case ("", "Gemm"), ("ai.onnx", "Gemm"):
            guard linear.inputs.count >= 2, let b = graph.initializers[linear.inputs[1]], let values = b.doubles,
                b.shape.count == 2
            else { throw refuse("node '\(linear.name)': the Gemm's weights are not a constant matrix") }
            let transA = Self.int(linear.attributes["transA"]) ?? 0
            let transB = Self.int(linear.attributes["transB"]) ?? 0
            let alpha = Double(Self.float(linear.attributes["alpha"]) ?? 1)
            let beta = Double(Self.float(linear.attributes["beta"]) ?? 1)
            guard transA == 0, b.shape[transB == 0 ? 0 : 1] == features else {
                throw refuse("node '\(linear.name)': the Gemm's weights do not match the \(features) features")
            }
            let classes = b.shape[transB == 0 ? 1 : 0]
            weights = (0..<classes).map { c in
                (0..<features).map { f in alpha * (transB == 0 ? values[f * classes + c] : values[c * features + f]) }
            }
            bias = Array(repeating: 0, count: classes)
            if linear.inputs.count >= 3, !linear.inputs[2].isEmpty {
                guard let c = graph.initializers[linear.inputs[2]], let offsets = c.doubles,
                    offsets.count == classes || offsets.count == 1, c.shape.count <= 1 || c.shape.first == 1
                else { throw refuse("node '\(linear.name)': the Gemm's bias is not a constant row") }
                bias = (0..<classes).map { beta * (offsets.count == 1 ? offsets[0] : offsets[$0]) }
            }
            transform = .none
            if let names = model.metadata["class_names"]?.split(separator: ",").map(String.init),
                names.count == classes || (classes == 1 && names.count == 2)
            {
                labels = names
            }
        default:
            throw refuse("node '\(linear.name)' is \(linear.opType)")
        }
        // Whatever follows may read only the scores: a second path from the input would run in plaintext.
        var derived = Set(linear.outputs.filter { !$0.isEmpty })
        for node in nodes.dropFirst() {
            guard node.inputs.allSatisfy({ $0.isEmpty || derived.contains($0) }) else {
                throw refuse("node '\(node.name)' (\(node.opType)) reads something other than the scores")
            }
            switch (node.domain, node.opType) {
            case ("", "Sigmoid") where linear.opType == "Gemm" && transform == .none:
                transform = .logistic
            case ("", "Softmax") where linear.opType == "Gemm" && transform == .none:
                transform = .softmax
            case ("ai.onnx.ml", "Normalizer") where Self.string(node.attributes["norm"]) == "L1":
                if transform == .logistic { transform = .logisticL1 }
                guard transform == .logisticL1 || transform == .softmax else {
                    throw refuse("node '\(node.name)': Normalizer L1 only after LOGISTIC or SOFTMAX")
                }
            case ("", "Cast"), ("", "Identity"), ("ai.onnx.ml", "ZipMap"), ("", "ArgMax"):
                break
            default:
                throw refuse("node '\(node.name)' (\(node.opType)) after the linear layer is not supported")
            }
            derived.formUnion(node.outputs.filter { !$0.isEmpty })
        }
        var classCount = weights.count
        if linear.opType == "Gemm", classCount == 1, transform == .logistic {
            // One sigmoid output is P(class 1), as for a built-in binary model.
            transform = .builtIn
            classCount = 2
            if labels?.count != 2 { labels = nil }
        }
        self.kind = "onnx-linear"
        let names = model.metadata["feature_names"]?.split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        self.featureNames = names?.count == features ? names ?? [] : []
        self.labelNames = labels ?? (0..<classCount).map(String.init)
        self.standardization = standardization
        self.model = .linear(try LinearModel(weights: weights, bias: bias))
        self.transform = transform
    }

    private static func floats(_ attribute: ONNX.Attribute?) -> [Float]? {
        switch attribute {
        case .floats(let values)?: values
        case .float(let value)?: [value]
        default: nil
        }
    }

    private static func float(_ attribute: ONNX.Attribute?) -> Float? {
        if case .float(let value)? = attribute { return value }
        return nil
    }

    private static func int(_ attribute: ONNX.Attribute?) -> Int64? {
        if case .int(let value)? = attribute { return value }
        return nil
    }

    private static func string(_ attribute: ONNX.Attribute?) -> String? {
        if case .string(let value)? = attribute { return value }
        return nil
    }
}
