import Foundation
import Testing

@testable import VaultServer

/// Readiness fails while a selected model has no verified version being served (issue #19: it said ready while
/// every request for the model answered 404).
@Suite struct ServedModelTableReadinessTests {
    @Test func notReadyWhileASelectedModelIsNotServed() async throws {
        let entries: [CatalogEntry] = [.verified(LinearModel.make()), .unverified(name: "other", version: "2")]
        try await withServer(models: entries) { (server: InProcessServer) async throws in
            #expect(try await server.send(.GET, "/v2/health/ready").status == 503)
        }
        try await withServer(models: [.verified(LinearModel.make())]) { (server: InProcessServer) async throws in
            #expect(try await server.send(.GET, "/v2/health/ready").status == 200)
        }
    }
}
