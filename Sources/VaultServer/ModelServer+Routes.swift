import Foundation
import Hummingbird

/// Route registration with the per-request timeout applied to every handler.
struct TimedRoutes {
    let router: Router<VaultRequestContext>
    let timeout: Duration

    func on(
        _ method: HTTPRequest.Method, _ path: String,
        _ handler: @escaping @Sendable (Request, VaultRequestContext) async throws -> Response
    ) {
        let timeout = self.timeout
        router.on(RouterPath(path), method: method) { request, context in
            try await withTimeout(timeout) { try await handler(request, context) }
        }
    }
}

/// Runs `operation`, answering 503 if it has not finished within `timeout`. Awaiting work (body upload,
/// I/O) is cancelled; a synchronous model computation already running finishes before the task ends.
func withTimeout<T: Sendable>(
    _ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T
)
    async throws -> T
{
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw APIError.timedOut }
        return value
    }
}

/// Response helpers.
enum Responses {
    static let jsonType = "application/json"

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        bytes(ByteBuffer(string: text), contentType: jsonType, status: status)
    }

    static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return bytes(ByteBuffer(bytes: try encoder.encode(value)), contentType: jsonType)
    }

    static func bytes(_ buffer: ByteBuffer, contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: buffer))
    }
}

extension ModelServer {
    /// Registers the Open Inference Protocol v2 routes, `/metrics` and the `/v1` registry API.
    static func addRoutes(
        to routes: TimedRoutes, table: ServedModelTable, gate: InferenceGate, state: GatewayState,
        registry: (any RegistryBackend)?, openAPIDocument: ByteBuffer?
    ) {
        addInferenceRoutes(to: routes, table: table, gate: gate, state: state)
        addRegistryRoutes(to: routes, registry: registry, state: state, openAPIDocument: openAPIDocument)
    }

    private static func addInferenceRoutes(
        to routes: TimedRoutes, table: ServedModelTable, gate: InferenceGate, state: GatewayState
    ) {
        let configuration = state.configuration
        routes.on(.get, "/v2/health/live") { _, _ in Responses.json(#"{"live":true}"#) }
        routes.on(.get, "/v2/health/ready") { _, _ in
            await table.isLoaded
                ? Responses.json(#"{"ready":true}"#)
                : GatewayMiddleware.errorResponse(APIError(status: .serviceUnavailable, message: "not ready"))
        }
        routes.on(.get, "/v2") { _, _ in
            Responses.json(
                #"{"name":"# + APIError.jsonString(configuration.serverName) + #","version":"#
                    + APIError.jsonString(configuration.serverVersion)
                    + #","extensions":["binary_tensor_data"]}"#)
        }
        routes.on(.get, "/metrics") { _, _ in
            Responses.bytes(
                ByteBuffer(bytes: state.metrics.exposition()), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        for prefix in ["/v2/models/{model}", "/v2/models/{model}/versions/{version}"] {
            routes.on(.get, prefix) { _, context in
                let model = try await served(table, context)
                return Responses.json(metadataJSON(model))
            }
            routes.on(.get, prefix + "/ready") { _, context in
                let model = try await served(table, context)
                return Responses.json(
                    #"{"name":"# + APIError.jsonString(model.name) + #","version":"#
                        + APIError.jsonString(model.version) + #","ready":true}"#)
            }
            routes.on(.post, prefix + "/infer") { request, context in
                let model = try await served(table, context)
                let body = try await request.body.collect(upTo: configuration.maxBodySize)
                let headerLength = try request.headers[InferenceCodec.headerLengthField].map {
                    guard let value = Int($0) else {
                        throw APIError.badRequest("Inference-Header-Content-Length is not a number")
                    }
                    return value
                }
                let decoded = try InferenceCodec.decode(body: body, headerLength: headerLength, for: model)
                guard await gate.tryAcquire() else {
                    state.metrics.inferenceRejected()
                    throw APIError.busy
                }
                let clock = ContinuousClock()
                let start = clock.now
                let results: [String: Tensor]
                do {
                    results = try model.infer(decoded.inputs)
                } catch {
                    await gate.release()
                    throw APIError.inferenceFailed
                }
                await gate.release()
                // Inputs that overflow inside the model give NaN or infinity: an error, never a class.
                guard results.values.allSatisfy({ $0.scalars.allSatisfy(\.isFinite) }) else {
                    throw APIError.nonFiniteOutput
                }
                state.metrics.inference(model: model.name, version: model.version, duration: clock.now - start)
                let (responseBody, jsonLength) = try InferenceCodec.encode(results, for: decoded, model: model)
                var headers = HTTPFields()
                if let jsonLength {
                    headers[InferenceCodec.headerLengthField] = String(jsonLength)
                    headers[.contentType] = "application/octet-stream"
                } else {
                    headers[.contentType] = Responses.jsonType
                }
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: responseBody))
            }
        }
    }

    /// The served model the path names; 404 when it is unknown, not the served version, or unverified.
    private static func served(
        _ table: ServedModelTable, _ context: VaultRequestContext
    ) async throws
        -> any ServedModel
    {
        let name = try context.parameters.require("model")
        let version = context.parameters.get("version")
        guard let model = await table.snapshot.model(named: name, version: version) else {
            var message = "model '\(InferenceCodec.clip(name))'"
            if let version { message += " version '\(InferenceCodec.clip(version))'" }
            throw APIError.notFound(message + " is not available")
        }
        return model
    }

    /// The `$metadata_model_response` of a model.
    static func metadataJSON(_ model: any ServedModel) -> String {
        func tensors(_ list: [TensorMetadata]) -> String {
            list.map {
                #"{"name":"# + APIError.jsonString($0.name) + #","datatype":""# + $0.datatype.rawValue
                    + #"","shape":["# + $0.shape.map(String.init).joined(separator: ",") + "]}"
            }.joined(separator: ",")
        }
        return #"{"name":"# + APIError.jsonString(model.name) + #","versions":["#
            + APIError.jsonString(model.version) + #"],"platform":"# + APIError.jsonString(model.platform)
            + #","inputs":["# + tensors(model.inputs) + #"],"outputs":["# + tensors(model.outputs) + "]}"
    }
}
