import Foundation

/// Everything `modelvault deploy` needs to know about one model version and how to serve it.
///
/// The spec carries names and digests only: secret values (the deployment identity, the TLS key) never pass
/// through it, so no rendered artifact can contain one. Secrets are referenced by the names of the Kubernetes
/// Secrets that hold them. The pod serves from a per-deployment bundle (see `modelvault deploy`), so nothing here
/// refers to the vault passphrase, master identity or signing key.
public struct DeploymentSpec: Sendable, Equatable {
    /// The model's name in the vault.
    public var model: String
    /// The exact version being deployed.
    public var version: String
    /// The alias the version was selected by (for example `production`), if any.
    public var alias: String?
    /// The version's files and their SHA-256 digests, as recorded in its signed manifest.
    public var files: [ModelFile]
    /// Who signed the version.
    public var signer: Signer
    /// How `modelvault serve` runs.
    public var server: ServerSettings
    /// Compute and storage requests and limits.
    public var resources: Resources
    /// The container image and the images it is built from.
    public var image: Image
    /// Namespace, secrets and network settings.
    public var kubernetes: KubernetesSettings
    /// The serial the vault gave this deployment's bundle: the pod refuses any older bundle
    /// (`--min-bundle-serial`); `nil` sets no floor.
    public var bundleSerial: Int?
    /// Where the pod forwards its audit entries (`serve --audit-server`); `nil` keeps them in the pod's own log only.
    public var auditForwarding: AuditForwarding?

    /// Creates a spec; every setting but the model's identity has a secure default.
    public init(
        model: String, version: String, alias: String? = nil, files: [ModelFile], signer: Signer,
        server: ServerSettings = ServerSettings(), resources: Resources = Resources(), image: Image = Image(),
        kubernetes: KubernetesSettings = KubernetesSettings()
    ) {
        self.model = model
        self.version = version
        self.alias = alias
        self.files = files
        self.signer = signer
        self.server = server
        self.resources = resources
        self.image = image
        self.kubernetes = kubernetes
    }
}

extension DeploymentSpec {
    /// One file of a model version.
    public struct ModelFile: Sendable, Equatable {
        /// The file's path inside the version, `/`-separated.
        public var path: String
        /// The SHA-256 digest of the file's plaintext, 64 lowercase hex digits.
        public var sha256: String

        /// Creates a file entry.
        public init(path: String, sha256: String) {
            self.path = path
            self.sha256 = sha256
        }
    }

    /// The signer of a model version.
    public struct Signer: Sendable, Equatable {
        /// A readable identity (a key name or an e-mail address).
        public var identity: String
        /// The SHA-256 fingerprint of the signer's public key, 64 lowercase hex digits.
        public var keyFingerprint: String

        /// Creates a signer entry.
        public init(identity: String, keyFingerprint: String) {
            self.identity = identity
            self.keyFingerprint = keyFingerprint
        }
    }

    /// Settings passed to `modelvault serve`.
    public struct ServerSettings: Sendable, Equatable {
        /// The TLS port the server listens on inside the pod.
        public var port: Int
        /// The largest request body accepted, in bytes.
        public var maxBodyBytes: Int
        /// Requests per second allowed per token.
        public var rateLimitPerSecond: Int
        /// The number of pods.
        public var replicas: Int

        /// Creates server settings; the defaults match `modelvault serve`'s.
        public init(port: Int = 8443, maxBodyBytes: Int = 64 << 20, rateLimitPerSecond: Int = 50, replicas: Int = 1) {
            self.port = port
            self.maxBodyBytes = maxBodyBytes
            self.rateLimitPerSecond = rateLimitPerSecond
            self.replicas = replicas
        }
    }

    /// Kubernetes resource quantities (for example `250m`, `512Mi`).
    public struct Resources: Sendable, Equatable {
        /// CPU the scheduler reserves for a pod.
        public var cpuRequest: String
        /// Memory the scheduler reserves for a pod.
        public var memoryRequest: String
        /// The CPU a pod may use at most.
        public var cpuLimit: String
        /// The memory a pod may use at most; models are decrypted into memory, so size it to them.
        public var memoryLimit: String
        /// Scratch space (`/tmp`) a pod may use at most.
        public var scratchLimit: String
        /// The size of the volume that holds the serving bundle (encrypted) and the pod's audit log.
        public var vaultStorage: String

        /// Creates resource settings.
        public init(
            cpuRequest: String = "250m", memoryRequest: String = "256Mi", cpuLimit: String = "1",
            memoryLimit: String = "1Gi", scratchLimit: String = "64Mi", vaultStorage: String = "1Gi"
        ) {
            self.cpuRequest = cpuRequest
            self.memoryRequest = memoryRequest
            self.cpuLimit = cpuLimit
            self.memoryLimit = memoryLimit
            self.scratchLimit = scratchLimit
            self.vaultStorage = vaultStorage
        }
    }

    /// The serving image and the images it is built from. The bases are pinned by digest; there is no default,
    /// since a digest can only come from the operator (`deploy` never looks one up or invents one).
    public struct Image: Sendable, Equatable {
        /// The repository the image is pushed to, for example `registry.example.com/modelvault`.
        public var name: String
        /// Its tag; `latest` is refused.
        public var tag: String
        /// Its digest (`sha256:` and 64 hex digits) once it has been built and pushed.
        public var digest: String?
        /// The build stage's base image, `NAME[:TAG]@sha256:DIGEST`, for example a `swift:…-bookworm` image.
        public var builder: String
        /// The runtime stage's base image, `NAME[:TAG]@sha256:DIGEST`: a distroless-style image with glibc,
        /// libstdc++ and libgcc and no shell, of the same distribution release as the builder (for example
        /// `gcr.io/distroless/cc-debian12:nonroot` with a `swift:…-bookworm` builder), so the C library matches.
        public var runtime: String
        /// The numeric user and group the server runs as (above 10000, clear of host accounts).
        public var uid: Int
        /// The source commit of the `modelvault` that wrote the artifacts (`unknown` when its build did not record
        /// one); the image records its own at build time (`--build-arg MODELVAULT_SOURCE_COMMIT`).
        public var sourceCommit: String = "unknown"

        /// Creates image settings; `builder` and `runtime` must be set to digest-pinned references before
        /// rendering.
        public init(
            name: String = "modelvault", tag: String = "0.1.0", digest: String? = nil, builder: String = "",
            runtime: String = "", uid: Int = 10001
        ) {
            self.name = name
            self.tag = tag
            self.digest = digest
            self.builder = builder
            self.runtime = runtime
            self.uid = uid
        }
    }

    /// Where and how the model is deployed in a cluster.
    public struct KubernetesSettings: Sendable, Equatable {
        /// The namespace created for the deployment.
        public var namespace: String
        /// The key of the label that marks the gateway pods allowed to reach the server.
        public var gatewayLabelKey: String
        /// The value that label must have.
        public var gatewayLabelValue: String
        /// The namespace of the gateway pods; `nil` means the deployment's own namespace.
        public var gatewayNamespace: String?
        /// The `kubernetes.io/tls` Secret holding the server's certificate and key.
        public var tlsSecretName: String
        /// The Secret holding the per-deployment age identity (key `identity`) that the serving bundle's files
        /// are wrapped for; `nil` names it after the deployment. It is the only secret the pod holds besides its
        /// TLS key: never the vault passphrase, master identity or signing key.
        public var deploymentSecretName: String?

        /// Creates cluster settings.
        public init(
            namespace: String = "modelvault", gatewayLabelKey: String = "modelvault.io/gateway",
            gatewayLabelValue: String = "true", gatewayNamespace: String? = nil,
            tlsSecretName: String = "modelvault-tls", deploymentSecretName: String? = nil
        ) {
            self.namespace = namespace
            self.gatewayLabelKey = gatewayLabelKey
            self.gatewayLabelValue = gatewayLabelValue
            self.gatewayNamespace = gatewayNamespace
            self.tlsSecretName = tlsSecretName
            self.deploymentSecretName = deploymentSecretName
        }
    }
}

extension DeploymentSpec {
    /// The vault server that receives the pod's audit entries through `POST /v1/audit/entries`, and the Secret
    /// holding the pod's audit-writer token (key `token`) and the CA certificate to trust for it (key `ca.crt`).
    public struct AuditForwarding: Sendable, Equatable {
        /// The vault server's URL, `https://HOST[:PORT]`.
        public var server: String
        /// The Secret's name; `nil` names it after the deployment.
        public var secretName: String?
        /// The namespace of the vault server's pods, for the egress rule; `nil` takes it from an in-cluster URL
        /// (`https://SERVICE.NAMESPACE.svc[...]`).
        public var serverNamespace: String?
        /// The vault server's addresses, for the egress rule (`10.0.0.0/24`); `nil` takes it from a URL whose host
        /// is an IP address.
        public var serverCIDR: String?

        /// Creates the setting.
        public init(
            server: String, secretName: String? = nil, serverNamespace: String? = nil, serverCIDR: String? = nil
        ) {
            self.server = server
            self.secretName = secretName
            self.serverNamespace = serverNamespace
            self.serverCIDR = serverCIDR
        }

        /// The server URL's TCP port (443 when none is written).
        var port: Int {
            guard let url = URL(string: server) else { return 443 }
            return url.port ?? 443
        }

        /// Where the pod may connect to forward its entries: the CIDR given, the namespace given, the URL's IP
        /// address, or the namespace of an in-cluster URL; `nil` when none applies (a DNS name outside the cluster),
        /// since a NetworkPolicy cannot name a host and "any address on the port" is what review 4 (F8) refused.
        var egressPeer: EgressPeer? {
            if let serverCIDR { return .addresses(serverCIDR) }
            if let serverNamespace { return .namespace(serverNamespace) }
            guard var host = URL(string: server)?.host(percentEncoded: false)?.lowercased(), !host.isEmpty else {
                return nil
            }
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            if Pattern.isIPv4(host) { return .addresses(host + "/32") }
            if Pattern.isIPv6(host) { return .addresses(host + "/128") }
            // SERVICE.NAMESPACE.svc, optionally followed by the cluster domain (cluster.local).
            let labels = host.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard let svc = labels.firstIndex(of: "svc"), svc == 2 else { return nil }
            return .namespace(labels[1])
        }

        /// The peer of the forwarding egress rule.
        enum EgressPeer: Equatable {
            case addresses(String)
            case namespace(String)
        }
    }
}
