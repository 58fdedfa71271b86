/// The CKKS secret key: a uniform ternary polynomial, kept in NTT form over every modulus (special prime last).
/// Its description never prints key material.
public struct SecretKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The key (extended basis).
    var poly: EvaluationPoly

    /// A copy of the key's first `rows` data rows.
    func prefix(rows: Int) -> EvaluationPoly {
        precondition(rows < poly.count)
        return poly.prefix(rows: rows)
    }

    /// A fixed text: secret keys are never printed.
    public var description: String { "SecretKey(<redacted>)" }
    /// A fixed text: secret keys are never printed.
    public var debugDescription: String { description }
    /// No children, so `dump` and debuggers show nothing of the key.
    public var customMirror: Mirror { Mirror(self, children: [:]) }
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
            let rotated = applyGalois(secretKey.poly, permutation: permutation)
            keys[element] = generateKeySwitchKey(from: rotated, to: secretKey)
        }
        return GaloisKeys(keys: keys)
    }

    /// a * s pointwise, for `a` in NTT form over the key's rows or its first data rows.
    func multiply(_ a: consuming EvaluationPoly, by secretKey: SecretKey) -> EvaluationPoly {
        let key = secretKey.poly
        precondition(a.count <= key.count && (a.basis == .data ? a.count < key.count : a.count == key.count))
        var result = a
        key.data.withUnsafeBufferPointer { multiplyInPlace(&result, residues: $0) }
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
