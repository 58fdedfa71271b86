import Foundation
import TestSupport
import Testing

/// `model export --format onnx` through the binary: the built-in `logistic`, `mlp` and `cnn` models, run by
/// onnxruntime, give `predict`'s labels and probabilities (rtol 1e-5 + atol 1e-6); the export reads through the
/// verified path, needs `model.pull` and is audited.
@Suite(.serialized) struct ModelExportCommandTests {
    /// Runs `argv[1]` (ONNX) in onnxruntime on the CSV `argv[2]` (columns named by the model's `feature_names`)
    /// and compares with `predict`'s CSV `argv[3]`; prints the worst excess over rtol 1e-5 and whether labels agree.
    static let compare = #"""
        import sys, csv, numpy as np, onnxruntime as ort
        model, rows, predictions = sys.argv[1:4]
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        meta = session.get_modelmeta().custom_metadata_map
        names, classes = meta["feature_names"].split(","), meta["class_names"].split(",")
        with open(rows) as f:
            x = np.array([[float(row[n]) for n in names] for row in csv.DictReader(f)], dtype=np.float32)
        probabilities, labels = session.run(["probabilities", "label"], {"input": x})
        with open(predictions) as f:
            ours = list(csv.reader(f))[1:]
        expected = np.array([[float(v) for v in row[1:]] for row in ours], dtype=np.float64)
        excess = np.max(np.abs(probabilities - expected) - 1e-5 * np.abs(expected))
        same = [classes[i] for i in labels] == [row[0] for row in ours]
        print("%d %.3g %s" % (len(ours), excess, same))
        """#

    @Test func exportedModelsRunInOnnxRuntimeWithThePredictionsOutputs() throws {
        try ModelVaultBinary.requireBuilt()
        guard Interop.pythonCanImport("onnxruntime", "numpy") else { try Interop.skipOrFail("python3 onnxruntime") }
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        let cancer = try String(contentsOf: CLI.breastCancerCSV, encoding: .utf8).split(whereSeparator: \.isNewline)
        let digitsURL = CLI.breastCancerCSV.deletingLastPathComponent().appending(path: "digits.csv")
        let digits = try String(contentsOf: digitsURL, encoding: .utf8).split(whereSeparator: \.isNewline)
        // Small training sets and few epochs: the subject is the export, not the fit (the CNN is slow in debug).
        try Data((cancer.prefix(201).joined(separator: "\n") + "\n").utf8).write(to: work.appending(path: "c.csv"))
        try Data((digits.prefix(81).joined(separator: "\n") + "\n").utf8).write(to: work.appending(path: "d.csv"))
        try Data((cancer.prefix(41).joined(separator: "\n") + "\n").utf8).write(to: work.appending(path: "cr.csv"))
        try Data((digits.prefix(21).joined(separator: "\n") + "\n").utf8).write(to: work.appending(path: "dr.csv"))
        for (name, file) in [("cancer", "c.csv"), ("digits", "d.csv")] {
            let added = try ModelVaultBinary.run(["data", "add", name, file], environment: env, in: work)
            #expect(added.status == 0, "\(added.stderr)")
        }
        let models: [(name: String, train: [String], rows: String)] = [
            ("lr", ["--dataset", "cancer", "--label", "benign", "--model", "logistic", "--epochs", "20"], "cr.csv"),
            (
                "mlp",
                ["--dataset", "cancer", "--label", "benign", "--model", "mlp", "--hidden", "8", "--epochs", "5"],
                "cr.csv"
            ),
            (
                "cnn",
                [
                    "--dataset", "digits", "--label", "digit", "--model", "cnn", "--image-shape", "8x8x1", "--epochs",
                    "1",
                ],
                "dr.csv"
            ),
        ]
        for model in models {
            let trained = try ModelVaultBinary.run(
                ["train", model.name] + model.train + ["--seed", "3"], environment: env, in: work)
            #expect(trained.status == 0, "\(model.name): \(trained.stderr)")
            let exported = try ModelVaultBinary.run(
                ["model", "export", model.name, "--format", "onnx", "-o", "\(model.name).onnx"], environment: env,
                in: work)
            #expect(exported.status == 0, "\(model.name): \(exported.stderr)")
            let predicted = try ModelVaultBinary.run(
                ["predict", model.name, "--input", model.rows, "-o", "\(model.name).csv"], environment: env, in: work)
            #expect(predicted.status == 0, "\(model.name): \(predicted.stderr)")
            let result = try ChildProcess.tool(
                "python3", ["-c", Self.compare, "\(model.name).onnx", model.rows, "\(model.name).csv"], in: work
            ).run()
            #expect(result.status == 0, "\(model.name): \(result.stderr.suffix(1500))")
            let fields = result.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            #expect(fields.count == 3 && Int(fields[0]) ?? 0 >= 20, "\(model.name): \(result.stdout)")
            #expect((Double(fields.count == 3 ? fields[1] : "") ?? 1) <= 1e-6, "\(model.name): \(result.stdout)")
            #expect(fields.last == "True", "\(model.name): labels differ (\(result.stdout))")
        }
        // The file is plaintext weights: only its owner reads it.
        let attributes = try FileManager.default.attributesOfItem(atPath: work.appending(path: "lr.onnx").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        // The export is audited as a plaintext pull.
        let tail = try ModelVaultBinary.run(["audit", "tail", "-n", "30"], environment: env, in: work)
        #expect(tail.stdout.contains("model.pull  model:cnn"), "\(tail.stdout)")
    }

    /// Plaintext weights leave the vault only for `model.pull`: devops (serving, private inference, re-wrapped
    /// pulls) is refused and audited, and a version whose stored file an attacker replaced is refused (exit 6).
    @Test func exportNeedsModelPullAndAVerifiedVersion() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        var env = try CLI.makeVault(in: work)
        let cancer = try String(contentsOf: CLI.breastCancerCSV, encoding: .utf8).split(whereSeparator: \.isNewline)
        try Data((cancer.prefix(101).joined(separator: "\n") + "\n").utf8).write(to: work.appending(path: "c.csv"))
        #expect(try ModelVaultBinary.run(["data", "add", "cancer", "c.csv"], environment: env, in: work).status == 0)
        for seed in ["1", "2"] {
            let trained = try ModelVaultBinary.run(
                [
                    "train", "lr", "--dataset", "cancer", "--label", "benign", "--model", "logistic", "--epochs", "5",
                    "--seed", seed,
                ], environment: env, in: work)
            #expect(trained.status == 0, "\(trained.stderr)")
        }
        let admin = env["MODELVAULT_TOKEN"] ?? ""
        #expect(
            try ModelVaultBinary.run(["user", "add", "dev", "--role", "devops"], environment: env, in: work).status == 0
        )
        let issued = try ModelVaultBinary.run(["token", "create", "dev"], environment: env, in: work)
        #expect(issued.status == 0, "\(issued.stderr)")
        env["MODELVAULT_TOKEN"] = issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let denied = try ModelVaultBinary.run(
            ["model", "export", "lr@1", "--format", "onnx", "-o", "dev.onnx"], environment: env, in: work)
        #expect(denied.status == 3, "\(denied.stderr)")
        #expect(denied.stderr.contains("permission denied: model.pull on model:lr"), "\(denied.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "dev.onnx").path))
        env["MODELVAULT_TOKEN"] = admin
        let tail = try ModelVaultBinary.run(["audit", "tail", "-n", "5"], environment: env, in: work)
        #expect(tail.stdout.contains("dev  model.pull  model:lr@1  denied"), "\(tail.stdout)")

        // An attacker with write access to the vault directory swaps in version 2's (validly encrypted) weights.
        let stored = work.appending(path: "v/models/encrypted/lr")
        try FileManager.default.removeItem(at: stored.appending(path: "1/model.safetensors.age"))
        try FileManager.default.copyItem(
            at: stored.appending(path: "2/model.safetensors.age"), to: stored.appending(path: "1/model.safetensors.age")
        )
        let swapped = try ModelVaultBinary.run(
            ["model", "export", "lr@1", "--format", "onnx", "-o", "lr.onnx"], environment: env, in: work)
        #expect(swapped.status == 6, "\(swapped.stderr)")
        #expect(swapped.stderr.contains("digest mismatch"), "\(swapped.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "lr.onnx").path))

        // Already-ONNX versions and other formats are clear errors.
        let format = try ModelVaultBinary.run(
            ["model", "export", "lr@2", "--format", "tflite", "-o", "x"], environment: env, in: work)
        #expect(format.status == 2, "\(format.stderr)")

        // The attack (review 4, F7): a typo names an existing file. It is refused (exit 5) and left as it was.
        let precious = work.appending(path: "precious.txt")
        try Data("precious\n".utf8).write(to: precious)
        let existing = try ModelVaultBinary.run(
            ["model", "export", "lr@2", "--format", "onnx", "-o", "precious.txt"], environment: env, in: work)
        #expect(existing.status == 5, "\(existing.stderr)")
        #expect(existing.stderr.contains("already exists"), "\(existing.stderr)")
        #expect(try Data(contentsOf: precious) == Data("precious\n".utf8))
    }
}
