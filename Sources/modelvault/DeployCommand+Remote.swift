import ArgumentParser
import Deployment
import Foundation
import Vault
import VaultClient
import VaultCrypto
import VaultServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `deploy` in remote mode (#14): the caller holds a token and a pinned verification key, never the vault key.
///
/// The client makes the deployment identity and keeps it; the server gets only its recipient. The vault decides
/// what it must (the version, the identity a recorded deployment continues or a rotation revokes, the bundle
/// serial, refusals) and answers with the signed bundle (`POST /v1/models/{model}/deploy`, a file stream). Before
/// anything is written, the bundle is checked as the pod will check it (`ServingBundle.inspect` against the pinned
/// key, then `ServingBundle.open` with the new identity, which decrypts every file and checks its signed digest),
/// and the server's unsigned answer against it. The Dockerfile and manifests need no vault key: they are rendered
/// here from the signed bundle, then everything is renamed into place at once.
extension DeployCommand: RemoteCapable {
    func remote(_ client: VaultClient) async throws {
        // Refused before anything is fetched when no key is pinned.
        let fingerprint = try pinnedVerifierFingerprint()
        let reference = try Self.reference(model)
        let version: String =
            switch reference.selector {
            case .version(let number): String(number)
            case .alias(let alias): alias
            case .latest: "production"
            }
        let alias: String? = if case .alias(let name) = reference.selector { name } else { nil }
        // The settings are checked before the vault records anything: a spec that cannot render fails here.
        var draft = DeploymentSpec(
            model: reference.name, version: "1", alias: alias,
            files: [DeploymentSpec.ModelFile(path: "model", sha256: String(repeating: "0", count: 64))],
            signer: DeploymentSpec.Signer(identity: "modelvault vault signing key", keyFingerprint: fingerprint))
        applyOptions(to: &draft)
        draft.bundleSerial = 1
        _ = try DeploymentArtifacts(rendering: draft)
        let directory = URL(fileURLWithPath: output).standardizedFileURL
        if !force, Self.existsNonEmpty(directory) { throw DeploymentError.destinationNotEmpty }

        // Everything is assembled in a private directory beside the output. The identity is on disk before the
        // vault can record it (review 5, F2).
        let fresh = try ServingBundle.generateIdentity()
        let parent = directory.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        let assembly = parent.appending(path: ".\(directory.lastPathComponent).deploy-\(UUID().uuidString)")
        let secrets = assembly.appending(path: "secrets")
        for folder in [assembly, secrets] {
            try FileManager.default.createDirectory(
                at: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        }
        let identityFile = secrets.appending(path: "identity")
        func writeIdentity(for label: String) throws {
            try AtomicFile.write(
                Data("# modelvault deployment identity for \(label)\n\(fresh.identity)\n".utf8), to: identityFile,
                permissions: 0o600)
        }
        var asked = false
        do {
            try writeIdentity(for: "\(reference)")
            asked = true
            let received = try await client.deployModel(
                reference.name,
                DeployModelRequest(
                    version: version, recipient: fresh.recipient, namespace: namespace,
                    rotateIdentity: rotateIdentity ? true : nil, adoptLegacyRecord: adoptLegacyRecord ? true : nil),
                into: assembly.appending(path: "received"))
            let spec = try checkedSpec(
                received, reference: reference, alias: alias, fingerprint: fingerprint, fresh: fresh,
                identityFile: identityFile)
            let answer = received.answer
            if answer.adoptedLegacyRecord {
                progress(
                    "deploy: the vault's record of \(answer.deploymentName) predated namespaces; this deploy "
                        + "continued it and it is now the record of namespace \(namespace)")
            }
            let artifacts = try DeploymentArtifacts(rendering: spec)
            let rendered = assembly.appending(path: "rendered")
            try artifacts.write(to: rendered)
            for name in try FileManager.default.contentsOfDirectory(atPath: rendered.path) {
                try FileManager.default.moveItem(at: rendered.appending(path: name), to: assembly.appending(path: name))
            }
            try FileManager.default.removeItem(at: rendered)
            try FileManager.default.moveItem(at: received.bundle, to: assembly.appending(path: "bundle"))
            try FileManager.default.removeItem(at: assembly.appending(path: "received"))
            if answer.newIdentity {
                try writeIdentity(for: "\(spec.model)@\(spec.version)")
            } else if !Self.carryIdentity(from: directory, to: identityFile) {
                try FileManager.default.removeItem(at: secrets)
            }
            // A server replaying an older signed bundle of this deployment (a lower serial, older tokens, an older
            // version) is refused once this client has seen a newer one (remote deploy review, F1).
            let marks = try serialMarks(client: client, deployment: answer.deploymentName)
            let serial = spec.bundleSerial ?? 0
            if let (store, key) = marks, let highest = try store.highest(for: key), serial < highest {
                throw CLIError(
                    "deploy: the server's bundle has serial \(serial), below serial \(highest) this client "
                        + "already deployed: refusing a rollback", status: .integrity)
            }
            try Self.moveIntoPlace(assembly, at: directory, replacingExisting: force)
            if let (store, key) = marks { try store.record(serial, for: key) }
            try present(artifacts, spec: spec, in: URL(fileURLWithPath: output), newIdentity: answer.newIdentity)
        } catch {
            // A refusal (4xx) came before the vault recorded anything. After any other failure once asked, the
            // vault may name the new identity: its key, the only copy, is kept (review 5, F2).
            let refused = (error as? VaultClientError)?.httpStatus.map { (400..<500).contains($0) } ?? false
            if asked, !refused {
                Self.keepOnlyIdentity(in: assembly, at: directory)
            } else {
                try? FileManager.default.removeItem(at: assembly)
            }
            throw error
        }
    }

    /// Checks what the server sent against the pinned key and the identity made here, and returns the spec of the
    /// signed bundle: the Deployment is rendered only for what the vault signed.
    private func checkedSpec(
        _ received: VaultClient.ReceivedDeployment, reference: ModelReference, alias: String?, fingerprint: String,
        fresh: (identity: String, recipient: String), identityFile: URL
    ) throws -> DeploymentSpec {
        let answer = received.answer
        let contents = try ServingBundle.inspect(at: received.bundle, expectedSigner: fingerprint)
        let refused = CLIError(
            "deploy: the server's bundle is not the deployment it describes: refusing it", status: .integrity)
        // The deployment's name is derived from the model's, here as on the server; the signed index names it.
        let name = DeploymentSpec.deploymentName(forModel: reference.name)
        guard contents.versions.count == 1, let served = contents.versions.first, served.name == reference.name,
            answer.deploymentName == name, contents.deployment.hasPrefix(name + "-"),
            answer.model == served.name, answer.version == served.version, answer.serial == contents.serial,
            contents.serial > 0, Self.sameRecipient(answer.recipient, contents.recipient),
            answer.newIdentity == Self.sameRecipient(contents.recipient, fresh.recipient)
        else { throw refused }
        if case .version(let number) = reference.selector, number != served.version { throw refused }
        if answer.newIdentity {
            // Every file decrypts with the identity made here and matches its signed digest, as in the pod.
            _ = try ServingBundle.open(
                at: received.bundle, identity: try String(contentsOf: identityFile, encoding: .utf8),
                expectedSigner: fingerprint, minimumSerial: contents.serial)
        }
        var spec = DeploymentSpec(
            model: served.name, version: String(served.version), alias: alias,
            files: served.files.map { DeploymentSpec.ModelFile(path: $0.path, sha256: $0.sha256) },
            signer: DeploymentSpec.Signer(identity: "modelvault vault signing key", keyFingerprint: fingerprint))
        applyOptions(to: &spec)
        spec.bundleSerial = contents.serial
        return spec
    }

    /// The fingerprint of the vault key pinned with `--verifier` or `MODELVAULT_VERIFIER` (review 4, F3). Without
    /// one the deploy is refused: the bundle's signature is what lets the client trust it.
    func pinnedVerifierFingerprint() throws -> String {
        let environment = ProcessInfo.processInfo.environment["MODELVAULT_VERIFIER"].flatMap { $0.isEmpty ? nil : $0 }
        guard let path = verifier ?? environment else {
            throw CLIError(
                "a remote deploy checks the vault's signature on the bundle: give the vault's verification key with "
                    + "--verifier FILE or MODELVAULT_VERIFIER (an admin writes it with `modelvault keys "
                    + "export-verifier`)",
                status: .usage)
        }
        let data = try CLIFiles.read(path, what: "verifier")
        guard data.count <= 64 << 10 else { throw CLIError("the verifier \(path) is too large", status: .invalidInput) }
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard (try? VaultClient.PinnedVerifier(parsing: text)) != nil,
            let begin = lines.firstIndex(of: "-----BEGIN PUBLIC KEY-----"),
            let end = lines[begin...].firstIndex(of: "-----END PUBLIC KEY-----")
        else { throw CLIError("the verifier \(path) holds no readable PEM public key", status: .invalidInput) }
        return VerificationKey(keyVersion: 1, publicKeyPEM: lines[begin...end].joined(separator: "\n")).fingerprint
    }

    /// The client's serial mark for this deployment: (server, pinned key, namespace and deployment), in the file that
    /// keeps remote pulls' version marks; nil (with a warning) when there is no HOME or XDG_STATE_HOME.
    private func serialMarks(client: VaultClient, deployment: String) throws -> (VersionHighWaterMarks, String)? {
        guard
            let store = VersionHighWaterMarks.defaultFile(environment: ProcessInfo.processInfo.environment)
                .map(VersionHighWaterMarks.init(file:))
        else {
            progress("warning: no HOME or XDG_STATE_HOME: this deploy is not recorded against rollbacks")
            return nil
        }
        let environment = ProcessInfo.processInfo.environment["MODELVAULT_VERIFIER"].flatMap { $0.isEmpty ? nil : $0 }
        guard let path = verifier ?? environment else { return nil }
        let pinned = try VaultClient.PinnedVerifier(
            parsing: String(decoding: try CLIFiles.read(path, what: "verifier"), as: UTF8.self))
        let key = VersionHighWaterMarks.key(
            server: client.configuration.server, verifier: pinned, model: "deploy:\(namespace)/\(deployment)",
            selector: "serial")
        return (store, key)
    }

    /// When the vault continues a recorded identity, the one kept in the output directory (a regular file, e.g. left
    /// by a failed deploy) is carried into the new set, so `--force` does not delete its only copy (remote deploy
    /// review, F2). Returns whether one was carried.
    private static func carryIdentity(from directory: URL, to identityFile: URL) -> Bool {
        let old = directory.appending(path: "secrets/identity")
        var info = stat()
        guard lstat(old.path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size <= 64 << 10,
            let data = FileManager.default.contents(atPath: old.path)
        else { return false }
        return (try? AtomicFile.write(data, to: identityFile, permissions: 0o600)) != nil
    }

    private static func sameRecipient(_ one: String, _ other: String) -> Bool {
        one.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            == other.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    private static func existsNonEmpty(_ directory: URL) -> Bool {
        var info = stat()
        guard lstat(directory.path, &info) == 0 else { return false }
        guard info.st_mode & S_IFMT == S_IFDIR else { return true }
        return !((try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.isEmpty ?? false)
    }

    /// Renames the assembled directory to `destination`: an empty one is replaced atomically; a non-empty one
    /// only with `--force`, moved aside first and removed once the new set is in place.
    private static func moveIntoPlace(_ assembly: URL, at destination: URL, replacingExisting: Bool) throws {
        if rename(assembly.path, destination.path) == 0 { return }
        let failure = errno
        guard replacingExisting, failure == ENOTEMPTY || failure == EEXIST else {
            throw failure == ENOTEMPTY || failure == EEXIST ? DeploymentError.destinationNotEmpty : .writeFailed
        }
        let old = destination.deletingLastPathComponent().appending(
            path: ".\(destination.lastPathComponent).old-\(UUID().uuidString)")
        guard rename(destination.path, old.path) == 0 else { throw DeploymentError.writeFailed }
        guard rename(assembly.path, destination.path) == 0 else {
            _ = rename(old.path, destination.path)
            throw DeploymentError.writeFailed
        }
        try? FileManager.default.removeItem(at: old)
    }

    /// After a failure the vault may have recorded: everything but `secrets/identity` goes, and the identity is
    /// moved to `DIR/secrets/identity` when `DIR` is free (else it stays where it is); the path is named.
    private static func keepOnlyIdentity(in assembly: URL, at directory: URL) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: assembly.path)) ?? [] where name != "secrets"
        {
            try? FileManager.default.removeItem(at: assembly.appending(path: name))
        }
        let kept = rename(assembly.path, directory.path) == 0 ? directory : assembly
        FileHandle.standardError.write(
            Data(
                ("deploy: the vault may have recorded the new identity; its key is kept in "
                    + kept.appending(path: "secrets/identity").path + "\n").utf8))
    }
}
