import Deployment
import Foundation

/// A spec with values that exercise quoting (a name with spaces and a colon, a numeric-looking version).
enum Fixtures {
    /// Base images pinned by digest, as `deploy` is given them (the digests are made up for tests; `deploy` never
    /// invents one).
    static let builderImage = "swift:6.3.1-bookworm@sha256:" + String(repeating: "b1", count: 32)
    static let runtimeImage = "gcr.io/distroless/cc-debian12:nonroot@sha256:" + String(repeating: "c2", count: 32)

    /// The built image's digest (made up); `spec(digest: nil)` is a spec written before the image was built.
    static let imageDigest = "sha256:" + String(repeating: "5e", count: 32)

    static func spec(digest: String? = Fixtures.imageDigest) -> DeploymentSpec {
        var spec = DeploymentSpec(
            model: "breast cancer: logistic",
            version: "3",
            alias: "production",
            files: [
                .init(path: "model.safetensors", sha256: String(repeating: "ab", count: 32)),
                .init(path: "model_config.json", sha256: String(repeating: "0", count: 64)),
            ],
            signer: .init(identity: "devops@example.com", keyFingerprint: String(repeating: "1f", count: 32))
        )
        spec.image.name = "registry.example.com/ml/modelvault"
        spec.image.digest = digest
        spec.image.builder = builderImage
        spec.image.runtime = runtimeImage
        spec.kubernetes.namespace = "ml-serving"
        return spec
    }

    /// A pinned spec whose pod forwards its audit entries to the vault server and refuses bundles before serial 4.
    static func forwardingSpec() -> DeploymentSpec {
        var spec = spec()
        spec.auditForwarding = .init(server: "https://vault.ml-platform.svc:8443")
        spec.bundleSerial = 4
        return spec
    }

    /// A fresh, empty temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
