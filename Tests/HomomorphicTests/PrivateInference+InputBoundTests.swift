import Foundation
import Testing

@testable import Homomorphic

/// The input bound a public model descriptor declares (issue #20): every query within it passes the range check
/// the weights would apply, so a data owner without the weights refuses nothing the circuit could carry wrongly.
@Suite struct PrivateInferenceInputBoundTests {
    @Test func theWorstRowWithinTheBoundPassesTheLinearRangeCheck() throws {
        let context = try CKKSContext(parameters: try #require(CKKSParameters.named("n8192-d2")).parameters())
        let weights = [[30.0, -20.0, 5.0], [-10.0, 40.0, 20.0]]
        let model = PrivateModel.linear(try LinearModel(weights: weights, bias: [0.5, -0.25]))
        let bound = try context.inputBound(for: model)
        #expect(bound > 0 && bound < 16)
        // Each class's worst row: every value at the bound, with its weight's sign.
        try context.checkRange(weights.map { $0.map { $0 >= 0 ? bound : -bound } }, for: model)
        // Just past the bound, a worst row is refused (by the scores or by the encoder).
        let past = bound * 1.01
        #expect(throws: HEError.self) {
            try context.checkRange([weights[1].map { $0 >= 0 ? past : -past }], for: model)
        }
    }

    @Test func theWorstFullChunkWithinTheBoundPassesTheMLPRangeCheck() throws {
        let context = try CKKSContext(parameters: try #require(CKKSParameters.named("n8192-d3")).parameters())
        let mlp = try SquareMLP(
            w1: [[0.8, -0.5, 0.3], [-0.2, 0.9, 0.4]], b1: [0.1, -0.1], w2: [[0.7, -0.6], [-0.3, 0.5]], b2: [0.2, 0.0])
        let model = PrivateModel.squareMLP(mlp)
        let bound = try context.inputBound(for: model)
        #expect(bound > 0)
        let row = mlp.w1[0].map { $0 >= 0 ? bound : -bound }
        try context.checkRange(Array(repeating: row, count: context.degree / 2), for: model)
    }

    @Test func aModelWhoseBiasAloneOverflowsAcceptsNothing() throws {
        let context = try CKKSContext(parameters: try #require(CKKSParameters.named("n8192-d2")).parameters())
        let model = PrivateModel.linear(try LinearModel(weights: [[1, 1]], bias: [1e30]))
        #expect(try context.inputBound(for: model) == 0)
    }
}
