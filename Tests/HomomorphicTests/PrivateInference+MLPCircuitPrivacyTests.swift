import Foundation
import TestSupport
import Testing

@_spi(Benchmarks) @testable import Homomorphic

/// Circuit privacy of the square MLP (issue #19): every coefficient of a result is flooded to λ = 40 past the
/// bound on its model-dependent evaluation noise (`PrivateInferencePolicy.mlpFloodingBits`), which needs scale
/// 2^90 and the square rescaled by two primes (n16384-mlp90).
@Suite struct PrivateInferenceMLPCircuitPrivacyTests {
    /// Two models with equal scores on every slot of the query: they differ only in layer 1's weights of feature
    /// 1, which is 0 in every row (and in the unused slots, zero rows). Their results must be indistinguishable.
    /// Hidden biases of 40 and -30 make the model-dependent noise (2·h times the weights times the client's encryption
    /// noise) large enough that, without flooding, the results are told apart outright.
    static let modelA = try! SquareMLP(
        w1: [[0.25, 0.5, -0.125, 0.375], [-0.5, 0.25, 0.25, 0.125]], b1: [40, -30], w2: [[0.75, -0.5]], b2: [0.25])
    static let modelB = try! SquareMLP(
        w1: [[0.25, -3.5, -0.125, 0.375], [-0.5, 3.25, 0.25, 0.125]], b1: [40, -30], w2: [[0.75, -0.5]], b2: [0.25])

    /// The chain of n16384-mlp90 on an insecure, test-only ring of N = 1024: the flooding is sized by the same
    /// formula (for N = 1024), so the comparison is the same one at a sixteenth of the cost.
    static let smallContext = try! CKKSContext(
        parameters: CKKSParameters(
            insecureTestingPolyDegree: 1024, coefficientBitSizes: [60, 50, 45, 45, 45, 45, 60], scale: 0x1p90))

    /// The decrypted result minus the encoding of `scores` (one per slot; the rest zero rows), centred: exact
    /// integer arithmetic, since the phase (~2^100) as a double would round away everything below 2^48.
    static func residual(
        _ ciphertext: CKKSCiphertext, scores: [Double], model: SquareMLP, client: PrivateInferenceClient
    ) throws -> [Double] {
        let context = client.context
        let zeroRow = model.scores([Double](repeating: 0, count: model.featureCount))[0]
        let slots = scores + [Double](repeating: zeroRow, count: context.slotCount - scores.count)
        var phase = context.decrypt(ciphertext, using: client.secretKey)
        let reference = try context.encode(slots, scale: ciphertext.scale, level: ciphertext.level)
        context.subtractInPlace(&phase.poly, reference.poly)
        return context.centeredCoefficients(phase)
    }

    static func policy(_ context: CKKSContext) -> PrivateInferencePolicy {
        PrivateInferencePolicy(
            allowing: [context.parameters], weightNormBound: 0, outputWeightBound: 2)
    }

    /// The two-sample Kolmogorov-Smirnov test at 1 % over 1,000 results of each model, on two coefficients of
    /// the decrypted result (in slot packing every coefficient mixes all the scores, and the scores are equal).
    /// The same samples without flooding (and without re-randomisation, whose fresh noise is wider than the
    /// difference and would hide it only statistically) are told apart (D = 1): the attack the flooding stops.
    /// A rejection is confirmed on a second batch before failing (false alarm 1e-4).
    @Test(TestBuild.needsOptimizedBuild)
    func resultsOfModelsWithEqualScoresAreIndistinguishable() throws {
        let context = Self.smallContext
        let client = PrivateInferenceClient(context: context)
        let keys = client.evaluationKeys(for: .slotPerFeature)
        let policy = Self.policy(context)
        let rows: [[Double]] = [[0.5, 0, -1, 0.25], [1.5, 0, 0.5, -0.75], [-0.25, 0, 2, 1]]
        for row in rows { #expect(Self.modelA.scores(row) == Self.modelB.scores(row)) }
        let query = try client.encrypt(rows: rows, for: .squareMLP(Self.modelA))
        let scores = rows.map { Self.modelA.scores($0)[0] }
        func samples(_ model: SquareMLP, count: Int, flooded: Bool) throws -> [[Double]] {
            var columns: [[Double]] = [[], []]
            for _ in 0..<count {
                let ciphertext: CKKSCiphertext
                if flooded {
                    ciphertext = try PrivateInferenceServer.evaluate(
                        query, model: .squareMLP(model), keys: keys, context: context, policy: policy
                    ).ciphertexts[0]
                } else {
                    // Neither flooded nor re-randomised: the exact circuit's noise, which differs between the models
                    // (the client's encryption noise times W1's difference, squared into h).
                    ciphertext = try PrivateInferenceServer.evaluateWithoutCircuitPrivacy(
                        query, model: .squareMLP(model), keys: keys, context: context
                    ).ciphertexts[0]
                }
                let phase = try Self.residual(ciphertext, scores: scores, model: Self.modelA, client: client)
                columns[0].append(phase[0])
                columns[1].append(phase[1])
            }
            return columns
        }
        let critical = 1.6276 * (2.0 / 1000).squareRoot()
        // Without flooding: the attack succeeds on 100 results each.
        let bareA = try samples(Self.modelA, count: 100, flooded: false)
        let bareB = try samples(Self.modelB, count: 100, flooded: false)
        let bareD = (0..<2).map { PrivateInferenceCircuitPrivacyTests.kolmogorovSmirnov(bareA[$0], bareB[$0]) }
        #expect(bareD.max()! > 1.6276 * (2.0 / 100).squareRoot(), "the unflooded results look alike: \(bareD)")
        var rejected: [String] = []
        for _ in 0..<2 {
            let a = try samples(Self.modelA, count: 1000, flooded: true)
            let b = try samples(Self.modelB, count: 1000, flooded: true)
            rejected = []
            for k in 0..<2 {
                let d = PrivateInferenceCircuitPrivacyTests.kolmogorovSmirnov(a[k], b[k])
                if d > critical { rejected.append("coefficient \(k): D = \(d)") }
            }
            if rejected.isEmpty { break }
        }
        #expect(rejected.isEmpty, "results tell the models apart: \(rejected)")
    }

    /// The documented limit (review 5 F2): a client crafts rows ±K·e_f and 0 (K = 256, past the honest range
    /// check, which the server cannot see), repeated over 1,800 slots, so that ((s(Ke_f) + s(-Ke_f)) / 2 - s(0)) / K²
    /// = Σ_j w2_j·w1_jf². Each score carries the flooding's deviation σ (`mlpScoreDeviation`), so each read has
    /// an error of RMS sqrt(1.5)·σ / K²: the client learns the model's function as precisely as it scales its rows.
    /// The raw decrypted coefficients still differ from the encoding of the exact scores by uniform noise of
    /// half-width 2^(mlpFloodingBits), which is what hides the internals beyond the function.
    @Test func aClientWithScaledRowsLearnsTheMLPFunction() throws {
        let context = Fixtures.mlp
        let client = PrivateInferenceClient(context: context)
        let keys = client.evaluationKeys(for: .slotPerFeature)
        let model = PrivateModel.squareMLP(Self.modelA)
        let policy = PrivateInferencePolicy.standard(for: model)
        let pattern: [[Double]] =
            [[0, 0, 0, 0]] + (0..<4).flatMap { f in [256.0, -256].map { t in (0..<4).map { $0 == f ? t : 0 } } }
        let rows = (0..<200).flatMap { _ in pattern }
        let query = try client.encrypt(rows: rows, packing: .slotPerFeature)
        let result = try PrivateInferenceServer.evaluate(query, model: model, keys: keys, context: context)
        let scores = try client.decrypt(result).map { $0[0] }
        var errors: [Double] = []
        for repeat_ in 0..<200 {
            let s = Array(scores[(repeat_ * 9)..<((repeat_ + 1) * 9)])
            for f in 0..<4 {
                let read = ((s[1 + 2 * f] + s[2 + 2 * f]) / 2 - s[0]) / 65536
                let truth = zip(Self.modelA.w2[0], Self.modelA.w1).reduce(0) { $0 + $1.0 * $1.1[f] * $1.1[f] }
                errors.append(read - truth)
            }
        }
        let rms = (errors.reduce(0) { $0 + $1 * $1 } / Double(errors.count)).squareRoot()
        let sigma = try policy.mlpScoreDeviation(context: context)
        #expect(sigma < 1e-3, "flooding leaves too little precision: \(sigma)")
        #expect(rms > 1.5.squareRoot() * sigma / 65536 / 2)
        #expect(rms < 1.5.squareRoot() * sigma / 65536 * 2, "scaled rows did not read the function to σ/K²: \(rms)")
        // The raw phase: its distance to the encoding of the exact scores is the flooding, uniform in ±2^b.
        let residual = try Self.residual(
            result.ciphertexts[0], scores: rows.map { Self.modelA.scores($0)[0] }, model: Self.modelA, client: client)
        let residualRMS = (residual.reduce(0) { $0 + $1 * $1 } / Double(residual.count)).squareRoot()
        let halfWidth = exp2(Double(try policy.mlpFloodingBits(context: context)))
        #expect(residualRMS > halfWidth / 3.squareRoot() * 0.9)
        #expect(residualRMS < halfWidth / 3.squareRoot() * 1.1)
    }

    /// The per-request work cap (review 5 F4): chunks times hidden units past the owner's `maxMLPWork` is refused
    /// before any evaluation, with a fixed text.
    @Test func workPastTheOwnersLimitIsRefused() throws {
        let context = Fixtures.mlp
        let client = PrivateInferenceClient(context: context)
        let model = PrivateModel.squareMLP(Self.modelA)
        let query = try client.encrypt(rows: [[0.5, 0, -1, 0.25]], for: model)
        var policy = PrivateInferencePolicy.standard(for: model)
        policy.maxMLPWork = 1  // one chunk of two hidden units is 2
        #expect(throws: HEError.queryRefused("work (chunks times hidden units) past the owner's per-request limit")) {
            try PrivateInferenceServer.evaluate(
                query, model: model, keys: client.evaluationKeys(for: .slotPerFeature), context: context,
                policy: policy)
        }
        #expect(PrivateInferencePolicy.standard(for: model).maxMLPWork == 1024)
    }

    /// The MLP refuses what the linear path refuses: a result echoed back as a query, a query on a parameter set
    /// the owner did not allow, an unseeded crafted query; and a model or policy the flooding does not cover.
    @Test func nonFreshOrWrongParameterQueriesAreRefused() throws {
        let context = Fixtures.mlp
        let client = PrivateInferenceClient(context: context)
        let keys = client.evaluationKeys(for: .slotPerFeature)
        let model = PrivateModel.squareMLP(Self.modelA)
        let query = try client.encrypt(rows: [[0.5, 0, -1, 0.25]], for: model)
        func refusal(_ query: EncryptedQuery, policy: PrivateInferencePolicy? = nil) -> HEError? {
            do {
                _ = try PrivateInferenceServer.evaluate(
                    query, model: model, keys: keys, context: context, policy: policy)
                return nil
            } catch let error as HEError { return error } catch { return nil }
        }
        let result = try PrivateInferenceServer.evaluate(query, model: model, keys: keys, context: context)
        let echoed = EncryptedQuery(
            packing: .slotPerFeature, rowCount: 1, featureCount: 4,
            ciphertexts: result.ciphertexts + result.ciphertexts
                + result.ciphertexts + result.ciphertexts)
        #expect(refusal(echoed) == .queryRefused("not a fresh seeded ciphertext"))
        // Crafted: c0 = 0 and c1 = a constant, unseeded, at the query's level and scale.
        let template = query.ciphertexts[0]
        var c1 = EvaluationPoly(degree: context.degree, count: template.level + 1)
        for i in 0...template.level {
            for k in 0..<context.degree { c1.data[i * context.degree + k] = context.moduli[i].reduce(1 << 40) }
        }
        let crafted = CKKSCiphertext(
            polys: [RNSPoly(degree: context.degree, count: template.level + 1), c1], scale: template.scale, seed: nil)
        #expect(
            refusal(
                EncryptedQuery(
                    packing: .slotPerFeature, rowCount: 1, featureCount: 4,
                    ciphertexts: [crafted] + query.ciphertexts.dropFirst()))
                == .queryRefused("not a fresh seeded ciphertext"))
        // n8192-d3 (the MLP's set before circuit privacy): not allowed, and no room for λ = 40 flooding.
        let d3 = Fixtures.d3
        let d3Client = PrivateInferenceClient(context: d3)
        let d3Query = try d3Client.encrypt(rows: [[0.5, 0, -1, 0.25]], packing: .slotPerFeature)
        #expect(
            throws: HEError.parametersNotAllowed,
            performing: {
                try PrivateInferenceServer.evaluate(
                    d3Query, model: model, keys: d3Client.evaluationKeys(for: .slotPerFeature), context: d3)
            })
        let d3Policy = PrivateInferencePolicy(
            allowing: [d3.parameters], weightNormBound: 0, outputWeightBound: 2)
        #expect(
            throws: HEError.invalidParameters("modulus too small for circuit-private MLP scores"),
            performing: {
                try PrivateInferenceServer.evaluate(
                    d3Query, model: model, keys: d3Client.evaluationKeys(for: .slotPerFeature), context: d3,
                    policy: d3Policy)
            })
        // A model past the owner's public bounds (more hidden units than the flooding counts, output weights past
        // the ℓ1 bound).
        let wide = try SquareMLP(
            w1: [[Double]](repeating: [0.25, 0, 0, 0], count: 342), b1: [Double](repeating: 0, count: 342),
            w2: [[Double](repeating: 0.001, count: 342)], b2: [0])
        #expect(throws: HEError.modelOutsidePolicy) {
            try PrivateInferenceServer.evaluate(query, model: .squareMLP(wide), keys: keys, context: context)
        }
        let light = PrivateInferencePolicy(
            allowing: [context.parameters], weightNormBound: 0, outputWeightBound: 1)
        #expect(refusal(query, policy: light) == .modelOutsidePolicy)
        // An honest client refuses rows whose values the circuit cannot carry without wrapping around.
        #expect(throws: HEError.inputOutOfRange(row: 2)) {
            try client.encrypt(rows: [[0.5, 0, -1, 0.25], [1e6, 0, 0, 0]], for: model)
        }
    }
}
