/// Max pooling over NHWC input with a square window.
public struct MaxPool2D: Layer {
    /// The square window size.
    public let size: Int
    /// The step between windows.
    public let stride: Int
    private var winners: [Int32] = []
    private var inputShape: [Int] = []

    /// Creates a pooling layer; the stride defaults to the window size (non-overlapping windows).
    public init(size: Int, stride: Int? = nil) {
        self.size = size
        self.stride = stride ?? size
    }

    private func pool(_ input: Tensor, recording: Bool) -> (Tensor, [Int32]) {
        precondition(input.rank == 4, "maxpool2d input must be NHWC")
        let (batch, height, width, channels) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let oh = (height - size) / stride + 1
        let ow = (width - size) / stride + 1
        var out = [Float](repeating: -.infinity, count: batch * oh * ow * channels)
        var indices = [Int32](repeating: 0, count: recording ? out.count : 0)
        input.scalars.withUnsafeBufferPointer { source in
            for b in 0..<batch {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let outBase = ((b * oh + oy) * ow + ox) * channels
                        for ky in 0..<size {
                            for kx in 0..<size {
                                let inBase = ((b * height + oy * stride + ky) * width + ox * stride + kx) * channels
                                for c in 0..<channels where source[inBase + c] > out[outBase + c] {
                                    out[outBase + c] = source[inBase + c]
                                    if recording { indices[outBase + c] = Int32(inBase + c) }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (Tensor(shape: [batch, oh, ow, channels], scalars: out), indices)
    }

    /// The window maxima.
    public func callAsFunction(_ input: Tensor) -> Tensor { pool(input, recording: false).0 }

    /// The forward pass, remembering which input won each window.
    public mutating func forward(_ input: Tensor) -> Tensor {
        let (output, indices) = pool(input, recording: true)
        winners = indices
        inputShape = input.shape
        return output
    }

    /// Routes each output gradient to the input that won its window.
    public mutating func backward(_ outputGradient: Tensor) -> Tensor {
        var gradient = Tensor(zeros: inputShape)
        gradient.scalars.withUnsafeMutableBufferPointer { target in
            outputGradient.scalars.withUnsafeBufferPointer { source in
                for index in source.indices {
                    target[Int(winners[index])] += source[index]
                }
            }
        }
        return gradient
    }

    /// The layer description.
    public var spec: LayerSpec { LayerSpec(type: .maxPool2D, kernelSize: size, stride: stride) }
}
