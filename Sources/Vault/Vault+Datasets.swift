import Crypto
public import Foundation
import GRDB

extension Vault {
    /// Stores a new version of dataset `name` from files on disk (each kept under its own file name),
    /// encrypted per file under `data/raw` (or `data/processed`).
    /// `progress` hears the plaintext bytes encrypted so far.
    public func addDataset(
        _ name: String, files: [URL], processed: Bool = false, description: String? = nil,
        context: RequestContext = .local, progress: ProgressHandler? = nil
    ) async throws -> DatasetVersionInfo {
        guard !files.isEmpty else { throw VaultError(.emptyInput, "no dataset files given") }
        return try await addDataset(
            name, sources: files.map { ($0.lastPathComponent, .file($0)) }, processed: processed,
            description: description, context: context, progress: progress)
    }

    /// Stores a new version of dataset `name` from files held in memory, by relative path.
    public func addDataset(
        _ name: String, contents: [String: Data], processed: Bool = false, description: String? = nil,
        context: RequestContext = .local
    ) async throws -> DatasetVersionInfo {
        guard !contents.isEmpty else { throw VaultError(.emptyInput, "no dataset files given") }
        return try await addDataset(
            name, sources: contents.keys.sorted().map { ($0, .memory(contents[$0]!)) }, processed: processed,
            description: description, context: context)
    }

    private func addDataset(
        _ name: String, sources: [(path: String, source: FileSource)], processed: Bool, description: String?,
        context: RequestContext, progress: ProgressHandler? = nil
    ) async throws -> DatasetVersionInfo {
        try VaultNames.validate(name, kind: "dataset name")
        try Self.checkInputFiles(sources)
        let key = try catalog.read { db in try KeyVersionRow.current(db) }
        let area = try StagingArea(in: layout.staging)
        let staged = try await stage(sources, into: area, recipient: key.recipient, progress: progress)
        let digest = Self.datasetDigest(staged.map { ($0.path, $0.digest.hex) })
        let layout = self.layout
        let signer = self.signer
        let signingKey = keyRing.signingKey
        var movedTo: URL?
        let version: Int
        do {
            version = try catalog.write { db -> Int in
                try Self.requireUsable(keyVersion: key.version, db)
                let now = CatalogTime.now()
                let datasetID: Int64
                if let id = try DatasetRows.id(named: name, db) {
                    datasetID = id
                } else {
                    datasetID = try DatasetRows.insert(name: name, createdAt: now, db)
                }
                let version = (try DatasetVersionRow.highestVersion(ofDataset: datasetID, db) ?? 0) + 1
                // The signed manifest goes in with the files: `data get`, `train` and `evaluate` check it.
                let manifest = DatasetManifest(
                    dataset: name, version: version, processed: processed, description: description, digest: digest,
                    createdAt: now, createdBy: context.principal,
                    files: staged.map { .init(path: $0.path, size: $0.digest.size, sha256: $0.digest.hex) })
                let manifestBytes = try manifest.encoded()
                let bundle = try signer.sign(
                    manifest.signedEntries(manifestBytes: manifestBytes), modelName: "dataset/\(name)@\(version)",
                    privateKeyPEM: signingKey)
                try VaultFiles.writeAtomically(
                    manifestBytes, to: area.directory.appending(path: DatasetManifest.fileName))
                try VaultFiles.writeAtomically(
                    bundle, to: area.directory.appending(path: DatasetManifest.signatureFileName))
                let final = layout.datasetVersion(name, version, processed: processed)
                VaultFiles.remove(final)
                try VaultFiles.makeDirectory(final.deletingLastPathComponent())
                try VaultFiles.move(area.directory, to: final)
                movedTo = final
                let versionID = try DatasetVersionRow.insert(
                    datasetID: datasetID, version: version, processed: processed, description: description,
                    digest: digest, createdAt: now, createdBy: context.principal, db)
                let files = staged.map {
                    StoredFile(
                        path: $0.path, size: $0.digest.size, sha256: $0.digest.hex,
                        blobPath: layout.relative(final.appending(path: $0.path + ".age")), keyVersion: key.version,
                        headerSHA256: $0.headerSHA256)
                }
                try StoredFile.insert(files, db, table: "dataset_files", versionID: versionID)
                return version
            }
        } catch {
            if let movedTo { VaultFiles.remove(movedTo) }
            throw error
        }
        return try dataset(try DatasetReference(name: name, version: version))
    }

    /// The content digest of a dataset version: SHA-256 over `path NUL sha256-hex LF` lines sorted by path.
    static func datasetDigest(_ files: [(path: String, sha256: String)]) -> String {
        var hasher = SHA256()
        for file in files.sorted(by: { $0.path < $1.path }) {
            hasher.update(data: Data("\(file.path)\0\(file.sha256)\n".utf8))
        }
        return Array(hasher.finalize()).hexString
    }

    /// Every dataset with its latest version.
    public func datasets() throws -> [DatasetSummary] {
        try catalog.read { db in try DatasetRows.summaries(db) }
    }

    /// Details of one dataset version.
    public func dataset(_ reference: DatasetReference) throws -> DatasetVersionInfo {
        try catalog.read { db in
            let resolved = try Self.resolveDataset(reference, db)
            guard let row = try DatasetVersionRecord.find(id: resolved.id, db) else {
                throw VaultError(.notFound, "no dataset version \(reference)")
            }
            return DatasetVersionInfo(
                name: reference.name, version: row.version, processed: row.processed,
                description: row.description, digest: row.digest, createdAt: row.createdAt,
                createdBy: row.createdBy,
                files: try StoredFile.fetch(db, table: "dataset_files", versionID: resolved.id).map(\.info))
        }
    }

    static func resolveDataset(
        _ reference: DatasetReference, _ db: Database
    ) throws -> (
        id: Int64, lineage: LineageEntry
    ) {
        guard let datasetID = try DatasetRows.id(named: reference.name, db) else {
            throw VaultError(.notFound, "no dataset named \(reference.name)")
        }
        let row =
            if let version = reference.version {
                try DatasetVersionRow.version(version, ofDataset: datasetID, db)
            } else {
                try DatasetVersionRow.latest(ofDataset: datasetID, db)
            }
        guard let row else { throw VaultError(.notFound, "no dataset version \(reference)") }
        return (row.id, LineageEntry(dataset: reference.name, version: row.version, digest: row.digest))
    }

    /// Reads a dataset version's files into memory, checking each digest and the version digest (the ML
    /// engine trains from memory, so plaintext never lands on disk).
    public func readDataset(_ reference: DatasetReference) async throws -> [String: Data] {
        let (info, files) = try datasetFiles(reference)
        var result: [String: Data] = [:]
        for file in files {
            guard let sealed = FileManager.default.contents(atPath: layout.url(file.blobPath).path),
                let plaintext = try? suite.decrypt(sealed, using: keyRing.allIdentities)
            else { throw Self.undecryptableDataset(file, info) }
            try Self.checkDataset(FileDigest(of: plaintext), of: file, info)
            result[file.path] = plaintext
        }
        return result
    }

    /// Decrypts a dataset version into `directory` (which must not exist or be empty), checking digests;
    /// all files appear together or none does. `progress` hears the bytes decrypted so far.
    @discardableResult
    public func getDataset(
        _ reference: DatasetReference, to directory: URL, progress: ProgressHandler? = nil
    ) async throws -> DatasetVersionInfo {
        let (info, files) = try datasetFiles(reference)
        let suite = self.suite
        let identities = keyRing.allIdentities
        let layout = self.layout
        try await Self.decryptFiles(
            files, to: directory, suite: suite, identities: identities, layout: layout,
            undecryptable: { Self.readFailure($1, of: $0.path, in: "\(info.reference)") },
            check: { try Self.checkDataset($0, of: $1, info) }, progress: progress)
        return info
    }

    private func datasetFiles(_ reference: DatasetReference) throws -> (DatasetVersionInfo, [StoredFile]) {
        let info = try dataset(reference)
        let (files, builtOnOtherDigest) = try catalog.read { db in
            let id = try Self.resolveDataset(reference, db).id
            // Model versions record the digest they were trained on; the dataset must still have it.
            let stale = try LineageRows.countRecordingOtherDigest(ofDatasetVersion: id, than: info.digest, db)
            return (try StoredFile.fetch(db, table: "dataset_files", versionID: id), stale)
        }
        guard Self.datasetDigest(files.map { ($0.path, $0.sha256) }) == info.digest else {
            throw VaultError(.tampered, "the file list of \(info.reference) does not match its digest")
        }
        guard builtOnOtherDigest == 0 else {
            throw VaultError(
                .tampered, "dataset \(info.reference) no longer matches the lineage digest of models built from it")
        }
        try checkSignedManifest(of: info, files: files)
        // A rotation in another process may have moved the files since this one unlocked: follow its key chain.
        if files.contains(where: { keyRing.identities[$0.keyVersion] == nil }) { try followKeyChain() }
        for file in files where keyRing.identities[file.keyVersion] == nil {
            throw VaultError(.keyUnavailable, "vault key version \(file.keyVersion) is not unlocked")
        }
        return (info, files)
    }

    private static func checkDataset(_ digest: FileDigest, of file: StoredFile, _ info: DatasetVersionInfo) throws {
        guard digest.hex == file.sha256, digest.size == file.size else {
            throw VaultError(
                .digestMismatch, "digest mismatch for \(file.path) in \(info.reference): the stored file was modified")
        }
    }

    private static func undecryptableDataset(_ file: StoredFile, _ info: DatasetVersionInfo) -> VaultError {
        VaultError(
            .decryptionFailed,
            "cannot decrypt \(file.path) of \(info.reference): the stored file is damaged or tampered")
    }
}
