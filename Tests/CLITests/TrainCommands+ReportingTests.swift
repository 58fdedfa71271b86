import Foundation
import TestSupport
import Testing

/// Issue #20: training says what it did, help shows the defaults, and `evaluate` says which rows it scored.
@Suite(.serialized) struct TrainReportingTests {
    @Test func helpShowsTheTrainingDefaults() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let help = try ModelVaultBinary.run(["train", "--help"], in: directory.url)
        let text = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("logistic 200, mlp 100, cnn 30, he-mlp 150"), "\(help.stdout)")
        #expect(text.contains("Mini-batch size (default: logistic 32"))
        #expect(text.contains("Learning rate (default: logistic 0.01"))
        #expect(text.contains("(default 42)"))
    }

    @Test func trainingReportsEarlyStoppingAndEvaluateNamesItsRows() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        try Data(contentsOf: CLI.breastCancerCSV).write(to: work.appending(path: "breast_cancer.csv"))
        #expect(
            try ModelVaultBinary.run(["data", "add", "cancer", "breast_cancer.csv"], environment: env, in: work).status
                == 0)
        // The README's command: logistic with its defaults stops early on this data (it used to say only
        // `epoch 93/200`).
        let trained = try ModelVaultBinary.run(
            ["train", "clf", "--dataset", "cancer", "--label", "benign", "--model", "logistic"], environment: env,
            in: work)
        #expect(trained.stdout == "clf@1\n", "\(trained.stderr)")
        #expect(trained.stderr.contains("early stopping: stopped after epoch"), "\(trained.stderr)")
        #expect(trained.stderr.contains("metrics below: the 113 of 569 rows held out"), "\(trained.stderr)")

        let all = try ModelVaultBinary.run(
            ["evaluate", "clf@1", "--dataset", "cancer@1", "--json"], environment: env, in: work)
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stderr.contains("scored all 569 rows of cancer@1, including the 456 the model was trained on"))
        let held = try ModelVaultBinary.run(
            ["evaluate", "clf@1", "--dataset", "cancer@1", "--holdout", "--json"], environment: env, in: work)
        #expect(held.stderr.contains("scored the 113 rows of cancer@1 held out at training"), "\(held.stderr)")
        // The held-out score is the one recorded at training.
        let scored = try JSONSerialization.jsonObject(with: Data(held.stdout.utf8)) as? [String: Any]
        let shown = try ModelVaultBinary.run(["model", "show", "clf@1", "--json"], environment: env, in: work)
        let version = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any]
        let recorded = (version?["metrics"] as? [String: Any])?["accuracy"] as? Double
        #expect(scored?["sampleCount"] as? Int == 113)
        #expect(recorded != nil && scored?["accuracy"] as? Double == recorded)

        // --holdout on another dataset: refused, naming the one it was trained on.
        #expect(
            try ModelVaultBinary.run(["data", "add", "other", "breast_cancer.csv"], environment: env, in: work).status
                == 0)
        let other = try ModelVaultBinary.run(
            ["evaluate", "clf@1", "--dataset", "other", "--holdout"], environment: env, in: work)
        #expect(other.status == 5)
        #expect(other.stderr.contains("cancer@1"))
    }
}
