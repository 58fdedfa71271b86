import BlockingWork
public import Foundation
import GRDB

/// What a model version is pushed from.
public enum ModelSource: Sendable {
    /// A file or a directory on disk (every regular file below it, symbolic links refused).
    case path(URL)
    /// Files held in memory, by relative path: the trainer's output, so plaintext weights never touch disk.
    case files([String: Data])
    /// Files a client sent through the server's API: stored as a push, like a directory pushed locally.
    case received([String: Data])
    /// Files a client is still sending through the server's API: `paths` yields each one's path below `root` once
    /// the file is whole on disk, then ``ModelSource/endOfUpload`` once the upload has arrived whole (or throws its
    /// failure). Each file is scanned and encrypted while the next one arrives; the version is committed only after
    /// the end marker, as a directory push is: a stream that ends without it stores nothing.
    /// `describe` runs once every file is there and gives format metadata for the signed manifest (an ONNX
    /// signature); what it throws refuses the push.
    case arriving(
        root: URL, paths: AsyncThrowingStream<String, any Error>,
        describe: @Sendable (URL) throws -> [String: JSONValue] = { _ in [:] })
}

extension ModelSource {
    /// What an arriving upload's path stream yields once every file has arrived (no file has an empty path).
    public static let endOfUpload = ""
}

/// A publisher's OpenSSF model signature to check before a push is accepted.
public struct PublisherSignature: Sendable {
    /// The Sigstore bundle (the `model.sig` file).
    public var bundle: Data
    /// The publisher's public key, PEM (P-256, P-384 or P-521).
    public var publicKeyPEM: String
    /// The signature file's own path inside a pushed directory, excluded from the model's files.
    public var pathInsideModel: String?

    /// A signature to check with `publicKeyPEM`.
    public init(bundle: Data, publicKeyPEM: String, pathInsideModel: String? = nil) {
        self.bundle = bundle
        self.publicKeyPEM = publicKeyPEM
        self.pathInsideModel = pathInsideModel
    }
}

extension Vault {
    /// Files model-signing tools ignore by default; a pushed directory's copies of them are not model files.
    static let ignoredModelFiles: Set<String> = [".git", ".gitattributes", ".github", ".gitignore"]

    /// Pushes a new version of model `name`: hashes and encrypts every file, checks the publisher's signature
    /// when given, signs the version's manifest with the vault key and records the version atomically.
    ///
    /// - Parameter extensions: format metadata to record in the signed manifest (such as an ONNX signature under
    ///   `onnxSignature`), by namespace key.
    /// - Parameter progress: hears the plaintext bytes hashed and encrypted so far, out of the files' total.
    /// - Returns: the stored version (its number allocated by the catalog: concurrent pushes get distinct ones).
    public func pushModel(
        _ name: String, from source: ModelSource, datasets: [DatasetReference] = [], metrics: JSONValue? = nil,
        publisherSignature: PublisherSignature? = nil, extensions: [String: JSONValue] = [:],
        scan: ModelScanOptions = .standard,
        context: RequestContext = .local, progress: ProgressHandler? = nil
    ) async throws -> ModelVersionInfo {
        try await pushModel(
            name, from: source, datasets: datasets, metrics: metrics, publisherSignature: publisherSignature,
            sourceLabel: { if case .files = source { "memory" } else { "push" } }(), extensions: extensions,
            scan: scan, context: context, progress: progress)
    }

    func pushModel(
        _ name: String, from source: ModelSource, datasets: [DatasetReference], metrics: JSONValue?,
        publisherSignature: PublisherSignature?, sourceLabel: String, extensions: [String: JSONValue] = [:],
        scan: ModelScanOptions? = .standard,
        context: RequestContext, progress: ProgressHandler? = nil
    ) async throws -> ModelVersionInfo {
        try VaultNames.validate(name, kind: "model name")
        if let metrics, case .object = metrics {
        } else if metrics != nil {
            throw VaultError(.invalidMetrics, "metrics must be a JSON object")
        }
        var ignored = Self.ignoredModelFiles
        if let inside = publisherSignature?.pathInsideModel { ignored.insert(inside) }
        let sources: [(path: String, source: FileSource)]
        switch source {
        case .path(let url):
            sources = try Self.openedSources(at: url, ignoring: ignored)
        case .files(let files), .received(let files):
            guard !files.isEmpty else { throw VaultError(.emptyInput, "no model files given") }
            sources = files.keys.sorted().map { ($0, .memory(files[$0]!)) }
        case .arriving:
            sources = []
        }
        var unique: [DatasetReference] = []
        for reference in datasets where !unique.contains(reference) { unique.append(reference) }
        // Unknown lineage fails before any work.
        let key = try catalog.read { db in
            for reference in unique { _ = try Self.resolveDataset(reference, db) }
            return try KeyVersionRow.current(db)
        }
        let area: StagingArea
        let staged: [StagedFile]
        var scanRecord: ModelScanRecord?
        var extensions = extensions
        if case .arriving(let root, let paths, let describe) = source {
            (area, staged, scanRecord) = try await stageArriving(
                paths, below: root, ignoring: ignored, recipient: key.recipient, scan: scan,
                principal: context.principal)
            // Parsing a large model blocks: off the cooperative pool.
            let described = try await BlockingExecutor.shared.run { try describe(root) }
            extensions.merge(described) { given, _ in given }
        } else {
            // Scanned before anything is staged: a refused file never reaches the vault directory.
            // (nil only in tests: a version as stored before the scanner existed.)
            let scannedFiles = Self.identities(sources)
            if let scan {
                scanRecord = try await Self.scanOffPool(sources, options: scan, principal: context.principal)
            }
            area = try StagingArea(in: layout.staging)
            staged = try await stage(sources, into: area, recipient: key.recipient, progress: progress)
            try Self.requireUnchanged(sources, since: scannedFiles)
        }
        var publisher: String?
        if let publisherSignature {
            try checkPublisher(publisherSignature, against: staged)
            publisher = Self.fingerprint(ofPEM: publisherSignature.publicKeyPEM)
        }
        return try commitModel(
            name, staged: staged, area: area, keyVersion: key.version, datasets: unique, metrics: metrics,
            publisher: publisher, sourceLabel: sourceLabel,
            extensions: try extensions.merging(
                try scanRecord.map { [Self.scanExtensionKey: try Self.extensionValue($0)] } ?? [:]
            ) { _, scanned in scanned },
            context: context)
    }

    private func checkPublisher(_ signature: PublisherSignature, against staged: [StagedFile]) throws {
        let signed: [SignedEntry]
        do {
            signed = try signer.verify(signature.bundle, publicKeyPEM: signature.publicKeyPEM)
        } catch {
            throw VaultError(.publisherSignatureInvalid, "the publisher's signature does not verify with the given key")
        }
        // A single-file model is signed as one entry named ".", as the reference tool names it.
        if staged.count == 1, signed.count == 1, signed[0].path == "." {
            guard signed[0].sha256 == staged[0].digest.sha256 else {
                throw VaultError(.publisherSignatureInvalid, "publisher signature mismatch for \(staged[0].path)")
            }
            return
        }
        let expected = Dictionary(signed.map { ($0.path, $0.sha256) }, uniquingKeysWith: { first, _ in first })
        for file in staged {
            guard let digest = expected[file.path] else {
                throw VaultError(.publisherSignatureInvalid, "publisher signature does not cover \(file.path)")
            }
            guard digest == file.digest.sha256 else {
                throw VaultError(.publisherSignatureInvalid, "publisher signature mismatch for \(file.path)")
            }
        }
        let present = Set(staged.map(\.path))
        if let missing = signed.map(\.path).sorted().first(where: { !present.contains($0) }) {
            throw VaultError(.publisherSignatureInvalid, "file signed by the publisher is missing: \(missing)")
        }
    }

    /// Allocates the version number, signs the manifest, moves the staged directory into place and records
    /// the version, all inside one immediate transaction.
    private func commitModel(
        _ name: String, staged: [StagedFile], area: StagingArea, keyVersion: Int, datasets: [DatasetReference],
        metrics: JSONValue?, publisher: String?, sourceLabel: String, extensions: [String: JSONValue],
        context: RequestContext
    ) throws -> ModelVersionInfo {
        let layout = self.layout
        let signer = self.signer
        let signingKey = keyRing.signingKey
        let signerFingerprint = Self.fingerprint(ofPEM: keyRing.signingPublicKey)
        var movedTo: URL?
        let version: Int
        do {
            version = try catalog.write { db -> Int in
                try Self.requireUsable(keyVersion: keyVersion, db)
                let lineage = try datasets.map { try Self.resolveDataset($0, db).lineage }
                let now = CatalogTime.now()
                let modelID: Int64
                if let id = try ModelRows.id(named: name, db) {
                    modelID = id
                } else {
                    modelID = try ModelRows.insert(name: name, createdAt: now, db)
                }
                let version = (try ModelVersionRow.highestVersion(ofModel: modelID, db) ?? 0) + 1
                let manifest = VersionManifest(
                    model: name, version: version, createdAt: now, createdBy: context.principal, source: sourceLabel,
                    files: staged.map { .init(path: $0.path, size: $0.digest.size, sha256: $0.digest.hex) },
                    lineage: lineage, metrics: metrics, publisher: publisher,
                    extensions: extensions.isEmpty ? nil : extensions)
                let manifestBytes = try manifest.encoded()
                let bundle = try signer.sign(
                    manifest.signedEntries(manifestBytes: manifestBytes), modelName: "\(name)@\(version)",
                    privateKeyPEM: signingKey)
                try VaultFiles.writeAtomically(
                    manifestBytes, to: area.directory.appending(path: VersionManifest.fileName))
                try VaultFiles.writeAtomically(
                    bundle, to: area.directory.appending(path: VersionManifest.signatureFileName))
                let final = layout.modelVersion(name, version)
                // A directory already there is an orphan of a crashed push: we hold the write lock.
                VaultFiles.remove(final)
                try VaultFiles.makeDirectory(final.deletingLastPathComponent())
                try VaultFiles.move(area.directory, to: final)
                movedTo = final
                let versionID = try ModelVersionRow.insert(
                    modelID: modelID, version: version, manifestSHA256: FileDigest(of: manifestBytes).hex,
                    signer: signerFingerprint, publisher: publisher,
                    metrics: try metrics.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) },
                    source: sourceLabel, createdAt: now, createdBy: context.principal, db)
                let files = staged.map {
                    StoredFile(
                        path: $0.path, size: $0.digest.size, sha256: $0.digest.hex,
                        blobPath: layout.relative(final.appending(path: $0.path + ".age")), keyVersion: keyVersion,
                        headerSHA256: $0.headerSHA256)
                }
                try StoredFile.insert(files, db, table: "model_files", versionID: versionID)
                for (entry, reference) in zip(lineage, datasets) {
                    let datasetVersionID = try Self.resolveDataset(reference, db).id
                    try LineageRows.insert(
                        modelVersionID: versionID, datasetVersionID: datasetVersionID, entry: entry, db)
                }
                return version
            }
        } catch {
            if let movedTo { VaultFiles.remove(movedTo) }
            throw error
        }
        return try catalog.read { db in try Self.modelInfo(name: name, version: version, db) }
    }

    /// A rotation that finished while files were staged may have retired their key: refuse such a commit.
    static func requireUsable(keyVersion: Int, _ db: Database) throws {
        let state = try KeyVersionRow.state(ofVersion: keyVersion, db)
        guard let state, state != "retired" else {
            throw VaultError(.keyUnavailable, "the vault key was rotated while the files were encrypted; try again")
        }
        // During a `keys rotate --reencrypt` every old version must retire (its identity may be known): a file
        // encrypted under one, and signed with the old signing key, is not committed (F2 review, second round, F4).
        if state == "retiring", try RotationRow.hasUnfinishedReencrypting(db) {
            throw VaultError(
                .keyUnavailable,
                "the vault key is being replaced (keys rotate --reencrypt) while the files were encrypted; try again")
        }
    }
}
