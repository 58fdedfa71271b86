import MLCore
import VaultServer

/// A model trained by `modelvault train`, decrypted and verified, served in memory.
///
/// It takes raw feature rows, like `modelvault predict`: input `input` FP32 `[-1, F]` in the model's feature
/// order (the model standardises); outputs `probabilities` FP32 `[-1, C]` and `class` FP32 `[-1]`, the index
/// of the most probable class in the model's labels.
struct ServedTrainedModel: ServedModel {
    let name: String
    let version: String
    let model: TrainedModel

    /// The name of the single input tensor.
    static let inputName = "input"

    var platform: String { "modelvault_\(model.config.kind.rawValue)" }

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
