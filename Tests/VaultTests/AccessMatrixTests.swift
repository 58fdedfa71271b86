import AccessControl
import AuditLog
import Foundation
import Testing

@testable import Vault

/// Every vault action of the CLI, for every role, global and scoped: allowed exactly where the permission matrix
/// and the scope rule say so; every denial is an `AccessControlError` and is audited.
struct AccessMatrixTests {
    /// What a probe needs besides the session under test.
    struct Setup: Sendable {
        var me: String
        var bystanderTokenID: String
        var spareOwnTokenID: String
        var recipient: String
        var scratch: URL
    }

    struct Probe: Sendable {
        var action: Action
        var resource: Scope
        /// A permission the action checks before its own (evaluate first needs `data.show` on the dataset whose
        /// rows it reads, as lineage does).
        var prerequisite: (action: Action, resource: Scope)? = nil
        var run: @Sendable (VaultSession, Setup) async throws -> Void
    }

    static let model = try! ModelReference(name: "m")
    static let dataset = try! DatasetReference(name: "ds")

    /// One probe per action the CLI performs on a vault.
    static let probes: [Probe] = [
        Probe(action: .dataAdd, resource: .dataset("ds")) { session, _ in
            _ = try await session.addDataset("ds", contents: ["b.csv": Data("3,4\n".utf8)])
        },
        Probe(action: .dataList, resource: .global) { session, _ in _ = try await session.datasets() },
        Probe(action: .dataShow, resource: .dataset("ds")) { session, _ in _ = try await session.dataset(dataset) },
        Probe(action: .dataGet, resource: .dataset("ds")) { session, _ in _ = try await session.readDataset(dataset) },
        Probe(action: .modelPush, resource: .model("m")) { session, _ in
            _ = try await session.pushModel("m", from: .files(["w.bin": TestVault.bytes(1000, seed: 7)]))
        },
        Probe(action: .modelList, resource: .global) { session, _ in _ = try await session.models() },
        Probe(action: .modelShow, resource: .model("m")) { session, _ in _ = try await session.model(model) },
        Probe(action: .modelPull, resource: .model("m")) { session, _ in _ = try await session.loadModel(model) },
        Probe(action: .train, resource: .dataset("ds")) { session, _ in _ = try await session.trainingData(dataset) },
        Probe(action: .evaluate, resource: .model("m"), prerequisite: (.dataShow, .dataset("ds"))) { session, _ in
            _ = try await session.evaluationInputs(model: model, dataset: dataset)
        },
        Probe(action: .predict, resource: .model("m")) { session, _ in
            _ = try await session.predictionModel(model)
        },
        Probe(action: .modelPrivateInfer, resource: .model("m")) { session, _ in
            _ = try await session.privateInferenceModel(model)
        },
        Probe(action: .modelPullRewrapped, resource: .model("m")) { session, setup in
            try await session.pullModel(
                model, for: setup.recipient, to: setup.scratch.appending(path: UUID().uuidString))
        },
        Probe(action: .modelVerify, resource: .model("m")) { session, _ in try await session.verifyModel(model) },
        Probe(action: .modelAlias, resource: .model("m")) { session, _ in
            try await session.setAlias("staging", to: ModelReference(parsing: "m@1"))
        },
        Probe(action: .modelImport, resource: .model("m")) { session, _ in
            _ = try await session.importFernetModel(
                "m", token: Data("tnedoc".utf8), keyText: "right", fileName: "legacy.bin")
        },
        Probe(action: .keysList, resource: .global) { session, _ in _ = try await session.keyVersions() },
        Probe(action: .keysRotate, resource: .global) { session, _ in
            _ = try await session.rotateKeys(passphrase: TestVault.passphrase)
        },
        Probe(action: .userList, resource: .global) { session, _ in _ = try await session.principals() },
        Probe(action: .userManage, resource: .global) { session, _ in
            try await session.addPrincipal("extra", binding: RoleBinding(role: .mlEngineer))
        },
        Probe(action: .roleManage, resource: .global) { session, _ in
            try await session.grant(RoleBinding(role: .devops), to: "bystander")
        },
        Probe(action: .tokenCreate, resource: .global) { session, _ in
            _ = try await session.createToken(for: "bystander", lifetime: 3600)
        },
        Probe(action: .tokenCreateOwn, resource: .global) { session, setup in
            _ = try await session.createToken(for: setup.me, lifetime: 3600)
        },
        Probe(action: .tokenList, resource: .global) { session, _ in _ = try await session.tokens() },
        Probe(action: .tokenRevoke, resource: .global) { session, setup in
            try await session.revokeToken(id: setup.bystanderTokenID)
        },
        Probe(action: .tokenRevokeOwn, resource: .global) { session, setup in
            try await session.revokeToken(id: setup.spareOwnTokenID)
        },
        Probe(action: .auditRead, resource: .global) { session, _ in _ = try await session.auditTail(5) },
        Probe(action: .auditVerify, resource: .global) { session, _ in
            let report = try await session.verifyAuditLog()
            #expect(report.isValid)
        },
        Probe(action: .reportRead, resource: .global) { session, _ in _ = try await session.complianceReport() },
    ]

    /// The rule as the README states it: the role must grant the action; a global binding applies everywhere,
    /// a scoped one only to its own model or dataset (and lets its holder list models or datasets).
    static func expected(_ binding: RoleBinding, _ action: Action, on resource: Scope) -> Bool {
        guard PermissionMatrix.grants[binding.role]?.contains(action) == true else { return false }
        switch binding.scope {
        case .global: return true
        case .model: return resource == binding.scope || action == .modelList
        case .dataset: return resource == binding.scope || action == .dataList
        }
    }

    static let bindings: [RoleBinding] = Role.allCases.flatMap { role in
        [Scope.global, .model("m"), .dataset("ds"), .model("other")].map { RoleBinding(role: role, scope: $0) }
    }

    @Test(arguments: bindings)
    func everyActionMatchesTheMatrix(_ binding: RoleBinding) async throws {
        let fixture = try await AccessFixture()
        let admin = fixture.admin
        _ = try await admin.addDataset("ds", contents: ["a.csv": Data("1,2\n".utf8)])
        _ = try await admin.pushModel("m", from: .files(["w.bin": TestVault.bytes(1000, seed: 1)]))
        try await admin.addPrincipal("bystander", binding: RoleBinding(role: .mlEngineer))
        let bystanderToken = try await admin.createToken(for: "bystander")
        let (session, _) = try await fixture.session("subject", binding)
        let spare = try await admin.createToken(for: "subject")
        let suite = FakeCipherSuite()
        let setup = Setup(
            me: "subject", bystanderTokenID: bystanderToken.info.id, spareOwnTokenID: spare.info.id,
            recipient: try suite.recipient(ofIdentity: try suite.generateIdentity(postQuantum: false)),
            scratch: fixture.directory.url)
        // A re-wrap without `model.pull` may only target a deployment identity (see the test below).
        _ = try await admin.vault.registerDeploymentBundle(
            "pod", models: ["m"], recipient: setup.recipient, rotateIdentity: false)

        #expect(Set(Self.probes.map(\.action)).count == Self.probes.count)
        for probe in Self.probes {
            let prerequisiteAllowed =
                probe.prerequisite.map { Self.expected(binding, $0.action, on: $0.resource) } ?? true
            let allowed = prerequisiteAllowed && Self.expected(binding, probe.action, on: probe.resource)
            // The first permission missing is the one named and audited.
            let denied = prerequisiteAllowed ? probe.action : probe.prerequisite!.action
            do {
                try await probe.run(session, setup)
                #expect(allowed, "\(binding) was allowed \(probe.action.rawValue)")
            } catch let error as AccessControlError where error.isDenial {
                #expect(!allowed, "\(binding) was denied \(probe.action.rawValue)")
                #expect(error.description.contains("permission denied: \(denied.rawValue)"))
                let entry = try fixture.lastEntry()
                #expect(entry.principal == "subject")
                #expect(entry.action == denied.rawValue)
                #expect(entry.outcome == .denied)
            } catch {
                Issue.record("\(binding) \(probe.action.rawValue) failed: \(error)")
            }
        }
        #expect(try await admin.verifyAuditLog().isValid)
    }

    /// The attack (review 4, F1): devops holds `model.pull-rewrapped` but not `model.pull`, and re-wraps a model
    /// for a recipient whose identity it holds, which is plaintext access. Without `model.pull` only the current
    /// identity of a recorded deployment is accepted; anything else (a revoked one too) is denied as `model.pull`
    /// and audited. Seen failing (the pull was allowed) before the check.
    @Test func aRewrapWithoutModelPullIsOnlyForACurrentDeploymentIdentity() async throws {
        let fixture = try await AccessFixture()
        let admin = fixture.admin
        _ = try await admin.pushModel("m", from: .files(["w.bin": TestVault.bytes(1000, seed: 1)]))
        let suite = FakeCipherSuite()
        func recipient() throws -> String {
            try suite.recipient(ofIdentity: try suite.generateIdentity(postQuantum: false))
        }
        let (mine, pod, next) = (try recipient(), try recipient(), try recipient())
        let (devops, _) = try await fixture.session("dev", RoleBinding(role: .devops))
        let scratch = fixture.directory.url
        func pull(_ session: VaultSession, _ target: String) async throws {
            try await session.pullModel(Self.model, for: target, to: scratch.appending(path: UUID().uuidString))
        }
        await #expect(throws: AccessControlError.denied(.modelPull, on: .model("m"))) { try await pull(devops, mine) }
        let entry = try fixture.lastEntry()
        #expect(entry.principal == "dev" && entry.action == "model.pull" && entry.outcome == .denied)

        _ = try await admin.vault.registerDeploymentBundle("pod", models: ["m"], recipient: pod, rotateIdentity: false)
        try await pull(devops, pod)
        _ = try await admin.vault.registerDeploymentBundle("pod", models: ["m"], recipient: next, rotateIdentity: true)
        await #expect(throws: AccessControlError.denied(.modelPull, on: .model("m"))) { try await pull(devops, pod) }
        try await pull(devops, next)
        // A caller with `model.pull` may re-wrap for any recipient, as it could decrypt anyway.
        try await pull(admin, mine)
    }

    /// Review 5, F3: deployment records are per namespace. Without `model.pull`, a re-wrap is accepted for the
    /// current identity of the deployment in each namespace, and a rotation in one namespace revokes only its own
    /// identity: the other namespace's stays usable, the revoked one is denied as `model.pull`.
    @Test func aRewrapWithoutModelPullIsForTheCurrentIdentityOfEachNamespace() async throws {
        let fixture = try await AccessFixture()
        let admin = fixture.admin
        _ = try await admin.pushModel("m", from: .files(["w.bin": TestVault.bytes(1000, seed: 1)]))
        let suite = FakeCipherSuite()
        func recipient() throws -> String {
            try suite.recipient(ofIdentity: try suite.generateIdentity(postQuantum: false))
        }
        let (prod, staging, next) = (try recipient(), try recipient(), try recipient())
        let (devops, _) = try await fixture.session("dev", RoleBinding(role: .devops))
        let scratch = fixture.directory.url
        func pull(_ target: String) async throws {
            try await devops.pullModel(Self.model, for: target, to: scratch.appending(path: UUID().uuidString))
        }
        func register(_ namespace: String, _ recipient: String, rotate: Bool = false) async throws {
            _ = try await admin.vault.registerDeploymentBundle(
                "pod", namespace: namespace, models: ["m"], recipient: recipient, rotateIdentity: rotate)
        }
        try await register("prod", prod)
        try await register("staging", staging)
        try await pull(prod)
        try await pull(staging)
        try await register("staging", next, rotate: true)
        await #expect(throws: AccessControlError.denied(.modelPull, on: .model("m"))) { try await pull(staging) }
        try await pull(prod)
        try await pull(next)
    }

    @Test func scopedListingsShowOnlyTheirOwnResources() async throws {
        let fixture = try await AccessFixture()
        for name in ["m", "other"] {
            _ = try await fixture.admin.pushModel(name, from: .files(["w.bin": TestVault.bytes(100, seed: 2)]))
        }
        let (scoped, _) = try await fixture.session("scoped", RoleBinding(role: .mlEngineer, scope: .model("m")))
        #expect(try await scoped.models().map(\.name) == ["m"])
        let (global, _) = try await fixture.session("global", RoleBinding(role: .mlEngineer))
        #expect(try await global.models().map(\.name) == ["m", "other"])
        let (datasetOnly, _) = try await fixture.session("d", RoleBinding(role: .dataScientist, scope: .dataset("x")))
        await #expect(throws: AccessControlError.denied(.modelList, on: .global)) {
            try await datasetOnly.models()
        }
    }

    @Test func lastGlobalAdminCannotBeRemoved() async throws {
        let fixture = try await AccessFixture()
        await expectVaultError(.invalidName) { try await fixture.admin.removePrincipal("admin") }
        await expectVaultError(.invalidName) {
            try await fixture.admin.revoke(RoleBinding(role: .admin), from: "admin")
        }
        try await fixture.admin.addPrincipal("second", binding: RoleBinding(role: .admin))
        // An admin without a usable token is no way back in.
        await expectVaultError(.invalidName) { try await fixture.admin.removePrincipal("admin") }
        _ = try await fixture.admin.createToken(for: "second")
        try await fixture.admin.removePrincipal("admin")
        let hasPrincipals = try fixture.access.hasPrincipals()
        #expect(hasPrincipals)
    }
}
