import ArgumentParser
import Foundation
import MLCore
import Vault
import VaultCrypto

/// The single CSV among a dataset version's files.
func singleCSV(_ files: [String: Data], of reference: DatasetReference) throws -> Data {
    let csvs = files.keys.filter { $0.lowercased().hasSuffix(".csv") }.sorted()
    if let only = csvs.first, csvs.count == 1 { return files[only]! }
    if files.count == 1, let only = files.values.first { return only }
    throw CLIError("dataset \(reference) must hold exactly one CSV file to train or evaluate on")
}

/// A model version's files, verified by the vault, as a trained model.
func trainedModel(_ files: [String: Data], _ reference: ModelReference) throws -> TrainedModel {
    do {
        return try TrainedModel(files: files)
    } catch {
        throw CLIError(
            "model \(reference) is not a ModelVault-trained model (\(error.description))", status: .invalidInput)
    }
}

/// Writes the per-epoch status on stderr: a redrawn bar on a terminal; elsewhere (a pipe, a log) only one summary
/// line at the end, as pip and docker do, rather than one line per epoch.
struct EpochProgress {
    let isTerminal = isatty(STDERR_FILENO) != 0 && !Quiet.isRequested
    let start = ContinuousClock.now

    func report(_ epoch: EpochReport) {
        guard isTerminal else { return }
        let width = 20
        let filled = epoch.epochs > 0 ? width * epoch.epoch / epoch.epochs : width
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(epoch)".utf8))
    }

    /// Ends the bar's line on a terminal; elsewhere prints the last epoch's status and the time taken.
    func finish(last: EpochReport?) {
        if isTerminal {
            FileHandle.standardError.write(Data("\n".utf8))
        } else if let last {
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            progress("\(last) (\(ProgressMeter.seconds(seconds)))")
        }
    }
}

/// `modelvault train NAME --dataset DS[@V] --label COLUMN --model KIND`.
struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model on a vault dataset in memory and push it as a signed, encrypted version.")

    @OptionGroup var options: VaultOptions
    @Argument(help: "The model's name.") var name: String
    @Option(help: "The dataset version (NAME or NAME@VERSION).") var dataset: String
    @Option(help: "The label column.") var label: String
    @Option(help: "logistic, mlp, cnn or he-mlp.") var model: String
    @Option(help: "Hidden layer sizes, e.g. 64,32.") var hidden: String?
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Option(help: "Maximum number of epochs (default: \(TrainingReport.defaults { String($0.epochs) })).")
    var epochs: Int?
    @Option(
        name: .customLong("batch-size"),
        help: "Mini-batch size (default: \(TrainingReport.defaults { String($0.batchSize) })).")
    var batchSize: Int?
    @Option(
        name: .customLong("learning-rate"),
        help: "Learning rate (default: \(TrainingReport.defaults { String($0.learningRate) })).")
    var learningRate: Float?
    @Option(help: "Random seed for the split, initialisation and shuffling (default 42).") var seed: UInt64?
    @Option(name: .customLong("test-fraction"), help: "Held-out fraction for evaluation (default 0.2).")
    var testFraction: Double?
    @Option(name: .customLong("image-shape"), help: "HxWxC for cnn, e.g. 8x8x1.") var imageShape: String?
    @Option(
        name: .customLong("max-parameters"),
        help: "Refuse an architecture with more trainable parameters than this (default 16777216).")
    var maxParameters: Int?

    func trainingOptions() throws -> TrainingOptions {
        guard let kind = ModelKind(rawValue: model) else {
            throw ValidationError("--model must be one of logistic, mlp, cnn, he-mlp")
        }
        var result = TrainingOptions(kind: kind)
        if let hidden {
            guard let sizes = TrainingOptions.hiddenSizes(parsing: hidden) else {
                throw ValidationError("--hidden takes positive sizes separated by commas, e.g. 64,32")
            }
            result.hidden = sizes
        }
        if let epochs { result.epochs = epochs }
        if let batchSize { result.batchSize = batchSize }
        if let learningRate { result.learningRate = learningRate }
        if let seed { result.seed = seed }
        if let testFraction { result.testFraction = testFraction }
        if let maxParameters { result.maximumParameters = maxParameters }
        if let imageShape {
            guard let shape = ImageShape(imageShape) else { throw ValidationError("--image-shape takes HxWxC") }
            result.imageShape = shape
        }
        do { try result.validate() } catch { throw ValidationError(error.description) }
        return result
    }

    func validate() throws { _ = try trainingOptions() }

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        let training = try trainingOptions()
        let datasetReference = try DatasetReference(parsing: dataset)
        let vault = try await options.open()
        let datasetInfo = try await vault.dataset(datasetReference)
        let pinned = try DatasetReference(name: datasetInfo.name, version: datasetInfo.version)
        let csv = try singleCSV(try await vault.trainingData(pinned), of: pinned)
        let data = try Dataset.csv(csv, label: label)
        progress(
            "training \(training.kind.rawValue) on \(pinned) (\(data.count) rows, \(data.featureNames.count) features)")
        let status = EpochProgress()
        var last: EpochReport?
        let (trained, evaluation) = try Trainer.train(data, options: training) {
            status.report($0)
            last = $0
        }
        status.finish(last: last)
        let heldOut = try data.stratifiedSplit(fraction: training.testFraction, seed: training.seed).test.count
        progress(TrainingReport.summary(last: last, options: training, rows: data.count, heldOut: heldOut))
        progress(evaluation.report)
        let metrics = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(evaluation))
        progress("encrypting and signing...")
        let info = try await vault.pushModel(
            name, from: .files(try trained.files()), datasets: [pinned], metrics: metrics)
        try printResult(json: json, ["reference": info.reference], text: info.reference)
    }
}

/// `modelvault evaluate NAME[@V|:ALIAS] --dataset DS[@V] --label COLUMN`.
struct Evaluate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a verified model on a vault dataset: accuracy, precision, recall, F1, ROC AUC, confusion.")

    @OptionGroup var options: VaultOptions
    @Argument(help: "NAME, NAME@VERSION or NAME:ALIAS.") var reference: String
    @Option(help: "The dataset version (NAME or NAME@VERSION).") var dataset: String
    @Option(help: "The label column (default: the model's).") var label: String?
    @Flag(help: "Score only the rows held out when the version was trained (its recorded seed and test fraction).")
    var holdout = false
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        let reference = try ModelReference(parsing: reference)
        let datasetReference = try DatasetReference(parsing: dataset)
        let vault = try await options.open()
        let inputs = try await vault.evaluationInputs(model: reference, dataset: datasetReference)
        let csv = try singleCSV(inputs.dataset, of: datasetReference)
        let evaluation: Evaluation
        if let onnx = try ONNXPredictor(files: inputs.model) {
            if holdout { throw CLIError("--holdout needs a model trained in the vault", status: .invalidInput) }
            evaluation = try onnx.evaluate(csv: csv, label: label)
        } else {
            let trained = try trainedModel(inputs.model, reference)
            let data = try Dataset.csv(csv, label: label ?? trained.config.labelColumn)
            if holdout {
                // The recorded split is only the held-out part of the dataset the version was trained on.
                let info = try await vault.dataset(datasetReference)
                let model = try await vault.model(reference)
                guard model.lineage.contains(where: { $0.dataset == info.name && $0.version == info.version }) else {
                    throw CLIError(
                        "--holdout needs the dataset \(reference) was trained on; it lists "
                            + (model.lineage.map { "\($0.dataset)@\($0.version)" }.joined(separator: ", ")),
                        status: .invalidInput)
                }
            }
            let (rows, note) = try TrainingReport.rows(
                of: data, model: trained, holdout: holdout, dataset: datasetReference.description)
            evaluation = try trained.evaluate(rows)
            progress(note)
        }
        if json { return try printJSON(evaluation) }
        print(evaluation.report)
    }
}

/// `modelvault predict NAME[@V|:ALIAS] --input ROWS.csv [-o OUT.csv]`.
struct Predict: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict with a verified model: one CSV row (label and probabilities) per input row.")

    @OptionGroup var options: VaultOptions
    @Argument(help: "NAME, NAME@VERSION or NAME:ALIAS.") var reference: String
    @Option(help: "A CSV with a header holding the model's feature columns.") var input: String
    @Option(name: .shortAndLong, help: "Write the predictions here (atomically) instead of stdout.") var output: String?

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        let reference = try ModelReference(parsing: reference)
        let rows = try CLIFiles.read(input, what: "input CSV")
        let files = try await options.open().predictionModel(reference)
        let text: String
        if let onnx = try ONNXPredictor(files: files) {
            text = onnx.predictionsCSV(try onnx.run(try onnx.features(try CSVTable.parse(rows), excluding: nil)))
        } else {
            let trained = try trainedModel(files, reference)
            text = trained.predictionsCSV(try trained.predict(csv: rows))
        }
        try write(text)
    }

    /// Writes the predictions to `--output` (atomically) or stdout.
    func write(_ text: String) throws {
        if let output {
            try AtomicFile.write(
                Data(text.utf8), to: URL(filePath: output, relativeTo: .currentDirectory()).absoluteURL)
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
