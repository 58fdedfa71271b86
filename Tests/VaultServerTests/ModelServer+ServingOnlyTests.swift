import Foundation
import Testing

@testable import VaultServer

/// Issue #19: a serving-only pod holds no registry. Its `/v1` registry routes answer 404 to every caller, the
/// admin included, even when a registry backend is wired in; the serving routes still work.
@Suite struct ModelServerServingOnlyTests {
    @Test func registryRoutesAnswer404EvenToAnAdmin() async throws {
        try await withServer(configure: { $0.routes = .servingOnly }) { server in
            for route in RouteCase.all where route.path.hasPrefix("/v1/") {
                let response = try await server.send(
                    route.method, route.path, token: ModelServerRoutesTests.admin,
                    body: route.body.map { Array($0.utf8) })
                #expect(response.status == 404, "\(route.testDescription) answered \(response.status)")
            }
            let document = try await server.send(.GET, "/v1/openapi.json")
            #expect(document.status == 404)
            for route in RouteCase.all where !route.path.hasPrefix("/v1/") {
                let response = try await server.send(
                    route.method, route.path, token: ModelServerRoutesTests.admin,
                    body: route.body.map { Array($0.utf8) })
                #expect(response.status == route.success, "\(route.testDescription) answered \(response.status)")
            }
            #expect(try await server.send(.GET, "/v2/health/ready").status == 200)
            // Unknown routes answer 404 before authentication; the private-inference route is a serving route, so
            // without a token it asks for one.
            #expect(try await server.send(.GET, "/v1/models").status == 404)
            #expect(try await server.send(.POST, "/v1/models/iris/private-infer", body: Array("{}".utf8)).status == 401)
        }
    }

    @Test func theServingRoutesAreASubsetOfTheTableWithNoRegistryAction() {
        let serving = ServerRoute.routes(for: .servingOnly)
        #expect(serving.allSatisfy { route in ServerRoute.all.contains(route) })
        let registryActions: [ServerAction] = [
            .listModels, .showModel, .pushModel, .pullModel, .moveAlias, .listDatasets, .showDataset, .exportAudit,
            .readReport,
        ]
        #expect(!serving.contains { route in route.action.map(registryActions.contains) ?? false })
        #expect(serving.contains(.privateInfer) && serving.contains(.infer) && serving.contains(.healthReady))
        #expect(ServerRoute.routes(for: .all) == ServerRoute.all)
    }
}
