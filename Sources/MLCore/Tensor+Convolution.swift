/// The geometry of a 2-D convolution or pooling window over an NHWC batch.
struct ConvolutionGeometry: Sendable, Equatable {
    var batch: Int
    var height: Int
    var width: Int
    var channels: Int
    var kernel: Int
    var stride: Int
    var padding: Int

    var outputHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    var outputWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    /// One im2col row: every input value under one window position.
    var patchSize: Int { kernel * kernel * channels }
}

extension Tensor {
    /// im2col: rewrites an NHWC batch as a matrix with one row per output position and one column per
    /// (ky, kx, channel) of the window, so that a convolution becomes one matrix product. Padding reads as zero.
    func imageToColumns(_ g: ConvolutionGeometry) -> Tensor {
        let oh = g.outputHeight
        let ow = g.outputWidth
        let rows = g.batch * oh * ow
        var out = [Float](repeating: 0, count: rows * g.patchSize)
        scalars.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                let src = source.baseAddress!
                let dst = target.baseAddress!
                var row = 0
                for b in 0..<g.batch {
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            let rowBase = dst + row * g.patchSize
                            for ky in 0..<g.kernel {
                                let iy = oy * g.stride - g.padding + ky
                                if iy < 0 || iy >= g.height { continue }
                                for kx in 0..<g.kernel {
                                    let ix = ox * g.stride - g.padding + kx
                                    if ix < 0 || ix >= g.width { continue }
                                    let from = src + ((b * g.height + iy) * g.width + ix) * g.channels
                                    (rowBase + (ky * g.kernel + kx) * g.channels).update(from: from, count: g.channels)
                                }
                            }
                            row += 1
                        }
                    }
                }
            }
        }
        return Tensor(shape: [rows, g.patchSize], scalars: out)
    }

    /// col2im: the adjoint of `imageToColumns`, summing each column value back into the input position it came
    /// from (overlapping windows accumulate).
    func columnsToImage(_ g: ConvolutionGeometry) -> Tensor {
        let oh = g.outputHeight
        let ow = g.outputWidth
        var out = [Float](repeating: 0, count: g.batch * g.height * g.width * g.channels)
        scalars.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                let src = source.baseAddress!
                let dst = target.baseAddress!
                var row = 0
                for b in 0..<g.batch {
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            let rowBase = src + row * g.patchSize
                            for ky in 0..<g.kernel {
                                let iy = oy * g.stride - g.padding + ky
                                if iy < 0 || iy >= g.height { continue }
                                for kx in 0..<g.kernel {
                                    let ix = ox * g.stride - g.padding + kx
                                    if ix < 0 || ix >= g.width { continue }
                                    let to = dst + ((b * g.height + iy) * g.width + ix) * g.channels
                                    let from = rowBase + (ky * g.kernel + kx) * g.channels
                                    for c in 0..<g.channels { to[c] += from[c] }
                                }
                            }
                            row += 1
                        }
                    }
                }
            }
        }
        return Tensor(shape: [g.batch, g.height, g.width, g.channels], scalars: out)
    }
}
