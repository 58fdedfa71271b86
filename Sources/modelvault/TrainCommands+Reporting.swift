import Foundation
import MLCore
import Vault

/// What `train` and `evaluate` say about their choices (issue #20): the defaults in help, early stopping, and
/// which rows a score counts.
enum TrainingReport {
    /// `logistic 200, mlp 100, cnn 30, he-mlp 150`: a per-kind default for help texts.
    static func defaults(_ value: (TrainingOptions) -> String) -> String {
        ModelKind.allCases.map { "\($0.rawValue) \(value(TrainingOptions(kind: $0)))" }.joined(separator: ", ")
    }

    /// The line after training: whether early stopping ended it, and on what the metrics were computed.
    static func summary(last: EpochReport?, options: TrainingOptions, rows: Int, heldOut: Int) -> String {
        var lines: [String] = []
        if let last, last.epoch < last.epochs {
            lines.append(
                "early stopping: stopped after epoch \(last.epoch) of \(last.epochs) (no lower validation loss for "
                    + "\(options.patience) epochs); kept the weights with the lowest validation loss")
        } else if let last {
            lines.append("ran all \(last.epochs) epochs; kept the weights with the lowest validation loss")
        }
        lines.append(
            "metrics below: the \(heldOut) of \(rows) rows held out (test fraction \(options.testFraction), "
                + "seed \(options.seed)); `evaluate --holdout` scores the same rows again")
        return lines.joined(separator: "\n")
    }

    /// The rows `evaluate` scores: all of them, or with `holdout` the split the version's training recorded.
    static func rows(
        of data: Dataset, model: TrainedModel, holdout: Bool, dataset: String
    ) throws -> (rows: Dataset, note: String) {
        guard let training = model.config.training, let heldOut = try model.heldOutRows(of: data) else {
            guard !holdout else {
                throw CLIError(
                    "--holdout: this version records no training split (it was not trained by ModelVault)",
                    status: .invalidInput)
            }
            return (data, "scored all \(data.count) rows of \(dataset)")
        }
        if holdout {
            return (
                heldOut,
                "scored the \(heldOut.count) rows of \(dataset) held out at training (test fraction "
                    + "\(training.testFraction), seed \(training.seed))"
            )
        }
        return (
            data,
            "scored all \(data.count) rows of \(dataset), including the \(data.count - heldOut.count) the model was "
                + "trained on; --holdout scores only the \(heldOut.count) held out"
        )
    }
}
