import ArgumentParser
import AuditLog
import Foundation
import ModelScan
import Vault
import VaultClient
import VaultServer

// Remote mode of each command that the server can do: the same flags, output and exit codes as the local
// command, through the server's API with the caller's token only. A flag the server cannot honour yet is refused by
// name rather than ignored.

extension ModelList: RemoteCapable {
    func remoteModels(_ client: VaultClient) async throws -> [ModelSummary] {
        try await client.listModels().map { model in
            ModelSummary(
                name: model.name, versions: model.versions.compactMap { Int($0) }.sorted(),
                aliases: model.aliases.compactMapValues { Int($0) })
        }
    }
}

extension DataList: RemoteCapable {
    func remoteDatasets(_ client: VaultClient) async throws -> [DatasetSummary] {
        try await client.listDatasets().map { dataset in
            let versions = dataset.versions.compactMap { Int($0) }
            return DatasetSummary(name: dataset.name, latestVersion: versions.max() ?? 0, versionCount: versions.count)
        }
    }
}

extension ModelShow: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        let reference = try ModelReference(parsing: reference)
        let version = try await RemoteModels.version(reference, client)
        let data = try await client.modelVersionRecord(reference.name, version: version)
        try show(try RemoteModels.decode(ModelVersionInfo.self, data))
    }
}

extension DataShow: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        let reference = try DatasetReference(parsing: reference)
        var version = reference.version
        if version == nil {
            version = try await client.showDataset(reference.name).versions.compactMap { Int($0) }.max()
        }
        guard let version else { throw CLIError("dataset \(reference.name) has no versions", status: .notFound) }
        let data = try await client.datasetVersionRecord(reference.name, version: version)
        try show(try RemoteModels.decode(DatasetVersionInfo.self, data))
    }
}

extension ModelVerify: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        let reference = try ModelReference(parsing: reference)
        let version = try await RemoteModels.version(reference, client)
        show(
            try RemoteModels.decode(
                ModelVersionInfo.self, try await client.verifyModel(reference.name, version: version)))
    }
}

extension KeysList: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        let versions = try RemoteModels.decode([KeyVersionInfo].self, try await client.keyVersions())
        try show(versions)
        guard files, let current = versions.last(where: { $0.state == "active" }) else { return }
        for key in versions where key.version < current.version && key.fileCount > 0 {
            print("files still wrapped for v\(key.version):")
            let paths = try RemoteModels.decode(
                [String].self, try await client.filesWrapped(forKeyVersion: key.version))
            for path in paths { print("  \(path)") }
        }
    }
}

extension AuditTail: RemoteCapable {
    /// One entry of `GET /v1/audit/tail`.
    struct Indexed: Decodable {
        var index: UInt64
        var entry: AuditEntry
    }

    /// How long a follower's poll lets the server wait for new entries (an idle follower's request rate).
    static let followWait = 15
    /// The most entries one follower's poll takes.
    static let followPage = 1_000

    func remote(_ client: VaultClient) async throws {
        // A signal ends the follower as it ends a local one (exit 128 + the signal's number).
        if follow { OpenVaults.takeOverSignals() }
        let window = isFiltered ? 10_000 : min(max(count, 1), 10_000)
        let entries = try RemoteModels.decode([Indexed].self, try await client.auditTail(count: window))
        try show(Array(entries.map { (index: $0.index, entry: $0.entry) }.filter { matches($0.entry) }.suffix(count)))
        guard follow else { return }
        // Following polls with a cursor: each answer starts at the next index not yet printed, so no entry is
        // printed twice or left out. Each poll is an audited read (the server waits, so an idle follower records
        // about one poll per `followWait` seconds, and prints those entries as any other).
        var next = (entries.last?.index).map { $0 + 1 } ?? 0
        while !Task.isCancelled {
            let page = try RemoteModels.decode(
                [Indexed].self, try await client.auditTail(from: next, count: Self.followPage, wait: Self.followWait))
            let fresh = page.filter { $0.index >= next }.sorted { $0.index < $1.index }
            if let first = fresh.first?.index, first > next {
                progress("(\(first - next) entries appended faster than they could be followed were skipped)")
            }
            try show(fresh.map { (index: $0.index, entry: $0.entry) }.filter { matches($0.entry) })
            if let newest = fresh.last?.index { next = newest + 1 }
        }
    }
}

extension DataAdd: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        var outgoing: [VaultClient.OutgoingFile] = []
        for file in files {
            let url = URL(filePath: file, relativeTo: .currentDirectory()).absoluteURL
            var info = stat()
            guard lstat(url.path(percentEncoded: false), &info) == 0 else {
                throw CLIFiles.unreadable("input file", file)
            }
            guard info.st_mode & S_IFMT == S_IFREG else {
                throw CLIError("\(file) is not a regular file", status: .invalidInput)
            }
            outgoing.append(.init(path: url.lastPathComponent, url: url, size: UInt64(info.st_size)))
        }
        let data = try await ProgressReporter("uploading", summary: "uploaded").run { report in
            try await client.addDataset(
                name, files: outgoing, description: description, processed: processed,
                progress: ProgressReporter.transfer(report))
        }
        let reference = try RemoteModels.decode(DatasetVersionInfo.self, data).reference
        try printResult(json: json, ["reference": reference], text: reference)
    }
}

extension DataGet: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        let reference = try DatasetReference(parsing: reference)
        let directory = URL(filePath: output, relativeTo: .currentDirectory()).absoluteURL
        var version = reference.version
        if version == nil {
            version = try await client.showDataset(reference.name).versions.compactMap { Int($0) }.max()
        }
        guard let version else { throw CLIError("dataset \(reference.name) has no versions", status: .notFound) }
        OpenVaults.takeOverSignals()  // a signal mid-download removes the plaintext staging first (review 5, R2)
        let files = try await ProgressReporter("downloading", summary: "downloaded").run { report in
            try await client.getDataset(
                reference.name, version: version, into: directory, progress: ProgressReporter.transfer(report))
        }
        try printPulled(
            json: json, "\(reference.name)@\(version)", to: directory.path(percentEncoded: false), files: files.count)
    }
}

extension ModelPush: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        // Checked here as the local push checks them (same errors), then sent for the vault to apply.
        var options = VaultClient.PushOptions()
        options.datasets = try datasets.map { try DatasetReference(parsing: $0).description }
        if try checkedMetrics() != nil, let metrics { options.metrics = absoluteURL(metrics) }
        let source = URL(filePath: path, relativeTo: .currentDirectory()).absoluteURL
        let publisher = try publisherSignature(of: source)
        if let signature, let publicKey = publisherKey {
            options.publisherSignature = (absoluteURL(signature), absoluteURL(publicKey))
        }
        options.accept = scan.accept
        if scan.policy != ScanPolicy.default.rawValue { options.scanPolicy = scan.policy }
        // An ONNX model the server would refuse is refused here first, with the local push's message (the server
        // records the signature from the files it received, not from the client's word).
        _ = try ONNXPush.extensions(forModelAt: source)
        // A signature kept inside the model directory is not a model file.
        let files = try VaultClient.outgoingModelFiles(at: source).filter { $0.path != publisher?.pathInsideModel }
        let created = try await ProgressReporter("uploading", summary: "uploaded").run { report in
            try await client.pushModel(
                name, streaming: files, options: options, progress: ProgressReporter.transfer(report))
        }
        try printResult(json: json, ["reference": "\(name)@\(created.version)"], text: "\(name)@\(created.version)")
    }
}

extension ModelPull: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        let reference = try ModelReference(parsing: reference)
        let directory = URL(filePath: output, relativeTo: .currentDirectory()).absoluteURL
        // Refused before anything is fetched when no key is pinned.
        let pinned = recipient == nil ? try pinnedVerifier() : nil
        if recipient != nil, minVersion != nil || allowOlder {
            throw ValidationError("--min-version and --allow-older check a decrypting pull: not with --to")
        }
        let version = try await RemoteModels.version(reference, client)
        OpenVaults.takeOverSignals()  // a signal mid-pull removes the staging directories first
        let result: VaultClient.PullResult
        let reporter = ProgressReporter("downloading", summary: "downloaded")
        defer { reporter.finish() }
        if let recipient {
            result = try await client.pullModel(
                reference.name, version: version, for: recipient, into: directory,
                signatureFileName: Vault.pulledSignaturePath, progress: ProgressReporter.transfer(reporter.handler))
        } else if let pinned {
            result = try await rollbackGuarded(reference, client: client, pinned: pinned) { minimum in
                try await client.pullModel(
                    reference.name, version: version, into: directory, signatureFileName: Vault.pulledSignaturePath,
                    verifier: pinned, minimumVersion: minimum, progress: ProgressReporter.transfer(reporter.handler))
            }
        } else {
            throw CLIError("a remote pull needs a pinned verifier")
        }
        try printPulled(
            json: json, "\(reference.name)@\(result.version)", to: directory.path(percentEncoded: false),
            files: result.fileCount)
    }
}

extension ModelPull {
    /// Runs `pull` with the lowest version it may accept, and records what it pulled (review 5, R1). A pull by alias
    /// or latest must not go below the highest signed version this client verified for the same server, pinned key,
    /// model and selector (unless `--allow-older`, which then resets the mark); `--min-version` adds a floor of the
    /// caller's own. An explicit `@N` is checked against `--min-version` only and records nothing.
    func rollbackGuarded(
        _ reference: ModelReference, client: VaultClient, pinned: VaultClient.PinnedVerifier,
        pull: (Int?) async throws -> VaultClient.PullResult
    ) async throws -> VaultClient.PullResult {
        let selector: String? =
            switch reference.selector {
            case .version: nil
            case .alias(let alias): "alias:" + alias.lowercased()
            case .latest: "latest"
            }
        guard let selector else { return try await pull(minVersion) }
        let key = VersionHighWaterMarks.key(
            server: client.configuration.server, verifier: pinned, model: reference.name, selector: selector)
        guard
            let marks = VersionHighWaterMarks.defaultFile(environment: ProcessInfo.processInfo.environment)
                .map(VersionHighWaterMarks.init(file:))
        else {
            progress("warning: no HOME or XDG_STATE_HOME: this pull is not recorded against rollbacks")
            return try await pull(minVersion)
        }
        let highest = allowOlder ? nil : try marks.highest(for: key)
        let floor = [minVersion, highest].compactMap { $0 }.max()
        let result = try await pull(floor)
        if let pulled = Int(result.version) {
            try marks.record(pulled, for: key, replacing: allowOlder)
        }
        return result
    }

    /// The vault key a decrypting remote pull checks the signature with (review 4, F3): `--verifier` or
    /// `MODELVAULT_VERIFIER`. Without one the pull is refused: trusting the server's word for the model is what
    /// the pin prevents.
    func pinnedVerifier() throws -> VaultClient.PinnedVerifier {
        let environment = ProcessInfo.processInfo.environment["MODELVAULT_VERIFIER"].flatMap { $0.isEmpty ? nil : $0 }
        guard let path = verifier ?? environment else {
            throw CLIError(
                "a remote pull checks the vault's signature: give the vault's verification key with --verifier FILE "
                    + "or MODELVAULT_VERIFIER (an admin writes it with `modelvault keys export-verifier`)",
                status: .usage)
        }
        let data = try CLIFiles.read(path, what: "verifier")
        guard data.count <= 64 << 10 else { throw CLIError("the verifier \(path) is too large", status: .invalidInput) }
        do {
            return try VaultClient.PinnedVerifier(parsing: String(decoding: data, as: UTF8.self))
        } catch {
            throw CLIError("the verifier \(path) holds no readable PEM public key", status: .invalidInput)
        }
    }
}

extension ModelAlias: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        if delete {
            struct Removed: Decodable {
                var version: String
            }
            let removed = try RemoteModels.decode(
                Removed.self, try await client.removeAlias(alias, ofModel: reference))
            try printResult(
                json: json, ["model": reference, "removed": alias.lowercased(), "version": removed.version],
                text: "removed \(reference):\(alias.lowercased()) (was version \(removed.version))")
            return
        }
        let reference = try ModelReference(parsing: reference)
        guard case .version(let version) = reference.selector else {
            throw ValidationError("name the version to point \(alias) at: NAME@VERSION")
        }
        let model = try await client.showModel(reference.name)
        guard model.versions.contains(where: { $0.version == String(version) }) else {
            throw CLIError("no version \(version) of model \(reference.name)", status: .notFound)
        }
        let name = alias.lowercased()
        let current = model.aliases[name].flatMap { Int($0) }
        if Self.guarded.contains(name), !yes, let current, current != version {
            try Self.confirm("move \(reference.name):\(name) from version \(current) to version \(version)?")
        }
        try await client.moveAlias(alias, ofModel: reference.name, to: version)
        try ModelAlias.printMoved(json: json, model: reference.name, alias: name, version: version, previous: current)
    }
}

extension ReportCommand: RemoteCapable {
    func remote(_ client: VaultClient, format: ComplianceReport.Format) async throws {
        guard let wire = ReportFormat(rawValue: format.rawValue) else {
            throw ValidationError("--format must be md, json or html")
        }
        if let output {
            let url = URL(filePath: output, relativeTo: .currentDirectory()).absoluteURL
            try await client.download("/v1/report", query: "format=\(wire.rawValue)", to: url)
            print("report written to \(output)")
        } else {
            FileHandle.standardOutput.write(try await client.report(format: wire))
        }
    }
}

extension AuditExport: RemoteCapable {
    func remote(_ client: VaultClient, format: AuditExportFormat, since: Date?) async throws {
        FileHandle.standardOutput.write(try await client.exportAudit(csv: format == .csv, since: since))
    }
}

/// What several remote commands share.
enum RemoteModels {
    /// Decodes a record the server sent.
    static func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        guard let value = try? JSONDecoder().decode(type, from: data) else {
            throw CLIError("the server's answer is not the expected record")
        }
        return value
    }

    /// The version (a number or an alias name) the server resolves for `reference`; the newest for a bare name.
    static func version(_ reference: ModelReference, _ client: VaultClient) async throws -> String {
        switch reference.selector {
        case .version(let version): return String(version)
        case .alias(let alias): return alias
        case .latest:
            let versions = try await client.showModel(reference.name).versions.compactMap { Int($0.version) }
            guard let latest = versions.max() else {
                throw CLIError("model \(reference.name) has no versions", status: .notFound)
            }
            return String(latest)
        }
    }
}
