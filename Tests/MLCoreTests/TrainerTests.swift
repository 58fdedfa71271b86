import Foundation
import TestSupport
import Testing

@testable import MLCore

private func train(
    _ url: URL, label: String, kind: ModelKind, configure: (inout TrainingOptions) -> Void = { _ in }
)
    throws -> (model: TrainedModel, evaluation: Evaluation, reports: [EpochReport])
{
    let dataset = try Dataset.csv(Data(contentsOf: url), label: label)
    var options = TrainingOptions(kind: kind)
    configure(&options)
    var reports: [EpochReport] = []
    let (model, evaluation) = try Trainer.train(dataset, options: options) { reports.append($0) }
    return (model, evaluation, reports)
}

@Test func logisticRegressionOnBreastCancerReaches95Percent() throws {
    let (model, evaluation, reports) = try train(SampleDataURLs.breastCancer, label: "benign", kind: .logistic)
    #expect(evaluation.accuracy >= 0.95, "accuracy \(evaluation.accuracy)")
    #expect((113...114).contains(evaluation.sampleCount))
    #expect(evaluation.rocAUC ?? 0 > 0.97)
    #expect(model.config.layers.map(\.type) == [.dense, .sigmoid])
    #expect(!reports.isEmpty && reports.map(\.epoch) == Array(1...reports.count))
    #expect(reports.last!.loss < reports.first!.loss)
}

@Test(TestBuild.needsOptimizedBuild) func multilayerPerceptronOnDigitsReaches95Percent() throws {
    let (model, evaluation, _) = try train(SampleDataURLs.digits, label: "digit", kind: .mlp)
    #expect(evaluation.accuracy >= 0.95, "accuracy \(evaluation.accuracy)")
    #expect(model.config.labelNames == (0...9).map(String.init))
    #expect(evaluation.averaging == "macro")
}

@Test(TestBuild.needsOptimizedBuild) func convolutionalNetworkOnDigitsReaches96Percent() throws {
    let (model, evaluation, _) = try train(SampleDataURLs.digits, label: "digit", kind: .cnn) {
        $0.imageShape = ImageShape("8x8x1")
    }
    #expect(evaluation.accuracy >= 0.96, "accuracy \(evaluation.accuracy)")
    #expect(model.config.inputShape == [8, 8, 1])
}

@Test func squareActivationNetworkOnBreastCancerReaches94Percent() throws {
    let (model, evaluation, _) = try train(SampleDataURLs.breastCancer, label: "benign", kind: .heMLP)
    #expect(evaluation.accuracy >= 0.94, "accuracy \(evaluation.accuracy)")
    #expect(model.config.layers.map(\.type) == [.dense, .square, .dense, .softmax])
}

/// Two Gaussian blobs with string labels: a CSV nobody shipped.
@Test func madeUpCSVTrainsAndPredicts() throws {
    var generator = SeededGenerator(seed: 99)
    var lines = ["width,\"height, cm\",species"]
    for index in 0..<200 {
        let cat = index % 2 == 0
        let x = generator.nextGaussian() + (cat ? 2 : -2)
        let y = generator.nextGaussian() * 3 + (cat ? 10 : 20)
        lines.append("\(x),\(y),\(cat ? "cat" : "\"dog, large\"")")
    }
    let csv = Data((lines.joined(separator: "\r\n") + "\r\n").utf8)
    let dataset = try Dataset.csv(csv, label: "species")
    #expect(dataset.labelNames == ["cat", "dog, large"])
    for kind in [ModelKind.logistic, .mlp, .heMLP] {
        var options = TrainingOptions(kind: kind)
        options.epochs = 40
        let (model, evaluation) = try Trainer.train(dataset, options: options)
        #expect(evaluation.accuracy >= 0.9, "\(kind) accuracy \(evaluation.accuracy)")
        // Columns in another order, with the label column present: matched by name.
        let input = Data("species,\"height, cm\",width\n?,10,2\n?,20,-2\n".utf8)
        let predictions = try model.predict(csv: input)
        #expect(predictions.map(\.label) == ["cat", "dog, large"])
        #expect(predictions.allSatisfy { abs($0.probabilities.reduce(0, +) - 1) < 1e-5 })
        #expect(try model.predict(rows: [[2, 10], [-2, 20]]) == predictions)
    }
}

@Test func trainingIsReproducibleFromTheSeed() throws {
    let dataset = try Dataset.csv(Data(contentsOf: SampleDataURLs.breastCancer), label: "benign")
    var options = TrainingOptions(kind: .logistic)
    options.epochs = 5
    let first = try Trainer.train(dataset, options: options)
    let second = try Trainer.train(dataset, options: options)
    #expect(try first.model.files() == second.model.files())
    options.seed = 7
    let third = try Trainer.train(dataset, options: options)
    #expect(try first.model.files() != third.model.files())
}

@Test func invalidOptionsAreRefused() throws {
    let dataset = try Dataset.csv(Data(contentsOf: SampleDataURLs.breastCancer), label: "benign")
    var options = TrainingOptions(kind: .cnn)
    #expect(throws: MLError.self) { try Trainer.train(dataset, options: options) }  // 30 features: not an image
    options = TrainingOptions(kind: .mlp)
    options.learningRate = -1
    #expect(throws: MLError.self) { try Trainer.train(dataset, options: options) }
    #expect(ImageShape("8x8x1") == ImageShape(height: 8, width: 8, channels: 1))
    #expect(ImageShape("8x") == nil)
    #expect(TrainingOptions.hiddenSizes(parsing: "64, 32") == [64, 32])
    #expect(TrainingOptions.hiddenSizes(parsing: "64,,32") == nil)
    #expect(TrainingOptions.hiddenSizes(parsing: "0") == nil)
}
