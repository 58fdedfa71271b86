import AccessControl
import AuditLog
import Foundation
import GRDB
import Testing

@testable import Vault

struct AccessReportTests {
    /// A vault with one verified and one unverified model version, a dataset, accesses and denials.
    static func populated() async throws -> AccessFixture {
        let fixture = try await AccessFixture()
        let admin = fixture.admin
        _ = try await admin.addDataset("claims", contents: ["a.csv": Data("1,2\n".utf8)])
        _ = try await admin.pushModel("fraud", from: .files(["w.bin": TestVault.bytes(500, seed: 3)]))
        _ = try await admin.pushModel("fraud", from: .files(["w.bin": TestVault.bytes(500, seed: 4)]))
        try await admin.verifyModel(ModelReference(parsing: "fraud@1"))
        let (officer, _) = try await fixture.session("olga", RoleBinding(role: .complianceOfficer))
        await #expect(throws: AccessControlError.self) {
            try await officer.loadModel(ModelReference(parsing: "fraud@1"))
        }
        await #expect(throws: AccessControlError.self) {
            try await officer.readDataset(DatasetReference(name: "claims"))
        }
        let (engineer, _) = try await fixture.session("eve", RoleBinding(role: .mlEngineer, scope: .model("fraud")))
        _ = try await engineer.loadModel(ModelReference(parsing: "fraud@1"))
        _ = try await engineer.loadModel(ModelReference(parsing: "fraud@1"))
        return fixture
    }

    @Test func reportCarriesProtectionAccessAndFindings() async throws {
        let fixture = try await Self.populated()
        let catalog = await fixture.vault.catalog
        // A key older than 90 days, and files left on it once a newer version is active.
        try catalog.write { db in
            try db.execute(
                sql: "UPDATE key_versions SET created_at = ? WHERE version = 1",
                arguments: [AccessTime.format(Date().addingTimeInterval(-100 * 86_400))])
            try db.execute(
                sql:
                    "INSERT INTO key_versions (version, recipient, created_at, state) VALUES (2, 'test1', ?, 'active')",
                arguments: [AccessTime.format(Date())])
        }
        let (officer, _) = try await fixture.session("carol", RoleBinding(role: .complianceOfficer))
        let report = try await officer.complianceReport()

        #expect(report.currentKeyVersion == 2)
        #expect(report.auditLogValid)
        let first = try #require(report.models.first { $0.reference == "fraud@1" })
        #expect(first.signatureStatus == "valid")
        #expect(first.lastVerification?.ok == true)
        #expect(first.keyVersions == [1])
        #expect(first.access.contains { $0.principal == "eve" && $0.action == "model.pull" && $0.count == 2 })
        #expect(first.deniedAttempts == 1)
        let dataset = try #require(report.datasets.first)
        #expect(dataset.reference == "claims@1")
        #expect(dataset.deniedAttempts == 1)

        let kinds = Set(report.findings.map { "\($0.kind) \($0.subject)" })
        #expect(kinds.contains("unverified-version model:fraud@2"))
        #expect(!kinds.contains("unverified-version model:fraud@1"))
        #expect(kinds.contains("old-key-version model:fraud@1"))
        #expect(kinds.contains("old-key-version dataset:claims@1"))
        #expect(kinds.contains("old-key key:v1"))
        #expect(kinds.contains("admin-principal principal:admin"))
        #expect(report.findings.contains { $0.kind == "token-without-expiry" })
        #expect(!report.findings.contains { $0.kind == "unsigned-version" })

        // A broken signature is a finding.
        let signature = fixture.vault.root.appending(
            path: "models/encrypted/fraud/2/\(VersionManifest.signatureFileName)")
        var bytes = try Data(contentsOf: signature)
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: signature)
        let again = try await officer.complianceReport()
        #expect(again.findings.contains { $0.kind == "unsigned-version" && $0.subject == "model:fraud@2" })
    }

    @Test func rendersMarkdownJSONAndEscapedHTML() async throws {
        let fixture = try await Self.populated()
        let report = try await fixture.admin.complianceReport()
        let markdown = String(decoding: try report.rendered(as: .md), as: UTF8.self)
        #expect(markdown.hasPrefix("# ModelVault compliance report"))
        #expect(markdown.contains("| fraud@1 |"))
        #expect(markdown.contains("unverified-version"))
        let json = try report.rendered(as: .json)
        #expect(try JSONDecoder().decode(ComplianceReport.self, from: json) == report)
        let html = String(decoding: try report.rendered(as: .html), as: UTF8.self)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<style>"))
        #expect(!html.contains("<script"))
        #expect(html.contains("token-without-expiry"))
        #expect(
            ComplianceReport.escape("<script>alert('x') & \"y\"</script>")
                == "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;")
    }

    @Test func complianceOfficerReadsReportsButDataScientistDoesNot() async throws {
        let fixture = try await AccessFixture()
        let (scientist, _) = try await fixture.session("dan", RoleBinding(role: .dataScientist))
        await #expect(throws: AccessControlError.denied(.reportRead, on: .global)) {
            try await scientist.complianceReport()
        }
    }
}
