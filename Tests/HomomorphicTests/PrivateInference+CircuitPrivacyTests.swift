import Foundation
import Testing

@testable import Homomorphic

/// Circuit privacy of private inference (issue #19): the server answers only fresh, well-formed queries, and a
/// result reveals the scores and nothing else of the model.
@Suite struct PrivateInferenceCircuitPrivacyTests {
    /// A 30-feature logistic model with distinct, recognisable weights.
    static let model: LinearModel = {
        let weights: [Double] = (0..<30).map { (f: Int) -> Double in
            let step = Double(f % 7) / 8
            return step - 0.3 + Double(f) / 1000
        }
        return try! LinearModel(weights: [weights], bias: [0.421875])
    }()

    /// The attack of the issue: `c0 = 0` and `c1 =` a constant, at the level and scale an honest query has. On
    /// the unprotected evaluator the result's `c1` holds the constant times every weight, and `c0` the bias.
    @Test func craftedQueryWithConstantC1IsRefused() throws {
        let context = Fixtures.d2
        let client = PrivateInferenceClient(context: context)
        let keys = client.evaluationKeys(for: .coefficientRows)
        let honest = try client.encrypt(rows: [[Double](repeating: 0, count: 30)], packing: .coefficientRows)
        let template = honest.ciphertexts[0]
        let rows = template.level + 1
        let n = context.degree
        // The constant 2^40 is the same value in every NTT slot.
        var c1 = RNSPoly(degree: n, count: rows)
        for i in 0..<rows { for k in 0..<n { c1.data[i * n + k] = context.moduli[i].reduce(1 << 40) } }
        let crafted = CKKSCiphertext(polys: [RNSPoly(degree: n, count: rows), c1], scale: template.scale, seed: nil)
        let query = EncryptedQuery(packing: .coefficientRows, rowCount: 1, featureCount: 30, ciphertexts: [crafted])
        // Also refused when it travels as bytes (an unseeded ciphertext on the wire).
        let overTheWire = try context.deserializeQuery(context.serialize(query))
        for attempt in [query, overTheWire] {
            let result = try? PrivateInferenceServer.evaluate(
                attempt, model: .linear(Self.model), keys: keys, context: context)
            if let result {
                let leaked = Self.weightsFromC1(result.ciphertexts[0], constant: 0x1p40, context: context)
                let error = maxError(leaked, Self.model.weights[0])
                Issue.record("crafted query answered; weights read from c1 to within \(error)")
            }
            #expect(result == nil)
        }
        // A seeded query whose c1 is not the seed's expansion is refused too.
        var forged = template
        forged.polys[1] = c1
        let forgedQuery = EncryptedQuery(
            packing: .coefficientRows, rowCount: 1, featureCount: 30, ciphertexts: [forged])
        #expect(
            (try? PrivateInferenceServer.evaluate(
                forgedQuery, model: .linear(Self.model), keys: keys, context: context)) == nil)
    }

    /// The same honest query evaluated twice gives results with different `c1` (fresh re-randomisation): an
    /// unrandomised `c1` is a deterministic function of the client's `c1` and the weights.
    @Test func resultsAreRerandomised() throws {
        let context = Fixtures.d2
        let client = PrivateInferenceClient(context: context)
        let keys = client.evaluationKeys(for: .coefficientRows)
        let query = try client.encrypt(rows: [[Double](repeating: 0.5, count: 30)], packing: .coefficientRows)
        let first = try PrivateInferenceServer.evaluate(query, model: .linear(Self.model), keys: keys, context: context)
        let second = try PrivateInferenceServer.evaluate(query, model: .linear(Self.model), keys: keys, context: context)
        let linearFresh = first.ciphertexts[0].polys[1] != second.ciphertexts[0].polys[1]
        #expect(linearFresh)
        let d3 = Fixtures.d3
        let mlpClient = PrivateInferenceClient(context: d3)
        let mlpKeys = mlpClient.evaluationKeys(for: .slotPerFeature)
        let mlp = try SquareMLP(w1: [[Double](repeating: 0.1, count: 4)], b1: [0.2], w2: [[0.5]], b2: [0.1])
        let mlpQuery = try mlpClient.encrypt(rows: [[1, 2, 3, 4]], packing: .slotPerFeature)
        let a = try PrivateInferenceServer.evaluate(mlpQuery, model: .squareMLP(mlp), keys: mlpKeys, context: d3)
        let b = try PrivateInferenceServer.evaluate(mlpQuery, model: .squareMLP(mlp), keys: mlpKeys, context: d3)
        let mlpFresh = a.ciphertexts[0].polys[1] != b.ciphertexts[0].polys[1]
        #expect(mlpFresh)
    }

    /// Reads weight f from coefficient S-1-f of a result's `c1` divided by the constant the attacker chose.
    static func weightsFromC1(_ ciphertext: CKKSCiphertext, constant: Double, context: CKKSContext) -> [Double] {
        // The unprotected evaluator multiplies by the weights at scale q1 and rescales by q1.
        let values = context.centeredCoefficients(CKKSPlaintext(poly: ciphertext.polys[1], scale: 1))
        let s = QueryPacking.stride(featureCount: 30)
        return (0..<30).map { f in values[s - 1 - f] / constant }
    }
}
