import Foundation
import SampleData

/// `server`: the issue's load acceptance. Real processes on loopback, one after the other in the same run:
/// `modelvault serve` (TLS, bearer-token authorisation and auditing on) serving a `logistic` model trained on the
/// breast-cancer data, then MLServer + mlserver-sklearn serving scikit-learn's LogisticRegression trained on the
/// same data. Both are driven by `wrk` with the same Lua script: POST `/v2/models/classifier/infer`, Open
/// Inference Protocol v2 JSON tensors of shape [N, 30].
///
/// Needs the release CLI (`swift build -c release`), `wrk`, and an MLServer venv named by
/// `MODELVAULT_MLSERVER_VENV`. Knobs: `MODELVAULT_BENCH_SECONDS` (30), `MODELVAULT_BENCH_CONNECTIONS` (64),
/// `MODELVAULT_BENCH_ROWS` (16 rows per request), `MODELVAULT_BENCH_THREADS` (wrk threads, 2).
///
/// `MODELVAULT_BENCH_ONNX=1` serves, on the ModelVault side, skl2onnx's export of the very pipeline MLServer
/// serves (issue #17): the venv then also needs `skl2onnx`.
enum ServerBenchmark {
    /// What the Lua script's `done()` prints after `WRK_RESULT `.
    struct LoadResult: Decodable {
        var requests: Int
        var duration_us: Int
        var connect: Int
        var read: Int
        var write: Int
        var status: Int
        var timeout: Int
        var p50_us: Int
        var p99_us: Int
        var max_us: Int

        var requestsPerSecond: Double { Double(requests) / (Double(duration_us) / 1e6) }
        var socketErrors: Int { connect + read + write + timeout }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    struct Settings {
        var seconds = 30
        var connections = 64
        var rows = 16
        var threads = 2
        /// ModelVault serves the ONNX export of MLServer's pipeline instead of a `logistic` it trains.
        var onnx = false

        init() {
            let environment = ProcessInfo.processInfo.environment
            func value(_ name: String) -> Int? { environment[name].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil } }
            seconds = value("MODELVAULT_BENCH_SECONDS") ?? seconds
            connections = value("MODELVAULT_BENCH_CONNECTIONS") ?? connections
            rows = value("MODELVAULT_BENCH_ROWS") ?? rows
            threads = value("MODELVAULT_BENCH_THREADS") ?? threads
            onnx = environment["MODELVAULT_BENCH_ONNX"] == "1"
        }
    }

    static func run() async throws {
        let settings = Settings()
        guard let wrk = executable(named: "wrk") else {
            print("server: SKIPPED: wrk not installed (apt-get install wrk)")
            return
        }
        guard let modelvault = modelvaultBinary() else {
            print(
                "server: SKIPPED: release modelvault binary not found; build it first with `swift build -c release`"
                    + " (or set MODELVAULT_BIN)")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("serverbench-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let csv = try String(contentsOf: SampleData.breastCancerCSV, encoding: .utf8)
        let rows = try featureRows(csv, label: "benign", count: settings.rows)
        let script = directory.appendingPathComponent("infer.lua")
        try luaScript.write(to: script, atomically: true, encoding: .utf8)

        print(
            "load: wrk \(settings.threads) threads, \(settings.connections) connections, \(settings.seconds) s per peer;"
                + " POST /v2/models/classifier/infer, JSON tensor [\(rows.count), \(rows.first?.count ?? 0)] FP32")
        print("load average before: \(loadAverage())")
        print("modelvault: \(modelvault.path)")
        if modelvault.path.contains("/debug/") {
            print("server: WARNING: a debug build; figures are not comparable (`swift build -c release` first)")
        }

        let venv = mlserverVenv()
        // The pipeline is fitted (and, for ONNX, exported) first, so both servers serve the same model.
        let setup = try venv.map { try prepareMLServer($0, onnx: settings.onnx, in: directory) }
        if settings.onnx && setup == nil {
            print("server: SKIPPED: MODELVAULT_BENCH_ONNX=1 needs MODELVAULT_MLSERVER_VENV (with skl2onnx)")
            return
        }
        let ours = try await runModelVault(
            modelvault, wrk: wrk, script: script, rows: rows, settings: settings,
            onnxModel: settings.onnx ? directory.appendingPathComponent("classifier.onnx") : nil, in: directory)
        var peer: LoadResult?
        var peerName = "MLServer"
        if let venv, let setup {
            let (result, name) = try await runMLServer(
                venv, setup: setup, wrk: wrk, script: script, rows: rows, settings: settings, in: directory)
            peer = result
            peerName = name
        } else {
            print(
                "server: SKIPPED (MLServer half): set MODELVAULT_MLSERVER_VENV to a venv holding MLServer"
                    + " (python3 -m venv DIR && DIR/bin/pip install mlserver==1.7.1 mlserver-sklearn==1.7.1"
                    + " uvloop==0.21.0)")
        }
        print("load average after: \(loadAverage())")
        print(table(ours: ours, peer: peer, peerName: peerName))
    }

    // MARK: - ModelVault

    static func runModelVault(
        _ binary: URL, wrk: URL, script: URL, rows: [[String]], settings: Settings, onnxModel: URL?,
        in directory: URL
    ) async throws -> LoadResult {
        let vault = directory.appendingPathComponent("vault")
        var environment = ProcessInfo.processInfo.environment
        for name in ["MODELVAULT_IDENTITY_FILE", "MODELVAULT_TOKEN", "MODELVAULT_PASSPHRASE"] {
            environment[name] = nil
        }
        environment["MODELVAULT_VAULT"] = vault.path
        // A throwaway vault in a temp directory: the passphrase protects nothing outside this run.
        environment["MODELVAULT_PASSPHRASE"] = "server-benchmark-\(UUID())"
        let adminToken = directory.appendingPathComponent("admin.token")
        let clientToken = directory.appendingPathComponent("client.token")

        func cli(_ arguments: [String], token: Bool = true) throws {
            var env = environment
            if token { env["MODELVAULT_TOKEN"] = try readToken(adminToken) }
            try runChecked(binary, arguments, environment: env, in: directory)
        }
        let setupStart = Date()
        try cli(["init", "-o", adminToken.path], token: false)
        try cli(["data", "add", "breast-cancer", SampleData.breastCancerCSV.path])
        if let onnxModel {
            try cli(["model", "push", "classifier", onnxModel.path])
        } else {
            try cli(["train", "classifier", "--dataset", "breast-cancer", "--label", "benign", "--model", "logistic"])
        }
        try cli(["model", "alias", "classifier@1", "production"])
        // The load runs as a least-privilege service account: ml-engineer scoped to this model.
        try cli(["user", "add", "client", "--role", "ml-engineer", "--scope", "model:classifier", "--service"])
        try cli(["token", "create", "client", "--expires", "1d", "-o", clientToken.path])
        print(
            String(
                format: "modelvault: vault, dataset, \(onnxModel == nil ? "training" : "push"), alias, token: %.1f s",
                -setupStart.timeIntervalSinceNow))

        let server = try BackgroundProcess(
            binary,
            [
                // Per-request log lines off, like MLServer's access log; the audit log stays on.
                "serve", "--self-signed", "--host", "127.0.0.1", "--port", "0", "--rate-limit", "1000000",
                "--log-level", "warning",
                "--cert-out", directory.appendingPathComponent("server.pem").path,
            ],
            environment: environment, log: directory.appendingPathComponent("serve"))
        defer { server.stop() }
        let line = try await server.waitForOutput(containing: "listening on https://", timeout: .seconds(120))
        guard let port = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) })
        else { throw Failure("modelvault serve printed no port") }
        print(
            "modelvault: serving on https://127.0.0.1:\(port) (TLS, bearer token, audit log on)"
                + (onnxModel == nil ? "" : ", the skl2onnx export of the pipeline"))

        let body = directory.appendingPathComponent("modelvault-body.json")
        try requestBody(rows, input: onnxModel == nil ? "input" : "X", outputs: nil)
            .write(to: body, atomically: true, encoding: .utf8)
        return try load(
            "modelvault", wrk: wrk, script: script, url: "https://127.0.0.1:\(port)/v2/models/classifier/infer",
            body: body, token: try readToken(clientToken), settings: settings, server: server)
    }

    // MARK: - MLServer

    /// What the MLServer setup script prints.
    struct MLServerSetup: Decodable {
        var port: Int
        var mlserver: String
        var sklearn: String
    }

    /// Fits the pipeline and writes MLServer's model repository (and with `onnx`, `classifier.onnx` beside it).
    static func prepareMLServer(_ venv: URL, onnx: Bool, in directory: URL) throws -> MLServerSetup {
        let repository = directory.appendingPathComponent("mlserver")
        let python = venv.appendingPathComponent("bin/python")
        let setupScript = directory.appendingPathComponent("mlserver_setup.py")
        try mlserverSetupScript.write(to: setupScript, atomically: true, encoding: .utf8)
        var arguments = [setupScript.path, SampleData.breastCancerCSV.path, "benign", repository.path]
        if onnx { arguments.append(directory.appendingPathComponent("classifier.onnx").path) }
        let output = try runChecked(
            python, arguments, environment: ProcessInfo.processInfo.environment, in: directory)
        guard let json = output.split(separator: "\n").last,
            let setup = try? JSONDecoder().decode(MLServerSetup.self, from: Data(json.utf8))
        else { throw Failure("the MLServer setup script printed no settings") }
        return setup
    }

    static func runMLServer(
        _ venv: URL, setup: MLServerSetup, wrk: URL, script: URL, rows: [[String]], settings: Settings,
        in directory: URL
    ) async throws -> (LoadResult, String) {
        let repository = directory.appendingPathComponent("mlserver")
        let name = "MLServer \(setup.mlserver)"
        print("mlserver: \(name), scikit-learn \(setup.sklearn), StandardScaler + LogisticRegression(max_iter=1000)")

        let server = try BackgroundProcess(
            venv.appendingPathComponent("bin/mlserver"), ["start", repository.path],
            environment: ProcessInfo.processInfo.environment, log: directory.appendingPathComponent("mlserver"))
        defer { server.stop() }
        _ = try await server.waitForOutput(containing: "Loaded model 'classifier' successfully", timeout: .seconds(180))
        _ = try await server.waitForOutput(
            containing: "Uvicorn running on http://127.0.0.1:\(setup.port)", timeout: .seconds(60))
        print("mlserver: serving on http://127.0.0.1:\(setup.port) (plain HTTP, no auth, access log off)")

        let body = directory.appendingPathComponent("mlserver-body.json")
        try requestBody(rows, input: "input", outputs: ["predict_proba", "predict"])
            .write(to: body, atomically: true, encoding: .utf8)
        let result = try load(
            "mlserver", wrk: wrk, script: script, url: "http://127.0.0.1:\(setup.port)/v2/models/classifier/infer",
            body: body, token: nil, settings: settings, server: server)
        return (result, name)
    }

    // MARK: - Load

    /// A short warm-up that must be error-free, then the measured run.
    static func load(
        _ name: String, wrk: URL, script: URL, url: String, body: URL, token: String?, settings: Settings,
        server: BackgroundProcess
    ) throws -> LoadResult {
        var environment = ProcessInfo.processInfo.environment
        environment["BENCH_BODY"] = body.path
        environment["BENCH_TOKEN"] = token ?? ""
        func wrkRun(seconds: Int) throws -> LoadResult {
            let output = try runChecked(
                wrk,
                [
                    "-t", String(settings.threads), "-c", String(settings.connections), "-d", "\(seconds)s",
                    "--timeout", "10s", "-s", script.path, url,
                ],
                environment: environment, in: body.deletingLastPathComponent())
            guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("WRK_RESULT ") }),
                let result = try? JSONDecoder().decode(
                    LoadResult.self, from: Data(line.dropFirst("WRK_RESULT ".count).utf8))
            else { throw Failure("wrk printed no result") }
            return result
        }
        let warmUp = try wrkRun(seconds: 3)
        guard warmUp.requests > 0, warmUp.status == 0, warmUp.socketErrors == 0 else {
            print("\(name): warm-up failed; server log tail:\n\(server.logTail())")
            throw Failure("\(name) warm-up had errors (\(warmUp.status) non-2xx, \(warmUp.socketErrors) socket)")
        }
        print("\(name): measuring for \(settings.seconds) s ...")
        return try wrkRun(seconds: settings.seconds)
    }

    /// The first `count` data rows of `csv` without the label column, as JSON number text.
    static func featureRows(_ csv: String, label: String, count: Int) throws -> [[String]] {
        let lines = csv.split(whereSeparator: \.isNewline)
        guard let header = lines.first, let labelIndex = header.split(separator: ",").firstIndex(of: Substring(label))
        else { throw Failure("the breast-cancer CSV has no label column") }
        return try lines.dropFirst().prefix(count).map { line in
            try line.split(separator: ",", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset != labelIndex }
                .map { field in
                    guard let value = Double(field.element), value.isFinite else {
                        throw Failure("the breast-cancer CSV has a non-numeric feature")
                    }
                    return "\(value)"
                }
        }
    }

    /// An OIP v2 request: one FP32 input of nested rows; `outputs` names the outputs to request (nil: all).
    static func requestBody(_ rows: [[String]], input: String, outputs: [String]?) -> String {
        let data = rows.map { "[" + $0.joined(separator: ",") + "]" }.joined(separator: ",")
        var json = #"{"inputs":[{"name":""# + input + #"","shape":["# + "\(rows.count),\(rows.first?.count ?? 0)"
        json += #"],"datatype":"FP32","data":["# + data + "]}]"
        if let outputs {
            json += #","outputs":["# + outputs.map { #"{"name":""# + $0 + #""}"# }.joined(separator: ",") + "]"
        }
        return json + "}"
    }

    // MARK: - Report

    static func table(ours: LoadResult, peer: LoadResult?, peerName: String) -> String {
        func row(_ name: String, _ result: LoadResult) -> String {
            name.padding(toLength: 38, withPad: " ", startingAt: 0)
                + String(
                    format: "%10.0f %10.2f %10.2f %10.2f %9d %8d %10d", result.requestsPerSecond,
                    Double(result.p50_us) / 1000, Double(result.p99_us) / 1000, Double(result.max_us) / 1000,
                    result.status, result.socketErrors, result.requests)
        }
        var lines = [
            "peer                                       req/s    p50 ms     p99 ms     max ms   non-2xx  sockerr   requests",
            String(repeating: "-", count: 110),
            row("ModelVault (TLS, token, audit)", ours),
        ]
        guard let peer else { return lines.joined(separator: "\n") }
        lines.append(row(peerName + " (HTTP, no auth)", peer))
        let throughput = ours.requestsPerSecond / max(peer.requestsPerSecond, 1e-9)
        let p99 = Double(ours.p99_us) / Double(max(peer.p99_us, 1))
        lines.append(
            String(format: "ratio ModelVault / %@: throughput %.1fx, p99 latency %.3fx", peerName, throughput, p99))
        let errorFree = ours.status + ours.socketErrors == 0 && peer.status + peer.socketErrors == 0
        let met = throughput >= 5 && ours.p99_us < peer.p99_us && errorFree
        lines.append(
            "target (>= 5x throughput, lower p99, zero errors): " + (met ? "MET" : "MISSED")
                + (errorFree ? "" : " (errors seen)"))
        return lines.joined(separator: "\n")
    }

    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))
            .map { $0.split(separator: " ").prefix(3).joined(separator: ", ") } ?? "n/a"
    }

    // MARK: - Processes

    static func executable(named name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// `MODELVAULT_BIN`, else `modelvault` next to this executable (same build directory), else
    /// `.build/release/modelvault`.
    static func modelvaultBinary() -> URL? {
        var candidates: [URL] = []
        if let path = ProcessInfo.processInfo.environment["MODELVAULT_BIN"] {
            candidates.append(URL(fileURLWithPath: path))
        }
        if let own = Bundle.main.executableURL {
            candidates.append(own.deletingLastPathComponent().appendingPathComponent("modelvault"))
        }
        candidates.append(URL(fileURLWithPath: ".build/release/modelvault"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    static func mlserverVenv() -> URL? {
        guard let path = ProcessInfo.processInfo.environment["MODELVAULT_MLSERVER_VENV"], !path.isEmpty else {
            return nil
        }
        let venv = URL(fileURLWithPath: path)
        let needed = ["bin/python", "bin/mlserver"].map { venv.appendingPathComponent($0).path }
        return needed.allSatisfy { FileManager.default.isExecutableFile(atPath: $0) } ? venv : nil
    }

    static func readToken(_ file: URL) throws -> String {
        try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs a command to completion; returns its stdout, or throws naming the command (its output on stderr).
    @discardableResult
    static func runChecked(
        _ executable: URL, _ arguments: [String], environment: [String: String], in directory: URL
    )
        throws -> String
    {
        let outputFile = directory.appendingPathComponent("cmd-\(UUID()).out")
        FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outputFile) }
        let handle = try FileHandle(forWritingTo: outputFile)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = directory
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        let output = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            FileHandle.standardError.write(Data(output.suffix(2000).utf8))
            throw Failure("\(executable.lastPathComponent) \(arguments.first ?? "") failed")
        }
        return output
    }

    /// A server process whose stdout and stderr go to one log file; SIGTERM then a wait on `stop()`.
    final class BackgroundProcess {
        let process = Process()
        let log: URL
        let name: String

        init(_ executable: URL, _ arguments: [String], environment: [String: String], log: URL) throws {
            self.log = log.appendingPathExtension("log")
            name = executable.lastPathComponent
            FileManager.default.createFile(atPath: self.log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: self.log)
            process.executableURL = executable
            process.arguments = arguments
            process.environment = environment
            process.currentDirectoryURL = log.deletingLastPathComponent()
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            try handle.close()
        }

        /// Waits until the log has a line containing `text` and returns that line.
        func waitForOutput(containing text: String, timeout: Duration) async throws -> String {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                let contents = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                if let line = contents.split(separator: "\n").first(where: { $0.contains(text) }) {
                    return String(line)
                }
                guard process.isRunning else {
                    print("\(name) exited early; log tail:\n\(logTail())")
                    throw Failure("\(name) exited before it was ready")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            print("\(name) not ready in time; log tail:\n\(logTail())")
            throw Failure("\(name) was not ready in time")
        }

        func logTail() -> String {
            let contents = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            return contents.split(separator: "\n").suffix(15).joined(separator: "\n")
        }

        /// SIGTERM (graceful shutdown for both servers), then SIGKILL if it has not exited within 20 s.
        func stop() {
            guard process.isRunning else { return }
            process.terminate()
            let deadline = Date().addingTimeInterval(20)
            while process.isRunning && Date() < deadline { usleep(100_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    // MARK: - Scripts

    /// wrk: POST the body file to every connection, with a bearer token when one is given; `done()` prints the
    /// figures as one JSON line.
    static let luaScript = #"""
        wrk.method = "POST"
        wrk.headers["Content-Type"] = "application/json"
        local token = os.getenv("BENCH_TOKEN")
        if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
        local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
        wrk.body = file:read("*a")
        file:close()

        function done(summary, latency, requests)
          io.write(string.format(
            "WRK_RESULT {\"requests\":%d,\"duration_us\":%d,\"connect\":%d,\"read\":%d,\"write\":%d,"
              .. "\"status\":%d,\"timeout\":%d,\"p50_us\":%d,\"p99_us\":%d,\"max_us\":%d}\n",
            summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
            summary.errors.write, summary.errors.status, summary.errors.timeout,
            latency:percentile(50), latency:percentile(99), latency.max))
        end
        """#

    /// Trains StandardScaler + LogisticRegression on the CSV and writes an MLServer model repository: the
    /// model, its settings, and server settings (free loopback ports, debug off so no per-request access log).
    static let mlserverSetupScript = #"""
        import json, os, socket, sys
        import joblib, mlserver, numpy as np, sklearn
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        csv_path, label, directory = sys.argv[1], sys.argv[2], sys.argv[3]
        with open(csv_path) as f:
            header = f.readline().strip().split(",")
        data = np.loadtxt(csv_path, delimiter=",", skiprows=1)
        column = header.index(label)
        y = data[:, column].astype(np.int64)
        x = np.delete(data, column, axis=1)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
        os.makedirs(os.path.join(directory, "classifier"), exist_ok=True)
        joblib.dump(model, os.path.join(directory, "classifier", "model.joblib"))

        def free_port():
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                return s.getsockname()[1]

        ports = [free_port() for _ in range(3)]
        with open(os.path.join(directory, "classifier", "model-settings.json"), "w") as f:
            json.dump({"name": "classifier", "implementation": "mlserver_sklearn.SKLearnModel",
                       "parameters": {"uri": "./model.joblib"}}, f)
        with open(os.path.join(directory, "settings.json"), "w") as f:
            json.dump({"debug": False, "host": "127.0.0.1", "http_port": ports[0], "grpc_port": ports[1],
                       "metrics_port": ports[2]}, f)
        if len(sys.argv) > 4:
            from skl2onnx import to_onnx
            with open(sys.argv[4], "wb") as f:
                f.write(to_onnx(model, x[:1].astype(np.float32)).SerializeToString())
        print(json.dumps({"port": ports[0], "mlserver": mlserver.__version__, "sklearn": sklearn.__version__}))
        """#
}
