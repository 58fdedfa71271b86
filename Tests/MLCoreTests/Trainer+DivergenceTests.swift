import Foundation
import Testing

@testable import MLCore

/// Defect 14 of issue #15: diverged training said "invalid training options", naming the wrong failure.
@Suite struct TrainerDivergenceTests {
    @Test func divergedTrainingSaysItDiverged() throws {
        let dataset = try Dataset.csv(
            Data("a,b,y\n0,1,n\n1,0,p\n0,0,n\n1,1,p\n1e6,-1e6,n\n-1e6,1e6,p\n".utf8), label: "y")
        var options = TrainingOptions(kind: .mlp)
        options.hidden = [16]
        options.learningRate = 1e30
        options.epochs = 20
        do {
            _ = try Trainer.fit(dataset, options: options)
            Issue.record("training with a learning rate of 1e30 should diverge")
        } catch {
            #expect(error.code == .trainingDiverged)
            #expect(error.description.hasPrefix("training diverged"), "\(error.description)")
            #expect(!error.description.contains("invalid training options"))
        }
    }
}
