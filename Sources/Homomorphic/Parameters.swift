import Foundation

/// CKKS encryption parameters: ring degree, the coefficient modulus chain and the default scale.
///
/// As in Microsoft SEAL, the last modulus of the chain is the special prime P used only for key switching; the
/// others are the data primes q_0 ... q_{L-1}, consumed from the end by rescaling.
public struct CKKSParameters: Sendable, Hashable {
    /// Ring degree N (a power of two in 4096...32768 by default; smaller degrees are accepted for tests only when
    /// security checking is turned off).
    public let polyDegree: Int
    /// All coefficient moduli: data primes followed by the special prime.
    public let coefficientModuli: [UInt64]
    /// The default encoding scale.
    public let scale: Double

    /// The largest total modulus (bits) for 128-bit classical security with a ternary secret
    /// (HomomorphicEncryption.org standard, 2018).
    public static func maxModulusBits(polyDegree: Int) -> Int? {
        switch polyDegree {
        case 1024: 27
        case 2048: 54
        case 4096: 109
        case 8192: 218
        case 16384: 438
        case 32768: 881
        default: nil
        }
    }

    /// Parameters with primes generated for `polyDegree`: the largest primes below 2^bits congruent to 1 mod 2N.
    public init(polyDegree: Int, coefficientBitSizes: [Int], scale: Double) throws {
        guard polyDegree >= 1024, polyDegree <= 32768, polyDegree & (polyDegree - 1) == 0 else {
            throw HEError.invalidParameters("ring degree")
        }
        guard coefficientBitSizes.count >= 2, coefficientBitSizes.allSatisfy({ (20...60).contains($0) }) else {
            throw HEError.invalidParameters("coefficient bit sizes")
        }
        let moduli = try Self.distinctNTTPrimes(bitSizes: coefficientBitSizes, polyDegree: polyDegree)
        try self.init(polyDegree: polyDegree, coefficientModuli: moduli, scale: scale)
    }

    /// Parameters with explicit moduli; validates primality, NTT-friendliness, distinctness and security.
    public init(polyDegree: Int, coefficientModuli: [UInt64], scale: Double) throws {
        guard polyDegree >= 1024, polyDegree <= 32768, polyDegree & (polyDegree - 1) == 0 else {
            throw HEError.invalidParameters("ring degree")
        }
        guard coefficientModuli.count >= 2, coefficientModuli.count <= 64 else {
            throw HEError.invalidParameters("modulus count")
        }
        guard Set(coefficientModuli).count == coefficientModuli.count else {
            throw HEError.invalidParameters("duplicate moduli")
        }
        for q in coefficientModuli {
            guard q > 1 << 19, q < 1 << 61, q % UInt64(2 * polyDegree) == 1, Primes.isPrime(q) else {
                throw HEError.invalidParameters("modulus not an NTT-friendly prime")
            }
        }
        guard let bound = Self.maxModulusBits(polyDegree: polyDegree) else {
            throw HEError.invalidParameters("ring degree")
        }
        let totalBits = coefficientModuli.reduce(0.0) { $0 + log2(Double($1)) }
        guard totalBits <= Double(bound) else { throw HEError.insecureParameters }
        // The scale must leave room below the data modulus; it may exceed one prime when rescaling divides by
        // several primes at once (the circuit-private MLP set rescales by two 45-bit primes at scale 2^90).
        let dataBits = coefficientModuli.dropLast().reduce(0.0) { $0 + log2(Double($1)) }
        guard scale.isFinite, scale >= 2, log2(scale) < dataBits - 1 else {
            throw HEError.invalidParameters("scale")
        }
        // Key-switching noise is divided by P, so P must be at least as wide as every data prime.
        let widths = coefficientModuli.map { 64 - $0.leadingZeroBitCount }
        guard widths.last! >= widths.dropLast().max()! else {
            throw HEError.invalidParameters("special prime smaller than a data prime")
        }
        self.polyDegree = polyDegree
        self.coefficientModuli = coefficientModuli
        self.scale = scale
    }

    /// Parameters without the 128-bit security bound, for tests only (internal): statistical tests of
    /// properties that do not depend on the ring degree run at N = 1024 instead of 8192.
    init(insecureTestingPolyDegree polyDegree: Int, coefficientBitSizes: [Int], scale: Double) throws {
        let moduli = try Self.distinctNTTPrimes(bitSizes: coefficientBitSizes, polyDegree: polyDegree)
        self.polyDegree = polyDegree
        self.coefficientModuli = moduli
        self.scale = scale
    }

    /// The data primes q_0 ... q_{L-1}.
    public var dataModuli: ArraySlice<UInt64> { coefficientModuli.dropLast() }
    /// The special key-switching prime P.
    public var specialModulus: UInt64 { coefficientModuli.last! }
    /// Number of slots (N/2).
    public var slotCount: Int { polyDegree / 2 }
    /// The highest ciphertext level (number of data primes minus one).
    public var maxLevel: Int { coefficientModuli.count - 2 }
    /// Multiplicative depth: rescalings available from a fresh ciphertext.
    public var depth: Int { maxLevel }
    /// log2 of the total modulus including the special prime.
    public var totalModulusBits: Double { coefficientModuli.reduce(0.0) { $0 + log2(Double($1)) } }
    /// Bits each coefficient takes when serialised at `level`.
    func packedBits(level: Int) -> Int {
        coefficientModuli[0...level].reduce(0) { $0 + Modulus($1).bitWidth }
    }

    /// One NTT-friendly prime per bit size, all distinct (the coefficient moduli of a chain).
    private static func distinctNTTPrimes(bitSizes: [Int], polyDegree: Int) throws -> [UInt64] {
        var used: Set<UInt64> = []
        var moduli: [UInt64] = []
        for bits in bitSizes {
            guard let prime = Primes.nttPrimes(bits: bits, count: 1, polyDegree: polyDegree, excluding: used)?.first
            else { throw HEError.noSuchPrimes }
            used.insert(prime)
            moduli.append(prime)
        }
        return moduli
    }
}

extension CKKSParameters {
    /// A named parameter set for `modelvault he params` and the CLI.
    public struct Named: Sendable, Hashable {
        /// The identifier, e.g. "n8192-d2".
        public let name: String
        /// Ring degree.
        public let polyDegree: Int
        /// Coefficient modulus bit sizes, special prime last.
        public let bitSizes: [Int]
        /// log2 of the scale.
        public let logScale: Int
        /// What the set is for.
        public let summary: String

        /// Generates the parameters.
        public func parameters() throws -> CKKSParameters {
            try CKKSParameters(polyDegree: polyDegree, coefficientBitSizes: bitSizes, scale: exp2(Double(logScale)))
        }
    }

    /// The parameter sets ModelVault offers; all meet the 128-bit classical bound.
    public static let namedSets: [Named] = [
        Named(
            name: "n8192-d2", polyDegree: 8192, bitSizes: [60, 40, 40, 60], logScale: 40,
            summary: "linear models (logistic regression); SEAL/TenSEAL's common set"),
        Named(
            name: "n8192-d3", polyDegree: 8192, bitSizes: [49, 40, 40, 40, 49], logScale: 40,
            summary: "square-activation MLP (three levels)"),
        Named(
            name: "n16384-d7", polyDegree: 16384, bitSizes: [60, 40, 40, 40, 40, 40, 40, 40, 60], logScale: 40,
            summary: "deeper circuits"),
        Named(
            name: "n16384-mlp90", polyDegree: 16384, bitSizes: [60, 50, 45, 45, 45, 45, 60], logScale: 90,
            summary: "square MLP with circuit privacy: scale 2^90, the square rescaled by two primes, λ = 40 flooding"),
        Named(
            name: "n32768-d16", polyDegree: 32768, bitSizes: [60] + Array(repeating: 45, count: 16) + [60],
            logScale: 45, summary: "deep circuits, highest precision"),
    ]

    /// The named set called `name`, if any.
    public static func named(_ name: String) -> Named? {
        namedSets.first { $0.name == name }
    }
}
