public import Foundation

/// Token lifetimes as written on the command line: `90m`, `12h`, `30d`, `2w`, `3600s`.
public enum TokenLifetime {
    /// The longest accepted lifetime (ten years), so a typo cannot mint a practically eternal token.
    public static let maximum: TimeInterval = 3650 * 86_400

    /// Parses `<positive integer><unit>` with unit s, m, h, d or w into seconds.
    public static func parse(_ text: String) throws -> TimeInterval {
        guard let unit = text.last, let count = Int(text.dropLast()), count > 0 else {
            throw AccessControlError.invalidExpiry
        }
        let seconds: Int
        switch unit {
        case "s": seconds = 1
        case "m": seconds = 60
        case "h": seconds = 3600
        case "d": seconds = 86_400
        case "w": seconds = 7 * 86_400
        default: throw AccessControlError.invalidExpiry
        }
        let (total, overflow) = count.multipliedReportingOverflow(by: seconds)
        guard !overflow, TimeInterval(total) <= maximum, text.first != "+" else {
            throw AccessControlError.invalidExpiry
        }
        return TimeInterval(total)
    }

    /// The lifetime the CLI gives a new token when none is asked for (issue #20): a token nobody set an expiry
    /// for should not live forever and open every compliance report with a finding.
    public static let defaultText = "90d"
    /// The default lifetime of a first admin token in seconds (``defaultText``: 90 days).
    public static let `default`: TimeInterval = 90 * 86_400

    /// Parses a lifetime as `parse` does, or `never` (`nil`: the token does not expire).
    public static func parseOrNever(_ text: String) throws -> TimeInterval? {
        text == "never" ? nil : try parse(text)
    }

    /// The expiry date for a lifetime text, counted from `now`.
    public static func expiry(_ text: String, from now: Date = Date()) throws -> Date {
        now.addingTimeInterval(try parse(text))
    }
}
