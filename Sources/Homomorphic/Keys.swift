#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The CKKS secret key: a uniform ternary polynomial, kept in NTT form over every modulus (special prime last).
/// Its residues live in memory the key owns, zeroed when the last copy of the key ends. Its description never
/// prints key material.
public struct SecretKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The residues; copies of the key share it, so it is zeroed once, when the last copy ends.
    let storage: SecretKeyStorage

    /// A key adopting `storage`.
    init(storage: SecretKeyStorage) {
        self.storage = storage
    }

    /// A key holding `poly`'s residues (NTT form, extended basis); `poly`'s own buffer is zeroed.
    init(poly: consuming EvaluationPoly) {
        self.storage = SecretKeyStorage(moving: poly)
    }

    /// A copy of the key as a poly (extended basis). The copy is ordinary memory, not zeroed: keep it only as
    /// long as a computation needs it.
    var poly: EvaluationPoly {
        storage.withResidues { residues in
            EvaluationPoly(
                degree: storage.degree, count: storage.count, basis: storage.basis, data: Array(residues))
        }
    }

    /// A copy of the key's first `rows` data rows (ordinary memory, as `poly`).
    func prefix(rows: Int) -> EvaluationPoly {
        precondition(rows < storage.count)
        return storage.withResidues { residues in
            EvaluationPoly(
                degree: storage.degree, count: rows, basis: .data,
                data: Array(residues[0..<(rows * storage.degree)]))
        }
    }

    /// A fixed text: secret keys are never printed.
    public var description: String { "SecretKey(<redacted>)" }
    /// A fixed text: secret keys are never printed.
    public var debugDescription: String { description }
    /// No children, so `dump` and debuggers show nothing of the key.
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// The memory of a secret key's residues (count * degree, row-major), zeroed before it is released when the
/// last owner ends, in a way the optimiser may not remove. Immutable between its initialiser and `deinit`, so
/// sharing it across tasks is safe (hence `@unchecked Sendable`: it holds a pointer).
final class SecretKeyStorage: @unchecked Sendable {
    /// Ring degree N.
    let degree: Int
    /// Number of residue rows.
    let count: Int
    /// The moduli of the rows.
    let basis: RNSBasis
    /// The residues; read only through `withResidues`.
    private let residues: UnsafeMutableBufferPointer<UInt64>
    /// Frees `residues` after they are zeroed (tests substitute one that keeps the memory to look at it).
    private let release: @Sendable (UnsafeMutableBufferPointer<UInt64>) -> Void

    /// Takes ownership of `residues` (count * degree values): they are zeroed and then handed to `release` when
    /// this storage ends.
    init(
        adopting residues: UnsafeMutableBufferPointer<UInt64>, degree: Int, count: Int, basis: RNSBasis,
        release: @escaping @Sendable (UnsafeMutableBufferPointer<UInt64>) -> Void
    ) {
        precondition(residues.count == degree * count)
        self.residues = residues
        self.degree = degree
        self.count = count
        self.basis = basis
        self.release = release
    }

    /// Copies `poly`'s residues into memory of its own and zeroes `poly`'s buffer, so the key leaves no
    /// ordinary copy behind (the poly is consumed: its buffer is normally uniquely held).
    convenience init(moving poly: consuming EvaluationPoly) {
        let residues = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: poly.data.count)
        poly.data.withUnsafeMutableBufferPointer { source in
            _ = residues.initialize(fromContentsOf: source)
            Self.zero(source)
        }
        self.init(
            adopting: residues, degree: poly.degree, count: poly.count, basis: poly.basis,
            release: { $0.deallocate() })
    }

    deinit {
        Self.zero(residues)
        release(residues)
    }

    /// Lends the residues to `body`; the pointer must not escape it.
    func withResidues<Result>(_ body: (UnsafeBufferPointer<UInt64>) throws -> Result) rethrows -> Result {
        try body(UnsafeBufferPointer(residues))
    }

    /// Overwrites `buffer` with zeroes in a way the optimiser may not remove (the memory is about to be freed or
    /// dropped, which makes plain stores dead).
    static func zero(_ buffer: UnsafeMutableBufferPointer<UInt64>) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        let byteCount = buffer.count * MemoryLayout<UInt64>.stride
        #if canImport(Glibc)
        explicit_bzero(base, byteCount)
        #else
        _ = memset_s(base, byteCount, 0, byteCount)
        #endif
    }
}

/// The public key (b, a) = (-a*s + e, a) over every modulus; `a` is expanded from `seed`.
public struct PublicKey: Sendable, Hashable {
    var b: EvaluationPoly
    var a: EvaluationPoly
    let seed: [UInt8]
}

/// A hybrid key-switching key from a key s' to s, one component per data prime j (Han-Ki 2020, SEAL's layout):
/// b_j = -a_j*s + e_j + [j == i] * P * s' (mod q_i), and -a_j*s + e_j (mod P). The `a_j` come from `seed`.
struct KeySwitchKey: Sendable, Hashable {
    var b: [EvaluationPoly]
    var a: [EvaluationPoly]
    let seed: [UInt8]
}

/// The relinearisation key (switches s^2 to s).
public struct RelinearizationKey: Sendable, Hashable {
    var key: KeySwitchKey
}

/// Galois keys for a chosen set of rotations, indexed by Galois element.
public struct GaloisKeys: Sendable, Hashable {
    var keys: [Int: KeySwitchKey]
    /// The Galois elements present, ascending.
    public var elements: [Int] { keys.keys.sorted() }
}

/// What a server needs to evaluate: the public key (to re-randomise every result), the relinearisation key (if
/// the circuit multiplies ciphertexts) and Galois keys for exactly the rotations the circuit uses.
public struct EvaluationKeys: Sendable, Hashable {
    /// The public key, for the fresh encryptions of zero that re-randomise results.
    public var publicKey: PublicKey?
    /// The relinearisation key, if any.
    public var relinearization: RelinearizationKey?
    /// The Galois keys, if any.
    public var galois: GaloisKeys?

    /// Bundles evaluation keys.
    public init(
        publicKey: PublicKey? = nil, relinearization: RelinearizationKey? = nil, galois: GaloisKeys? = nil
    ) {
        self.publicKey = publicKey
        self.relinearization = relinearization
        self.galois = galois
    }
}

extension CKKSContext {
    /// A fresh uniform ternary secret key.
    public func generateSecretKey() -> SecretKey {
        var prg = SeededPRG.fresh()
        let coefficients = sampleTernary(using: &prg)
        return SecretKey(poly: nttPoly(small: coefficients, count: moduli.count, basis: .extended))
    }

    /// The public key for `secretKey`.
    public func generatePublicKey(for secretKey: SecretKey) -> PublicKey {
        let seed = SeededPRG.freshSeed()
        var expander = SeededPRG(seed: seed)
        let a: EvaluationPoly = sampleUniform(count: moduli.count, basis: .extended, using: &expander)
        var noise = SeededPRG.fresh()
        let e = nttPoly(small: sampleError(using: &noise), count: moduli.count, basis: .extended)
        var b = negate(multiply(a, by: secretKey))
        addInPlace(&b, e)
        return PublicKey(b: b, a: a, seed: seed)
    }

    /// The relinearisation key for `secretKey`.
    public func generateRelinearizationKey(for secretKey: SecretKey) -> RelinearizationKey {
        let square = multiply(secretKey.poly, by: secretKey)
        return RelinearizationKey(key: generateKeySwitchKey(from: square, to: secretKey))
    }

    /// Galois keys for the given slot rotations only (positive = left).
    public func generateGaloisKeys(for secretKey: SecretKey, rotations: [Int]) -> GaloisKeys {
        var keys: [Int: KeySwitchKey] = [:]
        for step in rotations {
            let element = galoisElement(forRotation: step)
            guard element != 1, keys[element] == nil else { continue }
            let permutation = galoisPermutation(element)
            let rotated = secretKey.storage.withResidues { residues in
                applyGalois(
                    residues, count: secretKey.storage.count, basis: secretKey.storage.basis, permutation: permutation)
            }
            keys[element] = generateKeySwitchKey(from: rotated, to: secretKey)
        }
        return GaloisKeys(keys: keys)
    }

    /// a * s pointwise, for `a` in NTT form over the key's rows or its first data rows.
    func multiply(_ a: consuming EvaluationPoly, by secretKey: SecretKey) -> EvaluationPoly {
        let storage = secretKey.storage
        precondition(
            a.count <= storage.count && (a.basis == .data ? a.count < storage.count : a.count == storage.count))
        var result = a
        storage.withResidues { multiplyInPlace(&result, residues: $0) }
        return result
    }

    /// The `a` halves of a key-switching key, expanded from `seed` (extended basis, NTT form).
    func expandKeySwitchA(seed: [UInt8], digits: Int) -> [EvaluationPoly] {
        var expander = SeededPRG(seed: seed)
        return (0..<digits).map { _ in sampleUniform(count: moduli.count, basis: .extended, using: &expander) }
    }

    /// A key switching from `source` (NTT form, extended basis) to `secretKey`.
    func generateKeySwitchKey(from source: EvaluationPoly, to secretKey: SecretKey) -> KeySwitchKey {
        let digits = moduli.count - 1
        let seed = SeededPRG.freshSeed()
        let aPolys = expandKeySwitchA(seed: seed, digits: digits)
        var noise = SeededPRG.fresh()
        let n = degree
        var bPolys: [EvaluationPoly] = []
        for j in 0..<digits {
            let e = nttPoly(small: sampleError(using: &noise), count: moduli.count, basis: .extended)
            var b = negate(multiply(aPolys[j], by: secretKey))
            addInPlace(&b, e)
            let modulus = moduli[j]
            let factor = specialModQ[j]
            let factorShoup = modulus.shoup(factor)
            for k in 0..<n {
                let term = modulus.multiply(source.data[j * n + k], by: factor, shoup: factorShoup)
                b.data[j * n + k] = modulus.add(b.data[j * n + k], term)
            }
            bPolys.append(b)
        }
        return KeySwitchKey(b: bPolys, a: aPolys, seed: seed)
    }
}
