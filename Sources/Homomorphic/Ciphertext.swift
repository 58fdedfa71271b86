/// A CKKS ciphertext: two (or, after a multiplication and before relinearisation, three) polynomials in NTT
/// form at a level, with a scale. A fresh symmetric ciphertext remembers the seed its `c1` was expanded from, so
/// it serialises at half size.
public struct CKKSCiphertext: Sendable, Hashable {
    var polys: [EvaluationPoly]
    /// The scale of the encrypted values.
    public var scale: Double
    /// The seed of c1 for a fresh symmetric ciphertext.
    var seed: [UInt8]?

    /// The level (number of data primes minus one).
    public var level: Int { polys[0].count - 1 }
    /// Number of polynomials (2, or 3 before relinearisation).
    public var size: Int { polys.count }
    /// Whether the ciphertext serialises in seeded (half-size) form.
    public var isSeeded: Bool { seed != nil }
}

extension CKKSContext {
    /// Public-key encryption (Cheon-Kim-Kim-Song): (b*u + e0, a*u + e1) computed over the data primes and the
    /// special prime, then divided by P with rounding (as SEAL does), so the encryption noise shrinks to the
    /// rounding error; the message is added afterwards.
    public func encrypt(_ plaintext: CKKSPlaintext, using publicKey: PublicKey) -> CKKSCiphertext {
        let rows = plaintext.poly.count
        var prg = SeededPRG.fresh()
        let u = extendedPoly(small: sampleTernary(using: &prg), rows: rows)
        let e0 = sampleError(using: &prg)
        let e1 = sampleError(using: &prg)
        var c0 = encryptionComponent(u, publicKey.b, error: e0, rows: rows)
        let c1 = encryptionComponent(u, publicKey.a, error: e1, rows: rows)
        addInPlace(&c0, plaintext.poly)
        return CKKSCiphertext(polys: [c0, c1], scale: plaintext.scale, seed: nil)
    }

    /// (u*k + e - [u*k + e]_P) / P over data rows 0..<rows, for u in NTT form over those rows and the special
    /// prime, a public-key component k and small coefficients e.
    ///
    /// The error is added in coefficient form: to the special row after its inverse transform, and to the data
    /// rows together with the lifted special row, so each data row takes one forward transform (the same
    /// values as transforming e into every row first, with fewer transforms).
    func encryptionComponent(_ u: EvaluationPoly, _ key: EvaluationPoly, error: [Int64], rows: Int) -> EvaluationPoly {
        precondition(u.basis == .extended && u.count == rows + 1 && key.basis == .extended)
        let n = degree
        let specialModulus = moduli[specialIndex]
        let p = specialModulus.value
        let half = p >> 1
        var result = EvaluationPoly(uninitializedDegree: n, count: rows, basis: .data)
        // Scratch rows: the special row (taken to coefficient form) and one lifted data row.
        var special = scratch(count: n)
        var lifted = scratch(count: n)
        u.data.withUnsafeBufferPointer { uBuffer in
            key.data.withUnsafeBufferPointer { keyBuffer in
                error.withUnsafeBufferPointer { e in
                    special.withUnsafeMutableBufferPointer { specialBuffer in
                        let s = specialBuffer.baseAddress!
                        let uSpecial = uBuffer.baseAddress! + rows * n
                        let keySpecial = keyBuffer.baseAddress! + specialIndex * n
                        for k in 0..<n { s[k] = specialModulus.multiply(uSpecial[k], keySpecial[k]) }
                        ntt[specialIndex].inverse(specialBuffer)
                        for k in 0..<n { s[k] = specialModulus.add(s[k], specialModulus.reduce(signed: e[k])) }
                        lifted.withUnsafeMutableBufferPointer { liftedBuffer in
                            result.data.withUnsafeMutableBufferPointer { out in
                                let y = liftedBuffer.baseAddress!
                                for i in 0..<rows {
                                    let modulus = moduli[i]
                                    let pModQ = modulus.reduce(p)
                                    // e - (the centered special row), mod q_i.
                                    for k in 0..<n {
                                        let v = s[k]
                                        let centered = modulus.subtract(
                                            modulus.reduce(v), pModQ, where: Self.mask(v > half))
                                        y[k] = modulus.subtract(modulus.reduce(signed: e[k]), centered)
                                    }
                                    ntt[i].forward(liftedBuffer)
                                    let inverse = specialInverseModQ[i]
                                    let inverseShoup = specialInverseShoups[i]
                                    let x = uBuffer.baseAddress! + i * n
                                    let b = keyBuffer.baseAddress! + i * n
                                    let z = out.baseAddress! + i * n
                                    for k in 0..<n {
                                        let product = modulus.multiply(x[k], b[k])
                                        z[k] = modulus.multiply(product &+ y[k], by: inverse, shoup: inverseShoup)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// Small coefficients in NTT form over data rows 0..<rows and the special prime.
    func extendedPoly(small coefficients: [Int64], rows: Int) -> EvaluationPoly {
        var result = EvaluationPoly(degree: degree, count: rows + 1, basis: .extended)
        let n = degree
        result.data.withUnsafeMutableBufferPointer { buffer in
            for i in 0...rows {
                let index = i == rows ? specialIndex : i
                let modulus = moduli[index]
                for j in 0..<n { buffer[i * n + j] = modulus.reduce(signed: coefficients[j]) }
                ntt[index].forward(UnsafeMutableBufferPointer(rebasing: buffer[(i * n)..<((i + 1) * n)]))
            }
        }
        return result
    }

    /// Symmetric encryption with a seeded `a`: (-a*s + e + m, a), serialisable as (c0, seed).
    public func encrypt(_ plaintext: CKKSPlaintext, using secretKey: SecretKey) -> CKKSCiphertext {
        let rows = plaintext.poly.count
        let seed = SeededPRG.freshSeed()
        let a = expandSeededA(seed: seed, rows: rows)
        var prg = SeededPRG.fresh()
        let e = nttPoly(small: sampleError(using: &prg), count: rows, basis: .data)
        var c0 = negate(multiply(a, by: secretKey))
        addInPlace(&c0, e)
        addInPlace(&c0, plaintext.poly)
        return CKKSCiphertext(polys: [c0, a], scale: plaintext.scale, seed: seed)
    }

    func expandSeededA(seed: [UInt8], rows: Int) -> EvaluationPoly {
        var expander = SeededPRG(seed: seed)
        return sampleUniform(count: rows, basis: .data, using: &expander)
    }

    /// Decrypts: c0 + c1*s (+ c2*s^2).
    public func decrypt(_ ciphertext: CKKSCiphertext, using secretKey: SecretKey) -> CKKSPlaintext {
        let rows = ciphertext.polys[0].count
        let s = secretKey.prefix(rows: rows)
        var result = ciphertext.polys[0]
        var power = s
        for index in 1..<ciphertext.polys.count {
            multiplyAddInPlace(&result, ciphertext.polys[index], power)
            if index + 1 < ciphertext.polys.count { power = multiply(power, s) }
        }
        return CKKSPlaintext(poly: result, scale: ciphertext.scale)
    }

    /// Encodes and encrypts real values in the slots with the public key.
    public func encrypt(
        _ values: [Double], using publicKey: PublicKey, scale: Double? = nil, level: Int? = nil
    )
        throws -> CKKSCiphertext
    {
        encrypt(try encode(values, scale: scale, level: level), using: publicKey)
    }

    /// Encodes and encrypts real values in the slots with the secret key (seeded, half-size).
    public func encrypt(
        _ values: [Double], using secretKey: SecretKey, scale: Double? = nil, level: Int? = nil
    )
        throws -> CKKSCiphertext
    {
        encrypt(try encode(values, scale: scale, level: level), using: secretKey)
    }

    /// Decrypts and decodes the slots.
    public func decryptValues(_ ciphertext: CKKSCiphertext, using secretKey: SecretKey) -> [Double] {
        decode(decrypt(ciphertext, using: secretKey))
    }
}
