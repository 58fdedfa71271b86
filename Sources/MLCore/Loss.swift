import Foundation

/// A training loss: the batch mean of a per-row loss.
public enum Loss: String, Codable, Sendable {
    /// −[t log p + (1 − t) log(1 − p)], for sigmoid outputs.
    case binaryCrossEntropy = "binary-cross-entropy"
    /// −Σ t log p, for softmax outputs and one-hot targets.
    case categoricalCrossEntropy = "categorical-cross-entropy"
    /// (p − t)², averaged over every value.
    case meanSquaredError = "mean-squared-error"

    /// Probabilities are clamped away from 0 and 1 so the logarithms stay finite.
    static let epsilon: Float = 1e-7

    /// The mean loss of `predictions` against `targets` (same shape, [batch, outputs]).
    public func value(_ predictions: Tensor, _ targets: Tensor) -> Double {
        precondition(predictions.shape == targets.shape, "predictions and targets differ in shape")
        let batch = Double(max(predictions.shape[0], 1))
        var total = 0.0
        for index in 0..<predictions.count {
            let p = Double(min(max(predictions.scalars[index], Loss.epsilon), 1 - Loss.epsilon))
            let t = Double(targets.scalars[index])
            switch self {
            case .binaryCrossEntropy: total -= t * log(p) + (1 - t) * log(1 - p)
            case .categoricalCrossEntropy: if t != 0 { total -= t * log(p) }
            case .meanSquaredError:
                let difference = Double(predictions.scalars[index]) - t
                total += difference * difference
            }
        }
        return self == .meanSquaredError ? total / Double(max(predictions.count, 1)) : total / batch
    }

    /// dLoss/dPredictions.
    public func gradient(_ predictions: Tensor, _ targets: Tensor) -> Tensor {
        precondition(predictions.shape == targets.shape, "predictions and targets differ in shape")
        let batch = Float(max(predictions.shape[0], 1))
        let count = Float(max(predictions.count, 1))
        return predictions.zipMap(targets) { prediction, t in
            let p = min(max(prediction, Loss.epsilon), 1 - Loss.epsilon)
            switch self {
            case .binaryCrossEntropy: return (p - t) / (p * (1 - p)) / batch
            case .categoricalCrossEntropy: return -t / p / batch
            case .meanSquaredError: return 2 * (prediction - t) / count
            }
        }
    }

    /// Whether the loss composed with `activation` has the simple gradient (p − t) / batch with respect to the
    /// activation's input, which is exact and avoids dividing by tiny probabilities.
    func fuses(with activation: LayerSpec.Kind) -> Bool {
        (self == .binaryCrossEntropy && activation == .sigmoid)
            || (self == .categoricalCrossEntropy && activation == .softmax)
    }
}
