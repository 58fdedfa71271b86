import Foundation
import TestSupport
import Testing

/// `model push` of ONNX models through the binary: recognised by content, the signature recorded in the signed
/// manifest and printed by `model show`; invalid models refused with exit 5 before anything is stored.
@Suite(.serialized) struct ModelPushONNXTests {
    @Test func pushRecordsTheSignatureInTheSignedManifestAndShowPrintsIt() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        // Named without .onnx: recognised by content.
        try Data(TestONNXModels.linearClassifier).write(to: work.appending(path: "classifier.bin"))
        let pushed = try ModelVaultBinary.run(
            ["model", "push", "linear", "classifier.bin"], environment: env, in: work)
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(pushed.stdout == "linear@1\n")

        let manifest = try Data(contentsOf: work.appending(path: "v/models/encrypted/linear/1/manifest.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: manifest) as? [String: Any])
        let onnx = try #require((object["extensions"] as? [String: Any])?["onnxSignature"] as? [String: Any])
        #expect(onnx["format"] as? String == "onnx")
        #expect(onnx["opsets"] as? [String: Int] == ["ai.onnx": 17])
        let outputs = try #require(onnx["outputs"] as? [[String: Any]])
        #expect(outputs.map { $0["datatype"] as? String } == ["FP32", "INT64"])

        let shown = try ModelVaultBinary.run(["model", "show", "linear@1"], environment: env, in: work)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("format:    ONNX (IR 8; opsets ai.onnx 17; modelvault-tests)"), "\(shown.stdout)")
        #expect(shown.stdout.contains("  input  FP32 [-1, 2]"))
        #expect(shown.stdout.contains("  label  INT64 [-1]"))

        // A directory holding one ONNX model beside other files.
        try FileManager.default.createDirectory(at: work.appending(path: "bundle"), withIntermediateDirectories: true)
        try Data(TestONNXModels.linearClassifier).write(to: work.appending(path: "bundle/model.onnx"))
        try Data("labels: [benign, malignant]\n".utf8).write(to: work.appending(path: "bundle/README.md"))
        let bundled = try ModelVaultBinary.run(["model", "push", "bundled", "bundle"], environment: env, in: work)
        #expect(bundled.status == 0, "\(bundled.stderr)")
        let bundledShown = try ModelVaultBinary.run(["model", "show", "bundled@1"], environment: env, in: work)
        #expect(bundledShown.stdout.contains("  probabilities  FP32 [-1, 2]"), "\(bundledShown.stdout)")

        // Other formats are pushed as before, with no ONNX signature.
        try Data("not a model".utf8).write(to: work.appending(path: "weights.txt"))
        let other = try ModelVaultBinary.run(["model", "push", "other", "weights.txt"], environment: env, in: work)
        #expect(other.status == 0, "\(other.stderr)")
        let otherShown = try ModelVaultBinary.run(["model", "show", "other@1"], environment: env, in: work)
        #expect(!otherShown.stdout.contains("ONNX"))
    }

    /// Hostile or broken ONNX files: each is a clear error with exit 5 and nothing is stored.
    @Test func invalidModelsAreRefusedWithExitFiveAndNothingIsStored() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        let valid = TestONNXModels.linearClassifier
        let cases: [(file: String, bytes: [UInt8], message: String)] = [
            ("garbage.onnx", Array("this is not protobuf".utf8), "refusing garbage.onnx: ONNX model is malformed"),
            (
                "truncated.onnx", Array(valid.prefix(valid.count - 7)),
                "refusing truncated.onnx: ONNX model is malformed"
            ),
            ("einsum.bin", TestONNXModels.unsupportedOperator, "node 'contract': operator Einsum is not supported"),
        ]
        for (file, bytes, message) in cases {
            try Data(bytes).write(to: work.appending(path: file))
            let pushed = try ModelVaultBinary.run(["model", "push", "bad", file], environment: env, in: work)
            #expect(pushed.status == 5, "\(file): \(pushed.stderr)")
            #expect(pushed.stderr.contains(message), "\(file): \(pushed.stderr)")
        }
        let listed = try ModelVaultBinary.run(["model", "list"], environment: env, in: work)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(!listed.stdout.contains("bad"))
    }
}

/// `predict` and `evaluate` on an ONNX classifier pushed through the binary.
@Suite(.serialized) struct PredictONNXTests {
    @Test func predictAndEvaluateRunTheONNXModel() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        try Data(TestONNXModels.linearClassifier).write(to: work.appending(path: "linear.onnx"))
        let pushed = try ModelVaultBinary.run(["model", "push", "linear", "linear.onnx"], environment: env, in: work)
        #expect(pushed.status == 0, "\(pushed.stderr)")

        let rows: [[Float]] = [[1, 2], [3, -4], [-0.5, 0.25], [-2, -1]]
        let expected = TestONNXModels.linearClassifierOutputs(rows)
        let csv = "a,b\n" + rows.map { "\($0[0]),\($0[1])" }.joined(separator: "\n") + "\n"
        try Data(csv.utf8).write(to: work.appending(path: "rows.csv"))
        let predicted = try ModelVaultBinary.run(
            ["predict", "linear", "--input", "rows.csv"], environment: env, in: work)
        #expect(predicted.status == 0, "\(predicted.stderr)")
        let lines = predicted.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "prediction,p_0,p_1")
        #expect(lines.dropFirst().map { String($0.split(separator: ",")[0]) } == expected.labels.map(String.init))
        let probabilities = lines.dropFirst().map { $0.split(separator: ",").dropFirst().compactMap { Float($0) } }
        for (got, want) in zip(probabilities.joined(), expected.probabilities.joined()) {
            #expect(abs(got - want) <= 1e-6)
        }

        // Two rows labelled as the model predicts, two against it: accuracy 0.5.
        let truth = expected.labels.enumerated().map { $0.offset < 2 ? $0.element : 1 - $0.element }
        let labelled =
            "a,y,b\n" + zip(rows, truth).map { "\($0.0[0]),\($0.1),\($0.0[1])" }.joined(separator: "\n") + "\n"
        try Data(labelled.utf8).write(to: work.appending(path: "labelled.csv"))
        let added = try ModelVaultBinary.run(["data", "add", "held-out", "labelled.csv"], environment: env, in: work)
        #expect(added.status == 0, "\(added.stderr)")
        let evaluated = try ModelVaultBinary.run(
            ["evaluate", "linear", "--dataset", "held-out", "--label", "y", "--json"], environment: env, in: work)
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any])
        #expect(report["sampleCount"] as? Int == 4)
        #expect(report["accuracy"] as? Double == 0.5)

        // A CSV with the wrong number of feature columns is a clear error, exit 5.
        try Data("a,b,c\n1,2,3\n".utf8).write(to: work.appending(path: "wide.csv"))
        let wide = try ModelVaultBinary.run(["predict", "linear", "--input", "wide.csv"], environment: env, in: work)
        #expect(wide.status == 5)
        #expect(wide.stderr.contains("the model takes 2 features; the CSV has 3 feature columns"), "\(wide.stderr)")
    }
}
