import ArgumentParser
import Deployment
import Foundation
import Vault
import VaultCrypto
import VaultServer

/// `modelvault deploy NAME[@V|:ALIAS] -o DIR`: the Dockerfile, Kubernetes manifests and deployment_config.yaml
/// for one model version.
struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Write the deployment artifacts (Dockerfile, Kubernetes manifests) for a model version.",
        discussion: """
            Writes DIR/deployment_config.yaml, DIR/Dockerfile, DIR/kubernetes/ (apply with kubectl apply -k) and \
            the serving bundle DIR/bundle/: only the deployed version, re-wrapped for a fresh per-deployment age \
            identity, with its signed manifest, the vault's public verification key and a snapshot of the tokens \
            that may call it, all signed with the vault key. The pod serves from the bundle (serve --bundle) and \
            never holds the vault passphrase, master identity or signing key. The deployment identity is written \
            to DIR/secrets/identity (0600): create its Secret from it, then delete the file. \
            kubernetes/deployment.yaml is written once the image's digest is given (--image-digest).
            """
    )

    @Argument(help: "The model version: NAME, NAME@VERSION or NAME:ALIAS (default alias: production).")
    var model: String

    @Option(name: .shortAndLong, help: "The output directory (created; must not exist or be empty).")
    var output: String

    @Flag(help: "Replace the output directory if it is not empty.")
    var force = false

    @OptionGroup var vaultOptions: VaultOptions

    @Option(
        help: """
            The Kubernetes namespace to create. The vault keeps one deployment record (identity, serial, \
            revocations) per namespace and model: a deploy to another namespace gets its own identity.
            """)
    var namespace = "modelvault"

    @Option(help: "The image repository the built image is pushed to.")
    var image = "modelvault"

    @Option(help: "The image tag (not latest).")
    var imageTag = "0.1.0"

    @Option(help: "The pushed image's digest (sha256:...), to pin the Deployment to it.")
    var imageDigest: String?

    @Option(
        name: .customLong("builder-image"),
        help: "The build stage's base, pinned by digest: NAME[:TAG]@sha256:DIGEST (e.g. a swift:...-bookworm image).")
    var builderImage: String

    @Option(
        name: .customLong("runtime-image"),
        help: """
            The runtime stage's base, pinned by digest: a distroless-style image with glibc, libgcc and libstdc++ \
            of the builder's distribution release (e.g. gcr.io/distroless/cc-debian12:nonroot@sha256:DIGEST).
            """)
    var runtimeImage: String

    @Option(help: "The TLS port the server listens on in the pod.")
    var port = 8443

    @Option(help: "The number of replicas.")
    var replicas = 1

    @Option(help: "The largest request body, in bytes.")
    var maxBody = 64 << 20

    @Option(help: "Requests per second allowed per token.")
    var rateLimit = 50

    @Option(help: "CPU request per pod (Kubernetes quantity).")
    var cpuRequest = "250m"

    @Option(help: "Memory request per pod.")
    var memoryRequest = "256Mi"

    @Option(help: "CPU limit per pod.")
    var cpuLimit = "1"

    @Option(help: "Memory limit per pod (models are decrypted into memory: size it to them).")
    var memoryLimit = "1Gi"

    @Option(help: "Size of the vault volume.")
    var vaultStorage = "1Gi"

    @Option(help: "The label KEY=VALUE of the gateway pods allowed to reach the server.")
    var gatewayLabel = "modelvault.io/gateway=true"

    @Option(help: "The namespace of the gateway pods (default: the deployment's own).")
    var gatewayNamespace: String?

    @Option(help: "The kubernetes.io/tls Secret with the server's certificate and key.")
    var tlsSecret = "modelvault-tls"

    @Option(help: "The Secret holding the deployment identity (key: identity); default: named after the deployment.")
    var deploymentSecret: String?

    @Flag(
        name: .customLong("rotate-identity"),
        help: """
            Make a fresh deployment identity and revoke the one the deployment had in this namespace: the vault \
            never wraps a bundle for the old identity again, and the pod refuses every older bundle \
            (--min-bundle-serial). Deployments in other namespaces are not affected.
            """)
    var rotateIdentity = false

    @Flag(
        name: .customLong("adopt-legacy-record"),
        help: """
            Continue the vault's record of this deployment written before namespaces (its identity and serial) as \
            this namespace's. Refused without it, so another namespace cannot take it over by deploying first.
            """)
    var adoptLegacyRecord = false

    @Option(
        name: .customLong("audit-server"),
        help: "The vault server's https:// URL the pod forwards its audit entries to (token role: audit-writer).")
    var auditServer: String?

    @Option(
        name: .customLong("audit-secret"),
        help: "With --audit-server: the Secret holding the pod's audit token (key: token) and the server's CA (ca.crt)."
    )
    var auditSecret: String?

    @Option(
        name: .customLong("audit-server-namespace"),
        help: "With --audit-server: the namespace of the vault server's pods; the pod's egress goes only there.")
    var auditServerNamespace: String?

    @Option(
        name: .customLong("audit-server-cidr"),
        help: """
            With --audit-server: the vault server's addresses (CIDR); the pod's egress goes only there. Needed for \
            a DNS name outside the cluster (an in-cluster NAME.NAMESPACE.svc URL or an IP needs neither option).
            """)
    var auditServerCIDR: String?

    @Option(
        name: .customLong("verifier"),
        help: """
            Remote mode: the vault's verification key (`keys export-verifier`, from an admin) that the bundle's \
            signatures must verify with (default: $MODELVAULT_VERIFIER).
            """)
    var verifier: String?

    @Flag(name: .long, help: "Print JSON (the files written) instead of one path a line.") var json = false

    /// `--json`'s shape: the paths written.
    struct Output: Encodable {
        var files: [String]
        var bundle: String
        var identity: String?
    }

    func validate() throws {
        guard (try? Self.reference(model)) != nil else {
            throw ValidationError("expected NAME, NAME@VERSION or NAME:ALIAS")
        }
        if auditSecret != nil, auditServer == nil { throw ValidationError("--audit-secret goes with --audit-server") }
        if auditServerNamespace != nil || auditServerCIDR != nil, auditServer == nil {
            throw ValidationError("--audit-server-namespace and --audit-server-cidr go with --audit-server")
        }
        guard gatewayLabel.split(separator: "=", omittingEmptySubsequences: false).count == 2 else {
            throw ValidationError("--gateway-label must be KEY=VALUE")
        }
    }

    func run() async throws {
        if try await vaultOptions.whenRemote({ try await remote($0) }) { return }
        let session = try await vaultOptions.open()
        var spec = try await obtainSpec(for: try Self.reference(model), session: session)
        applyOptions(to: &spec)
        // The key that signs the bundle, pinned in the pod's arguments.
        let verifier = await session.verifierPublicKeyPEM()
        spec.signer.keyFingerprint = VerificationKey(keyVersion: 1, publicKeyPEM: verifier).fingerprint
        // The vault's record of this deployment: the same identity continues it (its Secret stays), a new one
        // only with --rotate-identity, which revokes the old one. The bundle's serial becomes the pod's floor.
        // A record belongs to one namespace (review 5, F3): a deploy to another namespace has its own identity.
        let record = try await session.deploymentRecord(spec.deploymentName, namespace: namespace, model: spec.model)
        if let record, record.namespace == nil {
            guard adoptLegacyRecord else {
                throw CLIError(
                    "deploy: the vault's record of \(spec.deploymentName) predates namespaces; in the namespace it "
                        + "serves, run deploy again with --adopt-legacy-record")
            }
            progress(
                "deploy: the vault's record of \(spec.deploymentName) predates namespaces; this deploy continues it "
                    + "and it becomes the record of namespace \(namespace)")
        }
        let identity: String?
        let recipient: String
        if let record, !rotateIdentity {
            (identity, recipient) = (nil, record.recipient)
        } else {
            let fresh = try ServingBundle.generateIdentity()
            (identity, recipient) = (fresh.identity, fresh.recipient)
        }
        spec.bundleSerial = (record?.serial ?? 0) + 1
        let artifacts = try DeploymentArtifacts(rendering: spec)
        let directory = URL(fileURLWithPath: output)
        try artifacts.write(to: directory, replacingExisting: force)
        let identityFile = directory.appendingPathComponent("secrets/identity")
        do {
            // The identity is on disk before the vault records it (review 5, F2).
            if let identity {
                try FileManager.default.createDirectory(
                    at: identityFile.deletingLastPathComponent(), withIntermediateDirectories: false,
                    attributes: [.posixPermissions: 0o700])
                try AtomicFile.write(
                    Data("# modelvault deployment identity for \(spec.model)@\(spec.version)\n\(identity)\n".utf8),
                    to: identityFile, permissions: 0o600)
            }
            try await session.writeServingBundle(
                [ModelReference(name: spec.model, selector: .version(Int(spec.version) ?? 0))], for: recipient,
                deployment: spec.deploymentName + "-" + UUID().uuidString.lowercased(),
                to: directory.appendingPathComponent("bundle"), registeredAs: spec.deploymentName,
                namespace: namespace, rotateIdentity: rotateIdentity, adoptLegacyRecord: adoptLegacyRecord)
            guard
                let serial = try await session.deploymentRecord(
                    spec.deploymentName, namespace: namespace, model: spec.model)?.serial,
                serial == spec.bundleSerial
            else {
                throw CLIError("deploy: another deploy of \(spec.deploymentName) ran at the same time; run it again")
            }
        } catch {
            // All or nothing: no manifests without their bundle. But if the vault now names the new identity (a
            // failure after it was recorded), its key is the only copy: it is kept (review 5, F2).
            var recorded = false
            if identity != nil,
                let record = try? await session.deploymentRecord(
                    spec.deploymentName, namespace: namespace, model: spec.model)
            {
                recorded = record.recipient == recipient
            }
            if recorded, let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) {
                for name in names where name != "secrets" {
                    try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
                }
                FileHandle.standardError.write(
                    Data(
                        "deploy: the vault recorded the new identity; its key is kept in \(identityFile.path)\n".utf8))
            } else {
                try? FileManager.default.removeItem(at: directory)
            }
            throw error
        }
        try present(artifacts, spec: spec, in: directory, newIdentity: identity != nil)
    }

    /// Prints what a deploy wrote, the same locally and remotely: the files, the bundle, the identity if new.
    func present(_ artifacts: DeploymentArtifacts, spec: DeploymentSpec, in directory: URL, newIdentity: Bool) throws {
        progress(
            "wrote \(artifacts.files.count) files, the bundle (serial \(spec.bundleSerial ?? 0))"
                + (newIdentity ? " and the identity" : "; the deployment identity is unchanged (keep its Secret)"))
        let manifests = artifacts.files.map { directory.appendingPathComponent($0.path).path }
        let bundle = directory.appendingPathComponent("bundle").path
        let identityPath = newIdentity ? directory.appendingPathComponent("secrets/identity").path : nil
        if json {
            try printJSON(Output(files: manifests, bundle: bundle, identity: identityPath))
        } else {
            for path in manifests + [bundle] + (identityPath.map { [$0] } ?? []) { print(path) }
        }
        progress(Self.nextSteps(for: spec, in: output, newIdentity: newIdentity))
    }

    // MARK: - The vault

    /// Looks the model version up in the vault and returns its spec: model, resolved version and alias, file
    /// digests from the signed manifest, and the signer. Only the vault-derived fields matter here; the command
    /// line options are applied afterwards by `applyOptions(to:)`.
    ///
    /// Resolves `selector` through the caller's authorised vault session and verifies the version (signature over the
    /// manifest and every decrypted file's digest) before describing it: deployment artifacts are only ever written
    /// for a version that verifies.
    private func obtainSpec(for reference: ModelReference, session: VaultSession) async throws -> DeploymentSpec {
        let info = try await session.verifyModel(reference)
        let alias: String? = if case .alias(let name) = reference.selector { name } else { nil }
        return DeploymentSpec(
            model: info.name, version: String(info.version), alias: alias,
            files: info.files.map { DeploymentSpec.ModelFile(path: $0.path, sha256: $0.sha256) },
            signer: DeploymentSpec.Signer(identity: "modelvault vault signing key", keyFingerprint: info.signer))
    }

    // MARK: -

    /// Copies the command-line settings into the spec.
    func applyOptions(to spec: inout DeploymentSpec) {
        spec.server = .init(
            port: port, maxBodyBytes: maxBody, rateLimitPerSecond: rateLimit, replicas: replicas)
        spec.resources = .init(
            cpuRequest: cpuRequest, memoryRequest: memoryRequest, cpuLimit: cpuLimit, memoryLimit: memoryLimit,
            vaultStorage: vaultStorage)
        spec.image.name = image
        spec.image.tag = imageTag
        spec.image.digest = imageDigest
        spec.image.builder = builderImage
        spec.image.runtime = runtimeImage
        spec.image.sourceCommit = BuildInfo.current.commit
        let label = gatewayLabel.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        spec.kubernetes = .init(
            namespace: namespace, gatewayLabelKey: String(label[0]), gatewayLabelValue: String(label[1]),
            gatewayNamespace: gatewayNamespace, tlsSecretName: tlsSecret, deploymentSecretName: deploymentSecret)
        spec.auditForwarding = auditServer.map {
            DeploymentSpec.AuditForwarding(
                server: $0, secretName: auditSecret, serverNamespace: auditServerNamespace,
                serverCIDR: auditServerCIDR)
        }
    }
}

extension DeployCommand {
    /// The vault's one model-reference grammar; a bare `NAME` deploys its `production` alias.
    static func reference(_ text: String) throws -> ModelReference {
        let parsed = try ModelReference(parsing: text)
        guard case .latest = parsed.selector else { return parsed }
        return try ModelReference(name: parsed.name, selector: .alias("production"))
    }
}
