import Foundation
import TestSupport
import Testing

@_spi(Benchmarks) @testable import Homomorphic

/// Review 4's attacks on the square MLP's circuit privacy by a malicious client (F1: a crafted relinearisation key;
/// F2: rows past the public bound H). Flooding hides the model only if the model-dependent part of the evaluation
/// noise stays below 2^(floodingBits - λ) (uniform noise of half-width 2^b moved by d is within statistical
/// distance d / 2^(b+1) of itself). Each test evaluates two models that compute the same function, A and B
/// (B: layer 1 doubled, layer 2 quartered), without flooding on the client's query and keys, and bounds the
/// difference of the two decryptions: that difference is what the client could test a guess of the weights with.
@Suite struct PrivateInferenceMaliciousClientTests {
    static let modelA = try! SquareMLP(
        w1: [[0.5, -0.25, 0.125, 0.75], [-0.5, 0.25, 0.5, -0.125], [0.25, 0.5, -0.75, 0.25]],
        b1: [0.125, -0.25, 0.0625], w2: [[0.5, -0.25, 0.5], [-0.5, 0.5, 0.25]], b2: [0.01, -0.02])
    static let modelB = try! SquareMLP(
        w1: modelA.w1.map { $0.map { $0 * 2 } }, b1: modelA.b1.map { $0 * 2 },
        w2: modelA.w2.map { $0.map { $0 / 4 } }, b2: modelA.b2)

    static var context: CKKSContext { PrivateInferenceMLPCircuitPrivacyTests.smallContext }

    static func policy(_ context: CKKSContext) -> PrivateInferencePolicy {
        PrivateInferencePolicy(allowing: [context.parameters], weightNormBound: 0, outputWeightBound: 2)
    }

    static func rows(scale: Double) -> [[Double]] {
        (0..<8).map { r in (0..<4).map { f in (Double((r * 7 + f * 3) % 11) / 11 - 0.5) * scale } }
    }

    /// log2 of the largest |coefficient| of dec(x) - dec(y), per class.
    static func log2Difference(
        _ x: EncryptedResult, _ y: EncryptedResult, client: PrivateInferenceClient
    ) -> [Double] {
        zip(x.ciphertexts, y.ciphertexts).map { a, b in
            var phase = client.context.decrypt(a, using: client.secretKey)
            let other = client.context.decrypt(b, using: client.secretKey)
            client.context.subtractInPlace(&phase.poly, other.poly)
            return log2(client.context.centeredCoefficients(phase).map(abs).max()!)
        }
    }

    /// The model-dependent noise of A and B on `query` under `keys`, against the budget the flooding covers.
    static func expectModelHidden(
        _ query: EncryptedQuery, keys: EvaluationKeys, client: PrivateInferenceClient, _ label: String
    ) throws {
        let context = client.context
        let policy = Self.policy(context)
        let budget = Double(try policy.mlpFloodingBits(context: context) - policy.statisticalSecurity)
        let a = try PrivateInferenceServer.evaluateWithoutCircuitPrivacy(
            query, model: .squareMLP(modelA), keys: keys, context: context)
        let b = try PrivateInferenceServer.evaluateWithoutCircuitPrivacy(
            query, model: .squareMLP(modelB), keys: keys, context: context)
        for (c, bits) in log2Difference(a, b, client: client).enumerated() {
            #expect(
                bits <= budget, "\(label): class \(c)'s model-dependent noise is 2^\(bits), flooding covers 2^\(budget)"
            )
        }
        // The served result: evaluated (checks, flooding, re-randomisation), it is as close to B as to A.
        let served = try PrivateInferenceServer.evaluate(
            query, model: .squareMLP(modelA), keys: keys, context: context, policy: policy)
        let flooding = Double(try policy.mlpFloodingBits(context: context))
        for bits in log2Difference(served, b, client: client) + log2Difference(served, a, client: client) {
            #expect(bits <= flooding + 1, "\(label): the served result is 2^\(bits) from a candidate model")
        }
    }

    /// F1: the client shifts the relinearisation key's b-part by 2^190 (a constant polynomial). The server
    /// cannot check b without the secret key; the key still parses. Before the fix the key switch added
    /// [c1_h²]·2^190/P, with c1_h a function of W1, to every hidden square: A and B came out 2^27 times the
    /// flooding apart. Clients no longer send one (the circuit squares without relinearisation); one sent anyway
    /// is ignored.
    @Test func aCraftedRelinearizationKeyDoesNotRevealTheModel() throws {
        let context = Self.context
        let client = PrivateInferenceClient(context: context)
        let honest = client.evaluationKeys(for: .slotPerFeature)
        var key = context.generateRelinearizationKey(for: client.secretKey).key
        let n = context.degree
        for i in 0..<context.moduli.count {
            let shift = context.moduli[i].power(2, 190)
            for k in 0..<n { key.b[0].data[i * n + k] = context.moduli[i].add(key.b[0].data[i * n + k], shift) }
        }
        let crafted = EvaluationKeys(publicKey: honest.publicKey!, relinearization: RelinearizationKey(key: key))
        let query = try client.encrypt(rows: Self.rows(scale: 1), packing: .slotPerFeature)
        try Self.expectModelHidden(query, keys: crafted, client: client, "crafted relinearisation key")
    }

    /// F2: an honest key, and rows scaled past the public bound H (the server cannot see them, so only an honest
    /// client refused them). Before the fix the square's cross term 2·N·h·E1 (E1 layer 1's rescale rounding, a
    /// function of W1) grew with h past what the flooding covers.
    @Test(arguments: [1.0, 0x1p10, 0x1p20, 0x1p26])
    func rowsPastThePublicBoundDoNotRevealTheModel(scale: Double) throws {
        let context = Self.context
        let client = PrivateInferenceClient(context: context)
        let keys = client.evaluationKeys(for: .slotPerFeature)
        let query = try client.encrypt(rows: Self.rows(scale: scale), packing: .slotPerFeature)
        try Self.expectModelHidden(query, keys: keys, client: client, "rows × \(scale)")
    }
}
