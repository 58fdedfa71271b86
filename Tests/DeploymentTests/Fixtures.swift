import Deployment
import Foundation

/// A spec with values that exercise quoting (a name with spaces and a colon, a numeric-looking version).
enum Fixtures {
    static func spec(digest: String? = nil, unlock: DeploymentSpec.VaultUnlock? = nil) -> DeploymentSpec {
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
        spec.kubernetes.namespace = "ml-serving"
        if let unlock { spec.kubernetes.unlock = unlock }
        return spec
    }

    /// A fresh, empty temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
