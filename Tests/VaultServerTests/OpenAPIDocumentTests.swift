import Foundation
import Hummingbird
import Logging
import Testing

@testable import VaultServer

/// The route table (`ServerRoute.all`) is the one list of routes: the router serves exactly it, the classifier
/// maps every route to its action, and `openapi.json` documents every route with its action and nothing else.
@Suite struct OpenAPIDocumentTests {
    static func router() -> Router<VaultRequestContext> {
        let state = GatewayState(
            configuration: VaultServerConfiguration(), authenticator: TableAuthenticator.standard,
            audit: RecordingAudit(), limiter: TokenBucketLimiter(requestsPerSecond: 1, burst: 1),
            openRoutes: TokenBucketLimiter(requestsPerSecond: 1, burst: 1),
            failureAudit: FailureAuditWindows(window: .seconds(60)),
            metrics: ServerMetrics(), logger: Logger(label: "test"))
        return ModelServer.makeRouter(
            state: state, table: ServedModelTable(), registry: nil, gate: InferenceGate(limit: 1))
    }

    /// "METHOD /path/{param}" for every route the router serves.
    static func servedRoutes() -> Set<String> {
        Set(
            router().routes.map { "\($0.method.rawValue) \($0.path.description)" }.map { route in
                route.split(separator: "/", omittingEmptySubsequences: false).map { part in
                    part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
                }.joined(separator: "/")
            })
    }

    /// path → method → operation, from the committed document.
    static func documentedOperations() throws -> [String: [String: [String: Any]]] {
        let buffer = try #require(ModelServer.openAPIDocument())
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
        return try #require(document["paths"] as? [String: [String: [String: Any]]])
    }

    @Test func theRouterServesExactlyTheRouteTable() {
        let table = Set(ServerRoute.all.map { "\($0.method.rawValue) \($0.template)" })
        #expect(table.count == ServerRoute.all.count, "a route is declared twice")
        #expect(Self.servedRoutes() == table)
    }

    @Test(arguments: ServerRoute.all.map(\.template))
    func everyRouteIsDocumentedWithItsAction(template: String) throws {
        let operations = try Self.documentedOperations()
        for route in ServerRoute.all where route.template == template {
            let operation = try #require(
                operations[route.template]?[route.method.rawValue.lowercased()],
                "\(route.method.rawValue) \(route.template) is not in openapi.json")
            #expect(operation["x-modelvault-action"] as? String == route.action?.rawValue)
            let security = operation["security"] as? [[String: Any]] ?? []
            #expect(security.isEmpty == (route.action == nil), "open routes, and only they, need no token")
        }
    }

    @Test func everyDocumentedOperationIsInTheRouteTable() throws {
        let table = Set(ServerRoute.all.map { "\($0.method.rawValue) \($0.template)" })
        var documented: Set<String> = []
        for (path, operations) in try Self.documentedOperations() {
            for method in operations.keys { documented.insert("\(method.uppercased()) \(path)") }
        }
        #expect(documented == table)
    }

    @Test func everyRouteIsClassifiedToItsActionAndResource() {
        for route in ServerRoute.all {
            let path = route.template.replacingOccurrences(of: "{", with: "x-").replacingOccurrences(of: "}", with: "")
            guard case .route(let classified) = RouteClassifier.classify(method: route.method, path: path) else {
                Issue.record("\(route.template) is not classified")
                continue
            }
            #expect(classified.template == route.template)
            #expect(classified.action == route.action)
            switch route.resource {
            case .global: #expect(classified.resource == .global)
            case .model: #expect(classified.resource == .model("x-model"))
            case .dataset: #expect(classified.resource == .dataset("x-dataset"))
            }
        }
        #expect(RouteClassifier.classify(method: .delete, path: "/v2/models/iris") == .methodNotAllowed)
        #expect(RouteClassifier.classify(method: .get, path: "/v2/models/iris/versions") == .notFound)
        #expect(RouteClassifier.classify(method: .get, path: "/v3") == .notFound)
    }
}
