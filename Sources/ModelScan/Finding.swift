/// One thing the scanner found in a file.
///
/// The `id` is stable across runs of the same file: the rule plus where it was found (member and byte offset), so
/// an administrator can accept exactly one finding by name.
public struct Finding: Sendable, Codable, Hashable {
    /// `rule@member:offset` (or `rule@offset` outside containers).
    public let id: String
    /// The rule that fired, e.g. `pickle.global.critical` or `zip.crc-mismatch`.
    public let rule: String
    /// How dangerous the construct is.
    public let severity: Severity
    /// The scanned file, as given to the scanner.
    public let file: String
    /// The archive member holding the construct, if any (nested members joined with `!`).
    public let member: String?
    /// Byte offset within the member (or the file), if the rule has one.
    public let offset: UInt64?
    /// The callable or construct found, e.g. `os.system` or `Lambda layer`.
    public let subject: String
    /// A short explanation in fixed text.
    public let message: String

    /// Creates a finding; the `id` is derived from the rule and location.
    public init(
        rule: String, severity: Severity, file: String, member: String?, offset: UInt64?, subject: String,
        message: String
    ) {
        self.rule = rule
        self.severity = severity
        self.file = file
        self.member = member
        self.offset = offset
        self.subject = subject
        self.message = message
        var location = member.map { $0 + ":" } ?? ""
        location += offset.map { String($0) } ?? "-"
        self.id = "\(rule)@\(location)"
    }
}

/// Everything found in one file.
public struct ScanReport: Sendable, Codable, Hashable {
    /// The file, as given to the scanner.
    public let file: String
    /// The formats recognised, outermost first (e.g. `["zip", "pytorch-zip", "pickle"]`).
    public let formats: [String]
    /// What was found, in file order.
    public let findings: [Finding]

    /// Creates a report.
    public init(file: String, formats: [String], findings: [Finding]) {
        self.file = file
        self.formats = formats
        self.findings = findings
    }

    /// The findings `policy` refuses.
    public func refused(by policy: ScanPolicy) -> [Finding] { findings.filter(policy.refuses) }

    /// The most severe finding's severity, or nil when clean.
    public var highestSeverity: Severity? { findings.map(\.severity).max() }
}

/// Why a file could not be scanned at all (as opposed to findings in it).
public enum ScanError: Error, Equatable, CustomStringConvertible {
    /// The path could not be opened or read (missing, a directory, permission).
    case unreadable(path: String, reason: String)
    /// The path is a symbolic link; the scanner never follows one.
    case symbolicLink(path: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .symbolicLink(let path): "refusing to follow symbolic link \(path)"
        }
    }
}
