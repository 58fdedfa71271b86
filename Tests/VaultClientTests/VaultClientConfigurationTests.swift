import Foundation
import Testing
import VaultClient

/// A token is a bearer credential: the client refuses to send it where others can read it off the wire.
@Suite struct VaultClientConfigurationTests {
    @Test(arguments: [
        "http://vault.example", "http://vault.example:8080", "http://10.0.0.5:8443", "http://[2001:db8::1]:80",
        "http://127.0.0.1.example.com", "http://localhost.example.com",
    ])
    func aTokenIsNeverSentOverPlainHTTPOffLoopback(_ server: String) {
        #expect(throws: VaultClientError.self) { try VaultClientConfiguration(server: server, token: "t") }
        let error = try? #require(throws: VaultClientError.self) {
            try VaultClientConfiguration(server: server, token: "t")
        }
        #expect(error?.kind == .insecure)
        #expect(error.map { !$0.description.contains("t\"") } ?? false)
    }

    @Test(arguments: [
        "http://127.0.0.1:8080", "http://127.1.2.3:1", "http://localhost:9000", "http://[::1]:8443",
        "https://vault.example", "https://vault.example:8443/", "https://10.0.0.5:8443",
    ])
    func httpsAnywhereAndPlainHTTPToLoopbackAreAccepted(_ server: String) throws {
        let configuration = try VaultClientConfiguration(server: server, token: "t")
        #expect(!configuration.server.absoluteString.hasSuffix("/"))
    }

    @Test(arguments: [
        "ftp://vault.example", "vault.example:8443", "https://user:pw@vault.example", "https://vault.example/?a=b",
        "https://vault.example/#x", "https://", "",
    ])
    func malformedServerURLsAreInvalidInput(_ server: String) {
        let error = try? #require(throws: VaultClientError.self) {
            try VaultClientConfiguration(server: server, token: "t")
        }
        #expect(error?.kind == .invalidInput)
    }
}
