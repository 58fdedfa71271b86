import Foundation

/// Everything precomputed for one parameter set: moduli constants, NTT tables, encoder roots and the CRT constants
/// used by rescaling, key switching and decoding. Immutable and shareable across tasks.
public final class CKKSContext: Sendable {
    /// The parameters.
    public let parameters: CKKSParameters
    /// Ring degree N.
    public let degree: Int
    /// Data primes followed by the special prime.
    public let moduli: [Modulus]
    /// NTT tables, one per modulus.
    let ntt: [NTTTables]
    /// Index of the special prime in `moduli`.
    let specialIndex: Int
    /// An identifier of the parameters (first 8 bytes of SHA-256 over N, moduli and scale).
    public let parametersID: UInt64
    /// P mod q_i and P^-1 mod q_i for each data prime.
    let specialModQ: [UInt64]
    let specialInverseModQ: [UInt64]
    /// Shoup quotients of `specialInverseModQ`.
    let specialInverseShoups: [UInt64]
    /// inverse[l][i] = q_l^-1 mod q_i for i < l (rescaling and Garner's CRT).
    let primeInverses: [[UInt64]]
    /// Shoup quotients of `primeInverses`.
    let primeInverseShoups: [[UInt64]]
    /// garnerInverses[i][k] = q_k^-1 mod q_i for k < i (Garner's mixed-radix conversion).
    let garnerInverses: [[UInt64]]
    /// Constants of the combined division by P * q_l (relinearisation fused with rescaling), per level l >= 1.
    let fusedRescale: [FusedRescaleConstants]
    /// exp(2 pi i k / 2N) for k in 0...2N (the encoder's roots).
    let roots: [(re: Double, im: Double)]
    /// 5^j mod 2N for j in 0..<N/2: the rotation group ordering the slots.
    let rotationGroup: [Int]
    /// bitrev(k) over log2(N) bits, for the Galois permutations.
    let bitReversed: [Int]

    /// Builds the context (prime tables, roots); throws if the moduli are not NTT-friendly for N.
    public init(parameters: CKKSParameters) throws {
        self.parameters = parameters
        let n = parameters.polyDegree
        self.degree = n
        let moduli = parameters.coefficientModuli.map { Modulus($0) }
        self.moduli = moduli
        var tables: [NTTTables] = []
        for modulus in moduli {
            guard let table = NTTTables(modulus: modulus, degree: n) else {
                throw HEError.invalidParameters("modulus not NTT-friendly")
            }
            tables.append(table)
        }
        self.ntt = tables
        self.specialIndex = moduli.count - 1
        let special = moduli[moduli.count - 1].value
        let dataModuli = moduli.dropLast()
        self.specialModQ = dataModuli.map { $0.reduce(special) }
        let specialInverses = dataModuli.map { $0.inverse($0.reduce(special)) }
        self.specialInverseModQ = specialInverses
        self.specialInverseShoups = zip(dataModuli, specialInverses).map { $0.shoup($1) }
        let inverses = moduli.indices.map { l in
            (0..<l).map { i in moduli[i].inverse(moduli[i].reduce(moduli[l].value)) }
        }
        self.primeInverses = inverses
        self.primeInverseShoups = inverses.map { row in row.indices.map { i in moduli[i].shoup(row[i]) } }
        self.fusedRescale = (0..<(moduli.count - 1)).map { l in
            FusedRescaleConstants(moduli: moduli, level: l, specialIndex: moduli.count - 1)
        }
        self.garnerInverses = moduli.indices.map { i in
            (0..<i).map { k in moduli[i].inverse(moduli[i].reduce(moduli[k].value)) }
        }
        let m = 2 * n
        self.roots = (0...m).map { k in
            let angle = 2 * Double.pi * Double(k) / Double(m)
            return (cos(angle), sin(angle))
        }
        var group: [Int] = []
        var power = 1
        for _ in 0..<(n / 2) {
            group.append(power)
            power = power * 5 % m
        }
        self.rotationGroup = group
        let logN = n.trailingZeroBitCount
        self.bitReversed = (0..<n).map { NTTTables.bitReverse($0, bits: logN) }
        self.parametersID = parameters.identifier
    }

    /// The highest ciphertext level.
    public var maxLevel: Int { parameters.maxLevel }
    /// Number of complex slots (N/2).
    public var slotCount: Int { degree / 2 }

    /// The Galois element that rotates slots left by `step` (negative steps rotate right).
    public func galoisElement(forRotation step: Int) -> Int {
        let slots = slotCount
        let normalized = ((step % slots) + slots) % slots
        return rotationGroup[normalized]
    }

    /// The NTT-domain permutation realising X -> X^g: result[k] = input[permutation[k]].
    func galoisPermutation(_ element: Int) -> [Int] {
        let n = degree
        let mask = 2 * n - 1
        return bitReversed.withUnsafeBufferPointer { reversed in
            (0..<n).map { k in
                let exponent = 2 * reversed[k] + 1
                let mapped = (exponent * element) & mask
                return reversed[(mapped - 1) >> 1]
            }
        }
    }
}

/// Constants for dividing by P * q_l with rounding, where P is the special prime and q_l the last data prime of
/// level l: the CRT of the residues mod P and mod q_l, and the residues of q_l, P * q_l and (P * q_l)^-1 below.
struct FusedRescaleConstants: Sendable {
    /// q_l^-1 mod P and its Shoup quotient.
    let lastInverseModSpecial: UInt64
    let lastInverseModSpecialShoup: UInt64
    /// Per data prime i < l: q_l mod q_i (and Shoup), P * q_l mod q_i, (P * q_l)^-1 mod q_i (and Shoup).
    let lastModQ: [UInt64]
    let lastModQShoup: [UInt64]
    let productModQ: [UInt64]
    let productInverseModQ: [UInt64]
    let productInverseModQShoup: [UInt64]

    init(moduli: [Modulus], level l: Int, specialIndex: Int) {
        let special = moduli[specialIndex]
        let last = moduli[l].value
        let inverse = l == 0 ? 0 : special.inverse(special.reduce(last))
        lastInverseModSpecial = inverse
        lastInverseModSpecialShoup = special.shoup(inverse)
        let below = moduli[0..<l]
        lastModQ = below.map { $0.reduce(last) }
        lastModQShoup = below.map { $0.shoup($0.reduce(last)) }
        productModQ = below.map { $0.multiply($0.reduce(last), $0.reduce(special.value)) }
        productInverseModQ = below.map { $0.inverse($0.multiply($0.reduce(last), $0.reduce(special.value))) }
        productInverseModQShoup = zip(below, productInverseModQ).map { $0.shoup($1) }
    }
}
