import Foundation
import TestSupport
import Testing

/// `deploy` in remote mode (#14): the server makes and signs the serving bundle for an identity the client made and
/// kept; the client checks the bundle against its pinned key before writing anything, and the pod serves it.
@Suite(.serialized) struct RemoteDeployCLITests {
    typealias PreparedVault = RemoteModeCLITests.PreparedVault
    typealias RunningServer = RemoteModeCLITests.RunningServer

    static func deploy(_ model: String, to output: String, _ extra: [String] = []) -> [String] {
        [
            "deploy", model, "-o", output, "--builder-image", DeployCLITests.builder, "--runtime-image",
            DeployCLITests.runtime, "--image-digest", DeployBundleCLITests.imageDigest,
        ] + extra
    }

    /// The container arguments the Dockerfile names (the Deployment's are the same list).
    static func containerArguments(_ directory: URL) throws -> [String] {
        let dockerfile = try String(contentsOf: directory.appending(path: "Dockerfile"), encoding: .utf8)
        let cmd = try #require(dockerfile.split(separator: "\n").first { $0.hasPrefix("CMD ") })
        return try #require(try JSONSerialization.jsonObject(with: Data(cmd.dropFirst(4).utf8)) as? [String])
    }

    static func argument(_ flag: String, in arguments: [String]) -> String? {
        arguments.firstIndex(of: flag).map { arguments[$0 + 1] }
    }

    /// What a failed deploy may leave beside its output: nothing but, when the vault may have recorded the new
    /// identity, that identity.
    static func leftovers(in work: URL, named output: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: work.path).filter {
            $0.hasPrefix(".\(output).") || $0.hasPrefix(".modelvault-pull-")
        }
    }

    /// A remote deploy by a devops token writes the same kind of directory as a local deploy, the deployment
    /// identity 0600 and kept by the client only, and `serve --bundle` with the Deployment's own fingerprint serves
    /// the version from it. A second deploy keeps the identity (serial 2); `--rotate-identity` makes a new one.
    @Test(.timeLimit(.minutes(10))) func aRemoteDeployWritesABundleThePodServes() async throws {
        try ModelVaultBinary.requireBuilt()
        guard Interop.available("curl") else { try Interop.skipOrFail("curl") }
        let directory = try TemporaryDirectory()
        let vault = try PreparedVault(in: directory.url)
        let trained = try vault.admin([
            "train", "clf", "--dataset", "fraud", "--label", "label", "--model", "logistic", "--epochs", "5",
        ])
        try #require(trained.status == 0, "\(trained.stderr)")
        let server = try await RunningServer(vault)
        defer { server.stop() }
        let work = vault.work

        let deployed = try server.remote(vault, "devon", Self.deploy("clf@1", to: "dep"))
        try #require(deployed.status == 0, "\(deployed.stderr)")
        let out = work.appending(path: "dep")
        for path in ["Dockerfile", "deployment_config.yaml", "kubernetes", "bundle/bundle.sig", "secrets/identity"] {
            #expect(FileManager.default.fileExists(atPath: out.appending(path: path).path), "\(path)")
        }
        #expect(deployed.stdout.contains(out.appending(path: "secrets/identity").path), "\(deployed.stdout)")
        let mode =
            try FileManager.default.attributesOfItem(atPath: out.appending(path: "secrets/identity").path)[
                .posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try Self.leftovers(in: work, named: "dep").isEmpty)
        let arguments = try Self.containerArguments(out)
        let fingerprint = try #require(Self.argument("--signer-fingerprint", in: arguments))
        #expect(Self.argument("--min-bundle-serial", in: arguments) == "1")
        // The fingerprint pinned in the Deployment is the vault key's (the same as a local deploy names).
        let verifier = try String(contentsOf: work.appending(path: "vault.pem"), encoding: .utf8)
        #expect(try String(contentsOf: out.appending(path: "bundle/verifier.pem"), encoding: .utf8) == verifier)

        // The pod: the bundle, the identity and the fingerprint; no vault, no MODELVAULT_* variable.
        let process = Process()
        process.executableURL = ModelVaultBinary.url
        process.arguments = [
            "serve", "--bundle", out.appending(path: "bundle").path, "--deployment-identity",
            out.appending(path: "secrets/identity").path, "--signer-fingerprint", fingerprint, "--min-bundle-serial",
            "1", "--audit-log", work.appending(path: "pod-audit").path, "--insecure-http", "--port", "0",
        ]
        process.currentDirectoryURL = work
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MODELVAULT_") }
        let log = work.appending(path: "pod.out")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.runSerially()
        defer { if process.isRunning { process.terminate() } }
        var address: String?
        for _ in 0..<600 where address == nil && process.isRunning {
            try await Task.sleep(for: .milliseconds(100))
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            address = text.split(separator: "\n").first { $0.hasPrefix("listening on http://127.0.0.1:") }
                .map { String($0.dropFirst("listening on ".count)) }
        }
        let served = try #require(address, "the pod did not start: \((try? String(contentsOf: log)) ?? "")")
        let token = try #require(vault.tokens["admin"])
        let ready = try ChildProcess.tool(
            "curl", ["-s", "-H", "Authorization: Bearer \(token)", "-w", "\n%{http_code}", served + "/v2/models/clf"]
        ).run()
        #expect(ready.stdout.hasSuffix("200"), "\(ready.stdout)")
        #expect(ready.stdout.contains(#""versions":["1"]"#) || ready.stdout.contains("\"1\""), "\(ready.stdout)")
        process.terminate()
        process.waitUntilExit()
        try handle.close()

        // The same deployment again: the vault keeps its identity (no new secret), the serial rises.
        let again = try server.remote(vault, "devon", Self.deploy("clf@1", to: "dep2"))
        try #require(again.status == 0, "\(again.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "dep2/secrets").path))
        #expect(
            Self.argument("--min-bundle-serial", in: try Self.containerArguments(work.appending(path: "dep2"))) == "2")
        // A rotation: a fresh identity, kept by the client; the old bundle's identity no longer opens it.
        let rotated = try server.remote(vault, "devon", Self.deploy("clf@1", to: "dep3", ["--rotate-identity"]))
        try #require(rotated.status == 0, "\(rotated.stderr)")
        #expect(
            Self.argument("--min-bundle-serial", in: try Self.containerArguments(work.appending(path: "dep3"))) == "3")
        let old = try Data(contentsOf: out.appending(path: "secrets/identity"))
        let new = try Data(contentsOf: work.appending(path: "dep3/secrets/identity"))
        #expect(old != new)
        let crossed = try ModelVaultBinary.run(
            [
                "serve", "--bundle", "dep3/bundle", "--deployment-identity", "dep/secrets/identity",
                "--signer-fingerprint", fingerprint, "--audit-log", "pod-audit-2", "--insecure-http", "--port", "0",
            ], environment: [:], in: work)
        #expect(crossed.status == 6, "\(crossed.stderr)")
        // The server audited the deploys as `model.deploy` under the caller.
        let tail = try vault.admin(["audit", "tail", "-n", "200"])
        #expect(tail.stdout.contains("model.deploy") && tail.stdout.contains("devon"), "\(tail.stdout)")
    }

    /// A token without `model.deploy` gets 403 (exit 3) and nothing is written: no output, no staging, no identity.
    @Test(.timeLimit(.minutes(5))) func aTokenWithoutModelDeployIsRefusedAndNothingIsWritten() async throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let vault = try PreparedVault(in: directory.url)
        let server = try await RunningServer(vault)
        defer { server.stop() }
        for (persona, model) in [("dana", "alpha@1"), ("mel", "alpha@1"), ("opsbeta", "alpha@1"), ("nobody", "alpha")] {
            let output = "refused-\(persona)"
            let result = try server.remote(vault, persona, Self.deploy(model, to: output))
            #expect(result.status == 3, "\(persona): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: vault.work.appending(path: output).path), "\(persona)")
            #expect(try Self.leftovers(in: vault.work, named: output).isEmpty, "\(persona)")
        }
        // The scoped devops token deploys the model it is bound to.
        let allowed = try server.remote(vault, "opsbeta", Self.deploy("beta@1", to: "beta-dep"))
        #expect(allowed.status == 0, "\(allowed.stderr)")
    }

    /// Without a pinned verifier, a remote deploy is refused (exit 2) before the server is asked: here there is no
    /// server at all, and the refusal is the verifier's, not "cannot reach the server".
    @Test func aRemoteDeployWithoutAVerifierIsRefusedBeforeAnythingIsFetched() throws {
        try ModelVaultBinary.requireBuilt()
        let work = try TemporaryDirectory()
        let result = try ModelVaultBinary.run(
            Self.deploy("alpha@1", to: "dep"),
            environment: [
                "MODELVAULT_SERVER": "https://127.0.0.1:1",
                "MODELVAULT_TOKEN": "mvt_" + String(repeating: "A", count: 43),
                "MODELVAULT_VERIFIER": "",
            ], in: work.url)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("--verifier"), "\(result.stderr)")
        #expect(!result.stderr.contains("cannot reach"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.url.path).isEmpty)
    }

    /// A bundle whose signature does not verify with the pinned key (here: the server's vault is not the one the
    /// client pinned, as with a substituted server or an answer altered in transit) is refused (exit 6): no bundle,
    /// no manifests, nothing from the server is written. The identity the client made is kept (only it), since the
    /// vault may have recorded it (review 5, F2).
    @Test(.timeLimit(.minutes(5))) func aBundleThatDoesNotVerifyWithThePinnedKeyIsRefused() async throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let vault = try PreparedVault(in: directory.url)
        let server = try await RunningServer(vault)
        defer { server.stop() }
        // Another vault's verification key, pinned by mistake or by an attacker's substitution.
        let other = vault.work.appending(path: "other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        let otherEnvironment = try CLI.makeVault(in: other)
        let exported = try ModelVaultBinary.run(
            ["keys", "export-verifier", "-o", "other.pem"], environment: otherEnvironment, in: other)
        try #require(exported.status == 0, "\(exported.stderr)")
        let result = try ModelVaultBinary.run(
            Self.deploy("alpha@1", to: "dep") + ["--verifier", other.appending(path: "other.pem").path],
            environment: [
                "MODELVAULT_SERVER": server.url, "MODELVAULT_CA_FILE": server.certificate.path,
                "MODELVAULT_TOKEN": vault.tokens["devon"] ?? "",
            ], in: vault.work)
        #expect(result.status == 6, "\(result.stderr)")
        let out = vault.work.appending(path: "dep")
        let written = FileManager.default.subpaths(atPath: out.path) ?? []
        #expect(written.allSatisfy { $0 == "secrets" || $0 == "secrets/identity" }, "\(written)")
        #expect(try Self.leftovers(in: vault.work, named: "dep").isEmpty)
    }

    /// A server that answers with an older signed bundle of a deployment than this client already deployed (a lower
    /// serial: older tokens, an older version, a lower floor for the pod) is refused, and the output is unchanged
    /// (remote deploy review, F1). The client's record is raised here as a replay would find it.
    @Test(.timeLimit(.minutes(5))) func anOlderBundleThanTheClientDeployedIsRefused() async throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let vault = try PreparedVault(in: directory.url)
        let server = try await RunningServer(vault)
        defer { server.stop() }
        let first = try server.remote(vault, "devon", Self.deploy("alpha@1", to: "dep"))
        try #require(first.status == 0, "\(first.stderr)")
        let marksFile = vault.work.appending(path: "state/modelvault/pulled-versions.json")
        let stored = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: marksFile)) as? [String: [String: Int]])
        let key = try #require(stored["marks"]?.keys.first { $0.contains("deploy:modelvault/modelvault-alpha") })
        #expect(stored["marks"]?[key] == 1)
        try JSONSerialization.data(withJSONObject: ["marks": [key: 5]]).write(to: marksFile)
        let before = try Data(contentsOf: vault.work.appending(path: "dep/bundle/bundle.json"))
        let replayed = try server.remote(vault, "devon", Self.deploy("alpha@1", to: "dep", ["--force"]))
        #expect(replayed.status == 6, "\(replayed.stderr)")
        #expect(replayed.stderr.contains("refusing a rollback"), "\(replayed.stderr)")
        #expect(try Data(contentsOf: vault.work.appending(path: "dep/bundle/bundle.json")) == before)
    }

    /// After a failed deploy the vault may have recorded, the client keeps the new identity in `DIR/secrets`; the
    /// retry with `--force` continues that identity and keeps the file, its only copy (remote deploy review, F2).
    @Test(.timeLimit(.minutes(5))) func aForcedRetryKeepsTheIdentityTheVaultContinued() async throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let vault = try PreparedVault(in: directory.url)
        let server = try await RunningServer(vault)
        defer { server.stop() }
        let wrongKey = vault.work.appending(path: "wrong")
        try FileManager.default.createDirectory(at: wrongKey, withIntermediateDirectories: true)
        let otherEnvironment = try CLI.makeVault(in: wrongKey)
        let exported = try ModelVaultBinary.run(
            ["keys", "export-verifier", "-o", "other.pem"], environment: otherEnvironment, in: wrongKey)
        try #require(exported.status == 0, "\(exported.stderr)")
        let failed = try server.remote(
            vault, "devon",
            Self.deploy("alpha@1", to: "dep", ["--verifier", wrongKey.appending(path: "other.pem").path]))
        #expect(failed.status == 6, "\(failed.stderr)")
        let identityFile = vault.work.appending(path: "dep/secrets/identity")
        let kept = try Data(contentsOf: identityFile)
        let retried = try server.remote(vault, "devon", Self.deploy("alpha@1", to: "dep", ["--force"]))
        try #require(retried.status == 0, "\(retried.stderr)")
        #expect((retried.stdout + retried.stderr).contains("unchanged"), "\(retried.stdout)")
        #expect(try Data(contentsOf: identityFile) == kept)
    }
}
