/// A fully connected layer: `y = x · W + b` with `W` of shape [inputs, outputs].
public struct Dense: Layer {
    /// The weight matrix, [inputs, outputs].
    public var weight: Tensor
    /// The bias, [outputs].
    public var bias: Tensor
    private var input: Tensor?
    private var weightGradient: Tensor
    private var biasGradient: Tensor

    /// Creates a layer with Glorot-uniform weights and zero bias.
    public init(inputs: Int, outputs: Int, using generator: inout SeededGenerator) {
        let limit = (6 / Float(inputs + outputs)).squareRoot()
        weight = Tensor(randomUniform: [inputs, outputs], in: -limit...limit, using: &generator)
        bias = Tensor(zeros: [outputs])
        weightGradient = Tensor(zeros: [inputs, outputs])
        biasGradient = Tensor(zeros: [outputs])
    }

    /// The output for a [batch, inputs] input.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.matmul(weight).addingToEachRow(bias)
    }

    /// The forward pass, caching the input.
    public mutating func forward(_ input: Tensor) -> Tensor {
        self.input = input
        return self(input)
    }

    /// dW = xᵀ·dy, db = Σ dy, dx = dy·Wᵀ.
    public mutating func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input else { preconditionFailure("backward before forward") }
        weightGradient = input.matmul(outputGradient, transposingSelf: true)
        biasGradient = outputGradient.sumOverRows()
        return outputGradient.matmul(weight, transposingOther: true)
    }

    /// The weight and the bias.
    public var parameters: [Tensor] {
        get { [weight, bias] }
        set {
            weight = newValue[0]
            bias = newValue[1]
        }
    }
    /// The gradients of the weight and the bias.
    public var gradients: [Tensor] { [weightGradient, biasGradient] }
    /// "weight" and "bias".
    public var parameterNames: [String] { ["weight", "bias"] }
    /// The layer description.
    public var spec: LayerSpec { LayerSpec(type: .dense, inputs: weight.shape[0], outputs: weight.shape[1]) }
}
