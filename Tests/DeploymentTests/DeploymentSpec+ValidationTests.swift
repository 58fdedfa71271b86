import Deployment
import Testing

@Suite struct ValidationTests {
    @Test func defaultsAreValid() throws {
        try Fixtures.spec().validate()
        try Fixtures.spec(digest: "sha256:" + String(repeating: "0", count: 64)).validate()
    }

    /// `deploy` never invents a base image digest: a spec whose bases were not given is refused, naming them.
    @Test func baseImagesMustBeGivenPinnedByDigest() {
        var spec = Fixtures.spec()
        spec.image = DeploymentSpec.Image()
        #expect(throws: DeploymentError.self) { try spec.validate() }
        do {
            try spec.validate()
        } catch {
            #expect(error.isInvalidSetting("image.builder") || error.isInvalidSetting("image.runtime"))
            #expect(error.description.contains("digest"), "\(error)")
        }
    }

    /// One setting made invalid.
    struct Breakage: Sendable, CustomStringConvertible {
        let setting: String
        let apply: @Sendable (inout DeploymentSpec) -> Void
        init(_ setting: String, _ apply: @escaping @Sendable (inout DeploymentSpec) -> Void) {
            self.setting = setting
            self.apply = apply
        }
        var description: String { setting }
    }

    static let breakages: [Breakage] = [
        Breakage("image.tag") { $0.image.tag = "latest" },
        Breakage("image.digest") { $0.image.digest = "sha256:abc" },
        Breakage("image.name") { $0.image.name = "Registry/Model Vault" },
        Breakage("image.builder") { $0.image.builder = "swift" },
        Breakage("image.runtime") { $0.image.runtime = "ubuntu:latest" },
        // Issue #19: a tag can move under a rebuild; the bases must be pinned by digest.
        Breakage("image.builder") { $0.image.builder = "swift:6.3.1-bookworm" },
        Breakage("image.runtime") { $0.image.runtime = "gcr.io/distroless/cc-debian12:nonroot" },
        Breakage("image.runtime") { $0.image.runtime = "ubuntu@sha256:abc" },
        Breakage("image.builder") { $0.image.builder = "" },
        Breakage("image.uid") { $0.image.uid = 0 },
        Breakage("server.port") { $0.server.port = 443 },
        Breakage("server.replicas") { $0.server.replicas = 0 },
        Breakage("server.maxBodyBytes") { $0.server.maxBodyBytes = 0 },
        Breakage("resources.memoryLimit") { $0.resources.memoryLimit = "1 GB" },
        Breakage("kubernetes.namespace") { $0.kubernetes.namespace = "ML_Serving" },
        Breakage("kubernetes.gatewayLabelKey") { $0.kubernetes.gatewayLabelKey = "bad key" },
        Breakage("kubernetes.gatewayLabelValue") { $0.kubernetes.gatewayLabelValue = "-x" },
        Breakage("kubernetes.tlsSecretName") { $0.kubernetes.tlsSecretName = "TLS" },
        Breakage("kubernetes.deploymentSecretName") { $0.kubernetes.deploymentSecretName = "a b" },
        Breakage("files") { $0.files = [] },
        Breakage("files.path") { $0.files[0].path = "../model.safetensors" },
        Breakage("files.path") { $0.files[0].path = "/etc/passwd" },
        Breakage("files.sha256") { $0.files[0].sha256 = String(repeating: "A", count: 64) },
        Breakage("signer.keyFingerprint") { $0.signer.keyFingerprint = "1234" },
        Breakage("version") { $0.version = "1 2" },
        Breakage("model") { $0.model = "line\nbreak" },
        Breakage("model") { $0.model = "line\u{2028}separator" },
    ]

    /// Each case breaks one setting; the error names that setting and nothing else.
    @Test(arguments: breakages)
    func invalidSettingIsRefusedByName(breakage: Breakage) {
        var spec = Fixtures.spec()
        breakage.apply(&spec)
        do {
            try spec.validate()
            Issue.record("\(breakage.setting) was accepted")
        } catch {
            #expect(error.isInvalidSetting(breakage.setting), "\(error)")
        }
        #expect(throws: DeploymentError.self) { try DeploymentArtifacts(rendering: spec) }
    }

    @Test func errorDescriptionsNameTheSettingNotItsValue() {
        var spec = Fixtures.spec()
        spec.kubernetes.tlsSecretName = "Secret-Value-42"
        #expect(throws: DeploymentError.self) { try spec.validate() }
        do {
            try spec.validate()
        } catch {
            #expect(error.description == "invalid deployment setting: kubernetes.tlsSecretName")
            #expect(!error.description.contains("Secret-Value-42"))
        }
    }
}
