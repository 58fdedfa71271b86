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
/// A·B and Aᵀ·B share one kernel that accumulates register tiles of C in SIMD vectors (A is read through strides,
/// so the transpose is never materialised); large products are split by rows across cores.
enum GEMM {
    /// Products below this many multiply-adds run on one thread (thread start-up would dominate).
    static let parallelThreshold = 1 << 21

    /// C[m×n] = A[m×k] · B[k×n]; C must be zeroed.
    static func times(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
    ) {
        // Chunks write disjoint rows of C, so sharing the raw pointers across threads is race-free.
        nonisolated(unsafe) let (a, b, c) = (a, b, c)
        forRowChunks(rows: m, work: m * n * k) { rowRange in
            kernel(rows: rowRange, n: n, k: k, a: a, rowStride: k, depthStride: 1, b: b, c: c)
        }
    }

    /// C[m×n] = Aᵀ · B where A is k×m and B is k×n; C must be zeroed.
    static func transposedTimes(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
    ) {
        nonisolated(unsafe) let (a, b, c) = (a, b, c)
        forRowChunks(rows: m, work: m * n * k) { rowRange in
            kernel(rows: rowRange, n: n, k: k, a: a, rowStride: 1, depthStride: m, b: b, c: c)
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

    /// op(A)·B for a range of rows of C, where op(A)[i, p] = a[i · rowStride + p · depthStride] (A·B: k, 1;
    /// Aᵀ·B: 1, m). A 4-row × 8-column tile of C is accumulated in SIMD registers over the whole K dimension
    /// (one vector load of B and four broadcasts of A per step), then stored once; leftover rows and columns take
    /// a row-streaming path that skips zero entries of A (common after ReLU).
    @inline(__always)
    static func kernel(
        rows: Range<Int>, n: Int, k: Int, a: UnsafePointer<Float>, rowStride: Int, depthStride: Int,
        b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
    ) {
        let tiledColumns = n & ~7
        let bStride = n * MemoryLayout<Float>.stride
        var i = rows.lowerBound
        while i + 4 <= rows.upperBound {
            let a0 = a + i * rowStride
            let a1 = a0 + rowStride
            let a2 = a1 + rowStride
            let a3 = a2 + rowStride
            var j = 0
            while j < tiledColumns {
                var s0 = SIMD8<Float>()
                var s1 = SIMD8<Float>()
                var s2 = SIMD8<Float>()
                var s3 = SIMD8<Float>()
                var bPointer = UnsafeRawPointer(b + j)
                var offset = 0
                for _ in 0..<k {
                    let bVector = bPointer.loadUnaligned(as: SIMD8<Float>.self)
                    s0 += SIMD8(repeating: a0[offset]) * bVector
                    s1 += SIMD8(repeating: a1[offset]) * bVector
                    s2 += SIMD8(repeating: a2[offset]) * bVector
                    s3 += SIMD8(repeating: a3[offset]) * bVector
                    bPointer += bStride
                    offset += depthStride
                }
                let c0 = UnsafeMutableRawPointer(c + i * n + j)
                c0.storeBytes(of: s0, as: SIMD8<Float>.self)
                (c0 + bStride).storeBytes(of: s1, as: SIMD8<Float>.self)
                (c0 + 2 * bStride).storeBytes(of: s2, as: SIMD8<Float>.self)
                (c0 + 3 * bStride).storeBytes(of: s3, as: SIMD8<Float>.self)
                j += 8
            }
            if tiledColumns < n {
                for row in i..<(i + 4) {
                    stream(row: row, columns: tiledColumns..<n, n: n, k: k, a: a, rowStride, depthStride, b: b, c: c)
                }
            }
            i += 4
        }
        while i < rows.upperBound {
            stream(row: i, columns: 0..<n, n: n, k: k, a: a, rowStride, depthStride, b: b, c: c)
            i += 1
        }
    }

    /// C[row, columns] += Σ_p op(A)[row, p] · B[p, columns], skipping zero entries of A.
    @inline(__always)
    static func stream(
        row: Int, columns: Range<Int>, n: Int, k: Int, a: UnsafePointer<Float>, _ rowStride: Int,
        _ depthStride: Int, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
    ) {
        let aRow = a + row * rowStride
        let cRow = c + row * n
        for p in 0..<k {
            let x = aRow[p * depthStride]
            if x == 0 { continue }
            let bRow = b + p * n
            for column in columns { cRow[column] += x * bRow[column] }
        }
    }
}

/// The number of cores to split work over, read once.
enum ProcessInfoCores {
    static let count = ProcessInfo.processInfo.activeProcessorCount
}
