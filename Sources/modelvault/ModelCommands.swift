import ArgumentParser
import Foundation
import Vault

/// `modelvault model`: the encrypted, signed model registry.
struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Encrypted, signed, versioned models: push, list, show, pull, verify, alias, import-fernet, export.",
        subcommands: [
            ModelPush.self, ModelList.self, ModelShow.self, ModelPull.self, ModelVerify.self, ModelAlias.self,
            ModelImportFernet.self, ModelRescan.self, ModelExport.self,
        ])
}

/// A path as given on the command line, made absolute against the working directory.
func absoluteURL(_ path: String) -> URL { URL(filePath: path, relativeTo: .currentDirectory()).absoluteURL }

private func readMetrics(_ path: String?) throws -> JSONValue? {
    guard let path else { return nil }
    guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read the metrics file") }
    guard let value = try? JSONDecoder().decode(JSONValue.self, from: data) else {
        throw CLIError("the metrics file is not valid JSON")
    }
    return value
}

/// `modelvault model push NAME PATH`.
struct ModelPush: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push", abstract: "Encrypt, sign and store a model file or directory; prints NAME@VERSION.",
        discussion: """
            Every file is scanned first (as `modelvault scan` does); a finding at or above the policy's threshold \
            refuses the push with exit code 7 unless accepted with --accept, which needs the model.scan permission \
            (admins and security engineers) and is audited. The scan result is stored in the signed manifest.
            """)

    @OptionGroup var options: VaultOptions
    @Argument(help: "The model's name.") var name: String
    @Argument(help: "A model file or directory (any format).") var path: String
    @Option(name: .customLong("dataset"), help: "A dataset version the model came from (NAME@V); repeatable.")
    var datasets: [String] = []
    @Option(name: .long, help: "A JSON file of metrics to record.") var metrics: String?
    @Option(name: .long, help: "The publisher's OpenSSF signature (model.sig) to verify before storing.")
    var signature: String?
    @Option(name: .customLong("public-key"), help: "The publisher's public key (PEM) for --signature.")
    var publicKey: String?
    @Option(name: .customLong("publisher-key"), help: .hidden) var legacyPublisherKey: String?

    /// `--public-key` (as `modelvault verify` names it), or its old spelling `--publisher-key`.
    var publisherKey: String? { publicKey ?? legacyPublisherKey }
    @OptionGroup var scan: PushScanOptions
    @Flag(name: .long, help: "Print JSON.") var json = false

    func validate() throws {
        guard (signature == nil) == (publisherKey == nil) else {
            throw ValidationError("--signature and --public-key go together")
        }
    }

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        let datasets = try datasets.map { try DatasetReference(parsing: $0) }
        let metrics = try readMetrics(metrics)
        let source = absoluteURL(path)
        let publisher = try publisherSignature(of: source)
        let extensions = try ONNXPush.extensions(forModelAt: source)
        let vault = try await options.open()
        let info = try await ProgressReporter("hashing, encrypting", summary: "pushed").run {
            try await vault.pushModel(
                name, from: .path(source), datasets: datasets, metrics: metrics, publisherSignature: publisher,
                extensions: extensions, scan: scan.options, progress: $0)
        }
        try printResult(json: json, ["reference": info.reference], text: info.reference)
    }
}

extension ModelPush {
    /// The publisher's signature and key read from `--signature` and `--public-key`, with the signature's path
    /// inside the pushed directory when it is kept there (it is then not a model file).
    func publisherSignature(of source: URL) throws -> PublisherSignature? {
        guard let signature, let publisherKey else { return nil }
        guard let bundle = FileManager.default.contents(atPath: signature) else {
            throw CLIError("cannot read the signature file")
        }
        guard let pem = FileManager.default.contents(atPath: publisherKey) else {
            throw CLIError("cannot read the publisher key file")
        }
        let signatureURL = absoluteURL(signature).standardizedFileURL.path(percentEncoded: false)
        let base = source.standardizedFileURL.path(percentEncoded: false)
        let prefix = base.hasSuffix("/") ? base : base + "/"
        let inside = signatureURL.hasPrefix(prefix) ? String(signatureURL.dropFirst(prefix.count)) : nil
        return PublisherSignature(
            bundle: bundle, publicKeyPEM: String(decoding: pem, as: UTF8.self), pathInsideModel: inside)
    }

    /// `--metrics` read and checked as JSON, as the local push reads it.
    func checkedMetrics() throws -> JSONValue? { try readMetrics(metrics) }
}

/// `modelvault model list`.
struct ModelList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List models.")

    @OptionGroup var options: VaultOptions
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        if try await options.whenRemote({ try show(try await remoteModels($0)) }) { return }
        try show(try await options.open().models())
    }

    func show(_ models: [ModelSummary]) throws {
        if json { return try printJSON(models) }
        printTable(
            ["NAME", "LATEST", "VERSIONS", "ALIASES"],
            models.map { model in
                let aliases = model.aliases.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                return [model.name, "\(model.latestVersion)", "\(model.versionCount)", aliases.joined(separator: ",")]
            })
    }
}

/// `modelvault model show NAME[@V|:ALIAS]`.
struct ModelShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a model version: files, digests, signer, lineage, metrics, keys.")

    @OptionGroup var options: VaultOptions
    @Argument(help: "NAME, NAME@VERSION or NAME:ALIAS.") var reference: String
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        let reference = try ModelReference(parsing: reference)
        let vault = try await options.open()
        try show(try await vault.model(reference))
    }

    func show(_ info: ModelVersionInfo) throws {
        if json { return try printJSON(info) }
        print("model:     \(info.reference)")
        print("created:   \(info.createdAt) by \(info.createdBy) (\(info.source))")
        print("signer:    \(info.signer)")
        if let publisher = info.publisher { print("publisher: \(publisher) (signature verified on push)") }
        print("manifest:  sha256:\(info.manifestSHA256)")
        if !info.aliases.isEmpty { print("aliases:   \(info.aliases.joined(separator: ", "))") }
        let keys = Set(info.files.map(\.keyVersion)).sorted().map { "v\($0)" }.joined(separator: ", ")
        print("key:       \(keys)")
        print("files:     \(info.files.count), \(info.totalSize) bytes")
        for file in info.files { print("  \(file.path)  \(file.size) bytes  sha256:\(file.sha256)") }
        print("lineage:" + (info.lineage.isEmpty ? "   (none)" : ""))
        for entry in info.lineage { print("  \(entry.dataset)@\(entry.version)  sha256:\(entry.digest)") }
        print("scan:      \(info.scan?.summary ?? "never scanned (run `modelvault model scan --all`)")")
        for accepted in info.scan?.accepted ?? [] { print("  accepted: \(accepted)") }
        if let metrics = info.metrics {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print("metrics:   \(String(decoding: try encoder.encode(metrics), as: UTF8.self))")
        }
        // The signed manifest's format metadata (an ONNX signature), read after the manifest verified.
        ONNXPush.printSignature(from: info.extensions)
    }
}

/// `modelvault model pull NAME[@V|:ALIAS] -o DIR [--to RECIPIENT]`.
struct ModelPull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Decrypt a verified model version into a new directory, or hand it out re-wrapped for a recipient.")

    @OptionGroup var options: VaultOptions
    @Argument(help: "NAME, NAME@VERSION or NAME:ALIAS.") var reference: String
    @Option(name: .shortAndLong, help: "The output directory (must not exist or be empty).") var output: String
    @Option(name: .customLong("to"), help: "An age recipient: write re-wrapped .age files, no plaintext.")
    var recipient: String?
    @Option(
        name: .customLong("verifier"),
        help: """
            Remote mode: the vault's verification key (`keys export-verifier`, from an admin) that the pulled \
            version's signature must verify with (default: $MODELVAULT_VERIFIER).
            """)
    var verifier: String?
    @Option(
        name: .customLong("min-version"),
        help: "Remote mode: refuse a signed version below N (a first-use pin against a rollback by the server).")
    var minVersion: Int?
    @Flag(
        name: .customLong("allow-older"),
        help: """
            Remote mode: accept an alias or latest below the highest version this client has verified for it (an \
            alias the vault owner moved back), and record it as the new mark.
            """)
    var allowOlder = false
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        if minVersion != nil || allowOlder {
            throw ValidationError("--min-version and --allow-older guard a remote pull (the local vault is checked)")
        }
        let reference = try ModelReference(parsing: reference)
        let directory = absoluteURL(output)
        let vault = try await options.open()
        let info: ModelVersionInfo
        if let recipient {
            info = try await ProgressReporter("re-wrapping", summary: "re-wrapped").run {
                try await vault.pullModel(reference, for: recipient, to: directory, progress: $0)
            }
        } else {
            info = try await ProgressReporter("decrypting", summary: "pulled").run {
                try await vault.pullModel(reference, to: directory, progress: $0)
            }
        }
        try printPulled(json: json, info.reference, to: directory.path(percentEncoded: false), files: info.files.count)
    }
}

/// `modelvault model verify NAME[@V]`.
struct ModelVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Decrypt in memory and check the signature and every digest.")

    @OptionGroup var options: VaultOptions
    @Argument(help: "NAME, NAME@VERSION or NAME:ALIAS.") var reference: String
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        show(try await options.open().verifyModel(try ModelReference(parsing: reference)))
    }

    func show(_ info: ModelVersionInfo) {
        struct Output: Encodable { var verified: Bool, reference: String, signer: String, files: Int }
        // Encoding these four fields cannot fail; the remote path calls this too.
        let output = Output(verified: true, reference: info.reference, signer: info.signer, files: info.files.count)
        if json, (try? printJSON(output)) != nil { return }
        print("verified \(info.reference): signature by \(info.signer), \(info.files.count) files")
    }
}

/// `modelvault model import-fernet NAME FILE --key KEYFILE`.
struct ModelImportFernet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-fernet",
        abstract: "Import a model encrypted as a Fernet token (key in a file beside it) as a proper vault version.")

    @OptionGroup var options: VaultOptions
    @Argument(help: "The model's name.") var name: String
    @Argument(help: "The Fernet token file.") var file: String
    @Option(name: .long, help: "The Fernet key file.") var key: String
    @Option(name: .customLong("file-name"), help: "The model file's name in the vault (default: FILE without .enc).")
    var fileName: String?
    @Flag(
        name: .customLong("delete-originals"),
        help: "Once the version is stored, delete the Fernet key file and the token file (retire the pattern).")
    var deleteOriginals = false
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        let token = try CLIFiles.read(file, what: "Fernet token file")
        let keyData = try CLIFiles.read(key, what: "Fernet key file")
        var stored = fileName ?? URL(filePath: file).lastPathComponent
        if fileName == nil {
            for suffix in [".enc", ".fernet", ".encrypted"]
            where stored.hasSuffix(suffix) && stored.count > suffix.count {
                stored = String(stored.dropLast(suffix.count))
                break
            }
        }
        let info = try await options.open().importFernetModel(
            name, token: token, keyText: String(decoding: keyData, as: UTF8.self), fileName: stored)
        if json { try printJSON(info) } else { print(info.reference) }
        guard deleteOriginals else {
            progress(
                "imported; the vault does not keep the Fernet key: delete \(key) and \(file) once checked "
                    + "(or import with --delete-originals)")
            return
        }
        // Only after the version is stored and sealed: a failed import leaves both files in place.
        for path in [key, file] {
            do {
                try FileManager.default.removeItem(at: URL(filePath: path, relativeTo: .currentDirectory()))
            } catch {
                throw CLIError("imported \(info.reference), but cannot delete \(path)", status: .failure)
            }
        }
        progress("imported; deleted \(key) and \(file) (copies elsewhere, such as backups, are not touched)")
    }
}
