import Foundation
import Testing

@testable import AccessControl

@Suite struct TokenLifetimeTests {
    @Test func parsesUnits() throws {
        #expect(try TokenLifetime.parse("90m") == 5400)
        #expect(try TokenLifetime.parse("12h") == 43_200)
        #expect(try TokenLifetime.parse("30d") == 2_592_000)
        #expect(try TokenLifetime.parse("2w") == 1_209_600)
        #expect(try TokenLifetime.parse("45s") == 45)
        let now = Date(timeIntervalSince1970: 0)
        #expect(try TokenLifetime.expiry("1d", from: now) == Date(timeIntervalSince1970: 86_400))
    }

    @Test func rejectsMalformedOrAbsurdLifetimes() {
        for bad in ["", "d", "30", "0d", "-1d", "+1d", "1y", "1.5d", "30 d", "99999999999999999999d", "3651d"] {
            #expect(throws: AccessControlError.invalidExpiry, "\(bad)") { try TokenLifetime.parse(bad) }
        }
    }
}
