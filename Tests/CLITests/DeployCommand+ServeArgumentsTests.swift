import Foundation
import TestSupport
import Testing

/// Issue #20, point 1: the arguments `deploy` writes into the Deployment (and the Dockerfile's `CMD`) start
/// `modelvault serve`. Checkov and `kubectl kustomize` accept any argument list; only `serve` itself can say
/// whether it parses, so this runs it with exactly those arguments, against a copy of the vault, with the
/// container's paths mapped onto the test's directory.
@Suite(.serialized) struct DeployCommandServeArgumentsTests {
    static let builder = "swift:6.3.1-bookworm@sha256:" + String(repeating: "b1", count: 32)
    static let runtime = "gcr.io/distroless/cc-debian12:nonroot@sha256:" + String(repeating: "c2", count: 32)
    static let passphrase = "deploy test passphrase"

    /// The `args:` list of the Deployment's container, as YAML scalars (plain, single- or double-quoted).
    static func containerArguments(deploymentYAML text: String) throws -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "args:" })
        let indent = lines[start].prefix { $0 == " " }.count
        var arguments: [String] = []
        for line in lines[(start + 1)...] {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let itemIndent = line.prefix { $0 == " " }.count
            guard trimmed.hasPrefix("- "), itemIndent >= indent else { break }
            arguments.append(try scalar(String(trimmed.dropFirst(2))))
        }
        return arguments
    }

    static func scalar(_ text: String) throws -> String {
        if text.hasPrefix("\"") {
            return try #require(
                try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) as? String)
        }
        if text.hasPrefix("'"), text.hasSuffix("'"), text.count >= 2 {
            return String(text.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'")
        }
        return text
    }

    @Test(.timeLimit(.minutes(10))) func theDeploymentsContainerArgumentsStartServeAgainstACopyOfTheVault() async throws
    {
        try ModelVaultBinary.requireBuilt()
        for peer in ["openssl", "curl"] where !Interop.available(peer) { try Interop.skipOrFail(peer) }
        let directory = try TemporaryDirectory()
        let work = directory.url
        let created = try ModelVaultBinary.run(
            ["init", "--vault", "v", "-o", "admin.token"],
            environment: ["MODELVAULT_PASSPHRASE": Self.passphrase], in: work)
        try #require(created.status == 0, "\(created.stderr)")
        let token = try String(contentsOf: work.appending(path: "admin.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let exported = try ModelVaultBinary.run(
            ["keys", "export-identity", "-o", "identity.txt"],
            environment: [
                "MODELVAULT_PASSPHRASE": Self.passphrase, "MODELVAULT_VAULT": "v", "MODELVAULT_TOKEN": token,
            ],
            in: work)
        try #require(exported.status == 0, "\(exported.stderr)")
        let env = [
            "MODELVAULT_VAULT": "v", "MODELVAULT_IDENTITY_FILE": work.appending(path: "identity.txt").path,
            "MODELVAULT_TOKEN": token,
        ]
        for arguments in [
            ["data", "add", "cancer", CLI.breastCancerCSV.path],
            ["train", "clf", "--dataset", "cancer", "--label", "benign", "--model", "logistic", "--epochs", "5"],
            ["model", "alias", "clf@1", "production"],
            ["deploy", "clf", "-o", "out", "--builder-image", Self.builder, "--runtime-image", Self.runtime],
        ] {
            let result = try ModelVaultBinary.run(arguments, environment: env, in: work)
            try #require(result.status == 0, "\(arguments.prefix(2)): \(result.stderr)")
        }

        let deployment = try String(contentsOf: work.appending(path: "out/kubernetes/deployment.yaml"), encoding: .utf8)
        let arguments = try Self.containerArguments(deploymentYAML: deployment)
        #expect(arguments.first == "serve", "\(arguments)")
        // The Dockerfile runs the same command.
        let dockerfile = try String(contentsOf: work.appending(path: "out/Dockerfile"), encoding: .utf8)
        let command = try #require(
            dockerfile.split(separator: "\n").first { $0.hasPrefix("CMD [") })
        let commandJSON = String(command.drop { $0 != "[" })
        let dockerArguments = try #require(
            try JSONSerialization.jsonObject(with: Data(commandJSON.utf8)) as? [String])
        #expect(dockerArguments.suffix(arguments.count) == arguments[...], "\(dockerArguments)")

        // The pod's mounts, as the kubelet would fill them: a copy of the vault, the TLS Secret, the unlock Secret.
        try FileManager.default.copyItem(at: work.appending(path: "v"), to: work.appending(path: "vault-copy"))
        let tls = work.appending(path: "tls")
        let unlock = work.appending(path: "unlock")
        for mount in [tls, unlock] {
            try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        }
        let made = try ChildProcess.tool(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", tls.appending(path: "tls.key").path, "-out", tls.appending(path: "tls.crt").path,
            ], in: work
        ).run()
        try #require(made.status == 0, "\(made.stderr)")
        try Data((Self.passphrase + "\n").utf8).write(to: unlock.appending(path: "passphrase"))
        for file in [
            tls.appending(path: "tls.key"), tls.appending(path: "tls.crt"), unlock.appending(path: "passphrase"),
        ] {
            try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: file.path)
        }
        let containerPaths = [
            "/var/lib/modelvault/vault": work.appending(path: "vault-copy").path,
            "/var/run/secrets/modelvault/tls": tls.path,
            "/var/run/secrets/modelvault/unlock": unlock.path,
        ]
        var local = arguments.dropFirst().map { argument in
            containerPaths.reduce(argument) { mapped, pair in
                mapped.hasPrefix(pair.key) ? pair.value + mapped.dropFirst(pair.key.count) : mapped
            }
        }
        #expect(local != Array(arguments.dropFirst()), "no container path was mapped: \(arguments)")
        // The only change beyond the paths: a free port instead of the pod's fixed one.
        let portIndex = try #require(local.firstIndex(of: "--port"))
        local[portIndex + 1] = "0"

        let process = Process()
        process.executableURL = ModelVaultBinary.url
        process.arguments = ["serve"] + local
        process.currentDirectoryURL = work
        var environment = ProcessInfo.processInfo.environment
        for key in ["MODELVAULT_VAULT", "MODELVAULT_IDENTITY_FILE", "MODELVAULT_PASSPHRASE", "MODELVAULT_TOKEN"] {
            environment[key] = nil
        }
        process.environment = environment
        let out = work.appending(path: "serve.out")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        let handle = try FileHandle(forWritingTo: out)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var port: String?
        for _ in 0..<600 where port == nil && process.isRunning {
            try await Task.sleep(for: .milliseconds(100))
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            port = text.split(separator: "\n").first { $0.hasPrefix("listening on https://") }
                .flatMap { $0.split(separator: ":").last.map(String.init) }
        }
        let log = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        let listening = try #require(port, "serve \(local.joined(separator: " ")) did not start: \(log)")
        let ready = try ChildProcess.tool(
            "curl",
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", tls.appending(path: "tls.crt").path,
                "https://127.0.0.1:\(listening)/v2/health/ready",
            ]
        ).run()
        #expect(ready.stdout == "200", "\(ready.stderr)\(log)")
        process.terminate()
        for _ in 0..<300 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(process.terminationStatus == 0)
        try handle.close()
    }
}
