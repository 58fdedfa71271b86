extension Kernels {
    /// MaxPool with a 2×2 window, stride 2, no padding or dilation, every window inside the input: four outputs
    /// per step from two eight-float loads (even lanes are the window's left column, odd lanes its right).
    ///
    /// Folds the window in the general path's order and by its rule (`Swift.max(best, value)` from -∞: a value
    /// replaces the best when it is `>=`, so NaN is skipped and a later zero's sign wins), so both agree bit
    /// for bit.
    static func maxPool2x2(_ input: [Float], into out: inout [Float], planes: Int, h: Int, w: Int, oh: Int, ow: Int) {
        input.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { out in
                guard let source = input.baseAddress, let target = out.baseAddress else { return }
                for plane in 0..<planes {
                    for y in 0..<oh {
                        let top = source + plane * h * w + 2 * y * w
                        let bottom = top + w
                        let row = target + (plane * oh + y) * ow
                        var x = 0
                        while x + 4 <= ow {
                            let upper = UnsafeRawPointer(top + 2 * x).loadUnaligned(as: SIMD8<Float>.self)
                            let lower = UnsafeRawPointer(bottom + 2 * x).loadUnaligned(as: SIMD8<Float>.self)
                            var best = SIMD4<Float>(repeating: -.infinity)
                            fold(&best, upper.evenHalf)
                            fold(&best, upper.oddHalf)
                            fold(&best, lower.evenHalf)
                            fold(&best, lower.oddHalf)
                            UnsafeMutableRawPointer(row + x).storeBytes(of: best, as: SIMD4<Float>.self)
                            x += 4
                        }
                        while x < ow {
                            row[x] = Swift.max(
                                Swift.max(Swift.max(Swift.max(-.infinity, top[2 * x]), top[2 * x + 1]), bottom[2 * x]),
                                bottom[2 * x + 1])
                            x += 1
                        }
                    }
                }
            }
        }
    }

    /// `Swift.max(best, value)` lane by lane.
    @inline(__always)
    private static func fold(_ best: inout SIMD4<Float>, _ value: SIMD4<Float>) {
        best.replace(with: value, where: value .>= best)
    }
}
