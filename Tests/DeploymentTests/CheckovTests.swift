import Deployment
import Foundation
import TestSupport
import Testing

/// The generated Kubernetes manifests and Dockerfile pass every checkov check (PyPI `checkov`) with no skip
/// annotation (issue #19).
@Suite struct CheckovTests {
    /// What checkov reported for one output directory.
    private struct Findings {
        var passed: [String: Int] = [:]
        var failed: [String] = []
        var skipped: [(id: String, reason: String)] = []
    }

    /// Scans both variants in one checkov run (checkov takes a while to start) and splits the results by directory.
    private func scan(_ variants: [String: DeploymentSpec]) throws -> [String: Findings] {
        guard Interop.available("checkov") else {
            try Interop.skipOrFail("checkov")
        }
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        for (name, spec) in variants {
            try DeploymentArtifacts(rendering: spec).write(to: root.appendingPathComponent(name))
        }
        let result = try ChildProcess.tool(
            "checkov",
            [
                "--directory", root.path, "--framework", "kubernetes", "dockerfile", "--output", "json", "--compact",
                "--skip-download",
            ]
        ).run()
        // Exit 1 means failed checks, which the report names; anything else is checkov failing to run.
        try #require(result.status == 0 || result.status == 1, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: result.stdoutData)
        var findings: [String: Findings] = [:]
        func variant(of check: [String: Any]) -> String {
            let path = (check["file_path"] as? String) ?? ""
            return path.split(separator: "/").first.map(String.init) ?? "?"
        }
        for case let report as [String: Any] in (object as? [Any]) ?? [object] {
            let framework = report["check_type"] as? String ?? "?"
            let results = report["results"] as? [String: Any] ?? [:]
            for case let check as [String: Any] in results["passed_checks"] as? [Any] ?? [] {
                findings[variant(of: check), default: Findings()].passed[framework, default: 0] += 1
            }
            for case let check as [String: Any] in results["failed_checks"] as? [Any] ?? [] {
                findings[variant(of: check), default: Findings()].failed.append(
                    "\(check["check_id"] ?? "?") \(check["check_name"] ?? "") in \(check["file_path"] ?? "")")
            }
            for case let check as [String: Any] in results["skipped_checks"] as? [Any] ?? [] {
                let reason = (check["check_result"] as? [String: Any])?["suppress_comment"] as? String
                findings[variant(of: check), default: Findings()].skipped.append(
                    ("\(check["check_id"] ?? "?")", reason ?? ""))
            }
        }
        return findings
    }

    @Test func generatedArtifactsPassEveryCheck() throws {
        let findings = try scan([
            "unpinned": Fixtures.spec(digest: nil), "pinned": Fixtures.spec(), "forwarding": Fixtures.forwardingSpec(),
        ])
        for name in ["unpinned", "pinned", "forwarding"] {
            let found = try #require(findings[name], "checkov reported nothing for \(name)")
            #expect(found.failed.isEmpty, "\(name): \(found.failed.joined(separator: "\n"))")
            #expect(found.skipped.isEmpty, "\(name): no check is skipped: \(found.skipped.map(\.id))")
            #expect((found.passed["dockerfile"] ?? 0) > 20, "\(name)")
        }
        // The Deployment (only with the image digest) really was checked, pod security included.
        #expect((findings["pinned"]?.passed["kubernetes"] ?? 0) > 50)
        #expect((findings["forwarding"]?.passed["kubernetes"] ?? 0) > 50)
    }
}
