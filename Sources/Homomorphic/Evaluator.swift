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
        while result.polys.count < b.size { result.polys.append(EvaluationPoly(degree: degree, count: a.level + 1)) }
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
        let (d0, d1, d2) = tensor(a.polys[0], a.polys[1], b.polys[0], b.polys[1])
        return CKKSCiphertext(polys: [d0, d1, d2], scale: a.scale * b.scale, seed: nil)
    }

    /// a * b, relinearised.
    public func multiply(
        _ a: CKKSCiphertext, _ b: CKKSCiphertext, relinearizationKey: RelinearizationKey
    ) throws
        -> CKKSCiphertext
    {
        guard a.size == 2, b.size == 2 else { throw HEError.invalidCiphertext }
        guard a.level == b.level else { throw HEError.levelMismatch }
        var products = tensor(a.polys[0], a.polys[1], b.polys[0], b.polys[1])
        let (k0, k1) = keySwitch(products.2, key: relinearizationKey.key)
        addInPlace(&products.0, k0)
        addInPlace(&products.1, k1)
        return CKKSCiphertext(polys: [products.0, products.1], scale: a.scale * b.scale, seed: nil)
    }

    /// a^2, relinearised.
    public func square(_ a: CKKSCiphertext, relinearizationKey: RelinearizationKey) throws -> CKKSCiphertext {
        guard a.size == 2 else { throw HEError.invalidCiphertext }
        var products = tensor(a.polys[0], a.polys[1], a.polys[0], a.polys[1])
        let (k0, k1) = keySwitch(products.2, key: relinearizationKey.key)
        addInPlace(&products.0, k0)
        addInPlace(&products.1, k1)
        return CKKSCiphertext(polys: [products.0, products.1], scale: a.scale * a.scale, seed: nil)
    }

    /// a * b, relinearised and rescaled in one step, as `rescale(multiply(a, b, relinearizationKey:))` computes
    /// but faster and with one rounding instead of two: the key switch's division by the special prime P and the
    /// rescaling division by q_l are done together as one division by P * q_l, which needs four number-theoretic
    /// transforms per component instead of seven. The level drops by one and the scale by q_l.
    public func multiplyAndRescale(
        _ a: CKKSCiphertext, _ b: CKKSCiphertext, relinearizationKey: RelinearizationKey
    ) throws
        -> CKKSCiphertext
    {
        guard a.size == 2, b.size == 2 else { throw HEError.invalidCiphertext }
        guard a.level == b.level else { throw HEError.levelMismatch }
        guard a.level >= 1 else { throw HEError.levelExhausted }
        let products = tensor(a.polys[0], a.polys[1], b.polys[0], b.polys[1])
        return relinearizeAndRescale(products, scale: a.scale * b.scale, key: relinearizationKey)
    }

    /// a^2, relinearised and rescaled in one step (see `multiplyAndRescale`).
    public func squareAndRescale(_ a: CKKSCiphertext, relinearizationKey: RelinearizationKey) throws -> CKKSCiphertext {
        guard a.size == 2 else { throw HEError.invalidCiphertext }
        guard a.level >= 1 else { throw HEError.levelExhausted }
        let products = tensor(a.polys[0], a.polys[1], a.polys[0], a.polys[1])
        return relinearizeAndRescale(products, scale: a.scale * a.scale, key: relinearizationKey)
    }

    private func relinearizeAndRescale(
        _ products: (EvaluationPoly, EvaluationPoly, EvaluationPoly), scale: Double, key: RelinearizationKey
    ) -> CKKSCiphertext {
        let last = products.0.count - 1
        var (k0, k1) = keySwitchProducts(products.2, key: key.key)
        divideRoundingByLastTwoRows(&k0, adding: products.0)
        divideRoundingByLastTwoRows(&k1, adding: products.1)
        return CKKSCiphertext(polys: [k0, k1], scale: scale / Double(moduli[last].value), seed: nil)
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
        let polys = a.polys.map { poly in
            var result = poly
            divideRoundingByLastRow(
                &result, modulusIndex: last, inverses: primeInverses[last], shoups: primeInverseShoups[last])
            return result
        }
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

    /// The tensor product (a0 + a1*s)(b0 + b1*s) = d0 + d1*s + d2*s^2 of NTT-form polys, in one pass; the
    /// middle term sums both 128-bit products before a single reduction.
    func tensor(
        _ a0: EvaluationPoly, _ a1: EvaluationPoly, _ b0: EvaluationPoly, _ b1: EvaluationPoly
    ) -> (EvaluationPoly, EvaluationPoly, EvaluationPoly) {
        precondition(a0.basis == .data && a1.basis == .data && b0.basis == .data && b1.basis == .data)
        let n = degree
        let rows = a0.count
        var d0 = EvaluationPoly(uninitializedDegree: n, count: rows, basis: .data)
        var d1 = EvaluationPoly(uninitializedDegree: n, count: rows, basis: .data)
        var d2 = EvaluationPoly(uninitializedDegree: n, count: rows, basis: .data)
        withPointers(a0, a1, b0, b1) { x0, x1, y0, y1 in
            d0.data.withUnsafeMutableBufferPointer { z0 in
                d1.data.withUnsafeMutableBufferPointer { z1 in
                    d2.data.withUnsafeMutableBufferPointer { z2 in
                        for i in 0..<rows {
                            let modulus = moduli[i]
                            for k in (i * n)..<((i + 1) * n) {
                                let u0 = x0[k]
                                let u1 = x1[k]
                                let v0 = y0[k]
                                let v1 = y1[k]
                                z0[k] = modulus.multiply(u0, v0)
                                z2[k] = modulus.multiply(u1, v1)
                                let p = u0.multipliedFullWidth(by: v1)
                                let r = u1.multipliedFullWidth(by: v0)
                                let (low, carry) = p.low.addingReportingOverflow(r.low)
                                z1[k] = modulus.reduce(high: p.high &+ r.high &+ (carry ? 1 : 0), low: low)
                            }
                        }
                    }
                }
            }
        }
        return (d0, d1, d2)
    }

    func withPointers<R>(
        _ a: EvaluationPoly, _ b: EvaluationPoly, _ c: EvaluationPoly, _ d: EvaluationPoly,
        _ body: (UnsafePointer<UInt64>, UnsafePointer<UInt64>, UnsafePointer<UInt64>, UnsafePointer<UInt64>) -> R
    ) -> R {
        a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                c.data.withUnsafeBufferPointer { pc in
                    d.data.withUnsafeBufferPointer { pd in
                        body(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, pd.baseAddress!)
                    }
                }
            }
        }
    }

    /// In place: `poly` (NTT form; rows 0..<r-1 over data primes 0..<r-1, row r-1 over p = moduli[modulusIndex])
    /// becomes (poly - [poly]_p) / p, the division by p with rounding, over its first r-1 rows (data primes
    /// only). `inverses[i]` is p^-1 mod q_i and `shoups[i]` its Shoup quotient. Used by rescaling (p = q_l, a
    /// data poly) and key switching (P, an extended poly).
    func divideRoundingByLastRow(
        _ poly: inout EvaluationPoly, modulusIndex: Int, inverses: [UInt64], shoups: [UInt64]
    ) {
        precondition(modulusIndex == self.modulusIndex(row: poly.count - 1, of: poly))
        let n = degree
        let rows = poly.count - 1
        let p = moduli[modulusIndex].value
        let half = p >> 1
        // The last row in coefficient form, lifted to each data prime and transformed there.
        var lifted = scratch(count: n)
        poly.data.withUnsafeMutableBufferPointer { buffer in
            let lastRow = UnsafeMutableBufferPointer(rebasing: buffer[(rows * n)..<((rows + 1) * n)])
            ntt[modulusIndex].inverse(lastRow)
            let last = lastRow.baseAddress!
            lifted.withUnsafeMutableBufferPointer { liftedBuffer in
                let y = liftedBuffer.baseAddress!
                for i in 0..<rows {
                    let modulus = moduli[i]
                    let q = modulus.value
                    let pModQ = modulus.reduce(p)
                    // The centered representative of the last row, mod q_i: r - p for v > p/2. Branch-free, as
                    // the sign is a coin flip per coefficient (mispredicted branches cost more than the loop).
                    for k in 0..<n {
                        let v = last[k]
                        y[k] = modulus.subtract(modulus.reduce(v), pModQ, where: Self.mask(v > half))
                    }
                    ntt[i].forward(liftedBuffer)
                    let inverse = inverses[i]
                    let inverseShoup = shoups[i]
                    let x = buffer.baseAddress! + i * n
                    for k in 0..<n {
                        x[k] = modulus.multiply(x[k] &+ q &- y[k], by: inverse, shoup: inverseShoup)
                    }
                }
            }
        }
        poly.data.removeLast(n)
        poly.count = rows
        poly.basis = .data
    }

    /// Hybrid key switching of d (NTT form, data rows 0...l) with one digit per prime and the special prime P:
    /// returns (k0, k1) with k0 + k1*s ≈ d*s': the products of `keySwitchProducts`, each divided by P.
    func keySwitch(_ d: EvaluationPoly, key: KeySwitchKey) -> (EvaluationPoly, EvaluationPoly) {
        var (out0, out1) = keySwitchProducts(d, key: key)
        divideRoundingByLastRow(
            &out0, modulusIndex: specialIndex, inverses: specialInverseModQ, shoups: specialInverseShoups)
        divideRoundingByLastRow(
            &out1, modulusIndex: specialIndex, inverses: specialInverseModQ, shoups: specialInverseShoups)
        return (out0, out1)
    }

    /// The key switch before its division by P: (k0, k1) over the data rows of d and then the special prime, in
    /// NTT form, with k0 + k1*s ≈ P*d*s' mod (Q*P).
    ///
    /// Per target prime, each digit is lifted and transformed once (the digit of the target's own prime is used
    /// as it is, already in NTT form); then, a cache-sized chunk of coefficients at a time, the digits are
    /// multiplied by both key components and summed in 128-bit accumulators, with a single Barrett reduction per
    /// coefficient at the end.
    func keySwitchProducts(_ d: EvaluationPoly, key: KeySwitchKey) -> (EvaluationPoly, EvaluationPoly) {
        precondition(d.basis == .data)
        let n = degree
        let rows = d.count
        let coefficientForm = inverseNTT(d)
        // Target rows 0..<rows are data primes; target `rows` is the special prime.
        var out0 = EvaluationPoly(uninitializedDegree: n, count: rows + 1, basis: .extended)
        var out1 = EvaluationPoly(uninitializedDegree: n, count: rows + 1, basis: .extended)
        // The digits in coefficient form, lifted to the target prime and transformed there.
        var lifted = scratch(count: rows * n)
        let chunk = min(n, 256)
        var accumulators = scratch(count: 4 * chunk)
        let digitBits = rows.bitWidth - (rows - 1).leadingZeroBitCount
        accumulators.withUnsafeMutableBufferPointer { accumulatorBuffer in
            lifted.withUnsafeMutableBufferPointer { liftedBuffer in
                d.data.withUnsafeBufferPointer { nttBuffer in
                    coefficientForm.data.withUnsafeBufferPointer { coefficientBuffer in
                        out0.data.withUnsafeMutableBufferPointer { o0 in
                            out1.data.withUnsafeMutableBufferPointer { o1 in
                                let p = accumulatorBuffer.baseAddress!
                                for target in 0...rows {
                                    let index = target == rows ? specialIndex : target
                                    let modulus = moduli[index]
                                    // Lazy transforms leave values below 4q; `rows` such products must fit 128 bits.
                                    let lazy = 2 * modulus.bitWidth + 2 + digitBits <= 128
                                    for j in 0..<rows where j != target {
                                        let x = liftedBuffer.baseAddress! + j * n
                                        let coefficients = coefficientBuffer.baseAddress! + j * n
                                        if moduli[j].value <= modulus.value &<< 2 {
                                            // Residues below q_j <= 4q are valid transform inputs as they are.
                                            x.update(from: coefficients, count: n)
                                        } else {
                                            for k in 0..<n { x[k] = modulus.reduce(coefficients[k]) }
                                        }
                                        ntt[index].forward(UnsafeMutableBufferPointer(start: x, count: n), lazy: lazy)
                                    }
                                    for start in stride(from: 0, to: n, by: chunk) {
                                        for j in 0..<rows {
                                            let source =
                                                j == target
                                                ? nttBuffer.baseAddress! + j * n
                                                : UnsafePointer(liftedBuffer.baseAddress! + j * n)
                                            let offset = index * n + start
                                            key.b[j].data.withUnsafeBufferPointer { kb in
                                                key.a[j].data.withUnsafeBufferPointer { ka in
                                                    Self.accumulateProducts(
                                                        p, source + start, kb.baseAddress! + offset,
                                                        ka.baseAddress! + offset, count: chunk, first: j == 0)
                                                }
                                            }
                                        }
                                        let r0 = o0.baseAddress! + target * n + start
                                        let r1 = o1.baseAddress! + target * n + start
                                        for k in 0..<chunk {
                                            r0[k] = modulus.reduce(high: p[4 &* k], low: p[4 &* k &+ 1])
                                            r1[k] = modulus.reduce(high: p[4 &* k &+ 2], low: p[4 &* k &+ 3])
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (out0, out1)
    }

    /// In place: `k` (NTT form; rows q_0...q_l, then P) plus P*d (`d` in NTT form over q_0...q_l) becomes
    /// (P*d + k - [P*d + k]_{P*q_l}) / (P*q_l) over q_0..<q_l, the division by P*q_l with rounding. The centered
    /// residue mod P*q_l comes from the two residues by CRT: x = r_l + q_l * t with t = (r_P - r_l) * q_l^-1 mod P.
    func divideRoundingByLastTwoRows(_ k: inout EvaluationPoly, adding d: EvaluationPoly) {
        let n = degree
        let l = d.count - 1
        precondition(l >= 1 && k.count == l + 2 && k.basis == .extended && d.basis == .data)
        let constants = fusedRescale[l]
        let special = moduli[specialIndex]
        let p = special.value
        let lastModulus = moduli[l]
        let lastValue = lastModulus.value
        let specialModLast = specialModQ[l]
        let specialModLastShoup = lastModulus.shoup(specialModLast)
        var lifted = scratch(count: n)
        k.data.withUnsafeMutableBufferPointer { buffer in
            d.data.withUnsafeBufferPointer { dBuffer in
                let lastRow = buffer.baseAddress! + l * n
                let specialRow = lastRow + n
                // Row l of P*d + k, then both top rows to coefficient form.
                let dLast = dBuffer.baseAddress! + l * n
                for j in 0..<n {
                    lastRow[j] = lastModulus.add(
                        lastModulus.multiply(dLast[j], by: specialModLast, shoup: specialModLastShoup), lastRow[j])
                }
                ntt[l].inverse(UnsafeMutableBufferPointer(start: lastRow, count: n))
                ntt[specialIndex].inverse(UnsafeMutableBufferPointer(start: specialRow, count: n))
                // t replaces the P row; the sign of the centered x is kept in t's top bit (t < P < 2^62).
                let halfP = p >> 1
                let halfLast = lastValue >> 1
                let inverse = constants.lastInverseModSpecial
                let inverseShoup = constants.lastInverseModSpecialShoup
                let reduceLast = lastValue >= p
                for j in 0..<n {
                    let r = lastRow[j]
                    let rModP = reduceLast ? special.reduce(r) : r
                    let t = special.multiply(special.subtract(specialRow[j], rModP), by: inverse, shoup: inverseShoup)
                    // x = r + q_l*t exceeds P*q_l/2 when t > (P-1)/2, or t == (P-1)/2 and r > (q_l-1)/2.
                    let negative = Self.mask(t > halfP) | (Self.mask(t == halfP) & Self.mask(r > halfLast))
                    specialRow[j] = t | (negative & (1 << 63))
                }
                lifted.withUnsafeMutableBufferPointer { liftedBuffer in
                    let y = liftedBuffer.baseAddress!
                    for i in 0..<l {
                        let modulus = moduli[i]
                        let q = modulus.value
                        let lastModQ = constants.lastModQ[i]
                        let lastModQShoup = constants.lastModQShoup[i]
                        let productModQ = constants.productModQ[i]
                        let reduceLast = lastValue >= q
                        for j in 0..<n {
                            let tagged = specialRow[j]
                            let t = tagged & ~(1 << 63)
                            let r = reduceLast ? modulus.reduce(lastRow[j]) : lastRow[j]
                            let value = modulus.add(r, modulus.multiply(t, by: lastModQ, shoup: lastModQShoup))
                            y[j] = modulus.subtract(value, productModQ, where: 0 &- (tagged >> 63))
                        }
                        ntt[i].forward(liftedBuffer)
                        let lastInverse = primeInverses[l][i]
                        let lastInverseShoup = primeInverseShoups[l][i]
                        let productInverse = constants.productInverseModQ[i]
                        let productInverseShoup = constants.productInverseModQShoup[i]
                        let x = buffer.baseAddress! + i * n
                        let z = dBuffer.baseAddress! + i * n
                        for j in 0..<n {
                            x[j] = modulus.add(
                                modulus.multiply(z[j], by: lastInverse, shoup: lastInverseShoup),
                                modulus.multiply(x[j] &+ q &- y[j], by: productInverse, shoup: productInverseShoup))
                        }
                    }
                }
            }
        }
        k.data.removeLast(2 * n)
        k.count = l
        k.basis = .data
    }

    /// All ones when `condition`, else zero: for branch-free selection on data-dependent conditions.
    @inline(__always)
    static func mask(_ condition: Bool) -> UInt64 {
        0 &- UInt64(truncatingIfNeeded: unsafeBitCast(condition, to: UInt8.self))
    }

    /// Sets (first) or adds to the interleaved 128-bit accumulators (high0, low0, high1, low1) per coefficient
    /// the products x*b and x*a.
    @inline(__always)
    static func accumulateProducts(
        _ p: UnsafeMutablePointer<UInt64>, _ x: UnsafePointer<UInt64>, _ b: UnsafePointer<UInt64>,
        _ a: UnsafePointer<UInt64>, count: Int, first: Bool
    ) {
        if first {
            for k in 0..<count {
                let value = x[k]
                let p0 = value.multipliedFullWidth(by: b[k])
                let p1 = value.multipliedFullWidth(by: a[k])
                let slot = p + 4 &* k
                slot[0] = p0.high
                slot[1] = p0.low
                slot[2] = p1.high
                slot[3] = p1.low
            }
        } else {
            for k in 0..<count {
                let value = x[k]
                let slot = p + 4 &* k
                let p0 = value.multipliedFullWidth(by: b[k])
                let (low0, carry0) = slot[1].addingReportingOverflow(p0.low)
                slot[1] = low0
                slot[0] = slot[0] &+ p0.high &+ (carry0 ? 1 : 0)
                let p1 = value.multipliedFullWidth(by: a[k])
                let (low1, carry1) = slot[3].addingReportingOverflow(p1.low)
                slot[3] = low1
                slot[2] = slot[2] &+ p1.high &+ (carry1 ? 1 : 0)
            }
        }
    }
}
