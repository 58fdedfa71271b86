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

/// Maps method and path to a `RouteClass` by matching the routes the server answers (`ServerRoute.all`, or the
/// serving-only subset). The router registers handlers only for those routes and the gateway answers 404 for
/// anything it does not match, so no handler can run without its authorisation check.
enum RouteClassifier {
    /// The result of classifying one request.
    enum Result: Equatable {
        case route(RouteClass)
        case methodNotAllowed
        case notFound
    }

    /// Classifies a request by method and (percent-encoded) path.
    static func classify(
        method: HTTPRequest.Method, path: String, routes: [ServerRoute] = ServerRoute.all
    ) -> Result {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map {
            String($0).removingPercentEncoding ?? String($0)
        }
        var pathMatched = false
        for route in routes {
            guard let parameters = match(route.segments, parts) else { continue }
            pathMatched = true
            guard route.method == method else { continue }
            let resource: ServerResource =
                switch route.resource {
                case .global: .global
                case .model: .model(parameters["model"] ?? "")
                case .dataset: .dataset(parameters["dataset"] ?? "")
                }
            return .route(RouteClass(template: route.template, action: route.action, resource: resource))
        }
        return pathMatched ? .methodNotAllowed : .notFound
    }

    /// The path parameters if `parts` fits `template` segment for segment.
    private static func match(_ template: [Substring], _ parts: [String]) -> [String: String]? {
        guard template.count == parts.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(template, parts) {
            if segment.hasPrefix("{") && segment.hasSuffix("}") {
                parameters[String(segment.dropFirst().dropLast())] = part
            } else if segment != part {
                return nil
            }
        }
        return parameters
    }
}
