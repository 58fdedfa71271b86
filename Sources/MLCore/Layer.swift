/// A differentiable network layer.
///
/// `callAsFunction` is the pure inference path (safe to share across threads); `forward` also remembers what
/// `backward` needs, which then returns the gradient with respect to the input and keeps the parameter
/// gradients for the optimiser.
public protocol Layer: Sendable {
    /// The layer's output for `input` (inference; nothing is cached).
    func callAsFunction(_ input: Tensor) -> Tensor
    /// The training-time forward pass: like `callAsFunction`, and caches what `backward` needs.
    mutating func forward(_ input: Tensor) -> Tensor
    /// Given dLoss/dOutput for the last `forward`, stores parameter gradients and returns dLoss/dInput.
    mutating func backward(_ outputGradient: Tensor) -> Tensor
    /// The trainable parameters, in a fixed order (weights first).
    var parameters: [Tensor] { get set }
    /// The gradients of the last `backward`, in the order of `parameters`.
    var gradients: [Tensor] { get }
    /// Short names of the parameters ("weight", "bias"), used as safetensors keys.
    var parameterNames: [String] { get }
    /// The serialisable description of this layer.
    var spec: LayerSpec { get }
}

extension Layer {
    /// Parameterless layers have no parameters.
    public var parameters: [Tensor] {
        get { [] }
        set {}  // nothing to store
    }
    /// Parameterless layers have no gradients.
    public var gradients: [Tensor] { [] }
    /// Parameterless layers have no parameter names.
    public var parameterNames: [String] { [] }
}

/// The serialisable description of a layer, stored in `model_config.json`.
public struct LayerSpec: Codable, Sendable, Equatable {
    /// The kinds of layer.
    public enum Kind: String, Codable, Sendable {
        case dense, conv2D = "conv2d", maxPool2D = "maxpool2d", flatten, relu, sigmoid, softmax, square
    }

    /// Which layer this is.
    public var type: Kind
    /// Dense: input features. Conv2D: input channels.
    public var inputs: Int?
    /// Dense: output features. Conv2D: output channels (filters).
    public var outputs: Int?
    /// Conv2D and MaxPool2D: the square window size.
    public var kernelSize: Int?
    /// Conv2D and MaxPool2D: the step between windows.
    public var stride: Int?
    /// Conv2D: zero padding added on every side.
    public var padding: Int?

    /// Creates a layer description.
    public init(
        type: Kind, inputs: Int? = nil, outputs: Int? = nil, kernelSize: Int? = nil, stride: Int? = nil,
        padding: Int? = nil
    ) {
        self.type = type
        self.inputs = inputs
        self.outputs = outputs
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
    }

    /// Builds a freshly initialised layer from this description.
    public func makeLayer(using generator: inout SeededGenerator) throws(MLError) -> any Layer {
        func positive(_ value: Int?, _ name: String) throws(MLError) -> Int {
            guard let value, value > 0, value <= 1 << 20 else {
                throw MLError(.invalidConfiguration, "layer \(type.rawValue) has a missing or invalid \(name)")
            }
            return value
        }
        switch type {
        case .dense:
            return Dense(
                inputs: try positive(inputs, "inputs"), outputs: try positive(outputs, "outputs"),
                using: &generator)
        case .conv2D:
            let pad = padding ?? 0
            guard pad >= 0, pad < 64 else { throw MLError(.invalidConfiguration, "layer conv2d has invalid padding") }
            return Conv2D(
                inputChannels: try positive(inputs, "inputs"), outputChannels: try positive(outputs, "outputs"),
                kernelSize: try positive(kernelSize, "kernelSize"), stride: try positive(stride ?? 1, "stride"),
                padding: pad, using: &generator)
        case .maxPool2D:
            let size = try positive(kernelSize, "kernelSize")
            return MaxPool2D(size: size, stride: try positive(stride ?? size, "stride"))
        case .flatten: return Flatten()
        case .relu: return ReLU()
        case .sigmoid: return Sigmoid()
        case .softmax: return Softmax()
        case .square: return Square()
        }
    }
}
