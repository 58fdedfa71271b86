public import Foundation

/// The `since` query parameter of `GET /v1/audit`: an ISO 8601 time, with or without fractional seconds.
public enum AuditExportQuery {
    /// The time `text` names, or nil when it is not an ISO 8601 time.
    public static func time(_ text: String) -> Date? {
        guard text.utf8.count <= 64 else { return nil }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }

    /// `date` as the client sends it: fractional seconds kept, so an age such as `24h` selects what it does locally.
    public static func text(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
