/// A word-sized prime modulus with the precomputed constants that make reduction division-free.
///
/// Multiplication by a runtime value uses Barrett reduction of the 128-bit product (the two-word ratio
/// floor(2^128 / q), as in Microsoft SEAL); multiplication by a constant known in advance (NTT twiddles, plaintext
/// scalars) uses Shoup's precomputed quotient floor(w * 2^64 / q) (Harvey, "Faster arithmetic for number-theoretic
/// transforms", 2014). Moduli are restricted below 2^62 so that lazy values in [0, 4q) fit a word.
public struct Modulus: Sendable, Hashable {
    /// The modulus q.
    public let value: UInt64
    /// Low word of floor(2^128 / q).
    @usableFromInline let ratioLow: UInt64
    /// High word of floor(2^128 / q), equal to floor(2^64 / q).
    @usableFromInline let ratioHigh: UInt64
    /// Number of significant bits of q.
    public let bitWidth: Int

    /// Creates the constants for `value`, which must be in 2...2^62 - 1.
    public init(_ value: UInt64) {
        precondition(value > 1 && value < (1 << 62), "modulus out of range")
        self.value = value
        var high = UInt64.max / value
        var remainder = UInt64.max % value + 1
        if remainder == value {
            high += 1
            remainder = 0
        }
        self.ratioHigh = high
        self.ratioLow = value.dividingFullWidth((high: remainder, low: 0)).quotient
        self.bitWidth = 64 - value.leadingZeroBitCount
    }

    /// (a + b) mod q for a, b < q.
    @inlinable public func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let sum = a &+ b
        return sum >= value ? sum &- value : sum
    }

    /// (a - b) mod q for a, b < q.
    @inlinable public func subtract(_ a: UInt64, _ b: UInt64) -> UInt64 {
        a >= b ? a &- b : a &+ value &- b
    }

    /// (a - b) mod q where `mask` is all ones, a where it is zero, for a, b < q: without a branch, for conditions
    /// that are a coin flip per coefficient (such as the sign of a centred residue).
    @inline(__always) func subtract(_ a: UInt64, _ b: UInt64, where mask: UInt64) -> UInt64 {
        let difference = a &- (b & mask)
        return difference &+ (value & (0 &- (difference >> 63)))
    }

    /// (-a) mod q for a < q.
    @inlinable public func negate(_ a: UInt64) -> UInt64 {
        a == 0 ? 0 : value &- a
    }

    /// x mod q for any 64-bit x (single-word Barrett).
    @inlinable public func reduce(_ x: UInt64) -> UInt64 {
        let quotient = x.multipliedFullWidth(by: ratioHigh).high
        let r = x &- quotient &* value
        return r >= value ? r &- value : r
    }

    /// (high * 2^64 + low) mod q (two-word Barrett, valid for any 128-bit input).
    @inlinable public func reduce(high: UInt64, low: UInt64) -> UInt64 {
        let carry = low.multipliedFullWidth(by: ratioLow).high
        let lowTimesHigh = low.multipliedFullWidth(by: ratioHigh)
        let (partial, overflow1) = lowTimesHigh.low.addingReportingOverflow(carry)
        let upper = lowTimesHigh.high &+ (overflow1 ? 1 : 0)
        let highTimesLow = high.multipliedFullWidth(by: ratioLow)
        let (_, overflow2) = highTimesLow.low.addingReportingOverflow(partial)
        let quotient = high &* ratioHigh &+ upper &+ highTimesLow.high &+ (overflow2 ? 1 : 0)
        let r = low &- quotient &* value
        return r >= value ? r &- value : r
    }

    /// (a * b) mod q.
    @inlinable public func multiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return reduce(high: product.high, low: product.low)
    }

    /// Shoup's precomputed quotient floor(w * 2^64 / q) for a constant w < q.
    @inlinable public func shoup(_ w: UInt64) -> UInt64 {
        value.dividingFullWidth((high: w, low: 0)).quotient
    }

    /// x * w mod q in [0, 2q) for any 64-bit x, given `wShoup = shoup(w)`.
    @inlinable public func multiplyLazy(_ x: UInt64, by w: UInt64, shoup wShoup: UInt64) -> UInt64 {
        let quotient = x.multipliedFullWidth(by: wShoup).high
        return x &* w &- quotient &* value
    }

    /// x * w mod q in [0, q) for any 64-bit x, given `wShoup = shoup(w)`.
    @inlinable public func multiply(_ x: UInt64, by w: UInt64, shoup wShoup: UInt64) -> UInt64 {
        let r = multiplyLazy(x, by: w, shoup: wShoup)
        return r >= value ? r &- value : r
    }

    /// a^e mod q.
    public func power(_ base: UInt64, _ exponent: UInt64) -> UInt64 {
        var result: UInt64 = 1
        var b = reduce(base)
        var e = exponent
        while e > 0 {
            if e & 1 == 1 { result = multiply(result, b) }
            b = multiply(b, b)
            e >>= 1
        }
        return result
    }

    /// a^-1 mod q for a prime q and a not divisible by q.
    public func inverse(_ a: UInt64) -> UInt64 {
        power(a, value - 2)
    }

    /// A signed integer mapped into [0, q).
    @inlinable public func reduce(signed x: Int64) -> UInt64 {
        x >= 0 ? reduce(UInt64(x)) : negate(reduce(x.magnitude))
    }

    /// The centered representative of a < q in (-q/2, q/2].
    @inlinable public func centered(_ a: UInt64) -> Int64 {
        a > value >> 1 ? -Int64(value &- a) : Int64(a)
    }
}
