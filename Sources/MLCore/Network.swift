/// A feed-forward stack of layers.
public struct Network: Sendable {
    /// The layers, input first.
    public var layers: [any Layer]

    /// Creates a network from layers.
    public init(layers: [any Layer]) {
        self.layers = layers
    }

    /// Builds freshly initialised layers from their descriptions.
    public init(specs: [LayerSpec], using generator: inout SeededGenerator) throws(MLError) {
        var layers: [any Layer] = []
        for spec in specs {
            layers.append(try spec.makeLayer(using: &generator))
        }
        self.layers = layers
    }

    /// The layer descriptions.
    public var specs: [LayerSpec] { layers.map(\.spec) }

    /// Inference: the output for `input` (pure; safe to call concurrently).
    public func callAsFunction(_ input: Tensor) -> Tensor {
        layers.reduce(input) { value, layer in layer(value) }
    }

    /// The training forward pass (layers cache what backward needs).
    public mutating func forward(_ input: Tensor) -> Tensor {
        var value = input
        for index in layers.indices {
            value = layers[index].forward(value)
        }
        return value
    }

    /// Backpropagates the loss of the last `forward` output against `targets`; returns the mean loss.
    /// Sigmoid + binary cross-entropy and softmax + categorical cross-entropy use the fused gradient (p − t)/n.
    @discardableResult
    public mutating func backward(output: Tensor, targets: Tensor, loss: Loss) -> Double {
        let value = loss.value(output, targets)
        var lower = layers.count - 1
        var gradient: Tensor
        if let last = layers.last, loss.fuses(with: last.spec.type) {
            let batch = Float(max(output.shape[0], 1))
            gradient = output.zipMap(targets) { p, t in (p - t) / batch }
            lower -= 1
        } else {
            gradient = loss.gradient(output, targets)
        }
        for index in stride(from: lower, through: 0, by: -1) {
            gradient = layers[index].backward(gradient)
        }
        return value
    }

    /// Every parameter keyed "layers.<index>.<name>" (the safetensors tensor names).
    public var namedParameters: [(name: String, tensor: Tensor)] {
        layers.enumerated().flatMap { index, layer in
            zip(layer.parameterNames, layer.parameters).map { ("layers.\(index).\($0)", $1) }
        }
    }

    /// Replaces every parameter from `tensors`; each must be present with the expected shape, and no tensor may be
    /// left over.
    public mutating func loadParameters(_ tensors: [String: Tensor]) throws(MLError) {
        var used = 0
        for index in layers.indices {
            var parameters = layers[index].parameters
            for (position, name) in layers[index].parameterNames.enumerated() {
                let key = "layers.\(index).\(name)"
                guard let tensor = tensors[key] else {
                    throw MLError(.invalidConfiguration, "weights file lacks tensor \(key)")
                }
                guard tensor.shape == parameters[position].shape else {
                    throw MLError(.invalidConfiguration, "tensor \(key) has the wrong shape")
                }
                parameters[position] = tensor
                used += 1
            }
            layers[index].parameters = parameters
        }
        guard used == tensors.count else {
            throw MLError(.invalidConfiguration, "weights file holds tensors the architecture does not use")
        }
    }
}
