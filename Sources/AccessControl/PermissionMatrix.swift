/// Which role may perform which action: the single source of truth behind `Policy` and the README table.
public enum PermissionMatrix {
    /// Metadata every role may read: listings and `show` of models and datasets.
    private static let metadata: Set<Action> = [
        .dataList, .dataShow, .modelList, .modelShow, .tokenCreateOwn,
        .tokenRevokeOwn, .whoami,
    ]

    /// The actions each role grants. `admin` holds every action.
    public static let grants: [Role: Set<Action>] = [
        .admin: Set(Action.allCases),
        .dataScientist: metadata.union([
            .dataAdd, .dataGet, .train, .evaluate, .predict, .modelPush, .modelPull, .modelPullRewrapped,
            .modelVerify, .modelImport, .modelPrivateInfer,
        ]),
        .mlEngineer: metadata.union([
            .modelPull, .modelPullRewrapped, .modelVerify, .modelImport, .modelInfer, .modelPrivateInfer,
            .predict, .evaluate,
        ]),
        .devops: metadata.union([
            .modelPullRewrapped, .modelVerify, .modelAlias, .modelDeploy, .modelInfer, .modelPrivateInfer,
            .serverMetrics, .auditAppend,
        ]),
        .securityEngineer: metadata.union([
            .keysRotate, .keysList, .modelVerify, .modelScan, .modelImport, .auditRead, .auditVerify, .reportRead,
            .userList,
            .tokenList, .tokenRevoke, .serverMetrics,
        ]),
        .complianceOfficer: metadata.union([
            .keysList, .auditRead, .auditVerify, .reportRead, .userList, .tokenList,
        ]),
        // A serving pod's audit forwarding token: nothing but appending (no metadata, no token of its own).
        .auditWriter: [.auditAppend],
    ]

    /// Whether `role` grants `action` (scope aside).
    public static func allows(_ role: Role, _ action: Action) -> Bool {
        grants[role]?.contains(action) ?? false
    }

    /// The matrix as a Markdown table: one row per action, one column per role, `✓` where allowed.
    public static func markdownTable() -> String {
        let roles = Role.allCases
        var lines = ["| action | " + roles.map(\.rawValue).joined(separator: " | ") + " |"]
        lines.append("|---|" + String(repeating: ":-:|", count: roles.count))
        for action in Action.allCases {
            let cells = roles.map { allows($0, action) ? "✓" : "" }
            lines.append("| `\(action.rawValue)` | " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
