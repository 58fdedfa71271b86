/// A role a principal can be bound to; each maps to one of the README's personas (plus `admin`).
public enum Role: String, CaseIterable, Sendable, Codable, Comparable {
    /// Everything, including principals, roles and tokens of others.
    case admin
    /// Adds datasets, trains and evaluates, pushes model versions.
    case dataScientist = "data-scientist"
    /// Pulls model versions for deployment, runs inference and evaluation.
    case mlEngineer = "ml-engineer"
    /// Deploys, promotes (aliases) and serves model versions; never reads datasets.
    case devops
    /// Rotates keys, scans and verifies models, verifies the audit log.
    case securityEngineer = "security-engineer"
    /// Reads the audit log, reports and metadata; never model or data bytes.
    case complianceOfficer = "compliance-officer"
    /// Only appends entries to the audit log through the server (`audit.append`): the token a serving pod
    /// forwards its audit trail with, which can do nothing else.
    case auditWriter = "audit-writer"

    /// Parses a role name as written on the command line (`data-scientist`, ...).
    public init(parsing text: String) throws {
        guard let role = Role(rawValue: text.lowercased()) else {
            throw AccessControlError.unknownRole
        }
        self = role
    }

    /// Orders roles as declared, so tables and listings are stable.
    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
