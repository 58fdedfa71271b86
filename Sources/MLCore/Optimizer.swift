import Foundation

/// A gradient-descent rule.
public enum Optimizer: Codable, Sendable, Equatable {
    /// Stochastic gradient descent with (heavy-ball) momentum.
    case sgd(momentum: Float)
    /// Adam (Kingma & Ba, 2015) with bias correction.
    case adam(beta1: Float, beta2: Float, epsilon: Float)

    /// Adam with the paper's defaults.
    public static let adam = Optimizer.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
}

/// The per-parameter state of an optimiser across steps.
struct OptimizerState {
    let rule: Optimizer
    var first: [[Tensor]] = []
    var second: [[Tensor]] = []
    var step = 0

    init(_ rule: Optimizer, for network: Network) {
        self.rule = rule
        first = network.layers.map { $0.parameters.map { Tensor(zeros: $0.shape) } }
        if case .adam = rule { second = first }
    }

    /// Applies one update from the gradients of the last backward pass. L2 regularisation (weight decay folded
    /// into the gradient) applies to weights only, not to biases.
    mutating func update(_ network: inout Network, learningRate: Float, l2: Float) {
        step += 1
        for layerIndex in network.layers.indices {
            let gradients = network.layers[layerIndex].gradients
            guard !gradients.isEmpty else { continue }
            var parameters = network.layers[layerIndex].parameters
            for position in parameters.indices {
                let decay = parameters[position].rank >= 2 ? l2 : 0
                switch rule {
                case .sgd(let momentum):
                    Self.sgd(
                        &parameters[position], gradients[position], &first[layerIndex][position],
                        rate: learningRate, momentum: momentum, decay: decay)
                case .adam(let beta1, let beta2, let epsilon):
                    let correction1 = 1 - pow(beta1, Float(step))
                    let correction2 = 1 - pow(beta2, Float(step))
                    Self.adam(
                        &parameters[position], gradients[position], &first[layerIndex][position],
                        &second[layerIndex][position], rate: learningRate * correction2.squareRoot() / correction1,
                        beta1: beta1, beta2: beta2, epsilon: epsilon, decay: decay)
                }
            }
            network.layers[layerIndex].parameters = parameters
        }
    }

    private static func sgd(
        _ parameter: inout Tensor, _ gradient: Tensor, _ velocity: inout Tensor, rate: Float, momentum: Float,
        decay: Float
    ) {
        parameter.scalars.withUnsafeMutableBufferPointer { p in
            velocity.scalars.withUnsafeMutableBufferPointer { v in
                gradient.scalars.withUnsafeBufferPointer { g in
                    for index in p.indices {
                        v[index] = momentum * v[index] - rate * (g[index] + decay * p[index])
                        p[index] += v[index]
                    }
                }
            }
        }
    }

    private static func adam(
        _ parameter: inout Tensor, _ gradient: Tensor, _ m: inout Tensor, _ v: inout Tensor, rate: Float,
        beta1: Float, beta2: Float, epsilon: Float, decay: Float
    ) {
        parameter.scalars.withUnsafeMutableBufferPointer { p in
            m.scalars.withUnsafeMutableBufferPointer { m in
                v.scalars.withUnsafeMutableBufferPointer { v in
                    gradient.scalars.withUnsafeBufferPointer { g in
                        for index in p.indices {
                            let grad = g[index] + decay * p[index]
                            m[index] = beta1 * m[index] + (1 - beta1) * grad
                            v[index] = beta2 * v[index] + (1 - beta2) * grad * grad
                            p[index] -= rate * m[index] / (v[index].squareRoot() + epsilon)
                        }
                    }
                }
            }
        }
    }
}
