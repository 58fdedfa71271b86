import TestSupport
import Testing

@testable import Homomorphic

@Suite struct ModulusAndNTTTests {
    let primes: [UInt64] = [(1 << 60) - (1 << 14) + 1, 1_099_511_922_689]

    @Test func barrettAndShoupAgreeWithDivision() {
        var generator = SystemRandomNumberGenerator()
        for q in Primes.nttPrimes(bits: 60, count: 2, polyDegree: 8192, excluding: [])! + [65537, 998_244_353] {
            let modulus = Modulus(q)
            for _ in 0..<2000 {
                let a = UInt64.random(in: 0..<q, using: &generator)
                let b = UInt64.random(in: 0..<q, using: &generator)
                let expected = q.dividingFullWidth(a.multipliedFullWidth(by: b)).remainder
                #expect(modulus.multiply(a, b) == expected)
                #expect(modulus.multiply(a, by: b, shoup: modulus.shoup(b)) == expected)
                let x = UInt64.random(in: 0...UInt64.max, using: &generator)
                let y = UInt64.random(in: 0...UInt64.max, using: &generator)
                #expect(modulus.reduce(high: x, low: y) == q.dividingFullWidth((x % q, y)).remainder)
                #expect(modulus.reduce(x) == x % q)
            }
        }
    }

    @Test func generatedPrimesAreNTTFriendly() throws {
        let primes = try #require(Primes.nttPrimes(bits: 40, count: 3, polyDegree: 8192, excluding: []))
        #expect(Set(primes).count == 3)
        for q in primes {
            #expect(q % 16384 == 1)
            #expect(q < 1 << 40 && q > 1 << 39)
            #expect(Primes.isPrime(q))
        }
        #expect(!Primes.isPrime(3_215_031_751))  // a strong pseudoprime to bases 2, 3, 5, 7
        #expect(Primes.isPrime(18_446_744_073_709_551_557))
    }

    @Test(arguments: [1024, 4096, 8192])
    func forwardInverseRoundTripIsExact(degree: Int) throws {
        let q = try #require(Primes.nttPrimes(bits: 60, count: 1, polyDegree: degree, excluding: [])?.first)
        let tables = try #require(NTTTables(modulus: Modulus(q), degree: degree))
        var generator = SystemRandomNumberGenerator()
        let original = (0..<degree).map { _ in UInt64.random(in: 0..<q, using: &generator) }
        var values = original
        tables.forward(&values)
        #expect(values != original)
        #expect(values.allSatisfy { $0 < q })
        tables.inverse(&values)
        #expect(values == original)
    }

    /// Every degree from 2 to 128 exercises each shape of the kernels: the leading radix-2 stage (odd log N), the
    /// radix-4 passes and the final pass that folds in the reduction.
    @Test(arguments: [2, 4, 8, 16, 32, 64, 128])
    func nttMultiplicationIsNegacyclicConvolution(degree: Int) throws {
        let q = try #require(Primes.nttPrimes(bits: 50, count: 1, polyDegree: degree, excluding: [])?.first)
        let modulus = Modulus(q)
        // NTTTables accepts small degrees for testing the transform itself.
        let tables = try #require(NTTTables(modulus: modulus, degree: degree))
        var generator = SystemRandomNumberGenerator()
        let a = (0..<degree).map { _ in UInt64.random(in: 0..<q, using: &generator) }
        let b = (0..<degree).map { _ in UInt64.random(in: 0..<q, using: &generator) }
        var expected = [UInt64](repeating: 0, count: degree)
        for i in 0..<degree {
            for j in 0..<degree {
                let product = modulus.multiply(a[i], b[j])
                if i + j < degree {
                    expected[i + j] = modulus.add(expected[i + j], product)
                } else {
                    expected[i + j - degree] = modulus.subtract(expected[i + j - degree], product)
                }
            }
        }
        var x = a
        var y = b
        tables.forward(&x)
        tables.forward(&y)
        var z = zip(x, y).map { modulus.multiply($0, $1) }
        tables.inverse(&z)
        #expect(z == expected)
    }

    /// The lazy forward transform (used inside key switching) leaves values below 4q, congruent to the reduced ones.
    @Test(arguments: [2, 8, 64, 8192])
    func lazyForwardTransformIsCongruentAndBelowFourQ(degree: Int) throws {
        let q = try #require(Primes.nttPrimes(bits: 60, count: 1, polyDegree: degree, excluding: [])?.first)
        let tables = try #require(NTTTables(modulus: Modulus(q), degree: degree))
        var generator = SplitMix64(state: UInt64(degree))
        let original = (0..<degree).map { _ in UInt64.random(in: 0..<(4 * q), using: &generator) }
        var reduced = original
        var lazy = original
        reduced.withUnsafeMutableBufferPointer { tables.forward($0) }
        lazy.withUnsafeMutableBufferPointer { tables.forward($0, lazy: true) }
        #expect(lazy.allSatisfy { $0 < 4 * q })
        #expect(lazy.map { $0 % q } == reduced)
    }
}
