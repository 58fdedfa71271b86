import Foundation
import TestSupport
import Testing

@testable import Homomorphic

/// Rows beyond the range the CKKS parameters were chosen for (issue #15, defect 7): the encrypted scores wrapped
/// around the modulus and came back as a confident wrong class. A query is now either scored like the plaintext
/// model on every row or refused at encryption, naming a row.
@Suite struct PrivateInferenceInputRangeTests {
    /// How far the plaintext scores are from a tie: |score| for one score, top minus runner-up otherwise.
    static func margin(_ scores: [Double]) -> Double {
        guard scores.count > 1 else { return abs(scores.first ?? 0) }
        let sorted = scores.sorted(by: >)
        return sorted[0] - sorted[1]
    }

    static func classOf(_ scores: [Double]) -> Int {
        scores.count == 1 ? (scores[0] > 0 ? 1 : 0) : scores.indices.max { scores[$0] < scores[$1] }!
    }

    /// Encrypts `rows` as one query for `model`: either refused (naming a row) or every class is the plaintext's.
    /// Returns whether the query was refused.
    static func scoredRightOrRefused(_ model: PrivateModel, rows: [[Double]], context: CKKSContext) throws -> Bool {
        let client = PrivateInferenceClient(context: context)
        let query: EncryptedQuery
        do {
            query = try client.encrypt(rows: rows, for: model)
        } catch let error as HEError {
            #expect(error.description.contains("row "), "\(error.description)")
            return true
        }
        let keys = client.evaluationKeys(for: model.packing)
        let result = try PrivateInferenceServer.evaluate(query, model: model, keys: keys, context: context)
        let decrypted = try client.decrypt(result)
        var wrong = 0
        for (scores, row) in zip(decrypted, rows) where classOf(scores) != classOf(model.scores(row)) {
            // A row whose plaintext scores are within the flooding noise of a tie may fall either way.
            if margin(model.scores(row)) > 1e-2 { wrong += 1 }
        }
        #expect(wrong == 0, "\(wrong) of \(rows.count) rows got another class than the plaintext model's")
        return false
    }

    /// A square MLP whose scores on standardised rows are in the tens (×100: carried since layer 1 and the square
    /// are exact; ×10,000: scores past what the result's level carries).
    static func wideMLP() throws -> PrivateModel {
        var generator = SplitMix64(state: 11)
        let w1 = (0..<4).map { _ in (0..<30).map { _ in Double.random(in: -0.3...0.3, using: &generator) } }
        let w2 = [(0..<4).map { _ in Double.random(in: -1...1, using: &generator) }]
        return .squareMLP(try SquareMLP(w1: w1, b1: [0.1, -0.1, 0.2, 0], w2: w2, b2: [0.5]))
    }

    @Test(arguments: [5.0, 100.0, 10_000.0]) func squareMLPRowsScaledBeyondTheTrainingRange(factor: Double) throws {
        let split = try BreastCancerSplit.load()
        let rows = split.testX.map { $0.map { $0 * factor } }
        let refused = try Self.scoredRightOrRefused(try Self.wideMLP(), rows: rows, context: Fixtures.mlp)
        if factor == 10_000 { #expect(refused) }
    }

    @Test(arguments: [5.0, 50.0]) func linearRowsScaledBeyondTheTrainingRange(factor: Double) throws {
        let split = try BreastCancerSplit.load()
        let model = PrivateModel.linear(try split.trainLogistic())
        let rows = split.testX.map { $0.map { $0 * factor } }
        _ = try Self.scoredRightOrRefused(model, rows: rows, context: Fixtures.d2)
    }

    /// Rows inside the range are all scored: the check refuses nothing the parameters can carry.
    @Test func trainingRangeRowsAreAllScored() throws {
        let split = try BreastCancerSplit.load()
        #expect(try !Self.scoredRightOrRefused(try Self.wideMLP(), rows: split.testX, context: Fixtures.mlp))
        let linear = PrivateModel.linear(try split.trainLogistic())
        #expect(try !Self.scoredRightOrRefused(linear, rows: split.testX, context: Fixtures.d2))
    }
}
