import Foundation

extension CKKSContext {
    static func scalesMatch(_ a: Double, _ b: Double) -> Bool {
        abs(a - b) <= 0x1p-40 * max(abs(a), abs(b))
    }

    private func checkCompatible(_ a: CKKSCiphertext, _ level: Int, _ scale: Double) throws {
        guard a.level == level else { throw HEError.levelMismatch }
        guard Self.scalesMatch(a.scale, scale) else { throw HEError.scaleMismatch }
    }

    /// a + b (same level and scale).
    public func add(_ a: CKKSCiphertext, _ b: CKKSCiphertext) throws -> CKKSCiphertext {
        try checkCompatible(a, b.level, b.scale)
        var result = a.size >= b.size ? a : b
        let other = a.size >= b.size ? b : a
        for i in 0..<other.size { addInPlace(&result.polys[i], other.polys[i]) }
        result.seed = nil
        return result
    }

    /// a - b (same level and scale).
    public func subtract(_ a: CKKSCiphertext, _ b: CKKSCiphertext) throws -> CKKSCiphertext {
        try checkCompatible(a, b.level, b.scale)
        var result = a
        while result.polys.count < b.size { result.polys.append(RNSPoly(degree: degree, count: a.level + 1)) }
        for i in 0..<b.size { subtractInPlace(&result.polys[i], b.polys[i]) }
        result.seed = nil
        return result
    }

    /// -a.
    public func negate(_ a: CKKSCiphertext) -> CKKSCiphertext {
        CKKSCiphertext(polys: a.polys.map { negate($0) }, scale: a.scale, seed: nil)
    }

    /// a + p (same level and scale).
    public func add(_ a: CKKSCiphertext, _ plaintext: CKKSPlaintext) throws -> CKKSCiphertext {
        try checkCompatible(a, plaintext.level, plaintext.scale)
        var result = a
        addInPlace(&result.polys[0], plaintext.poly)
        result.seed = nil
        return result
    }

    /// a - p (same level and scale).
    public func subtract(_ a: CKKSCiphertext, _ plaintext: CKKSPlaintext) throws -> CKKSCiphertext {
        try checkCompatible(a, plaintext.level, plaintext.scale)
        var result = a
        subtractInPlace(&result.polys[0], plaintext.poly)
        result.seed = nil
        return result
    }

    /// a * p (same level); the scales multiply.
    public func multiply(_ a: CKKSCiphertext, _ plaintext: CKKSPlaintext) throws -> CKKSCiphertext {
        guard a.level == plaintext.level else { throw HEError.levelMismatch }
        var result = a
        for i in 0..<a.size { multiplyInPlace(&result.polys[i], plaintext.poly) }
        result.scale = a.scale * plaintext.scale
        result.seed = nil
        return result
    }

    /// a * c for a real constant encoded at `constantScale` (default: the last prime of a's level, so a rescale
    /// afterwards restores a's scale exactly). The constant is applied with Shoup multiplication, no NTT.
    public func multiply(
        _ a: CKKSCiphertext, byConstant c: Double, constantScale: Double? = nil
    ) throws
        -> CKKSCiphertext
    {
        let scale = constantScale ?? Double(moduli[a.level].value)
        let integer = try Self.scaledInteger(c * scale)
        let constants = (0...a.level).map { moduli[$0].reduce(signed: integer) }
        var result = a
        for i in 0..<a.size { multiplyInPlace(&result.polys[i], constants: constants) }
        result.scale = a.scale * scale
        result.seed = nil
        return result
    }

    /// a + c for a real constant (added to every slot at a's scale).
    public func add(_ a: CKKSCiphertext, constant c: Double) throws -> CKKSCiphertext {
        try add(a, encodeConstant(c, scale: a.scale, level: a.level))
    }

    /// a * b without relinearisation (three components); same level required.
    public func multiplyWithoutRelinearization(_ a: CKKSCiphertext, _ b: CKKSCiphertext) throws -> CKKSCiphertext {
        guard a.size == 2, b.size == 2 else { throw HEError.invalidCiphertext }
        guard a.level == b.level else { throw HEError.levelMismatch }
        let d0 = multiply(a.polys[0], b.polys[0])
        var d1 = multiply(a.polys[0], b.polys[1])
        multiplyAddInPlace(&d1, a.polys[1], b.polys[0])
        let d2 = multiply(a.polys[1], b.polys[1])
        return CKKSCiphertext(polys: [d0, d1, d2], scale: a.scale * b.scale, seed: nil)
    }

    /// a * b, relinearised.
    public func multiply(
        _ a: CKKSCiphertext, _ b: CKKSCiphertext, relinearizationKey: RelinearizationKey
    ) throws
        -> CKKSCiphertext
    {
        try relinearize(multiplyWithoutRelinearization(a, b), using: relinearizationKey)
    }

    /// a^2, relinearised.
    public func square(_ a: CKKSCiphertext, relinearizationKey: RelinearizationKey) throws -> CKKSCiphertext {
        guard a.size == 2 else { throw HEError.invalidCiphertext }
        let d0 = multiply(a.polys[0], a.polys[0])
        var d1 = multiply(a.polys[0], a.polys[1])
        addInPlace(&d1, d1)
        let d2 = multiply(a.polys[1], a.polys[1])
        let product = CKKSCiphertext(polys: [d0, d1, d2], scale: a.scale * a.scale, seed: nil)
        return try relinearize(product, using: relinearizationKey)
    }

    /// Switches a three-component ciphertext back to two components.
    public func relinearize(_ a: CKKSCiphertext, using key: RelinearizationKey) throws -> CKKSCiphertext {
        guard a.size == 3 else { throw HEError.invalidCiphertext }
        let (k0, k1) = keySwitch(a.polys[2], key: key.key)
        var c0 = a.polys[0]
        var c1 = a.polys[1]
        addInPlace(&c0, k0)
        addInPlace(&c1, k1)
        return CKKSCiphertext(polys: [c0, c1], scale: a.scale, seed: nil)
    }

    /// Divides by the last prime of the level with rounding; the level drops by one and the scale by that prime.
    public func rescale(_ a: CKKSCiphertext) throws -> CKKSCiphertext {
        guard a.level >= 1 else { throw HEError.levelExhausted }
        let last = a.level
        let lastModulus = Double(moduli[last].value)
        let polys = a.polys.map { divideByLastPrime($0) }
        return CKKSCiphertext(polys: polys, scale: a.scale / lastModulus, seed: nil)
    }

    /// Drops primes without dividing (the values and scale are unchanged) down to `level`.
    public func dropLevel(_ a: CKKSCiphertext, to level: Int) throws -> CKKSCiphertext {
        guard level >= 0, level <= a.level else { throw HEError.levelMismatch }
        return CKKSCiphertext(polys: a.polys.map { $0.prefix(rows: level + 1) }, scale: a.scale, seed: nil)
    }

    /// Rotates the slots left by `step` (right for negative steps) with the matching Galois key.
    public func rotate(_ a: CKKSCiphertext, by step: Int, using keys: GaloisKeys) throws -> CKKSCiphertext {
        guard a.size == 2 else { throw HEError.invalidCiphertext }
        let element = galoisElement(forRotation: step)
        if element == 1 { return a }
        guard let key = keys.keys[element] else { throw HEError.missingGaloisKey }
        let permutation = galoisPermutation(element)
        var c0 = applyGalois(a.polys[0], permutation: permutation)
        let c1 = applyGalois(a.polys[1], permutation: permutation)
        let (k0, k1) = keySwitch(c1, key: key)
        addInPlace(&c0, k0)
        return CKKSCiphertext(polys: [c0, k1], scale: a.scale, seed: nil)
    }

    /// (poly - [poly]_{q_l}) / q_l over the remaining primes, where q_l is the poly's last row's prime.
    func divideByLastPrime(_ poly: RNSPoly) -> RNSPoly {
        let n = degree
        let last = poly.count - 1
        var lastRow = Array(poly.row(last))
        ntt[last].inverse(&lastRow)
        var result = poly.prefix(rows: last)
        let lastQ = moduli[last].value
        let half = lastQ >> 1
        var lifted = [UInt64](repeating: 0, count: n)
        for i in 0..<last {
            let modulus = moduli[i]
            let lastModQ = modulus.reduce(lastQ)
            for k in 0..<n {
                let v = lastRow[k]
                lifted[k] = v > half ? modulus.subtract(modulus.reduce(v), lastModQ) : modulus.reduce(v)
            }
            ntt[i].forward(&lifted)
            let inverse = primeInverses[last][i]
            let inverseShoup = modulus.shoup(inverse)
            let q = modulus.value
            result.data.withUnsafeMutableBufferPointer { x in
                for k in 0..<n {
                    let difference = x[i * n + k] &+ q &- lifted[k]
                    x[i * n + k] = modulus.multiply(difference, by: inverse, shoup: inverseShoup)
                }
            }
        }
        return result
    }

    /// Hybrid key switching of d (NTT form, data rows 0...l) with one digit per prime and the special prime P:
    /// returns (k0, k1) with k0 + k1*s ≈ d*s'.
    func keySwitch(_ d: RNSPoly, key: KeySwitchKey) -> (RNSPoly, RNSPoly) {
        let n = degree
        let rows = d.count
        let special = specialIndex
        var coefficientForm = d
        inverseNTT(&coefficientForm)
        // Target rows 0..<rows are data primes; target `rows` is the special prime.
        var out0 = RNSPoly(degree: n, count: rows + 1)
        var out1 = RNSPoly(degree: n, count: rows + 1)
        var lifted = [UInt64](repeating: 0, count: n)
        // 128-bit accumulators (high, low) for both outputs: products are summed unreduced and reduced once.
        var accumulators = [UInt64](repeating: 0, count: 4 * n)
        for target in 0...rows {
            let moduleIndex = target == rows ? special : target
            let modulus = moduli[moduleIndex]
            accumulators.withUnsafeMutableBufferPointer { acc in
                for k in 0..<(4 * n) { acc[k] = 0 }
            }
            for j in 0..<rows {
                lifted.withUnsafeMutableBufferPointer { x in
                    if j == target {
                        d.data.withUnsafeBufferPointer { source in
                            for k in 0..<n { x[k] = source[j * n + k] }
                        }
                    } else {
                        coefficientForm.data.withUnsafeBufferPointer { source in
                            for k in 0..<n { x[k] = modulus.reduce(source[j * n + k]) }
                        }
                        ntt[moduleIndex].forward(x)
                    }
                }
                let keyOffset = moduleIndex * n
                accumulators.withUnsafeMutableBufferPointer { acc in
                    lifted.withUnsafeBufferPointer { x in
                        key.b[j].data.withUnsafeBufferPointer { kb in
                            key.a[j].data.withUnsafeBufferPointer { ka in
                                let b = kb.baseAddress! + keyOffset
                                let a = ka.baseAddress! + keyOffset
                                let p = acc.baseAddress!
                                for k in 0..<n {
                                    let value = x[k]
                                    let p0 = value.multipliedFullWidth(by: b[k])
                                    let (low0, carry0) = p[4 * k + 1].addingReportingOverflow(p0.low)
                                    p[4 * k + 1] = low0
                                    p[4 * k] = p[4 * k] &+ p0.high &+ (carry0 ? 1 : 0)
                                    let p1 = value.multipliedFullWidth(by: a[k])
                                    let (low1, carry1) = p[4 * k + 3].addingReportingOverflow(p1.low)
                                    p[4 * k + 3] = low1
                                    p[4 * k + 2] = p[4 * k + 2] &+ p1.high &+ (carry1 ? 1 : 0)
                                }
                            }
                        }
                    }
                }
            }
            accumulators.withUnsafeBufferPointer { acc in
                out0.data.withUnsafeMutableBufferPointer { o0 in
                    out1.data.withUnsafeMutableBufferPointer { o1 in
                        for k in 0..<n {
                            o0[target * n + k] = modulus.reduce(high: acc[4 * k], low: acc[4 * k + 1])
                            o1[target * n + k] = modulus.reduce(high: acc[4 * k + 2], low: acc[4 * k + 3])
                        }
                    }
                }
            }
        }
        return (modDownBySpecial(out0, rows: rows), modDownBySpecial(out1, rows: rows))
    }

    /// (x - [x]_P) / P: drops the special row (the last) with rounding.
    func modDownBySpecial(_ poly: RNSPoly, rows: Int) -> RNSPoly {
        let n = degree
        var specialRow = Array(poly.row(rows))
        ntt[specialIndex].inverse(&specialRow)
        let p = moduli[specialIndex].value
        let half = p >> 1
        var result = poly.prefix(rows: rows)
        var lifted = [UInt64](repeating: 0, count: n)
        for i in 0..<rows {
            let modulus = moduli[i]
            let pModQ = specialModQ[i]
            for k in 0..<n {
                let v = specialRow[k]
                lifted[k] = v > half ? modulus.subtract(modulus.reduce(v), pModQ) : modulus.reduce(v)
            }
            ntt[i].forward(&lifted)
            let inverse = specialInverseModQ[i]
            let inverseShoup = modulus.shoup(inverse)
            let q = modulus.value
            result.data.withUnsafeMutableBufferPointer { x in
                for k in 0..<n {
                    x[i * n + k] = modulus.multiply(x[i * n + k] &+ q &- lifted[k], by: inverse, shoup: inverseShoup)
                }
            }
        }
        return result
    }
}
