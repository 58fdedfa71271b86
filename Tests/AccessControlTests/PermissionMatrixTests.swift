import Testing

@testable import AccessControl

@Suite struct PermissionMatrixTests {
    @Test func adminHoldsEveryAction() {
        for action in Action.allCases { #expect(PermissionMatrix.allows(.admin, action), "\(action)") }
    }

    @Test func complianceOfficerNeverReadsModelOrDataBytes() {
        for action: Action in [
            .dataGet, .modelPull, .modelPullRewrapped, .dataAdd, .modelPush, .train, .evaluate,
            .predict, .modelInfer, .modelPrivateInfer, .keysRotate, .modelDeploy,
        ] {
            #expect(!PermissionMatrix.allows(.complianceOfficer, action), "\(action)")
        }
        for action: Action in [.auditRead, .auditVerify, .reportRead, .modelList, .modelShow, .dataList, .dataShow] {
            #expect(PermissionMatrix.allows(.complianceOfficer, action), "\(action)")
        }
    }

    @Test func dataScientistWorksWithDataButCannotRotateKeys() {
        for action: Action in [.dataAdd, .dataGet, .train, .evaluate, .modelPush, .modelList, .modelShow, .modelPull] {
            #expect(PermissionMatrix.allows(.dataScientist, action), "\(action)")
        }
        for action: Action in [.keysRotate, .userManage, .roleManage, .auditRead, .modelDeploy, .modelAlias] {
            #expect(!PermissionMatrix.allows(.dataScientist, action), "\(action)")
        }
    }

    @Test func mlEngineerPullsAndInfersButNeverGetsData() {
        for action: Action in [.modelPull, .modelList, .modelShow, .modelVerify, .modelInfer, .predict, .evaluate] {
            #expect(PermissionMatrix.allows(.mlEngineer, action), "\(action)")
        }
        for action: Action in [.dataGet, .dataAdd, .keysRotate, .modelPush, .train] {
            #expect(!PermissionMatrix.allows(.mlEngineer, action), "\(action)")
        }
    }

    @Test func devopsDeploysAndPromotesButNeverReadsDatasetsOrPlaintextModels() {
        for action: Action in [.modelDeploy, .modelAlias, .modelInfer, .modelList, .modelShow, .modelVerify] {
            #expect(PermissionMatrix.allows(.devops, action), "\(action)")
        }
        for action: Action in [.dataGet, .dataAdd, .modelPull, .train, .keysRotate, .auditRead] {
            #expect(!PermissionMatrix.allows(.devops, action), "\(action)")
        }
    }

    @Test func securityEngineerRotatesKeysAndVerifies() {
        for action: Action in [.keysRotate, .keysList, .modelVerify, .modelScan, .auditVerify, .auditRead, .reportRead]
        {
            #expect(PermissionMatrix.allows(.securityEngineer, action), "\(action)")
        }
        for action: Action in [.dataGet, .modelPull, .userManage, .roleManage, .tokenCreate] {
            #expect(!PermissionMatrix.allows(.securityEngineer, action), "\(action)")
        }
    }

    @Test func onlyAdminManagesPrincipalsRolesAndOthersTokens() {
        for role in Role.allCases where role != .admin {
            for action: Action in [.userManage, .roleManage, .tokenCreate, .vaultInit] {
                #expect(!PermissionMatrix.allows(role, action), "\(role) \(action)")
            }
            // The pod's audit-writer token cannot even mint a token of its own.
            #expect(PermissionMatrix.allows(role, .tokenCreateOwn) == (role != .auditWriter))
        }
    }

    /// Issue #19: the serving pod's audit token may append to the audit log and nothing else.
    @Test func theAuditWriterRoleGrantsOnlyAuditAppend() {
        #expect(PermissionMatrix.grants[.auditWriter] == [.auditAppend])
    }

    @Test func markdownTableHasOneRowPerActionAndOneColumnPerRole() {
        let table = PermissionMatrix.markdownTable()
        let lines = table.split(separator: "\n")
        #expect(lines.count == Action.allCases.count + 2)
        #expect(lines[0] == "| action | " + Role.allCases.map(\.rawValue).joined(separator: " | ") + " |")
        let pullRow = lines.first { $0.hasPrefix("| `model.pull` |") }!
        let cells = pullRow.split(separator: "|", omittingEmptySubsequences: false).dropFirst(2).dropLast()
        #expect(cells.count == Role.allCases.count)
        for (role, cell) in zip(Role.allCases, cells) {
            #expect(cell.contains("✓") == PermissionMatrix.allows(role, .modelPull), "\(role)")
        }
    }

    @Test func rolesParseFromTheirCommandLineNames() throws {
        for role in Role.allCases { #expect(try Role(parsing: role.rawValue) == role) }
        #expect(throws: AccessControlError.unknownRole) { try Role(parsing: "root") }
    }
}
