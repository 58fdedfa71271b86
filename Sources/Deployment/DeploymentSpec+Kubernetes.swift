extension DeploymentSpec {
    /// One Kubernetes manifest: its file name, the comment lines above it, and the object.
    struct Manifest {
        var fileName: String
        var comment: [String]
        var object: YAMLValue

        var rendered: String { YAMLValue.stream([(comment, object)]) }
    }

    /// The Kubernetes manifests, in the order they are applied. The Deployment is written only once the image's
    /// digest is known (`deploy --image-digest`): a pod never runs an image named by a movable tag.
    func kubernetesManifests() -> [Manifest] {
        let all = [
            Manifest(
                fileName: "namespace.yaml",
                comment: ["The namespace enforces the restricted Pod Security Standard on everything in it."],
                object: namespaceObject),
            Manifest(
                fileName: "serviceaccount.yaml",
                comment: ["The server's own identity; its API token is never mounted."],
                object: serviceAccountObject),
            Manifest(
                fileName: "role.yaml",
                comment: [
                    "No rules on purpose: the server never calls the Kubernetes API. Its configuration and secrets",
                    "reach it as volumes that the kubelet mounts, and the ServiceAccount token is not mounted.",
                    "Grant rules here only if a future feature needs the API, each with resourceNames.",
                ],
                object: roleObject),
            Manifest(
                fileName: "rolebinding.yaml", comment: ["Binds the (empty) Role to the server's ServiceAccount."],
                object: roleBindingObject),
            Manifest(
                fileName: "persistentvolumeclaim.yaml",
                comment: [
                    "The serving bundle (bundle/: the served version only, age-encrypted for this deployment's",
                    "identity, and signed by the vault) and the pod's audit log (audit/). The vault itself never",
                    "comes here. Copy the bundle in before the first start; the server mounts it read-only.",
                    "ReadWriteOnce: replicas share it only on one node; the server appends to the audit log on it.",
                ],
                object: persistentVolumeClaimObject),
            Manifest(
                fileName: "deployment.yaml",
                comment: ["Runs `modelvault serve` for \(servedModel)."].map(Self.commentSafe),
                object: deploymentObject),
            Manifest(
                fileName: "service.yaml", comment: ["The TLS endpoint inside the cluster."], object: serviceObject),
            Manifest(
                fileName: "networkpolicy-default-deny.yaml",
                comment: ["Denies all traffic to and from every pod of the namespace unless another policy allows it."],
                object: defaultDenyPolicyObject),
            Manifest(
                fileName: "networkpolicy.yaml",
                comment: [
                    "Ingress only from gateway pods to the serving port; egress only to the cluster DNS"
                        + (auditForwarding == nil ? "." : " and to the vault server (its namespace or addresses).")
                ],
                object: networkPolicyObject),
        ]
        return image.digest == nil ? all.filter { $0.fileName != "deployment.yaml" } : all
    }

    /// A kustomization listing the manifests, so that `kubectl apply -k` applies them together.
    func kustomization(listing manifests: [Manifest]) -> Manifest {
        let object: YAMLValue = .map([
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": .sequence(manifests.map { .string($0.fileName) }),
        ])
        return Manifest(
            fileName: "kustomization.yaml",
            comment: [
                "Apply with `kubectl apply -k .` after creating the Secrets named in deployment.yaml.",
                "deployment.yaml is written only with the image's digest: build and push the image, then",
                "regenerate with `modelvault deploy --image-digest sha256:...`.",
            ],
            object: object)
    }

    /// Comments are single lines: a model name is validated printable text, but make sure of it.
    private static func commentSafe(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.map { Pattern.isPrintableLine(String($0)) ? $0 : " " }))
    }

    private func metadata(name: String, annotations: [YAMLPair] = []) -> YAMLValue {
        var pairs = [
            YAMLPair(key: "name", value: .string(name)),
            YAMLPair(key: "namespace", value: .string(kubernetes.namespace)),
            YAMLPair(key: "labels", value: .labels(commonLabels)),
        ]
        if !annotations.isEmpty { pairs.append(YAMLPair(key: "annotations", value: .mapping(annotations))) }
        return .mapping(pairs)
    }

    private var namespaceObject: YAMLValue {
        var labels = commonLabels
        labels["kubernetes.io/metadata.name"] = kubernetes.namespace
        for mode in ["enforce", "audit", "warn"] {
            labels["pod-security.kubernetes.io/\(mode)"] = "restricted"
            labels["pod-security.kubernetes.io/\(mode)-version"] = "latest"
        }
        return .map([
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": .map(["name": .string(kubernetes.namespace), "labels": .labels(labels)]),
        ])
    }

    private var serviceAccountObject: YAMLValue {
        .map([
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": metadata(name: appName),
            "automountServiceAccountToken": false,
        ])
    }

    private var roleObject: YAMLValue {
        .map([
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": metadata(name: appName),
            "rules": [],
        ])
    }

    private var roleBindingObject: YAMLValue {
        .map([
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": metadata(name: appName),
            "roleRef": .map(["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": .string(appName)]),
            "subjects": [
                .map([
                    "kind": "ServiceAccount", "name": .string(appName), "namespace": .string(kubernetes.namespace),
                ])
            ],
        ])
    }

    private var dataClaimName: String { String(appName.prefix(58)) + "-data" }

    private var persistentVolumeClaimObject: YAMLValue {
        .map([
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": metadata(name: dataClaimName),
            "spec": .map([
                "accessModes": ["ReadWriteOnce"],
                "resources": .map(["requests": .map(["storage": .string(resources.vaultStorage)])]),
            ]),
        ])
    }

    /// The arguments of `modelvault serve`, shared by the Dockerfile and the Deployment: serving-only from the
    /// bundle (no /v1 registry route), which must be signed by the vault key pinned here.
    var serveArguments: [String] {
        var arguments = [
            "serve",
            "--bundle", ContainerPath.bundle,
            "--deployment-identity", ContainerPath.deploymentIdentity + "/" + deploymentSecret.key,
            "--signer-fingerprint", signer.keyFingerprint,
            "--audit-log", ContainerPath.audit,
            "--host", "0.0.0.0",
            "--port", String(server.port),
            "--tls-cert", ContainerPath.tls + "/tls.crt",
            "--tls-key", ContainerPath.tls + "/tls.key",
            "--max-body", String(server.maxBodyBytes),
            "--rate-limit", String(server.rateLimitPerSecond),
        ]
        // Older bundles (superseded, or made for a revoked identity) are refused.
        if let bundleSerial { arguments += ["--min-bundle-serial", String(bundleSerial)] }
        if let auditForwarding {
            arguments += [
                "--audit-server", auditForwarding.server,
                "--audit-token-file", ContainerPath.auditForwarding + "/token",
                "--ca-file", ContainerPath.auditForwarding + "/ca.crt",
            ]
        }
        return arguments
    }

    private var deploymentObject: YAMLValue {
        let annotations = [
            YAMLPair(key: "modelvault.io/model", value: .string(model)),
            YAMLPair(key: "modelvault.io/model-version", value: .string(version)),
        ]
        return .map([
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": metadata(name: appName, annotations: annotations),
            "spec": .map([
                "replicas": .int(server.replicas),
                "revisionHistoryLimit": 3,
                "selector": .map(["matchLabels": .labels(selectorLabels)]),
                "strategy": .map([
                    "type": "RollingUpdate", "rollingUpdate": .map(["maxUnavailable": 0, "maxSurge": 1]),
                ]),
                "template": .map([
                    "metadata": .map([
                        "labels": .labels(commonLabels),
                        "annotations": .mapping(Array(annotations.prefix(2))),
                    ]),
                    "spec": podSpec,
                ]),
            ]),
        ])
    }

    private var podSpec: YAMLValue {
        // Secret files are owner-read only (0400). The kubelet gives them group fsGroup and adds group read, so the
        // non-root server can read them; `serve` refuses a key file that others may read.
        let secretMode = 0o400
        return .map([
            "serviceAccountName": .string(appName),
            "automountServiceAccountToken": false,
            "enableServiceLinks": false,
            "securityContext": .map([
                "runAsNonRoot": true,
                "runAsUser": .int(image.uid),
                "runAsGroup": .int(image.uid),
                "fsGroup": .int(image.uid),
                "fsGroupChangePolicy": "OnRootMismatch",
                "seccompProfile": .map(["type": "RuntimeDefault"]),
            ]),
            "terminationGracePeriodSeconds": 30,
            "containers": [container],
            "volumes": .sequence(
                [
                    .map(["name": "data", "persistentVolumeClaim": .map(["claimName": .string(dataClaimName)])]),
                    .map([
                        "name": "tls",
                        "secret": .map([
                            "secretName": .string(kubernetes.tlsSecretName),
                            "defaultMode": .int(secretMode),
                            "items": [
                                .map(["key": "tls.crt", "path": "tls.crt"]),
                                .map(["key": "tls.key", "path": "tls.key"]),
                            ],
                        ]),
                    ]),
                    .map([
                        "name": "deployment-identity",
                        "secret": .map([
                            "secretName": .string(deploymentSecret.name),
                            "defaultMode": .int(secretMode),
                            "items": [
                                .map(["key": .string(deploymentSecret.key), "path": .string(deploymentSecret.key)])
                            ],
                        ]),
                    ]),
                    // The root filesystem is read-only; scratch space lives in memory and is bounded.
                    .map([
                        "name": "tmp",
                        "emptyDir": .map(["medium": "Memory", "sizeLimit": .string(resources.scratchLimit)]),
                    ]),
                ] + auditVolumes),
        ])
    }

    /// The audit forwarding Secret (the pod's audit-writer token and the vault server's CA), when configured.
    private var auditVolumes: [YAMLValue] {
        guard let auditSecretName else { return [] }
        return [
            .map([
                "name": "audit-forwarding",
                "secret": .map([
                    "secretName": .string(auditSecretName),
                    "defaultMode": .int(0o400),
                    "items": [.map(["key": "token", "path": "token"]), .map(["key": "ca.crt", "path": "ca.crt"])],
                ]),
            ])
        ]
    }

    private func probe(_ path: String, period: Int, failures: Int) -> YAMLValue {
        .map([
            "httpGet": .map(["path": .string(path), "port": "https", "scheme": "HTTPS"]),
            "periodSeconds": .int(period),
            "timeoutSeconds": 3,
            "failureThreshold": .int(failures),
        ])
    }

    private var container: YAMLValue {
        .map([
            "name": "modelvault",
            "image": .string(imageReference),
            "imagePullPolicy": "Always",
            "args": .sequence(serveArguments.map { .string($0) }),
            "ports": [.map(["name": "https", "containerPort": .int(server.port), "protocol": "TCP"])],
            "securityContext": .map([
                "runAsNonRoot": true,
                "runAsUser": .int(image.uid),
                "runAsGroup": .int(image.uid),
                "allowPrivilegeEscalation": false,
                "privileged": false,
                "readOnlyRootFilesystem": true,
                "capabilities": .map(["drop": ["ALL"]]),
                "seccompProfile": .map(["type": "RuntimeDefault"]),
            ]),
            "resources": .map([
                "requests": .map(["cpu": .string(resources.cpuRequest), "memory": .string(resources.memoryRequest)]),
                "limits": .map(["cpu": .string(resources.cpuLimit), "memory": .string(resources.memoryLimit)]),
            ]),
            // Verifying the bundle and decrypting the model can take a while at start.
            "startupProbe": probe("/v2/health/live", period: 5, failures: 60),
            "livenessProbe": probe("/v2/health/live", period: 10, failures: 3),
            "readinessProbe": probe("/v2/health/ready", period: 5, failures: 3),
            "volumeMounts": .sequence(
                [
                    // The bundle read-only; only the audit log is writable.
                    .map([
                        "name": "data", "mountPath": .string(ContainerPath.bundle), "subPath": "bundle",
                        "readOnly": true,
                    ]),
                    .map(["name": "data", "mountPath": .string(ContainerPath.audit), "subPath": "audit"]),
                    .map(["name": "tls", "mountPath": .string(ContainerPath.tls), "readOnly": true]),
                    .map([
                        "name": "deployment-identity", "mountPath": .string(ContainerPath.deploymentIdentity),
                        "readOnly": true,
                    ]),
                    .map(["name": "tmp", "mountPath": .string(ContainerPath.scratch)]),
                ]
                    + (auditSecretName == nil
                        ? []
                        : [
                            .map([
                                "name": "audit-forwarding", "mountPath": .string(ContainerPath.auditForwarding),
                                "readOnly": true,
                            ])
                        ])),
        ])
    }

    private var serviceObject: YAMLValue {
        .map([
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata(name: appName),
            "spec": .map([
                "type": "ClusterIP",
                "selector": .labels(selectorLabels),
                "ports": [.map(["name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"])],
            ]),
        ])
    }

    private var defaultDenyPolicyObject: YAMLValue {
        .map([
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": metadata(name: "default-deny-all"),
            "spec": .map(["podSelector": .map([:]), "policyTypes": ["Ingress", "Egress"]]),
        ])
    }

    /// The forwarding rule's peer: an ipBlock, or every pod of the vault server's namespace.
    private static func egressObject(_ peer: AuditForwarding.EgressPeer) -> YAMLValue {
        switch peer {
        case .addresses(let cidr): .map(["ipBlock": .map(["cidr": .string(cidr)])])
        case .namespace(let namespace):
            .map(["namespaceSelector": .map(["matchLabels": .labels(["kubernetes.io/metadata.name": namespace])])])
        }
    }

    private var networkPolicyObject: YAMLValue {
        var peer: [YAMLPair] = [
            YAMLPair(
                key: "podSelector",
                value: .map([
                    "matchLabels": .labels([kubernetes.gatewayLabelKey: kubernetes.gatewayLabelValue])
                ]))
        ]
        if let gatewayNamespace = kubernetes.gatewayNamespace {
            // Both selectors in one peer: labelled pods in that namespace only.
            peer.insert(
                YAMLPair(
                    key: "namespaceSelector",
                    value: .map(["matchLabels": .labels(["kubernetes.io/metadata.name": gatewayNamespace])])),
                at: 0)
        }
        let dnsPeer: YAMLValue = .map([
            "namespaceSelector": .map(["matchLabels": .labels(["kubernetes.io/metadata.name": "kube-system"])]),
            "podSelector": .map(["matchLabels": .labels(["k8s-app": "kube-dns"])]),
        ])
        return .map([
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": metadata(name: appName),
            "spec": .map([
                "podSelector": .map(["matchLabels": .labels(selectorLabels)]),
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [
                    .map([
                        "from": [.mapping(peer)],
                        "ports": [.map(["protocol": "TCP", "port": .int(server.port)])],
                    ])
                ],
                "egress": .sequence(
                    [
                        .map([
                            "to": [dnsPeer],
                            "ports": [.map(["protocol": "UDP", "port": 53]), .map(["protocol": "TCP", "port": 53])],
                        ])
                    ]
                        // The vault server's port on the vault server only, for forwarded audit entries (TLS; the
                        // token is audit-writer only).
                        + (auditForwarding.flatMap { forwarding in
                            forwarding.egressPeer.map { peer in
                                [
                                    .map([
                                        "to": [Self.egressObject(peer)],
                                        "ports": [.map(["protocol": "TCP", "port": .int(forwarding.port)])],
                                    ])
                                ]
                            }
                        } ?? [])),
            ]),
        ])
    }
}
