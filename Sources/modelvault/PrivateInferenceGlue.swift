import Foundation
import Homomorphic
import MLCore

/// Turns a trained MLCore model into the plain weights the homomorphic evaluator takes, and the decrypted
/// scores back into probabilities (the client applies the sigmoid or softmax itself).
extension TrainedModel {
    /// The model as a `PrivateModel`: `logistic` as linear scores, `he-mlp` as the square MLP.
    func privateModel() throws -> PrivateModel {
        let dense = network.layers.compactMap { $0 as? Dense }
        switch config.kind {
        case .logistic where dense.count == 1:
            let (weights, bias) = Self.rows(of: dense[0])
            return .linear(try LinearModel(weights: weights, bias: bias))
        case .heMLP where dense.count == 2:
            let (w1, b1) = Self.rows(of: dense[0])
            let (w2, b2) = Self.rows(of: dense[1])
            return .squareMLP(try SquareMLP(w1: w1, b1: b1, w2: w2, b2: b2))
        default:
            throw CLIError(
                "private inference supports logistic and he-mlp models, not \(config.kind.rawValue)",
                status: .invalidInput)
        }
    }

    /// Dense weights ([inputs, outputs] row-major) as one row per output, plus the bias.
    private static func rows(of layer: Dense) -> ([[Double]], [Double]) {
        let inputs = layer.weight.shape[0]
        let outputs = layer.weight.shape[1]
        let weights = (0..<outputs).map { out in
            (0..<inputs).map { Double(layer.weight.scalars[$0 * outputs + out]) }
        }
        return (weights, layer.bias.scalars.map(Double.init))
    }
}

/// Probabilities from decrypted scores: one score → sigmoid (P of the second class), several → softmax.
func probabilities(fromScores scores: [Double]) -> [Double] {
    if scores.count == 1 {
        let positive = 1 / (1 + exp(-scores[0]))
        return [1 - positive, positive]
    }
    let top = scores.max() ?? 0
    let exps = scores.map { exp($0 - top) }
    let total = exps.reduce(0, +)
    return exps.map { $0 / total }
}
