import Foundation

/// Flattens every dimension after the batch: [batch, ...] → [batch, features].
public struct Flatten: Layer {
    private var inputShape: [Int] = []

    /// Creates a flatten layer.
    public init() {}

    /// The input with its trailing dimensions merged.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.reshaped([input.shape[0], input.count / max(input.shape[0], 1)])
    }

    /// The forward pass, remembering the input shape.
    public mutating func forward(_ input: Tensor) -> Tensor {
        inputShape = input.shape
        return self(input)
    }

    /// The gradient reshaped back to the input shape.
    public mutating func backward(_ outputGradient: Tensor) -> Tensor { outputGradient.reshaped(inputShape) }

    /// The layer description.
    public var spec: LayerSpec { LayerSpec(type: .flatten) }
}

/// max(0, x).
public struct ReLU: Layer {
    private var input: Tensor?

    /// Creates a ReLU layer.
    public init() {}

    /// max(0, x) per value.
    public func callAsFunction(_ input: Tensor) -> Tensor { input.map { max($0, 0) } }

    /// The forward pass, caching the input.
    public mutating func forward(_ input: Tensor) -> Tensor {
        self.input = input
        return self(input)
    }

    /// Passes the gradient where the input was positive.
    public mutating func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input else { preconditionFailure("backward before forward") }
        return outputGradient.zipMap(input) { gradient, x in x > 0 ? gradient : 0 }
    }

    /// The layer description.
    public var spec: LayerSpec { LayerSpec(type: .relu) }
}

/// The logistic function 1 / (1 + e^-x).
public struct Sigmoid: Layer {
    private var output: Tensor?

    /// Creates a sigmoid layer.
    public init() {}

    /// σ(x) per value (numerically stable for large |x|).
    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.map { x in
            x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
        }
    }

    /// The forward pass, caching the output.
    public mutating func forward(_ input: Tensor) -> Tensor {
        let output = self(input)
        self.output = output
        return output
    }

    /// dy · σ(1 − σ).
    public mutating func backward(_ outputGradient: Tensor) -> Tensor {
        guard let output else { preconditionFailure("backward before forward") }
        return outputGradient.zipMap(output) { gradient, y in gradient * y * (1 - y) }
    }

    /// The layer description.
    public var spec: LayerSpec { LayerSpec(type: .sigmoid) }
}

/// Softmax over the last dimension.
public struct Softmax: Layer {
    private var output: Tensor?

    /// Creates a softmax layer.
    public init() {}

    /// exp(x − max) normalised per row.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        let columns = input.shape[input.rank - 1]
        var out = input
        out.scalars.withUnsafeMutableBufferPointer { buffer in
            var offset = 0
            while offset < buffer.count {
                var largest = -Float.infinity
                for column in 0..<columns { largest = max(largest, buffer[offset + column]) }
                var total: Float = 0
                for column in 0..<columns {
                    let value = exp(buffer[offset + column] - largest)
                    buffer[offset + column] = value
                    total += value
                }
                for column in 0..<columns { buffer[offset + column] /= total }
                offset += columns
            }
        }
        return out
    }

    /// The forward pass, caching the output.
    public mutating func forward(_ input: Tensor) -> Tensor {
        let output = self(input)
        self.output = output
        return output
    }

    /// The Jacobian-vector product per row: y ⊙ (g − ⟨g, y⟩).
    public mutating func backward(_ outputGradient: Tensor) -> Tensor {
        guard let output else { preconditionFailure("backward before forward") }
        let columns = output.shape[output.rank - 1]
        var result = outputGradient
        result.scalars.withUnsafeMutableBufferPointer { gradient in
            output.scalars.withUnsafeBufferPointer { y in
                var offset = 0
                while offset < gradient.count {
                    var dot: Float = 0
                    for column in 0..<columns { dot += gradient[offset + column] * y[offset + column] }
                    for column in 0..<columns {
                        gradient[offset + column] = y[offset + column] * (gradient[offset + column] - dot)
                    }
                    offset += columns
                }
            }
        }
        return result
    }

    /// The layer description.
    public var spec: LayerSpec { LayerSpec(type: .softmax) }
}

/// x², the activation a homomorphic evaluator can compute (one ciphertext multiplication).
public struct Square: Layer {
    private var input: Tensor?

    /// Creates a square layer.
    public init() {}

    /// x² per value.
    public func callAsFunction(_ input: Tensor) -> Tensor { input.map { $0 * $0 } }

    /// The forward pass, caching the input.
    public mutating func forward(_ input: Tensor) -> Tensor {
        self.input = input
        return self(input)
    }

    /// dy · 2x.
    public mutating func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input else { preconditionFailure("backward before forward") }
        return outputGradient.zipMap(input) { gradient, x in 2 * x * gradient }
    }

    /// The layer description.
    public var spec: LayerSpec { LayerSpec(type: .square) }
}
