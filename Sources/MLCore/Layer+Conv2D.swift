/// A 2-D convolution over NHWC input ([batch, height, width, channels]), computed as im2col + one matrix product.
public struct Conv2D: Layer {
    /// The kernel, [kernelSize, kernelSize, inputChannels, outputChannels] (i.e. one im2col column per row).
    public var weight: Tensor
    /// The bias, [outputChannels].
    public var bias: Tensor
    /// The step between window positions.
    public let stride: Int
    /// Zero padding on every side.
    public let padding: Int
    /// The square window size.
    public let kernelSize: Int
    private var columns: Tensor?
    private var geometry: ConvolutionGeometry?
    private var weightGradient: Tensor
    private var biasGradient: Tensor

    /// Creates a convolution with He-uniform weights and zero bias.
    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        using generator: inout SeededGenerator
    ) {
        let fanIn = kernelSize * kernelSize * inputChannels
        let limit = (6 / Float(fanIn)).squareRoot()
        let shape = [kernelSize, kernelSize, inputChannels, outputChannels]
        weight = Tensor(randomUniform: shape, in: -limit...limit, using: &generator)
        bias = Tensor(zeros: [outputChannels])
        weightGradient = Tensor(zeros: shape)
        biasGradient = Tensor(zeros: [outputChannels])
        self.stride = stride
        self.padding = padding
        self.kernelSize = kernelSize
    }

    private var inputChannels: Int { weight.shape[2] }
    private var outputChannels: Int { weight.shape[3] }

    private func geometry(for input: Tensor) -> ConvolutionGeometry {
        precondition(input.rank == 4 && input.shape[3] == inputChannels, "conv2d input must be NHWC with matching C")
        return ConvolutionGeometry(
            batch: input.shape[0], height: input.shape[1], width: input.shape[2], channels: inputChannels,
            kernel: kernelSize, stride: stride, padding: padding)
    }

    private func output(columns: Tensor, _ g: ConvolutionGeometry) -> Tensor {
        let kernelMatrix = weight.reshaped([g.patchSize, outputChannels])
        return columns.matmul(kernelMatrix).addingToEachRow(bias)
            .reshaped([g.batch, g.outputHeight, g.outputWidth, outputChannels])
    }

    /// The output, [batch, outHeight, outWidth, outputChannels].
    public func callAsFunction(_ input: Tensor) -> Tensor {
        let g = geometry(for: input)
        return output(columns: input.imageToColumns(g), g)
    }

    /// The forward pass, caching the im2col matrix.
    public mutating func forward(_ input: Tensor) -> Tensor {
        let g = geometry(for: input)
        let columns = input.imageToColumns(g)
        self.columns = columns
        self.geometry = g
        return output(columns: columns, g)
    }

    /// dW = colsᵀ·dy, db = Σ dy, dx = col2im(dy·Wᵀ).
    public mutating func backward(_ outputGradient: Tensor) -> Tensor {
        guard let columns, let geometry else { preconditionFailure("backward before forward") }
        let dy = outputGradient.reshaped([columns.shape[0], outputChannels])
        weightGradient = columns.matmul(dy, transposingSelf: true).reshaped(weight.shape)
        biasGradient = dy.sumOverRows()
        let kernelMatrix = weight.reshaped([geometry.patchSize, outputChannels])
        return dy.matmul(kernelMatrix, transposingOther: true).columnsToImage(geometry)
    }

    /// The kernel and the bias.
    public var parameters: [Tensor] {
        get { [weight, bias] }
        set {
            weight = newValue[0]
            bias = newValue[1]
        }
    }
    /// The gradients of the kernel and the bias.
    public var gradients: [Tensor] { [weightGradient, biasGradient] }
    /// "weight" and "bias".
    public var parameterNames: [String] { ["weight", "bias"] }
    /// The layer description.
    public var spec: LayerSpec {
        LayerSpec(
            type: .conv2D, inputs: inputChannels, outputs: outputChannels, kernelSize: kernelSize, stride: stride,
            padding: padding)
    }
}
