import Foundation
import Hummingbird

/// What the gateway needs to know about a request before routing: its route template (a low-cardinality
/// label for metrics and the audit log), the action to authorise, and the resource it addresses.
struct RouteClass: Sendable, Equatable {
    /// The route template, e.g. `/v2/models/{model}/infer`.
    var template: String
    /// The action to authorise; `nil` for open routes (health, the OpenAPI document).
    var action: ServerAction?
    /// The resource the request addresses.
    var resource: ServerResource
}

/// Maps method and path to a `RouteClass`. Every route the router serves must be known here: the gateway
/// answers 404 for anything else, so no handler can run without its authorisation check.
enum RouteClassifier {
    /// The result of classifying one request.
    enum Result: Equatable {
        case route(RouteClass)
        case methodNotAllowed
        case notFound
    }

    /// Classifies a request by method and (percent-encoded) path.
    static func classify(method: HTTPRequest.Method, path: String) -> Result {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map {
            String($0).removingPercentEncoding ?? String($0)
        }
        guard let (template, allowed) = match(parts) else { return .notFound }
        guard let entry = allowed.first(where: { $0.method == method }) else { return .methodNotAllowed }
        return .route(RouteClass(template: template, action: entry.action, resource: entry.resource))
    }

    private struct Allowed {
        var method: HTTPRequest.Method
        var action: ServerAction?
        var resource: ServerResource
    }

    private static func match(_ p: [String]) -> (String, [Allowed])? {
        switch p.count {
        case 1 where p[0] == "metrics":
            return ("/metrics", [Allowed(method: .get, action: .readMetrics, resource: .global)])
        case 1 where p[0] == "v2":
            return ("/v2", [Allowed(method: .get, action: .readServerMetadata, resource: .global)])
        case 3 where p[0] == "v2" && p[1] == "health" && (p[2] == "live" || p[2] == "ready"):
            return ("/v2/health/\(p[2])", [Allowed(method: .get, action: nil, resource: .global)])
        case 2...6 where p[0] == "v2" && p[1] == "models":
            return matchModel(p)
        case 2 where p[0] == "v1" && p[1] == "openapi.json":
            return ("/v1/openapi.json", [Allowed(method: .get, action: nil, resource: .global)])
        case 2...6 where p[0] == "v1":
            return matchRegistry(p)
        default:
            return nil
        }
    }

    /// `/v2/models/{model}[/versions/{version}][/ready|/infer]`.
    private static func matchModel(_ p: [String]) -> (String, [Allowed])? {
        guard p.count >= 3 else { return nil }
        let model = ServerResource.model(p[2])
        var template = "/v2/models/{model}"
        var rest = p[3...]
        if rest.first == "versions" {
            guard rest.count >= 2 else { return nil }
            template += "/versions/{version}"
            rest = rest.dropFirst(2)
        }
        switch rest.count {
        case 0:
            return (template, [Allowed(method: .get, action: .readModelMetadata, resource: model)])
        case 1 where rest.first == "ready":
            return (template + "/ready", [Allowed(method: .get, action: .readModelMetadata, resource: model)])
        case 1 where rest.first == "infer":
            return (template + "/infer", [Allowed(method: .post, action: .infer, resource: model)])
        default:
            return nil
        }
    }

    /// The `/v1` registry API.
    private static func matchRegistry(_ p: [String]) -> (String, [Allowed])? {
        switch (p.count, p[1]) {
        case (2, "models"):
            return ("/v1/models", [Allowed(method: .get, action: .listModels, resource: .global)])
        case (3, "models"):
            return ("/v1/models/{model}", [Allowed(method: .get, action: .showModel, resource: .model(p[2]))])
        case (4, "models") where p[3] == "private-infer":
            return (
                "/v1/models/{model}/private-infer",
                [Allowed(method: .post, action: .privateInfer, resource: .model(p[2]))]
            )
        case (4, "models") where p[3] == "versions":
            return (
                "/v1/models/{model}/versions", [Allowed(method: .post, action: .pushModel, resource: .model(p[2]))]
            )
        case (6, "models") where p[3] == "versions" && p[5] == "pull":
            return (
                "/v1/models/{model}/versions/{version}/pull",
                [Allowed(method: .post, action: .pullModel, resource: .model(p[2]))]
            )
        case (5, "models") where p[3] == "aliases":
            return (
                "/v1/models/{model}/aliases/{alias}",
                [Allowed(method: .put, action: .moveAlias, resource: .model(p[2]))]
            )
        case (2, "datasets"):
            return ("/v1/datasets", [Allowed(method: .get, action: .listDatasets, resource: .global)])
        case (3, "datasets"):
            return (
                "/v1/datasets/{dataset}", [Allowed(method: .get, action: .showDataset, resource: .dataset(p[2]))]
            )
        case (2, "audit"):
            return ("/v1/audit", [Allowed(method: .get, action: .exportAudit, resource: .global)])
        case (2, "report"):
            return ("/v1/report", [Allowed(method: .get, action: .readReport, resource: .global)])
        default:
            return nil
        }
    }
}
