import Foundation
import Testing
import Vault

/// Issue #20: the compliance report counts the server's verifications.
@Suite struct VaultServingReportTests {
    @Test func aVersionTheServerLoadedIsNotReportedAsNeverVerified() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let (_, info, _) = try await fixture.push("bc", epochs: 5)
        let before = try await fixture.adminSession().complianceReport()
        #expect(before.models.first { $0.reference == info.reference }?.lastVerification == nil)

        try await withVaultApplication(fixture) { live in
            let ready = try await live.send(.GET, "/v2/models/bc/ready", token: fixture.tokens[.devops])
            #expect(ready.status == 200)
        }
        let report = try await fixture.adminSession().complianceReport()
        let row = try #require(report.models.first { $0.reference == info.reference })
        #expect(row.lastVerification?.ok == true)
        #expect(row.lastVerification?.by == "server")
        #expect(
            !report.findings.contains { $0.kind == "unverified-version" && $0.subject == "model:\(info.reference)" })
    }
}
