public import Foundation
import ModelScan
import Vault
public import VaultServer

extension VaultRegistry {
    /// Pushes the staged files as a new version (scanned, encrypted and signed as by `model push`), then moves the
    /// alias if one is named; a refused alias is checked first, so it leaves no new version behind.
    public func pushModelVersion(
        named name: String, fromDirectory directory: URL, alias: String?, principal: String
    ) async throws -> RegistryModelVersion {
        try await pushing(name, alias: alias, principal: principal) { session in
            try await session.pushModel(name, from: .path(directory))
        }
    }

    /// The same while the upload arrives: each file is scanned and encrypted as soon as it is whole, while the next
    /// one is received (``ModelSource/arriving(root:paths:describe:)``), with the lineage, metrics, publisher
    /// signature and scan options `model push` takes locally.
    public func pushModelVersion(
        named name: String, fromDirectory directory: URL, arriving paths: AsyncThrowingStream<String, any Error>,
        options: UploadedPushOptions, principal: String
    ) async throws -> RegistryModelVersion {
        try await pushing(name, alias: options.alias, principal: principal) { session in
            let datasets = try options.datasets.map { try DatasetReference(parsing: $0) }
            var metrics: JSONValue?
            if let bytes = options.metrics {
                guard let value = try? JSONDecoder().decode(JSONValue.self, from: bytes) else {
                    throw RegistryError.invalid
                }
                metrics = value
            }
            var publisher: PublisherSignature?
            if let bundle = options.publisherSignature, let key = options.publisherKey {
                publisher = PublisherSignature(bundle: bundle, publicKeyPEM: String(decoding: key, as: UTF8.self))
            }
            var policy = ScanPolicy.default
            if let name = options.scanPolicy {
                guard let named = ScanPolicy(rawValue: name) else { throw RegistryError.invalid }
                policy = named
            }
            return try await session.pushModel(
                name, from: .arriving(root: directory, paths: paths, describe: Self.onnxExtensions), datasets: datasets,
                metrics: metrics, publisherSignature: publisher,
                scan: ModelScanOptions(policy: policy, accept: options.accept))
        }
    }

    /// An uploaded ONNX model's signature for the signed manifest, as a local push records it; a model the
    /// interpreter cannot run is refused (HTTP 400) as `model push` refuses it locally.
    @Sendable static func onnxExtensions(_ directory: URL) throws -> [String: JSONValue] {
        do {
            return try ONNXManifestExtension.extensions(forModelAt: directory)
        } catch is ONNXPushRefusal {
            throw RegistryError.invalid
        }
    }

    /// Writes a version re-wrapped for `recipient` into `directory`; no plaintext leaves the vault.
    public func pullModelVersion(
        named name: String, version: String, recipient: String, into directory: URL, principal: String
    ) async throws {
        try await pullModelVersion(
            named: name, version: version, recipient: recipient, decryptedByCaller: false, into: directory,
            principal: principal)
    }

    /// The same; a caller that decrypts the files itself needs `model.pull`, as the same command needs locally.
    public func pullModelVersion(
        named name: String, version: String, recipient: String, decryptedByCaller: Bool, into directory: URL,
        principal: String
    ) async throws {
        try await mappingErrors {
            let session = try access.session(forPrincipal: principal)
            if decryptedByCaller, !session.isAllowed(.modelPull, on: .model(name)) { throw RegistryError.forbidden }
            try await session.pullModel(try Self.modelReference(name, version), for: recipient, to: directory)
        }
    }

    /// The same pull streamed with nothing staged: authorised and audited (one attempt) before this returns; each
    /// file is checked as it is opened, before its new header leaves, and then sent as that header and the stored
    /// payload (`VaultSession.streamModel`): decrypted in memory against the signed manifest, or, for a caller that
    /// decrypts and checks the files itself, by the header the vault recorded and the payload's length.
    public func streamModelVersion(
        named name: String, version: String, recipient: String, decryptedByCaller: Bool, principal: String
    ) async throws -> StreamedDownload? {
        try await mappingErrors {
            let session = try access.session(forPrincipal: principal)
            if decryptedByCaller, !session.isAllowed(.modelPull, on: .model(name)) { throw RegistryError.forbidden }
            let stream = try await session.streamModel(
                try Self.modelReference(name, version), for: recipient, checkedByReceiver: decryptedByCaller)
            return StreamedDownload(
                files: stream.entries.map { StreamedDownload.File(path: $0.path, size: $0.size) },
                open: { index in
                    let source = try stream.open(stream.entries[index])
                    let body = source.body
                    return StreamedDownload.Source(head: source.head, bodyCount: body?.payloadCount ?? 0) {
                        buffer, offset in
                        try body?.readPayload(into: buffer, at: offset) ?? 0
                    }
                },
                finish: { error in await stream.finish(error) })
        }
    }

    /// Stores the staged files as a new dataset version (`data add`).
    public func addDatasetVersion(
        named name: String, fromDirectory directory: URL, description: String?, processed: Bool, principal: String
    ) async throws -> RegistryRecord {
        try await mappingErrors {
            let session = try access.session(forPrincipal: principal)
            let files = try FileManager.default.contentsOfDirectory(
                at: directory, includingPropertiesForKeys: nil
            ).sorted { $0.lastPathComponent < $1.lastPathComponent }
            return try await session.addDataset(name, files: files, processed: processed, description: description)
        }
    }

    /// Decrypts a dataset version into `directory` (`data get`).
    public func getDatasetVersion(
        named name: String, version: String, into directory: URL, principal: String
    ) async throws {
        try await mappingErrors {
            let session = try access.session(forPrincipal: principal)
            try await session.getDataset(try Self.datasetReference(name, version), to: directory)
        }
    }

    /// `NAME@V` for a version number, `NAME:ALIAS` otherwise.
    static func modelReference(_ name: String, _ version: String) throws -> ModelReference {
        try ModelReference(parsing: Int(version) != nil ? "\(name)@\(version)" : "\(name):\(version)")
    }

    /// A dataset version number, or `latest`.
    static func datasetReference(_ name: String, _ version: String) throws -> DatasetReference {
        if version == "latest" { return try DatasetReference(name: name) }
        guard let number = Int(version) else { throw RegistryError.invalid }
        return try DatasetReference(name: name, version: number)
    }
}
