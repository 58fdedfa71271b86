import Foundation
import TestSupport
import Testing

/// `he encrypt/infer/decrypt` on linear ONNX models: a `Gemm` classifier, and skl2onnx's StandardScaler +
/// LogisticRegression (`Scaler` → `LinearClassifier`), whose decrypted probabilities match onnxruntime's within
/// the CKKS score bound E = 2^(⌈64.61 + log2 ‖w‖⌉ − 78) (README, circuit privacy).
@Suite(.serialized) struct HECommandsONNXTests {
    /// keygen, encrypt (from the vault or from an exported descriptor), infer, decrypt: the decrypted rows.
    static func privateRun(
        model: String, rows: String, descriptor: Bool, env: [String: String], in work: URL
    ) throws -> [[String]] {
        let keys = "keys-\(model)-\(descriptor ? "descriptor" : "vault")"
        #expect(try ModelVaultBinary.run(["he", "keygen", "-o", keys], in: work).status == 0)
        var source = ["--model", model]
        if descriptor {
            let exported = try ModelVaultBinary.run(
                ["he", "export-descriptor", model, "-o", "\(model).descriptor.json"], environment: env, in: work)
            #expect(exported.status == 0, "\(exported.stderr)")
            source = ["--descriptor", "\(model).descriptor.json"]
        }
        let encrypted = try ModelVaultBinary.run(
            ["he", "encrypt", "--keys", keys] + source + ["--input", rows, "-o", "q-\(model).bin"],
            environment: descriptor ? [:] : env, in: work)
        #expect(encrypted.status == 0, "\(encrypted.stderr)")
        let inferred = try ModelVaultBinary.run(
            ["he", "infer", model, "q-\(model).bin", "--eval-keys", "\(keys)/evaluation.keys", "-o", "r-\(model).bin"],
            environment: env, in: work)
        #expect(inferred.status == 0, "\(inferred.stderr)")
        let decrypted = try ModelVaultBinary.run(["he", "decrypt", "--keys", keys, "r-\(model).bin"], in: work)
        #expect(decrypted.status == 0, "\(decrypted.stderr)")
        return decrypted.stdout.split(whereSeparator: \.isNewline).map { $0.split(separator: ",").map(String.init) }
    }

    @Test func aGemmClassifierScoresPrivatelyAsInPlaintextAndANonLinearOneIsRefused() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        try Data(TestONNXModels.linearClassifier).write(to: work.appending(path: "linear.onnx"))
        #expect(
            try ModelVaultBinary.run(["model", "push", "gemm", "linear.onnx"], environment: env, in: work).status == 0)
        let rows: [[Float]] = [[1, 2], [3, -4], [-0.5, 0.25], [-2, -1]]
        // The model names no features: the CSV's columns, in header order.
        let csv = "a,b\n" + rows.map { "\($0[0]),\($0[1])" }.joined(separator: "\n") + "\n"
        try Data(csv.utf8).write(to: work.appending(path: "rows.csv"))
        let expected = TestONNXModels.linearClassifierOutputs(rows)
        // ‖w‖ = √5 for class 0: E = 2^(⌈64.61 + 1.17⌉ − 78) = 2^-12; softmax moves probabilities by at most E/2.
        let bound = 0.5 * pow(2, -12) + 1e-5
        for descriptor in [false, true] {
            let lines = try Self.privateRun(model: "gemm", rows: "rows.csv", descriptor: descriptor, env: env, in: work)
            #expect(lines.first == ["prediction", "p_0", "p_1"], "\(lines)")
            #expect(lines.dropFirst().map { $0[0] } == expected.labels.map(String.init))
            for (line, want) in zip(lines.dropFirst(), expected.probabilities) {
                for (got, value) in zip(line.dropFirst().compactMap(Double.init), want) {
                    #expect(abs(got - Double(value)) <= bound, "\(line) vs \(want)")
                }
            }
        }

        // A Relu after the Gemm is not linear: refused with the node named, before anything is encrypted or scored.
        try Data(TestONNXModels.reluClassifier).write(to: work.appending(path: "relu.onnx"))
        #expect(
            try ModelVaultBinary.run(["model", "push", "relu", "relu.onnx"], environment: env, in: work).status == 0)
        #expect(try ModelVaultBinary.run(["he", "keygen", "-o", "k"], in: work).status == 0)
        let refused = try ModelVaultBinary.run(
            ["he", "encrypt", "--keys", "k", "--model", "relu", "--input", "rows.csv", "-o", "q.bin"], environment: env,
            in: work)
        #expect(refused.status == 5, "\(refused.stderr)")
        #expect(
            refused.stderr.contains("node 'relu' (Relu) after the linear layer is not supported"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "q.bin").path))
    }

    /// skl2onnx's StandardScaler + LogisticRegression, binary (LOGISTIC) and ten-class (SOFTMAX + Normalizer):
    /// the decrypted probabilities are onnxruntime's within E, and the labels equal wherever the top two
    /// probabilities are further apart than 2E.
    static let export = #"""
        import sys, warnings
        warnings.filterwarnings("ignore")
        import numpy as np, onnxruntime as ort
        from sklearn.datasets import load_breast_cancer, load_digits
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.linear_model import LogisticRegression
        from skl2onnx import to_onnx
        for name, loader in (("cancer", load_breast_cancer), ("digits", load_digits)):
            x, y = loader(return_X_y=True)
            x = x.astype(np.float32)
            model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.05)).fit(x[20:], y[20:])
            onx = to_onnx(model, x[:1]).SerializeToString()
            open(name + ".onnx", "wb").write(onx)
            np.savetxt(name + ".csv", x[:20], delimiter=",", header=",".join("f%d" % i for i in range(x.shape[1])),
                       comments="", fmt="%.9g")
            session = ort.InferenceSession(onx, providers=["CPUExecutionProvider"])
            label, probabilities = session.run(None, {"X": x[:20]})
            keys = list(probabilities[0].keys())
            matrix = np.array([[row[k] for k in keys] for row in probabilities], dtype=np.float64)
            np.savetxt(name + ".ort.csv", matrix, delimiter=",", fmt="%.9g")
            norm = np.max(np.linalg.norm(model[-1].coef_, axis=1))
            print(name, 2.0 ** (np.ceil(64.61 + np.log2(norm)) - 78))
        """#

    @Test func skl2onnxLogisticPipelinesDecryptToOnnxRuntimesProbabilities() throws {
        try ModelVaultBinary.requireBuilt()
        guard Interop.pythonCanImport("onnxruntime", "skl2onnx", "sklearn") else {
            try Interop.skipOrFail("python3 with onnxruntime, skl2onnx, sklearn")
        }
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        let exported = try ChildProcess.tool("python3", ["-c", Self.export], in: work).run()
        try #require(exported.status == 0, "\(exported.stderr.suffix(1500))")
        var bounds: [String: Double] = [:]
        for line in exported.stdout.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: " ")
            if parts.count == 2 { bounds[String(parts[0])] = Double(parts[1]) }
        }
        for name in ["cancer", "digits"] {
            let bound = try #require(bounds[name])
            let pushed = try ModelVaultBinary.run(["model", "push", name, "\(name).onnx"], environment: env, in: work)
            #expect(pushed.status == 0, "\(pushed.stderr)")
            let lines = try Self.privateRun(
                model: name, rows: "\(name).csv", descriptor: name == "digits", env: env, in: work)
            let reference = try String(contentsOf: work.appending(path: "\(name).ort.csv"), encoding: .utf8)
                .split(whereSeparator: \.isNewline).map { $0.split(separator: ",").compactMap { Double($0) } }
            #expect(lines.count == 21 && reference.count == 20, "\(name): \(lines.count) lines")
            var worst = 0.0
            for (line, want) in zip(lines.dropFirst(), reference) {
                let got = line.dropFirst().compactMap(Double.init)
                #expect(got.count == want.count, "\(name): \(line)")
                worst = max(worst, zip(got, want).map { abs($0 - $1) }.max() ?? 0)
                let sorted = want.sorted(by: >)
                if sorted[0] - sorted[1] > 2 * bound, let best = want.indices.max(by: { want[$0] < want[$1] }) {
                    #expect(line[0] == String(best), "\(name): \(line) vs \(want)")
                }
            }
            // Probabilities move by at most the score error (sigmoid and softmax are 1/4- and 1/2-Lipschitz).
            #expect(worst <= bound + 1e-6, "\(name): worst \(worst), bound \(bound)")
            FileHandle.standardError.write(Data("he onnx \(name): worst \(worst), bound \(bound)\n".utf8))
        }
    }
}
