import AccessControl
import AuditLog
import Foundation
import Logging
import MLCore
import SampleData
import Testing
import VaultServer
import VaultServing

@testable import Vault

/// The model scanner at the server's doors: the `/v1` push, and serving versions the scanner never saw.
@Suite struct VaultServingScanningTests {
    /// `os.system("id")` as a protocol 2 pickle.
    static let hostilePickle = Data(
        [0x80, 0x02] + Array("cos\nsystem\n".utf8) + [0x58, 2, 0, 0, 0] + Array("id".utf8) + [0x85, 0x52, 0x2E])

    /// The attack: an admin token pushes a pickle that runs `os.system` on load over `/v1`.
    @Test func aV1PushOfAHostilePickleIsRefusedWith422() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let body = String(
            decoding: try JSONEncoder().encode(PushModelRequest(files: ["w.bin": Self.hostilePickle])), as: UTF8.self)
        try await withVaultApplication(fixture) { live in
            let refused = try await live.send(
                .POST, "/v1/models/evil/versions", token: fixture.tokens[.admin], body: body)
            #expect(refused.status == 422, "\(refused.body)")
            #expect(refused.body.contains("refused by the model scanner: w.bin#pickle.global.dangerous@"))
        }
        #expect(try await fixture.adminSession().models().isEmpty)
    }

    private static func pushBody(_ accept: [String]) throws -> String {
        String(
            decoding: try JSONEncoder().encode(PushModelRequest(files: ["w.bin": hostilePickle], accept: accept)),
            as: UTF8.self)
    }

    /// `accept` in a `/v1` push admits a named finding only with `model.scan` (admins; security engineers hold it but
    /// not `model.push`); a data scientist naming one is refused with 403, audited, and nothing is stored.
    @Test func aV1PushMayAcceptAFindingOnlyWithModelScan() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await withVaultApplication(fixture) { live in
            let refused = try await live.send(
                .POST, "/v1/models/evil/versions", token: fixture.tokens[.admin], body: try Self.pushBody([]))
            #expect(refused.status == 422)
            let id = try #require(
                refused.body.components(separatedBy: "w.bin#").dropFirst().first?.prefix { $0 != "," && $0 != "\"" })
            let denied = try await live.send(
                .POST, "/v1/models/evil/versions", token: fixture.tokens[.dataScientist],
                body: try Self.pushBody(["w.bin#" + id]))
            #expect(denied.status == 403, "\(denied.body)")
            #expect(try await fixture.adminSession().models().isEmpty)
            let accepted = try await live.send(
                .POST, "/v1/models/evil/versions", token: fixture.tokens[.admin],
                body: try Self.pushBody(["w.bin#" + id]))
            #expect(accepted.status == 201, "\(accepted.body)")
        }
        #expect(try await fixture.adminSession().models().map(\.name) == ["evil"])
        let entries = try AuditLogReader(directory: fixture.root.appending(path: "audit")).tail(20).map(\.entry)
        #expect(entries.contains { $0.action == "model.scan.accept" && $0.outcome == .allowed })
        #expect(entries.contains { $0.action == "model.scan.accept" && $0.outcome == .denied })
    }

    /// A version stored before the scanner existed (no record in its signed manifest) is not served by default;
    /// `--allow-unscanned` serves it and audits each load; `model scan --all` records a scan and it is served.
    @Test func aNeverScannedVersionIsRefusedUnlessAllowedAndAudited() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let dataset = try Dataset.csv(Data(contentsOf: SampleData.breastCancerCSV), label: "benign")
        var options = TrainingOptions(kind: .logistic)
        options.epochs = 3
        let trained = try Trainer.train(dataset, options: options).model
        // As pushed by a release before the scanner: no scan, no record.
        _ = try await fixture.access.unlockedVault.pushModel(
            "old", from: .files(try trained.files()), datasets: [], metrics: nil, publisherSignature: nil,
            sourceLabel: "push", scan: nil, context: .local)
        let selection = [ModelSelection(name: "old", selector: .version(1))]
        var logger = Logger(label: "test.scan-gate")
        logger.logLevel = .critical
        let auditDirectory = fixture.root.appending(path: "audit")

        let strict = VaultModelCatalog(access: fixture.access, selections: selection, logger: logger)
        let refused = try await strict.currentModels()
        #expect(refused.count == 1)
        if case .verified = refused.first { Issue.record("a never-scanned version was served") }
        let refusal = try #require(try AuditLogReader(directory: auditDirectory).tail(1).first).entry
        #expect(refusal.action == "model.load" && refusal.outcome == .failed)
        #expect(refusal.detail?.contains("never scanned") == true)

        let lenient = VaultModelCatalog(
            access: fixture.access, selections: selection, allowUnscanned: true, logger: logger)
        let served = try await lenient.currentModels()
        guard case .verified = served.first else {
            Issue.record("--allow-unscanned did not serve the version")
            return
        }
        let allowed = try #require(try AuditLogReader(directory: auditDirectory).tail(1).first).entry
        #expect(allowed.outcome == .allowed && allowed.detail?.contains("--allow-unscanned") == true)

        // A security engineer scans everything stored before the scanner: now served by default.
        let security = try await fixture.access.authenticate(token: fixture.tokens[.securityEngineer]!)
        let scanned = try await security.scanUnscannedModels()
        #expect(scanned.map(\.reference) == ["old@1"])
        #expect(try await security.scanUnscannedModels().isEmpty)
        let rescanned = VaultModelCatalog(access: fixture.access, selections: selection, logger: logger)
        guard case .verified = try await rescanned.currentModels().first else {
            Issue.record("a version scanned by `model scan --all` was not served")
            return
        }
        try await fixture.adminSession().verifyModel(ModelReference(parsing: "old@1"))
    }

    /// The attack: a role without `model.scan` (data scientist, ML engineer, devops) re-scans or rewrites records.
    @Test func onlyModelScanRolesMayRescan() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        _ = try await fixture.adminSession().pushModel("m", from: .files(["w.bin": Data([1, 2, 3])]))
        for role in [Role.dataScientist, .mlEngineer, .devops, .complianceOfficer] {
            let session = try await fixture.access.authenticate(token: fixture.tokens[role]!)
            await #expect(throws: AccessControlError.self, "\(role)") {
                _ = try await session.scanModel(ModelReference(parsing: "m@1"))
            }
            await #expect(throws: AccessControlError.self, "\(role)") {
                _ = try await session.scanUnscannedModels()
            }
        }
        let security = try await fixture.access.authenticate(token: fixture.tokens[.securityEngineer]!)
        let record = try await security.scanModel(ModelReference(parsing: "m@1"))
        #expect(record.files.map(\.path) == ["w.bin"] && record.refused.isEmpty)
    }
}
