public import Foundation

/// Export formats for `audit export`.
public enum AuditExportFormat: String, Sendable, CaseIterable {
    /// One JSON object per line: `{"entry":{...},"index":N}` (the exact leaf data).
    case jsonl
    /// RFC 4180 CSV with a header row.
    case csv
}

extension AuditLogReader {
    /// Exports entries (at or after `since`, if given) in `format`: those a signed `checkpoint` covers, checked against
    /// its root (see ``records(coveredBy:)``), or every record in the file when it is `nil`.
    public func export(
        _ format: AuditExportFormat, since: Date? = nil, coveredBy checkpoint: Checkpoint?
    ) throws -> Data {
        let selected = try checkpoint.map { try self.records(coveredBy: $0) } ?? self.records()
        var out = Data()
        if format == .csv {
            out.append(contentsOf: "index,time,principal,action,resource,outcome,request,client,detail\r\n".utf8)
        }
        for record in selected {
            let entry = try record.entry()
            if let since, entry.time < since { continue }
            switch format {
            case .jsonl:
                out.append(record.leafData)
                out.append(0x0A)
            case .csv:
                let fields = [
                    String(record.index), AuditEntry.timestamp(entry.time), entry.principal, entry.action,
                    entry.resource, entry.outcome.rawValue, entry.requestID, entry.clientAddress ?? "",
                    entry.detail ?? "",
                ]
                out.append(contentsOf: (fields.map(Self.csvField).joined(separator: ",") + "\r\n").utf8)
            }
        }
        return out
    }

    /// Quotes a CSV field when needed; a leading formula character is neutralised for spreadsheet safety.
    static func csvField(_ text: String) -> String {
        var value = text
        if let first = value.first, "=+-@".contains(first), Double(value) == nil { value = "'" + value }
        let special: Set<Unicode.Scalar> = [",", "\"", "\r", "\n"]
        guard value.unicodeScalars.contains(where: special.contains) || value != text else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
