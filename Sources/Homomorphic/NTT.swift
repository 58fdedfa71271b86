/// Precomputed tables for the negacyclic number-theoretic transform over Z_q[X]/(X^N + 1).
///
/// The forward transform is Cooley-Tukey with Harvey's lazy butterflies (values kept in [0, 4q)) and twiddles
/// psi^bitrev(i) with their Shoup quotients, producing evaluations at the odd powers of psi in bit-reversed order;
/// the inverse is Gentleman-Sande with lazy values in [0, 2q) (Harvey 2014; Longa and Naehrig 2016).
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
        self.inverseDegree = modulus.inverse(UInt64(degree))
        self.inverseDegreeShoup = modulus.shoup(inverseDegree)
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

    /// In-place forward negacyclic NTT; input and output in [0, q), output in bit-reversed order.
    @inlinable public func forward(_ values: UnsafeMutableBufferPointer<UInt64>) {
        precondition(values.count == degree)
        let q = modulus.value
        let twoQ = q &* 2
        guard let x = values.baseAddress else { return }
        rootPowers.withUnsafeBufferPointer { rootsBuffer in
            rootPowersShoup.withUnsafeBufferPointer { shoupBuffer in
                let roots = rootsBuffer.baseAddress!
                let shoups = shoupBuffer.baseAddress!
                var m = 1
                var t = degree >> 1
                while m < degree {
                    var start = 0
                    for i in 0..<m {
                        let w = roots[m + i]
                        let wShoup = shoups[m + i]
                        var j = start
                        let end = start + t
                        while j < end {
                            var u = x[j]
                            if u >= twoQ { u &-= twoQ }
                            let v = x[j + t]
                            let product = v &* w &- v.multipliedFullWidth(by: wShoup).high &* q
                            x[j] = u &+ product
                            x[j + t] = u &- product &+ twoQ
                            j += 1
                        }
                        start += t << 1
                    }
                    m <<= 1
                    t >>= 1
                }
            }
        }
        for j in 0..<degree {
            var v = x[j]
            if v >= twoQ { v &-= twoQ }
            if v >= q { v &-= q }
            x[j] = v
        }
    }

    /// In-place inverse negacyclic NTT; input in bit-reversed order in [0, q), output coefficients in [0, q).
    @inlinable public func inverse(_ values: UnsafeMutableBufferPointer<UInt64>) {
        precondition(values.count == degree)
        let q = modulus.value
        let twoQ = q &* 2
        guard let x = values.baseAddress else { return }
        inverseRootPowers.withUnsafeBufferPointer { rootsBuffer in
            inverseRootPowersShoup.withUnsafeBufferPointer { shoupBuffer in
                let roots = rootsBuffer.baseAddress!
                let shoups = shoupBuffer.baseAddress!
                var t = 1
                var m = degree
                while m > 1 {
                    let h = m >> 1
                    var start = 0
                    for i in 0..<h {
                        let w = roots[h + i]
                        let wShoup = shoups[h + i]
                        var j = start
                        let end = start + t
                        while j < end {
                            let u = x[j]
                            let v = x[j + t]
                            var sum = u &+ v
                            if sum >= twoQ { sum &-= twoQ }
                            let difference = u &- v &+ twoQ
                            x[j] = sum
                            x[j + t] = difference &* w &- difference.multipliedFullWidth(by: wShoup).high &* q
                            j += 1
                        }
                        start += t << 1
                    }
                    t <<= 1
                    m = h
                }
            }
        }
        let nInverse = inverseDegree
        let nInverseShoup = inverseDegreeShoup
        for j in 0..<degree {
            let v = x[j] &* nInverse &- x[j].multipliedFullWidth(by: nInverseShoup).high &* q
            x[j] = v >= q ? v &- q : v
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
