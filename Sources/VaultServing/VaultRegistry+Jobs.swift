import BlockingWork
import Foundation
import MLCore
import Vault
import VaultServer

/// The body of a remote `train`, decoded here where the ML engine's options are known.
struct RemoteTrainRequest: Decodable {
    var model: String
    var label: String
    var version: Int?

    /// The request and its training options: the given keys over the defaults of the given `kind` (logistic when
    /// none), as the CLI's flags override the defaults.
    static func parse(_ body: Data) throws -> (RemoteTrainRequest, TrainingOptions) {
        guard let request = try? JSONDecoder().decode(RemoteTrainRequest.self, from: body),
            let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any]
        else { throw RegistryError.invalid }
        let given = object["options"] as? [String: Any] ?? [:]
        guard object["options"] == nil || object["options"] is [String: Any],
            let kind = ModelKind(rawValue: given["kind"] as? String ?? "logistic"),
            let defaults = try? JSONSerialization.jsonObject(with: JSONEncoder().encode(TrainingOptions(kind: kind)))
                as? [String: Any]
        else { throw RegistryError.invalid }
        let merged = defaults.merging(given) { _, new in new }
        guard let data = try? JSONSerialization.data(withJSONObject: merged),
            let options = try? JSONDecoder().decode(TrainingOptions.self, from: data),
            (try? options.validate()) != nil
        else { throw RegistryError.invalid }
        return (request, options)
    }
}

/// A remote `train`'s answer: the pushed version and its held-out metrics.
struct TrainedRecord: Encodable, Sendable {
    var model: RegistryModelVersion
    var evaluation: Evaluation
}

extension VaultRegistry {
    /// `train`: decrypts the dataset in memory (`train` on the dataset), trains off the cooperative pool, and
    /// pushes the result (`model.push` on the model) unless the request was cancelled meanwhile.
    func train(dataset name: String, body: Data, session: VaultSession) async throws -> TrainedRecord {
        let (request, options) = try RemoteTrainRequest.parse(body)
        let info = try await session.dataset(try DatasetReference(name: name, version: request.version))
        let pinned = try DatasetReference(name: info.name, version: info.version)
        let files = try await session.trainingData(pinned)
        let csv = try Self.singleCSV(files)
        let (trained, evaluation) = try await Self.offPool { cancellation in
            let data = try Dataset.csv(csv, label: request.label)
            return try Trainer.train(data, options: options, cancellation: cancellation)
        }
        // The client went away: nothing is pushed.
        try Task.checkCancellation()
        let metrics = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(evaluation))
        let pushed = try await session.pushModel(
            request.model, from: .files(try trained.files()), datasets: [pinned], metrics: metrics)
        return TrainedRecord(model: Self.record(pushed), evaluation: evaluation)
    }

    /// `evaluate`: metrics of a verified version on a dataset, both decrypted in memory.
    func evaluate(
        model: String, version: String, _ request: EvaluateRequest, session: VaultSession
    ) async throws -> Evaluation {
        let modelReference = try Self.modelReference(model, version)
        let datasetReference = try DatasetReference(parsing: request.dataset)
        let inputs = try await session.evaluationInputs(model: modelReference, dataset: datasetReference)
        let holdout = request.holdout ?? false
        if holdout {
            // The recorded split is only the held-out part of a dataset the version was trained on.
            let info = try await session.dataset(datasetReference)
            let record = try await session.model(modelReference)
            guard record.lineage.contains(where: { $0.dataset == info.name && $0.version == info.version }) else {
                throw RegistryError.invalid
            }
        }
        let csv = try Self.singleCSV(inputs.dataset)
        return try await Self.offPool { cancellation in
            let trained = try TrainedModel(files: inputs.model)
            guard !cancellation.isCancelled else { throw CancellationError() }
            let data = try Dataset.csv(csv, label: request.label ?? trained.config.labelColumn)
            guard holdout else { return try trained.evaluate(data) }
            guard let rows = try trained.heldOutRows(of: data) else { throw RegistryError.invalid }
            return try trained.evaluate(rows)
        }
    }

    /// `predict`: the caller's rows through a verified version.
    func predict(
        model: String, version: String, _ request: PredictRequest, session: VaultSession
    ) async throws -> PredictRequest {
        let files = try await session.predictionModel(try Self.modelReference(model, version))
        let rows = Data(request.csv.utf8)
        return try await Self.offPool { cancellation in
            let trained = try TrainedModel(files: files)
            guard !cancellation.isCancelled else { throw CancellationError() }
            return PredictRequest(csv: trained.predictionsCSV(try trained.predict(csv: rows)))
        }
    }

    /// The one CSV of a dataset version.
    static func singleCSV(_ files: [String: Data]) throws -> Data {
        let csvs = files.keys.filter { $0.lowercased().hasSuffix(".csv") }.sorted()
        if let only = csvs.first, csvs.count == 1 { return files[only]! }
        if files.count == 1, let only = files.values.first { return only }
        throw RegistryError.invalid
    }

    /// Runs CPU-bound ML work on the blocking pool, off Swift's cooperative pool; ML errors are invalid input.
    ///
    /// Cancelling the calling task (the server cancels a job whose client went away) sets the work's
    /// ``JobCancellation``, which training checks at every mini-batch: the thread is given back within one batch
    /// and this throws `CancellationError`, so the caller's job slot is freed then, not when the epochs would end.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable (JobCancellation) throws -> T) async throws -> T {
        let cancellation = JobCancellation()
        return try await withTaskCancellationHandler {
            do {
                return try await BlockingExecutor.shared.run { try work(cancellation) }
            } catch let error as MLError where error.code == .cancelled {
                throw CancellationError()
            } catch is MLError {
                throw RegistryError.invalid
            }
        } onCancel: {
            cancellation.cancel()
        }
    }
}
