/// Gemm's constant float B laid out once at load as `[K, N]` rows (transposed when transB is set), each padded
/// with zeros to a multiple of eight columns, so the register-blocked kernel reads the last columns in place
/// instead of copying them into a padded panel on every run. Only for transA = 0 and alpha = 1, the form
/// exporters write for Linear layers.
struct PackedGemm: Sendable {
    let weights: [Float]
    let k: Int
    let n: Int
    /// Floats per row of `weights`: `n` rounded up to a multiple of 8.
    let stride: Int
    let beta: Float
    /// Whether a Relu that alone reads this node's output was folded into it (see `ONNXModel.foldActivations`).
    var relu = false

    /// Packs `weight` for `node`, or `nil` when the node or weight does not suit it or `budget` refuses the bytes.
    init?(node: Node, weight: Tensor, budget: LoadBudget) {
        guard node.int("transA", 0) == 0, node.float("alpha", 1) == 1, weight.shape.count == 2,
            case .float(let values) = weight.storage, values.count == weight.shape[0] * weight.shape[1]
        else { return nil }
        let transposed = node.int("transB", 0) != 0
        let (k, n) = transposed ? (weight.shape[1], weight.shape[0]) : (weight.shape[0], weight.shape[1])
        guard k > 0, n > 0 else { return nil }
        let stride = (n + 7) / 8 * 8
        let (count, overflow) = k.multipliedReportingOverflow(by: stride)
        guard !overflow, budget.admitPacked(bytes: count * MemoryLayout<Float>.stride) else { return nil }
        var packed = [Float](repeating: 0, count: count)
        for p in 0..<k {
            for j in 0..<n { packed[p * stride + j] = transposed ? values[j * k + p] : values[p * n + j] }
        }
        weights = packed
        self.k = k
        self.n = n
        self.stride = stride
        beta = node.float("beta", 1)
    }
}

extension Kernels {
    /// Gemm on packed B: `A · B + beta · C` with a bias row C (or none), the bias and a folded Relu applied as
    /// each block is stored, into a pooled buffer. `nil` when A or C do not have that form: the caller takes
    /// the general path.
    static func packedGemm(
        _ packed: PackedGemm, _ arguments: [Tensor?], _ context: inout ExecutionContext
    ) throws -> Tensor? {
        guard let a = arguments.optional(0), a.shape.count == 2, a.shape[1] == packed.k,
            case .float(let x) = a.storage, x.count == a.shape[0] * packed.k
        else { return nil }
        let (m, n) = (a.shape[0], packed.n)
        var bias: [Float]?
        if let c = arguments.optional(2), packed.beta != 0 {
            guard case .float(let values) = c.storage, values.count == n, c.shape.last == n,
                c.shape.dropLast().allSatisfy({ $0 == 1 })
            else { return nil }
            bias = packed.beta == 1 ? values : values.map { $0 * packed.beta }
        }
        try context.reserve(m * n)
        // Every element is written by the kernel (each row, each column), so a pooled buffer does.
        var out = context.floats(count: m * n)
        if m > 0 {
            x.withUnsafeBufferPointer { x in
                packed.weights.withUnsafeBufferPointer { weights in
                    out.withUnsafeMutableBufferPointer { out in
                        (bias ?? []).withUnsafeBufferPointer { given in
                            SGEMM.multiply(
                                m: m, n: n, k: packed.k, a: x.baseAddress!, lda: packed.k, b: weights.baseAddress!,
                                ldb: packed.stride, c: out.baseAddress!, ldc: n,
                                epilogue: SGEMM.Epilogue(
                                    bias: bias == nil ? nil : given.baseAddress!, relu: packed.relu),
                                paddedB: true)
                        }
                    }
                }
            }
        }
        return a.with(shape: [m, n], storage: .float(out))
    }
}
