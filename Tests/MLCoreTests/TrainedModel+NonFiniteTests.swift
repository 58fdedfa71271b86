import Foundation
import Testing

@testable import MLCore

/// Defect 6 of issue #15: `modelvault predict` printed `-nan` and a class for inputs of 3e38.
@Suite struct TrainedModelNonFiniteTests {
    @Test func anOverflowingRowIsAnErrorNotAClass() throws {
        let dataset = try Dataset.csv(Data("a,b,y\n0,1,n\n1,0,p\n0,0,n\n1,1,p\n0.5,1,n\n1,0.5,p\n".utf8), label: "y")
        var options = TrainingOptions(kind: .mlp)
        options.hidden = [8]
        options.epochs = 2
        let model = try Trainer.fit(dataset, options: options)
        _ = try model.predict(rows: [[1, 0]])
        #expect(throws: MLError.self) { try model.predict(rows: [[3e38, 3e38]]) }
        #expect(throws: MLError.self) { try model.predict(csv: Data("a,b\n3e38,-3e38\n".utf8)) }
    }
}
