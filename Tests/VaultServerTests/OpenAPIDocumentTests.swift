import Foundation
import Hummingbird
import Logging
import Testing

@testable import VaultServer

@Suite struct OpenAPIDocumentTests {
    static func router() -> Router<VaultRequestContext> {
        let state = GatewayState(
            configuration: VaultServerConfiguration(), authenticator: TableAuthenticator.standard,
            audit: RecordingAudit(), limiter: TokenBucketLimiter(requestsPerSecond: 1, burst: 1),
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

    @Test func servedV1RoutesMatchTheCommittedDocument() throws {
        let buffer = try #require(ModelServer.openAPIDocument())
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var documented: Set<String> = []
        for (path, operations) in paths {
            for method in operations.keys { documented.insert("\(method.uppercased()) \(path)") }
        }
        let served = Self.servedRoutes().filter { $0.contains(" /v1") }
        #expect(served == documented)
        #expect(served.count == 11)
    }

    @Test func everyServedRouteIsClassifiedAndOnlyHealthAndDocsAreOpen() throws {
        for route in Self.servedRoutes() {
            let parts = route.split(separator: " ")
            let method = HTTPRequest.Method(String(parts[0]))!
            let path = parts[1].replacingOccurrences(of: "{", with: "x").replacingOccurrences(of: "}", with: "")
            guard case .route(let classified) = RouteClassifier.classify(method: method, path: path) else {
                Issue.record("route \(route) is not classified")
                continue
            }
            #expect(classified.template == String(parts[1]))
            let open = ["/v2/health/live", "/v2/health/ready", "/v1/openapi.json"].contains(classified.template)
            #expect((classified.action == nil) == open, "\(route)")
        }
    }
}
