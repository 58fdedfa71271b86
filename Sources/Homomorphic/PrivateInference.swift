import Foundation

/// Encrypted rows from a client: the packing, the shape, and the ciphertexts.
public struct EncryptedQuery: Sendable, Hashable {
    /// The layout.
    public let packing: QueryPacking
    /// Number of rows.
    public let rowCount: Int
    /// Number of features per row.
    public let featureCount: Int
    /// The ciphertexts (layout-dependent order: chunks of rows, then features).
    public let ciphertexts: [CKKSCiphertext]
}

/// Encrypted scores from the server.
public struct EncryptedResult: Sendable, Hashable {
    /// The layout of the query the result was computed from.
    public let packing: QueryPacking
    /// Number of rows.
    public let rowCount: Int
    /// Number of features of the query (fixes the coefficient stride).
    public let featureCount: Int
    /// Number of scores per row.
    public let classCount: Int
    /// The ciphertexts: per chunk of rows, one per class.
    public let ciphertexts: [CKKSCiphertext]
}

extension QueryPacking {
    /// The coefficient stride for `featureCount` features.
    static func stride(featureCount: Int) -> Int {
        var s = 1
        while s < featureCount { s <<= 1 }
        return s
    }

    /// Rows per chunk (ciphertext or ciphertext set).
    func rowsPerChunk(featureCount: Int, degree: Int) -> Int {
        switch self {
        case .coefficientRows: degree / Self.stride(featureCount: featureCount)
        case .slotPerFeature: degree / 2
        }
    }

    /// Ciphertexts the client sends.
    func queryCiphertextCount(rowCount: Int, featureCount: Int, degree: Int) -> Int {
        let per = rowsPerChunk(featureCount: featureCount, degree: degree)
        let chunks = (rowCount + per - 1) / per
        return self == .coefficientRows ? chunks : chunks * featureCount
    }

}

/// The data owner's side of private inference: holds the secret key, encrypts rows, decrypts scores.
public struct PrivateInferenceClient: Sendable {
    /// The CKKS context.
    public let context: CKKSContext
    /// The secret key; never leaves the client.
    public let secretKey: SecretKey

    /// A client with a fresh secret key.
    public init(context: CKKSContext) {
        self.context = context
        self.secretKey = context.generateSecretKey()
    }

    /// A client with an existing secret key.
    public init(context: CKKSContext, secretKey: SecretKey) {
        self.context = context
        self.secretKey = secretKey
    }

    /// The evaluation keys a server needs for `packing`: the public key only (the server re-randomises every
    /// result with fresh encryptions of zero). The square MLP squares without relinearisation, so no
    /// relinearisation key is generated or shipped (a server would not use one), and no packing here rotates, so no
    /// Galois key either.
    public func evaluationKeys(for packing: QueryPacking) -> EvaluationKeys {
        EvaluationKeys(publicKey: context.generatePublicKey(for: secretKey))
    }

    /// Encrypts standardised rows (all of the same length) for `packing`, symmetric and seeded (half size).
    public func encrypt(rows: [[Double]], packing: QueryPacking) throws -> EncryptedQuery {
        guard let featureCount = rows.first?.count, featureCount > 0, rows.allSatisfy({ $0.count == featureCount })
        else { throw HEError.modelShapeMismatch }
        let n = context.degree
        let perChunk = packing.rowsPerChunk(featureCount: featureCount, degree: n)
        guard perChunk >= 1 else { throw HEError.tooManyValues }
        let layout = try context.queryLayout(for: packing)
        var ciphertexts: [CKKSCiphertext] = []
        for start in stride(from: 0, to: rows.count, by: perChunk) {
            let chunk = rows[start..<min(rows.count, start + perChunk)]
            switch packing {
            case .coefficientRows:
                let s = QueryPacking.stride(featureCount: featureCount)
                var values = [Double](repeating: 0, count: n)
                for (r, row) in chunk.enumerated() {
                    for (f, x) in row.enumerated() { values[r * s + f] = x }
                }
                // The lowest level with room for the flooded, unrescaled score (level 1 on n8192-d2).
                let plaintext = try context.encodeCoefficients(values, scale: layout.scale, level: layout.level)
                ciphertexts.append(context.encrypt(plaintext, using: secretKey))
            case .slotPerFeature:
                for f in 0..<featureCount {
                    let plaintext = try context.encode(chunk.map { $0[f] }, scale: layout.scale, level: layout.level)
                    ciphertexts.append(context.encrypt(plaintext, using: secretKey))
                }
            }
        }
        return EncryptedQuery(
            packing: packing, rowCount: rows.count, featureCount: featureCount, ciphertexts: ciphertexts)
    }

    /// Decrypts the scores: rows x classes.
    public func decrypt(_ result: EncryptedResult) throws -> [[Double]] {
        let n = context.degree
        let perChunk = result.packing.rowsPerChunk(featureCount: result.featureCount, degree: n)
        let chunks = (result.rowCount + perChunk - 1) / perChunk
        guard result.ciphertexts.count == chunks * result.classCount else { throw HEError.invalidCiphertext }
        var scores = [[Double]](repeating: [Double](repeating: 0, count: result.classCount), count: result.rowCount)
        for chunk in 0..<chunks {
            let rowsHere = min(perChunk, result.rowCount - chunk * perChunk)
            for c in 0..<result.classCount {
                let ciphertext = result.ciphertexts[chunk * result.classCount + c]
                let plaintext = context.decrypt(ciphertext, using: secretKey)
                switch result.packing {
                case .coefficientRows:
                    let s = QueryPacking.stride(featureCount: result.featureCount)
                    let values = context.decodeCoefficients(plaintext)
                    for r in 0..<rowsHere { scores[chunk * perChunk + r][c] = values[r * s + s - 1] }
                case .slotPerFeature:
                    let values = context.decode(plaintext)
                    for r in 0..<rowsHere { scores[chunk * perChunk + r][c] = values[r] }
                }
            }
        }
        return scores
    }
}

/// The model owner's side: evaluates a model on an encrypted query without the secret key.
///
/// Packing choices (fewest rotations and levels first):
/// - Linear models use `QueryPacking.coefficientRows`. Slot packing needs either rotations (feature-major in one
///   ciphertext: a plaintext multiply then log2(F) rotate-and-add steps, each a key switch, plus Galois keys) or
///   one ciphertext per feature (F encryptions per batch). Coefficient packing needs neither: with row r at
///   coefficients r*S..r*S+F-1 and the weights reversed in the first S coefficients, the negacyclic product's
///   coefficient r*S + S - 1 is exactly w·x_r, so one plaintext-polynomial product (pointwise in the NTT domain)
///   and one rescale score N/S rows (256 rows of 30 features at N = 8192) with no evaluation key at all, and the
///   query is encrypted at level 1. Cross-term coefficients are replaced by uniform residues and the score
///   coefficients flooded (see `PrivateInferencePolicy`) before the result leaves the server, so the client
///   learns only the scores. The product is not rescaled, to leave room for the flooding.
/// - The square MLP uses `QueryPacking.slotPerFeature`: every linear layer is plaintext-scalar multiplies summed
///   lazily, the activation is one ciphertext square with relinearisation, and no rotation is ever needed, so the
///   only evaluation key is the relinearisation key. Up to N/2 rows share each ciphertext; depth 3.
///
/// Every query is checked first (`PrivateInferencePolicy`: allow-listed parameters, fresh seeded ciphertexts at
/// the expected level and scale, shapes) and every result re-randomised with a fresh public-key encryption of
/// zero and flooded.
public enum PrivateInferenceServer {
    /// Evaluates `model` on `query` with the client's evaluation keys, under `policy` (by default the owner's
    /// standard policy for the model).
    public static func evaluate(
        _ query: EncryptedQuery, model: PrivateModel, keys: EvaluationKeys, context: CKKSContext,
        policy: PrivateInferencePolicy? = nil
    ) throws -> EncryptedResult {
        let policy = policy ?? PrivateInferencePolicy.standard(for: model)
        let publicKey = try validate(query, model: model, keys: keys, context: context, policy: policy)
        return try evaluate(query, model: model, keys: keys, context: context, policy: policy, publicKey: publicKey)
    }

    /// The same circuit with no query checks, no masking, no flooding and no re-randomisation: what private
    /// inference computed before circuit privacy (issue #19), kept only so that the benchmark measures both in
    /// the same run. Never serve its results: they carry the model in their noise.
    @_spi(Benchmarks) public static func evaluateWithoutCircuitPrivacy(
        _ query: EncryptedQuery, model: PrivateModel, keys: EvaluationKeys, context: CKKSContext
    ) throws -> EncryptedResult {
        guard query.featureCount == model.featureCount, query.packing == model.packing, query.rowCount >= 1,
            query.ciphertexts.count
                == query.packing.queryCiphertextCount(
                    rowCount: query.rowCount, featureCount: query.featureCount, degree: context.degree)
        else { throw HEError.modelShapeMismatch }
        return try evaluate(
            query, model: model, keys: keys, context: context, policy: .standard(for: model), publicKey: nil)
    }

    /// The circuit; `publicKey` nil turns circuit privacy off (benchmark only).
    private static func evaluate(
        _ query: EncryptedQuery, model: PrivateModel, keys: EvaluationKeys, context: CKKSContext,
        policy: PrivateInferencePolicy, publicKey: PublicKey?
    ) throws -> EncryptedResult {
        let perChunk = query.packing.rowsPerChunk(featureCount: query.featureCount, degree: context.degree)
        var outputs: [CKKSCiphertext] = []
        switch model {
        case .linear(let linear):
            for (chunk, ciphertext) in query.ciphertexts.enumerated() {
                let rowsHere = min(perChunk, query.rowCount - chunk * perChunk)
                outputs += try evaluateLinear(
                    linear, on: ciphertext, rows: rowsHere, publicKey: publicKey,
                    floodingBits: policy.linearFloodingBits(featureCount: query.featureCount), context: context)
            }
        case .squareMLP(let mlp):
            // The client's relinearisation key, if sent, is never used: see `evaluateMLP`.
            let f = query.featureCount
            for chunk in 0..<(query.ciphertexts.count / f) {
                let features = Array(query.ciphertexts[(chunk * f)..<((chunk + 1) * f)])
                outputs += try evaluateMLP(
                    mlp, on: features, publicKey: publicKey, policy: publicKey == nil ? nil : policy,
                    context: context)
            }
        }
        return EncryptedResult(
            packing: query.packing, rowCount: query.rowCount, featureCount: query.featureCount,
            classCount: model.classCount, ciphertexts: outputs)
    }

    /// The linear scores of one chunk, one ciphertext per class: the plaintext-polynomial product (not
    /// rescaled), then uniform residues at every coefficient but the scores, bias plus flooding noise at the
    /// scores, and a fresh encryption of zero.
    static func evaluateLinear(
        _ model: LinearModel, on x: CKKSCiphertext, rows: Int, publicKey: PublicKey?, floodingBits: Int,
        context: CKKSContext
    ) throws -> [CKKSCiphertext] {
        let level = x.level
        let s = QueryPacking.stride(featureCount: model.featureCount)
        let n = context.degree
        var prg = SeededPRG.fresh()
        return try (0..<model.classCount).map { c in
            var reversed = [Int64](repeating: 0, count: n)
            for (f, w) in model.weights[c].enumerated() {
                reversed[s - 1 - f] = try CKKSCiphertext.weightInteger(w)
            }
            let weights = context.encodeCoefficients(reversed, scale: LinearCircuit.weightScale, level: level)
            let product = try context.multiply(x, weights)
            // The bias at the result's scale, exactly: round(b * 2^20) * 2^58.
            let bias = try CKKSCiphertext.weightInteger(model.bias[c])
            let flooding =
                publicKey == nil
                ? [[UInt64]](repeating: [UInt64](repeating: 0, count: level + 1), count: rows)
                : context.sampleFlooding(bits: floodingBits, count: rows, level: level, using: &prg)
            var mask: CoefficientPoly =
                publicKey == nil
                ? CoefficientPoly(degree: n, count: level + 1)
                : context.sampleUniform(count: level + 1, basis: .data, using: &prg)
            for i in 0...level {
                let modulus = context.moduli[i]
                let biasTerm = modulus.multiply(
                    modulus.reduce(signed: bias), modulus.power(2, UInt64(LinearCircuit.inputScaleBits)))
                for r in 0..<rows { mask.data[i * n + r * s + s - 1] = modulus.add(biasTerm, flooding[r][i]) }
            }
            let masked = try context.add(
                product, CKKSPlaintext(poly: context.forwardNTT(consume mask), scale: product.scale))
            guard let publicKey else { return masked }
            return context.rerandomize(masked, using: publicKey)
        }
    }

    /// The square MLP on one chunk, one ciphertext per class, computed so that nothing the client chose can make
    /// the model-dependent noise grow (review 4, F1 and F2):
    /// - layer 1 is exact: integer weights at 2^23 (`MLPCircuit.layerOneWeightScaleBits`), the bias added
    ///   exactly, and no rescale, so no rounding error enters the square (its cross term 2·h·E1 grew with the
    ///   client's rows);
    /// - the square is a tensor product with no relinearisation: the server applies no key material of the
    ///   client's (a crafted relinearisation key's error term was multiplied by c1², a function of W1), and the
    ///   three-component result is decrypted with s²;
    /// - the square is rescaled prime by prime back to about the query's scale, layer 2 multiplies by integer
    ///   weights at a power of two near the next prime and is rescaled by it, so the only model-dependent
    ///   noise is rounding (`PrivateInferencePolicy.mlpFloodingBits`), whatever the rows.
    /// With a `policy`, every coefficient of each score is then flooded with uniform noise of
    /// 2^(policy.mlpFloodingBits) and re-randomised with fresh public-key encryptions of zero (all three
    /// components).
    static func evaluateMLP(
        _ model: SquareMLP, on features: [CKKSCiphertext], publicKey: PublicKey?, policy: PrivateInferencePolicy?,
        context: CKKSContext
    ) throws -> [CKKSCiphertext] {
        let levels = try context.mlpLevels()
        guard features.allSatisfy({ $0.level == levels.top }) else { throw HEError.levelExhausted }
        let floodingBits = try policy.map { try $0.mlpFloodingBits(context: context) }
        let hidden = try (0..<model.hiddenCount).map { j in
            let h = try context.linearCombination(
                features, weights: model.w1[j], constantScale: MLPCircuit.layerOneWeightScale)
            let biased = try context.add(h, constant: model.b1[j])
            var square = try context.multiplyWithoutRelinearization(biased, biased)
            while square.level > levels.output { square = try context.rescale(square) }
            return square
        }
        var prg = SeededPRG.fresh()
        return try (0..<model.classCount).map { c in
            let out = try context.rescale(
                context.linearCombination(hidden, weights: model.w2[c], constantScale: levels.layerTwoWeightScale))
            let scored = try context.add(out, constant: model.b2[c])
            guard let publicKey, let floodingBits else { return scored }
            let flooding = context.sampleFlooding(
                bits: floodingBits, count: context.degree, level: scored.level, using: &prg)
            var noise = CoefficientPoly(degree: context.degree, count: scored.level + 1)
            for i in 0...scored.level {
                for k in 0..<context.degree { noise.data[i * context.degree + k] = flooding[k][i] }
            }
            let flooded = try context.add(
                scored, CKKSPlaintext(poly: context.forwardNTT(consume noise), scale: scored.scale))
            return context.rerandomize(flooded, using: publicKey)
        }
    }
}

extension CKKSCiphertext {
    /// A weight or bias of a linear model at the circuit's weight scale 2^20.
    static func weightInteger(_ w: Double) throws -> Int64 {
        try CKKSContext.scaledInteger(w * LinearCircuit.weightScale)
    }
}

extension CKKSContext {
    /// Σ_i w_i * x_i with each constant rounded at `constantScale` (by default the level's last prime, so that
    /// one rescale restores the inputs' scale), for two- or three-component inputs. Products are accumulated
    /// lazily in 128 bits and reduced once.
    func linearCombination(
        _ inputs: [CKKSCiphertext], weights: [Double], constantScale: Double? = nil
    ) throws -> CKKSCiphertext {
        guard let first = inputs.first, inputs.count == weights.count else { throw HEError.modelShapeMismatch }
        let level = first.level
        let rows = level + 1
        let n = degree
        let constantScale = constantScale ?? Double(moduli[level].value)
        for input in inputs {
            guard input.level == level, input.size == first.size else { throw HEError.levelMismatch }
            guard Self.scalesMatch(input.scale, first.scale) else { throw HEError.scaleMismatch }
        }
        let integers = try weights.map { try Self.scaledInteger($0 * constantScale) }
        var result = CKKSCiphertext(
            polys: (0..<first.size).map { _ in EvaluationPoly(degree: n, count: rows) },
            scale: first.scale * constantScale, seed: nil)
        // Interleaved 128-bit accumulators (high, low), reduced once per output residue.
        var accumulators = [UInt64](repeating: 0, count: 2 * n)
        for component in 0..<first.size {
            for i in 0..<rows {
                let modulus = moduli[i]
                accumulators.withUnsafeMutableBufferPointer { acc in
                    let p = acc.baseAddress!
                    for k in 0..<(2 * n) { p[k] = 0 }
                    for (input, integer) in zip(inputs, integers) where integer != 0 {
                        let c = modulus.reduce(signed: integer)
                        input.polys[component].data.withUnsafeBufferPointer { source in
                            let x = source.baseAddress! + i * n
                            for k in 0..<n {
                                let product = x[k].multipliedFullWidth(by: c)
                                let (sum, carry) = p[2 * k + 1].addingReportingOverflow(product.low)
                                p[2 * k + 1] = sum
                                p[2 * k] = p[2 * k] &+ product.high &+ (carry ? 1 : 0)
                            }
                        }
                    }
                    result.polys[component].data.withUnsafeMutableBufferPointer { out in
                        for k in 0..<n { out[i * n + k] = modulus.reduce(high: p[2 * k], low: p[2 * k + 1]) }
                    }
                }
            }
        }
        return result
    }
}

extension PrivateInferenceClient {
    /// Encrypts standardised rows for `model` (with its packing), after checking that every value the circuit
    /// computes from them stays inside what these parameters carry: otherwise the scores would wrap around the
    /// modulus and decrypt to a confident wrong class. A row outside that range is refused, named by number.
    /// Prefer this over `encrypt(rows:packing:)` whenever the model is known.
    public func encrypt(rows: [[Double]], for model: PrivateModel) throws -> EncryptedQuery {
        try context.checkRange(rows, for: model)
        return try encrypt(rows: rows, packing: model.packing)
    }
}

extension CKKSContext {
    /// The largest Σ|v| over a chunk's rows that each stage of the square MLP may hold (Q_level / 4 divided by
    /// the stage's scale and 2/N): Σh² for the square (top level, scale (Δ·2^23)²; h itself, at the same level
    /// and scale Δ·2^23, has far more room), W2·h² before layer 2's rescale, and the score.
    func mlpBudgets() throws -> (square: Double, output: Double, score: Double) {
        let levels = try mlpLevels()
        let n = Double(degree)
        func budget(level: Int, scale: Double) -> Double { exp2(modulusBits(level: level) - 2 - log2(scale)) * n / 2 }
        let hiddenScale = parameters.scale * MLPCircuit.layerOneWeightScale
        return (
            square: budget(level: levels.top, scale: hiddenScale * hiddenScale),
            output: budget(level: levels.output, scale: levels.outputScale * levels.layerTwoWeightScale),
            score: budget(level: levels.result, scale: levels.resultScale)
        )
    }

    /// log2 of the modulus at `level` (the product of the first `level + 1` primes).
    func modulusBits(level: Int) -> Double {
        (0...level).reduce(0) { $0 + log2(Double(moduli[$1].value)) }
    }

    /// Refuses the first row (1-based) that takes a value of `model`'s circuit past a quarter of its modulus
    /// (half of the centred range, the rest left for noise and flooding), where it would wrap around.
    ///
    /// Linear (coefficient rows): each score is one coefficient, exact, at scale 2^78; rows must also fit the
    /// encoder's 2^62 at scale 2^58 (|x| < 16). Square MLP (one slot per row): slots are mixed into
    /// coefficients, |c_j| ≤ (2Δ/N) Σ_rows |v_r| for every value v at scale Δ, so the bound is on the sum of
    /// magnitudes over the N/2 rows packed together, at each stage of `evaluateMLP` (`mlpBudgets`). Circuit
    /// privacy does not depend on this check (the server cannot see the rows); the scores do.
    func checkRange(_ rows: [[Double]], for model: PrivateModel) throws {
        for (index, row) in rows.enumerated() {
            guard row.count == model.featureCount else { throw HEError.modelShapeMismatch }
            guard row.allSatisfy(\.isFinite) else { throw HEError.inputOutOfRange(row: index + 1) }
        }
        switch model {
        case .linear(let linear):
            let layout = try queryLayout(for: .coefficientRows)
            let limit = exp2(modulusBits(level: layout.level) - 2 - Double(LinearCircuit.resultScaleBits))
            for (index, row) in rows.enumerated() {
                guard row.allSatisfy({ abs($0) * LinearCircuit.inputScale < 0x1p62 }),
                    linear.scores(row).allSatisfy({ abs($0) < limit })
                else { throw HEError.inputOutOfRange(row: index + 1) }
            }
        case .squareMLP(let mlp):
            let limits = try mlpBudgets()
            // Sums run over every hidden unit or class at once (each is its own ciphertext): stricter than needed.
            for start in stride(from: 0, to: rows.count, by: degree / 2) {
                var sums = (hidden: 0.0, output: 0.0, score: 0.0)
                for index in start..<min(rows.count, start + degree / 2) {
                    let hidden = zip(mlp.w1, mlp.b1).map { w, b in
                        zip(w, rows[index]).reduce(0) { $0 + $1.0 * $1.1 } + b
                    }
                    let squares = hidden.map { $0 * $0 }
                    sums.hidden += squares.reduce(0, +)
                    for (w, b) in zip(mlp.w2, mlp.b2) {
                        let out = zip(w, squares).reduce(0) { $0 + $1.0 * $1.1 }
                        sums.output += abs(out)
                        sums.score += abs(out + b)
                    }
                    guard sums.hidden < limits.square, sums.output < limits.output, sums.score < limits.score
                    else { throw HEError.inputOutOfRange(row: index + 1) }
                }
            }
        }
    }
}
