import Testing

@testable import AccessControl

@Suite struct PolicyTests {
    private let fraud = Scope.model("fraud")
    private let churn = Scope.model("churn")
    private let claims = Scope.dataset("claims")

    @Test func noBindingsDenyEverything() {
        for action in Action.allCases {
            for resource in [Scope.global, fraud, claims] {
                #expect(Policy.decide(action, on: resource, for: []) == .denied, "\(action) \(resource)")
            }
        }
    }

    @Test func globalBindingAppliesEverywhere() {
        let bindings = [RoleBinding(role: .mlEngineer)]
        #expect(Policy.decide(.modelPull, on: fraud, for: bindings) == .allowed(by: bindings[0]))
        #expect(Policy.decide(.modelPull, on: churn, for: bindings).isAllowed)
        #expect(!Policy.decide(.dataGet, on: claims, for: bindings).isAllowed)
    }

    @Test func scopedBindingAppliesOnlyToItsResource() {
        let bindings = [RoleBinding(role: .mlEngineer, scope: fraud)]
        #expect(Policy.decide(.modelPull, on: fraud, for: bindings).isAllowed)
        #expect(!Policy.decide(.modelPull, on: churn, for: bindings).isAllowed)
        // A model-scoped binding never reaches datasets, even one with the same name.
        #expect(!Policy.decide(.dataShow, on: .dataset("fraud"), for: bindings).isAllowed)
    }

    @Test func scopedAdminIsNotAGlobalAdmin() {
        let bindings = [RoleBinding(role: .admin, scope: claims)]
        #expect(Policy.decide(.dataGet, on: claims, for: bindings).isAllowed)
        for action: Action in [.keysRotate, .userManage, .roleManage, .auditRead, .tokenCreate] {
            #expect(!Policy.decide(action, on: .global, for: bindings).isAllowed, "\(action)")
        }
        #expect(!Policy.decide(.modelPull, on: fraud, for: bindings).isAllowed)
    }

    @Test func vaultWideActionsNeedAGlobalBinding() {
        #expect(Policy.decide(.keysRotate, on: .global, for: [RoleBinding(role: .securityEngineer)]).isAllowed)
        #expect(
            !Policy.decide(.keysRotate, on: .global, for: [RoleBinding(role: .securityEngineer, scope: fraud)])
                .isAllowed)
    }

    @Test func actionOnTheWrongKindOfResourceIsDenied() {
        let bindings = [RoleBinding(role: .admin)]
        #expect(!Policy.decide(.dataGet, on: fraud, for: bindings).isAllowed)
        #expect(!Policy.decide(.modelPull, on: claims, for: bindings).isAllowed)
        #expect(!Policy.decide(.modelPull, on: .global, for: bindings).isAllowed)
    }

    @Test func theGrantingBindingIsNamed() {
        let scoped = RoleBinding(role: .devops, scope: fraud)
        let global = RoleBinding(role: .complianceOfficer)
        #expect(Policy.decide(.modelDeploy, on: fraud, for: [global, scoped]) == .allowed(by: scoped))
        #expect(Policy.decide(.auditRead, on: .global, for: [scoped, global]) == .allowed(by: global))
    }

    @Test func listingWithScopedBindingsShowsOnlyTheirResources() {
        let bindings = [RoleBinding(role: .dataScientist, scope: fraud), RoleBinding(role: .devops, scope: claims)]
        #expect(Policy.decide(.modelList, on: .global, for: bindings).isAllowed)
        #expect(Policy.visible([fraud, churn], for: .modelList, bindings: bindings) == [fraud])
        #expect(Policy.visible([claims, .dataset("other")], for: .dataList, bindings: bindings) == [claims])
        #expect(
            Policy.visible([fraud, churn], for: .modelList, bindings: [RoleBinding(role: .devops)]) == [fraud, churn])
        #expect(!Policy.decide(.modelList, on: .global, for: [RoleBinding(role: .devops, scope: claims)]).isAllowed)
        #expect(Policy.visible([fraud], for: .modelList, bindings: []) == [])
    }

    @Test func authorizeThrowsADenialNamingActionAndResource() throws {
        #expect(throws: AccessControlError.denied(.dataGet, on: claims)) {
            try Policy.authorize(.dataGet, on: claims, for: [RoleBinding(role: .devops)])
        }
        do {
            try Policy.authorize(.dataGet, on: claims, for: [])
        } catch let error as AccessControlError {
            #expect(error.isDenial)
            #expect(error.description == "permission denied: data.get on dataset:claims")
        }
        #expect(
            try Policy.authorize(.dataGet, on: claims, for: [RoleBinding(role: .dataScientist)]).role == .dataScientist)
    }

    @Test func everyRoleAndActionFollowsTheMatrixGloballyAndScoped() {
        for role in Role.allCases {
            for action in Action.allCases {
                let resource: Scope
                switch action.resourceKind {
                case .model, .modelListing: resource = fraud
                case .dataset, .datasetListing: resource = claims
                case .vault, .caller: resource = .global
                }
                let expected = PermissionMatrix.allows(role, action)
                #expect(Policy.decide(action, on: resource, for: [RoleBinding(role: role)]).isAllowed == expected)
                let scoped = Policy.decide(action, on: resource, for: [RoleBinding(role: role, scope: resource)])
                // Scoped to the resource itself (for vault actions that is a global binding).
                #expect(scoped.isAllowed == expected, "\(role) \(action)")
                let elsewhere: Scope =
                    action.resourceKind == .dataset || action.resourceKind == .datasetListing
                    ? .dataset("elsewhere") : .model("elsewhere")
                // A binding anywhere tells its holder who it is (`whoami`); it grants nothing else elsewhere.
                #expect(
                    Policy.decide(action, on: resource, for: [RoleBinding(role: role, scope: elsewhere)]).isAllowed
                        == (action.resourceKind == .caller && expected))
            }
        }
    }
}
