import Crypto
import Foundation

/// `manifest.json` of a dataset version, signed like a model version's (`dataset.sig`, OpenSSF format): the
/// statement lists every file's SHA-256 plus the reserved entry `.modelvault/manifest.json` carrying this
/// document's SHA-256, so the dataset's name, version and content digest are covered by the vault signature.
struct DatasetManifest: Codable, Sendable, Equatable {
    /// The schema version; readers refuse a newer one.
    var format: Int = VersionManifest.currentFormat
    var dataset: String
    var version: Int
    var processed: Bool
    var description: String?
    /// The version's content digest (``Vault/datasetDigest(_:)``), as recorded in the catalog and in lineage.
    var digest: String
    var createdAt: String
    var createdBy: String
    var files: [VersionManifest.File]
    /// Room for later fields, as in ``VersionManifest/extensions``.
    var extensions: [String: JSONValue]?

    static let fileName = "manifest.json"
    static let signatureFileName = "dataset.sig"

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// The entries to sign for this manifest's encoded bytes.
    func signedEntries(manifestBytes: Data) -> [SignedEntry] {
        var entries = files.map { SignedEntry(path: $0.path, sha256: [UInt8](hex: $0.sha256) ?? []) }
        entries.append(
            SignedEntry(path: VersionManifest.signedPath, sha256: Array(SHA256.hash(data: manifestBytes))))
        return entries.sorted { $0.path < $1.path }
    }
}

extension Vault {
    /// Checks a dataset version's signed manifest against the vault signing key and the catalog: the signature,
    /// that it covers the manifest, and that name, version, digest and files are the catalog's.
    func checkSignedManifest(of info: DatasetVersionInfo, files: [StoredFile]) throws {
        let label = info.reference
        let directory = layout.datasetVersion(info.name, info.version, processed: info.processed)
        guard
            let manifestBytes = FileManager.default.contents(
                atPath: directory.appending(path: DatasetManifest.fileName).path(percentEncoded: false))
        else { throw VaultError(.tampered, "the signed manifest of dataset \(label) is missing") }
        guard
            let bundle = FileManager.default.contents(
                atPath: directory.appending(path: DatasetManifest.signatureFileName).path(percentEncoded: false))
        else { throw VaultError(.tampered, "the signature of dataset \(label) is missing") }
        guard let signed = try verifiedEntries(of: bundle) else {
            throw VaultError(.signatureInvalid, "the signature of dataset \(label) does not verify with the vault key")
        }
        guard let manifest = try? JSONDecoder().decode(DatasetManifest.self, from: manifestBytes),
            manifest.format <= VersionManifest.currentFormat
        else { throw VaultError(.tampered, "the manifest of dataset \(label) is unreadable") }
        guard Set(signed) == Set(manifest.signedEntries(manifestBytes: manifestBytes)) else {
            throw VaultError(.signatureInvalid, "the signature of dataset \(label) does not cover its manifest")
        }
        let catalogFiles = files.map { VersionManifest.File(path: $0.path, size: $0.size, sha256: $0.sha256) }
        guard manifest.dataset == info.name, manifest.version == info.version, manifest.digest == info.digest,
            manifest.processed == info.processed,
            manifest.files.sorted(by: { $0.path < $1.path }) == catalogFiles.sorted(by: { $0.path < $1.path })
        else { throw VaultError(.tampered, "the catalog entry of dataset \(label) does not match its signed manifest") }
    }
}
