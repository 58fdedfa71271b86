import Foundation

extension Kernels {
    static let linear: [String: KernelBox] = [
        "Gemm": KernelBox(gemm),
        "MatMul": KernelBox(matMul),
        "Softmax": KernelBox(softmax(log: false)),
        "LogSoftmax": KernelBox(softmax(log: true)),
    ]

    /// C[m×n] = A[m×k] · B[k×n] for row-major operands, with either operand optionally transposed.
    static func multiply<T: BinaryFloatingPoint>(
        _ a: ArraySlice<T>, _ b: ArraySlice<T>, m: Int, k: Int, n: Int, transA: Bool, transB: Bool,
        into c: inout [T], at offset: Int
    ) {
        if T.self == Float.self, !transA, m > 0, n > 0, k > 0 {
            // Float: the register-blocked kernel, B laid out [k×n] (transposed here when it is not).
            var laidOut: [T] = []
            if transB {
                laidOut = [T](repeating: 0, count: k * n)
                let base = b.startIndex
                for j in 0..<n { for p in 0..<k { laidOut[p * n + j] = b[base + j * k + p] } }
            }
            let source = transB ? laidOut[...] : b
            a.withUnsafeBufferPointer { a in
                source.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        SGEMM.multiply(
                            m: m, n: n, k: k, a: UnsafeRawPointer(a.baseAddress!).assumingMemoryBound(to: Float.self),
                            lda: k, b: UnsafeRawPointer(b.baseAddress!).assumingMemoryBound(to: Float.self), ldb: n,
                            c: UnsafeMutableRawPointer(c.baseAddress! + offset).assumingMemoryBound(to: Float.self),
                            ldc: n, accumulate: false)
                    }
                }
            }
            return
        }
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    if transB && !transA {
                        // Rows of A against rows of B: both contiguous (torch's Linear layout).
                        for i in 0..<m {
                            for j in 0..<n {
                                var sum: T = 0
                                for p in 0..<k { sum += a[i * k + p] * b[j * k + p] }
                                c[offset + i * n + j] = sum
                            }
                        }
                        return
                    }
                    for i in 0..<m {
                        let row = offset + i * n
                        for j in 0..<n { c[row + j] = 0 }
                        for p in 0..<k {
                            let scale = transA ? a[p * m + i] : a[i * k + p]
                            if scale == 0 { continue }
                            if transB {
                                for j in 0..<n { c[row + j] += scale * b[j * k + p] }
                            } else {
                                let base = p * n
                                for j in 0..<n { c[row + j] += scale * b[base + j] }
                            }
                        }
                    }
                }
            }
        }
    }

    static let gemm: Kernel = { node, arguments, context in
        if case .gemm(let packed) = node.prepared, let out = try packedGemm(packed, arguments, &context) {
            return [out]
        }
        let a = try arguments.required(0)
        let b = try arguments.required(1)
        guard a.shape.count == 2, b.shape.count == 2 else { throw KernelError("A and B must be matrices") }
        let transA = node.int("transA", 0) != 0
        let transB = node.int("transB", 0) != 0
        let (m, k) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (kB, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard k == kB else { throw KernelError("A is \(a.shape) and B is \(b.shape): inner dimensions differ") }
        try context.reserve(product: [m, n])
        let alpha = Double(node.float("alpha", 1))
        let beta = Double(node.float("beta", 1))
        let c = arguments.optional(2)
        func finish<T: BinaryFloatingPoint>(
            _ x: [T], _ y: [T], _ bias: [T]?, _ make: ([T]) -> Tensor.Storage
        ) throws
            -> Tensor
        {
            var out = [T](repeating: 0, count: m * n)
            multiply(x[...], y[...], m: m, k: k, n: n, transA: transA, transB: transB, into: &out, at: 0)
            if alpha != 1 { for index in out.indices { out[index] *= T(alpha) } }
            if let bias, let c, beta != 0, bias.count == n, c.shape.last == n,
                c.shape.dropLast().allSatisfy({ $0 == 1 })
            {
                // A bias row (the usual case): added in place, no broadcast maps.
                let scaled = beta == 1 ? bias : bias.map { $0 * T(beta) }
                out.withUnsafeMutableBufferPointer { out in
                    for row in 0..<m { for column in 0..<n { out[row * n + column] += scaled[column] } }
                }
            } else if let bias, let c, beta != 0 {
                let (sum, _) = try Broadcast.zip(out, [m, n], bias, c.shape) { $0 + T(beta) * $1 }
                guard sum.count == m * n else { throw KernelError("C does not broadcast to [\(m), \(n)]") }
                out = sum
            }
            return a.with(shape: [m, n], storage: make(out))
        }
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)):
            var bias: [Float]?
            if let c {
                guard case .float(let values) = c.storage else { throw KernelError("C must be float") }; bias = values
            }
            var out = try finish(x, y, bias) { .float($0) }
            // A Relu folded into this node at load still applies on the general path.
            if case .gemm(let packed) = node.prepared, packed.relu, case .float(var values) = out.storage {
                out.storage = .float([])
                reluInPlace(&values)
                out.storage = .float(values)
            }
            return [out]
        case (.double(let x), .double(let y)):
            var bias: [Double]?
            if let c {
                guard case .double(let values) = c.storage else { throw KernelError("C must be double") }; bias = values
            }
            return [try finish(x, y, bias) { .double($0) }]
        default: throw KernelError("expects float or double matrices")
        }
    }

    static let matMul: Kernel = { _, arguments, context in
        let a = try arguments.required(0)
        let b = try arguments.required(1)
        guard !a.shape.isEmpty, !b.shape.isEmpty else { throw KernelError("inputs must not be scalars") }
        let shapeA = a.shape.count == 1 ? [1] + a.shape : a.shape
        let shapeB = b.shape.count == 1 ? b.shape + [1] : b.shape
        let (m, k) = (shapeA[shapeA.count - 2], shapeA[shapeA.count - 1])
        let (kB, n) = (shapeB[shapeB.count - 2], shapeB[shapeB.count - 1])
        guard k == kB else { throw KernelError("shapes \(a.shape) and \(b.shape) do not multiply") }
        let batchA = Array(shapeA.dropLast(2))
        let batchB = Array(shapeB.dropLast(2))
        let batch = try Broadcast.shape([batchA, batchB])
        let batches = Tensor.elementCount(batch)
        try context.reserve(product: [batches, m, n])
        let mapA = Broadcast.offsets(from: batchA, to: batch)
        let mapB = Broadcast.offsets(from: batchB, to: batch)
        var shape = batch + [m, n]
        if a.shape.count == 1 { shape.remove(at: shape.count - 2) }
        if b.shape.count == 1 { shape.removeLast() }
        func run<T: BinaryFloatingPoint>(_ x: [T], _ y: [T]) throws -> [T] {
            var out = [T](repeating: 0, count: batches * m * n)
            for index in 0..<batches {
                try context.checkDeadline()
                let offsetA = (mapA?[index] ?? index) * m * k
                let offsetB = (mapB?[index] ?? index) * k * n
                multiply(
                    x[offsetA..<offsetA + m * k], y[offsetB..<offsetB + k * n], m: m, k: k, n: n, transA: false,
                    transB: false, into: &out, at: index * m * n)
            }
            return out
        }
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)): return [a.with(shape: shape, storage: .float(try run(x, y)))]
        case (.double(let x), .double(let y)): return [a.with(shape: shape, storage: .double(try run(x, y)))]
        case (.int(let x), .int(let y)):
            let out = try run(x.map { Double($0) }, y.map { Double($0) })
            return [a.with(shape: shape, storage: .int(out.map { a.elementType.wrap(Tensor.clampedInteger($0)) }))]
        default: throw KernelError("expects numeric inputs of one type")
        }
    }

    /// Softmax or LogSoftmax: before opset 13 over the input flattened to 2-D at `axis` (default 1); from 13
    /// along `axis` alone (default -1).
    static func softmax(log: Bool) -> Kernel {
        { node, arguments, context in
            let x = try arguments.required(0)
            guard let values = x.doubles, x.elementType == .float || x.elementType == .double else {
                throw KernelError("expects float or double input")
            }
            let modern = context.opset >= 13
            let axis = x.shape.isEmpty ? 0 : try x.axis(node.int("axis", modern ? -1 : 1))
            let outer = x.shape.isEmpty ? 1 : x.shape[..<axis].reduce(1, *)
            let length = modern ? (x.shape.isEmpty ? 1 : x.shape[axis]) : x.shape[axis...].reduce(1, *)
            let inner = modern && !x.shape.isEmpty ? x.shape[(axis + 1)...].reduce(1, *) : 1
            var out = values
            for o in 0..<outer {
                for i in 0..<inner {
                    let base = o * length * inner + i
                    var largest = -Double.infinity
                    for j in 0..<length { largest = max(largest, values[base + j * inner]) }
                    var sum = 0.0
                    for j in 0..<length { sum += Foundation.exp(values[base + j * inner] - largest) }
                    for j in 0..<length {
                        let shifted = values[base + j * inner] - largest
                        out[base + j * inner] = log ? shifted - Foundation.log(sum) : Foundation.exp(shifted) / sum
                    }
                }
            }
            if x.elementType == .float { return [x.with(shape: x.shape, storage: .float(out.map { Float($0) }))] }
            return [x.with(shape: x.shape, storage: .double(out))]
        }
    }
}
