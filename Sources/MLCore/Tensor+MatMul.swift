import Dispatch
import Foundation

extension Tensor {
    /// The matrix product of two rank-2 tensors, `op(self) · op(other)`, where `op` optionally transposes.
    ///
    /// The transposed forms are what backpropagation needs: `dX = dY · Wᵀ` and `dW = Xᵀ · dY`.
    public func matmul(_ other: Tensor, transposingSelf: Bool = false, transposingOther: Bool = false) -> Tensor {
        precondition(rank == 2 && other.rank == 2, "matmul needs rank-2 tensors")
        let (m, k) = transposingSelf ? (shape[1], shape[0]) : (shape[0], shape[1])
        let (otherK, n) = transposingOther ? (other.shape[1], other.shape[0]) : (other.shape[0], other.shape[1])
        precondition(k == otherK, "matmul inner dimensions differ")
        // Aᵀ·B runs as rank-1 updates directly; A·Bᵀ transposes B once (O(kn)) and runs the A·B kernel.
        let right = transposingOther ? other.transposed() : other
        var out = [Float](repeating: 0, count: m * n)
        scalars.withUnsafeBufferPointer { a in
            right.scalars.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { c in
                    if transposingSelf {
                        GEMM.transposedTimes(
                            m: m, n: n, k: k, a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!)
                    } else {
                        GEMM.times(m: m, n: n, k: k, a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!)
                    }
                }
            }
        }
        return Tensor(shape: [m, n], scalars: out)
    }

    /// The transpose of a rank-2 tensor (cache-blocked).
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed needs a rank-2 tensor")
        let rows = shape[0]
        let columns = shape[1]
        var out = [Float](repeating: 0, count: count)
        let block = 32
        scalars.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for rowBlock in stride(from: 0, to: rows, by: block) {
                    for columnBlock in stride(from: 0, to: columns, by: block) {
                        for row in rowBlock..<min(rowBlock + block, rows) {
                            for column in columnBlock..<min(columnBlock + block, columns) {
                                target[column * rows + row] = source[row * columns + column]
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [columns, rows], scalars: out)
    }
}

/// Single-precision matrix kernels on raw row-major buffers.
///
/// The inner loop runs over contiguous rows of B and C so the compiler vectorises it; the K dimension is
/// blocked so that a panel of B stays in cache while a block of A rows streams past; large products are split
/// by rows across cores.
enum GEMM {
    /// Products below this many multiply-adds run on one thread (thread start-up would dominate).
    static let parallelThreshold = 1 << 21
    static let kBlock = 128

    /// C[m×n] = A[m×k] · B[k×n]; C must be zeroed.
    static func times(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
    ) {
        // Chunks write disjoint rows of C, so sharing the raw pointers across threads is race-free.
        nonisolated(unsafe) let (a, b, c) = (a, b, c)
        forRowChunks(rows: m, work: m * n * k) { rowRange in
            kernelNN(rows: rowRange, n: n, k: k, a: a, b: b, c: c)
        }
    }

    /// C[m×n] = Aᵀ · B where A is k×m and B is k×n; C must be zeroed.
    static func transposedTimes(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
    ) {
        nonisolated(unsafe) let (a, b, c) = (a, b, c)
        forRowChunks(rows: m, work: m * n * k) { rowRange in
            kernelTN(rows: rowRange, m: m, n: n, k: k, a: a, b: b, c: c)
        }
    }

    /// Runs `body` over disjoint row ranges, in parallel when the product is large enough to pay.
    static func forRowChunks(rows: Int, work: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let cores = ProcessInfoCores.count
        guard work >= parallelThreshold, cores > 1, rows >= 8 else {
            body(0..<rows)
            return
        }
        let chunks = min(cores * 2, rows / 4)
        let size = (rows + chunks - 1) / chunks
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = chunk * size
            let end = min(start + size, rows)
            if start < end { body(start..<end) }
        }
    }

    @inline(__always)
    static func kernelNN(
        rows: Range<Int>, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>
    ) {
        for kStart in stride(from: 0, to: k, by: kBlock) {
            let kEnd = min(kStart + kBlock, k)
            var i = rows.lowerBound
            // Two rows of A at a time: each loaded row of B feeds two rows of C.
            while i + 1 < rows.upperBound {
                let c0 = c + i * n
                let c1 = c0 + n
                let a0 = a + i * k
                let a1 = a0 + k
                for p in kStart..<kEnd {
                    let x0 = a0[p]
                    let x1 = a1[p]
                    if x0 == 0 && x1 == 0 { continue }  // ReLU activations are often zero
                    let bRow = b + p * n
                    for j in 0..<n {
                        let value = bRow[j]
                        c0[j] += x0 * value
                        c1[j] += x1 * value
                    }
                }
                i += 2
            }
            if i < rows.upperBound {
                let c0 = c + i * n
                let a0 = a + i * k
                for p in kStart..<kEnd {
                    let x0 = a0[p]
                    if x0 == 0 { continue }
                    let bRow = b + p * n
                    for j in 0..<n {
                        c0[j] += x0 * bRow[j]
                    }
                }
            }
        }
    }

    @inline(__always)
    static func kernelTN(
        rows: Range<Int>, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>
    ) {
        for p in 0..<k {
            let aRow = a + p * m
            let bRow = b + p * n
            for i in rows {
                let x = aRow[i]
                if x == 0 { continue }
                let cRow = c + i * n
                for j in 0..<n {
                    cRow[j] += x * bRow[j]
                }
            }
        }
    }
}

/// The number of cores to split work over, read once.
enum ProcessInfoCores {
    static let count = ProcessInfo.processInfo.activeProcessorCount
}
