extension LayerSpec {
    /// The largest parameter count a configuration may declare (2^28 values, 1 GiB of Float32).
    static let maximumParameterCount = 1 << 28

    /// The shapes of this layer's parameters (weight first), as `makeLayer` allocates them.
    var parameterShapes: [[Int]] {
        switch type {
        case .dense: return [[inputs ?? 0, outputs ?? 0], [outputs ?? 0]]
        case .conv2D: return [[kernelSize ?? 0, kernelSize ?? 0, inputs ?? 0, outputs ?? 0], [outputs ?? 0]]
        default: return []
        }
    }

    /// The per-example output shape for a per-example input shape, or an error if the layer cannot take that
    /// input. Checked before anything is allocated, so a hostile configuration cannot make a reader crash.
    func outputShape(for input: [Int]) throws(MLError) -> [Int] {
        let name = type.rawValue
        func positive(_ value: Int?) -> Int? { value.flatMap { $0 > 0 && $0 <= 1 << 20 ? $0 : nil } }
        switch type {
        case .dense:
            guard input.count == 1, let inputs = positive(inputs), input[0] == inputs, let outputs = positive(outputs)
            else {
                throw MLError(.invalidConfiguration, "layer \(name) does not fit its input shape")
            }
            return [outputs]
        case .conv2D, .maxPool2D:
            guard input.count == 3, let kernel = positive(kernelSize), let stride = positive(stride ?? kernelSize)
            else {
                throw MLError(.invalidConfiguration, "layer \(name) needs an image input and a valid window")
            }
            let pad = type == .conv2D ? (padding ?? 0) : 0
            // Image sides are bounded like every other size, so `side + 2 * pad` cannot overflow.
            guard input.allSatisfy({ $0 > 0 && $0 <= 1 << 20 }), pad >= 0, pad <= kernel,
                input[0] + 2 * pad >= kernel, input[1] + 2 * pad >= kernel
            else {
                throw MLError(.invalidConfiguration, "layer \(name) has a window larger than its input")
            }
            let height = (input[0] + 2 * pad - kernel) / stride + 1
            let width = (input[1] + 2 * pad - kernel) / stride + 1
            if type == .maxPool2D { return [height, width, input[2]] }
            guard let inputs = positive(inputs), inputs == input[2], let outputs = positive(outputs) else {
                throw MLError(.invalidConfiguration, "layer \(name) does not fit its input channels")
            }
            return [height, width, outputs]
        case .flatten:
            guard let count = input.checkedProduct(limit: LayerSpec.maximumParameterCount) else {
                throw MLError(.invalidConfiguration, "layer \(name) flattens too many values")
            }
            return [count]
        case .relu, .sigmoid, .softmax, .square:
            return input
        }
    }
}

extension ModelConfig {
    /// Walks the layers from `inputShape`, checking each fits and that the output is one value per class (or a
    /// single sigmoid output for two classes), and bounds the total parameter count.
    func validateArchitecture() throws(MLError) {
        var shape = inputShape
        var parameters = 0
        for layer in layers {
            shape = try layer.outputShape(for: shape)
            for parameterShape in layer.parameterShapes {
                var count = 1
                for dimension in parameterShape {
                    let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                    guard !overflow, product <= LayerSpec.maximumParameterCount else {
                        throw MLError(.invalidConfiguration, "the model declares too many parameters")
                    }
                    count = product
                }
                parameters += count
                guard parameters <= LayerSpec.maximumParameterCount else {
                    throw MLError(.invalidConfiguration, "the model declares too many parameters")
                }
            }
        }
        guard shape == [labelNames.count] || (labelNames.count == 2 && shape == [1]) else {
            throw MLError(.invalidConfiguration, "the layers do not map the input to one output per class")
        }
    }
}
