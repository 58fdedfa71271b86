import Foundation
import MLCore
import SampleData

/// MLCore against scikit-learn on the same stratified 80/20 split, in the same run: training time and test
/// accuracy (logistic vs LogisticRegression, mlp vs MLPClassifier with the same hidden sizes and epochs), and
/// single-row / whole-batch prediction latency.
enum MLBenchmark {
    struct PeerResult: Decodable {
        var accuracy: Double
        var trainSeconds: Double
        var singleRowSeconds: Double
        var batchSeconds: Double
    }

    struct Row {
        var task: String
        var ours: PeerResult
        var peer: PeerResult?
    }

    static func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mlbench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var rows: [Row] = []
        let cancer = try Dataset.csv(Data(contentsOf: SampleData.breastCancerCSV), label: "benign")
        let digits = try Dataset.csv(Data(contentsOf: SampleData.digitsCSV), label: "digit")

        var logistic = TrainingOptions(kind: .logistic)
        logistic.validationFraction = 0
        rows.append(
            try measure(
                "logistic / breast cancer", cancer, options: logistic, in: directory,
                peer: "LogisticRegression(max_iter=1000)"))

        var mlp = TrainingOptions(kind: .mlp)
        mlp.validationFraction = 0  // fixed epochs on both sides
        mlp.epochs = 50
        rows.append(
            try measure(
                "mlp 64,32 / digits", digits, options: mlp, in: directory,
                peer:
                    "MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=50, batch_size=32, learning_rate_init=0.001, alpha=1e-4, random_state=42, tol=0, n_iter_no_change=10**9)"
            ))
        print(table(rows))
    }

    static func measure(
        _ task: String, _ dataset: Dataset, options: TrainingOptions, in directory: URL, peer: String
    ) throws -> Row {
        let (train, test) = try dataset.stratifiedSplit(fraction: 0.2, seed: options.seed)
        let trainURL = directory.appendingPathComponent("train.csv")
        let testURL = directory.appendingPathComponent("test.csv")
        try train.csvData().write(to: trainURL)
        try test.csvData().write(to: testURL)

        let start = Date()
        let model = try Trainer.fit(train, options: options)
        let trainSeconds = Date().timeIntervalSince(start)
        let accuracy = try model.evaluate(test).accuracy
        let rowsOfTest = (0..<test.count).map { row in
            Array(test.features.scalars[(row * test.featureNames.count)..<((row + 1) * test.featureNames.count)])
        }
        let singleStart = Date()
        let repetitions = 1000
        for index in 0..<repetitions { _ = try model.predict(rows: [rowsOfTest[index % rowsOfTest.count]]) }
        let singleRowSeconds = Date().timeIntervalSince(singleStart) / Double(repetitions)
        let batchStart = Date()
        for _ in 0..<20 { _ = try model.predict(rows: rowsOfTest) }
        let batchSeconds = Date().timeIntervalSince(batchStart) / 20
        let ours = PeerResult(
            accuracy: accuracy, trainSeconds: trainSeconds, singleRowSeconds: singleRowSeconds,
            batchSeconds: batchSeconds)
        return Row(
            task: task, ours: ours,
            peer: try? scikitLearn(peer, train: trainURL, test: testURL, label: dataset.labelColumn))
    }

    /// Runs the scikit-learn peer (StandardScaler fitted on the training rows, as MLCore does) and reads its JSON.
    static func scikitLearn(_ estimator: String, train: URL, test: URL, label: String) throws -> PeerResult {
        let script = """
            import csv, json, sys, time, warnings
            import numpy as np
            from sklearn.preprocessing import StandardScaler
            from sklearn.linear_model import LogisticRegression
            from sklearn.neural_network import MLPClassifier
            warnings.filterwarnings("ignore")
            def load(path):
                with open(path, newline="") as f:
                    rows = list(csv.reader(f))
                i = rows[0].index(sys.argv[3])
                x = np.array([[float(v) for j, v in enumerate(r) if j != i] for r in rows[1:]])
                return x, np.array([r[i] for r in rows[1:]])
            (xtrain, y), (x, yt) = load(sys.argv[1]), load(sys.argv[2])
            t0 = time.perf_counter()
            scaler = StandardScaler().fit(xtrain)
            model = \(estimator).fit(scaler.transform(xtrain), y)
            t1 = time.perf_counter()
            accuracy = float((model.predict(scaler.transform(x)) == yt).mean())
            s0 = time.perf_counter()
            for i in range(1000): model.predict_proba(scaler.transform(x[i % len(x)][None, :]))
            s1 = time.perf_counter()
            for i in range(20): model.predict_proba(scaler.transform(x))
            s2 = time.perf_counter()
            print(json.dumps({"accuracy": accuracy, "trainSeconds": t1 - t0,
                              "singleRowSeconds": (s1 - s0) / 1000, "batchSeconds": (s2 - s1) / 20}))
            """
        guard let data = VaultBenchmark.pythonOutput(["-c", script, train.path, test.path, label]) else {
            print("scikit-learn peer failed (pip install scikit-learn)")
            throw CocoaError(.featureUnsupported)
        }
        return try JSONDecoder().decode(PeerResult.self, from: data)
    }

    static func table(_ rows: [Row]) -> String {
        func format(_ value: Double, _ unit: String) -> String {
            unit == "%" ? String(format: "%.2f%%", value * 100) : String(format: "%.3f ms", value * 1000)
        }
        var lines = [
            "task                       metric         ModelVault      scikit-learn    ratio (sklearn/ours)",
            String(repeating: "-", count: 95),
        ]
        for row in rows {
            let metrics: [(String, KeyPath<PeerResult, Double>, String)] = [
                ("accuracy", \.accuracy, "%"), ("train", \.trainSeconds, "s"),
                ("predict 1 row", \.singleRowSeconds, "s"), ("predict batch", \.batchSeconds, "s"),
            ]
            for (name, path, unit) in metrics {
                let ours = row.ours[keyPath: path]
                let peer = row.peer?[keyPath: path]
                let ratio =
                    peer.map {
                        unit == "%"
                            ? String(format: "%+.2f pt", (ours - $0) * 100)
                            : String(format: "%.2fx", $0 / max(ours, 1e-12))
                    } ?? "-"
                lines.append(
                    row.task.padding(toLength: 27, withPad: " ", startingAt: 0)
                        + name.padding(toLength: 15, withPad: " ", startingAt: 0)
                        + format(ours, unit).padding(toLength: 16, withPad: " ", startingAt: 0)
                        + (peer.map { format($0, unit) } ?? "n/a").padding(toLength: 16, withPad: " ", startingAt: 0)
                        + ratio)
            }
        }
        return lines.joined(separator: "\n")
    }
}
