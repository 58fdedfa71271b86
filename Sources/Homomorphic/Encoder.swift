import Foundation

/// An encoded CKKS plaintext: a polynomial in NTT form at a level, with its scale.
public struct CKKSPlaintext: Sendable, Hashable {
    /// The polynomial (NTT form), rows for data primes 0...level.
    var poly: EvaluationPoly
    /// The scale the values were multiplied by.
    public var scale: Double
    /// The level (number of data primes minus one).
    public var level: Int { poly.count - 1 }
}

extension CKKSContext {
    /// Encodes up to N/2 real values into the slots (canonical embedding, slots ordered by the rotation group
    /// 5^j so that rotations are Galois automorphisms). Unused slots are zero.
    ///
    /// - Parameters:
    ///   - values: at most `slotCount` values.
    ///   - scale: the scale (default: the parameters' scale).
    ///   - level: the level (default: the top).
    public func encode(_ values: [Double], scale: Double? = nil, level: Int? = nil) throws -> CKKSPlaintext {
        let scale = scale ?? parameters.scale
        let level = level ?? maxLevel
        guard values.count <= slotCount else { throw HEError.tooManyValues }
        guard level >= 0, level <= maxLevel else { throw HEError.levelMismatch }
        guard scale.isFinite, scale > 0 else { throw HEError.invalidParameters("scale") }
        let slots = slotCount
        var re = [Double](repeating: 0, count: slots)
        var im = [Double](repeating: 0, count: slots)
        for (i, v) in values.enumerated() {
            guard v.isFinite else { throw HEError.valueTooLarge }
            re[i] = v
        }
        inverseSpecialFFT(re: &re, im: &im)
        return try encodeScaled((re + im).map { $0 * scale }, scale: scale, level: level)
    }

    /// Encodes real values directly as polynomial coefficients (coefficient encoding), value i times the scale
    /// in coefficient i. Used by the linear private-inference packing.
    public func encodeCoefficients(
        _ values: [Double], scale: Double? = nil, level: Int? = nil
    ) throws
        -> CKKSPlaintext
    {
        let scale = scale ?? parameters.scale
        let level = level ?? maxLevel
        guard values.count <= degree else { throw HEError.tooManyValues }
        guard level >= 0, level <= maxLevel else { throw HEError.levelMismatch }
        guard scale.isFinite, scale > 0 else { throw HEError.invalidParameters("scale") }
        var coefficients = [Int64](repeating: 0, count: degree)
        for (i, v) in values.enumerated() { coefficients[i] = try Self.scaledInteger(v * scale) }
        return encodeCoefficients(coefficients, scale: scale, level: level)
    }

    /// A plaintext whose every slot holds `value` (the constant polynomial round(value * scale)).
    public func encodeConstant(_ value: Double, scale: Double? = nil, level: Int? = nil) throws -> CKKSPlaintext {
        let scale = scale ?? parameters.scale
        let level = level ?? maxLevel
        guard level >= 0, level <= maxLevel else { throw HEError.levelMismatch }
        var coefficients = [Double](repeating: 0, count: degree)
        coefficients[0] = value * scale
        return try encodeScaled(coefficients, scale: scale, level: level)
    }

    /// Scaled coefficients, rounded, as a plaintext at `level`. Coefficients may pass 2^62 (scales like 2^90):
    /// a double's 53-bit significand times a power of two is reduced modulo each prime exactly, so the encoding
    /// error is the double's rounding, which the FFT already has. A coefficient that would wrap around half the
    /// level's modulus is refused.
    func encodeScaled(_ scaled: [Double], scale: Double, level: Int) throws -> CKKSPlaintext {
        let n = degree
        let limit = (0...level).reduce(0.0) { $0 + log2(Double(moduli[$1].value)) } - 1
        var poly = CoefficientPoly(degree: n, count: level + 1)
        // 2^shift mod each prime, for every shift below the limit (filled on the first large coefficient).
        var powers: [[UInt64]] = []
        for (j, x) in scaled.enumerated() {
            guard x.isFinite else { throw HEError.valueTooLarge }
            let r = x.rounded()
            if abs(r) < 0x1p62 {
                let v = Int64(r)
                for i in 0...level { poly.data[i * n + j] = moduli[i].reduce(signed: v) }
                continue
            }
            guard log2(abs(r)) < limit else { throw HEError.valueTooLarge }
            // r = ±significand * 2^shift exactly, with a 53-bit integer significand and shift >= 10.
            let significand = Int64(r.significandBitPattern | (1 << 52))
            let shift = Int(r.exponent) - 52
            if powers.isEmpty {
                powers = (0...level).map { i in
                    var row = [UInt64(1)]
                    for _ in 0..<Int(limit) { row.append(moduli[i].add(row.last!, row.last!)) }
                    return row
                }
            }
            for i in 0...level {
                let modulus = moduli[i]
                let m = modulus.multiply(modulus.reduce(signed: significand), powers[i][shift])
                poly.data[i * n + j] = r < 0 ? modulus.subtract(0, m) : m
            }
        }
        return CKKSPlaintext(poly: forwardNTT(consume poly), scale: scale)
    }

    func encodeCoefficients(_ coefficients: [Int64], scale: Double, level: Int) -> CKKSPlaintext {
        CKKSPlaintext(poly: forwardNTT(poly(signedCoefficients: coefficients, count: level + 1)), scale: scale)
    }

    static func scaledInteger(_ x: Double) throws -> Int64 {
        guard x.isFinite, abs(x) < 0x1p62 else { throw HEError.valueTooLarge }
        return Int64(x.rounded())
    }

    /// Decodes the slots of a plaintext (real parts).
    public func decode(_ plaintext: CKKSPlaintext) -> [Double] {
        let coefficients = centeredCoefficients(plaintext)
        let slots = slotCount
        var re = [Double](repeating: 0, count: slots)
        var im = [Double](repeating: 0, count: slots)
        for i in 0..<slots {
            re[i] = coefficients[i] / plaintext.scale
            im[i] = coefficients[i + slots] / plaintext.scale
        }
        specialFFT(re: &re, im: &im)
        return re
    }

    /// Decodes the coefficients of a plaintext divided by its scale.
    public func decodeCoefficients(_ plaintext: CKKSPlaintext) -> [Double] {
        centeredCoefficients(plaintext).map { $0 / plaintext.scale }
    }

    /// The coefficients as centered integers mod Q_level, converted to Double via Garner's mixed-radix CRT
    /// (exact digits; the centering is decided on the digits, so no cancellation).
    func centeredCoefficients(_ plaintext: CKKSPlaintext) -> [Double] {
        let poly = inverseNTT(plaintext.poly)
        let count = poly.count
        let n = degree
        if count == 1 {
            let modulus = moduli[0]
            return (0..<n).map { Double(modulus.centered(poly.data[$0])) }
        }
        var result = [Double](repeating: 0, count: n)
        var digits = [UInt64](repeating: 0, count: count)
        for j in 0..<n {
            for i in 0..<count {
                let modulus = moduli[i]
                var t = poly.data[i * n + j]
                for k in 0..<i {
                    t = modulus.multiply(modulus.subtract(t, modulus.reduce(digits[k])), garnerInverses[i][k])
                }
                digits[i] = t
            }
            // X > (Q-1)/2 iff its digits exceed ((q_i - 1)/2) lexicographically from the top.
            var negative = false
            for i in stride(from: count - 1, through: 0, by: -1) {
                let half = (moduli[i].value - 1) / 2
                if digits[i] != half {
                    negative = digits[i] > half
                    break
                }
            }
            var value = 0.0
            for i in stride(from: count - 1, through: 0, by: -1) {
                let digit = negative ? moduli[i].value - 1 - digits[i] : digits[i]
                value = value * Double(moduli[i].value) + Double(digit)
            }
            result[j] = negative ? -(value + 1) : value
        }
        return result
    }

    /// The inverse of `specialFFT`: slot values to the complex vector whose real and imaginary parts are the
    /// polynomial's lower and upper coefficient halves (Cheon, Kim, Kim, Song 2017, HEAAN's special FFT).
    func inverseSpecialFFT(re: inout [Double], im: inout [Double]) {
        let size = re.count
        let m = 2 * degree
        withFFTPointers(&re, &im) { re, im, roots, group in
            var length = size
            while length >= 2 {
                let half = length >> 1
                // 4 * length is a power of two, so the residue is a mask.
                let mask = (length << 2) - 1
                let quarterGap = m / (length << 2)
                var start = 0
                while start < size {
                    for j in 0..<half {
                        let index = ((length << 2) - (group[j] & mask)) * quarterGap
                        let (wr, wi) = roots[index]
                        let a = start + j
                        let b = a + half
                        let ur = re[a] + re[b]
                        let ui = im[a] + im[b]
                        let vr = re[a] - re[b]
                        let vi = im[a] - im[b]
                        re[a] = ur
                        im[a] = ui
                        re[b] = vr * wr - vi * wi
                        im[b] = vr * wi + vi * wr
                    }
                    start += length
                }
                length >>= 1
            }
        }
        bitReversePermute(&re, &im)
        let inverseSize = 1.0 / Double(size)
        for i in 0..<size {
            re[i] *= inverseSize
            im[i] *= inverseSize
        }
    }

    /// The special FFT evaluating the polynomial at the primitive roots ordered by 5^j.
    func specialFFT(re: inout [Double], im: inout [Double]) {
        let size = re.count
        let m = 2 * degree
        bitReversePermute(&re, &im)
        withFFTPointers(&re, &im) { re, im, roots, group in
            var length = 2
            while length <= size {
                let half = length >> 1
                // 4 * length is a power of two, so the residue is a mask.
                let mask = (length << 2) - 1
                let quarterGap = m / (length << 2)
                var start = 0
                while start < size {
                    for j in 0..<half {
                        let index = (group[j] & mask) * quarterGap
                        let (wr, wi) = roots[index]
                        let a = start + j
                        let b = a + half
                        let vr = re[b] * wr - im[b] * wi
                        let vi = re[b] * wi + im[b] * wr
                        let ur = re[a]
                        let ui = im[a]
                        re[a] = ur + vr
                        im[a] = ui + vi
                        re[b] = ur - vr
                        im[b] = ui - vi
                    }
                    start += length
                }
                length <<= 1
            }
        }
    }

    /// Runs `body` with pointers to the vectors, the encoder's roots and the rotation group (one level of nesting
    /// for both FFT directions).
    private func withFFTPointers(
        _ re: inout [Double], _ im: inout [Double],
        _ body: (
            UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafePointer<(re: Double, im: Double)>,
            UnsafePointer<Int>
        ) -> Void
    ) {
        re.withUnsafeMutableBufferPointer { reBuffer in
            im.withUnsafeMutableBufferPointer { imBuffer in
                roots.withUnsafeBufferPointer { roots in
                    rotationGroup.withUnsafeBufferPointer { group in
                        body(reBuffer.baseAddress!, imBuffer.baseAddress!, roots.baseAddress!, group.baseAddress!)
                    }
                }
            }
        }
    }

    private func bitReversePermute(_ re: inout [Double], _ im: inout [Double]) {
        let size = re.count
        let bits = size.trailingZeroBitCount
        for i in 0..<size {
            let j = NTTTables.bitReverse(i, bits: bits)
            if i < j {
                re.swapAt(i, j)
                im.swapAt(i, j)
            }
        }
    }
}
