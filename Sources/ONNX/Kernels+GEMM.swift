/// A register-blocked single-precision matrix product in portable Swift SIMD (no intrinsics, no unsafe flags):
/// 6 (or 4) rows of A against 8 columns of B per step, accumulated in `SIMD4<Float>` registers, so every loaded
/// value of B serves several rows and C is written once per block.
enum SGEMM {
    /// `C[m×n] (+)= A[m×k] · B[k×n]`, all row-major with leading dimensions `lda`, `ldb`, `ldc`. With
    /// `accumulate` false, C's previous contents are ignored.
    static func multiply(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
    ) {
        var i = 0
        while i + 6 <= m {
            var j = 0
            while j + 8 <= n {
                block6x8(k: k, a: a + i * lda, lda: lda, b: b + j, ldb: ldb, c: c + i * ldc + j, ldc: ldc, accumulate)
                j += 8
            }
            if j < n {
                for row in i..<(i + 6) {
                    columns(j..<n, k: k, a: a + row * lda, b: b, ldb: ldb, c: c + row * ldc, accumulate)
                }
            }
            i += 6
        }
        while i + 4 <= m {
            var j = 0
            while j + 8 <= n {
                block4x8(k: k, a: a + i * lda, lda: lda, b: b + j, ldb: ldb, c: c + i * ldc + j, ldc: ldc, accumulate)
                j += 8
            }
            if j < n {
                for row in i..<(i + 4) {
                    columns(j..<n, k: k, a: a + row * lda, b: b, ldb: ldb, c: c + row * ldc, accumulate)
                }
            }
            i += 4
        }
        while i < m {
            var j = 0
            while j + 8 <= n {
                block1x8(k: k, a: a + i * lda, b: b + j, ldb: ldb, c: c + i * ldc + j, accumulate)
                j += 8
            }
            if j < n { columns(j..<n, k: k, a: a + i * lda, b: b, ldb: ldb, c: c + i * ldc, accumulate) }
            i += 1
        }
    }

    @inline(__always)
    private static func load(_ pointer: UnsafePointer<Float>) -> SIMD4<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD4<Float>.self)
    }

    @inline(__always)
    private static func store(_ value: SIMD4<Float>, _ pointer: UnsafeMutablePointer<Float>, _ accumulate: Bool) {
        let raw = UnsafeMutableRawPointer(pointer)
        if accumulate {
            raw.storeBytes(of: value + raw.loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
        } else {
            raw.storeBytes(of: value, as: SIMD4<Float>.self)
        }
    }

    /// Six rows: twelve accumulators, two B vectors and one broadcast fill the sixteen SSE registers.
    private static func block6x8(
        k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, _ accumulate: Bool
    ) {
        var c00 = SIMD4<Float>(), c01 = SIMD4<Float>()
        var c10 = SIMD4<Float>(), c11 = SIMD4<Float>()
        var c20 = SIMD4<Float>(), c21 = SIMD4<Float>()
        var c30 = SIMD4<Float>(), c31 = SIMD4<Float>()
        var c40 = SIMD4<Float>(), c41 = SIMD4<Float>()
        var c50 = SIMD4<Float>(), c51 = SIMD4<Float>()
        let a1 = a + lda
        let a2 = a1 + lda
        let a3 = a2 + lda
        let a4 = a3 + lda
        let a5 = a4 + lda
        var row = b
        for p in 0..<k {
            let b0 = load(row)
            let b1 = load(row + 4)
            var x = SIMD4(repeating: a[p])
            c00 += x * b0
            c01 += x * b1
            x = SIMD4(repeating: a1[p])
            c10 += x * b0
            c11 += x * b1
            x = SIMD4(repeating: a2[p])
            c20 += x * b0
            c21 += x * b1
            x = SIMD4(repeating: a3[p])
            c30 += x * b0
            c31 += x * b1
            x = SIMD4(repeating: a4[p])
            c40 += x * b0
            c41 += x * b1
            x = SIMD4(repeating: a5[p])
            c50 += x * b0
            c51 += x * b1
            row += ldb
        }
        store(c00, c, accumulate)
        store(c01, c + 4, accumulate)
        store(c10, c + ldc, accumulate)
        store(c11, c + ldc + 4, accumulate)
        store(c20, c + 2 * ldc, accumulate)
        store(c21, c + 2 * ldc + 4, accumulate)
        store(c30, c + 3 * ldc, accumulate)
        store(c31, c + 3 * ldc + 4, accumulate)
        store(c40, c + 4 * ldc, accumulate)
        store(c41, c + 4 * ldc + 4, accumulate)
        store(c50, c + 5 * ldc, accumulate)
        store(c51, c + 5 * ldc + 4, accumulate)
    }

    private static func block4x8(
        k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, _ accumulate: Bool
    ) {
        var c00 = SIMD4<Float>(), c01 = SIMD4<Float>()
        var c10 = SIMD4<Float>(), c11 = SIMD4<Float>()
        var c20 = SIMD4<Float>(), c21 = SIMD4<Float>()
        var c30 = SIMD4<Float>(), c31 = SIMD4<Float>()
        let a1 = a + lda
        let a2 = a1 + lda
        let a3 = a2 + lda
        var row = b
        for p in 0..<k {
            let b0 = load(row)
            let b1 = load(row + 4)
            let x0 = SIMD4(repeating: a[p])
            let x1 = SIMD4(repeating: a1[p])
            let x2 = SIMD4(repeating: a2[p])
            let x3 = SIMD4(repeating: a3[p])
            c00 += x0 * b0
            c01 += x0 * b1
            c10 += x1 * b0
            c11 += x1 * b1
            c20 += x2 * b0
            c21 += x2 * b1
            c30 += x3 * b0
            c31 += x3 * b1
            row += ldb
        }
        store(c00, c, accumulate)
        store(c01, c + 4, accumulate)
        store(c10, c + ldc, accumulate)
        store(c11, c + ldc + 4, accumulate)
        store(c20, c + 2 * ldc, accumulate)
        store(c21, c + 2 * ldc + 4, accumulate)
        store(c30, c + 3 * ldc, accumulate)
        store(c31, c + 3 * ldc + 4, accumulate)
    }

    private static func block1x8(
        k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>,
        _ accumulate: Bool
    ) {
        var c0 = SIMD4<Float>(), c1 = SIMD4<Float>()
        var row = b
        for p in 0..<k {
            let x = SIMD4(repeating: a[p])
            c0 += x * load(row)
            c1 += x * load(row + 4)
            row += ldb
        }
        store(c0, c, accumulate)
        store(c1, c + 4, accumulate)
    }

    /// The last `n mod 8` columns of one row, scalar.
    private static func columns(
        _ range: Range<Int>, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, _ accumulate: Bool
    ) {
        for j in range {
            var sum: Float = 0
            for p in 0..<k { sum += a[p] * b[p * ldb + j] }
            c[j] = accumulate ? c[j] + sum : sum
        }
    }
}
