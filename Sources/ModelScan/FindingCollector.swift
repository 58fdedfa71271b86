/// Gathers the findings of one file scan, bounded so that a hostile file cannot grow them without limit.
final class FindingCollector {
    /// At most this many findings per rule are kept; one more finding says the rest were dropped. Rules are split
    /// by severity, so a flood of medium findings never hides a critical one.
    static let perRuleLimit = 200

    let file: String
    /// The archive member currently being scanned (nested members joined with `!`).
    var member: String?
    private(set) var findings: [Finding] = []
    private(set) var formats: [String] = []
    private var counts: [String: Int] = [:]
    /// How many critical findings were recorded: once a member adds one, the file is refused under every policy
    /// and archive scans stop opening further members (review 5, D1).
    private(set) var criticalCount = 0

    init(file: String) { self.file = file }

    /// Records the recognition of a format (once per name).
    func recognised(_ format: String) {
        if !formats.contains(format) { formats.append(format) }
    }

    /// Records a finding at `offset` in the current member.
    func add(_ rule: String, _ severity: Severity, at offset: UInt64?, subject: String, _ message: String) {
        if severity == .critical { criticalCount += 1 }
        let key = rule + "\u{0}" + severity.rawValue
        let count = counts[key, default: 0]
        counts[key] = count + 1
        if count < Self.perRuleLimit {
            findings.append(
                Finding(
                    rule: rule, severity: severity, file: file, member: member, offset: offset, subject: subject,
                    message: message))
        } else if count == Self.perRuleLimit {
            findings.append(
                Finding(
                    rule: rule + ".truncated", severity: severity, file: file, member: member, offset: offset,
                    subject: rule, message: "more findings of this rule were not listed"))
        }
    }

    /// Runs `body` with `name` as the current member (nested inside the current one, if any).
    func inMember<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let saved = member
        member = saved.map { $0 + "!" + name } ?? name
        defer { member = saved }
        return try body()
    }
}
