extension DeploymentSpec {
    /// The name shared by the Deployment, Service, ServiceAccount and the rest: `modelvault-` and the model's
    /// name folded to a DNS-1123 label.
    var appName: String { Self.deploymentName(forModel: model) }

    /// The deployment name of `model`: `modelvault-` and the name folded to a DNS-1123 label. The vault records a
    /// deployment under it, so a server making a bundle for a remote `deploy` derives it the same way.
    public static func deploymentName(forModel model: String) -> String {
        var folded = ""
        for scalar in model.lowercased().unicodeScalars {
            let keep = ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
            if keep {
                folded.unicodeScalars.append(scalar)
            } else if !folded.isEmpty, !folded.hasSuffix("-") {
                folded += "-"
            }
        }
        var name = String(("modelvault-" + folded).prefix(63))
        while name.hasSuffix("-") { name.removeLast() }
        return name
    }

    /// The labels that select the pods: stable across versions so a rollout replaces them.
    var selectorLabels: [String: String] {
        ["app.kubernetes.io/name": "modelvault", "app.kubernetes.io/instance": appName]
    }

    /// The labels every object carries.
    var commonLabels: [String: String] {
        selectorLabels.merging(
            ["app.kubernetes.io/component": "inference-server", "app.kubernetes.io/managed-by": "modelvault"]
        ) { current, _ in current }
    }

    /// The name the deployment's objects share (`modelvault-` and the model's name as a DNS label).
    public var deploymentName: String { appName }

    /// The name of the Secret holding the deployment identity (key `identity`).
    public var identitySecretName: String { deploymentSecret.name }

    /// The Secret holding the deployment identity, and its key.
    var deploymentSecret: (name: String, key: String) {
        (kubernetes.deploymentSecretName ?? String(appName.prefix(54)) + "-identity", "identity")
    }

    /// The Secret holding the pod's audit-writer token and the vault server's CA, when audit entries are forwarded.
    public var auditSecretName: String? {
        auditForwarding.map { $0.secretName ?? String(appName.prefix(57)) + "-audit" }
    }

    /// The image reference the Deployment runs: by digest when one is known.
    var imageReference: String {
        if let digest = image.digest { return "\(image.name):\(image.tag)@\(digest)" }
        return "\(image.name):\(image.tag)"
    }

    /// The exact version served (the bundle holds only it), never a moving alias: the digests in the artifacts
    /// belong to that version.
    var servedModel: String { "\(model)@\(version)" }
}

/// Where things live inside the container.
enum ContainerPath {
    static let executable = "/app/modelvault"
    static let data = "/var/lib/modelvault"
    static let bundle = data + "/bundle"
    static let audit = data + "/audit"
    static let tls = "/var/run/secrets/modelvault/tls"
    static let deploymentIdentity = "/var/run/secrets/modelvault/deployment"
    static let auditForwarding = "/var/run/secrets/modelvault/audit"
    static let scratch = "/tmp"
}
