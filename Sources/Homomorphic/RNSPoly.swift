/// A polynomial in R_Q = Z_Q[X]/(X^N + 1) in residue-number-system form: one row of N residues per modulus, rows
/// stored contiguously. Row i belongs to `context.moduli[i]` (data primes from 0, the special prime last).
public struct RNSPoly: Sendable, Hashable {
    /// Ring degree N.
    public let degree: Int
    /// Number of residue rows.
    public internal(set) var count: Int
    /// count * N residues, row-major.
    @usableFromInline var data: [UInt64]

    /// A zero polynomial with `count` rows.
    public init(degree: Int, count: Int) {
        self.degree = degree
        self.count = count
        self.data = [UInt64](repeating: 0, count: degree * count)
    }

    /// A polynomial with `count` rows whose residues the caller writes before reading them (no zero fill).
    init(uninitializedDegree degree: Int, count: Int) {
        self.degree = degree
        self.count = count
        self.data = [UInt64](unsafeUninitializedCapacity: degree * count) { _, initialized in
            initialized = degree * count
        }
    }

    /// Row i as a copy.
    public func row(_ i: Int) -> ArraySlice<UInt64> { data[(i * degree)..<((i + 1) * degree)] }

    /// The first `rows` rows.
    func prefix(rows: Int) -> RNSPoly {
        var result = RNSPoly(degree: degree, count: rows)
        result.data = Array(data[0..<(rows * degree)])
        return result
    }
}

extension CKKSContext {
    /// Index of the context modulus that row `row` of a poly with `count` rows uses; `keyRows` marks polys that
    /// carry the special prime as their last row.
    func modulusIndex(row: Int, count: Int, keyRows: Bool) -> Int {
        keyRows && row == count - 1 ? moduli.count - 1 : row
    }

    /// Forward NTT of every row.
    func forwardNTT(_ poly: inout RNSPoly, keyRows: Bool = false) {
        let n = degree
        poly.data.withUnsafeMutableBufferPointer { buffer in
            for i in 0..<poly.count {
                ntt[modulusIndex(row: i, count: poly.count, keyRows: keyRows)].forward(
                    UnsafeMutableBufferPointer(rebasing: buffer[(i * n)..<((i + 1) * n)]))
            }
        }
    }

    /// Inverse NTT of every row.
    func inverseNTT(_ poly: inout RNSPoly, keyRows: Bool = false) {
        let n = degree
        poly.data.withUnsafeMutableBufferPointer { buffer in
            for i in 0..<poly.count {
                ntt[modulusIndex(row: i, count: poly.count, keyRows: keyRows)].inverse(
                    UnsafeMutableBufferPointer(rebasing: buffer[(i * n)..<((i + 1) * n)]))
            }
        }
    }

    /// a + b, row-wise.
    func add(_ a: RNSPoly, _ b: RNSPoly) -> RNSPoly {
        var result = a
        addInPlace(&result, b)
        return result
    }

    /// a += b, row-wise.
    func addInPlace(_ a: inout RNSPoly, _ b: RNSPoly, keyRows: Bool = false) {
        let n = degree
        a.data.withUnsafeMutableBufferPointer { x in
            b.data.withUnsafeBufferPointer { y in
                for i in 0..<a.count {
                    let q = moduli[modulusIndex(row: i, count: a.count, keyRows: keyRows)].value
                    for j in (i * n)..<((i + 1) * n) {
                        let s = x[j] &+ y[j]
                        x[j] = s >= q ? s &- q : s
                    }
                }
            }
        }
    }

    /// a -= b, row-wise.
    func subtractInPlace(_ a: inout RNSPoly, _ b: RNSPoly) {
        let n = degree
        a.data.withUnsafeMutableBufferPointer { x in
            b.data.withUnsafeBufferPointer { y in
                for i in 0..<a.count {
                    let q = moduli[i].value
                    for j in (i * n)..<((i + 1) * n) {
                        x[j] = x[j] >= y[j] ? x[j] &- y[j] : x[j] &+ q &- y[j]
                    }
                }
            }
        }
    }

    /// -a, row-wise.
    func negate(_ a: RNSPoly, keyRows: Bool = false) -> RNSPoly {
        var result = a
        let n = degree
        result.data.withUnsafeMutableBufferPointer { x in
            for i in 0..<a.count {
                let q = moduli[modulusIndex(row: i, count: a.count, keyRows: keyRows)].value
                for j in (i * n)..<((i + 1) * n) where x[j] != 0 { x[j] = q &- x[j] }
            }
        }
        return result
    }

    /// Pointwise a * b (both in NTT form); rows of `b` are matched by modulus, so `b` may have more rows.
    func multiply(_ a: RNSPoly, _ b: RNSPoly, keyRows: Bool = false) -> RNSPoly {
        var result = a
        multiplyInPlace(&result, b, keyRows: keyRows)
        return result
    }

    /// a *= b pointwise.
    func multiplyInPlace(_ a: inout RNSPoly, _ b: RNSPoly, keyRows: Bool = false) {
        let n = degree
        a.data.withUnsafeMutableBufferPointer { x in
            b.data.withUnsafeBufferPointer { y in
                for i in 0..<a.count {
                    let modulus = moduli[modulusIndex(row: i, count: a.count, keyRows: keyRows)]
                    let offset = i * n
                    for j in 0..<n {
                        x[offset + j] = modulus.multiply(x[offset + j], y[offset + j])
                    }
                }
            }
        }
    }

    /// acc += a * b pointwise.
    func multiplyAddInPlace(_ acc: inout RNSPoly, _ a: RNSPoly, _ b: RNSPoly) {
        let n = degree
        acc.data.withUnsafeMutableBufferPointer { z in
            a.data.withUnsafeBufferPointer { x in
                b.data.withUnsafeBufferPointer { y in
                    for i in 0..<acc.count {
                        let modulus = moduli[i]
                        let q = modulus.value
                        for j in (i * n)..<((i + 1) * n) {
                            let s = z[j] &+ modulus.multiply(x[j], y[j])
                            z[j] = s >= q ? s &- q : s
                        }
                    }
                }
            }
        }
    }

    /// a * c for an integer constant given per row (c_i < q_i), using Shoup multiplication.
    func multiplyInPlace(_ a: inout RNSPoly, constants: [UInt64]) {
        let n = degree
        a.data.withUnsafeMutableBufferPointer { x in
            for i in 0..<a.count {
                let modulus = moduli[i]
                let c = constants[i]
                let cShoup = modulus.shoup(c)
                for j in (i * n)..<((i + 1) * n) {
                    x[j] = modulus.multiply(x[j], by: c, shoup: cShoup)
                }
            }
        }
    }

    /// Applies X -> X^g to a poly in NTT form.
    func applyGalois(_ a: RNSPoly, permutation: [Int]) -> RNSPoly {
        var result = RNSPoly(uninitializedDegree: a.degree, count: a.count)
        let n = degree
        result.data.withUnsafeMutableBufferPointer { out in
            a.data.withUnsafeBufferPointer { x in
                permutation.withUnsafeBufferPointer { perm in
                    for i in 0..<a.count {
                        let offset = i * n
                        for k in 0..<n { out[offset + k] = x[offset + perm[k]] }
                    }
                }
            }
        }
        return result
    }

    /// Per-row residues of signed integer coefficients, as a poly with `count` data rows (coefficient form).
    func poly(signedCoefficients coefficients: [Int64], count: Int) -> RNSPoly {
        var result = RNSPoly(degree: degree, count: count)
        let n = degree
        result.data.withUnsafeMutableBufferPointer { x in
            for i in 0..<count {
                let modulus = moduli[i]
                for j in 0..<min(n, coefficients.count) {
                    x[i * n + j] = modulus.reduce(signed: coefficients[j])
                }
            }
        }
        return result
    }
}
