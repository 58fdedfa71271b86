import AccessControl
import Foundation
import HummingbirdTesting
import Testing
import Vault
import VaultServer
import VaultServing

/// `POST /v1/keys/rotate` takes no passphrase: the server rotates with the one it was unlocked with, a request
/// carrying one is refused before anything changes, and a server unlocked with an identity file refuses remote
/// rotation with a clear message.
@Suite struct VaultServingRemoteRotationTests {
    @Test func aPassphraseSentToTheServerIsRefusedAndNothingRotates() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let admin = fixture.tokens[.admin]!
        try await withConfiguredApplication(fixture) { client in
            let sent = try await client.json(
                .init(
                    method: .post, path: "/v1/keys/rotate", body: #"{"passphrase":"\#(ServingFixture.passphrase)"}"#,
                    action: .keysRotate), token: admin)
            #expect(sent.status == .badRequest, "\(String(buffer: sent.body))")
            #expect(String(buffer: sent.body).contains("takes no passphrase"))
        }
        #expect(try await fixture.adminSession().keyVersions().count == 1, "a request with a passphrase rotated")
    }

    /// Review 5, trust F1/F2: a re-encrypting rotation that keeps the passphrase leaves copies of the old key files
    /// opening with it, so the server, which never receives a new passphrase, refuses one.
    @Test func aReencryptingRotationIsRefusedBecauseTheNewPassphraseCannotTravel() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await withConfiguredApplication(fixture) { client in
            let refused = try await client.json(
                .init(method: .post, path: "/v1/keys/rotate", body: #"{"reencrypt":true}"#, action: .keysRotate),
                token: fixture.tokens[.admin]!)
            #expect(refused.status == .badRequest, "\(String(buffer: refused.body))")
            #expect(String(buffer: refused.body).contains("needs a new vault passphrase"))
        }
        #expect(try await fixture.adminSession().keyVersions().count == 1, "a re-encrypting rotation ran remotely")
    }

    @Test func theServerRotatesWithThePassphraseItHoldsAndNoneTravels() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let admin = fixture.tokens[.admin]!
        try await withConfiguredApplication(fixture) { client in
            let rotated = try await client.json(
                .init(method: .post, path: "/v1/keys/rotate", body: nil, action: .keysRotate), token: admin)
            #expect(rotated.status == .ok, "\(String(buffer: rotated.body))")
            #expect(String(buffer: rotated.body).contains(#""keyVersion":2"#))
        }
        // The new key version opens with the vault's passphrase (it was wrapped under the one the server holds).
        _ = try Vault.open(at: fixture.root, unlockingWith: .passphrase(ServingFixture.passphrase))
        #expect(try await fixture.adminSession().keyVersions().contains { $0.version == 2 })
    }

    @Test func aServerUnlockedWithAnIdentityFileRefusesRemoteRotationClearly() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await withConfiguredApplication(fixture, rotationPassphrase: nil) { client in
            let refused = try await client.json(
                .init(method: .post, path: "/v1/keys/rotate", body: #"{"reencrypt":false}"#, action: .keysRotate),
                token: fixture.tokens[.admin]!)
            #expect(refused.status == .conflict)
            #expect(String(buffer: refused.body).contains("holds no passphrase"))
        }
        #expect(try await fixture.adminSession().keyVersions().count == 1)
    }
}
