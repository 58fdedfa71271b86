import Foundation
import Testing

@testable import MLCore

@Test func modelFilesRoundTripAndPredictIdentically() throws {
    let dataset = try Dataset.csv(Data(contentsOf: SampleDataURLs.digits), label: "digit")
    var options = TrainingOptions(kind: .mlp)
    options.epochs = 3
    let (model, evaluation) = try Trainer.train(dataset, options: options)
    let files = try model.files()
    #expect(Set(files.keys) == ["model.safetensors", "model_config.json"])
    let restored = try TrainedModel(files: files)
    #expect(restored.config == model.config)
    #expect(try restored.files() == files)
    let rows = (0..<5).map { Array(dataset.features.scalars[($0 * 64)..<($0 * 64 + 64)]) }
    #expect(try restored.predict(rows: rows) == model.predict(rows: rows))
    #expect(try restored.evaluate(dataset) == model.evaluate(dataset))
    #expect(evaluation.confusionMatrix.count == 10)

    // The config is plain JSON with the documented fields.
    let json = try #require(
        JSONSerialization.jsonObject(with: files["model_config.json"]!) as? [String: Any])
    #expect(json["kind"] as? String == "mlp")
    #expect((json["feature_names"] as? [String])?.first == "pixel_0_0")
    #expect((json["standardization"] as? [String: Any])?["mean"] != nil)
}

@Test func mismatchedOrDamagedModelFilesAreRefused() throws {
    let dataset = try Dataset.csv(Data(contentsOf: SampleDataURLs.breastCancer), label: "benign")
    var options = TrainingOptions(kind: .logistic)
    options.epochs = 2
    let files = try Trainer.train(dataset, options: options).model.files()
    var missing = files
    missing["model.safetensors"] = nil
    #expect(throws: MLError.self) { try TrainedModel(files: missing) }

    var otherWeights = files
    otherWeights["model.safetensors"] = SafeTensors.encode(["layers.0.weight": Tensor(zeros: [3, 1])])
    #expect(throws: MLError.self) { try TrainedModel(files: otherWeights) }

    var badConfig = files
    badConfig["model_config.json"] = Data("{\"kind\":\"mlp\"}".utf8)
    #expect(throws: MLError.self) { try TrainedModel(files: badConfig) }

    var truncated = files
    truncated["model.safetensors"] = files["model.safetensors"]!.dropLast(4)
    #expect(throws: MLError.self) { try TrainedModel(files: truncated) }
}

@Test func evaluationMetricsMatchHandComputedValues() {
    // Truth 1,1,0,0,1 with P(class 1) 0.9,0.4,0.35,0.1,0.8: predictions 1,0,0,0,1.
    let positive: [Float] = [0.9, 0.4, 0.35, 0.1, 0.8]
    let probabilities = Tensor(shape: [5, 2], scalars: positive.flatMap { [1 - $0, $0] })
    let evaluation = Evaluation(labels: [1, 1, 0, 0, 1], probabilities: probabilities, labelNames: ["no", "yes"])
    #expect(evaluation.confusionMatrix == [[2, 0], [1, 2]])
    #expect(evaluation.accuracy == 0.8)
    #expect(evaluation.precision == 1)
    #expect(abs(evaluation.recall - 2.0 / 3) < 1e-12)
    #expect(abs(evaluation.f1 - 0.8) < 1e-12)
    #expect(evaluation.rocAUC == 1)  // every positive outscores every negative
    #expect(evaluation.report.contains("positive class yes"))
    let encoded = try? JSONEncoder().encode(evaluation)
    #expect(encoded.flatMap { try? JSONDecoder().decode(Evaluation.self, from: $0) } == evaluation)
    #expect(Evaluation.areaUnderROC(scores: [0.5, 0.5, 0.2], positives: [true, false, false]) == 0.75)
}

@Test func batchPredictionSplitAcrossCoresMatchesRowByRow() throws {
    let dataset = try Dataset.csv(Data(contentsOf: SampleDataURLs.digits), label: "digit")
    var options = TrainingOptions(kind: .logistic)
    options.epochs = 2
    let model = try Trainer.fit(dataset, options: options)
    let rows = (0..<600).map { Array(dataset.features.scalars[($0 * 64)..<($0 * 64 + 64)]) }
    let batch = try model.predict(rows: rows)
    let single = try rows.flatMap { try model.predict(rows: [$0]) }
    #expect(batch.count == 600)
    #expect(
        zip(batch, single).allSatisfy {
            $0.label == $1.label && zip($0.probabilities, $1.probabilities).allSatisfy { abs($0 - $1) < 1e-6 }
        })
    // Prediction input must carry every feature column, by name, as finite numbers.
    let missing = #expect(throws: MLError.self) { try model.predict(csv: Data("pixel_0_0,pixel_0_1\n1,2\n".utf8)) }
    #expect(missing?.description.contains("column 'pixel_0_2' is missing") == true)
    #expect(throws: MLError.self) { try model.predict(rows: [[1, 2, 3]]) }
    let csv = model.predictionsCSV(Array(batch.prefix(2)))
    #expect(csv.hasPrefix("prediction,p_0,p_1,p_2"))
    #expect(csv.split(separator: "\n").count == 3)
}

@Test func hostileConfigurationsAreRefusedBeforeAllocating() throws {
    let dataset = try Dataset.csv(Data(contentsOf: SampleDataURLs.digits), label: "digit")
    var options = TrainingOptions(kind: .cnn)
    options.epochs = 1
    let model = try Trainer.fit(dataset.subset(Array(0..<200)), options: options)
    let files = try model.files()
    func refused(_ edit: (inout ModelConfig) -> Void) throws {
        var config = model.config
        edit(&config)
        var changed = files
        changed["model_config.json"] = try config.jsonData()
        #expect(throws: MLError.self) { try TrainedModel(files: changed) }
    }
    try refused { $0.layers[0].kernelSize = 20 }  // window larger than the 8x8 image
    try refused { $0.layers[0].stride = 0 }
    try refused { $0.layers[9].outputs = 1 << 20 }  // dense 256 → 2^20: too many parameters / wrong shape
    try refused { $0.layers[11].outputs = 3 }  // 3 outputs for 10 classes
    try refused { $0.inputShape = [2, 32, 1] }  // same count, but too short for the second pooling
    try refused { $0.layers.removeLast(2) }
    #expect(try TrainedModel(files: files).config == model.config)
}
