public import Foundation

/// A model in the registry listing.
public struct RegistryModelSummary: Sendable, Codable, Equatable {
    /// The model's name.
    public var name: String
    /// Its versions, oldest first.
    public var versions: [String]
    /// Alias name → version.
    public var aliases: [String: String]

    /// Creates a summary.
    public init(name: String, versions: [String], aliases: [String: String]) {
        self.name = name
        self.versions = versions
        self.aliases = aliases
    }
}

/// One model version's registry record.
public struct RegistryModelVersion: Sendable, Codable, Equatable {
    /// The version.
    public var version: String
    /// When it was pushed.
    public var created: Date
    /// Who pushed it.
    public var createdBy: String
    /// File name → hex SHA-256 of the plaintext, as signed in the manifest.
    public var files: [String: String]

    /// Creates a version record.
    public init(version: String, created: Date, createdBy: String, files: [String: String]) {
        self.version = version
        self.created = created
        self.createdBy = createdBy
        self.files = files
    }
}

/// A model with its version records.
public struct RegistryModelDetail: Sendable, Codable, Equatable {
    /// The model's name.
    public var name: String
    /// Its versions, oldest first.
    public var versions: [RegistryModelVersion]
    /// Alias name → version.
    public var aliases: [String: String]

    /// Creates a detail record.
    public init(name: String, versions: [RegistryModelVersion], aliases: [String: String]) {
        self.name = name
        self.versions = versions
        self.aliases = aliases
    }
}

/// A dataset in the registry.
public struct RegistryDataset: Sendable, Codable, Equatable {
    /// The dataset's name.
    public var name: String
    /// Its versions, oldest first.
    public var versions: [String]

    /// Creates a dataset record.
    public init(name: String, versions: [String]) {
        self.name = name
        self.versions = versions
    }
}

/// The body of `POST /v1/models/{model}/versions`: the plaintext files of a new version.
public struct PushModelRequest: Sendable, Codable, Equatable {
    /// File name → contents (base64 in JSON).
    public var files: [String: Data]
    /// An alias to point at the new version, if any.
    public var alias: String?
    /// Scanner findings to admit anyway, as `FILE#FINDING-ID` or a bare `FINDING-ID` (like the CLI's `--accept`);
    /// needs `model.scan` on the model, and each use is audited.
    public var accept: [String]?

    /// Creates a push request.
    public init(files: [String: Data], alias: String? = nil, accept: [String]? = nil) {
        self.files = files
        self.alias = alias
        self.accept = accept
    }
}

/// The body of `POST /v1/models/{model}/versions/{version}/pull`.
public struct PullModelRequest: Sendable, Codable, Equatable {
    /// The caller's age recipient (`age1...` or `age1pq1...`) to re-wrap the files for.
    public var recipient: String
    /// Whether the caller will decrypt the files itself (`model pull` without `--to`): then it needs the
    /// `model.pull` permission as well, exactly as the same command locally. Absent means false.
    public var decryptedByCaller: Bool?

    /// Creates a pull request.
    public init(recipient: String, decryptedByCaller: Bool? = nil) {
        self.recipient = recipient
        self.decryptedByCaller = decryptedByCaller
    }
}

/// A model version re-wrapped for one recipient: age files the caller decrypts with its own identity.
public struct PulledModel: Sendable, Codable, Equatable {
    /// The model's name.
    public var name: String
    /// The version pulled.
    public var version: String
    /// File name → age-encrypted contents (base64 in JSON).
    public var files: [String: Data]
    /// The signature bundle (OpenSSF model signing) of the version.
    public var signature: Data?

    /// Creates a pulled model.
    public init(name: String, version: String, files: [String: Data], signature: Data?) {
        self.name = name
        self.version = version
        self.files = files
        self.signature = signature
    }
}

/// The body of `PUT /v1/models/{model}/aliases/{alias}`.
public struct MoveAliasRequest: Sendable, Codable, Equatable {
    /// The version the alias should name.
    public var version: String

    /// Creates a move request.
    public init(version: String) {
        self.version = version
    }
}

/// A compliance report rendering.
public enum ReportFormat: String, Sendable, CaseIterable {
    /// JSON.
    case json
    /// Markdown.
    case markdown = "md"
    /// HTML.
    case html

    /// The HTTP content type of the rendering.
    public var contentType: String {
        switch self {
        case .json: "application/json"
        case .markdown: "text/markdown; charset=utf-8"
        case .html: "text/html; charset=utf-8"
        }
    }
}

/// A failure of a registry operation that maps to a client error; any other error becomes a plain 500.
public struct RegistryError: Error, Sendable, CustomStringConvertible, Equatable {
    enum Code: Sendable, Equatable {
        case notFound
        case conflict
        case invalid
        case forbidden
        case refusedByScanner
        case integrityFailed
        case noPassphraseHeld
        case legacyDeploymentRecord
    }

    let code: Code
    /// For ``refusedByScanner(_:)``: the refused findings (`FILE#FINDING-ID`), which name no secret.
    let findings: [String]

    init(code: Code, findings: [String] = []) {
        self.code = code
        self.findings = findings
    }

    /// The model scanner refused a pushed file: findings at or above the policy's threshold (HTTP 422).
    public static func refusedByScanner(_ findings: [String]) -> RegistryError {
        RegistryError(code: .refusedByScanner, findings: findings)
    }

    /// `keys rotate` on a server unlocked with an identity file: it holds no passphrase to wrap a new key under
    /// (HTTP 409, ``RotateKeysRequest/noPassphraseHeld``).
    public static let noPassphraseHeld = RegistryError(code: .noPassphraseHeld)
    /// `deploy` of a deployment whose vault record predates namespaces, without `adoptLegacyRecord` (HTTP 409,
    /// ``DeployModelRequest/legacyRecordRefused``).
    public static let legacyDeploymentRecord = RegistryError(code: .legacyDeploymentRecord)
    /// The named model, version, alias or dataset does not exist (HTTP 404).
    public static let notFound = RegistryError(code: .notFound)
    /// The operation conflicts with the registry's state, e.g. the version already exists (HTTP 409).
    public static let conflict = RegistryError(code: .conflict)
    /// The request is malformed, e.g. an invalid recipient or file name (HTTP 400).
    public static let invalid = RegistryError(code: .invalid)
    /// The caller may perform the route's action but not everything the request asks, e.g. pushing with an
    /// alias without the right to move aliases (HTTP 403).
    public static let forbidden = RegistryError(code: .forbidden)

    /// A stored version failed its signature or digest check (HTTP 422; `model verify` exits 6).
    public static let integrityFailed = RegistryError(code: .integrityFailed)

    /// A fixed text naming what failed.
    public var description: String {
        switch code {
        case .notFound: "registry: not found"
        case .conflict: "registry: conflicts with the current state"
        case .invalid: "registry: invalid request"
        case .forbidden: "registry: permission denied"
        case .refusedByScanner: "registry: refused by the model scanner"
        case .integrityFailed: "registry: integrity check failed"
        case .noPassphraseHeld: "registry: " + RotateKeysRequest.noPassphraseHeld
        case .legacyDeploymentRecord: "registry: " + DeployModelRequest.legacyRecordRefused
        }
    }
}

/// The registry operations the `/v1` API exposes; the vault integration implements this.
///
/// Every method runs after the server has authorised the caller for the matching `ServerAction`;
/// `principal` names the caller: lists show only what it may see (a binding scoped to one model or dataset sees
/// only that one), and changes are recorded under it.
public protocol RegistryBackend: Sendable {
    /// Lists the models `principal` may see.
    func listModels(principal: String) async throws -> [RegistryModelSummary]
    /// Shows one model.
    func showModel(named name: String) async throws -> RegistryModelDetail
    /// Lists the datasets `principal` may see.
    func listDatasets(principal: String) async throws -> [RegistryDataset]
    /// Shows one dataset.
    func showDataset(named name: String) async throws -> RegistryDataset
    /// Stores a new model version (encrypted and signed by the vault) and returns its record.
    func pushModelVersion(
        named name: String, _ request: PushModelRequest, principal: String
    ) async throws
        -> RegistryModelVersion
    /// Returns a model version (a version number or an alias name) re-wrapped for `recipient`.
    func pullModelVersion(
        named name: String, version: String, recipient: String, principal: String
    ) async throws
        -> PulledModel
    /// The same, for a caller that says whether it will decrypt the files itself (then it needs `model.pull`).
    func pullModelVersion(
        named name: String, version: String, recipient: String, decryptedByCaller: Bool, principal: String
    ) async throws
        -> PulledModel
    /// Points `alias` at `version`.
    func moveAlias(_ alias: String, ofModel name: String, to version: String, principal: String) async throws
    /// Exports the audit log, entries covered by a fresh signed checkpoint: JSON lines, or CSV with a header row when
    /// `csv`; only those at or after `since` when it is given.
    func exportAudit(csv: Bool, since: Date?) async throws -> Data
    /// Renders the compliance report.
    func complianceReport(format: ReportFormat) async throws -> Data
    /// One model version's full record (the vault's JSON, as `model show --json` prints it); `version` is a
    /// number or an alias name.
    func showModelVersion(named name: String, version: String, principal: String) async throws -> Data
    /// `model.push` from a streamed upload: stores the files below `directory` (plaintext, staged by the server)
    /// as a new version, scanned and signed like a CLI push, then moves `alias` if given.
    func pushModelVersion(
        named name: String, fromDirectory directory: URL, alias: String?, principal: String
    ) async throws -> RegistryModelVersion
    /// The same while the upload is still arriving: `paths` yields each model file's path below `directory` once
    /// it is whole on disk, then an empty path once the upload has arrived whole (a stream that ends without it, or
    /// throws, is an upload that broke: nothing may be stored), so each file can be scanned and encrypted while the
    /// next arrives; `options` carries what `model push` takes besides the files.
    func pushModelVersion(
        named name: String, fromDirectory directory: URL, arriving paths: AsyncThrowingStream<String, any Error>,
        options: UploadedPushOptions, principal: String
    ) async throws -> RegistryModelVersion
    /// `model.pull-rewrapped` for a streamed download: writes the version's files re-wrapped for `recipient` into
    /// `directory` (which must not exist), the layout `model pull --recipient` writes.
    func pullModelVersion(
        named name: String, version: String, recipient: String, into directory: URL, principal: String
    ) async throws
    /// The same, for a caller that says whether it will decrypt the files itself (then it needs `model.pull`).
    func pullModelVersion(
        named name: String, version: String, recipient: String, decryptedByCaller: Bool, into directory: URL,
        principal: String
    ) async throws
    /// `model.deploy`: verifies the version `request` names, records the deployment (the vault decides the
    /// identity it continues or rotates to, the serial and any refusal) and writes the signed serving bundle into
    /// `directory/bundle` and its ``DeploymentAnswer`` into `directory/deployment.json` (`directory` must not exist).
    func deployModel(
        named name: String, _ request: DeployModelRequest, into directory: URL, principal: String
    ) async throws
    /// `model.pull-rewrapped` for a streamed download without staging: the version's files re-wrapped for
    /// `recipient` as they are sent (authorised and audited before this returns), or nil when the backend stages
    /// instead (then the route calls `pullModelVersion(...into:...)`).
    func streamModelVersion(
        named name: String, version: String, recipient: String, decryptedByCaller: Bool, principal: String
    ) async throws -> StreamedDownload?
    /// `data.add` from a streamed upload: stores the files in `directory` as a new dataset version.
    func addDatasetVersion(
        named name: String, fromDirectory directory: URL, description: String?, processed: Bool, principal: String
    ) async throws -> RegistryRecord
    /// `data.get` for a streamed download: decrypts a dataset version (a number or `latest`) into `directory`
    /// (which must not exist).
    func getDatasetVersion(named name: String, version: String, into directory: URL, principal: String) async throws
    /// Runs one of the CLI's remaining commands for `principal` and returns its JSON record.
    func perform(_ operation: RemoteOperation, principal: String, requestID: String) async throws -> RegistryRecord
}

extension RegistryBackend {
    /// A pull the caller will decrypt itself needs `model.pull`; a backend without that distinction treats it as
    /// any re-wrapped pull.
    public func pullModelVersion(
        named name: String, version: String, recipient: String, decryptedByCaller: Bool, principal: String
    ) async throws -> PulledModel {
        try await pullModelVersion(named: name, version: version, recipient: recipient, principal: principal)
    }

    /// A backend without version records answers 404.
    public func showModelVersion(named name: String, version: String, principal: String) async throws -> Data {
        throw RegistryError.notFound
    }
}

/// A JSON response body from a registry operation (a vault record such as a dataset version).
public typealias RegistryRecord = any Encodable & Sendable

/// The remote-mode operations (#14): streamed transfers through staging directories the server owns, and the
/// CLI's remaining commands. Every method runs after the gateway authorised the route's action for `principal`;
/// implementations run it in a session for `principal`, which authorises again and audits.
///
/// Each has a default that answers 404, so a backend (or a test double) that lacks an operation serves none of it.
extension RegistryBackend {
    public func pushModelVersion(
        named name: String, fromDirectory directory: URL, alias: String?, principal: String
    ) async throws -> RegistryModelVersion { throw RegistryError.notFound }

    /// A backend that stores only whole uploads waits for the last file, then pushes the directory; it honours an
    /// alias and refuses any other option (HTTP 400).
    public func pushModelVersion(
        named name: String, fromDirectory directory: URL, arriving paths: AsyncThrowingStream<String, any Error>,
        options: UploadedPushOptions, principal: String
    ) async throws -> RegistryModelVersion {
        var complete = false
        for try await path in paths where path.isEmpty { complete = true }
        guard complete else { throw CancellationError() }
        guard !options.asksMoreThanAnAlias else { throw RegistryError.invalid }
        return try await pushModelVersion(
            named: name, fromDirectory: directory, alias: options.alias, principal: principal)
    }

    public func pullModelVersion(
        named name: String, version: String, recipient: String, into directory: URL, principal: String
    ) async throws { throw RegistryError.notFound }

    /// A backend without the distinction treats a pull the caller decrypts as any re-wrapped pull.
    public func pullModelVersion(
        named name: String, version: String, recipient: String, decryptedByCaller: Bool, into directory: URL,
        principal: String
    ) async throws {
        try await pullModelVersion(
            named: name, version: version, recipient: recipient, into: directory, principal: principal)
    }

    /// A backend that stages its downloads streams none directly.
    public func streamModelVersion(
        named name: String, version: String, recipient: String, decryptedByCaller: Bool, principal: String
    ) async throws -> StreamedDownload? { nil }

    public func addDatasetVersion(
        named name: String, fromDirectory directory: URL, description: String?, processed: Bool, principal: String
    ) async throws -> RegistryRecord { throw RegistryError.notFound }

    public func deployModel(
        named name: String, _ request: DeployModelRequest, into directory: URL, principal: String
    ) async throws { throw RegistryError.notFound }

    public func getDatasetVersion(
        named name: String, version: String, into directory: URL, principal: String
    ) async throws { throw RegistryError.notFound }
}

extension RegistryBackend {
    public func perform(
        _ operation: RemoteOperation, principal: String, requestID: String
    ) async throws -> RegistryRecord { throw RegistryError.notFound }
}
