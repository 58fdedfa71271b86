/// A register-blocked single-precision matrix product in portable Swift SIMD (no intrinsics, no unsafe flags):
/// 6 (or 4) rows of A against 8 columns of B per step, accumulated in `SIMD4<Float>` registers, so every loaded
/// value of B serves several rows and C is written once per block.
enum SGEMM {
    /// What happens to each block of C as it is stored: added to C's previous contents, then a bias per column,
    /// then Relu (negatives to zero, NaN and -0 kept), in that order.
    struct Epilogue {
        var accumulate = false
        /// `n` values, one per column of C.
        var bias: UnsafePointer<Float>? = nil
        var relu = false
    }

    /// `C[m×n] (+)= A[m×k] · B[k×n]`, all row-major with leading dimensions `lda`, `ldb`, `ldc`. With
    /// `accumulate` false, C's previous contents are ignored.
    static func multiply(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
    ) {
        multiply(
            m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
            epilogue: Epilogue(accumulate: accumulate))
    }

    /// `C[m×n] = epilogue(A[m×k] · B[k×n])`, all row-major with leading dimensions `lda`, `ldb`, `ldc`. With
    /// `paddedB`, each row of B is readable (and zero) up to `n` rounded up to a multiple of 8.
    ///
    /// The last `n mod 8` columns go through the same blocks on a copy of B's last columns padded with zeros to
    /// eight (only the real columns are stored): a scalar loop there was a chain of dependent adds, most of the
    /// time of a ten-class output layer.
    static func multiply(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: Epilogue, paddedB: Bool = false
    ) {
        guard m > 0, n > 0 else { return }
        let full = n - n % 8
        if full > 0 {
            rows(m: m, n: full, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, epilogue, lanes: 8)
        }
        guard full < n else { return }
        let lanes = n - full
        var tail = epilogue
        tail.bias = epilogue.bias.map { $0 + full }
        if paddedB {
            // B's rows already hold zeros up to the next multiple of 8 (`PackedGemm`).
            rows(m: m, n: 8, k: k, a: a, lda: lda, b: b + full, ldb: ldb, c: c + full, ldc: ldc, tail, lanes: lanes)
            return
        }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(k, 1) * 8) { panel in
            let panel = panel.baseAddress!
            for p in 0..<k {
                for q in 0..<8 { panel[p * 8 + q] = q < lanes ? b[p * ldb + full + q] : 0 }
            }
            rows(m: m, n: 8, k: k, a: a, lda: lda, b: panel, ldb: 8, c: c + full, ldc: ldc, tail, lanes: lanes)
        }
    }

    /// Every row of C in blocks of 6, then 4, then 1, over columns in steps of 8 (`n` a multiple of 8); only the
    /// first `lanes` columns of each step of 8 are stored (fewer than 8 for the padded tail alone).
    private static func rows(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, _ epilogue: Epilogue, lanes: Int
    ) {
        var i = 0
        while i + 6 <= m {
            var j = 0
            while j < n {
                block6x8(
                    k: k, a: a + i * lda, lda: lda, b: b + j, ldb: ldb, c: c + i * ldc + j, ldc: ldc, epilogue, j, lanes
                )
                j += 8
            }
            i += 6
        }
        while i + 4 <= m {
            var j = 0
            while j < n {
                block4x8(
                    k: k, a: a + i * lda, lda: lda, b: b + j, ldb: ldb, c: c + i * ldc + j, ldc: ldc, epilogue, j, lanes
                )
                j += 8
            }
            i += 4
        }
        while i < m {
            var j = 0
            while j < n {
                block1x8(k: k, a: a + i * lda, b: b + j, ldb: ldb, c: c + i * ldc + j, epilogue, j, lanes)
                j += 8
            }
            i += 1
        }
    }

    @inline(__always)
    private static func load(_ pointer: UnsafePointer<Float>) -> SIMD4<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD4<Float>.self)
    }

    /// Stores the first `lanes` (up to 4) values of one accumulator, after the epilogue; `column` is its first
    /// column (for the bias).
    @inline(__always)
    private static func store(
        _ value: SIMD4<Float>, _ pointer: UnsafeMutablePointer<Float>, _ epilogue: Epilogue, _ column: Int,
        _ lanes: Int
    ) {
        if lanes >= 4 {
            let raw = UnsafeMutableRawPointer(pointer)
            var value = value
            if epilogue.accumulate { value += raw.loadUnaligned(as: SIMD4<Float>.self) }
            if let bias = epilogue.bias { value += load(bias + column) }
            if epilogue.relu { value.replace(with: 0, where: value .< 0) }
            raw.storeBytes(of: value, as: SIMD4<Float>.self)
            return
        }
        for lane in 0..<max(lanes, 0) {
            var scalar = value[lane]
            if epilogue.accumulate { scalar += pointer[lane] }
            if let bias = epilogue.bias { scalar += bias[column + lane] }
            if epilogue.relu, scalar < 0 { scalar = 0 }
            pointer[lane] = scalar
        }
    }

    /// Both halves of one row of a block of 8 columns.
    @inline(__always)
    private static func store(
        _ low: SIMD4<Float>, _ high: SIMD4<Float>, _ pointer: UnsafeMutablePointer<Float>, _ epilogue: Epilogue,
        _ column: Int, _ lanes: Int
    ) {
        store(low, pointer, epilogue, column, lanes)
        store(high, pointer + 4, epilogue, column + 4, lanes - 4)
    }

    /// Six rows: twelve accumulators, two B vectors and one broadcast fill the sixteen SSE registers.
    private static func block6x8(
        k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, _ epilogue: Epilogue, _ column: Int, _ lanes: Int
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
        store(c00, c01, c, epilogue, column, lanes)
        store(c10, c11, c + ldc, epilogue, column, lanes)
        store(c20, c21, c + 2 * ldc, epilogue, column, lanes)
        store(c30, c31, c + 3 * ldc, epilogue, column, lanes)
        store(c40, c41, c + 4 * ldc, epilogue, column, lanes)
        store(c50, c51, c + 5 * ldc, epilogue, column, lanes)
    }

    private static func block4x8(
        k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, _ epilogue: Epilogue, _ column: Int, _ lanes: Int
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
        store(c00, c01, c, epilogue, column, lanes)
        store(c10, c11, c + ldc, epilogue, column, lanes)
        store(c20, c21, c + 2 * ldc, epilogue, column, lanes)
        store(c30, c31, c + 3 * ldc, epilogue, column, lanes)
    }

    private static func block1x8(
        k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>,
        _ epilogue: Epilogue, _ column: Int, _ lanes: Int
    ) {
        var c0 = SIMD4<Float>(), c1 = SIMD4<Float>()
        var row = b
        for p in 0..<k {
            let x = SIMD4(repeating: a[p])
            c0 += x * load(row)
            c1 += x * load(row + 4)
            row += ldb
        }
        store(c0, c1, c, epilogue, column, lanes)
    }
}
