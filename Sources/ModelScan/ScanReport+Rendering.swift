public import Foundation

extension ScanReport {
    /// One line per finding, most severe first, then a verdict under `policy`.
    public func text(policy: ScanPolicy) -> String {
        var lines = ["\(file): \(formats.isEmpty ? "-" : formats.joined(separator: ", "))"]
        for finding in findings.sorted(by: { ($0.severity, $1.id) > ($1.severity, $0.id) }) {
            let refused = policy.refuses(finding) ? " [refused]" : ""
            lines.append(
                "  \(finding.severity.rawValue.uppercased()) \(finding.id): \(finding.subject): \(finding.message)\(refused)"
            )
        }
        let verdict = refused(by: policy).isEmpty ? "passes" : "REFUSED"
        lines.append("  \(verdict) (\(findings.count) finding(s), policy \(policy.rawValue))")
        return lines.joined(separator: "\n")
    }

    /// The reports as one JSON document: policy, per-file findings and verdicts, and files that failed to scan.
    public static func json(
        _ reports: [ScanReport], policy: ScanPolicy, failures: [String: String] = [:]
    ) throws
        -> Data
    {
        struct File: Encodable {
            let report: ScanReport
            let refused: Bool
        }
        struct Document: Encodable {
            let policy: ScanPolicy
            let threshold: Severity
            let files: [File]
            let failures: [String: String]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(
            Document(
                policy: policy, threshold: policy.threshold,
                files: reports.map { File(report: $0, refused: !$0.refused(by: policy).isEmpty) },
                failures: failures))
    }

    /// The reports as SARIF 2.1.0 (findings at or above the threshold are errors, others warnings or notes).
    public static func sarif(_ reports: [ScanReport], policy: ScanPolicy) throws -> Data {
        var rules: [String: [String: Any]] = [:]
        var results: [[String: Any]] = []
        for report in reports {
            for finding in report.findings {
                rules[finding.rule] = [
                    "id": finding.rule,
                    "shortDescription": ["text": finding.message],
                    "properties": ["security-severity": securityScore(finding.severity)],
                ]
                var region: [String: Any] = [:]
                if let offset = finding.offset, finding.member == nil { region["byteOffset"] = offset }
                var location: [String: Any] = ["artifactLocation": ["uri": report.file]]
                if !region.isEmpty { location["region"] = region }
                var result: [String: Any] = [
                    "ruleId": finding.rule,
                    "level": policy.refuses(finding) ? "error" : finding.severity == .low ? "note" : "warning",
                    "message": ["text": "\(finding.subject): \(finding.message)"],
                    "locations": [["physicalLocation": location]],
                    "partialFingerprints": ["findingId": finding.id],
                    "properties": ["severity": finding.severity.rawValue],
                ]
                if let member = finding.member {
                    result["properties"] = [
                        "severity": finding.severity.rawValue, "member": member,
                        "offset": finding.offset.map { String($0) } ?? "",
                    ]
                }
                results.append(result)
            }
        }
        let document: [String: Any] = [
            "version": "2.1.0",
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "runs": [
                [
                    "tool": [
                        "driver": [
                            "name": "modelvault-scan", "informationUri": "https://github.com/modelvault",
                            "rules": rules.keys.sorted().map { rules[$0]! },
                        ]
                    ],
                    "results": results,
                ]
            ],
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
    }

    private static func securityScore(_ severity: Severity) -> String {
        switch severity {
        case .critical: "9.5"
        case .high: "8.0"
        case .medium: "5.0"
        case .low: "2.0"
        }
    }
}
