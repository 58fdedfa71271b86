public import AccessControl
public import Foundation

extension VaultSession {
    // MARK: Datasets

    /// `data.add`: stores a new dataset version from files on disk; `progress` hears the bytes encrypted.
    public func addDataset(
        _ name: String, files: [URL], processed: Bool = false, description: String? = nil,
        progress: ProgressHandler? = nil
    ) async throws -> DatasetVersionInfo {
        try await perform(.dataAdd, on: .dataset(name)) {
            try await vault.addDataset(
                name, files: files, processed: processed, description: description, context: context,
                progress: progress)
        }
    }

    /// `data.add`: stores a new dataset version from files held in memory.
    public func addDataset(
        _ name: String, contents: [String: Data], processed: Bool = false, description: String? = nil
    ) async throws -> DatasetVersionInfo {
        try await perform(.dataAdd, on: .dataset(name)) {
            try await vault.addDataset(
                name, contents: contents, processed: processed, description: description, context: context)
        }
    }

    /// `data.list`: the datasets the caller may see.
    public func datasets() async throws -> [DatasetSummary] {
        try await perform(.dataList, on: .global) {
            let all = try await vault.datasets()
            let visible = Set(Policy.visible(all.map { .dataset($0.name) }, for: .dataList, bindings: caller.bindings))
            return all.filter { visible.contains(.dataset($0.name)) }
        }
    }

    /// `data.show`: a dataset version's metadata.
    public func dataset(_ reference: DatasetReference) async throws -> DatasetVersionInfo {
        try await perform(.dataShow, on: .dataset(reference.name), resource: "dataset:\(reference)") {
            try await vault.dataset(reference)
        }
    }

    /// `data.get`: a dataset version's decrypted files, in memory.
    public func readDataset(_ reference: DatasetReference) async throws -> [String: Data] {
        try await perform(
            .dataGet, on: .dataset(reference.name), resource: "dataset:\(reference)",
            resolve: { await resolved(reference) }
        ) { try await vault.readDataset(reference) }
    }

    /// `data.get`: decrypts a dataset version into a new directory; `progress` hears the bytes decrypted.
    public func getDataset(
        _ reference: DatasetReference, to directory: URL, progress: ProgressHandler? = nil
    ) async throws -> DatasetVersionInfo {
        try await perform(
            .dataGet, on: .dataset(reference.name), resource: "dataset:\(reference)",
            resolve: { await resolved(reference) }
        ) { try await vault.getDataset(reference, to: directory, progress: progress) }
    }

    // MARK: Models

    /// `model.push`: pushes a new model version. Naming a dataset as lineage needs `data.show` on it; every
    /// file is scanned, and accepting a finding (`scan.accept`) needs `model.scan` on the model. `progress` hears
    /// the plaintext bytes hashed and encrypted.
    public func pushModel(
        _ name: String, from source: ModelSource, datasets: [DatasetReference] = [], metrics: JSONValue? = nil,
        publisherSignature: PublisherSignature? = nil, extensions: [String: JSONValue] = [:],
        scan: ModelScanOptions = .standard, progress: ProgressHandler? = nil
    ) async throws -> ModelVersionInfo {
        try await checkLineage(datasets)
        try await checkAccepting(scan, model: name)
        return try await perform(.modelPush, on: .model(name)) {
            try await vault.pushModel(
                name, from: source, datasets: datasets, metrics: metrics, publisherSignature: publisherSignature,
                extensions: extensions, scan: scan, context: context, progress: progress)
        }
    }

    /// `model.show`: the format metadata recorded in a version's signed manifest (empty when none), read only
    /// after the manifest's signature and its match with the catalog are checked.
    public func modelExtensions(_ reference: ModelReference) async throws -> [String: JSONValue] {
        try await perform(.modelShow, on: .model(reference.name), resource: "model:\(reference)") {
            try await vault.modelExtensions(reference)
        }
    }

    /// `model.import`: imports a legacy Fernet-encrypted model.
    public func importFernetModel(
        _ name: String, token: Data, keyText: String, fileName: String, datasets: [DatasetReference] = [],
        metrics: JSONValue? = nil
    ) async throws -> ModelVersionInfo {
        try await checkLineage(datasets)
        return try await perform(.modelImport, on: .model(name)) {
            try await vault.importFernetModel(
                name, token: token, keyText: keyText, fileName: fileName, datasets: datasets, metrics: metrics,
                context: context)
        }
    }

    /// `model.list`: the models the caller may see.
    public func models() async throws -> [ModelSummary] {
        try await perform(.modelList, on: .global) {
            let all = try await vault.models()
            let visible = Set(Policy.visible(all.map { .model($0.name) }, for: .modelList, bindings: caller.bindings))
            return all.filter { visible.contains(.model($0.name)) }
        }
    }

    /// `model.show`: every version of a model.
    public func modelVersions(_ name: String) async throws -> [ModelVersionInfo] {
        try await perform(.modelShow, on: .model(name)) { try await vault.modelVersions(name) }
    }

    /// `model.show`: one version's metadata, with the scan record from its signed manifest.
    public func model(_ reference: ModelReference) async throws -> ModelVersionInfo {
        try await perform(.modelShow, on: .model(reference.name), resource: "model:\(reference)") {
            var info = try await vault.model(reference)
            let pinned = try ModelReference(name: info.name, selector: .version(info.version))
            info.scan = try await vault.scanRecord(pinned)
            let extensions = try await vault.modelExtensions(pinned)
            info.extensions = extensions.isEmpty ? nil : extensions
            return info
        }
    }

    /// `model.show`: an alias's history.
    public func aliasHistory(_ model: String) async throws -> [AliasChange] {
        try await perform(.modelShow, on: .model(model)) { try await vault.aliasHistory(model) }
    }

    /// `model.verify`: checks a version's signature and digests; the result is recorded for compliance reports.
    @discardableResult
    public func verifyModel(_ reference: ModelReference) async throws -> ModelVersionInfo {
        try await perform(
            .modelVerify, on: .model(reference.name), resource: "model:\(reference)",
            resolve: { await resolved(reference) }
        ) {
            try await recordingVerification(reference) { try await vault.verifyModel(reference) }
        }
    }

    /// `model.pull`: a version's decrypted files, in memory.
    public func loadModel(_ reference: ModelReference) async throws -> [String: Data] {
        try await perform(
            .modelPull, on: .model(reference.name), resource: "model:\(reference)",
            resolve: { await resolved(reference) }
        ) { try await vault.loadModel(reference) }
    }

    /// `model.pull`: decrypts a version into a new directory (every digest checked first); `progress` hears the
    /// bytes decrypted.
    @discardableResult
    public func pullModel(
        _ reference: ModelReference, to directory: URL, progress: ProgressHandler? = nil
    ) async throws -> ModelVersionInfo {
        try await perform(
            .modelPull, on: .model(reference.name), resource: "model:\(reference)",
            resolve: { await resolved(reference) }
        ) {
            try await recordingVerification(reference) {
                try await vault.pullModel(reference, to: directory, progress: progress)
            }
        }
    }

    /// `model.pull-rewrapped`: a version's files re-wrapped for one age recipient. Without `model.pull` the
    /// recipient must be the current identity of a recorded deployment: re-wrapping for a key the caller holds
    /// would be plaintext access, so any other recipient is denied and audited as `model.pull`.
    @discardableResult
    public func pullModel(
        _ reference: ModelReference, for recipient: String, to directory: URL, progress: ProgressHandler? = nil
    ) async throws -> ModelVersionInfo {
        try await requireDeploymentRecipient(recipient, for: reference)
        return try await perform(
            .modelPullRewrapped, on: .model(reference.name), resource: "model:\(reference)",
            resolve: { await resolved(reference) }
        ) {
            try await recordingVerification(reference) {
                try await vault.pullModel(reference, for: recipient, to: directory, progress: progress)
            }
        }
    }

    /// `model.pull-rewrapped`, streamed (the server's download): the same authorisation as
    /// ``pullModel(_:for:to:progress:)`` and one audited attempt, with nothing written. The version's signature,
    /// manifest and catalog entry are checked here; each file is checked as the stream opens it, before any byte of
    /// it is sent: its header (and length) against the vault's record of it for a receiver that checks the files,
    /// otherwise its payload decrypted against its signed digest (``RewrappedVersionStream``). A stream that fails is audited as failed when it ends
    /// (``RewrappedVersionStream/finish(_:)``); the version's verification is recorded then, as passed only when
    /// every payload was decrypted and checked, and as failed when a file failed its check.
    /// `checkedByReceiver`: the caller decrypts the files and checks them against the signed manifest itself (the
    /// CLI's decrypting pull; it needs `model.pull`, which the caller checks).
    public func streamModel(
        _ reference: ModelReference, for recipient: String, checkedByReceiver: Bool = false
    ) async throws -> RewrappedVersionStream {
        try await requireDeploymentRecipient(recipient, for: reference)
        var stream = try await perform(
            .modelPullRewrapped, on: .model(reference.name), resource: "model:\(reference)",
            resolve: { await resolved(reference) }
        ) {
            let pinned = try? await vault.model(reference)
            do {
                return try await vault.rewrappedStream(
                    reference, for: recipient, checkedByReceiver: checkedByReceiver)
            } catch {
                if let pinned { recordVerification(pinned.name, pinned.version, ok: false) }
                throw error
            }
        }
        let (name, version, checksPayloads) = (stream.name, stream.version, stream.checksPayloads)
        stream.completion = { error in
            if let error {
                try? await audit(
                    Action.modelPullRewrapped.rawValue, "model:\(name)@\(version)", .failed,
                    detail: String(describing: error))
            }
            // A stream the client gave up on verified nothing either way; a file that failed its check did fail; a
            // stream that left the payloads to the receiver verified no payload here.
            if (error == nil && checksPayloads) || error is VaultError {
                recordVerification(name, version, ok: error == nil)
            }
            try? await access.recordState(requestID: context.requestID)
        }
        return stream
    }

    private func recordVerification(_ model: String, _ version: Int, ok: Bool) {
        try? vault.catalog.write { db in
            try AccessCatalog.recordVerification(model: model, version: version, ok: ok, by: caller.principal, db)
        }
    }

    /// Denies (as `model.pull`) a re-wrap by a caller without `model.pull` to a recipient that is not the
    /// current identity of a recorded deployment of this model. Callers without `model.pull-rewrapped` are left to
    /// `perform`.
    private func requireDeploymentRecipient(_ recipient: String, for reference: ModelReference) async throws {
        let scope = Scope.model(reference.name)
        guard isAllowed(.modelPullRewrapped, on: scope), !isAllowed(.modelPull, on: scope) else { return }
        guard try await !vault.isCurrentDeploymentRecipient(recipient, forModel: reference.name) else { return }
        try await audit(
            Action.modelPull.rawValue, "model:\(reference)", .denied,
            detail: "permission denied; the recipient is not a current deployment identity of this model")
        throw AccessControlError.denied(.modelPull, on: scope)
    }

    /// `model.alias`: points an alias at a version (promotion).
    @discardableResult
    public func setAlias(_ alias: String, to reference: ModelReference) async throws -> Int? {
        try await perform(.modelAlias, on: .model(reference.name), resource: "model:\(reference):\(alias)") {
            try await vault.setAlias(alias, to: reference, context: context)
        }
    }

    // MARK: Keys

    /// `keys.list`: key versions (no key material).
    public func keyVersions() async throws -> [KeyVersionInfo] {
        try await perform(.keysList, on: .global, resource: "keys") { try await vault.keyVersions() }
    }

    /// `keys.list`: the files still wrapped for a key version.
    public func files(wrappedFor version: Int) async throws -> [String] {
        try await perform(.keysList, on: .global, resource: "keys:v\(version)") {
            try await vault.files(wrappedFor: version)
        }
    }

    /// `keys.rotate`: a new key version; every file re-wrapped (or re-encrypted). The audit key follows.
    ///
    /// `newPassphrase` re-seals every live key file under it before the rotation finishes (`keys rotate --reencrypt`
    /// requires it: otherwise a pre-rotation key file still opens with the passphrase in use). A re-encrypting rotation, or the resume of one, without `newPassphrase` is refused before anything changes.
    ///
    /// `progress` hears the files moved so far.
    public func rotateKeys(
        passphrase: String, reencrypt: Bool = false, newPassphrase: String? = nil, progress: ProgressHandler? = nil
    ) async throws -> RotationReport {
        try await rotateKeys(
            passphrase: passphrase, reencrypt: reencrypt, newPassphrase: newPassphrase, keepingPassphrase: false,
            progress: progress)
    }

    /// `rotateKeys`, where `keepingPassphrase` (tests of everything else a rotation does) lets a re-encrypting
    /// rotation finish under the passphrase in use.
    func rotateKeys(
        passphrase: String, reencrypt: Bool = false, newPassphrase: String? = nil, keepingPassphrase: Bool,
        progress: ProgressHandler? = nil
    ) async throws -> RotationReport {
        try await perform(.keysRotate, on: .global, resource: "keys") {
            // The audit key is not read here: another process may be rotating, and until this one holds the rotation
            // lock (and unlocks the versions that rotation made) the key file may be sealed to none it holds.
            let access = access
            let principal = caller.principal
            let requestID = context.requestID
            let retireMark = access.markRetirement
            let retireRecipients = access.recipientRetirement
            // After a compromise the old audit key may be known too: the log is handed over to the next key the
            // rotation pinned, before the rotation lock is released.
            let (report, handover) = try await vault.rotateKeys(
                passphrase: passphrase, reencrypt: reencrypt, newPassphrase: newPassphrase,
                keepingPassphrase: keepingPassphrase, context: context, retireMark: retireMark,
                retireRecipients: retireRecipients,
                auditHandover: { try await access.rotateAuditKey(principal: principal, requestID: requestID) },
                progress: progress)
            // The host's high-water mark follows a new root of trust; the old root's mark refuses older copies.
            try await access.followTrustRoot()
            // The log records what the rotation did, including a replaced signing key and its fingerprint.
            var signing =
                report.reencrypted
                ? "; signing key replaced, fingerprint \(await vault.currentSignerFingerprint())" : ""
            if let handover { signing += "; audit key replaced at log size \(handover)" }
            try await audit(
                Action.keysRotate.rawValue, "keys:v\(report.keyVersion)", .allowed,
                detail: "\(report.filesMoved) files moved to key version \(report.keyVersion)\(signing)")
            return report
        }
    }

    /// The vault's secret identities as an age identity file (for `MODELVAULT_IDENTITY_FILE` deployments).
    ///
    /// The identity decrypts every file in the vault, so handing it out is `keys.export-identity`, which only admins
    /// hold: whoever has it can act as an admin through local mode.
    public func identityFile() async throws -> String {
        try await perform(.keysExportIdentity, on: .global, resource: "keys:identity-export") {
            try await vault.identityFile()
        }
    }

    // MARK: Helpers

    /// `model:NAME@V` for the version a reference resolves to, if it resolves.
    func resolved(_ reference: ModelReference) async -> String? {
        guard let info = try? await vault.model(reference) else { return nil }
        return "model:\(info.reference)"
    }

    /// `dataset:NAME@V` for the version a reference resolves to, if it resolves.
    func resolved(_ reference: DatasetReference) async -> String? {
        guard let info = try? await vault.dataset(reference) else { return nil }
        return "dataset:\(info.reference)"
    }

    /// Lineage names datasets: the caller must be allowed to see each one.
    func checkLineage(_ datasets: [DatasetReference]) async throws {
        for reference in datasets where !isAllowed(.dataShow, on: .dataset(reference.name)) {
            try await audit(
                Action.dataShow.rawValue, "dataset:\(reference)", .denied, detail: "permission denied (lineage)")
            throw AccessControlError.denied(.dataShow, on: .dataset(reference.name))
        }
    }

    /// Runs a check of `reference` and records its outcome (time, result, principal) in the catalog.
    func recordingVerification(
        _ reference: ModelReference, _ body: () async throws -> ModelVersionInfo
    ) async throws -> ModelVersionInfo {
        let pinned = try? await vault.model(reference)
        do {
            let info = try await body()
            try vault.catalog.write { db in
                try AccessCatalog.recordVerification(
                    model: info.name, version: info.version, ok: true, by: caller.principal, db)
            }
            return info
        } catch {
            if let pinned {
                try? vault.catalog.write { db in
                    try AccessCatalog.recordVerification(
                        model: pinned.name, version: pinned.version, ok: false, by: caller.principal, db)
                }
            }
            throw error
        }
    }
}
