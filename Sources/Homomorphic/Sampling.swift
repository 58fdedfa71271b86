import Crypto
import Foundation

/// A deterministic cryptographic pseudo-random generator: the ChaCha20 keystream under a 32-byte seed, produced
/// by sealing zero blocks with swift-crypto's ChaCha20-Poly1305 under successive nonces (the tag is discarded).
/// Used to expand the `a` polynomials of seeded ciphertexts and keys, and, seeded from the system CSPRNG
/// (getrandom on Linux), for all secret sampling.
struct SeededPRG {
    private let key: SymmetricKey
    private var counter: UInt64 = 0
    private var buffer: [UInt8] = []
    private var position = 0
    private static let blockSize = 1 << 15

    /// A generator expanding `seed` (32 bytes).
    init(seed: [UInt8]) {
        precondition(seed.count == 32)
        self.key = SymmetricKey(data: seed)
    }

    /// A generator seeded from the system CSPRNG.
    static func fresh() -> SeededPRG {
        SeededPRG(seed: freshSeed())
    }

    /// 32 bytes from the system CSPRNG.
    static func freshSeed() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }
    }

    private mutating func refill() {
        var nonceBytes = [UInt8](repeating: 0, count: 12)
        withUnsafeBytes(of: counter.littleEndian) { nonceBytes.replaceSubrange(0..<8, with: $0) }
        counter += 1
        // The nonce never repeats for a key, so each block is fresh keystream.
        let nonce = try! ChaChaPoly.Nonce(data: nonceBytes)
        let box = try! ChaChaPoly.seal([UInt8](repeating: 0, count: Self.blockSize), using: key, nonce: nonce)
        buffer = Array(box.ciphertext)
        position = 0
    }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        if position + 8 > buffer.count { refill() }
        var value: UInt64 = 0
        buffer.withUnsafeBytes { raw in
            value = raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        }
        position += 8
        return UInt64(littleEndian: value)
    }

    /// The next random byte.
    mutating func nextByte() -> UInt8 {
        if position >= buffer.count { refill() }
        defer { position += 1 }
        return buffer[position]
    }
}

extension CKKSContext {
    /// A uniformly random poly with `count` rows over `basis`, in either form: uniform residues are uniform in
    /// both, so the caller's type chooses (NTT form for the `a` of keys and seeded ciphertexts).
    func sampleUniform<Form>(count: Int, basis: RNSBasis, using prg: inout SeededPRG) -> RNSPoly<Form> {
        var result = RNSPoly<Form>(degree: degree, count: count, basis: basis)
        let n = degree
        for i in 0..<count {
            let modulus = moduli[modulusIndex(row: i, count: count, basis: basis)]
            let q = modulus.value
            let mask = (UInt64(1) << modulus.bitWidth) &- 1
            result.data.withUnsafeMutableBufferPointer { buffer in
                var j = 0
                while j < n {
                    let candidate = prg.next() & mask
                    if candidate < q {
                        buffer[i * n + j] = candidate
                        j += 1
                    }
                }
            }
        }
        return result
    }

    /// Uniform ternary coefficients in {-1, 0, 1}.
    func sampleTernary(using prg: inout SeededPRG) -> [Int64] {
        var result = [Int64](repeating: 0, count: degree)
        var j = 0
        while j < degree {
            let byte = prg.nextByte()
            if byte < 255 {
                result[j] = Int64(byte % 3) - 1
                j += 1
            }
        }
        return result
    }

    /// Centered binomial error with 21 + 21 bits: mean 0, standard deviation sqrt(10.5) ≈ 3.24 (as SEAL's CBD).
    func sampleError(using prg: inout SeededPRG) -> [Int64] {
        (0..<degree).map { _ in
            let word = prg.next()
            let a = (word & 0x1F_FFFF).nonzeroBitCount
            let b = ((word >> 21) & 0x1F_FFFF).nonzeroBitCount
            return Int64(a - b)
        }
    }

    /// Signed small coefficients as an NTT-form poly with `count` rows over `basis`.
    func nttPoly(small coefficients: [Int64], count: Int, basis: RNSBasis) -> EvaluationPoly {
        var result = EvaluationPoly(degree: degree, count: count, basis: basis)
        let n = degree
        result.data.withUnsafeMutableBufferPointer { buffer in
            for i in 0..<count {
                let index = modulusIndex(row: i, count: count, basis: basis)
                let modulus = moduli[index]
                for j in 0..<n { buffer[i * n + j] = modulus.reduce(signed: coefficients[j]) }
                ntt[index].forward(UnsafeMutableBufferPointer(rebasing: buffer[(i * n)..<((i + 1) * n)]))
            }
        }
        return result
    }
}
