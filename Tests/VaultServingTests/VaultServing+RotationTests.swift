import AuditLog
import Foundation
import Testing
import Vault
import VaultServer
import VaultServing

/// Issue #19: `keys rotate` by another process while the server runs, then an alias move, made the server drop
/// the model (404 "not available", a false "failed verification" in the log) while `/v2/health/ready` said ready.
/// Then it kept serving the old version: now it follows the key chain a plain rotation leaves and serves the move.
@Suite struct VaultServingRotationTests {
    @Test func rotateWhileServingThenAnAliasMoveServesTheNewVersion() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let (model, _, dataset) = try await fixture.push("bc")
        try await withVaultServer(fixture) { live in
            let body = inferenceBody(rows: rows(of: dataset, 0..<1))
            let path = "/v2/models/bc/infer"
            #expect(try await live.send(.POST, path, token: fixture.tokens[.devops], body: body).status == 200)
            // Another process (a second vault instance on the same directory) rotates and pushes version 2
            // under the new key; the server's instance never saw that key version.
            let other = try Vault.open(at: fixture.root, unlockingWith: .passphrase("correct horse battery staple"))
            _ = try await other.rotateKeys(passphrase: "correct horse battery staple")
            let second = try await other.pushModel("bc", from: .files(try model.files()))
            let session = try await fixture.adminSession()
            try await session.setAlias("production", to: ModelReference(name: "bc", selector: .version(second.version)))
            let served = try await eventually(seconds: 15) {
                let answer = try await live.send(.POST, path, token: fixture.tokens[.devops], body: body)
                return answer.status == 200 && answer.body.contains(#""model_version":"\#(second.version)""#)
            }
            #expect(served, "the moved alias (a version wrapped for the new key) is not served")
            #expect(try await live.send(.GET, "/v2/health/ready", token: nil).status == 200)
            let failures = try await session.auditTail(10_000).filter {
                $0.entry.action == "model.load" && $0.entry.outcome == .failed
            }
            #expect(failures.isEmpty, "a false failed verification was logged")
        }
    }

    /// `--reencrypt` (a suspected compromise) leaves no key chain, makes a fresh root of trust and hands the audit log
    /// to a new key: a server that unlocked the vault before cannot verify the re-authenticated catalog or sign its
    /// log any more, so it fails closed (503, never the old state, no false "failed verification"); a restart with
    /// the passphrase serves the move. The move is made by a process that opened the vault after the rotation.
    @Test func afterAReencryptingRotationAServerUnderTheOldRootFailsClosed() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let (model, _, dataset) = try await fixture.push("bc")
        try await withVaultServer(fixture) { live in
            let body = inferenceBody(rows: rows(of: dataset, 0..<1))
            let path = "/v2/models/bc/infer"
            #expect(try await live.send(.POST, path, token: fixture.tokens[.devops], body: body).status == 200)
            let other = try Vault.open(at: fixture.root, unlockingWith: .passphrase("correct horse battery staple"))
            _ = try await other.rotateKeys(
                passphrase: "correct horse battery staple", reencrypt: true,
                newPassphrase: "correct horse battery staple, re-sealed")
            let second = try await other.pushModel("bc", from: .files(try model.files()))
            let session = try await VaultAccess.open(other).authenticate(token: fixture.tokens[.admin]!)
            try await session.setAlias("production", to: ModelReference(name: "bc", selector: .version(second.version)))
            try await Task.sleep(for: .seconds(2))
            let answer = try await live.send(.POST, path, token: fixture.tokens[.devops], body: body)
            #expect(answer.status == 503, "after rotation and an alias move: \(answer.status) \(answer.body)")
            #expect(!answer.body.contains("model_version"), "served under a root of trust the rotation retired")
            let failures = try await session.auditTail(10_000).filter {
                $0.entry.action == "model.load" && $0.entry.outcome == .failed
            }
            #expect(failures.isEmpty, "a false failed verification was logged")
        }
    }
}
