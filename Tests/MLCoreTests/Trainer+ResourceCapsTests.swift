import Foundation
import Testing

@testable import MLCore

/// Defect 11 of issue #15: `train --model mlp --hidden 65536,65536` grew past 16 GB. The parameter count of the
/// architecture is checked against a cap before anything is allocated.
@Suite struct TrainerResourceCapsTests {
    static let tiny = try! Dataset.csv(
        Data("a,b,y\n0,1,n\n1,0,p\n0,0,n\n1,1,p\n".utf8), label: "y")

    @Test func anArchitecturePastTheParameterCapIsRefusedBeforeAllocating() {
        var options = TrainingOptions(kind: .mlp)
        options.hidden = [65536, 65536]  // 2^32 weights: 16 GiB of Float32 before gradients
        #expect(throws: MLError.self) { try Trainer.fit(Self.tiny, options: options) }
    }

    @Test func theCapIsConfigurable() throws {
        var options = TrainingOptions(kind: .mlp)
        options.hidden = [64, 64]
        options.epochs = 1
        options.maximumParameters = 1_000
        #expect(throws: MLError.self) { try Trainer.fit(Self.tiny, options: options) }
        options.maximumParameters = 10_000
        _ = try Trainer.fit(Self.tiny, options: options)
    }
}
