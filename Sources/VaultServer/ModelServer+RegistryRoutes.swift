import Foundation
import Hummingbird

extension ModelServer {
    /// Registers the `/v1` registry API and its OpenAPI document.
    static func addRegistryRoutes(
        to routes: TimedRoutes, registry: (any RegistryBackend)?, state: GatewayState,
        openAPIDocument: ByteBuffer?, served: ServedModelTable? = nil
    ) {
        let maxBody = state.configuration.maxBodySize
        @Sendable func backend() throws -> any RegistryBackend {
            guard let registry else { throw APIError.notFound("the registry API is not enabled") }
            return registry
        }
        @Sendable func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
            let body = try await request.body.collect(upTo: maxBody)
            do {
                return try JSONDecoder().decode(type, from: Data(body.readableBytesView))
            } catch {
                throw APIError.badRequest("malformed JSON body")
            }
        }

        routes.on(.openAPI) { _, _ in
            guard let openAPIDocument else { throw APIError.internalError }
            return Responses.bytes(openAPIDocument, contentType: Responses.jsonType)
        }
        routes.on(.listModels) { _, context in
            try Responses.json(try await backend().listModels(principal: context.principal ?? ""))
        }
        routes.on(.showModel) { _, context in
            let name = try context.parameters.require("model")
            let detail = try await backend().showModel(named: name)
            // The versions being served describe themselves as on OIP metadata (issue #20, point 7).
            let versions = await served?.snapshot.models[name] ?? []
            return try Responses.json(Self.describing(detail, served: versions))
        }
        routes.on(.pushModel) { request, context in
            let registry = try backend()
            let push = try await decode(PushModelRequest.self, request)
            let created = try await registry.pushModelVersion(
                named: try context.parameters.require("model"), push, principal: context.principal ?? "")
            var response = try Responses.json(created)
            response.status = .created
            return response
        }
        routes.on(.pullModel) { request, context in
            let registry = try backend()
            let pull = try await decode(PullModelRequest.self, request)
            return try Responses.json(
                try await registry.pullModelVersion(
                    named: try context.parameters.require("model"), version: try context.parameters.require("version"),
                    recipient: pull.recipient, decryptedByCaller: pull.decryptedByCaller ?? false,
                    principal: context.principal ?? ""))
        }
        routes.on(.moveAlias) { request, context in
            let registry = try backend()
            let move = try await decode(MoveAliasRequest.self, request)
            let model = try context.parameters.require("model")
            let alias = try context.parameters.require("alias")
            try await registry.moveAlias(alias, ofModel: model, to: move.version, principal: context.principal ?? "")
            return Responses.json(
                #"{"model":"# + APIError.jsonString(model) + #","alias":"# + APIError.jsonString(alias)
                    + #","version":"# + APIError.jsonString(move.version) + "\"}")
        }
        routes.on(.listDatasets) { _, context in
            try Responses.json(try await backend().listDatasets(principal: context.principal ?? ""))
        }
        routes.on(.showDataset) { _, context in
            try Responses.json(try await backend().showDataset(named: try context.parameters.require("dataset")))
        }
        routes.on(.showModelVersion) { _, context in
            let data = try await backend().showModelVersion(
                named: try context.parameters.require("model"), version: try context.parameters.require("version"),
                principal: context.principal ?? "")
            return Responses.bytes(ByteBuffer(bytes: data), contentType: Responses.jsonType)
        }
        routes.on(.exportAudit) { request, _ in
            let query = request.uri.queryParameters
            let csv: Bool
            switch query.get("format") ?? "jsonl" {
            case "jsonl": csv = false
            case "csv": csv = true
            default: throw APIError.badRequest("format must be jsonl or csv")
            }
            var since: Date?
            if let text = query.get("since") {
                guard let date = AuditExportQuery.time(text) else {
                    throw APIError.badRequest("since must be an ISO 8601 time")
                }
                since = date
            }
            let data = try await backend().exportAudit(csv: csv, since: since)
            return Responses.bytes(
                ByteBuffer(bytes: data), contentType: csv ? "text/csv; charset=utf-8" : "application/x-ndjson")
        }
        routes.on(.report) { request, _ in
            let formatName = request.uri.queryParameters.get("format") ?? "json"
            guard let format = ReportFormat(rawValue: formatName) else {
                throw APIError.badRequest("format must be json, md or html")
            }
            let data = try await backend().complianceReport(format: format)
            return Responses.bytes(ByteBuffer(bytes: data), contentType: format.contentType)
        }
    }
}

extension ModelServer {
    /// A model's registry record with `served`: the metadata (`$metadata_model_response`, with its `parameters`
    /// naming the feature columns, label and classes) of each version this server serves, default first.
    static func describing(_ detail: RegistryModelDetail, served: [any ServedModel]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        var record = String(decoding: try encoder.encode(detail), as: UTF8.self)
        guard record.last == "}" else { throw APIError.internalError }
        record.removeLast()
        return record + #","served":["# + served.map(metadataJSON).joined(separator: ",") + "]}"
    }
}
