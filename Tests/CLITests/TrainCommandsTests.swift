import Foundation
import TestSupport
import Testing

/// End to end through the built `modelvault` binary: train, evaluate, predict and private inference.
@Suite(.serialized) struct TrainCommandsTests {
    @Test func breastCancerTrainEvaluatePredictAndPrivateInference() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        let csv = try String(contentsOf: CLI.breastCancerCSV, encoding: .utf8)
        try Data(csv.utf8).write(to: work.appending(path: "breast_cancer.csv"))
        let lines = csv.split(whereSeparator: \.isNewline)
        try Data((lines.prefix(41).joined(separator: "\n") + "\n").utf8).write(to: work.appending(path: "rows.csv"))

        let added = try ModelVaultBinary.run(
            ["data", "add", "cancer", "breast_cancer.csv"], environment: env, in: work)
        #expect(added.stdout == "cancer@1\n", "\(added.stderr)")
        let trained = try ModelVaultBinary.run(
            ["train", "clf", "--dataset", "cancer", "--label", "benign", "--model", "logistic", "--seed", "7"],
            environment: env, in: work)
        #expect(trained.stdout == "clf@1\n", "\(trained.stderr)")
        #expect(trained.stderr.contains("epoch"))
        let shown = try ModelVaultBinary.run(["model", "show", "clf@1"], environment: env, in: work)
        #expect(shown.stdout.contains("cancer@1"))
        #expect(shown.stdout.contains("accuracy"))

        let evaluated = try ModelVaultBinary.run(
            ["evaluate", "clf@1", "--dataset", "cancer@1", "--label", "benign", "--json"], environment: env, in: work)
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let metrics = try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any]
        let accuracy = try #require(metrics?["accuracy"] as? Double)
        #expect(accuracy >= 0.95)
        #expect(metrics?["rocAUC"] is Double)
        #expect(metrics?["confusionMatrix"] != nil)

        let predicted = try ModelVaultBinary.run(
            ["predict", "clf", "--input", "rows.csv", "-o", "preds.csv"], environment: env, in: work)
        #expect(predicted.status == 0, "\(predicted.stderr)")
        let plainClasses = try CLI.firstColumn(work.appending(path: "preds.csv"))
        #expect(plainClasses.count == 40)
        // Predictions agree with the true labels on nearly every row.
        let truth = lines.dropFirst().prefix(40).map { String($0.split(separator: ",").last!) }
        #expect(zip(plainClasses, truth).filter { $0 == $1 }.count >= 36)

        try CLI.privateInference(model: "clf", rows: "rows.csv", expecting: plainClasses, env: env, in: work)

        // The square MLP: private classes equal the plaintext model's.
        let mlp = try ModelVaultBinary.run(
            ["train", "hm", "--dataset", "cancer", "--label", "benign", "--model", "he-mlp", "--seed", "7"],
            environment: env, in: work)
        #expect(mlp.stdout == "hm@1\n", "\(mlp.stderr)")
        let mlpPredicted = try ModelVaultBinary.run(
            ["predict", "hm", "--input", "rows.csv", "-o", "hm.csv"], environment: env, in: work)
        #expect(mlpPredicted.status == 0, "\(mlpPredicted.stderr)")
        try CLI.privateInference(
            model: "hm", rows: "rows.csv", expecting: try CLI.firstColumn(work.appending(path: "hm.csv")), env: env,
            in: work, parameters: "n16384-mlp90")

        // A flipped byte in the stored weights: every command that loads the model refuses it.
        let blob = work.appending(path: "v/models/encrypted/clf/1/model.safetensors.age")
        var bytes = try Data(contentsOf: blob)
        bytes[bytes.count - 20] ^= 0x01
        try bytes.write(to: blob)
        let refusedEvaluate = try ModelVaultBinary.run(
            ["evaluate", "clf@1", "--dataset", "cancer", "--label", "benign"], environment: env, in: work)
        #expect(refusedEvaluate.status == 6)
        #expect(refusedEvaluate.stderr.hasPrefix("modelvault: error:"))
        let refusedPredict = try ModelVaultBinary.run(
            ["predict", "clf@1", "--input", "rows.csv", "-o", "refused.csv"], environment: env, in: work)
        #expect(refusedPredict.status == 6)
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "refused.csv").path))
        let refusedInfer = try ModelVaultBinary.run(
            ["he", "infer", "clf@1", "query-clf.bin", "--eval-keys", "keys-clf/evaluation.keys", "-o", "refused.bin"],
            environment: env,
            in: work)
        #expect(refusedInfer.status == 6)
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "refused.bin").path))
    }

    @Test func madeUpCSVWithAStringLabel() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        // Two well-separated clusters with a random-looking but fixed jitter.
        var text = "height,weight,age,species\n"
        var state: UInt64 = 12345
        func jitter() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 40) / Double(1 << 24) - 0.5
        }
        for row in 0..<120 {
            let dog = row % 2 == 0
            let base = dog ? 60.0 : 25.0
            text += "\(base + 8 * jitter()),\(base / 2 + 6 * jitter()),\(5 + 4 * jitter()),\(dog ? "dog" : "cat")\n"
        }
        try Data(text.utf8).write(to: work.appending(path: "pets.csv"))
        #expect(try ModelVaultBinary.run(["data", "add", "pets", "pets.csv"], environment: env, in: work).status == 0)
        let trained = try ModelVaultBinary.run(
            ["train", "pets", "--dataset", "pets", "--label", "species", "--model", "logistic"], environment: env,
            in: work)
        #expect(trained.stdout == "pets@1\n", "\(trained.stderr)")
        let predicted = try ModelVaultBinary.run(
            ["predict", "pets", "--input", "pets.csv"], environment: env, in: work)
        #expect(predicted.status == 0, "\(predicted.stderr)")
        let rows = predicted.stdout.split(separator: "\n")
        #expect(rows.first == "prediction,p_cat,p_dog")
        let labels = rows.dropFirst().map { String($0.split(separator: ",")[0]) }
        let truth = text.split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[3]) }
        #expect(labels.count == 120)
        #expect(zip(labels, truth).filter { $0 == $1 }.count >= 114)

        // Kinds the encrypted evaluator cannot run are refused clearly.
        let mlp = try ModelVaultBinary.run(
            ["train", "petsmlp", "--dataset", "pets", "--label", "species", "--model", "mlp", "--hidden", "8"],
            environment: env, in: work)
        #expect(mlp.stdout == "petsmlp@1\n", "\(mlp.stderr)")
        #expect(try ModelVaultBinary.run(["he", "keygen", "-o", "keys"], in: work).status == 0)
        let refused = try ModelVaultBinary.run(
            ["he", "encrypt", "--keys", "keys", "--model", "petsmlp", "--input", "pets.csv", "-o", "q.bin"],
            environment: env, in: work)
        #expect(refused.status == 5)
        #expect(refused.stderr.contains("logistic and he-mlp"))

        let badKind = try ModelVaultBinary.run(
            ["train", "x", "--dataset", "pets", "--label", "species", "--model", "forest"], environment: env, in: work)
        #expect(badKind.status == 2)
    }
}
