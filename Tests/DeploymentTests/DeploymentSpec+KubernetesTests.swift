import Deployment
import Foundation
import Testing

@Suite struct KubernetesManifestTests {
    private let labelSelector = [
        "app.kubernetes.io/name": "modelvault", "app.kubernetes.io/instance": "modelvault-breast-cancer-logistic",
    ]

    @Test func everyDocumentParsesAsAKubernetesObjectWithANamespace() throws {
        let rendered = try Rendered.make(Fixtures.spec())
        defer { rendered.remove() }
        let objects = try rendered.kubernetesObjects()
        let kinds = objects.compactMap { $0["kind"].string }.sorted()
        #expect(
            kinds == [
                "Deployment", "Kustomization", "Namespace", "NetworkPolicy", "NetworkPolicy", "PersistentVolumeClaim",
                "Role", "RoleBinding", "Service", "ServiceAccount",
            ])
        for object in objects {
            #expect(object["apiVersion"].string?.isEmpty == false)
            guard let kind = object["kind"].string, kind != "Kustomization" else { continue }
            let name = try #require(object["metadata"]["name"].string)
            #expect(name.count <= 63)
            if kind != "Namespace" {
                #expect(object["metadata"]["namespace"].string == "ml-serving", "\(kind) has no namespace")
            }
        }
    }

    @Test func kustomizationListsEveryManifestFile() throws {
        let rendered = try Rendered.make(Fixtures.spec())
        defer { rendered.remove() }
        let listed = try rendered.object("kubernetes/kustomization.yaml")["resources"].array.compactMap(\.string)
        let files = rendered.artifacts.files.map(\.path)
            .filter { $0.hasPrefix("kubernetes/") && $0 != "kubernetes/kustomization.yaml" }
            .map { String($0.dropFirst("kubernetes/".count)) }
        #expect(listed.sorted() == files.sorted())
        #expect(Set(listed).count == listed.count)
    }

    @Test func namespaceEnforcesTheRestrictedPodSecurityStandard() throws {
        let rendered = try Rendered.make(Fixtures.spec())
        defer { rendered.remove() }
        let namespace = try rendered.object("kubernetes/namespace.yaml")
        #expect(namespace["kind"].string == "Namespace")
        #expect(namespace["metadata"]["name"].string == "ml-serving")
        let labels = namespace["metadata"]["labels"]
        for mode in ["enforce", "audit", "warn"] {
            #expect(labels["pod-security.kubernetes.io/\(mode)"].string == "restricted")
            #expect(labels["pod-security.kubernetes.io/\(mode)-version"].string == "latest")
        }
    }

    @Test func deploymentPodIsLockedDown() throws {
        let rendered = try Rendered.make(Fixtures.spec())
        defer { rendered.remove() }
        let deployment = try rendered.object("kubernetes/deployment.yaml")
        #expect(deployment["apiVersion"].string == "apps/v1")
        #expect(deployment["kind"].string == "Deployment")
        #expect(deployment["spec"]["replicas"].int == 1)
        let selector = deployment["spec"]["selector"]["matchLabels"].dictionary.compactMapValues(\.string)
        #expect(selector == labelSelector)
        let template = deployment["spec"]["template"]
        let podLabels = template["metadata"]["labels"].dictionary.compactMapValues(\.string)
        #expect(selector.allSatisfy { podLabels[$0.key] == $0.value }, "the selector must match the pod labels")

        let pod = template["spec"]
        #expect(pod["automountServiceAccountToken"].bool == false)
        #expect(pod["serviceAccountName"].string == "modelvault-breast-cancer-logistic")
        #expect(pod["hostNetwork"].exists == false && pod["hostPID"].exists == false)
        let podSecurity = pod["securityContext"]
        #expect(podSecurity["runAsNonRoot"].bool == true)
        #expect(podSecurity["runAsUser"].int == 10001)
        #expect(podSecurity["runAsGroup"].int == 10001)
        #expect(podSecurity["fsGroup"].int == 10001)
        #expect(podSecurity["seccompProfile"]["type"].string == "RuntimeDefault")

        let containers = pod["containers"].array
        try #require(containers.count == 1)
        let container = containers[0]
        #expect(container["imagePullPolicy"].string == "Always")
        #expect(container["image"].string == "registry.example.com/ml/modelvault:0.1.0@" + Fixtures.imageDigest)
        let security = container["securityContext"]
        #expect(security["runAsNonRoot"].bool == true)
        #expect((security["runAsUser"].int ?? 0) >= 10000)
        #expect(security["allowPrivilegeEscalation"].bool == false)
        #expect(security["privileged"].bool == false)
        #expect(security["readOnlyRootFilesystem"].bool == true)
        #expect(security["capabilities"]["drop"].array.compactMap(\.string) == ["ALL"])
        #expect(security["capabilities"]["add"].exists == false)
        #expect(security["seccompProfile"]["type"].string == "RuntimeDefault")

        let resources = container["resources"]
        for kind in ["requests", "limits"] {
            for resource in ["cpu", "memory"] {
                #expect(resources[kind][resource].string?.isEmpty == false, "\(kind).\(resource) missing")
            }
        }
        #expect(container["ports"][0]["containerPort"].int == 8443)
        #expect(container["ports"][0]["name"].string == "https")
    }

    @Test func probesUseTheOpenInferenceProtocolHealthRoutesOverHTTPS() throws {
        let rendered = try Rendered.make(Fixtures.spec())
        defer { rendered.remove() }
        let container = try rendered.object("kubernetes/deployment.yaml")["spec"]["template"]["spec"]["containers"][0]
        let expected = [
            "livenessProbe": "/v2/health/live", "readinessProbe": "/v2/health/ready", "startupProbe": "/v2/health/live",
        ]
        for (probe, path) in expected {
            let get = container[probe]["httpGet"]
            #expect(get["path"].string == path, "\(probe)")
            #expect(get["scheme"].string == "HTTPS", "\(probe)")
            #expect(get["port"].string == "https", "\(probe)")
        }
    }

    @Test func serverArgumentsPinTheVersionAndReadSecretsFromFiles() throws {
        let rendered = try Rendered.make(Fixtures.spec())
        defer { rendered.remove() }
        let container = try rendered.object("kubernetes/deployment.yaml")["spec"]["template"]["spec"]["containers"][0]
        let args = container["args"].array.compactMap(\.string)
        func value(after flag: String) -> String? {
            args.firstIndex(of: flag).flatMap { args.indices.contains($0 + 1) ? args[$0 + 1] : nil }
        }
        #expect(args.first == "serve")
        // Issue #19: serving-only from the bundle (which implies no /v1 registry route), never the vault.
        #expect(value(after: "--bundle") == "/var/lib/modelvault/bundle")
        #expect(value(after: "--deployment-identity") == "/var/run/secrets/modelvault/deployment/identity")
        #expect(value(after: "--signer-fingerprint") == String(repeating: "1f", count: 32))
        #expect(value(after: "--audit-log") == "/var/lib/modelvault/audit")
        for flag in ["--vault", "--passphrase-file", "--identity", "--models"] { #expect(!args.contains(flag)) }
        #expect(value(after: "--port") == "8443")
        #expect(value(after: "--rate-limit") == "50", "a number serve parses")
        #expect(value(after: "--tls-cert") == "/var/run/secrets/modelvault/tls/tls.crt")
        #expect(value(after: "--tls-key") == "/var/run/secrets/modelvault/tls/tls.key")
        #expect(!args.contains("--insecure-http"))
    }

    @Test(arguments: [nil, "ml-identity"])
    func secretsAreReferencedAsReadOnlyVolumesNeverInlined(secretName: String?) throws {
        var spec = Fixtures.spec()
        spec.kubernetes.deploymentSecretName = secretName
        let rendered = try Rendered.make(spec)
        defer { rendered.remove() }
        let pod = try rendered.object("kubernetes/deployment.yaml")["spec"]["template"]["spec"]
        let volumes = Dictionary(uniqueKeysWithValues: pod["volumes"].array.map { ($0["name"].string ?? "", $0) })
        #expect(volumes["tls"]?["secret"]["secretName"].string == "modelvault-tls")
        let identity = volumes["deployment-identity"]?["secret"]
        #expect(identity?["secretName"].string == secretName ?? "modelvault-breast-cancer-logistic-identity")
        #expect(identity?["items"][0]["key"].string == "identity")
        for name in ["tls", "deployment-identity"] {
            // 0400 (issue #19): owner read only. The kubelet adds group read for the pod's fsGroup, which the
            // server accepts; it refuses a key readable by others.
            #expect(volumes[name]?["secret"]["defaultMode"].int == 0o400)
        }
        let mounts = pod["containers"][0]["volumeMounts"].array
        for mount in mounts where mount["name"].string != "tmp" && mount["subPath"].string != "audit" {
            #expect(mount["readOnly"].bool == true, "\(mount["mountPath"].string ?? "")")
        }
        #expect(pod["containers"][0]["env"].exists == false, "secrets are files, not environment variables")

        // No Secret object, and no data or stringData anywhere: the values never pass through the artifacts.
        for object in try rendered.kubernetesObjects() {
            #expect(object["kind"].string != "Secret")
            #expect(object["data"].exists == false && object["stringData"].exists == false)
        }
        for file in rendered.artifacts.files {
            for marker in ["AGE-SECRET-KEY", "BEGIN PRIVATE KEY", "BEGIN EC PRIVATE KEY", "MODELVAULT_PASSPHRASE"] {
                #expect(!file.contents.contains(marker), "\(file.path)")
            }
            // Issue #19: the pod is never given the vault passphrase, by value or by reference.
            #expect(!file.contents.lowercased().contains("passphrase"), "\(file.path)")
        }
    }

    @Test func scratchSpaceIsABoundedEmptyDir() throws {
        let rendered = try Rendered.make(Fixtures.spec())
        defer { rendered.remove() }
        let pod = try rendered.object("kubernetes/deployment.yaml")["spec"]["template"]["spec"]
        let tmp = try #require(pod["volumes"].array.first { $0["name"].string == "tmp" })
        #expect(tmp["emptyDir"]["sizeLimit"].string == "64Mi")
        let mount = pod["containers"][0]["volumeMounts"].array.first { $0["name"].string == "tmp" }
        #expect(mount?["mountPath"].string == "/tmp")
    }

    @Test func networkPolicyAllowsOnlyGatewayIngressAndDNSEgress() throws {
        var spec = Fixtures.spec()
        spec.kubernetes.gatewayNamespace = "ingress"
        let rendered = try Rendered.make(spec)
        defer { rendered.remove() }
        let policy = try rendered.object("kubernetes/networkpolicy.yaml")
        #expect(policy["apiVersion"].string == "networking.k8s.io/v1")
        let policySpec = policy["spec"]
        #expect(policySpec["podSelector"]["matchLabels"].dictionary.compactMapValues(\.string) == labelSelector)
        #expect(policySpec["policyTypes"].array.compactMap(\.string).sorted() == ["Egress", "Ingress"])

        let ingress = policySpec["ingress"].array
        try #require(ingress.count == 1)
        let from = ingress[0]["from"].array
        try #require(from.count == 1)
        #expect(from[0]["podSelector"]["matchLabels"]["modelvault.io/gateway"].string == "true")
        #expect(from[0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"].string == "ingress")
        #expect(
            ingress[0]["ports"].array.map { "\($0["protocol"].string ?? "")/\($0["port"].int ?? 0)" } == ["TCP/8443"])

        let egress = policySpec["egress"].array
        try #require(egress.count == 1)
        let to = egress[0]["to"].array
        try #require(to.count == 1)
        #expect(to[0]["podSelector"]["matchLabels"]["k8s-app"].string == "kube-dns")
        #expect(to[0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"].string == "kube-system")
        let ports = egress[0]["ports"].array.map { "\($0["protocol"].string ?? "")/\($0["port"].int ?? 0)" }
        #expect(ports.sorted() == ["TCP/53", "UDP/53"])

        let deny = try rendered.object("kubernetes/networkpolicy-default-deny.yaml")["spec"]
        #expect(deny["podSelector"].dictionary.isEmpty && deny["podSelector"].exists)
        #expect(deny["policyTypes"].array.compactMap(\.string).sorted() == ["Egress", "Ingress"])
        #expect(deny["ingress"].exists == false && deny["egress"].exists == false)
    }

    @Test func gatewayInTheSameNamespaceNeedsNoNamespaceSelector() throws {
        let rendered = try Rendered.make(Fixtures.spec())
        defer { rendered.remove() }
        let from = try rendered.object("kubernetes/networkpolicy.yaml")["spec"]["ingress"][0]["from"][0]
        #expect(from["namespaceSelector"].exists == false)
        #expect(from["podSelector"]["matchLabels"]["modelvault.io/gateway"].string == "true")
    }

    @Test func serviceAccountRoleAndBindingAreMinimal() throws {
        let rendered = try Rendered.make(Fixtures.spec())
        defer { rendered.remove() }
        let account = try rendered.object("kubernetes/serviceaccount.yaml")
        #expect(account["automountServiceAccountToken"].bool == false)
        let role = try rendered.object("kubernetes/role.yaml")
        #expect(role["kind"].string == "Role", "a namespaced Role, not a ClusterRole")
        #expect(role["rules"].exists && role["rules"].array.isEmpty)
        let binding = try rendered.object("kubernetes/rolebinding.yaml")
        #expect(binding["roleRef"]["kind"].string == "Role")
        #expect(binding["roleRef"]["name"].string == role["metadata"]["name"].string)
        #expect(binding["subjects"].array.count == 1)
        #expect(binding["subjects"][0]["kind"].string == "ServiceAccount")
        #expect(binding["subjects"][0]["name"].string == account["metadata"]["name"].string)
    }

    @Test func serviceTargetsTheServingPort() throws {
        let rendered = try Rendered.make(Fixtures.spec())
        defer { rendered.remove() }
        let service = try rendered.object("kubernetes/service.yaml")["spec"]
        #expect(service["type"].string == "ClusterIP")
        #expect(service["selector"].dictionary.compactMapValues(\.string) == labelSelector)
        #expect(service["ports"][0]["targetPort"].string == "https")
    }

    /// Issue #19: no skip annotation anywhere; without the image's digest there is no Deployment to skip a check
    /// on (it is written by `deploy --image-digest` once the image is built).
    @Test func theDeploymentIsWrittenOnlyWithTheImageDigest() throws {
        let digest = "sha256:" + String(repeating: "c3", count: 32)
        let rendered = try Rendered.make(Fixtures.spec(digest: digest))
        defer { rendered.remove() }
        let deployment = try rendered.object("kubernetes/deployment.yaml")
        let image = deployment["spec"]["template"]["spec"]["containers"][0]["image"].string
        #expect(image == "registry.example.com/ml/modelvault:0.1.0@" + digest)

        let unpinned = try Rendered.make(Fixtures.spec(digest: nil))
        defer { unpinned.remove() }
        #expect(unpinned.artifacts["kubernetes/deployment.yaml"] == nil)
        #expect(unpinned.artifacts["kubernetes/kustomization.yaml"]?.contains("- deployment.yaml") == false)
        #expect(rendered.artifacts["kubernetes/kustomization.yaml"]?.contains("- deployment.yaml") == true)
        for file in rendered.artifacts.files + unpinned.artifacts.files {
            #expect(!file.contents.contains("checkov"), "\(file.path)")
        }
    }
}

/// Issue #19: the pod's audit entries go to the vault server with a token from a Secret of its own, and the pod
/// refuses bundles older than the serial the vault gave this deployment.
@Suite struct KubernetesAuditForwardingTests {
    @Test func theDeploymentWiresTheAuditSecretTheVaultsPortAndTheBundleFloor() throws {
        let rendered = try Rendered.make(Fixtures.forwardingSpec())
        defer { rendered.remove() }
        let deployment = try rendered.object("kubernetes/deployment.yaml")
        let pod = deployment["spec"]["template"]["spec"]
        let arguments = pod["containers"][0]["args"].array.compactMap(\.string)
        let joined = arguments.joined(separator: " ")
        #expect(joined.contains("--min-bundle-serial 4"))
        #expect(joined.contains("--audit-server https://vault.ml-platform.svc:8443"))
        #expect(joined.contains("--audit-token-file /var/run/secrets/modelvault/audit/token"))
        #expect(joined.contains("--ca-file /var/run/secrets/modelvault/audit/ca.crt"))
        let volume = try #require(pod["volumes"].array.first { $0["name"].string == "audit-forwarding" })
        #expect(volume["secret"]["secretName"].string == "modelvault-breast-cancer-logistic-audit")
        #expect(volume["secret"]["defaultMode"].int == 0o400)
        let mount = try #require(
            pod["containers"][0]["volumeMounts"].array.first { $0["name"].string == "audit-forwarding" })
        #expect(mount["readOnly"].bool == true)
        let policy = try rendered.object("kubernetes/networkpolicy.yaml")
        let ports = policy["spec"]["egress"].array.flatMap { $0["ports"].array }.compactMap { $0["port"].int }
        #expect(ports.contains(8443))
        // Without forwarding there is no audit Secret and no egress beyond DNS.
        let plain = try Rendered.make(Fixtures.spec())
        defer { plain.remove() }
        let plainText = try String(
            contentsOf: plain.directory.appendingPathComponent("kubernetes/deployment.yaml"), encoding: .utf8)
        #expect(!plainText.contains("audit-forwarding"))
        #expect(!plainText.contains("--audit-server"))
    }

    /// The attack (review 4, F8): with audit forwarding the egress rule allowed every address on the vault's port
    /// (with a URL on 443, the whole internet), while the file's comment said "egress only to the cluster DNS".
    /// Every egress rule now names its peers: the vault's namespace for an in-cluster `*.NAMESPACE.svc` URL, the
    /// address itself for an IP, and a DNS name outside the cluster is refused unless told where the vault is.
    @Test func theVaultsEgressRuleNamesTheVaultNotEveryAddress() throws {
        func egress(_ server: String) throws -> (rules: [JSON], text: String) {
            var spec = Fixtures.spec()
            spec.auditForwarding = .init(server: server)
            let rendered = try Rendered.make(spec)
            defer { rendered.remove() }
            let text = try String(
                contentsOf: rendered.directory.appendingPathComponent("kubernetes/networkpolicy.yaml"), encoding: .utf8)
            return (try rendered.object("kubernetes/networkpolicy.yaml")["spec"]["egress"].array, text)
        }
        let inCluster = try egress("https://vault.ml-platform.svc:8443")
        #expect(inCluster.rules.allSatisfy { !$0["to"].array.isEmpty })
        let vault = try #require(inCluster.rules.first { $0["ports"][0]["port"].int == 8443 })
        #expect(
            vault["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"].string == "ml-platform")
        #expect(!inCluster.text.contains("egress only to the cluster DNS.") && inCluster.text.contains("vault server"))
        let address = try egress("https://10.1.2.3:8443")
        let byAddress = try #require(address.rules.first { $0["ports"][0]["port"].int == 8443 })
        #expect(byAddress["to"][0]["ipBlock"]["cidr"].string == "10.1.2.3/32")
        var outside = Fixtures.spec()
        outside.auditForwarding = .init(server: "https://vault.example.com")
        #expect(throws: DeploymentError.self) { try DeploymentArtifacts(rendering: outside) }
    }

    /// A vault outside the cluster, named by DNS, is reached through the addresses or namespace the operator gives;
    /// a CIDR of every address is refused.
    @Test func theVaultsAddressesOrNamespaceCanBeGiven() throws {
        var spec = Fixtures.spec()
        spec.auditForwarding = .init(server: "https://vault.example.com", serverCIDR: "192.0.2.0/28")
        let rendered = try Rendered.make(spec)
        defer { rendered.remove() }
        let rules = try rendered.object("kubernetes/networkpolicy.yaml")["spec"]["egress"].array
        #expect(rules.last?["to"][0]["ipBlock"]["cidr"].string == "192.0.2.0/28")
        #expect(rules.last?["ports"][0]["port"].int == 443)
        spec.auditForwarding = .init(server: "https://vault.example.com", serverNamespace: "ml-platform")
        #expect(throws: Never.self) { try DeploymentArtifacts(rendering: spec) }
        for cidr in ["10.0.0.0/8", "2001:db8::/32", "2001:db8::1/128"] {
            spec.auditForwarding = .init(server: "https://vault.example.com", serverCIDR: cidr)
            #expect(throws: Never.self) { try DeploymentArtifacts(rendering: spec) }
        }
        // Review 5, F8: a /1 (half of all addresses) and malformed IPv6 used to pass; the floor is /8 and /32.
        for cidr in [
            "0.0.0.0/0", "::/0", "10.0.0.1", "300.0.0.1/32", "0.0.0.0/1", "128.0.0.0/1", "10.0.0.0/7", "::/1",
            "8000::/1", "2001:db8::/31", "1:2:3:4:5:6:7:8:9:a/64", ":::::::/64", "1::2::3/64",
        ] {
            spec.auditForwarding = .init(server: "https://vault.example.com", serverCIDR: cidr)
            #expect(throws: DeploymentError.self) { try DeploymentArtifacts(rendering: spec) }
        }
    }
}
