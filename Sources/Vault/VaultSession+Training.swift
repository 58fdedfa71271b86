public import Foundation

/// The ML commands' own rows of the permission matrix: `train`, `evaluate` and `predict`. Each hands decrypted
/// bytes to the in-process ML engine only; none writes plaintext anywhere.
extension VaultSession {
    /// `train`: a dataset version's decrypted files, in memory, to train on. Pushing the trained model is a
    /// separate `model.push`.
    public func trainingData(_ reference: DatasetReference) async throws -> [String: Data] {
        try await perform(
            .train, on: .dataset(reference.name), resource: "dataset:\(reference)",
            resolve: { await resolved(reference) }
        ) { try await vault.readDataset(reference) }
    }

    /// `evaluate`: a verified model version and a dataset version, decrypted in memory, for metrics only.
    /// The caller must also be allowed to see the dataset (`data.show`), as for lineage.
    public func evaluationInputs(
        model: ModelReference, dataset: DatasetReference
    ) async throws -> (model: [String: Data], dataset: [String: Data]) {
        try await checkLineage([dataset])
        return try await perform(
            .evaluate, on: .model(model.name), resource: "model:\(model)", resolve: { await resolved(model) }
        ) {
            (try await vault.loadModel(model), try await vault.readDataset(dataset))
        }
    }

    /// `predict`: a verified model version in memory, to run on rows the caller supplies.
    public func predictionModel(_ reference: ModelReference) async throws -> [String: Data] {
        try await perform(
            .predict, on: .model(reference.name), resource: "model:\(reference)",
            resolve: { await resolved(reference) }
        ) { try await vault.loadModel(reference) }
    }
}

extension VaultSession {
    /// `model.private-infer`: a verified model version in memory, to evaluate on encrypted queries (the model
    /// owner) or to read its preprocessing before encrypting (the data owner).
    public func privateInferenceModel(_ reference: ModelReference) async throws -> [String: Data] {
        try await perform(
            .modelPrivateInfer, on: .model(reference.name), resource: "model:\(reference)",
            resolve: { await resolved(reference) }
        ) { try await vault.loadModel(reference) }
    }
}
