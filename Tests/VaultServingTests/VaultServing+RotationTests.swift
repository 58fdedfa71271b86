import Foundation
import Testing
import Vault
import VaultServer
import VaultServing

/// Issue #19: `keys rotate` by another process while the server runs, then an alias move, made the server drop
/// the model (404 "not available", a false "failed verification" in the log) while `/v2/health/ready` said ready.
@Suite struct VaultServingRotationTests {
    @Test func rotateWhileServingThenAnAliasMoveKeepsServing() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let (model, first, dataset) = try await fixture.push("bc")
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
            // Give the poller several intervals to see the move.
            try await Task.sleep(for: .seconds(3))
            let answer = try await live.send(.POST, path, token: fixture.tokens[.devops], body: body)
            #expect(answer.status == 200, "after rotation and an alias move: \(answer.status) \(answer.body)")
            #expect(
                answer.body.contains(#""model_version":"\#(first.version)""#)
                    || answer.body.contains(#""model_version":"\#(second.version)""#))
            #expect(try await live.send(.GET, "/v2/health/ready", token: nil).status == 200)
        }
    }
}
