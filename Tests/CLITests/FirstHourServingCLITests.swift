import Foundation
import TestSupport
import Testing

/// Issue #20, point 7: a served model describes itself (feature columns, label, classes) in its OIP metadata and on
/// `/v1`, and the input datatype is checked as the README documents (FP32, FP64 and integers accepted; BOOL
/// refused). Point 9: the compliance report counts the server's load as a verification.
@Suite(.serialized) struct FirstHourServingCLITests {
    @Test(.timeLimit(.minutes(10))) func servedModelsNameTheirColumnsAndCheckTheDatatype() async throws {
        try ModelVaultBinary.requireBuilt()
        guard Interop.available("curl") else { try Interop.skipOrFail("curl") }
        let directory = try TemporaryDirectory()
        let work = directory.url
        let env = try CLI.makeVault(in: work)
        for arguments in [
            ["data", "add", "cancer", CLI.breastCancerCSV.path],
            ["train", "clf", "--dataset", "cancer", "--label", "benign", "--model", "logistic", "--epochs", "5"],
            ["model", "alias", "clf@1", "production"],
        ] {
            let result = try ModelVaultBinary.run(arguments, environment: env, in: work)
            try #require(result.status == 0, "\(arguments.prefix(2)): \(result.stderr)")
        }
        let server = try BackgroundProcess(
            ["serve", "--insecure-http", "--port", "0"], in: work,
            environment: ModelVaultBinary.environment(adding: env))
        let base = try await server.line(startingWith: "listening on http://").map { "http://" + $0 }
        let url = try #require(base, "\(server.output)")
        let token = env["MODELVAULT_TOKEN"] ?? ""
        func curl(_ arguments: [String]) throws -> ChildProcess.Output {
            try ChildProcess.tool(
                "curl", ["-s", "-w", "\n%{http_code}", "-H", "Authorization: Bearer \(token)"] + arguments
            ).run()
        }

        let metadata = try curl(["\(url)/v2/models/clf"])
        let lines = metadata.stdout.split(separator: "\n")
        #expect(lines.last == "200", "\(metadata.stdout)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any])
        let parameters = try #require(object["parameters"] as? [String: Any], "\(object)")
        let csv = try String(contentsOf: CLI.breastCancerCSV, encoding: .utf8)
        let header = csv.split(whereSeparator: \.isNewline)[0].split(separator: ",").map(String.init)
        #expect(parameters["feature_names"] as? [String] == Array(header.dropLast()))
        #expect(parameters["label"] as? String == "benign")
        #expect((parameters["class_names"] as? [String])?.count == 2)

        // The same description on /v1 (issue #20, point 7): the registry's record of the model lists the versions
        // being served, each as its OIP metadata.
        let registry = try curl(["\(url)/v1/models/clf"])
        let registryLines = registry.stdout.split(separator: "\n")
        #expect(registryLines.last == "200", "\(registry.stdout)")
        let detail = try #require(
            try JSONSerialization.jsonObject(with: Data((registryLines.first ?? "").utf8)) as? [String: Any])
        let served = try #require(detail["served"] as? [[String: Any]], "\(detail)")
        #expect(served.count == 1 && served.first?["versions"] as? [String] == ["1"], "\(served)")
        let described = try #require(served.first?["parameters"] as? [String: Any], "\(served)")
        #expect(described["feature_names"] as? [String] == Array(header.dropLast()))
        #expect(described["label"] as? String == "benign")
        #expect((described["class_names"] as? [String])?.count == 2)
        #expect((served.first?["inputs"] as? [[String: Any]])?.first?["datatype"] as? String == "FP32")

        // FP64 and INT32 convert (as numpy sends them); BOOL is refused before any work.
        func infer(_ datatype: String, _ value: String) throws -> String {
            let data = Array(repeating: value, count: 30).joined(separator: ",")
            let body =
                #"{"inputs":[{"name":"input","shape":[1,30],"datatype":""# + datatype + #"","data":["# + data + "]}]}"
            let result = try curl([
                "-X", "POST", "-H", "Content-Type: application/json", "--data", body, "\(url)/v2/models/clf/infer",
            ])
            return String(result.stdout.split(separator: "\n").last ?? "")
        }
        #expect(try infer("FP64", "1.5") == "200")
        #expect(try infer("INT32", "1") == "200")
        #expect(try infer("BOOL", "true") == "400")
        try await server.stop()

        // Point 9: the version the server loaded (signature and every digest checked) counts as verified in the
        // compliance report, so the report no longer lists it as "never verified".
        let report = try ModelVaultBinary.run(["report", "--format", "json"], environment: env, in: work)
        let compliance = try #require(
            try JSONSerialization.jsonObject(with: report.stdoutData) as? [String: Any], "\(report.stderr)")
        let models = compliance["models"] as? [[String: Any]] ?? []
        let clf = try #require(models.first { $0["reference"] as? String == "clf@1" }, "\(models)")
        let verification = try #require(clf["lastVerification"] as? [String: Any], "\(clf)")
        #expect(verification["ok"] as? Bool == true)
        let findings = compliance["findings"] as? [[String: Any]] ?? []
        #expect(
            !findings.contains {
                $0["kind"] as? String == "unverified-version" && $0["subject"] as? String == "model:clf@1"
            },
            "\(findings)")
    }
}
