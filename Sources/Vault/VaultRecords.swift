/// One file of a stored version: its path inside the version, plaintext size and SHA-256, and the vault key
/// version its blob is currently wrapped for.
public struct VaultFileInfo: Sendable, Codable, Equatable {
    /// The relative path inside the version.
    public var path: String
    /// The plaintext size in bytes.
    public var size: Int
    /// The plaintext SHA-256, lower-case hex.
    public var sha256: String
    /// The vault key version the blob's header is wrapped for.
    public var keyVersion: Int
}

/// A dataset version a model version was trained or evaluated on, pinned by content digest.
public struct LineageEntry: Sendable, Codable, Equatable {
    /// The dataset's name.
    public var dataset: String
    /// The dataset version.
    public var version: Int
    /// The dataset version's content digest (SHA-256 over its files' paths and digests), hex.
    public var digest: String
}

/// One stored dataset version.
public struct DatasetVersionInfo: Sendable, Codable, Equatable {
    /// The dataset's name.
    public var name: String
    /// The version number.
    public var version: Int
    /// Whether it lives under `data/processed` (otherwise `data/raw`).
    public var processed: Bool
    /// A free-text description.
    public var description: String?
    /// The content digest over the files' paths and digests, hex.
    public var digest: String
    /// When it was stored (ISO 8601).
    public var createdAt: String
    /// Who stored it.
    public var createdBy: String
    /// Its files.
    public var files: [VaultFileInfo]
    /// `NAME@VERSION`.
    public var reference: String { "\(name)@\(version)" }
}

/// A dataset and its versions at a glance.
public struct DatasetSummary: Sendable, Codable, Equatable {
    /// The dataset's name.
    public var name: String
    /// The highest version number.
    public var latestVersion: Int
    /// How many versions are stored.
    public var versionCount: Int

    /// A dataset summary (as the server's API reports it to a remote client).
    public init(name: String, latestVersion: Int, versionCount: Int) {
        self.name = name
        self.latestVersion = latestVersion
        self.versionCount = versionCount
    }
}

/// One stored model version.
public struct ModelVersionInfo: Sendable, Codable, Equatable {
    /// The model's name.
    public var name: String
    /// The version number.
    public var version: Int
    /// When it was pushed (ISO 8601).
    public var createdAt: String
    /// Who pushed it.
    public var createdBy: String
    /// Where it came from: `push`, `memory` or `fernet-import`.
    public var source: String
    /// The fingerprint (SHA-256 of the public key's DER, hex) of the vault key that signed the manifest.
    public var signer: String
    /// The fingerprint of the publisher key whose signature was verified on push, if any.
    public var publisher: String?
    /// The SHA-256 of the signed manifest file, hex.
    public var manifestSHA256: String
    /// Metrics supplied on push.
    public var metrics: JSONValue?
    /// Its files.
    public var files: [VaultFileInfo]
    /// The dataset versions it came from.
    public var lineage: [LineageEntry]
    /// Aliases currently pointing at it.
    public var aliases: [String]
    /// The model scanner's record from the signed manifest: filled by `model.show` of one version (nil there
    /// means never scanned), nil elsewhere.
    public var scan: ModelScanRecord? = nil
    /// The signed manifest's format metadata (an ONNX model's signature under `onnxSignature`): filled by
    /// `model.show` of one version when there is any, nil elsewhere.
    public var extensions: [String: JSONValue]? = nil
    /// `NAME@VERSION`.
    public var reference: String { "\(name)@\(version)" }
    /// The total plaintext size.
    public var totalSize: Int { files.reduce(0) { $0 + $1.size } }
}

/// A model and its versions at a glance.
public struct ModelSummary: Sendable, Codable, Equatable {
    /// The model's name.
    public var name: String
    /// The highest version number.
    public var latestVersion: Int
    /// How many versions are stored.
    public var versionCount: Int
    /// Every stored version number, ascending.
    public var versions: [Int]
    /// Alias name to version number.
    public var aliases: [String: Int]

    /// A model with the given versions (ascending, at least one) and aliases.
    public init(name: String, versions: [Int], aliases: [String: Int]) {
        self.name = name
        self.latestVersion = versions.last ?? 0
        self.versionCount = versions.count
        self.versions = versions
        self.aliases = aliases
    }
}

/// One move of an alias.
public struct AliasChange: Sendable, Codable, Equatable {
    /// The alias.
    public var alias: String
    /// The version it pointed at before, if any.
    public var fromVersion: Int?
    /// The version it points at after, or `nil` when the alias was removed.
    public var toVersion: Int?
    /// When (ISO 8601).
    public var changedAt: String
    /// By whom.
    public var changedBy: String
}

/// One vault key version.
public struct KeyVersionInfo: Sendable, Codable, Equatable {
    /// The version number.
    public var version: Int
    /// Its public age recipient.
    public var recipient: String
    /// When it was created (ISO 8601).
    public var createdAt: String
    /// `active` (new files use it), `retiring` (older, still wraps files) or `retired` (no file uses it).
    public var state: String
    /// How many stored files are wrapped for it.
    public var fileCount: Int
}

/// What a key rotation did.
public struct RotationReport: Sendable, Equatable {
    /// The key version files were moved to.
    public var keyVersion: Int
    /// Files re-wrapped or re-encrypted in this run.
    public var filesMoved: Int
    /// Whether payloads were re-encrypted under fresh file keys.
    public var reencrypted: Bool
    /// Key versions retired because no file uses them any more.
    public var retiredVersions: [Int]
    /// Whether this run resumed an interrupted rotation.
    public var resumed: Bool
}
