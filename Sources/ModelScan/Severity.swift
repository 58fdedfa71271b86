/// How dangerous a finding is. Ordered: `low < medium < high < critical`.
public enum Severity: String, Sendable, Codable, CaseIterable, Comparable {
    case low, medium, high, critical

    private var rank: Int {
        switch self {
        case .low: 0
        case .medium: 1
        case .high: 2
        case .critical: 3
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// Which findings refuse a file.
public enum ScanPolicy: String, Sendable, Codable, CaseIterable {
    /// Refuses high and critical findings; medium and low are reported only.
    case `default`
    /// Refuses medium and above: any global outside the allow-list refuses the file.
    case strict

    /// The lowest severity this policy refuses.
    public var threshold: Severity {
        switch self {
        case .default: .high
        case .strict: .medium
        }
    }

    /// Whether `finding` is at or above this policy's threshold.
    public func refuses(_ finding: Finding) -> Bool { finding.severity >= threshold }
}
