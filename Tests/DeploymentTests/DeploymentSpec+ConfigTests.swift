import Deployment
import Foundation
import Testing

@Suite struct DeploymentConfigTests {
    @Test func configRecordsModelDigestsSignerAndLimits() throws {
        let rendered = try Rendered.make(Fixtures.spec())
        defer { rendered.remove() }
        let config = try rendered.object("deployment_config.yaml")
        #expect(config["kind"].string == "DeploymentConfig")
        let model = config["model"]
        #expect(model["name"].string == "breast cancer: logistic")
        // A version that looks like a number stays a string.
        #expect(model["version"].string == "3")
        #expect(model["alias"].string == "production")
        let files = model["files"].array.map { "\($0["path"].string ?? "") \($0["sha256"].string ?? "")" }
        #expect(
            files == [
                "model.safetensors " + String(repeating: "ab", count: 32),
                "model_config.json " + String(repeating: "0", count: 64),
            ])
        #expect(model["signer"]["identity"].string == "devops@example.com")
        #expect(model["signer"]["keyFingerprint"].string == String(repeating: "1f", count: 32))
        #expect(config["server"]["port"].int == 8443)
        #expect(config["server"]["maxBodyBytes"].int == 64 << 20)
        #expect(config["server"]["rateLimitPerSecond"].int == 50)
        #expect(config["server"]["tls"].bool == true)
        #expect(config["limits"]["limits"]["memory"].string == "1Gi")
        #expect(config["kubernetes"]["secrets"]["tls"].string == "modelvault-tls")
        #expect(config["kubernetes"]["secrets"]["unlock"]["name"].string == "modelvault-passphrase")
    }

    @Test func renderingIsDeterministic() throws {
        let first = try DeploymentArtifacts(rendering: Fixtures.spec())
        let second = try DeploymentArtifacts(rendering: Fixtures.spec())
        #expect(first == second)
        #expect(
            first.files.map(\.path) == [
                "deployment_config.yaml", "Dockerfile", "kubernetes/namespace.yaml", "kubernetes/serviceaccount.yaml",
                "kubernetes/role.yaml", "kubernetes/rolebinding.yaml", "kubernetes/persistentvolumeclaim.yaml",
                "kubernetes/persistentvolumeclaim-state.yaml",
                "kubernetes/deployment.yaml", "kubernetes/service.yaml", "kubernetes/networkpolicy-default-deny.yaml",
                "kubernetes/networkpolicy.yaml", "kubernetes/kustomization.yaml",
            ])
        // File order in the spec does not change the output.
        var reordered = Fixtures.spec()
        reordered.files.reverse()
        #expect(try DeploymentArtifacts(rendering: reordered) == first)
    }
}
