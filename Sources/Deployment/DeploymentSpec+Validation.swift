import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension DeploymentSpec {
    /// Checks every setting before anything is rendered, so a bad value fails with the setting's name instead of
    /// producing a manifest the cluster would reject (or, worse, read differently).
    public func validate() throws(DeploymentError) {
        try require(Pattern.isPrintableLine(model), "model")
        try require(Pattern.matches(version, Pattern.token), "version")
        if let alias { try require(Pattern.matches(alias, Pattern.token), "alias") }
        try require(Pattern.isLabel(appName), "model")

        try require(!files.isEmpty, "files")
        try require(Set(files.map(\.path)).count == files.count, "files")
        for file in files {
            let parts = file.path.split(separator: "/", omittingEmptySubsequences: false)
            let isRelative = !file.path.hasPrefix("/") && !parts.contains("..") && !parts.contains("")
            try require(Pattern.isPrintableLine(file.path) && isRelative, "files.path")
            try require(Pattern.matches(file.sha256, Pattern.sha256Hex), "files.sha256")
        }
        try require(Pattern.isPrintableLine(signer.identity), "signer.identity")
        try require(Pattern.matches(signer.keyFingerprint, Pattern.sha256Hex), "signer.keyFingerprint")

        // A non-root process without capabilities cannot bind below 1024.
        try require((1024...65535).contains(server.port), "server.port")
        try require(server.maxBodyBytes > 0, "server.maxBodyBytes")
        try require(server.rateLimitPerSecond > 0, "server.rateLimitPerSecond")
        try require((1...1000).contains(server.replicas), "server.replicas")

        let quantities: [(String, String)] = [
            (resources.cpuRequest, "resources.cpuRequest"), (resources.memoryRequest, "resources.memoryRequest"),
            (resources.cpuLimit, "resources.cpuLimit"), (resources.memoryLimit, "resources.memoryLimit"),
            (resources.scratchLimit, "resources.scratchLimit"), (resources.vaultStorage, "resources.vaultStorage"),
        ]
        for (value, name) in quantities { try require(Pattern.matches(value, Pattern.quantity), name) }

        try require(Pattern.matches(image.name, Pattern.repository), "image.name")
        try require(Pattern.matches(image.tag, Pattern.tag) && image.tag != "latest", "image.tag")
        if let digest = image.digest { try require(Pattern.matches(digest, Pattern.digest), "image.digest") }
        try require(Pattern.isDigestPinnedReference(image.builder), "image.builder")
        try require(Pattern.isDigestPinnedReference(image.runtime), "image.runtime")
        try require((10000...2_147_483_647).contains(image.uid), "image.uid")
        try require(Pattern.isPrintableLine(image.sourceCommit), "image.sourceCommit")

        try require(Pattern.isLabel(kubernetes.namespace), "kubernetes.namespace")
        try require(Pattern.isLabelKey(kubernetes.gatewayLabelKey), "kubernetes.gatewayLabelKey")
        try require(Pattern.matches(kubernetes.gatewayLabelValue, Pattern.labelValue), "kubernetes.gatewayLabelValue")
        if let gatewayNamespace = kubernetes.gatewayNamespace {
            try require(Pattern.isLabel(gatewayNamespace), "kubernetes.gatewayNamespace")
        }
        try require(Pattern.isSubdomain(kubernetes.tlsSecretName), "kubernetes.tlsSecretName")
        try require(Pattern.isSubdomain(deploymentSecret.name), "kubernetes.deploymentSecretName")
        if let auditForwarding {
            let url = URL(string: auditForwarding.server)
            try require(
                url?.scheme == "https" && !(url?.host() ?? "").isEmpty && url?.query == nil && url?.user == nil
                    && Pattern.isPrintableLine(auditForwarding.server),
                "auditForwarding.server")
            try require(Pattern.isSubdomain(auditSecretName ?? ""), "auditForwarding.secretName")
            if let namespace = auditForwarding.serverNamespace {
                try require(Pattern.isLabel(namespace), "auditForwarding.serverNamespace")
            }
            if let cidr = auditForwarding.serverCIDR { try require(Pattern.isCIDR(cidr), "auditForwarding.serverCIDR") }
            switch auditForwarding.egressPeer {
            case .namespace(let namespace): try require(Pattern.isLabel(namespace), "auditForwarding.server")
            case .addresses(let cidr): try require(Pattern.isCIDR(cidr), "auditForwarding.serverCIDR")
            case nil: throw .invalidSetting("auditForwarding.egress")
            }
        }
        if let bundleSerial { try require(bundleSerial > 0, "bundleSerial") }
    }

    private func require(_ condition: Bool, _ setting: String) throws(DeploymentError) {
        if !condition { throw .invalidSetting(setting) }
    }
}

/// The shapes Kubernetes and OCI give to names, as whole-string patterns.
enum Pattern {
    static let token = "[A-Za-z0-9][A-Za-z0-9._+-]{0,127}"
    static let sha256Hex = "[0-9a-f]{64}"
    static let quantity = "[0-9]+(\\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?"
    static let repository = "[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*"
    static let tag = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
    static let digest = "sha256:[0-9a-f]{64}"
    static let label = "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
    static let labelName = "[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
    static let labelValue = "([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?"
    static let secretKey = "[-._A-Za-z0-9]{1,253}"

    static func matches(_ text: String, _ pattern: String) -> Bool {
        guard let regex = try? Regex(pattern) else { return false }
        return (try? regex.wholeMatch(in: text)) != nil
    }

    /// A DNS-1123 label: namespaces, container and port names.
    static func isLabel(_ text: String) -> Bool { matches(text, label) }

    /// A dotted-quad IPv4 address.
    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy {
                $0.count <= 3 && $0.allSatisfy(\.isASCII) && Int($0).map { (0...255).contains($0) } == true
            }
    }

    /// An IPv6 address (without zone), as `inet_pton` parses it: malformed forms such as `:::::::` or ten groups are
    /// refused here rather than by `kubectl apply` later (review 5, F8).
    static func isIPv6(_ text: String) -> Bool {
        guard text.contains(":"), text.utf8.count <= 45,
            text.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) || $0 == ":" })
        else { return false }
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1
    }

    /// The shortest prefixes accepted for the vault's egress block: a wider block opens the vault port to a large
    /// share of all addresses (review 5, F8: `0.0.0.0/1` or `::/1` is half of them).
    static let minimumIPv4Prefix = 8
    static let minimumIPv6Prefix = 32

    /// An IPv4 or IPv6 CIDR block no wider than /8 (IPv4) or /32 (IPv6).
    static func isCIDR(_ text: String) -> Bool {
        let parts = text.lowercased().split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count <= 3, parts[1].allSatisfy(\.isASCII), let prefix = Int(parts[1]) else {
            return false
        }
        if isIPv4(String(parts[0])) { return (minimumIPv4Prefix...32).contains(prefix) }
        return isIPv6(String(parts[0])) && (minimumIPv6Prefix...128).contains(prefix)
    }

    /// A DNS-1123 subdomain: Secret names.
    static func isSubdomain(_ text: String) -> Bool {
        text.utf8.count <= 253
            && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy {
                matches(String($0), label)
            }
    }

    /// A label key: an optional DNS subdomain prefix and `/`, then a name.
    static func isLabelKey(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1: return matches(parts[0], labelName)
        case 2: return isSubdomain(parts[0]) && matches(parts[1], labelName)
        default: return false
        }
    }

    /// `repository[:tag]@sha256:digest`: a base image that cannot move under a rebuild. A tag alone is refused,
    /// and so is `latest`, even with a digest, since it says nothing about what was pinned.
    static func isDigestPinnedReference(_ text: String) -> Bool {
        guard let at = text.lastIndex(of: "@"), matches(String(text[text.index(after: at)...]), digest) else {
            return false
        }
        let name = text[..<at]
        let slash = name.lastIndex(of: "/").map { name.index(after: $0) } ?? name.startIndex
        guard let colon = name[slash...].lastIndex(of: ":") else { return matches(String(name), repository) }
        let tagText = String(name[name.index(after: colon)...])
        return matches(String(name[..<colon]), repository) && matches(tagText, tag) && tagText != "latest"
    }

    /// One line of printable text: no control characters, and none of the characters YAML 1.1 treats as line
    /// breaks (NEL, U+2028, U+2029) or a byte-order mark, since names also appear in comments.
    static func isPrintableLine(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 1024
            && text.unicodeScalars.allSatisfy {
                $0.value >= 0x20 && !(0x7F...0x9F).contains($0.value) && ![0x2028, 0x2029, 0xFEFF].contains($0.value)
            }
    }
}
