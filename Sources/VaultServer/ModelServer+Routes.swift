import BlockingWork
import Foundation
import Hummingbird

/// Route registration from the route table, with the per-request timeout applied to every handler.
struct TimedRoutes {
    let router: Router<VaultRequestContext>
    let timeout: Duration
    /// The routes this server answers; `on` registers no handler for any other.
    let enabled: [ServerRoute]

    /// Registers the handler of `route` (one of `ServerRoute.all`) at its method and template.
    func on(
        _ route: ServerRoute, timeout: Duration? = nil,
        _ handler: @escaping @Sendable (Request, VaultRequestContext) async throws -> Response
    ) {
        guard enabled.contains(route) else { return }
        let timeout = timeout ?? self.timeout
        router.on(RouterPath(route.template), method: route.method) { request, context in
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
        addPrivateInferenceRoute(to: routes, table: table, gate: gate, state: state)
        addRegistryRoutes(
            to: routes, registry: registry, state: state, openAPIDocument: openAPIDocument, served: table)
        addStreamRoutes(to: routes, registry: registry, state: state)
        addRemoteRoutes(to: routes, registry: registry, state: state)
    }

    private static func addInferenceRoutes(
        to routes: TimedRoutes, table: ServedModelTable, gate: InferenceGate, state: GatewayState
    ) {
        let configuration = state.configuration
        routes.on(.healthLive) { _, _ in Responses.json(#"{"live":true}"#) }
        routes.on(.healthReady) { _, _ in
            // Ready once loaded and while every selected model has a verified version being served.
            let loaded = await table.isLoaded
            let servesAll = await table.snapshot.servesEverySelectedModel
            return loaded && servesAll
                ? Responses.json(#"{"ready":true}"#)
                : GatewayMiddleware.errorResponse(APIError(status: .serviceUnavailable, message: "not ready"))
        }
        // The build information rides along as an extra member of the OIP server metadata.
        let build = (try? configuration.buildInfo.json()).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        routes.on(.serverMetadata) { _, _ in
            Responses.json(
                #"{"name":"# + APIError.jsonString(configuration.serverName) + #","version":"#
                    + APIError.jsonString(configuration.serverVersion)
                    + #","extensions":["binary_tensor_data"],"build":"# + build + "}")
        }
        routes.on(.metrics) { _, _ in
            let extra = await state.audit.metricsExposition()
            return Responses.bytes(
                ByteBuffer(bytes: state.metrics.exposition() + Array(extra.utf8)),
                contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        let byVersion: [(metadata: ServerRoute, ready: ServerRoute, infer: ServerRoute)] = [
            (.modelMetadata, .modelReady, .infer), (.modelVersionMetadata, .modelVersionReady, .versionInfer),
        ]
        for routeSet in byVersion {
            routes.on(routeSet.metadata) { _, context in
                let model = try await served(table, context)
                return Responses.json(metadataJSON(model))
            }
            routes.on(routeSet.ready) { _, context in
                let model = try await served(table, context)
                return Responses.json(
                    #"{"name":"# + APIError.jsonString(model.name) + #","version":"#
                        + APIError.jsonString(model.version) + #","ready":true}"#)
            }
            routes.on(routeSet.infer) { request, context in
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
                } catch let rejected as InferenceRejected {
                    await gate.release()
                    throw APIError.badRequest(rejected.message)
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

    /// `POST /v1/models/{model}/private-infer`: a serialised CKKS request in, the encrypted scores out
    /// (`application/octet-stream`). Mounted with or without the registry API: it serves the selected default
    /// version, like `/v2/models/{model}/infer`. Its own per-principal token bucket comes before any work.
    private static func addPrivateInferenceRoute(
        to routes: TimedRoutes, table: ServedModelTable, gate: InferenceGate, state: GatewayState
    ) {
        let configuration = state.configuration
        let limiter = TokenBucketLimiter(
            requestsPerSecond: configuration.privateInferenceRateLimit.requestsPerSecond,
            burst: configuration.privateInferenceRateLimit.burst)
        let privateGate = InferenceGate(limit: configuration.maxConcurrentPrivateInferences)
        routes.on(.privateInfer) { request, context in
            let model = try await served(table, context)
            guard let privateModel = model as? any PrivatelyServedModel else {
                throw APIError.notFound(
                    "model '\(InferenceCodec.clip(model.name))' does not offer private inference")
            }
            let key = context.principal ?? context.clientAddress ?? "anonymous"
            if case .limited(let retryAfter) = await limiter.acquire(key) {
                state.metrics.rateLimited()
                throw APIError.rateLimited(retryAfter: retryAfter)
            }
            let body = try await request.body.collect(upTo: configuration.maxBodySize)
            guard await privateGate.tryAcquire() else {
                state.metrics.inferenceRejected()
                throw APIError.busy
            }
            guard await gate.tryAcquire() else {
                await privateGate.release()
                state.metrics.inferenceRejected()
                throw APIError.busy
            }
            let clock = ContinuousClock()
            let start = clock.now
            let result: [UInt8]
            do {
                result = try await Self.offCooperativePool { [bytes = Array(body.readableBytesView)] in
                    try privateModel.privateInfer(bytes)
                }
            } catch let refusal as PrivateInferenceRefused {
                await gate.release()
                await privateGate.release()
                throw refusal
            } catch {
                await gate.release()
                await privateGate.release()
                throw APIError.inferenceFailed
            }
            await gate.release()
            await privateGate.release()
            state.metrics.inference(model: model.name, version: model.version, duration: clock.now - start)
            return Responses.bytes(ByteBuffer(bytes: result), contentType: "application/octet-stream")
        }
    }

    /// Runs CPU-bound work on the blocking pool, so that seconds of homomorphic evaluation do not hold one of
    /// the cooperative pool's few threads (probes and every other route run there). The caller bounds how many
    /// run at once (`maxConcurrentPrivateInferences`).
    private static func offCooperativePool<T: Sendable>(
        _ work: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await BlockingExecutor.shared.run(work)
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
            + #","inputs":["# + tensors(model.inputs) + #"],"outputs":["# + tensors(model.outputs) + "]"
            + (model.columns.map(parametersJSON) ?? "") + "}"
    }

    /// The metadata's `parameters` (an OIP extension point): the columns behind the tensors.
    static func parametersJSON(_ columns: ModelColumns) -> String {
        func strings(_ list: [String]) -> String { "[" + list.map(APIError.jsonString).joined(separator: ",") + "]" }
        return #","parameters":{"feature_names":"# + strings(columns.featureNames) + #","label":"#
            + APIError.jsonString(columns.label) + #","class_names":"# + strings(columns.classNames) + "}"
    }
}
