extension DeploymentSpec {
    /// The name shared by the Deployment, Service, ServiceAccount and the rest: `modelvault-` and the model's
    /// name folded to a DNS-1123 label.
    var appName: String {
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

    /// The Secret that unlocks the vault and how `modelvault serve` is told about it.
    var unlockSecret: (name: String, key: String, flag: String) {
        switch kubernetes.unlock {
        case .passphrase(let name, let key): return (name, key, "--passphrase-file")
        case .identityFile(let name, let key): return (name, key, "--identity")
        }
    }

    /// The image reference the Deployment runs: by digest when one is known.
    var imageReference: String {
        if let digest = image.digest { return "\(image.name):\(image.tag)@\(digest)" }
        return "\(image.name):\(image.tag)"
    }

    /// The version selector `modelvault serve --models` is given: the exact version, never a moving alias,
    /// because the digests in the artifacts belong to that version.
    var servedModel: String { "\(model)@\(version)" }
}

/// Where things live inside the container.
enum ContainerPath {
    static let executable = "/app/modelvault"
    static let vault = "/var/lib/modelvault/vault"
    static let tls = "/var/run/secrets/modelvault/tls"
    static let unlock = "/var/run/secrets/modelvault/unlock"
    static let scratch = "/tmp"
    /// The host's high-water mark of the vault (`MODELVAULT_STATE_DIR`): writable, persistent, not on the vault volume.
    static let state = "/var/lib/modelvault/state"
}
