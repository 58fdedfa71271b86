import Crypto
import Foundation

/// `manifest.json` of a model version: what the vault signs beside the file digests.
///
/// The signed OpenSSF statement lists every model file plus the reserved entry `.modelvault/manifest.json`
/// carrying this document's SHA-256, so lineage, metrics and provenance are covered by the same signature.
struct VersionManifest: Codable, Sendable, Equatable {
    struct File: Codable, Sendable, Equatable {
        var path: String
        var size: Int
        var sha256: String
    }

    /// The schema version: bumped only for changes old readers must not accept; readers refuse a newer one.
    var format: Int = VersionManifest.currentFormat
    var model: String
    var version: Int
    var createdAt: String
    var createdBy: String
    var source: String
    var files: [File]
    var lineage: [LineageEntry]
    var metrics: JSONValue?
    var publisher: String?
    /// Room for fields later work adds without a new schema version (scan results under `scan`, an ONNX
    /// signature under `onnxSignature`, ...): namespaced by key, covered by the signature, ignored by readers
    /// that do not know a key.
    var extensions: [String: JSONValue]?

    static let currentFormat = 1

    static let signedPath = VaultNames.reservedPrefix + "manifest.json"
    static let fileName = "manifest.json"
    static let signatureFileName = "model.sig"

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// The entries to sign for this manifest's encoded bytes.
    func signedEntries(manifestBytes: Data) -> [SignedEntry] {
        var entries = files.map { SignedEntry(path: $0.path, sha256: [UInt8](hex: $0.sha256) ?? []) }
        entries.append(SignedEntry(path: Self.signedPath, sha256: Array(SHA256.hash(data: manifestBytes))))
        return entries.sorted { $0.path < $1.path }
    }
}
