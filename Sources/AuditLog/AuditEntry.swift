public import Foundation

/// One audited operation. Holds names and outcomes only: never a token, key, passphrase or plaintext.
public struct AuditEntry: Codable, Sendable, Equatable {
    /// Whether the operation went ahead.
    public enum Outcome: String, Codable, Sendable, CaseIterable {
        /// Authorised and completed.
        case allowed
        /// Refused by the policy (or authentication).
        case denied
        /// Authorised but failed.
        case failed
    }

    /// When it happened (UTC, millisecond precision in the log).
    public var time: Date
    /// Who acted: a principal name, or `anonymous` for unauthenticated calls.
    public var principal: String
    /// What was done: an `Action` raw value such as `model.pull`.
    public var action: String
    /// What it was done to, e.g. `model:fraud@3`, `dataset:claims`, `vault`.
    public var resource: String
    /// The result.
    public var outcome: Outcome
    /// Correlates the entry with a CLI run or an HTTP request.
    public var requestID: String
    /// The caller's network address, for server requests.
    public var clientAddress: String?
    /// A short free-text note (an error description, a key version). Must never contain secrets.
    public var detail: String?

    /// Creates an entry; the time is truncated to milliseconds so it round-trips through the log exactly.
    public init(
        time: Date = Date(), principal: String, action: String, resource: String, outcome: Outcome,
        requestID: String, clientAddress: String? = nil, detail: String? = nil
    ) {
        self.time = Self.millisecondPrecision(time, rounding: .down)
        self.principal = principal
        self.action = action
        self.resource = resource
        self.outcome = outcome
        self.requestID = requestID
        self.clientAddress = clientAddress
        self.detail = detail.map(Self.redacted)
    }

    enum CodingKeys: String, CodingKey {
        case time, principal, action, resource, outcome, requestID = "request", clientAddress = "client", detail
    }

    /// Encodes with `time` as an RFC 3339 UTC string with milliseconds.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.timestamp(time), forKey: .time)
        try container.encode(principal, forKey: .principal)
        try container.encode(action, forKey: .action)
        try container.encode(resource, forKey: .resource)
        try container.encode(outcome, forKey: .outcome)
        try container.encode(requestID, forKey: .requestID)
        try container.encodeIfPresent(clientAddress, forKey: .clientAddress)
        try container.encodeIfPresent(detail, forKey: .detail)
    }

    /// Decodes the form written by `encode(to:)`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let timeText = try container.decode(String.self, forKey: .time)
        guard let time = try? Self.timeFormat.parse(timeText) else { throw AuditLogError.encoding }
        self.time = Self.millisecondPrecision(time, rounding: .toNearestOrEven)
        principal = try container.decode(String.self, forKey: .principal)
        action = try container.decode(String.self, forKey: .action)
        resource = try container.decode(String.self, forKey: .resource)
        outcome = try container.decode(Outcome.self, forKey: .outcome)
        requestID = try container.decode(String.self, forKey: .requestID)
        clientAddress = try container.decodeIfPresent(String.self, forKey: .clientAddress)
        detail = try container.decodeIfPresent(String.self, forKey: .detail)
    }

    static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// `time` on a whole millisecond, so that formatting and parsing round-trip exactly.
    static func millisecondPrecision(_ time: Date, rounding: FloatingPointRoundingRule) -> Date {
        Date(timeIntervalSince1970: (time.timeIntervalSince1970 * 1000).rounded(rounding) / 1000)
    }

    /// Replaces anything shaped like a ModelVault token or an age secret key with `[redacted]`: defence in depth,
    /// since callers must not pass secrets in the first place.
    static func redacted(_ text: String) -> String {
        var result = text
        for marker in ["mvt_", "AGE-SECRET-KEY-"] {
            while let range = result.range(of: marker) {
                var end = range.upperBound
                while end < result.endIndex, result[end].isLetter || result[end].isNumber || "-_".contains(result[end])
                {
                    end = result.index(after: end)
                }
                result.replaceSubrange(range.lowerBound..<end, with: "[redacted]")
            }
        }
        return result
    }
}
