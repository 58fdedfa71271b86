import Foundation
import SampleData

/// `modelvault demo --remote`: the personas work through the server (issue #14). The demo starts `modelvault serve`
/// on 127.0.0.1 with TLS as a child process, the only process that holds the passphrase, and then runs this very
/// binary once per command, in remote mode, as each persona: the child gets the server's URL, its certificate and
/// that persona's token, and no passphrase, identity file or vault path.
extension DemoRun {
    /// The remote walk's steps, in order.
    var remoteSteps: [(String, (inout DemoState) async throws -> Void)] {
        [
            ("Create the vault", createVault),
            ("One user per persona, each with a token", createPersonas),
            ("Start the server: TLS on 127.0.0.1, the only holder of the vault key", startServerProcess),
            ("dana adds the data and trains on the server", remoteDataScientist),
            ("devin promotes the version to production", remoteDevOps),
            ("mel verifies, pulls and predicts", remoteMLEngineer),
            ("Refused: a made-up token, the wrong role", remoteRefusals),
            ("sam verifies the audit log; cora reads it and the compliance report", remoteAudit),
        ]
    }

    func startServerProcess(_ state: inout DemoState) async throws {
        // The admin hands out the vault's verification key: a plaintext pull checks the version's signature against
        // it, so the client never takes the server's word for the model.
        let verifier = try await state.session("admin").verifierPublicKeyPEM()
        // The server opens the vault itself; this process lets go of it first (its audit log is single-writer).
        try await state.access?.close()
        state.access = nil
        let work = FileManager.default.temporaryDirectory.appending(path: "modelvault-demo-client-\(UUID())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let remote = try DemoRemote(work: work, binary: Self.ownExecutable())
        state.remote = remote
        try Data(verifier.utf8).write(to: remote.verifier)
        try remote.startServer(vault: root, passphrase: state.passphrase)
        let port = try await remote.waitForPort()
        say("  modelvault serve --self-signed --host 127.0.0.1 --port \(port): listening on https://127.0.0.1:\(port)")
        say(
            "  the server alone holds the passphrase; it opens the vault, authorises each token and audits each request"
        )
        say("  from here on every persona runs `modelvault` in remote mode with three variables and nothing else:")
        say("    MODELVAULT_SERVER=https://127.0.0.1:\(port)  MODELVAULT_CA_FILE=server.pem (the self-signed")
        say("    certificate)  MODELVAULT_TOKEN=<its own token>; no passphrase, no identity file, no vault path;")
        say("    a plaintext pull also names MODELVAULT_VERIFIER=vault.pem, the verification key the admin handed out")
    }

    func remoteDataScientist(_ state: inout DemoState) async throws {
        let remote = try state.requireRemote()
        try FileManager.default.copyItem(
            at: SampleData.breastCancerCSV, to: remote.work.appending(path: "breast_cancer.csv"))
        try await remoteCommand(state, "dana", ["data", "add", "breast-cancer", "breast_cancer.csv"], shown: 1)
        try await remoteCommand(
            state, "dana",
            [
                "train", "breast-cancer-logistic", "--dataset", "breast-cancer", "--label", "benign", "--model",
                "logistic",
            ],
            shown: 1, progressShown: 5)
        say(
            "  the server decrypted the dataset in its memory, trained, then scanned, signed and encrypted the version;"
        )
        say("  dana got metrics and the version's name, never a key")
    }

    func remoteDevOps(_ state: inout DemoState) async throws {
        try await remoteCommand(state, "devin", ["model", "alias", "breast-cancer-logistic@1", "production"], shown: 1)
    }

    func remoteMLEngineer(_ state: inout DemoState) async throws {
        let remote = try state.requireRemote()
        try await remoteCommand(state, "mel", ["model", "verify", "breast-cancer-logistic:production"], shown: 1)
        try await remoteCommand(
            state, "mel", ["model", "pull", "breast-cancer-logistic:production", "-o", "pulled"], shown: 1)
        say("  the files came re-wrapped for a key pair mel's client made for this pull and kept in memory;")
        say("  it checked the version's signature against vault.pem, decrypted the files and checked each SHA-256")
        say("  against the signed manifest: no model plaintext crossed the network, even inside TLS")
        // Five rows of the shipped data without the label column, the shape a caller of `predict` has.
        let csv = try String(contentsOf: SampleData.breastCancerCSV, encoding: .utf8)
        let lines = csv.split(whereSeparator: \.isNewline).prefix(6)
        guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false),
            let label = header.firstIndex(of: "benign")
        else { throw DemoFailure("the breast-cancer CSV has no label column") }
        let rows = lines.map { line in
            line.split(separator: ",", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset != label }.map(\.element).joined(separator: ",")
        }
        try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: remote.work.appending(path: "rows.csv"))
        try await remoteCommand(
            state, "mel", ["predict", "breast-cancer-logistic:production", "--input", "rows.csv"], shown: 3)
    }

    func remoteRefusals(_ state: inout DemoState) async throws {
        let remote = try state.requireRemote()
        try await remoteCommand(
            state, "cora", ["model", "pull", "breast-cancer-logistic:production", "-o", "cora-pulled"], expect: 3,
            shown: 1)
        try await remoteCommand(state, "mel", ["data", "get", "breast-cancer", "-o", "mel-data"], expect: 3, shown: 1)
        try await remoteCommand(state, "", ["model", "list"], token: "mvt_made-up", expect: 3, shown: 1)
        for output in ["cora-pulled", "mel-data"]
        where FileManager.default.fileExists(atPath: remote.work.appending(path: output).path) {
            throw DemoFailure("a refused command wrote \(output)")
        }
        say("  each refusal is exit 3 and an audited denial; nothing was written")
    }

    func remoteAudit(_ state: inout DemoState) async throws {
        let remote = try state.requireRemote()
        try await remoteCommand(state, "sam", ["audit", "verify"], shown: 2)
        let tail = try await remoteCommand(state, "cora", ["audit", "tail", "-n", "40"], shown: 0)
        for persona in ["dana", "devin", "mel", "cora"] where !tail.contains(persona) {
            throw DemoFailure("the audit log has no entry for \(persona)")
        }
        let denied = tail.split(separator: "\n").filter { $0.contains("denied") }.count
        say("  the last 40 entries name dana, devin, mel and cora; \(denied) of them are denials")
        try await remoteCommand(state, "cora", ["report", "--format", "md", "-o", "report.md"], shown: 1)
        let report = try String(contentsOf: remote.work.appending(path: "report.md"), encoding: .utf8)
        guard report.contains("breast-cancer-logistic") else { throw DemoFailure("the report misses the model") }
        try await remote.stopServer()
        say("  server shut down gracefully")
    }

    /// Runs `modelvault ARGUMENTS` in remote mode as `persona` (with its token, or `token`), checks the exit status
    /// and narrates the command and the first `shown` lines of its output. Returns the output.
    @discardableResult
    func remoteCommand(
        _ state: DemoState, _ persona: String, _ arguments: [String], token: String? = nil, expect: Int32 = 0,
        shown: Int, progressShown: Int = 0
    ) async throws -> String {
        let remote = try state.requireRemote()
        guard let token = token ?? state.tokens[persona] else { throw DemoFailure("no token for \(persona)") }
        let who = persona.isEmpty ? "someone with a made-up token" : persona
        say("  \(who) $ modelvault \(arguments.joined(separator: " "))")
        let result = try await remote.run(arguments, token: token)
        let output = (expect == 0 ? result.stdout : result.stderr).split(separator: "\n")
        for line in output.prefix(shown) { say("      \(line)") }
        // Progress goes to stderr; its first line says what the command is doing, the next ones what it found.
        for line in result.stderr.split(separator: "\n").dropFirst().prefix(progressShown) { say("      \(line)") }
        guard result.status == expect else {
            throw DemoFailure(
                "`modelvault \(arguments.prefix(2).joined(separator: " "))` as \(who) exited \(result.status), "
                    + "not \(expect): \(result.stderr.suffix(400))")
        }
        if expect != 0 { say("      (exit \(result.status))") }
        return result.stdout
    }

    /// This process's executable, so the children are the very binary running the demo.
    static func ownExecutable() throws -> URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(filePath: path)
        }
        guard let url = Bundle.main.executableURL else { throw DemoFailure("cannot find the modelvault executable") }
        return url
    }
}

extension DemoState {
    func requireRemote() throws -> DemoRemote {
        guard let remote else { throw DemoFailure("the server is not running") }
        return remote
    }
}

/// The child processes of the remote walk: the server, and one CLI run per command, each with its output in files
/// under `work` (a client-side directory outside the vault, removed at the end).
final class DemoRemote {
    let work: URL
    let binary: URL
    private let server = Process()
    /// The environment every child starts from: no MODELVAULT_ variable of the caller's leaks in.
    private let base: [String: String]

    init(work: URL, binary: URL) throws {
        self.work = work
        self.binary = binary
        base = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MODELVAULT_") }
    }

    var serverLog: URL { work.appending(path: "serve.log") }

    /// The vault's verification key as the admin handed it out (`keys export-verifier`).
    var verifier: URL { work.appending(path: "vault.pem") }

    func startServer(vault: URL, passphrase: String) throws {
        var environment = base
        environment["MODELVAULT_VAULT"] = vault.path(percentEncoded: false)
        environment["MODELVAULT_PASSPHRASE"] = passphrase
        FileManager.default.createFile(atPath: serverLog.path, contents: nil)
        let log = try FileHandle(forWritingTo: serverLog)
        defer { try? log.close() }
        server.executableURL = binary
        server.arguments = [
            "serve", "--self-signed", "--host", "127.0.0.1", "--port", "0", "--log-level", "warning",
            "--cert-out", work.appending(path: "server.pem").path,
        ]
        server.environment = environment
        server.currentDirectoryURL = work
        server.standardOutput = log
        server.standardError = log
        try server.run()
    }

    /// Waits for the server's "listening on" line and returns its port.
    func waitForPort() async throws -> Int {
        for _ in 0..<600 {
            let text = (try? String(contentsOf: serverLog, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains("listening on https://") }),
                let port = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) })
            {
                return port
            }
            guard server.isRunning else {
                throw DemoFailure("the server exited: \(text.suffix(400))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw DemoFailure("the server did not start within 60 s")
    }

    /// Runs the CLI in remote mode with `token`; waits off the cooperative pool (termination handler).
    func run(_ arguments: [String], token: String) async throws -> (status: Int32, stdout: String, stderr: String) {
        guard let port = try? await waitForPort() else { throw DemoFailure("the server is not running") }
        var environment = base
        environment["MODELVAULT_SERVER"] = "https://127.0.0.1:\(port)"
        environment["MODELVAULT_CA_FILE"] = work.appending(path: "server.pem").path
        environment["MODELVAULT_TOKEN"] = token
        environment["MODELVAULT_VERIFIER"] = verifier.path(percentEncoded: false)
        let id = UUID().uuidString
        let out = work.appending(path: ".out-\(id)")
        let err = work.appending(path: ".err-\(id)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = work
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        return (
            status, (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        )
    }

    /// SIGTERM (graceful shutdown), then waits up to 20 s before SIGKILL.
    func stopServer() async throws {
        guard server.isRunning else { return }
        server.terminate()
        for _ in 0..<200 where server.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        guard !server.isRunning else {
            kill(server.processIdentifier, SIGKILL)
            throw DemoFailure("the server did not shut down within 20 s")
        }
        guard server.terminationStatus == 0 else {
            throw DemoFailure("the server exited with status \(server.terminationStatus)")
        }
    }

    /// Stops the server if it still runs (a failed step) and removes the client-side directory.
    func cleanUp() async {
        try? await stopServer()
        try? FileManager.default.removeItem(at: work)
    }
}
