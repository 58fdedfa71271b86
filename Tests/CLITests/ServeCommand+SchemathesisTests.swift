import Foundation
import TestSupport
import Testing

/// The HTTP API as a whole, against its own contract: schemathesis (PyPI) reads the running server's
/// `/v1/openapi.json` and sends generated requests to every operation in it (the /v1 registry routes, the Open
/// Inference Protocol /v2 routes, health and metrics), over TLS with an admin token, with a bounded number of
/// examples per operation and a fixed seed. Pass: no 5xx, and every response's status, content type and body match
/// the document. Routes added to the document later are covered without changing this test.
@Suite struct ServeCommandSchemathesisTests {
    /// Examples per operation: `MODELVAULT_SCHEMATHESIS_EXAMPLES` (default 10).
    static var examples: Int {
        Int(ProcessInfo.processInfo.environment["MODELVAULT_SCHEMATHESIS_EXAMPLES"] ?? "") ?? 10
    }

    @Test(.timeLimit(.minutes(15))) func everyResponseMatchesTheServedOpenAPIDocument() async throws {
        try ModelVaultBinary.requireBuilt()
        guard Interop.runs("schemathesis", ["--version"]) else { try Interop.skipOrFail("schemathesis") }
        let work = try TemporaryDirectory()
        let env = try CLI.makeVault(in: work.url)
        // A served model, so the /v2 routes and the registry routes reach their handlers.
        for step in [
            ["data", "add", "bc", CLI.breastCancerCSV.path],
            ["train", "m", "--dataset", "bc", "--label", "benign", "--model", "logistic", "--epochs", "2"],
            ["model", "alias", "m@1", "production"],
        ] {
            let result = try ModelVaultBinary.run(step, environment: env, in: work.url)
            #expect(result.status == 0, "\(step): \(result.stderr)")
        }
        let process = Process()
        process.executableURL = ModelVaultBinary.url
        process.arguments = [
            "serve", "--self-signed", "--port", "0", "--cert-out", "server.pem", "--log-level", "warning",
            "--rate-limit", "10000",
        ]
        process.currentDirectoryURL = work.url
        process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = work.url.appending(path: "serve.out")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        let handle = try FileHandle(forWritingTo: out)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
            try? handle.close()
        }
        var base: String?
        for _ in 0..<600 where base == nil {
            try await Task.sleep(for: .milliseconds(100))
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            base = text.split(separator: "\n").first { $0.hasPrefix("listening on https://127.0.0.1:") }
                .map { String($0.dropFirst("listening on ".count)) }
        }
        let url = try #require(
            base, "the server did not start: \((try? String(contentsOf: out, encoding: .utf8)) ?? "")")
        let token = try #require(env["MODELVAULT_TOKEN"])
        let report = work.url.appending(path: "schemathesis.xml")
        let result = try ChildProcess.tool(
            "schemathesis",
            [
                "run", url + "/v1/openapi.json", "--url", url, "--tls-verify", "server.pem",
                "--header", "Authorization: Bearer \(token)", "--max-examples", String(Self.examples), "--seed", "1",
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                "--workers", "1", "--no-color", "--report", "junit", "--report-junit-path", report.path,
            ],
            in: work.url, mergesErrors: true
        ).run()
        // The summary names the test cases generated and the failures; CI prints it with the test's output.
        let summary = result.stdout.split(separator: "\n").filter {
            $0.contains("generated") || $0.contains("failures") || $0.contains("passed") || $0.hasPrefix("  ❌")
        }
        print("schemathesis (\(Self.examples) examples per operation):\n" + summary.joined(separator: "\n"))
        #expect(result.status == 0, "\(result.stdout.suffix(6000))")
        #expect(result.stdout.contains("generated"))
    }
}
