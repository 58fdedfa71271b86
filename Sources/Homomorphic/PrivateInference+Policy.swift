import Foundation

/// What a model owner accepts from private-inference clients, and how much the results are flooded.
///
/// Circuit privacy (the client learns the model's scores on its effective input and nothing else of the model)
/// rests on the three things below. It does not hide the input→score function: the server cannot see a row's magnitude,
/// so scaled rows read the function (a linear model's quantised weights exactly) in one request (review 5 F1).
/// - only fresh, well-formed queries are evaluated: an allow-listed parameter set, seeded ciphertexts (so `c1` is
///   the expansion of a seed, never a value the client chose) at the expected level and scale, distinct seeds,
///   and shapes matching the model;
/// - every result is re-randomised with a fresh public-key encryption of zero, so its `c1` is a fresh RLWE sample;
/// - the score coefficients are flooded with uniform noise 2^λ times wider than the model-dependent part of the
///   evaluation noise (Gentry's thesis, 2009, §21 "circuit privacy" by noise flooding; Li and Micciancio, "On the
///   security of homomorphic encryption on approximate numbers", EUROCRYPT 2021, for why CKKS needs it), so
///   that two models with equal scores give results within statistical distance 2^-(λ-1) per score.
public struct PrivateInferencePolicy: Sendable, Hashable {
    /// The parameter sets the owner accepts.
    public var allowedParameterSets: [CKKSParameters]
    /// Their identifiers (`CKKSParameters.identifier`).
    public var allowedParameters: Set<UInt64> { Set(allowedParameterSets.map(\.identifier)) }
    /// The statistical security λ of the flooding, in bits.
    public var statisticalSecurity: Int
    /// The most rows one query may hold.
    public var maxRows: Int
    /// Square MLP: the most evaluation work one query may ask for, in chunks (ciphertexts' worth of slots) times
    /// hidden units, each a tensor product and three rescales: it bounds the CPU one request takes (review 5 F4).
    public var maxMLPWork: Int
    /// A public bound on the Euclidean norm of every class's weight row (linear models). The flooding width is
    /// sized from it, so it is the one property of the weights a result reveals (as a power of two).
    public var weightNormBound: Double

    /// Square MLP: a public bound on the ℓ1 norm of every class's output weight row (W2). The server refuses a
    /// model past it; the result reveals only this bound.
    public var outputWeightBound: Double

    /// A policy accepting exactly `parameters`.
    public init(
        allowing parameters: [CKKSParameters], statisticalSecurity: Int = 40, maxRows: Int = 1 << 16,
        maxMLPWork: Int = 1024, weightNormBound: Double, outputWeightBound: Double = 0
    ) {
        self.allowedParameterSets = parameters
        self.statisticalSecurity = statisticalSecurity
        self.maxRows = maxRows
        self.maxMLPWork = maxMLPWork
        self.weightNormBound = weightNormBound
        self.outputWeightBound = outputWeightBound
    }

    /// The owner's default for `model`: the named sets that leave room for flooding (linear: n8192-d2 and
    /// n8192-d3; square MLP: n16384-mlp90), λ = 40, and the model's own weight norm as the bound (for the
    /// MLP: the ℓ1 norm of W2's rows rounded up to a power of two).
    public static func standard(for model: PrivateModel) -> PrivateInferencePolicy {
        switch model {
        case .linear(let linear):
            let norm = linear.weights.map { row in sqrt(row.reduce(0) { $0 + $1 * $1 }) }.max() ?? 0
            return PrivateInferencePolicy(allowing: StandardSets.linear, weightNormBound: max(norm, 0x1p-10))
        case .squareMLP(let mlp):
            let norm = mlp.w2.map { row in row.reduce(0) { $0 + abs($1) } }.max() ?? 0
            return PrivateInferencePolicy(
                allowing: StandardSets.mlp, weightNormBound: 0,
                outputWeightBound: exp2(log2(max(norm, 0x1p-10)).rounded(.up)))
        }
    }

    /// log2 of the half-width of the uniform flooding noise on every coefficient of an MLP score: ⌈λ + log2 B⌉
    /// for B a bound on how far the model-dependent noise of two results can differ (in units of the result's
    /// integer coefficients), for any rows and whatever relinearisation key the client sends (the circuit uses
    /// none; see `PrivateInferenceServer.evaluateMLP`):
    /// - layer 1 and the square are exact (integer weights, no rescale, no key switch): no noise but the
    ///   client's own, which is part of the input it chose;
    /// - each rescale of a three-component ciphertext rounds c0, c1 and c2, adding ρ0 + ρ1·s + ρ2·s² with
    ///   |ρ_i| ≤ 1/2: at most R = (1 + N + N²)/2 for any ternary secret (‖s‖₁ ≤ N, ‖s²‖₁ ≤ N²), deterministically;
    /// - the square's rescales leave E2 ≤ R·(1 + 2^-40) (earlier roundings are divided by the later primes);
    /// - layer 2 sums E2 with the integer output weights and rescales: E3 = w·E2 + R, w = (‖W2‖₁·2^k +
    ///   hidden/2) / q for the weights rounded at 2^k and the prime q it is rescaled by (`outputWeightBound`).
    /// B = 2·E3 (two results, each within E3 of the exact circuit value). Uniform noise of half-width 2^b ≥ 2^λ·B
    /// then moves by at most 2^-λ in statistical distance per coefficient. Thrown when the result's modulus lacks
    /// room for the noise (it must stay below an eighth of it).
    func mlpFloodingBits(context: CKKSContext) throws -> Int {
        let lambda = Double(statisticalSecurity)
        let n = Double(context.degree)
        let levels = try context.mlpLevels()
        let rounding = (1 + n + n * n) / 2
        let e2 = rounding * (1 + 0x1p-40)
        let prime = Double(context.moduli[levels.output].value)
        let weights = (outputWeightBound * levels.layerTwoWeightScale + Double(MLPCircuit.maxHiddenUnits) / 2) / prime
        let e3 = weights * e2 + rounding
        let bits = Int((lambda + log2(2 * e3)).rounded(.up))
        guard Double(bits) < context.modulusBits(level: levels.result) - 3 else {
            throw HEError.invalidParameters("modulus too small for circuit-private MLP scores")
        }
        return bits
    }

    /// The standard deviation flooding adds to a decoded MLP score on `context` (in score units): uniform noise of
    /// half-width 2^b on each of N coefficients, summed into a slot with unit weights, is about
    /// 2^b·sqrt(N/6)/Δ.
    public func mlpScoreDeviation(context: CKKSContext) throws -> Double {
        exp2(Double(try mlpFloodingBits(context: context))) * (Double(context.degree) / 6).squareRoot()
            / (try context.mlpLevels().resultScale)
    }

    /// The largest error flooding adds to a linear score (in score units): the half-width of the uniform noise
    /// divided by the result's scale.
    public var linearScoreError: Double {
        Double(sign: .plus, exponent: linearFloodingBits - LinearCircuit.resultScaleBits, significand: 1)
    }

    /// log2 of the half-width of the uniform flooding noise on linear scores: ⌈λ + log2 δ⌉, where δ bounds
    /// the model-dependent noise of a score coefficient, e·W for the client's encryption error e (centred binomial,
    /// variance 10.5, so sub-Gaussian) and the quantised weights W: |e·W| ≤ sqrt(2·10.5·ln 2^(λ+1))·‖W‖ except
    /// with probability 2^-λ. ‖W‖ ≤ ‖w‖·2^20 + √F/2 (the rounding); `linearScoreError` assumes F ≤ 1024.
    var linearFloodingBits: Int { linearFloodingBits(featureCount: 1024) }

    /// The same for a model of `featureCount` features (the rounding term grows past 1,024 of them).
    func linearFloodingBits(featureCount: Int) -> Int {
        let lambda = Double(statisticalSecurity)
        let tail = (21 * (lambda + 1) * M_LN2).squareRoot()
        let rounding = max(16, Double(max(featureCount, 0)).squareRoot() / 2)
        let weightNorm = weightNormBound * LinearCircuit.weightScale + rounding
        return Int((lambda + log2(tail * weightNorm)).rounded(.up))
    }

    /// `linearFloodingBits(featureCount:)`, thrown when the result's modulus lacks room for the noise (it must stay
    /// below an eighth of it, as for the MLP), e.g. for a weight norm bound of 2^28 or more on n8192-d2.
    func checkedLinearFloodingBits(featureCount: Int, context: CKKSContext) throws -> Int {
        let bits = linearFloodingBits(featureCount: featureCount)
        let level = try context.queryLayout(for: .coefficientRows).level
        guard Double(bits) < context.modulusBits(level: level) - 3 else {
            throw HEError.invalidParameters("modulus too small for circuit-private linear scores")
        }
        return bits
    }

    enum StandardSets {
        static let linear: [CKKSParameters] = ["n8192-d2", "n8192-d3"].map {
            try! CKKSParameters.named($0)!.parameters()
        }
        static let mlp: [CKKSParameters] = [try! CKKSParameters.named("n16384-mlp90")!.parameters()]
    }
}

/// The fixed-point layout of the circuit-private linear score.
///
/// Rows are encoded at 2^58 (so |x| < 16: the encoder's 2^62 limit), weights at 2^20, and the product is not
/// rescaled: the result has scale 2^78 at the first level whose modulus reaches 2^99 (level 1 of n8192-d2), so
/// scores up to 2^20 and flooding up to ~2^97 fit. Rescaling (as before) would leave 2^60 - 2^40 = 20 bits of
/// room, too little for 2^40-times noise flooding.
enum LinearCircuit {
    static let inputScaleBits = 58
    static let weightScaleBits = 20
    static let resultScaleBits = inputScaleBits + weightScaleBits
    static let inputScale = Double(sign: .plus, exponent: inputScaleBits, significand: 1)
    static let weightScale = Double(sign: .plus, exponent: weightScaleBits, significand: 1)
    /// log2 of the smallest modulus the result may live at.
    static let minimumModulusBits = 99.0
}

/// The square MLP's circuit privacy (see `PrivateInferencePolicy.mlpFloodingBits`). λ = 40 flooding needs about
/// 2^70 of noise on each coefficient, so the result must carry a scale far above it: the query is encrypted at
/// scale 2^90 on n16384-mlp90 (N = 16384, primes 60, 50, 45 × 4 and a 60-bit special prime, 350 bits of 438),
/// layer 1 multiplies by integer weights at 2^23 without rescaling (scale 2^113), the square (2^226) is rescaled
/// by three 45-bit primes back to about 2^91, and the result sits at level 1 (110 bits), where the flooding costs
/// about 2^-15 per decoded score. n8192-d3 (scale 2^40, 49 bits at the result) has no room for it.
enum MLPCircuit {
    /// Layer 1's weights are rounded to integers at this scale (exact arithmetic, no rescale before the square).
    static let layerOneWeightScaleBits = 23
    static let layerOneWeightScale = Double(sign: .plus, exponent: layerOneWeightScaleBits, significand: 1)
    /// The most hidden units a served model may have (the flooding bound counts their weight rounding).
    static let maxHiddenUnits = 341
}

extension CKKSContext {
    /// The level and scale a fresh query for `packing` must have on this context; the client encrypts with
    /// them and the server refuses anything else.
    public func queryLayout(for packing: QueryPacking) throws -> (level: Int, scale: Double) {
        switch packing {
        case .coefficientRows:
            var bits = 0.0
            for level in 0...maxLevel {
                bits += log2(Double(moduli[level].value))
                if bits >= LinearCircuit.minimumModulusBits { return (level, LinearCircuit.inputScale) }
            }
            throw HEError.invalidParameters("modulus too small for circuit-private linear scores")
        case .slotPerFeature:
            return (try mlpLevels().top, parameters.scale)
        }
    }

    /// The levels and scales of the square MLP's circuit on this context: the query's level (the top, where
    /// layer 1 and the square are computed), layer 2's input level (after the square's rescales) and scale, the
    /// power of two layer 2's weights are rounded at (the bit size of that level's prime), and the result's level
    /// and scale. The square is rescaled prime by prime while its scale stays at least half the query's.
    func mlpLevels() throws -> (
        top: Int, output: Int, outputScale: Double, layerTwoWeightScale: Double, result: Int, resultScale: Double
    ) {
        let top = maxLevel
        guard top >= 3 else { throw HEError.levelExhausted }
        let delta = parameters.scale
        var scale = delta * MLPCircuit.layerOneWeightScale * delta * MLPCircuit.layerOneWeightScale
        var level = top
        repeat {
            scale /= Double(moduli[level].value)
            level -= 1
        } while level >= 1 && scale / Double(moduli[level].value) >= delta / 2
        guard level >= 1 else { throw HEError.levelExhausted }
        let prime = Double(moduli[level].value)
        let weightScale = exp2(log2(prime).rounded())
        return (top, level, scale, weightScale, level - 1, scale * weightScale / prime)
    }
}

extension PrivateInferenceServer {
    /// Refuses anything but a fresh, well-formed query for `model` under `policy`.
    static func validate(
        _ query: EncryptedQuery, model: PrivateModel, keys: EvaluationKeys, context: CKKSContext,
        policy: PrivateInferencePolicy
    ) throws -> PublicKey {
        guard policy.allowedParameters.contains(context.parameters.identifier) else {
            throw HEError.parametersNotAllowed
        }
        guard query.featureCount == model.featureCount else { throw HEError.modelShapeMismatch }
        guard query.packing == model.packing else { throw HEError.unsupportedQuery }
        guard query.rowCount >= 1, query.rowCount <= policy.maxRows else {
            throw HEError.queryRefused("row count outside the owner's limit")
        }
        if case .squareMLP(let mlp) = model {
            let perChunk = query.packing.rowsPerChunk(featureCount: query.featureCount, degree: context.degree)
            let chunks = (query.rowCount + perChunk - 1) / max(perChunk, 1)
            let work = chunks.multipliedReportingOverflow(by: mlp.hiddenCount)
            guard !work.overflow, work.partialValue <= policy.maxMLPWork else {
                throw HEError.queryRefused("work (chunks times hidden units) past the owner's per-request limit")
            }
        }
        let expected = query.packing.queryCiphertextCount(
            rowCount: query.rowCount, featureCount: query.featureCount, degree: context.degree)
        guard query.ciphertexts.count == expected else { throw HEError.invalidCiphertext }
        let layout = try context.queryLayout(for: query.packing)
        var seeds: Set<[UInt8]> = []
        for ciphertext in query.ciphertexts {
            guard ciphertext.size == 2, let seed = ciphertext.seed, seed.count == 32 else {
                throw HEError.queryRefused("not a fresh seeded ciphertext")
            }
            guard ciphertext.level == layout.level else { throw HEError.queryRefused("ciphertext at the wrong level") }
            guard ciphertext.scale == layout.scale else { throw HEError.queryRefused("ciphertext at the wrong scale") }
            guard seeds.insert(seed).inserted else { throw HEError.queryRefused("a seed is repeated") }
            // c1 must be the seed's expansion: a chosen c1 (e.g. a constant) would carry the weights out.
            guard ciphertext.polys[1] == context.expandSeededA(seed: seed, rows: ciphertext.level + 1) else {
                throw HEError.queryRefused("not a fresh seeded ciphertext")
            }
        }
        guard let publicKey = keys.publicKey else { throw HEError.missingPublicKey }
        var expander = SeededPRG(seed: publicKey.seed)
        guard publicKey.seed.count == 32, publicKey.b.count == context.moduli.count,
            publicKey.a == context.sampleUniform(count: context.moduli.count, basis: .extended, using: &expander)
        else { throw HEError.malformedData("public key") }
        switch model {
        case .linear(let linear):
            for row in linear.weights {
                let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
                guard norm <= policy.weightNormBound * (1 + 0x1p-40) else { throw HEError.modelOutsidePolicy }
            }
            _ = try policy.checkedLinearFloodingBits(featureCount: linear.featureCount, context: context)
        case .squareMLP(let mlp):
            // The flooding bound counts the output weights' rounding for at most `maxHiddenUnits`. The
            // relinearisation key, if any, is not checked: the circuit never uses it.
            guard mlp.hiddenCount <= MLPCircuit.maxHiddenUnits,
                mlp.w2.allSatisfy({ $0.reduce(0) { $0 + abs($1) } <= policy.outputWeightBound * (1 + 0x1p-40) })
            else { throw HEError.modelOutsidePolicy }
            _ = try policy.mlpFloodingBits(context: context)
        }
        return publicKey
    }
}

extension CKKSContext {
    /// Half-open uniform integers in [-2^bits, 2^bits) (bits ≤ 126), as residues for data rows 0...level, one
    /// per index in `count`: the flooding noise.
    func sampleFlooding(bits: Int, count: Int, level: Int, using prg: inout SeededPRG) -> [[UInt64]] {
        let width = bits + 1
        let highMask: UInt64 = width <= 64 ? 0 : (width >= 128 ? .max : (1 << (width - 64)) - 1)
        let lowMask: UInt64 = width >= 64 ? .max : (1 << width) - 1
        let offsets = (0...level).map { moduli[$0].power(2, UInt64(bits)) }
        return (0..<count).map { _ in
            let low = prg.next() & lowMask
            let high = prg.next() & highMask
            return (0...level).map { i in moduli[i].subtract(moduli[i].reduce(high: high, low: low), offsets[i]) }
        }
    }

    /// `ciphertext` plus a fresh public-key encryption of zero at its level and scale: a fresh `c1`. A
    /// three-component ciphertext also gets two tensor products of fresh encryptions of zero, so its `c2` is the
    /// sum of two products of independent RLWE samples (each within about N/q of uniform per prime).
    func rerandomize(_ ciphertext: CKKSCiphertext, using publicKey: PublicKey) -> CKKSCiphertext {
        let zero = CKKSPlaintext(
            poly: EvaluationPoly(degree: degree, count: ciphertext.level + 1), scale: ciphertext.scale)
        let fresh = encrypt(zero, using: publicKey)
        var result = ciphertext
        addInPlace(&result.polys[0], fresh.polys[0])
        addInPlace(&result.polys[1], fresh.polys[1])
        if result.size == 3 {
            for _ in 0..<2 {
                let x = encrypt(zero, using: publicKey)
                let y = encrypt(zero, using: publicKey)
                let (d0, d1, d2) = tensor(x.polys[0], x.polys[1], y.polys[0], y.polys[1])
                addInPlace(&result.polys[0], d0)
                addInPlace(&result.polys[1], d1)
                addInPlace(&result.polys[2], d2)
            }
        }
        result.seed = nil
        return result
    }
}
