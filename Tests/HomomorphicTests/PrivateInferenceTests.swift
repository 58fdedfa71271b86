import Foundation
import TestSupport
import Testing

@testable import Homomorphic

/// End to end on the breast-cancer test split (114 rows): client encrypts standardised rows, the server evaluates
/// with evaluation keys only, the client decrypts. Classes must equal the plaintext model's on every row and
/// scores must be within 1e-3.
@Suite struct PrivateInferenceTests {
    @Test func logisticRegressionOnEncryptedRows() throws {
        let split = try BreastCancerSplit.load()
        #expect(split.testX.count == 114)
        let model = try split.trainLogistic()
        let context = Fixtures.d2
        let client = PrivateInferenceClient(context: context)
        let keys = client.evaluationKeys(for: .coefficientRows)
        #expect(keys.relinearization == nil && keys.galois == nil)
        let query = try client.encrypt(rows: split.testX, packing: .coefficientRows)
        #expect(query.ciphertexts.count == 1)
        let queryBytes = context.serialize(query)
        let result = try PrivateInferenceServer.evaluate(
            context.deserializeQuery(queryBytes), model: .linear(model), keys: keys, context: context)
        let scores = try client.decrypt(context.deserializeResult(context.serialize(result)))
        var correct = 0
        for (row, (x, y)) in zip(scores, zip(split.testX, split.testY)) {
            let plain = model.scores(x)[0]
            // The λ = 40 flooding adds noise of about 3e-5 (standard deviation) to each score: 4e-3 is far past it.
            #expect(abs(row[0] - plain) < 4e-3)
            if abs(plain) > 4e-3 { #expect((row[0] > 0) == (plain > 0)) }
            if (row[0] > 0) == (y == 1) { correct += 1 }
        }
        // The model itself is sensible (the split is the usual one).
        #expect(Double(correct) / 114 > 0.93)
    }

    @Test func multiclassLinearScores() throws {
        let context = Fixtures.d2
        var generator = SplitMix64(state: 5)
        let rows = (0..<300).map { _ in (0..<64).map { _ in Double.random(in: -2...2, using: &generator) } }
        let weights = (0..<10).map { _ in (0..<64).map { _ in Double.random(in: -1...1, using: &generator) } }
        let model = try LinearModel(weights: weights, bias: (0..<10).map { Double($0) / 10 })
        let client = PrivateInferenceClient(context: context)
        let query = try client.encrypt(rows: rows, packing: .coefficientRows)
        #expect(query.ciphertexts.count == 3)  // 128 rows of 64 features per ciphertext
        let result = try PrivateInferenceServer.evaluate(
            query, model: .linear(model), keys: client.evaluationKeys(for: .coefficientRows), context: context)
        let scores = try client.decrypt(result)
        for (row, x) in zip(scores, rows) { #expect(maxError(row, model.scores(x)) < 1e-3) }
    }

    @Test func squareMLPOnEncryptedRows() throws {
        let split = try BreastCancerSplit.load()
        let model = try split.trainSquareMLP()
        let context = Fixtures.mlp
        let client = PrivateInferenceClient(context: context)
        let keys = client.evaluationKeys(for: .slotPerFeature)
        // The public key only: the circuit squares without relinearisation (review 4, F1).
        #expect(keys.publicKey != nil && keys.relinearization == nil && keys.galois == nil)
        let query = try client.encrypt(rows: split.testX, packing: .slotPerFeature)
        #expect(query.ciphertexts.count == 30)
        let result = try PrivateInferenceServer.evaluate(query, model: .squareMLP(model), keys: keys, context: context)
        let scores = try client.decrypt(result)
        var correct = 0
        for (row, (x, y)) in zip(scores, zip(split.testX, split.testY)) {
            let plain = model.scores(x)[0]
            // The λ = 40 flooding adds noise of about 3e-5 (standard deviation) to each score: 4e-3 is far past it.
            #expect(abs(row[0] - plain) < 4e-3)
            if abs(plain) > 4e-3 { #expect((row[0] > 0) == (plain > 0)) }
            if (row[0] > 0) == (y == 1) { correct += 1 }
        }
        #expect(Double(correct) / 114 > 0.9)
        // The wrong packing or a missing key fails cleanly.
        #expect(throws: HEError.missingPublicKey) {
            try PrivateInferenceServer.evaluate(
                query, model: .squareMLP(model), keys: EvaluationKeys(), context: context)
        }
        let linear = try LinearModel(weights: [[Double](repeating: 1, count: 30)], bias: [0])
        #expect(throws: HEError.unsupportedQuery) {
            try PrivateInferenceServer.evaluate(
                query, model: .linear(linear), keys: keys, context: context,
                policy: PrivateInferencePolicy(allowing: [context.parameters], weightNormBound: 64))
        }
    }
}
