/// What the residues of an `RNSPoly` hold: coefficients, or values at the roots of X^N + 1 (NTT, evaluation
/// form). A phantom type parameter, so a poly in the wrong form is a compile error rather than wrong numbers.
public protocol PolyForm: Sendable {}

/// Coefficient form: row i holds the coefficients mod its modulus.
public enum CoefficientForm: PolyForm {}

/// Evaluation (NTT) form: row i holds the values at the roots mod its modulus, so products are pointwise.
public enum EvaluationForm: PolyForm {}

/// A polynomial in coefficient form.
public typealias CoefficientPoly = RNSPoly<CoefficientForm>

/// A polynomial in evaluation (NTT) form, as ciphertexts, plaintexts and keys hold them.
public typealias EvaluationPoly = RNSPoly<EvaluationForm>

/// Which context moduli the rows of an `RNSPoly` use.
public enum RNSBasis: Sendable, Hashable {
    /// Row i over data prime q_i (ciphertexts and plaintexts at a level).
    case data
    /// Rows over data primes q_0, q_1, ... and the special prime P as the last row (keys, and the products of a
    /// key switch or a public-key encryption before their division by P).
    case extended
}

/// A polynomial in R_Q = Z_Q[X]/(X^N + 1) in residue-number-system form: one row of N residues per modulus, rows
/// stored contiguously. `Form` says whether the residues are coefficients or NTT values; `basis` which modulus
/// each row belongs to (row i to data prime i, except the last row of an `.extended` poly: the special prime).
public struct RNSPoly<Form: PolyForm>: Sendable, Hashable {
    /// Ring degree N.
    public let degree: Int
    /// Number of residue rows.
    public internal(set) var count: Int
    /// The moduli of the rows.
    public internal(set) var basis: RNSBasis
    /// count * N residues, row-major.
    @usableFromInline var data: [UInt64]

    /// A zero polynomial with `count` rows over the data primes.
    public init(degree: Int, count: Int) {
        self.init(degree: degree, count: count, basis: .data)
    }

    /// A zero polynomial with `count` rows over `basis`.
    init(degree: Int, count: Int, basis: RNSBasis) {
        self.init(degree: degree, count: count, basis: basis, data: [UInt64](repeating: 0, count: degree * count))
    }

    /// A polynomial with `count` rows whose residues the caller writes before reading them (no zero fill).
    init(uninitializedDegree degree: Int, count: Int, basis: RNSBasis) {
        let data = [UInt64](unsafeUninitializedCapacity: degree * count) { _, initialized in
            initialized = degree * count
        }
        self.init(degree: degree, count: count, basis: basis, data: data)
    }

    /// A polynomial adopting `data` (count * degree residues).
    init(degree: Int, count: Int, basis: RNSBasis, data: [UInt64]) {
        self.degree = degree
        self.count = count
        self.basis = basis
        self.data = data
    }

    /// Row i as a copy.
    public func row(_ i: Int) -> ArraySlice<UInt64> { data[(i * degree)..<((i + 1) * degree)] }

    /// The first `rows` rows; without the last row of an extended poly only data primes remain.
    func prefix(rows: Int) -> RNSPoly {
        RNSPoly(
            degree: degree, count: rows, basis: rows < count ? .data : basis, data: Array(data[0..<(rows * degree)]))
    }

    /// The same residues labelled as form `Target`, moving the storage: no copy when `self` is uniquely held.
    /// Only the transforms may relabel (the residues must then be transformed in place).
    consuming func relabeled<Target: PolyForm>(as _: Target.Type) -> RNSPoly<Target> {
        var storage: [UInt64] = []
        swap(&storage, &data)
        return RNSPoly<Target>(degree: degree, count: count, basis: basis, data: storage)
    }
}

extension CKKSContext {
    /// `count` residues of working memory that the caller writes before reading (no zero fill): for rows that
    /// change form in place, which an `RNSPoly` type cannot describe.
    func scratch(count: Int) -> [UInt64] {
        [UInt64](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// Index of the context modulus of row `row` of a poly with `count` rows over `basis`.
    func modulusIndex(row: Int, count: Int, basis: RNSBasis) -> Int {
        basis == .extended && row == count - 1 ? specialIndex : row
    }

    /// Index of the context modulus of row `row` of `poly`.
    func modulusIndex<Form>(row: Int, of poly: RNSPoly<Form>) -> Int {
        modulusIndex(row: row, count: poly.count, basis: poly.basis)
    }

    /// Forward NTT of every row: coefficients to evaluation form, in the poly's own storage (pass the last use
    /// of a poly, or `consume` it, to avoid a copy).
    func forwardNTT(_ poly: consuming CoefficientPoly) -> EvaluationPoly {
        var result = poly.relabeled(as: EvaluationForm.self)
        let n = degree
        let count = result.count
        let basis = result.basis
        result.data.withUnsafeMutableBufferPointer { buffer in
            for i in 0..<count {
                ntt[modulusIndex(row: i, count: count, basis: basis)].forward(
                    UnsafeMutableBufferPointer(rebasing: buffer[(i * n)..<((i + 1) * n)]))
            }
        }
        return result
    }

    /// Inverse NTT of every row: evaluation form to coefficients, in the poly's own storage.
    func inverseNTT(_ poly: consuming EvaluationPoly) -> CoefficientPoly {
        var result = poly.relabeled(as: CoefficientForm.self)
        let n = degree
        let count = result.count
        let basis = result.basis
        result.data.withUnsafeMutableBufferPointer { buffer in
            for i in 0..<count {
                ntt[modulusIndex(row: i, count: count, basis: basis)].inverse(
                    UnsafeMutableBufferPointer(rebasing: buffer[(i * n)..<((i + 1) * n)]))
            }
        }
        return result
    }

    /// a + b, row-wise (either form).
    func add<Form>(_ a: RNSPoly<Form>, _ b: RNSPoly<Form>) -> RNSPoly<Form> {
        var result = a
        addInPlace(&result, b)
        return result
    }

    /// a += b, row-wise (either form; same basis).
    func addInPlace<Form>(_ a: inout RNSPoly<Form>, _ b: RNSPoly<Form>) {
        precondition(a.basis == b.basis)
        let n = degree
        let count = a.count
        let basis = a.basis
        a.data.withUnsafeMutableBufferPointer { x in
            b.data.withUnsafeBufferPointer { y in
                for i in 0..<count {
                    let q = moduli[modulusIndex(row: i, count: count, basis: basis)].value
                    for j in (i * n)..<((i + 1) * n) {
                        let s = x[j] &+ y[j]
                        x[j] = s >= q ? s &- q : s
                    }
                }
            }
        }
    }

    /// a -= b, row-wise (either form; same basis).
    func subtractInPlace<Form>(_ a: inout RNSPoly<Form>, _ b: RNSPoly<Form>) {
        precondition(a.basis == b.basis)
        let n = degree
        let count = a.count
        let basis = a.basis
        a.data.withUnsafeMutableBufferPointer { x in
            b.data.withUnsafeBufferPointer { y in
                for i in 0..<count {
                    let q = moduli[modulusIndex(row: i, count: count, basis: basis)].value
                    for j in (i * n)..<((i + 1) * n) {
                        x[j] = x[j] >= y[j] ? x[j] &- y[j] : x[j] &+ q &- y[j]
                    }
                }
            }
        }
    }

    /// -a, row-wise (either form).
    func negate<Form>(_ a: RNSPoly<Form>) -> RNSPoly<Form> {
        var result = a
        let n = degree
        let count = a.count
        let basis = a.basis
        result.data.withUnsafeMutableBufferPointer { x in
            for i in 0..<count {
                let q = moduli[modulusIndex(row: i, count: count, basis: basis)].value
                for j in (i * n)..<((i + 1) * n) where x[j] != 0 { x[j] = q &- x[j] }
            }
        }
        return result
    }

    /// Pointwise a * b; rows of `b` are matched by row index, so `b` may have more rows (same basis).
    func multiply(_ a: EvaluationPoly, _ b: EvaluationPoly) -> EvaluationPoly {
        var result = a
        multiplyInPlace(&result, b)
        return result
    }

    /// a *= b pointwise (same basis).
    func multiplyInPlace(_ a: inout EvaluationPoly, _ b: EvaluationPoly) {
        precondition(a.basis == b.basis && b.count >= a.count)
        b.data.withUnsafeBufferPointer { multiplyInPlace(&a, residues: $0) }
    }

    /// a *= y pointwise, for `y` the NTT residues of a poly over a's basis, row-major with at least a's rows.
    func multiplyInPlace(_ a: inout EvaluationPoly, residues y: UnsafeBufferPointer<UInt64>) {
        let n = degree
        let count = a.count
        let basis = a.basis
        a.data.withUnsafeMutableBufferPointer { x in
            for i in 0..<count {
                let modulus = moduli[modulusIndex(row: i, count: count, basis: basis)]
                let offset = i * n
                for j in 0..<n {
                    x[offset + j] = modulus.multiply(x[offset + j], y[offset + j])
                }
            }
        }
    }

    /// acc += a * b pointwise (same basis).
    func multiplyAddInPlace(_ acc: inout EvaluationPoly, _ a: EvaluationPoly, _ b: EvaluationPoly) {
        precondition(acc.basis == a.basis && acc.basis == b.basis)
        let n = degree
        let count = acc.count
        let basis = acc.basis
        acc.data.withUnsafeMutableBufferPointer { z in
            a.data.withUnsafeBufferPointer { x in
                b.data.withUnsafeBufferPointer { y in
                    for i in 0..<count {
                        let modulus = moduli[modulusIndex(row: i, count: count, basis: basis)]
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

    /// a * c for an integer constant given per row (c_i < the row's modulus), using Shoup multiplication (either
    /// form: a constant is the same in both).
    func multiplyInPlace<Form>(_ a: inout RNSPoly<Form>, constants: [UInt64]) {
        let n = degree
        let count = a.count
        let basis = a.basis
        a.data.withUnsafeMutableBufferPointer { x in
            for i in 0..<count {
                let modulus = moduli[modulusIndex(row: i, count: count, basis: basis)]
                let c = constants[i]
                let cShoup = modulus.shoup(c)
                for j in (i * n)..<((i + 1) * n) {
                    x[j] = modulus.multiply(x[j], by: c, shoup: cShoup)
                }
            }
        }
    }

    /// Applies X -> X^g to a poly in NTT form (`permutation` from `galoisPermutation`).
    func applyGalois(_ a: EvaluationPoly, permutation: [Int]) -> EvaluationPoly {
        a.data.withUnsafeBufferPointer { applyGalois($0, count: a.count, basis: a.basis, permutation: permutation) }
    }

    /// Applies X -> X^g to the NTT residues `x` of a poly with `count` rows over `basis`.
    func applyGalois(
        _ x: UnsafeBufferPointer<UInt64>, count: Int, basis: RNSBasis, permutation: [Int]
    ) -> EvaluationPoly {
        var result = EvaluationPoly(uninitializedDegree: degree, count: count, basis: basis)
        let n = degree
        result.data.withUnsafeMutableBufferPointer { out in
            permutation.withUnsafeBufferPointer { perm in
                for i in 0..<count {
                    let offset = i * n
                    for k in 0..<n { out[offset + k] = x[offset + perm[k]] }
                }
            }
        }
        return result
    }

    /// Per-row residues of signed integer coefficients, as a poly with `count` data rows.
    func poly(signedCoefficients coefficients: [Int64], count: Int) -> CoefficientPoly {
        var result = CoefficientPoly(degree: degree, count: count)
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
