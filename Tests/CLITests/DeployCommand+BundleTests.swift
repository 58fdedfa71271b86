import Foundation
import TestSupport
import Testing

/// Issue #19: `deploy` gives the pod a per-deployment serving bundle, and the Deployment's own arguments serve from
/// it with no vault, passphrase, master identity or signing key anywhere in reach.
@Suite(.serialized) struct DeployBundleCLITests {
    static let imageDigest = "sha256:" + String(repeating: "d4", count: 32)

    /// A vault with a trained logistic model `clf` promoted to production, deployed to `out/`.
    private static func deployed(in work: URL) throws -> [String: String] {
        let env = try CLI.makeVault(in: work)
        try Data(contentsOf: CLI.breastCancerCSV).write(to: work.appending(path: "breast_cancer.csv"))
        let added = try ModelVaultBinary.run(
            ["data", "add", "cancer", "breast_cancer.csv"], environment: env, in: work)
        try #require(added.status == 0, "\(added.stderr)")
        let trained = try ModelVaultBinary.run(
            ["train", "clf", "--dataset", "cancer", "--label", "benign", "--model", "logistic"], environment: env,
            in: work)
        try #require(trained.status == 0, "\(trained.stderr)")
        let promoted = try ModelVaultBinary.run(["model", "alias", "clf@1", "production"], environment: env, in: work)
        try #require(promoted.status == 0, "\(promoted.stderr)")
        let deployed = try ModelVaultBinary.run(
            [
                "deploy", "clf", "-o", "out", "--builder-image", DeployCLITests.builder, "--runtime-image",
                DeployCLITests.runtime, "--image-digest", imageDigest,
            ], environment: env, in: work)
        try #require(deployed.status == 0, "\(deployed.stderr)")
        return env
    }

    /// Every file under `directory`, by relative path.
    private static func files(under directory: URL) throws -> [(path: String, data: Data)] {
        let paths = try #require(FileManager.default.subpaths(atPath: directory.path))
        return try paths.sorted().compactMap { path in
            var isDirectory: ObjCBool = false
            let url = directory.appending(path: path)
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue
            else { return nil }
            return (path, try Data(contentsOf: url))
        }
    }

    @Test(.timeLimit(.minutes(5))) func manifestsAndBundleHoldNoPassphraseMasterIdentityOrSigningKey() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try Self.deployed(in: work)

        // The vault's secrets, as the attacker who took the pod would look for them.
        let master = try String(contentsOf: work.appending(path: "identity.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { $0.hasPrefix("AGE-SECRET-KEY-") }
        try #require(!master.isEmpty)
        let keys = work.appending(path: "v/keys")
        let signingFile = try #require(
            try FileManager.default.contentsOfDirectory(atPath: keys.path).sorted().first { $0.hasPrefix("signing") })
        let decrypted = try ModelVaultBinary.run(
            ["decrypt", "-i", "identity.txt", "v/keys/\(signingFile)"], environment: env, in: work)
        try #require(decrypted.status == 0 && decrypted.stdout.contains("PRIVATE KEY"), "\(decrypted.stderr)")
        let pemBody = decrypted.stdout.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let signingDER = try #require(Data(base64Encoded: pemBody))
        // The P-256 scalar sits in the DER; any 16-byte window of the key material must not appear anywhere.
        let needles: [Data] =
            master.map { Data($0.utf8) } + master.map { Data($0.lowercased().utf8) } + [Data(pemBody.utf8)]
            + stride(from: 0, to: signingDER.count - 16, by: 8).map { signingDER.subdata(in: $0..<($0 + 16)) }
            + [Data("cli test passphrase".utf8)]

        let out = work.appending(path: "out")
        let written = try Self.files(under: out)
        #expect(written.contains { $0.path == "bundle/bundle.sig" })
        #expect(written.contains { $0.path == "bundle/verifier.pem" })
        #expect(written.contains { $0.path.hasPrefix("bundle/models/clf/1/") && $0.path.hasSuffix(".age") })
        for file in written {
            for needle in needles {
                #expect(file.data.range(of: needle) == nil, "\(file.path) holds vault key material")
            }
            if !file.path.hasPrefix("bundle/models/") {
                #expect(
                    !String(decoding: file.data, as: UTF8.self).lowercased().contains("passphrase"),
                    "\(file.path) refers to a passphrase")
            }
        }
        // The served files are wrapped for the deployment identity only: the master identity cannot open them.
        let sealed = try #require(
            written.first { $0.path.hasPrefix("bundle/models/clf/1/") && $0.path.hasSuffix(".age") })
        let asMaster = try ModelVaultBinary.run(
            ["decrypt", "-i", "identity.txt", "out/" + sealed.path], environment: env, in: work)
        #expect(asMaster.status != 0)
        let asDeployment = try ModelVaultBinary.run(
            ["decrypt", "-i", "out/secrets/identity", "out/" + sealed.path], environment: env, in: work)
        #expect(asDeployment.status == 0, "\(asDeployment.stderr)")
        let mode =
            try FileManager.default.attributesOfItem(atPath: out.appending(path: "secrets/identity").path)[
                .posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test(.timeLimit(.minutes(5))) func theDeploymentsArgumentsServeInferenceFromTheBundleAndNoRegistry() async throws {
        try ModelVaultBinary.requireBuilt()
        guard Interop.available("openssl") else { try Interop.skipOrFail("openssl") }
        guard Interop.available("curl") else { try Interop.skipOrFail("curl") }
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try Self.deployed(in: work)
        let token = try #require(env["MODELVAULT_TOKEN"])
        // The vault is moved out of reach: the pod has only the bundle, its identity and its TLS pair.
        try FileManager.default.moveItem(at: work.appending(path: "v"), to: work.appending(path: "elsewhere"))
        try FileManager.default.removeItem(at: work.appending(path: "identity.txt"))

        // The Deployment's container arguments, exactly (the Dockerfile's CMD is the same list; DeploymentTests
        // check that), with only the in-container paths, the host and the port mapped to this machine.
        let dockerfile = try String(contentsOf: work.appending(path: "out/Dockerfile"), encoding: .utf8)
        let cmd = try #require(dockerfile.split(separator: "\n").first { $0.hasPrefix("CMD ") })
        let arguments = try #require(
            try JSONSerialization.jsonObject(with: Data(cmd.dropFirst(4).utf8)) as? [String])
        let deployment = try String(contentsOf: work.appending(path: "out/kubernetes/deployment.yaml"), encoding: .utf8)
        #expect(arguments.first == "serve" && arguments[1] == "--bundle")
        for argument in arguments { #expect(deployment.contains(argument), "\(argument) in deployment.yaml") }

        let tls = work.appending(path: "tls")
        try FileManager.default.createDirectory(at: tls, withIntermediateDirectories: true)
        let made = try ChildProcess.tool(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", tls.appending(path: "tls.key").path, "-out", tls.appending(path: "tls.crt").path,
            ]
        ).run()
        try #require(made.status == 0, "\(made.stderr)")
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o400], ofItemAtPath: tls.appending(path: "tls.key").path)
        let mapped: [String: String] = [
            "/var/lib/modelvault/bundle": work.appending(path: "out/bundle").path,
            "/var/lib/modelvault/audit": work.appending(path: "audit").path,
            "/var/run/secrets/modelvault/deployment/identity": work.appending(path: "out/secrets/identity").path,
            "/var/run/secrets/modelvault/tls/tls.crt": tls.appending(path: "tls.crt").path,
            "/var/run/secrets/modelvault/tls/tls.key": tls.appending(path: "tls.key").path,
        ]
        var local = arguments.map { mapped[$0] ?? $0 }
        for (flag, value) in [("--host", "127.0.0.1"), ("--port", "0")] {
            let at = try #require(local.firstIndex(of: flag))
            local[at + 1] = value
        }
        #expect(!local.contains { $0.hasPrefix("/var/") }, "every in-container path is mapped: \(local)")

        // The program as the image installs it: build-info.json beside it, written by the build stage's record step
        // with the source commit (issue #19). A hard link (or copy) of the built binary, with its resource bundles.
        let app = work.appending(path: "app")
        try FileManager.default.createDirectory(at: app, withIntermediateDirectories: true)
        let program = app.appending(path: "modelvault")
        if (try? FileManager.default.linkItem(at: ModelVaultBinary.url, to: program)) == nil {
            try FileManager.default.copyItem(at: ModelVaultBinary.url, to: program)
        }
        let built = ModelVaultBinary.url.deletingLastPathComponent()
        for name in try FileManager.default.contentsOfDirectory(atPath: built.path) where name.hasSuffix(".resources") {
            try FileManager.default.createSymbolicLink(
                at: app.appending(path: name), withDestinationURL: built.appending(path: name))
        }
        let commit = "0123456789abcdef0123456789abcdef01234567"
        try Data(
            #"{"pins":[{"identity":"swift-nio","kind":"remoteSourceControl","location":"x","state":{"version":"2.1.0"}}],"version":3}"#
                .utf8
        )
        .write(to: work.appending(path: "Package.resolved"))
        let record = try ModelVaultBinary.run(
            ["version", "--json", "--record-resolved", "Package.resolved", "--commit", commit], in: work)
        try #require(record.status == 0, "\(record.stderr)")
        try record.stdoutData.write(to: app.appending(path: "build-info.json"))
        let version = try ChildProcess(program, ["version", "--json"], in: work, environment: [:]).run()
        #expect(
            version.stdout.contains(#""commit":"\#(commit)""#) || version.stdout.contains(#""commit" : "\#(commit)""#),
            "\(version.stdout)")

        let process = Process()
        process.executableURL = program
        process.arguments = local
        process.currentDirectoryURL = work
        // No MODELVAULT_* variable at all: no passphrase, identity, token or vault path.
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MODELVAULT_") }
        let outFile = work.appending(path: "serve.out")
        FileManager.default.createFile(atPath: outFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: outFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.runSerially()
        defer { if process.isRunning { process.terminate() } }
        var port: String?
        for _ in 0..<600 where port == nil && process.isRunning {
            try await Task.sleep(for: .milliseconds(100))
            let text = (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
            port = text.split(separator: "\n").first { $0.hasPrefix("listening on https://127.0.0.1:") }
                .map { String($0.split(separator: ":").last ?? "") }
        }
        let log = (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
        let bound = try #require(port, "the server did not start: \(log)")

        func request(_ method: String, _ path: String, body: String? = nil) throws -> (status: Int, body: String) {
            var arguments = [
                "-s", "--cacert", tls.appending(path: "tls.crt").path, "-X", method, "-H",
                "Authorization: Bearer \(token)", "-w", "\n%{http_code}",
            ]
            if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
            let result = try ChildProcess.tool("curl", arguments + ["https://127.0.0.1:\(bound)\(path)"]).run()
            let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
        }

        let csv = try String(contentsOf: CLI.breastCancerCSV, encoding: .utf8).split(whereSeparator: \.isNewline)
        let header = csv[0].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let label = try #require(header.firstIndex(of: "benign"))
        let features = csv[1].split(separator: ",").enumerated().filter { $0.offset != label }.map {
            String($0.element)
        }
        let body =
            #"{"inputs":[{"name":"input","datatype":"FP32","shape":[1,\#(features.count)],"data":[\#(features.joined(separator: ","))]}]}"#
        let inferred = try request("POST", "/v2/models/clf/infer", body: body)
        #expect(inferred.status == 200, "\(inferred.body)")
        #expect(inferred.body.contains(#""model_version":"1""#), "\(inferred.body)")
        #expect(try request("GET", "/v2/health/ready").status == 200)
        // The server names its build, commit included, in GET /v2 and the build-info metric.
        let metadata = try request("GET", "/v2")
        #expect(metadata.status == 200 && metadata.body.contains(commit), "\(metadata.body)")
        let metrics = try request("GET", "/metrics")
        #expect(metrics.body.contains("commit=\"\(commit)\""), "\(metrics.body.prefix(400))")
        // Serving-only: every registry route is absent, even for the admin's token.
        for (method, path) in [("GET", "/v1/models"), ("GET", "/v1/datasets"), ("GET", "/v1/audit/export")] {
            #expect(try request(method, path).status == 404, "\(method) \(path)")
        }
        #expect(try request("PUT", "/v1/models/clf/aliases/production", body: #"{"version":1}"#).status == 404)

        process.terminate()
        for _ in 0..<300 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(process.terminationStatus == 0, "\((try? String(contentsOf: outFile, encoding: .utf8)) ?? "")")
        try handle.close()
        // The pod audited its requests in its own log.
        let entries = try String(contentsOf: work.appending(path: "audit/entries.jsonl"), encoding: .utf8)
        #expect(entries.contains("model.load") && entries.contains("model.infer"))
    }

    /// The bundle is checked before anything is served: a changed file, a foreign identity or an unpinned signer
    /// key is refused (exit 6), with no vault in reach.
    @Test(.timeLimit(.minutes(5))) func aTamperedBundleOrForeignIdentityIsRefused() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try Self.deployed(in: work)
        let dockerfile = try String(contentsOf: work.appending(path: "out/Dockerfile"), encoding: .utf8)
        let cmd = try #require(dockerfile.split(separator: "\n").first { $0.hasPrefix("CMD ") })
        let arguments = try #require(try JSONSerialization.jsonObject(with: Data(cmd.dropFirst(4).utf8)) as? [String])
        let fingerprint = try #require(arguments.firstIndex(of: "--signer-fingerprint").map { arguments[$0 + 1] })
        func serve(identity: String = "out/secrets/identity", signer: String? = nil) throws -> ChildProcess.Output {
            try ModelVaultBinary.run(
                [
                    "serve", "--bundle", "out/bundle", "--deployment-identity", identity, "--signer-fingerprint",
                    signer ?? fingerprint, "--audit-log", "audit", "--insecure-http", "--port", "0",
                ], environment: [:], in: work)
        }
        let otherSigner = try serve(signer: String(repeating: "0", count: 64))
        #expect(otherSigner.status == 6 && otherSigner.stderr.contains("pinned"), "\(otherSigner.stderr)")
        #expect(try serve(identity: "identity.txt").status == 6, "the master identity is not the deployment's")
        _ = env
        // One byte of the index changed (say, an extra token): the bundle signature no longer covers it.
        let index = work.appending(path: "out/bundle/bundle.json")
        var bytes = try Data(contentsOf: index)
        bytes.append(contentsOf: Array("\n".utf8))
        try bytes.write(to: index)
        let tampered = try serve()
        #expect(tampered.status == 6 && tampered.stderr.contains("signature"), "\(tampered.stderr)")
    }

    /// `deploy --rotate-identity`: a repeated deploy keeps the identity (no new secret) and raises the bundle serial;
    /// a rotation writes a fresh identity, and the pod, given the new floor, refuses the old bundle with either
    /// identity (exit 6).
    @Test(.timeLimit(.minutes(5))) func rotatingTheDeploymentIdentityRefusesTheOldBundle() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try Self.deployed(in: work)
        func deploy(_ output: String, _ extra: [String] = []) throws -> ChildProcess.Output {
            try ModelVaultBinary.run(
                [
                    "deploy", "clf", "-o", output, "--builder-image", DeployCLITests.builder, "--runtime-image",
                    DeployCLITests.runtime, "--image-digest", Self.imageDigest,
                ] + extra, environment: env, in: work)
        }
        func arguments(_ output: String) throws -> [String] {
            let dockerfile = try String(contentsOf: work.appending(path: "\(output)/Dockerfile"), encoding: .utf8)
            let cmd = try #require(dockerfile.split(separator: "\n").first { $0.hasPrefix("CMD ") })
            return try #require(try JSONSerialization.jsonObject(with: Data(cmd.dropFirst(4).utf8)) as? [String])
        }
        func floor(_ output: String) throws -> String? {
            let arguments = try arguments(output)
            return arguments.firstIndex(of: "--min-bundle-serial").map { arguments[$0 + 1] }
        }
        #expect(try floor("out") == "1")
        let again = try deploy("out2")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.appending(path: "out2/secrets/identity").path))
        #expect(try floor("out2") == "2")
        let rotated = try deploy("out3", ["--rotate-identity"])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        #expect(try floor("out3") == "3")
        let oldIdentity = try Data(contentsOf: work.appending(path: "out/secrets/identity"))
        let newIdentity = try Data(contentsOf: work.appending(path: "out3/secrets/identity"))
        #expect(oldIdentity != newIdentity)
        let fingerprint = try #require(
            try arguments("out3").firstIndex(of: "--signer-fingerprint").map { try arguments("out3")[$0 + 1] })
        func serve(_ bundle: String, identity: String) throws -> ChildProcess.Output {
            try ModelVaultBinary.run(
                [
                    "serve", "--bundle", bundle, "--deployment-identity", identity, "--signer-fingerprint", fingerprint,
                    "--audit-log", "audit", "--insecure-http", "--port", "0", "--min-bundle-serial", "3",
                ], environment: [:], in: work)
        }
        let stale = try serve("out/bundle", identity: "out/secrets/identity")
        #expect(stale.status == 6 && stale.stderr.contains("older than the floor"), "\(stale.stderr)")
        let crossed = try serve("out/bundle", identity: "out3/secrets/identity")
        #expect(crossed.status == 6, "\(crossed.stderr)")
    }

    /// The attack (review 5, F3) end to end: the deployment record was per model, so `deploy --namespace staging`
    /// of a model deployed to the default namespace continued its identity, and a staging `--rotate-identity`
    /// revoked it: the next default-namespace deploy was wrapped for the staging pod. Each namespace now has its own
    /// identity and serial. Seen failing (no identity written for staging) before records were kept per namespace.
    @Test(.timeLimit(.minutes(5))) func aStagingRotationLeavesAnotherNamespacesIdentityAlone() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try Self.deployed(in: work)
        func deploy(_ output: String, _ extra: [String] = []) throws -> ChildProcess.Output {
            try ModelVaultBinary.run(
                [
                    "deploy", "clf", "-o", output, "--builder-image", DeployCLITests.builder, "--runtime-image",
                    DeployCLITests.runtime, "--image-digest", Self.imageDigest,
                ] + extra, environment: env, in: work)
        }
        func index(_ output: String) throws -> [String: Any] {
            let data = try Data(contentsOf: work.appending(path: "\(output)/bundle/bundle.json"))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        func identity(_ output: String) -> Data? {
            FileManager.default.contents(atPath: work.appending(path: "\(output)/secrets/identity").path)
        }
        let production = try #require(identity("out"))
        let staging = try deploy("staging", ["--namespace", "staging"])
        #expect(staging.status == 0, "\(staging.stderr)")
        let stagingIdentity = identity("staging")
        #expect(stagingIdentity != nil && stagingIdentity != production, "staging continued another identity")
        #expect(try index("staging")["serial"] as? Int == 1)
        let rotated = try deploy("staging2", ["--namespace", "staging", "--rotate-identity"])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        #expect(try index("staging2")["serial"] as? Int == 2)

        let next = try deploy("out2")
        #expect(next.status == 0, "\(next.stderr)")
        #expect(identity("out2") == nil)
        #expect(try index("out2")["serial"] as? Int == 2)
        let recipient = try #require(try index("out")["recipient"] as? String)
        #expect(try index("out2")["recipient"] as? String == recipient)
        #expect(try index("staging2")["recipient"] as? String != recipient)
    }
}
