/// Precomputed tables for the negacyclic number-theoretic transform over Z_q[X]/(X^N + 1).
///
/// The forward transform is Cooley-Tukey with Harvey's lazy butterflies (values kept in [0, 4q)) and twiddles
/// psi^bitrev(i) with their Shoup quotients, producing evaluations at the odd powers of psi in bit-reversed order;
/// the inverse is Gentleman-Sande with lazy values in [0, 2q) (Harvey 2014; Longa and Naehrig 2016). The final
/// reduction of the forward transform and the scaling by N^-1 of the inverse are folded into their last stage, so
/// neither makes an extra pass over the data.
public struct NTTTables: Sendable {
    /// The modulus the tables are for.
    public let modulus: Modulus
    /// Ring degree N.
    public let degree: Int
    /// log2(N).
    @usableFromInline let logDegree: Int
    /// psi^bitrev(i) for i in 0..<N, where psi is a primitive 2N-th root of unity.
    @usableFromInline let rootPowers: [UInt64]
    @usableFromInline let rootPowersShoup: [UInt64]
    /// psi^-bitrev(i) for i in 0..<N.
    @usableFromInline let inverseRootPowers: [UInt64]
    @usableFromInline let inverseRootPowersShoup: [UInt64]
    /// N^-1 mod q and its Shoup quotient.
    @usableFromInline let inverseDegree: UInt64
    @usableFromInline let inverseDegreeShoup: UInt64
    /// psi^-bitrev(1) * N^-1 mod q (the last inverse stage's twiddle, scaled) and its Shoup quotient.
    @usableFromInline let lastInverseRoot: UInt64
    @usableFromInline let lastInverseRootShoup: UInt64

    /// Builds the tables; nil if q is not ≡ 1 (mod 2N).
    public init?(modulus: Modulus, degree: Int) {
        guard degree >= 2, degree & (degree - 1) == 0,
            let psi = Primes.minimalPrimitiveRoot(order: UInt64(2 * degree), modulus: modulus)
        else { return nil }
        self.modulus = modulus
        self.degree = degree
        let logN = degree.trailingZeroBitCount
        self.logDegree = logN
        let psiInverse = modulus.inverse(psi)
        var powers = [UInt64](repeating: 0, count: degree)
        var inversePowers = [UInt64](repeating: 0, count: degree)
        var power: UInt64 = 1
        var inversePower: UInt64 = 1
        for i in 0..<degree {
            let index = Self.bitReverse(i, bits: logN)
            powers[index] = power
            inversePowers[index] = inversePower
            power = modulus.multiply(power, psi)
            inversePower = modulus.multiply(inversePower, psiInverse)
        }
        self.rootPowers = powers
        self.rootPowersShoup = powers.map { modulus.shoup($0) }
        self.inverseRootPowers = inversePowers
        self.inverseRootPowersShoup = inversePowers.map { modulus.shoup($0) }
        let nInverse = modulus.inverse(UInt64(degree))
        self.inverseDegree = nInverse
        self.inverseDegreeShoup = modulus.shoup(nInverse)
        let lastRoot = modulus.multiply(inversePowers[1], nInverse)
        self.lastInverseRoot = lastRoot
        self.lastInverseRootShoup = modulus.shoup(lastRoot)
    }

    /// i with its lowest `bits` bits reversed.
    @inlinable static func bitReverse(_ i: Int, bits: Int) -> Int {
        var value = i
        var result = 0
        for _ in 0..<bits {
            result = result << 1 | value & 1
            value >>= 1
        }
        return result
    }

    /// In-place forward negacyclic NTT; input in [0, 4q), output in bit-reversed order in [0, q).
    @inlinable public func forward(_ values: UnsafeMutableBufferPointer<UInt64>) {
        forward(values, lazy: false)
    }

    /// In-place forward negacyclic NTT of input in [0, 4q); output in bit-reversed order, in [0, q), or in
    /// [0, 4q) when `lazy` (for consumers that reduce anyway, such as the 128-bit key-switching accumulators).
    @inlinable func forward(_ values: UnsafeMutableBufferPointer<UInt64>, lazy: Bool) {
        precondition(values.count == degree && degree >= 2)
        guard let x = values.baseAddress else { return }
        rootPowers.withUnsafeBufferPointer { rootsBuffer in
            rootPowersShoup.withUnsafeBufferPointer { shoupBuffer in
                Self.forwardKernel(
                    x, degree: degree, q: modulus.value, roots: rootsBuffer.baseAddress!,
                    shoups: shoupBuffer.baseAddress!, lazy: lazy)
            }
        }
    }

    /// Harvey's forward butterfly: (u, v) -> (u + w*v, u - w*v) for u, v in [0, 4q), results in [0, 4q).
    @inlinable @inline(__always)
    static func forwardButterfly(
        _ u: inout UInt64, _ v: inout UInt64, _ w: UInt64, _ wShoup: UInt64, _ q: UInt64, _ twoQ: UInt64
    ) {
        var a = u
        if a >= twoQ { a &-= twoQ }
        let product = v &* w &- v.multipliedFullWidth(by: wShoup).high &* q
        u = a &+ product
        v = a &- product &+ twoQ
    }

    /// Two forward stages on four values (x0, x2 and x1, x3 with `w`, then x0, x1 with `w1` and x2, x3 with `w2`).
    @inlinable @inline(__always)
    static func forwardGroup(
        _ x0: inout UInt64, _ x1: inout UInt64, _ x2: inout UInt64, _ x3: inout UInt64, _ twiddles: Radix4Twiddles,
        _ q: UInt64, _ twoQ: UInt64
    ) {
        forwardButterfly(&x0, &x2, twiddles.w, twiddles.wShoup, q, twoQ)
        forwardButterfly(&x1, &x3, twiddles.w, twiddles.wShoup, q, twoQ)
        forwardButterfly(&x0, &x1, twiddles.w1, twiddles.w1Shoup, q, twoQ)
        forwardButterfly(&x2, &x3, twiddles.w2, twiddles.w2Shoup, q, twoQ)
    }

    /// x in [0, 4q) reduced to [0, q).
    @inlinable @inline(__always)
    static func reduceFromFourQ(_ x: UInt64, _ q: UInt64, _ twoQ: UInt64) -> UInt64 {
        let y = x >= twoQ ? x &- twoQ : x
        return y >= q ? y &- q : y
    }

    @inlinable static func forwardKernel(
        _ x: UnsafeMutablePointer<UInt64>, degree: Int, q: UInt64, roots: UnsafePointer<UInt64>,
        shoups: UnsafePointer<UInt64>, lazy: Bool
    ) {
        let twoQ = q &* 2
        var m = 1
        var t = degree >> 1
        // With an odd number of stages, one radix-2 stage first (the last one only for N = 2).
        if degree.trailingZeroBitCount & 1 == 1 {
            let w = roots[1]
            let wShoup = shoups[1]
            for j in 0..<t { forwardButterfly(&x[j], &x[j &+ t], w, wShoup, q, twoQ) }
            m = 2
            t >>= 1
        }
        // Two stages per pass (radix 4): stage (m, t), then stage (2m, t/2), on values held in registers, halving
        // the passes over memory. Two groups of four at a time give the multiplier independent work.
        while t >= 4 {
            let half = t >> 1
            var base = x
            for i in 0..<m {
                let twiddles = Radix4Twiddles(roots, shoups, group: m &+ i)
                var j = 0
                while j < half {
                    let p0 = base + j
                    var x0 = p0[0]
                    var x1 = p0[half]
                    var x2 = p0[t]
                    var x3 = p0[t &+ half]
                    var y0 = p0[1]
                    var y1 = p0[half &+ 1]
                    var y2 = p0[t &+ 1]
                    var y3 = p0[t &+ half &+ 1]
                    // Interleaved by hand: the two groups in sequence schedule a few percent slower.
                    forwardButterfly(&x0, &x2, twiddles.w, twiddles.wShoup, q, twoQ)
                    forwardButterfly(&y0, &y2, twiddles.w, twiddles.wShoup, q, twoQ)
                    forwardButterfly(&x1, &x3, twiddles.w, twiddles.wShoup, q, twoQ)
                    forwardButterfly(&y1, &y3, twiddles.w, twiddles.wShoup, q, twoQ)
                    forwardButterfly(&x0, &x1, twiddles.w1, twiddles.w1Shoup, q, twoQ)
                    forwardButterfly(&y0, &y1, twiddles.w1, twiddles.w1Shoup, q, twoQ)
                    forwardButterfly(&x2, &x3, twiddles.w2, twiddles.w2Shoup, q, twoQ)
                    forwardButterfly(&y2, &y3, twiddles.w2, twiddles.w2Shoup, q, twoQ)
                    p0[0] = x0
                    p0[half] = x1
                    p0[t] = x2
                    p0[t &+ half] = x3
                    p0[1] = y0
                    p0[half &+ 1] = y1
                    p0[t &+ 1] = y2
                    p0[t &+ half &+ 1] = y3
                    j &+= 2
                }
                base += t << 1
            }
            m <<= 2
            t >>= 2
        }
        if t == 2 {
            // The last two stages: groups of four adjacent values, with the final reduction folded in.
            var base = x
            for i in 0..<m {
                var x0 = base[0]
                var x1 = base[1]
                var x2 = base[2]
                var x3 = base[3]
                forwardGroup(&x0, &x1, &x2, &x3, Radix4Twiddles(roots, shoups, group: m &+ i), q, twoQ)
                if !lazy {
                    x0 = reduceFromFourQ(x0, q, twoQ)
                    x1 = reduceFromFourQ(x1, q, twoQ)
                    x2 = reduceFromFourQ(x2, q, twoQ)
                    x3 = reduceFromFourQ(x3, q, twoQ)
                }
                base[0] = x0
                base[1] = x1
                base[2] = x2
                base[3] = x3
                base += 4
            }
        } else if degree == 2 {
            // The radix-2 stage above was the only one.
            if !lazy {
                x[0] = reduceFromFourQ(x[0], q, twoQ)
                x[1] = reduceFromFourQ(x[1], q, twoQ)
            }
        }
    }

    /// In-place inverse negacyclic NTT; input in bit-reversed order in [0, 2q), output coefficients in [0, q).
    @inlinable public func inverse(_ values: UnsafeMutableBufferPointer<UInt64>) {
        precondition(values.count == degree && degree >= 2)
        guard let x = values.baseAddress else { return }
        inverseRootPowers.withUnsafeBufferPointer { rootsBuffer in
            inverseRootPowersShoup.withUnsafeBufferPointer { shoupBuffer in
                Self.inverseKernel(
                    x, degree: degree, q: modulus.value, roots: rootsBuffer.baseAddress!,
                    shoups: shoupBuffer.baseAddress!, nInverse: inverseDegree, nInverseShoup: inverseDegreeShoup,
                    lastRoot: lastInverseRoot, lastRootShoup: lastInverseRootShoup)
            }
        }
    }

    /// Gentleman-Sande butterfly: (u, v) -> (u + v, (u - v)*w) for u, v in [0, 2q), results in [0, 2q).
    @inlinable @inline(__always)
    static func inverseButterfly(
        _ u: inout UInt64, _ v: inout UInt64, _ w: UInt64, _ wShoup: UInt64, _ q: UInt64, _ twoQ: UInt64
    ) {
        var sum = u &+ v
        if sum >= twoQ { sum &-= twoQ }
        let difference = u &- v &+ twoQ
        u = sum
        v = difference &* w &- difference.multipliedFullWidth(by: wShoup).high &* q
    }

    /// Two inverse stages on four values (x0, x1 with `w1` and x2, x3 with `w2`, then x0, x2 and x1, x3 with `w`).
    @inlinable @inline(__always)
    static func inverseGroup(
        _ x0: inout UInt64, _ x1: inout UInt64, _ x2: inout UInt64, _ x3: inout UInt64, _ twiddles: Radix4Twiddles,
        _ q: UInt64, _ twoQ: UInt64
    ) {
        inverseButterfly(&x0, &x1, twiddles.w1, twiddles.w1Shoup, q, twoQ)
        inverseButterfly(&x2, &x3, twiddles.w2, twiddles.w2Shoup, q, twoQ)
        inverseButterfly(&x0, &x2, twiddles.w, twiddles.wShoup, q, twoQ)
        inverseButterfly(&x1, &x3, twiddles.w, twiddles.wShoup, q, twoQ)
    }

    @inlinable static func inverseKernel(
        _ x: UnsafeMutablePointer<UInt64>, degree: Int, q: UInt64, roots: UnsafePointer<UInt64>,
        shoups: UnsafePointer<UInt64>, nInverse: UInt64, nInverseShoup: UInt64, lastRoot: UInt64,
        lastRootShoup: UInt64
    ) {
        let twoQ = q &* 2
        var t = 1
        var h = degree >> 1
        // Two stages per pass (radix 4) while neither is the last: stage (h, t), then stage (h/2, 2t). The first
        // pass works on groups of four adjacent values; later ones on two groups at a time, for independent work.
        if h >= 4 {
            var base = x
            for i in 0..<(h >> 1) {
                var x0 = base[0]
                var x1 = base[1]
                var x2 = base[2]
                var x3 = base[3]
                inverseGroup(&x0, &x1, &x2, &x3, Radix4Twiddles(roots, shoups, group: (h >> 1) &+ i), q, twoQ)
                base[0] = x0
                base[1] = x1
                base[2] = x2
                base[3] = x3
                base += 4
            }
            t = 4
            h >>= 2
        }
        while h >= 4 {
            var base = x
            for i in 0..<(h >> 1) {
                let twiddles = Radix4Twiddles(roots, shoups, group: (h >> 1) &+ i)
                var j = 0
                while j < t {
                    let p0 = base + j
                    var x0 = p0[0]
                    var x1 = p0[t]
                    var x2 = p0[2 &* t]
                    var x3 = p0[3 &* t]
                    var y0 = p0[1]
                    var y1 = p0[t &+ 1]
                    var y2 = p0[2 &* t &+ 1]
                    var y3 = p0[3 &* t &+ 1]
                    inverseGroup(&x0, &x1, &x2, &x3, twiddles, q, twoQ)
                    inverseGroup(&y0, &y1, &y2, &y3, twiddles, q, twoQ)
                    p0[0] = x0
                    p0[t] = x1
                    p0[2 &* t] = x2
                    p0[3 &* t] = x3
                    p0[1] = y0
                    p0[t &+ 1] = y1
                    p0[2 &* t &+ 1] = y2
                    p0[3 &* t &+ 1] = y3
                    j &+= 2
                }
                base += t << 2
            }
            t <<= 2
            h >>= 2
        }
        // A remaining radix-2 stage when the count of non-final stages is odd.
        if h == 2 {
            for i in 0..<2 {
                let w = roots[2 &+ i]
                let wShoup = shoups[2 &+ i]
                let first = x + i &* (t << 1)
                for j in 0..<t {
                    inverseButterfly(&first[j], &first[j &+ t], w, wShoup, q, twoQ)
                }
            }
            t <<= 1
        }
        // Last stage (one twiddle), with the scaling by N^-1 folded in.
        let second = x + t
        for j in 0..<t {
            let u = x[j]
            let v = second[j]
            let sum = u &+ v
            let difference = u &- v &+ twoQ
            var a = sum &* nInverse &- sum.multipliedFullWidth(by: nInverseShoup).high &* q
            var b = difference &* lastRoot &- difference.multipliedFullWidth(by: lastRootShoup).high &* q
            if a >= q { a &-= q }
            if b >= q { b &-= q }
            x[j] = a
            second[j] = b
        }
    }

    /// Forward transform of an array (convenience for tests and cold paths).
    public func forward(_ values: inout [UInt64]) {
        values.withUnsafeMutableBufferPointer { forward($0) }
    }

    /// Inverse transform of an array (convenience for tests and cold paths).
    public func inverse(_ values: inout [UInt64]) {
        values.withUnsafeMutableBufferPointer { inverse($0) }
    }
}

/// The twiddles of one radix-4 group and their Shoup quotients: `w` (table index `group`) for one stage and `w1`,
/// `w2` (indices 2 * group and 2 * group + 1) for the other; the forward and inverse tables share this layout.
@usableFromInline struct Radix4Twiddles {
    @usableFromInline let w: UInt64
    @usableFromInline let wShoup: UInt64
    @usableFromInline let w1: UInt64
    @usableFromInline let w1Shoup: UInt64
    @usableFromInline let w2: UInt64
    @usableFromInline let w2Shoup: UInt64

    @inlinable @inline(__always)
    init(_ roots: UnsafePointer<UInt64>, _ shoups: UnsafePointer<UInt64>, group: Int) {
        w = roots[group]
        wShoup = shoups[group]
        w1 = roots[2 &* group]
        w1Shoup = shoups[2 &* group]
        w2 = roots[2 &* group &+ 1]
        w2Shoup = shoups[2 &* group &+ 1]
    }
}
