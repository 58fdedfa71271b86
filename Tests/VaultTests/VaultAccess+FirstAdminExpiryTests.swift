import AccessControl
import Foundation
import TestSupport
import Testing

@testable import Vault

/// Review 3 (low): `user bootstrap` and the demo's kept vault minted a first admin token that never expired, while
/// the README says the first admin token expires after 90 days by default.
@Suite struct VaultAccessFirstAdminExpiryTests {
    @Test func theFirstAdminTokenExpiresAfterNinetyDaysByDefault() async throws {
        let directory = try TemporaryDirectory()
        let vault = try TestVault.create(in: directory)
        let access = try await VaultAccess.open(vault)
        let issued = try await access.bootstrap()
        let expiry = try #require(issued.info.expiresAt, "the first admin token never expires")
        let date = try #require(try? Date(expiry, strategy: .iso8601), "\(expiry)")
        #expect(abs(date.timeIntervalSinceNow - 90 * 86_400) < 3600, "\(expiry)")
    }
}
