import Foundation
import TestSupport
import Testing

/// Remote mode through the built binary: one table of commands runs against two identically prepared vaults, one
/// driven locally (vault key + token), one through `modelvault serve` on loopback TLS (token only). Exit codes and
/// output (with each vault's own digests, times and paths normalised) must be the same.
@Suite(.serialized) struct RemoteModeCLITests {
    /// A vault prepared the same way every time: principals of every role (one scoped to model `alpha`), their
    /// tokens, a dataset and two models.
    struct PreparedVault {
        let work: URL
        /// Local mode for the admin: vault, identity file, token.
        let adminEnvironment: [String: String]
        /// Persona → token.
        var tokens: [String: String] = [:]

        static let personas: [(name: String, role: String, scope: String?)] = [
            ("dana", "data-scientist", nil), ("mel", "ml-engineer", nil), ("devon", "devops", nil),
            ("sam", "security-engineer", nil), ("cora", "compliance-officer", nil),
            ("scoped", "ml-engineer", "model:alpha"), ("opsbeta", "devops", "model:beta"),
        ]

        init(in work: URL) throws {
            self.work = work
            adminEnvironment = try CLI.makeVault(in: work)
            tokens["admin"] = adminEnvironment["MODELVAULT_TOKEN"]
            // The verification key a remote pull is pinned to, handed out of band (review 4, F3).
            #expect(try admin(["keys", "export-verifier", "-o", "vault.pem"]).status == 0)
            for persona in Self.personas {
                let add = try admin(
                    ["user", "add", persona.name, "--role", persona.role]
                        + (persona.scope.map { ["--scope", $0] } ?? []))
                #expect(add.status == 0, "\(add.stderr)")
                let token = try admin([
                    "token", "create", persona.name, "--expires", "1d", "--out", "\(persona.name).token",
                ])
                #expect(token.status == 0, "\(token.stderr)")
                tokens[persona.name] = try String(
                    contentsOf: work.appending(path: "\(persona.name).token"), encoding: .utf8
                ).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            try Data("x,y\n1,2\n3,4\n".utf8).write(to: work.appending(path: "train.csv"))
            #expect(try admin(["data", "add", "cancer", "train.csv"]).status == 0)
            // A separable two-feature table for the server-side train, evaluate and predict rows.
            var fraud = "amount,age,label\n"
            var rows = "amount,age\n"
            for index in 0..<24 {
                let label = index % 2
                fraud += "\(Double(index % 6) + 10 * Double(label)),\(30 + index),\(label)\n"
                if index < 4 { rows += "\(Double(index % 6) + 10 * Double(label)),\(30 + index)\n" }
            }
            try Data(fraud.utf8).write(to: work.appending(path: "fraud.csv"))
            try Data(rows.utf8).write(to: work.appending(path: "rows.csv"))
            #expect(try admin(["data", "add", "fraud", "fraud.csv"]).status == 0)
            for (model, bytes) in [("alpha", "alpha weights v1"), ("beta", "beta weights v1")] {
                let directory = work.appending(path: "src-\(model)")
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                try Data(bytes.utf8).write(to: directory.appending(path: "weights.bin"))
                let pushed = try admin(["model", "push", model, "src-\(model)"])
                #expect(pushed.status == 0, "\(pushed.stderr)")
            }
            // A checkpoint kept out of band, for `audit verify --trusted` (each vault's own; the test copies the other
            // vault's in as `foreign.cp`).
            #expect(try admin(["audit", "checkpoint", "-o", "trusted.cp"]).status == 0)
            let next = work.appending(path: "next")
            try FileManager.default.createDirectory(at: next, withIntermediateDirectories: true)
            try Data("alpha weights v2".utf8).write(to: next.appending(path: "weights.bin"))
            try RemoteModeCLITests.writePushFixtures(in: work, admin: admin)
        }

        func admin(_ arguments: [String]) throws -> ChildProcess.Output {
            try ModelVaultBinary.run(arguments, environment: adminEnvironment, in: work)
        }

        /// Runs a command as `persona` in local mode: the vault's key, the persona's token.
        func local(_ persona: String, _ arguments: [String]) throws -> ChildProcess.Output {
            var environment = adminEnvironment
            environment["MODELVAULT_TOKEN"] = tokens[persona] ?? "mvt_" + String(repeating: "A", count: 43)
            // `keys rotate` wraps the new identity under the passphrase, so locally it asks for it first.
            if arguments.starts(with: ["keys", "rotate"]) {
                environment["MODELVAULT_PASSPHRASE"] = "cli test passphrase"
            }
            return try ModelVaultBinary.run(arguments, environment: environment, in: work)
        }
    }

    struct ServerDidNotStart: Error {}

    /// `modelvault serve --self-signed` on a loopback port over a prepared vault, stopped by SIGTERM.
    final class RunningServer {
        let process = Process()
        let url: String
        let certificate: URL

        init(_ vault: PreparedVault) async throws {
            process.executableURL = ModelVaultBinary.url
            process.arguments = ["serve", "--self-signed", "--port", "0", "--cert-out", "server.pem"]
            process.currentDirectoryURL = vault.work
            var environment = ProcessInfo.processInfo.environment
            environment.merge(vault.adminEnvironment) { $1 }
            process.environment = environment
            let out = vault.work.appending(path: "serve.out")
            FileManager.default.createFile(atPath: out.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = FileHandle.nullDevice
            try process.runSerially()
            var listening: String?
            for _ in 0..<600 where listening == nil {
                try await Task.sleep(for: .milliseconds(100))
                let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
                listening = text.split(separator: "\n").first { $0.hasPrefix("listening on https://127.0.0.1:") }
                    .map { String($0.dropFirst("listening on ".count)) }
            }
            certificate = vault.work.appending(path: "server.pem")
            guard let listening else {
                process.terminate()
                throw ServerDidNotStart()
            }
            url = listening
        }

        func stop() {
            guard process.isRunning else { return }
            process.terminate()
            process.waitUntilExit()
        }

        deinit { stop() }

        /// Runs a command as `persona` in remote mode: no vault path, no passphrase, no identity file; the token,
        /// the server's URL and its certificate only. `directory` is where it runs (default: the vault's parent).
        func remote(
            _ vault: PreparedVault, _ persona: String, _ arguments: [String], in directory: URL? = nil
        ) throws -> ChildProcess.Output {
            try ModelVaultBinary.run(
                arguments,
                environment: [
                    "MODELVAULT_SERVER": url, "MODELVAULT_CA_FILE": certificate.path,
                    "MODELVAULT_TOKEN": vault.tokens[persona] ?? "mvt_" + String(repeating: "A", count: 43),
                    "MODELVAULT_PASSPHRASE": "", "MODELVAULT_VERIFIER": vault.work.appending(path: "vault.pem").path,
                    // Pull marks (review 5, R1) stay in the test's directory, not the user's.
                    "XDG_STATE_HOME": vault.work.appending(path: "state").path,
                ], in: directory ?? vault.work)
        }
    }

    /// One row of the shared table: who runs what, and whether its output is compared (reports and exports carry
    /// each vault's own audit counts, so only their exit codes are).
    struct Scenario: CustomStringConvertible {
        var persona: String
        var arguments: [String]
        var compareOutput = true
        var description: String { "\(persona): modelvault \(arguments.joined(separator: " "))" }
    }

    /// The commands remote mode covers, for every persona (the permission matrix over the remote path, a scoped
    /// binding included), in an order that changes state the same way in both vaults.
    static var scenarios: [Scenario] {
        var rows: [Scenario] = []
        let everyone = ["admin", "dana", "mel", "devon", "sam", "cora", "scoped", "nobody"]
        for persona in everyone {
            rows += [
                Scenario(persona: persona, arguments: ["model", "list"]),
                Scenario(persona: persona, arguments: ["model", "list", "--json"]),
                Scenario(persona: persona, arguments: ["model", "show", "alpha"]),
                Scenario(persona: persona, arguments: ["model", "show", "beta@1", "--json"]),
                Scenario(persona: persona, arguments: ["data", "list"]),
                Scenario(persona: persona, arguments: ["data", "show", "cancer"]),
                Scenario(persona: persona, arguments: ["data", "show", "cancer@1", "--json"]),
                Scenario(persona: persona, arguments: ["model", "push", "alpha", "next"]),
                Scenario(persona: persona, arguments: ["model", "pull", "alpha@1", "-o", "pulled-\(persona)"]),
                Scenario(persona: persona, arguments: ["model", "pull", "beta", "-o", "pulled-beta-\(persona)"]),
                Scenario(
                    persona: persona,
                    arguments: [
                        "model", "pull", "alpha:production", "--to", Self.recipient, "-o", "wrapped-\(persona)",
                    ]),
                Scenario(persona: persona, arguments: ["model", "alias", "alpha@1", "staging"]),
                Scenario(persona: persona, arguments: ["model", "alias", "alpha@2", "production", "--yes"]),
                Scenario(persona: persona, arguments: ["model", "verify", "alpha:production"]),
                Scenario(persona: persona, arguments: ["model", "alias", "--delete", "alpha", "staging"]),
                Scenario(persona: persona, arguments: ["model", "alias", "alpha@1", "staging"]),
                Scenario(persona: persona, arguments: ["model", "alias", "--delete", "alpha", "staging", "--json"]),
                Scenario(
                    persona: persona, arguments: ["data", "add", "cancer", "train.csv", "--description", "a b&c"]),
                Scenario(persona: persona, arguments: ["data", "get", "cancer", "-o", "data-\(persona)"]),
                Scenario(persona: persona, arguments: ["keys", "list"]),
                Scenario(persona: persona, arguments: ["keys", "list", "--files"]),
                Scenario(persona: persona, arguments: ["audit", "tail", "-n", "3"], compareOutput: false),
                Scenario(persona: persona, arguments: ["report", "--format", "json"], compareOutput: false),
                Scenario(persona: persona, arguments: ["audit", "export"], compareOutput: false),
                Scenario(
                    persona: persona, arguments: ["audit", "export", "--format", "csv", "--since", "1h"],
                    compareOutput: false),
                // Nothing is logged in the future: the same (empty) export both ways.
                Scenario(persona: persona, arguments: ["audit", "export", "--since", "2999-01-01T00:00:00Z"]),
                Scenario(
                    persona: persona,
                    arguments: ["audit", "export", "--format", "csv", "--since", "2999-01-01T00:00:00Z"]),
                // Principals, roles and tokens. Admin's row comes first and creates `p-admin`, which every later
                // persona then tries to change (denied, or in scope for nobody but the admin).
                Scenario(persona: persona, arguments: ["user", "list"]),
                Scenario(
                    persona: persona,
                    arguments: ["user", "add", "p-\(persona)", "--role", "data-scientist", "--scope", "dataset:cancer"]),
                Scenario(
                    persona: persona, arguments: ["role", "grant", "p-admin", "ml-engineer", "--scope", "model:beta"]),
                Scenario(
                    persona: persona, arguments: ["role", "revoke", "p-admin", "ml-engineer", "--scope", "model:beta"]),
                Scenario(
                    persona: persona,
                    arguments: ["token", "create", "p-admin", "--expires", "1d", "-o", "t-\(persona)"],
                    compareOutput: false),
                Scenario(
                    persona: persona,
                    arguments: ["token", "create", persona, "--expires", "1h", "-o", "own-\(persona)"],
                    compareOutput: false),
                Scenario(persona: persona, arguments: ["token", "list"], compareOutput: false),
                Scenario(persona: persona, arguments: ["token", "revoke", "0000000000000000"]),
                Scenario(persona: persona, arguments: ["user", "remove", "p-\(persona)"]),
                // The audit log: counts differ (the server audits each request at the gateway too).
                Scenario(persona: persona, arguments: ["audit", "verify"], compareOutput: false),
                Scenario(persona: persona, arguments: ["audit", "prove", "0"], compareOutput: false),
                // Trusted checkpoints and witness age (#14): checked by the client on the server's evidence. Counts
                // differ; another vault's checkpoint is refused before anything is printed, the same both ways.
                Scenario(
                    persona: persona, arguments: ["audit", "verify", "--trusted", "trusted.cp"], compareOutput: false),
                Scenario(persona: persona, arguments: ["audit", "verify", "--trusted", "foreign.cp"]),
                Scenario(
                    persona: persona, arguments: ["audit", "verify", "--max-cosignature-age", "3600", "--json"],
                    compareOutput: false),
                // Server-side ML: the same seed and data give the same metrics and predictions.
                Scenario(
                    persona: persona,
                    arguments: [
                        "train", "fraud", "--dataset", "fraud@1", "--label", "label", "--model", "logistic", "--epochs",
                        "5",
                    ]),
                Scenario(persona: persona, arguments: ["evaluate", "fraud@1", "--dataset", "fraud", "--json"]),
                Scenario(
                    persona: persona, arguments: ["evaluate", "fraud@1", "--dataset", "fraud@1", "--holdout", "--json"]),
                Scenario(persona: persona, arguments: ["predict", "fraud@1", "--input", "rows.csv"]),
                // Token ids differ between the two vaults: exit codes only (content: whoamiNamesTheSameCaller...).
                Scenario(persona: persona, arguments: ["whoami", "--json"], compareOutput: false),
            ]
            // `deploy` (#14): the same files, output and exit code; after the first, the identity is kept.
            rows.append(
                Scenario(
                    persona: persona,
                    arguments: RemoteDeployCLITests.deploy("alpha@1", to: "dep-\(persona)") + ["--namespace", "table"]))
            // Who may rotate (admin, security engineer) is left to the rows below; the others are denied.
            if !["admin", "sam"].contains(persona) {
                rows.append(Scenario(persona: persona, arguments: ["keys", "rotate"]))
            }
        }
        rows += [
            Scenario(persona: "admin", arguments: ["model", "show", "nosuch"]),
            Scenario(persona: "admin", arguments: ["model", "show", "alpha@99"]),
            Scenario(persona: "admin", arguments: ["model", "pull", "nosuch@1", "-o", "nothing"]),
            Scenario(persona: "admin", arguments: ["model", "show", "bad name!"]),
            Scenario(persona: "admin", arguments: ["model", "pull", "alpha@1", "-o", "pulled-admin"]),
            Scenario(persona: "admin", arguments: ["model", "alias", "alpha@1", "production"]),
            Scenario(persona: "admin", arguments: ["data", "show", "nosuch"]),
            Scenario(persona: "admin", arguments: ["user", "list", "--json"]),
            Scenario(persona: "admin", arguments: ["user", "add", "dana", "--role", "devops"]),
            Scenario(persona: "admin", arguments: ["role", "grant", "nosuch", "devops"]),
            Scenario(persona: "admin", arguments: ["role", "grant", "dana", "nosuchrole"]),
            Scenario(persona: "admin", arguments: ["user", "remove", "nosuch"]),
            Scenario(persona: "admin", arguments: ["audit", "verify", "--json"], compareOutput: false),
            Scenario(persona: "admin", arguments: ["audit", "prove", "999999"]),
            Scenario(persona: "admin", arguments: ["evaluate", "fraud", "--dataset", "fraud@1"]),
            Scenario(persona: "admin", arguments: ["evaluate", "alpha@1", "--dataset", "fraud"]),
            // Not a dataset the version was trained on: refused both ways (the local message names its lineage).
            Scenario(
                persona: "admin", arguments: ["evaluate", "fraud@1", "--dataset", "cancer", "--holdout"],
                compareOutput: false),
            Scenario(persona: "admin", arguments: ["predict", "fraud:production", "--input", "rows.csv"]),
            Scenario(persona: "admin", arguments: ["predict", "fraud@1", "--input", "nosuch.csv"]),
            Scenario(
                persona: "admin",
                arguments: ["train", "fraud", "--dataset", "fraud", "--label", "nosuch", "--model", "logistic"]),
            // A devops binding scoped to `beta` deploys beta, not alpha; a version that does not exist is 4.
            Scenario(persona: "opsbeta", arguments: RemoteDeployCLITests.deploy("alpha@1", to: "dep-opsbeta-alpha")),
            Scenario(persona: "opsbeta", arguments: RemoteDeployCLITests.deploy("beta@1", to: "dep-opsbeta-beta")),
            Scenario(persona: "devon", arguments: RemoteDeployCLITests.deploy("alpha@99", to: "dep-nosuch")),
            Scenario(persona: "devon", arguments: RemoteDeployCLITests.deploy("alpha:production", to: "dep-prod")),
        ]
        rows += pushOptionScenarios
        return rows
    }

    /// A deployment's age recipient (the age README's example key).
    static let recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

    /// Replaces what differs between two vaults given the same commands: digests, fingerprints, times, paths.
    static func normalised(_ text: String, work: URL) -> String {
        var text = text.replacingOccurrences(of: work.path, with: "<work>")
        for (pattern, replacement) in [
            ("[0-9a-f]{64}", "<hex>"), ("age1[0-9a-z]{58}", "<recipient>"),
            ("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z", "<time>"),
        ] {
            text = text.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return text
    }

    @Test(.timeLimit(.minutes(20))) func everyScenarioGivesTheSameOutputAndExitCodeLocallyAndRemotely() async throws {
        try ModelVaultBinary.requireBuilt()
        let localDirectory = try TemporaryDirectory()
        let remoteDirectory = try TemporaryDirectory()
        let localVault = try PreparedVault(in: localDirectory.url)
        let remoteVault = try PreparedVault(in: remoteDirectory.url)
        // Each vault's kept checkpoint is the other's foreign one.
        try FileManager.default.copyItem(
            at: localVault.work.appending(path: "trusted.cp"), to: remoteVault.work.appending(path: "foreign.cp"))
        try FileManager.default.copyItem(
            at: remoteVault.work.appending(path: "trusted.cp"), to: localVault.work.appending(path: "foreign.cp"))
        let server = try await RunningServer(remoteVault)
        defer { server.stop() }
        var statuses: [String: Int32] = [:]
        for scenario in Self.scenarios {
            let local = try localVault.local(scenario.persona, scenario.arguments)
            let remote = try server.remote(remoteVault, scenario.persona, scenario.arguments)
            statuses[scenario.description] = remote.status
            #expect(
                remote.status == local.status,
                "\(scenario): local \(local.status) (\(local.stderr)), remote \(remote.status) (\(remote.stderr))")
            if scenario.compareOutput {
                #expect(
                    Self.normalised(remote.stdout, work: remoteVault.work)
                        == Self.normalised(local.stdout, work: localVault.work), "\(scenario)")
            }
        }
        // The table's own sanity: the matrix does deny and allow over the remote path.
        #expect(statuses["cora: modelvault model push alpha next"] == 3)
        #expect(statuses["dana: modelvault model push alpha next"] == 0)
        #expect(statuses["nobody: modelvault model list"] == 3)
        #expect(statuses["scoped: modelvault model show beta@1 --json"] == 3)
        #expect(statuses["scoped: modelvault model show alpha"] == 0)
        #expect(statuses["admin: modelvault model show nosuch"] == 4)
        #expect(statuses["admin: modelvault model show bad name!"] == 5)
        #expect(
            statuses["admin: modelvault train fraud --dataset fraud@1 --label label --model logistic --epochs 5"] == 0)
        #expect(statuses["dana: modelvault predict fraud@1 --input rows.csv"] == 0)
        #expect(statuses["dana: modelvault evaluate fraud@1 --dataset fraud@1 --holdout --json"] == 0)
        #expect(statuses["admin: modelvault evaluate fraud@1 --dataset cancer --holdout"] == 5)
        #expect(statuses["admin: modelvault model alias --delete alpha staging"] == 0)
        #expect(statuses["admin: modelvault keys list --files"] == 0)
        #expect(statuses["sam: modelvault audit export --format csv --since 1h"] == 0)
        #expect(statuses["scoped: modelvault evaluate fraud@1 --dataset fraud --json"] == 3)
        #expect(statuses["sam: modelvault user list"] == 0)
        #expect(statuses["scoped: modelvault whoami --json"] == 0)
        #expect(statuses["nobody: modelvault whoami --json"] == 3)
        #expect(statuses["dana: modelvault user list"] == 3)
        #expect(statuses["admin: modelvault user add p-admin --role data-scientist --scope dataset:cancer"] == 0)
        #expect(statuses["mel: modelvault token create mel --expires 1h -o own-mel"] == 0)
        #expect(statuses["mel: modelvault token create p-admin --expires 1d -o t-mel"] == 3)
        #expect(statuses["cora: modelvault audit verify"] == 0)
        #expect(statuses["cora: modelvault audit verify --trusted trusted.cp"] == 0)
        #expect(statuses["sam: modelvault audit verify --trusted foreign.cp"] == 6)
        #expect(statuses["sam: modelvault audit verify --max-cosignature-age 3600 --json"] == 6)
        #expect(statuses["dana: modelvault audit verify --trusted trusted.cp"] == 3)
        #expect(statuses["dana: modelvault audit verify --trusted foreign.cp"] == 3)
        #expect(statuses["devon: modelvault keys rotate"] == 3)
        let deploy = RemoteDeployCLITests.deploy("alpha@1", to: "dep-devon") + ["--namespace", "table"]
        #expect(statuses["devon: modelvault \(deploy.joined(separator: " "))"] == 0)
        #expect(
            statuses[
                "dana: modelvault \(RemoteDeployCLITests.deploy("alpha@1", to: "dep-dana").joined(separator: " ")) --namespace table"
            ]
                == 3)
        #expect(
            statuses[
                "opsbeta: modelvault \(RemoteDeployCLITests.deploy("alpha@1", to: "dep-opsbeta-alpha").joined(separator: " "))"
            ]
                == 3)
        #expect(
            statuses[
                "opsbeta: modelvault \(RemoteDeployCLITests.deploy("beta@1", to: "dep-opsbeta-beta").joined(separator: " "))"
            ]
                == 0)
        // The files a deploy writes beside the bundle are the same through the server (each vault's own key
        // fingerprint and digests aside; YAML quotes a hex string that reads as a number, so quoting is dropped).
        func comparable(_ text: String, _ work: URL) -> String {
            Self.normalised(text, work: work).replacingOccurrences(of: "\"<hex>\"", with: "<hex>")
        }
        for deployed in ["dep-admin", "dep-devon", "dep-opsbeta-beta"] {
            for file in ["Dockerfile", "deployment_config.yaml", "kubernetes/deployment.yaml"] {
                let local = try String(
                    contentsOf: localVault.work.appending(path: "\(deployed)/\(file)"), encoding: .utf8)
                let remote = try String(
                    contentsOf: remoteVault.work.appending(path: "\(deployed)/\(file)"), encoding: .utf8)
                #expect(
                    comparable(remote, remoteVault.work) == comparable(local, localVault.work), "\(deployed)/\(file)")
            }
        }
        Self.checkPushOptionStatuses(statuses)
        try Self.checkPushOptionRecords(server, remoteVault)
        // A pull through the server lands the same bytes as the local pull.
        let pulled = try Data(contentsOf: remoteVault.work.appending(path: "pulled-admin/weights.bin"))
        #expect(pulled == Data("alpha weights v1".utf8))
    }

    @Test(.timeLimit(.minutes(10))) func aRemoteClientNeverOpensAFileUnderTheVaultDirectory() async throws {
        try ModelVaultBinary.requireBuilt()
        guard Interop.available("strace") else { try Interop.skipOrFail("strace") }
        let directory = try TemporaryDirectory()
        let vault = try PreparedVault(in: directory.url)
        let server = try await RunningServer(vault)
        defer { server.stop() }
        // The client runs elsewhere, with no vault path, passphrase or identity file in its environment.
        let client = vault.work.appending(path: "client")
        try FileManager.default.createDirectory(at: client, withIntermediateDirectories: true)
        try Data("alpha weights v2".utf8).write(to: client.appending(path: "weights.bin"))
        // The pinned verifier, handed out of band (beside the vault, `vault.pem` would match the vault path's prefix).
        try FileManager.default.copyItem(
            at: vault.work.appending(path: "vault.pem"), to: client.appending(path: "vault.pem"))
        let vaultPath = vault.work.appending(path: "v").standardizedFileURL.path
        for (persona, arguments) in [
            ("mel", ["model", "list"]), ("mel", ["model", "show", "alpha"]), ("dana", ["data", "show", "cancer"]),
            ("dana", ["model", "push", "alpha", "weights.bin"]), ("mel", ["model", "pull", "alpha", "-o", "out"]),
            ("cora", ["report"]), ("devon", RemoteDeployCLITests.deploy("alpha@1", to: "dep")),
        ] {
            let trace = client.appending(path: "trace.txt")
            let traced = try ChildProcess(
                URL(filePath: "/usr/bin/env"),
                [
                    "strace", "-f", "-qq", "-e", "trace=open,openat,openat2,creat", "-o", trace.path,
                    ModelVaultBinary.url.path,
                ] + arguments, in: client,
                environment: [
                    "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                    "MODELVAULT_SERVER": server.url, "MODELVAULT_CA_FILE": server.certificate.path,
                    "MODELVAULT_TOKEN": vault.tokens[persona] ?? "",
                    "MODELVAULT_VERIFIER": client.appending(path: "vault.pem").path,
                ]
            ).run()
            #expect(traced.status == 0, "\(arguments): \(traced.stderr)")
            let opened = try String(contentsOf: trace, encoding: .utf8)
            #expect(opened.contains("openat("), "strace recorded no open at all")
            #expect(!opened.contains(vaultPath), "\(arguments) opened a file under the vault directory")
            #expect(
                !opened.contains("\"v/") && !opened.contains("\"vault/"), "\(arguments) opened a relative vault path")
            #expect(!opened.contains("identity.txt") && !opened.contains("catalog.sqlite"))
            try FileManager.default.removeItem(at: trace)
        }
        #expect(try Data(contentsOf: client.appending(path: "out/weights.bin")) == Data("alpha weights v2".utf8))
    }

    @Test(.timeLimit(.minutes(10))) func remoteModeRefusesWhatTheServerCannotDoAndNeverFallsBackToTheVault()
        async throws
    {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let vault = try PreparedVault(in: directory.url)
        let server = try await RunningServer(vault)
        defer { server.stop() }
        for arguments in [
            ["keys", "export-identity", "-o", "id.txt"], ["vault", "check"], ["init"],
            ["audit", "checkpoint", "-o", "cp.txt"],
        ] {
            // Even with the vault and its key at hand, a server given means the vault is not opened.
            var environment = vault.adminEnvironment
            environment["MODELVAULT_SERVER"] = server.url
            environment["MODELVAULT_CA_FILE"] = server.certificate.path
            let result = try ModelVaultBinary.run(arguments, environment: environment, in: vault.work)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("not available in remote mode"), "\(arguments): \(result.stderr)")
        }
        let users = try server.remote(vault, "admin", ["user", "bootstrap"])
        #expect(users.stderr.contains("`user bootstrap` is not available in remote mode"))
    }

    @Test func aTokenIsNeverSentOverPlainHTTPToAnotherHostNorReadFromAFileOthersCanRead() throws {
        try ModelVaultBinary.requireBuilt()
        let work = try TemporaryDirectory()
        let plain = try ModelVaultBinary.run(
            ["model", "list"],
            environment: ["MODELVAULT_SERVER": "http://192.0.2.1:8080", "MODELVAULT_TOKEN": "mvt_secret"], in: work.url)
        #expect(plain.status == 2)
        #expect(plain.stderr.contains("refusing to send an API token over plain http://"))
        #expect(!plain.stderr.contains("mvt_secret"))
        let tokenFile = work.url.appending(path: "shared.token")
        try Data("mvt_secret\n".utf8).write(to: tokenFile)
        chmod(tokenFile.path, 0o644)
        let shared = try ModelVaultBinary.run(
            ["model", "list", "--server", "https://127.0.0.1:1", "--token-file", tokenFile.path],
            environment: ["MODELVAULT_TOKEN": ""], in: work.url)
        #expect(shared.status == 3)
        #expect(shared.stderr.contains("open to other users"))
        // Loopback over plain HTTP is allowed: it fails only because nothing listens there.
        let loopback = try ModelVaultBinary.run(
            ["model", "list", "--server", "http://127.0.0.1:1"], environment: ["MODELVAULT_TOKEN": "mvt_x"],
            in: work.url)
        #expect(loopback.status == 1)
        #expect(loopback.stderr.contains("cannot reach the server"))
    }

    @Test func aNonAdminTokenWithTheVaultsKeyIsWarnedThatTheKeyIsAdminAccess() throws {
        try ModelVaultBinary.requireBuilt()
        let directory = try TemporaryDirectory()
        let vault = try PreparedVault(in: directory.url)
        let asCora = try vault.local("cora", ["report", "--format", "json"])
        #expect(asCora.status == 0)
        #expect(asCora.stderr.contains("warning: cora is not an admin, but holds the vault's key"))
        let asAdmin = try vault.admin(["model", "list"])
        #expect(!asAdmin.stderr.contains("warning"))
    }
}
