import AccessControl
import AuditLog
import Foundation
import ModelScan
import TestSupport
import Testing

@testable import Vault

/// Pickles that run code on load, written byte by byte (no Python): `os.system("id")` and a benign dict.
enum HostilePickles {
    /// Protocol 2: `GLOBAL os system`, the argument tuple, `REDUCE`, `STOP`.
    static let osSystem = Data(
        [0x80, 0x02] + Array("cos\nsystem\n".utf8) + [0x58, 2, 0, 0, 0] + Array("id".utf8) + [0x85, 0x52, 0x2E])
    /// Protocol 2: `importlib.import_module` reached through `STACK_GLOBAL` with memoised operands.
    static let importlibThroughMemo = Data(
        [0x80, 0x04, 0x8C, 9] + Array("importlib".utf8) + [0x94, 0x8C, 13] + Array("import_module".utf8)
            + [0x94, 0x68, 0, 0x68, 1, 0x93, 0x8C, 2] + Array("os".utf8) + [0x85, 0x52, 0x2E])
    /// Protocol 2: an empty dict.
    static let benign = Data([0x80, 0x02, 0x7D, 0x2E])
}

@Suite struct VaultScanningTests {
    /// The attack: a pickle that runs `os.system` on load was signed, encrypted and registered like any other file.
    @Test(arguments: [HostilePickles.osSystem, HostilePickles.importlibThroughMemo])
    func aPushOfAPickleThatRunsCodeIsRefusedAndLeavesNothing(pickle: Data) async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let source = directory.url.appending(path: "model")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        // A neutral name: formats are recognised by content.
        try pickle.write(to: source.appending(path: "weights.bin"))
        try HostilePickles.benign.write(to: source.appending(path: "extra.pkl"))
        await expectVaultError(.scanRefused) { try await vault.pushModel("evil", from: .path(source)) }
        await expectVaultError(.scanRefused) { try await vault.pushModel("evil", from: .files(["w": pickle])) }
        #expect(try await vault.models().isEmpty)
        let staging = try FileManager.default.contentsOfDirectory(atPath: vault.root.appending(path: ".staging").path)
        #expect(staging.isEmpty)
    }

    @Test func theRefusalNamesEveryRefusedFindingByFileAndID() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        do {
            _ = try await vault.pushModel("evil", from: .files(["a/model.pkl": HostilePickles.osSystem]))
            Issue.record("the push was accepted")
        } catch let error as VaultError {
            #expect(error.code == .scanRefused)
            #expect(error.refusedFindings.count == 1)
            #expect(error.refusedFindings.first?.hasPrefix("a/model.pkl#pickle.global.dangerous@") == true)
            #expect(error.description.contains("a/model.pkl#pickle.global.dangerous@"))
        }
    }

    @Test func fernetImportOfAHostilePickleIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        // FakeCipherSuite's Fernet stand-in: the token is the plaintext reversed.
        await expectVaultError(.scanRefused) {
            try await vault.importFernetModel(
                "legacy", token: Data(HostilePickles.osSystem.reversed()), keyText: "right", fileName: "model.pkl")
        }
        #expect(try await vault.models().isEmpty)
    }

    @Test func theStrictPolicyRefusesAMediumFindingTheDefaultPolicyAdmits() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        // A pickle followed by a byte that starts no pickle: a medium finding (an unlisted global is high).
        let unlisted = Data([0x80, 0x02, 0x4E, 0x2E, 0x00])
        let info = try await vault.pushModel("m", from: .files(["m.pkl": unlisted]))
        let record = try #require(try await vault.scanRecord(ModelReference(parsing: info.reference)))
        #expect(record.policy == .default)
        #expect(record.highestSeverity == .medium)
        await expectVaultError(.scanRefused) {
            try await vault.pushModel("m", from: .files(["m.pkl": unlisted]), scan: ModelScanOptions(policy: .strict))
        }
    }

    /// The result lives in the signed manifest: a clean push records every file under its path in the version,
    /// never the pusher's local path.
    @Test func theScanRecordIsStoredInTheSignedManifest() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let source = directory.url.appending(path: "model")
        _ = try TestVault.writeModel(in: source)
        try HostilePickles.benign.write(to: source.appending(path: "state.pkl"))
        let info = try await vault.pushModel("clean", from: .path(source))
        let record = try #require(try await vault.scanRecord(ModelReference(parsing: info.reference)))
        #expect(record.scanner == ModelScanRecord.currentScanner)
        #expect(record.files.map(\.path) == ["config/model_config.json", "model.safetensors", "state.pkl"])
        #expect(record.files.first { $0.path == "state.pkl" }?.formats.contains("pickle") == true)
        #expect(record.refused.isEmpty && record.accepted.isEmpty)
        let manifest = try String(
            contentsOf: await vault.layout.modelVersion("clean", 1).appending(path: VersionManifest.fileName),
            encoding: .utf8)
        #expect(manifest.contains("\"scan\""))
        #expect(!manifest.contains(directory.url.path(percentEncoded: false)))
    }

    /// The attack: with write access to the vault directory, rewrite the stored verdict (mark an accepted
    /// finding as never found). The manifest's digest is in the MAC'd catalog and under the vault's signature.
    @Test func rewritingTheStoredScanResultFailsVerification() async throws {
        let fixture = try await AccessFixture()
        let refused = try await refusedFindings(HostilePickles.osSystem, in: fixture.vault)
        let info = try await fixture.admin.pushModel(
            "m", from: .files(["m.pkl": HostilePickles.osSystem]), scan: ModelScanOptions(accept: refused))
        let reference = try ModelReference(parsing: info.reference)
        let manifestURL = await fixture.vault.layout.modelVersion("m", 1).appending(path: VersionManifest.fileName)
        let original = try String(contentsOf: manifestURL, encoding: .utf8)
        #expect(original.contains("\"critical\""))
        let forged = original.replacingOccurrences(of: "\"critical\"", with: "\"low\"")
        #expect(forged != original)
        try Data(forged.utf8).write(to: manifestURL)
        await expectVaultError(.tampered) { try await fixture.vault.scanRecord(reference) }
        await expectVaultError(.tampered) { try await fixture.vault.verifyModel(reference) }
    }

    /// The attack: a data scientist (`model.push`, no `model.scan`) accepts the finding that refused their file.
    @Test func onlyAdminsAndSecurityEngineersMayAcceptAFinding() async throws {
        let fixture = try await AccessFixture()
        let (scientist, _) = try await fixture.session("dana", RoleBinding(role: .dataScientist))
        let refused = try await refusedFindings(HostilePickles.osSystem, in: fixture.vault)
        await #expect(throws: AccessControlError.denied(.modelScan, on: .model("m"))) {
            try await scientist.pushModel(
                "m", from: .files(["m.pkl": HostilePickles.osSystem]), scan: ModelScanOptions(accept: refused))
        }
        let denied = try fixture.lastEntry()
        #expect(denied.action == "model.scan.accept" && denied.outcome == .denied)
        #expect(try await fixture.vault.models().isEmpty)

        // A security engineer who may also push: accepted, recorded in the manifest and in the audit log.
        try await fixture.admin.addPrincipal("sec", binding: RoleBinding(role: .securityEngineer))
        try await fixture.admin.grant(RoleBinding(role: .dataScientist), to: "sec")
        let security = try await fixture.access.authenticate(
            token: try await fixture.admin.createToken(for: "sec").token)
        let info = try await security.pushModel(
            "m", from: .files(["m.pkl": HostilePickles.osSystem]), scan: ModelScanOptions(accept: refused))
        let record = try #require(try await fixture.vault.scanRecord(ModelReference(parsing: info.reference)))
        #expect(record.accepted == refused && record.refused.isEmpty)
        let entries = try AuditLogReader(directory: fixture.auditDirectory).tail(4).map(\.entry)
        #expect(
            entries.contains {
                $0.action == "model.scan.accept" && $0.outcome == .allowed && $0.principal == "sec"
                    && $0.detail?.contains(refused[0]) == true
            })
    }

    /// The attack: swap a scanned file's contents for a hostile pickle before it is encrypted. The push compares
    /// each file's inode and change time before the scan and after staging.
    @Test func aFileChangedBetweenTheScanAndStagingIsRefused() throws {
        let directory = try TemporaryDirectory()
        let file = directory.url.appending(path: "weights.bin")
        try HostilePickles.benign.write(to: file)
        let sources: [(path: String, source: FileSource)] = [("weights.bin", .file(file))]
        let before = Vault.identities(sources)
        try Vault.requireUnchanged(sources, since: before)
        let handle = try FileHandle(forWritingTo: file)
        try handle.write(contentsOf: HostilePickles.osSystem)
        try handle.close()
        #expect(throws: VaultError.self) { try Vault.requireUnchanged(sources, since: before) }
        // Replaced by rename (a new inode), with the original size.
        let other = directory.url.appending(path: "other")
        try HostilePickles.benign.write(to: other)
        let renamed = Vault.identities(sources)
        #expect(rename(other.path(percentEncoded: false), file.path(percentEncoded: false)) == 0)
        #expect(throws: VaultError.self) { try Vault.requireUnchanged(sources, since: renamed) }
    }

    @Test func modelShowAndTheComplianceReportShowTheScan() async throws {
        let fixture = try await AccessFixture()
        let refused = try await refusedFindings(HostilePickles.osSystem, in: fixture.vault)
        _ = try await fixture.admin.pushModel(
            "accepted", from: .files(["m.pkl": HostilePickles.osSystem]), scan: ModelScanOptions(accept: refused))
        _ = try await fixture.vault.pushModel(
            "old", from: .files(["m.pkl": HostilePickles.benign]), datasets: [], metrics: nil,
            publisherSignature: nil, sourceLabel: "push", scan: nil, context: .local)
        let shown = try await fixture.admin.model(ModelReference(parsing: "accepted@1"))
        #expect(shown.scan?.accepted == refused)
        #expect(shown.scan?.summary.contains("1 accepted") == true)
        #expect(try await fixture.admin.model(ModelReference(parsing: "old@1")).scan == nil)

        let report = try await fixture.admin.complianceReport()
        #expect(report.models.first { $0.reference == "accepted@1" }?.acceptedFindings == refused)
        #expect(report.models.first { $0.reference == "old@1" }?.scan == nil)
        #expect(report.findings.contains { $0.kind == "unscanned-version" && $0.subject == "model:old@1" })
        #expect(report.findings.contains { $0.kind == "accepted-scan-finding" && $0.subject == "model:accepted@1" })
        #expect(report.markdown().contains("never scanned"))
    }

    private func refusedFindings(_ pickle: Data, in vault: Vault) async throws -> [String] {
        do {
            _ = try await vault.pushModel("probe", from: .files(["m.pkl": pickle]))
        } catch let error as VaultError where error.code == .scanRefused {
            return error.refusedFindings
        }
        Issue.record("the probe push was accepted")
        return []
    }
}
