import AccessControl
import AuditLog
public import Foundation
public import Vault
public import VaultServer

/// The vault behind the server's `/v1` registry API.
///
/// The server has already authorised each request with the vault's policy and audited it. Lists and operations
/// that change or hand out a model (push, pull, alias) run in a session for the calling principal, so lists are
/// filtered by the same visibility rule as the CLI's, the policy is checked again and the operation gets its own
/// audit entry, exactly as when the CLI performs it. Showing one model or dataset reads the vault directly: the
/// gateway has authorised the caller for that very resource.
public struct VaultRegistry: RegistryBackend {
    let access: VaultAccess
    /// The passphrase the vault was unlocked with, for `keys rotate` (the new key is wrapped under it); `nil` for a
    /// vault unlocked with an identity file, whose server refuses remote rotation.
    let rotationPassphrase: String?

    /// Creates a registry over an opened vault.
    ///
    /// - Parameter rotationPassphrase: the passphrase `access` was unlocked with, so that `POST /v1/keys/rotate` can
    ///   wrap the new key version under it without any client sending it. `nil`: remote rotation answers 409.
    public init(access: VaultAccess, rotationPassphrase: String? = nil) {
        self.access = access
        self.rotationPassphrase = rotationPassphrase
    }

    var vault: Vault { access.unlockedVault }

    /// Lists the models `principal` may see (`VaultSession.models()`).
    public func listModels(principal: String) async throws -> [RegistryModelSummary] {
        try await mappingErrors {
            try await access.session(forPrincipal: principal).models().map { summary in
                RegistryModelSummary(
                    name: summary.name, versions: summary.versions.map(String.init),
                    aliases: summary.aliases.mapValues(String.init))
            }
        }
    }

    /// Shows one model.
    public func showModel(named name: String) async throws -> RegistryModelDetail {
        try await mappingErrors {
            let versions = try await vault.modelVersions(name)
            guard !versions.isEmpty else { throw RegistryError.notFound }
            var aliases: [String: String] = [:]
            for info in versions {
                for alias in info.aliases { aliases[alias] = String(info.version) }
            }
            return RegistryModelDetail(name: name, versions: versions.map(Self.record), aliases: aliases)
        }
    }

    /// Lists the datasets `principal` may see (`VaultSession.datasets()`).
    public func listDatasets(principal: String) async throws -> [RegistryDataset] {
        try await mappingErrors {
            try await access.session(forPrincipal: principal).datasets().map(Self.record)
        }
    }

    /// Shows one dataset.
    public func showDataset(named name: String) async throws -> RegistryDataset {
        try await mappingErrors {
            guard let summary = try await vault.datasets().first(where: { $0.name == name }) else {
                throw RegistryError.notFound
            }
            return Self.record(summary)
        }
    }

    /// Encrypts, signs and stores a new version, then moves the alias if one is named.
    public func pushModelVersion(
        named name: String, _ request: PushModelRequest, principal: String
    ) async throws -> RegistryModelVersion {
        try await pushing(name, alias: request.alias, principal: principal) { session in
            try await session.pushModel(
                name, from: .received(request.files), scan: ModelScanOptions(accept: request.accept ?? []))
        }
    }

    /// Runs `push` in a session for `principal` and then points `alias` (if any) at the new version. The alias is
    /// checked first (the caller's `model.alias`, a name `setAlias` accepts), so a refused one leaves no new version
    /// behind.
    func pushing(
        _ name: String, alias: String?, principal: String,
        _ push: (VaultSession) async throws -> ModelVersionInfo
    ) async throws -> RegistryModelVersion {
        try await mappingErrors {
            let session = try access.session(forPrincipal: principal)
            if let alias {
                guard session.isAllowed(.modelAlias, on: .model(name)) else { throw RegistryError.forbidden }
                try await session.checkAliasCanBeSet(alias, ofModel: name)
            }
            let info = try await push(session)
            if let alias {
                try await session.setAlias(alias, to: ModelReference(name: name, selector: .version(info.version)))
            }
            return Self.record(info)
        }
    }

    /// Re-wraps a version's encrypted files for the caller's recipient; no plaintext leaves the vault.
    public func pullModelVersion(
        named name: String, version: String, recipient: String, principal: String
    ) async throws -> PulledModel {
        try await pullModelVersion(
            named: name, version: version, recipient: recipient, decryptedByCaller: false, principal: principal)
    }

    /// Re-wraps a version's encrypted files for the caller's recipient. A caller that says it will decrypt them
    /// itself (`model pull` without `--to`) needs `model.pull`, as the same command needs locally.
    public func pullModelVersion(
        named name: String, version: String, recipient: String, decryptedByCaller: Bool, principal: String
    ) async throws -> PulledModel {
        try await mappingErrors {
            let session = try access.session(forPrincipal: principal)
            if decryptedByCaller, !session.isAllowed(.modelPull, on: .model(name)) { throw RegistryError.forbidden }
            let reference = try ModelReference(
                parsing: Int(version) != nil ? "\(name)@\(version)" : "\(name):\(version)")
            let staging = FileManager.default.temporaryDirectory.appending(
                path: StaleStaging.name(StaleStaging.registryPullPrefix))
            defer { try? FileManager.default.removeItem(at: staging) }
            let info = try await session.pullModel(reference, for: recipient, to: staging)
            var files: [String: Data] = [:]
            for file in info.files {
                files[file.path] = try Data(contentsOf: staging.appending(path: file.path + ".age"))
            }
            let signature = try? Data(contentsOf: staging.appending(path: Vault.pulledSignaturePath))
            return PulledModel(name: name, version: String(info.version), files: files, signature: signature)
        }
    }

    /// Points an alias at a version.
    public func moveAlias(_ alias: String, ofModel name: String, to version: String, principal: String) async throws {
        try await mappingErrors {
            guard let number = Int(version) else { throw RegistryError.invalid }
            let session = try access.session(forPrincipal: principal)
            try await session.setAlias(alias, to: ModelReference(name: name, selector: .version(number)))
        }
    }

    /// The audit log as JSON lines or CSV, after a fresh signed checkpoint.
    public func exportAudit(csv: Bool, since: Date?) async throws -> Data {
        try await access.exportAuditLog(csv ? .csv : .jsonl, since: since)
    }

    /// The compliance report in the requested rendering.
    public func complianceReport(format: ReportFormat) async throws -> Data {
        let report = try await access.complianceReport()
        switch format {
        case .json: return try report.rendered(as: .json)
        case .markdown: return try report.rendered(as: .md)
        case .html: return try report.rendered(as: .html)
        }
    }

    /// The version's record as the CLI's `model show --json` prints it, read in the caller's session (audited).
    public func showModelVersion(named name: String, version: String, principal: String) async throws -> Data {
        try await mappingErrors {
            let reference = try ModelReference(
                parsing: Int(version) != nil ? "\(name)@\(version)" : "\(name):\(version)")
            return try Self.json(try await access.session(forPrincipal: principal).model(reference))
        }
    }

    static func json(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static func record(_ info: ModelVersionInfo) -> RegistryModelVersion {
        RegistryModelVersion(
            version: String(info.version),
            created: (try? Date.ISO8601FormatStyle().parse(info.createdAt)) ?? .distantPast,
            createdBy: info.createdBy,
            files: Dictionary(info.files.map { ($0.path, $0.sha256) }, uniquingKeysWith: { first, _ in first }))
    }

    static func record(_ summary: DatasetSummary) -> RegistryDataset {
        RegistryDataset(name: summary.name, versions: (1...max(summary.latestVersion, 1)).map(String.init))
    }

    /// Maps the vault's client-side failures to 404/409/400; anything else stays a plain 500.
    func mappingErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as VaultError {
            switch error.code {
            case .notFound: throw RegistryError.notFound
            case .scanRefused: throw RegistryError.refusedByScanner(error.refusedFindings)
            case .outputExists, .duplicateFile: throw RegistryError.conflict
            case .invalidName, .invalidReference, .invalidPath, .invalidRecipient, .emptyInput, .invalidMetrics,
                .unreadableInput, .weakPassphrase:
                throw RegistryError.invalid
            case .signatureInvalid, .publisherSignatureInvalid, .digestMismatch, .tampered, .decryptionFailed:
                throw RegistryError.integrityFailed
            case .wrongPassphrase: throw RegistryError.forbidden
            default: throw error
            }
        } catch is AccessControlError {
            throw RegistryError.forbidden
        } catch let error as AuditLogError where error == .indexOutOfRange {
            // `audit prove` past the log's end: nothing to prove, not a server failure.
            throw RegistryError.notFound
        }
    }
}
