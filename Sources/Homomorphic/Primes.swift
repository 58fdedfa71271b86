/// Generation of NTT-friendly primes and primitive roots of unity.
enum Primes {
    /// Deterministic Miller-Rabin for 64-bit integers (the first 12 primes are a sufficient witness set).
    static func isPrime(_ n: UInt64) -> Bool {
        if n < 2 { return false }
        let small: [UInt64] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]
        for p in small where n % p == 0 { return n == p }
        var d = n - 1
        var s = 0
        while d & 1 == 0 {
            d >>= 1
            s += 1
        }
        func mulmod(_ a: UInt64, _ b: UInt64) -> UInt64 {
            n.dividingFullWidth(a.multipliedFullWidth(by: b)).remainder
        }
        func powmod(_ a: UInt64, _ e: UInt64) -> UInt64 {
            var result: UInt64 = 1
            var base = a % n
            var e = e
            while e > 0 {
                if e & 1 == 1 { result = mulmod(result, base) }
                base = mulmod(base, base)
                e >>= 1
            }
            return result
        }
        witness: for a in small {
            var x = powmod(a, d)
            if x == 1 || x == n - 1 { continue }
            for _ in 1..<max(s, 1) {
                x = mulmod(x, x)
                if x == n - 1 { continue witness }
            }
            return false
        }
        return true
    }

    /// The `count` largest primes q < 2^bits with q ≡ 1 (mod 2N), skipping those in `excluding`.
    static func nttPrimes(bits: Int, count: Int, polyDegree: Int, excluding: Set<UInt64>) -> [UInt64]? {
        let step = UInt64(2 * polyDegree)
        let lowerBound = UInt64(1) << (bits - 1)
        var candidate = ((UInt64(1) << bits) - 1) / step * step + 1
        if candidate >= UInt64(1) << bits { candidate -= step }
        var found: [UInt64] = []
        while found.count < count && candidate > lowerBound {
            if !excluding.contains(candidate) && isPrime(candidate) { found.append(candidate) }
            candidate -= step
        }
        return found.count == count ? found : nil
    }

    /// The smallest primitive 2N-th root of unity modulo a prime q ≡ 1 (mod 2N).
    static func minimalPrimitiveRoot(order: UInt64, modulus: Modulus) -> UInt64? {
        let q = modulus.value
        guard (q - 1) % order == 0 else { return nil }
        let cofactor = (q - 1) / order
        var generator: UInt64?
        // A random-free search: g^((q-1)/order) has order exactly `order` iff its (order/2)-th power is -1.
        for candidate in UInt64(2)..<min(q, 1 << 20) {
            let root = modulus.power(candidate, cofactor)
            if modulus.power(root, order / 2) == q - 1 {
                generator = root
                break
            }
        }
        guard let root = generator else { return nil }
        // Every primitive root is root^k with k odd; take the smallest for a canonical choice.
        let square = modulus.multiply(root, root)
        var current = root
        var smallest = root
        for _ in 0..<(order / 2) {
            if current < smallest { smallest = current }
            current = modulus.multiply(current, square)
        }
        return smallest
    }
}
