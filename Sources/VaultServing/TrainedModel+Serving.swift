import Homomorphic
import MLCore
import VaultServer

/// A model trained by `modelvault train`, decrypted and verified, served in memory.
///
/// It takes raw feature rows, like `modelvault predict`: input `input` FP32 `[-1, F]` in the model's feature
/// order (the model standardises); outputs `probabilities` FP32 `[-1, C]` and `class` FP32 `[-1]`, the index
/// of the most probable class in the model's labels.
///
/// Logistic and he-mlp models also answer CKKS private inference (standardised rows, encrypted), under the owner's
/// standard `PrivateInferencePolicy` for the model.
struct ServedTrainedModel: PrivatelyServedModel {
    let name: String
    let version: String
    let model: TrainedModel
    /// The private-inference endpoint, for the model kinds CKKS evaluates.
    let endpoint: PrivateInferenceEndpoint?

    init(name: String, version: String, model: TrainedModel) {
        self.name = name
        self.version = version
        self.model = model
        self.endpoint = (try? model.homomorphicModel()).flatMap { try? PrivateInferenceEndpoint(model: $0) }
    }

    func privateInfer(_ request: [UInt8]) throws -> [UInt8] {
        guard let endpoint else {
            throw PrivateInferenceRefused("private inference supports logistic and he-mlp models only")
        }
        do {
            return try endpoint.respond(to: request)
        } catch let error as HEError {
            // HEError texts are fixed and name the failed check, never key material or values.
            throw PrivateInferenceRefused(error.description)
        }
    }

    /// The name of the single input tensor.
    static let inputName = "input"

    var platform: String { "modelvault_\(model.config.kind.rawValue)" }

    var columns: ModelColumns? {
        ModelColumns(
            featureNames: model.config.featureNames, label: model.config.labelColumn,
            classNames: model.config.labelNames)
    }

    var inputs: [TensorMetadata] {
        [TensorMetadata(name: Self.inputName, shape: [-1, model.config.featureNames.count])]
    }

    var outputs: [TensorMetadata] {
        [
            TensorMetadata(name: "probabilities", shape: [-1, model.config.labelNames.count]),
            TensorMetadata(name: "class", shape: [-1]),
        ]
    }

    func infer(_ inputs: [String: VaultServer.Tensor]) throws -> [String: VaultServer.Tensor] {
        guard let input = inputs[Self.inputName], input.shape.count == 2 else { throw ServingError.badInput }
        // Binary tensors can carry NaN or infinity, which JSON cannot; the model is only defined on numbers.
        guard input.scalars.allSatisfy(\.isFinite) else { throw ServingError.badInput }
        let probabilities = model.probabilities(for: MLCore.Tensor(shape: input.shape, scalars: input.scalars))
        // The same arg-max `modelvault predict` uses, so both name the same class.
        let predicted = probabilities.argmaxPerRow().map(Float.init)
        return [
            "probabilities": VaultServer.Tensor(shape: probabilities.shape, scalars: probabilities.scalars),
            "class": VaultServer.Tensor(shape: [predicted.count], scalars: predicted),
        ]
    }
}

extension TrainedModel {
    /// The model as plain weights for CKKS: `logistic` as linear scores, `he-mlp` as the square MLP.
    func homomorphicModel() throws -> PrivateModel {
        let dense = network.layers.compactMap { $0 as? Dense }
        func rows(of layer: Dense) -> ([[Double]], [Double]) {
            let inputs = layer.weight.shape[0]
            let outputs = layer.weight.shape[1]
            let weights = (0..<outputs).map { out in
                (0..<inputs).map { Double(layer.weight.scalars[$0 * outputs + out]) }
            }
            return (weights, layer.bias.scalars.map(Double.init))
        }
        switch config.kind {
        case .logistic where dense.count == 1:
            let (weights, bias) = rows(of: dense[0])
            return .linear(try Homomorphic.LinearModel(weights: weights, bias: bias))
        case .heMLP where dense.count == 2:
            let (w1, b1) = rows(of: dense[0])
            let (w2, b2) = rows(of: dense[1])
            return .squareMLP(try SquareMLP(w1: w1, b1: b1, w2: w2, b2: b2))
        default:
            throw PrivateInferenceRefused("private inference supports logistic and he-mlp models only")
        }
    }
}

/// Failures of the vault-backed serving layer; fixed texts without secrets.
public struct ServingError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A fixed text naming what failed.
    public let description: String

    /// The inference input is not a finite `[rows, features]` matrix.
    static let badInput = ServingError(description: "serving: the input is not a finite [rows, features] matrix")
    /// A `--models` entry is malformed.
    public static let invalidSelection = ServingError(
        description: "serving: a model selection must be NAME, NAME:ALIAS or NAME@VERSION")
}
