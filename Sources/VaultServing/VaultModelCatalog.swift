import AuditLog
import BlockingWork
import Foundation
public import Logging
import MLCore
public import Vault
public import VaultServer

/// Which model versions a server serves: a model's alias (followed as it moves) or a pinned version.
public struct ModelSelection: Sendable, Equatable, CustomStringConvertible {
    /// How the version is chosen.
    public enum Selector: Sendable, Equatable {
        /// The version an alias names now.
        case alias(String)
        /// One version, pinned.
        case version(Int)
    }

    /// The model's name.
    public var name: String
    /// How its version is chosen.
    public var selector: Selector

    /// Creates a selection.
    public init(name: String, selector: Selector = .alias(ModelSelection.defaultAlias)) {
        self.name = name
        self.selector = selector
    }

    /// Parses `NAME` (its `production` alias), `NAME:ALIAS` or `NAME@VERSION`.
    public init(parsing text: String) throws {
        guard let reference = try? ModelReference(parsing: text) else { throw ServingError.invalidSelection }
        switch reference.selector {
        case .latest: self.init(name: reference.name)
        case .alias(let alias): self.init(name: reference.name, selector: .alias(alias))
        case .version(let version): self.init(name: reference.name, selector: .version(version))
        }
    }

    /// The alias served when none is named.
    public static let defaultAlias = "production"

    /// `NAME:ALIAS` or `NAME@VERSION`.
    public var description: String {
        switch selector {
        case .alias(let alias): "\(name):\(alias)"
        case .version(let version): "\(name)@\(version)"
        }
    }
}

/// The vault as the server's model catalog: on every poll it resolves the selected aliases and loads each new
/// version once, checking the vault's signature over its manifest and every file's digest and decrypting into
/// memory only. A version that fails any check is reported unverified and never served; versions no longer
/// selected are dropped from memory. Each load is recorded in the audit log as the `server` principal.
public struct VaultModelCatalog: ModelCatalog {
    let access: VaultAccess
    let selections: [ModelSelection]?
    let loaded = LoadedModels()
    let logger: Logger
    let allowUnscanned: Bool

    /// Creates a catalog.
    ///
    /// - Parameters:
    ///   - selections: the versions to serve; `nil` serves every model's `production` alias.
    ///   - allowUnscanned: also serve versions stored before the model scanner existed (no scan record in their
    ///     signed manifest); each such load is audited as unscanned. A version whose record holds a refused
    ///     finding is never served.
    public init(
        access: VaultAccess, selections: [ModelSelection]? = nil, allowUnscanned: Bool = false,
        logger: Logger = Logger(label: "modelvault.catalog")
    ) {
        self.access = access
        self.selections = selections
        self.allowUnscanned = allowUnscanned
        self.logger = logger
    }

    /// The model versions to serve now, each model's first selection first.
    public func currentModels() async throws -> [CatalogEntry] {
        // Loading decrypts and parses whole models: the poller's work runs on the blocking pool.
        try await withTaskExecutorPreference(BlockingExecutor.shared) { try await loadCurrentModels() }
    }

    private func loadCurrentModels() async throws -> [CatalogEntry] {
        let vault = access.unlockedVault
        let summaries = try await vault.models()
        let wanted = selections ?? summaries.map { ModelSelection(name: $0.name) }
        var versions: [(name: String, version: Int)] = []
        for selection in wanted {
            guard let summary = summaries.first(where: { $0.name == selection.name }) else { continue }
            let version: Int?
            switch selection.selector {
            case .alias(let alias): version = summary.aliases[alias]
            case .version(let pinned): version = pinned <= summary.latestVersion ? pinned : nil
            }
            guard let version, !versions.contains(where: { $0 == (selection.name, version) }) else { continue }
            versions.append((selection.name, version))
        }
        var entries: [CatalogEntry] = []
        var kept = Set(versions.map { "\($0.name)@\($0.version)" })
        for (name, version) in versions {
            if let entry = await entry(name: name, version: version) {
                entries.append(entry)
            } else if let previous = await loaded.lastVerified(named: name),
                !entries.contains(where: { $0.name == name && $0.version == previous.version })
            {
                // The selected version is wrapped for a key version this process has not unlocked (another
                // process rotated the keys): keep serving the last version that verified until it can load.
                entries.append(.verified(previous))
                kept.insert("\(name)@\(previous.version)")
            }
        }
        await loaded.keep(only: kept)
        return entries
    }

    /// The loaded (or refused) version, loading it on first sight; `nil` when its files are wrapped for a key
    /// version this process does not hold (retried at the next poll, never reported as failed verification).
    private func entry(name: String, version: Int) async -> CatalogEntry? {
        let key = "\(name)@\(version)"
        if let known = await loaded.entry(for: key) { return known }
        let entry: CatalogEntry
        let requestID = UUID().uuidString
        do {
            let reference = try ModelReference(name: name, selector: .version(version))
            // Another process may have rotated the keys: follow the key chain first (the new key version, or
            // the replaced signing key), so the new version verifies against the vault's current verifier.
            try await access.unlockedVault.followKeyChain()
            let files = try await access.unlockedVault.loadModel(reference)
            let scanned = try await scanCheck(reference)
            let served = try Self.servedModel(name: name, version: version, files: files)
            // Fail closed: a load that cannot be audited is not served.
            try await access.appendAuditEntry(
                principal: "server", action: "model.load", resource: "model:\(key)", outcome: .allowed,
                requestID: requestID,
                detail: scanned
                    ? "verified and decrypted into memory"
                    : "verified and decrypted into memory; never scanned, served with --allow-unscanned")
            try access.recordServedVerification(model: name, version: version, ok: true)
            entry = .verified(served)
        } catch let error as VaultError where error.code == .keyUnavailable {
            logger.warning(
                "a selected model version is wrapped for a vault key version this server has not unlocked",
                metadata: ["model": .string(key)])
            return nil
        } catch {
            // Error descriptions are fixed texts (VaultError, MLError): no key material or plaintext.
            logger.error(
                "refusing to serve a model version that does not verify",
                metadata: ["model": .string(key), "reason": .string(String(describing: error))])
            try? await access.appendAuditEntry(
                principal: "server", action: "model.load", resource: "model:\(key)", outcome: .failed,
                requestID: requestID, detail: String(describing: error))
            try? access.recordServedVerification(model: name, version: version, ok: false)
            entry = .unverified(name: name, version: String(version))
        }
        await loaded.store(entry, for: key)
        return entry
    }
}

extension VaultModelCatalog {
    /// Refuses a version the scanner never saw (unless allowed) or whose record holds a refused finding.
    ///
    /// - Returns: whether the version has a scan record.
    func scanCheck(_ reference: ModelReference) async throws -> Bool {
        guard let record = try await access.unlockedVault.scanRecord(reference) else {
            guard allowUnscanned else { throw ScanGateRefusal.neverScanned }
            return false
        }
        guard record.refused.isEmpty else { throw ScanGateRefusal.findings }
        return true
    }
}

/// Why serving refused a version on the scanner's account (fixed texts).
enum ScanGateRefusal: Error, CustomStringConvertible {
    case neverScanned
    case findings

    var description: String {
        switch self {
        case .neverScanned:
            "the version was never scanned (run `modelvault model scan --all`, or serve with --allow-unscanned)"
        case .findings: "the version's scan record holds findings the policy refuses"
        }
    }
}

/// Versions already loaded or refused, so a poll decrypts only what is new.
actor LoadedModels {
    private var entries: [String: CatalogEntry] = [:]

    func entry(for key: String) -> CatalogEntry? { entries[key] }

    func store(_ entry: CatalogEntry, for key: String) { entries[key] = entry }

    /// The most recently loaded verified version of `name`, if still held.
    func lastVerified(named name: String) -> (any ServedModel)? {
        var best: (any ServedModel)?
        for case .verified(let model) in entries.values where model.name == name {
            if best == nil || (Int(model.version) ?? 0) > (Int(best!.version) ?? 0) { best = model }
        }
        return best
    }

    /// Drops versions no longer selected, releasing their decrypted weights.
    func keep(only keys: Set<String>) {
        entries = entries.filter { keys.contains($0.key) }
    }
}
