public import Foundation

extension ComplianceReport {
    /// Output formats of `modelvault report`.
    public enum Format: String, Sendable, CaseIterable {
        /// Markdown.
        case md
        /// Pretty JSON (the `ComplianceReport` fields).
        case json
        /// A self-contained HTML page (inline CSS, every value escaped).
        case html
    }

    /// The report rendered in `format`.
    public func rendered(as format: Format) throws -> Data {
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return try encoder.encode(self) + Data("\n".utf8)
        case .md: return Data(markdown().utf8)
        case .html: return Data(html().utf8)
        }
    }

    /// A table as rows of cells; shared by the Markdown and HTML renderers.
    struct Table {
        var title: String
        var header: [String]
        var rows: [[String]]
    }

    var tables: [Table] {
        func accessText(_ counts: [AccessCount]) -> String {
            counts.isEmpty
                ? "none"
                : counts.map { "\($0.principal) \($0.action) \($0.outcome) ×\($0.count)" }.joined(separator: "; ")
        }
        return [
            Table(
                title: "Findings", header: ["severity", "kind", "subject", "finding"],
                rows: findings.map { [$0.severity, $0.kind, $0.subject, $0.message] }),
            Table(
                title: "Model versions",
                header: [
                    "version", "encryption", "key versions", "signature", "last verification", "scan", "aliases",
                    "access", "denied attempts (model)",
                ],
                rows: models.map {
                    [
                        $0.reference, $0.encryption, $0.keyVersions.map { "v\($0)" }.joined(separator: ", "),
                        $0.signatureStatus,
                        $0.lastVerification.map { "\($0.ok ? "passed" : "FAILED") \($0.at) by \($0.by)" } ?? "never",
                        $0.scan ?? "never scanned", $0.aliases.joined(separator: ", "), accessText($0.access),
                        String($0.deniedAttempts),
                    ]
                }),
            Table(
                title: "Dataset versions",
                header: [
                    "version", "stored in", "encryption", "key versions", "files", "access",
                    "denied attempts (dataset)",
                ],
                rows: datasets.map {
                    [
                        $0.reference, $0.processed ? "data/processed" : "data/raw", $0.encryption,
                        $0.keyVersions.map { "v\($0)" }.joined(separator: ", "), String($0.fileCount),
                        accessText($0.access), String($0.deniedAttempts),
                    ]
                }),
            Table(
                title: "Key versions", header: ["version", "state", "created", "files"],
                rows: keys.map { ["v\($0.version)", $0.state, $0.createdAt, String($0.fileCount)] }),
            Table(
                title: "Principals", header: ["name", "kind", "bindings", "created"],
                rows: principals.map {
                    [$0.name, $0.kind.rawValue, $0.bindings.map(\.description).joined(separator: ", "), $0.createdAt]
                }),
            Table(
                title: "API tokens", header: ["id", "principal", "state", "created", "expires"],
                rows: tokens.map { [$0.id, $0.principal, $0.state, $0.createdAt, $0.expiresAt ?? "never"] }),
        ]
    }

    var summaryLines: [String] {
        [
            "Vault: \(vault)",
            "Generated: \(generatedAt) by \(generatedBy)",
            "Active key version: v\(currentKeyVersion)",
            "Audit log: \(auditEntries) entries, \(deniedAttempts) denied attempts, "
                + (auditLogValid ? "verifies" : "DOES NOT VERIFY"),
            "Findings: \(findings.count)",
        ]
    }

    /// The report as Markdown.
    public func markdown() -> String {
        func cell(_ text: String) -> String {
            text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
        }
        var out = "# ModelVault compliance report\n\n"
        out += summaryLines.map { "- \($0)" }.joined(separator: "\n") + "\n"
        for table in tables {
            out += "\n## \(table.title)\n\n"
            guard !table.rows.isEmpty else {
                out += "None.\n"
                continue
            }
            out += "| " + table.header.map(cell).joined(separator: " | ") + " |\n"
            out += "|" + String(repeating: "---|", count: table.header.count) + "\n"
            for row in table.rows { out += "| " + row.map(cell).joined(separator: " | ") + " |\n" }
        }
        return out
    }

    /// The report as one self-contained HTML page: inline CSS, no scripts, every value escaped.
    public func html() -> String {
        let style = """
            body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:80rem;color:#1d1d1f;\
            padding:0 1rem}h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}\
            table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #ddd;padding:.35rem .5rem;\
            text-align:left;vertical-align:top}th{background:#f5f5f7}tr:nth-child(even) td{background:#fafafa}\
            .high{color:#b00020;font-weight:600}.medium{color:#8a5a00}.info{color:#555}ul{line-height:1.6}
            """
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<title>ModelVault compliance report</title>\n<style>\(style)</style>\n</head>\n<body>\n"
        out += "<h1>ModelVault compliance report</h1>\n<ul>\n"
        out += summaryLines.map { "<li>\(Self.escape($0))</li>" }.joined(separator: "\n") + "\n</ul>\n"
        for table in tables {
            out += "<h2>\(Self.escape(table.title))</h2>\n"
            guard !table.rows.isEmpty else {
                out += "<p>None.</p>\n"
                continue
            }
            out += "<table>\n<tr>" + table.header.map { "<th>\(Self.escape($0))</th>" }.joined() + "</tr>\n"
            for row in table.rows {
                let isFinding = table.title == "Findings"
                out += "<tr>"
                for (index, value) in row.enumerated() {
                    let attribute = isFinding && index == 0 ? " class=\"\(Self.escape(value))\"" : ""
                    out += "<td\(attribute)>\(Self.escape(value))</td>"
                }
                out += "</tr>\n"
            }
            out += "</table>\n"
        }
        return out + "</body>\n</html>\n"
    }

    /// Escapes text for HTML element content and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
