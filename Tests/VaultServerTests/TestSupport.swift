import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle
import Testing

@testable import VaultServer

/// A tiny linear classifier: scores = x·Wᵀ + b, label = argmax(scores). Input "input" [-1, features].
struct LinearModel: ServedModel {
    var name: String
    var version: String
    var weights: [[Float]]  // [classes][features]
    var bias: [Float]
    var delay: Duration? = nil

    var platform: String { "modelvault_linear" }
    var inputs: [TensorMetadata] { [TensorMetadata(name: "input", shape: [-1, weights[0].count])] }
    var outputs: [TensorMetadata] {
        [TensorMetadata(name: "scores", shape: [-1, weights.count]), TensorMetadata(name: "label", shape: [-1, 1])]
    }

    func infer(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        if let delay {
            Thread.sleep(
                forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) * 1e-18)
        }
        let input = inputs["input"]!
        let features = weights[0].count
        let rows = input.shape[0]
        var scores: [Float] = []
        var labels: [Float] = []
        for row in 0..<rows {
            let x = input.scalars[(row * features)..<((row + 1) * features)]
            var best = 0
            var rowScores: [Float] = []
            for (index, w) in weights.enumerated() {
                var sum = bias[index]
                for (a, b) in zip(x, w) { sum += a * b }
                rowScores.append(sum)
                if sum > rowScores[best] { best = index }
            }
            scores += rowScores
            labels.append(Float(best))
        }
        return [
            "scores": Tensor(shape: [rows, weights.count], scalars: scores),
            "label": Tensor(shape: [rows, 1], scalars: labels),
        ]
    }

    static func make(name: String = "iris", version: String = "1", scale: Float = 1) -> LinearModel {
        LinearModel(
            name: name, version: version,
            weights: [[0.5 * scale, -1, 0.25, 2], [-0.5, 1 * scale, 0.75, -1], [1, 0.5, -0.25 * scale, 0.125]],
            bias: [0.1, -0.2, 0.3])
    }
}

/// A catalog whose entries the test changes (alias moves, unverified versions).
actor MutableCatalog: ModelCatalog {
    var entries: [CatalogEntry]
    init(_ entries: [CatalogEntry]) { self.entries = entries }
    func set(_ entries: [CatalogEntry]) { self.entries = entries }
    func currentModels() async throws -> [CatalogEntry] { entries }
}

/// Tokens → principal and the actions it may perform.
struct TableAuthenticator: Authenticator {
    var grants: [String: (principal: String, actions: Set<ServerAction>)]

    func authorize(
        bearerToken: String, action: ServerAction, resource: ServerResource
    ) async
        -> AuthorizationDecision
    {
        guard let grant = grants[bearerToken] else { return .unauthenticated }
        return grant.actions.contains(action)
            ? .allowed(principal: grant.principal) : .forbidden(principal: grant.principal)
    }

    static let standard = TableAuthenticator(grants: [
        "admin-token-0123456789": ("alice", Set(ServerAction.allCases)),
        "auditor-token-0123456789": ("carol", [.exportAudit, .readReport]),
        "engineer-token-0123456789": ("bob", [.infer, .readModelMetadata, .readServerMetadata]),
    ])
}

/// Records audit entries; can be told to fail.
actor RecordingAudit: AuditSink {
    var records: [RequestAuditRecord] = []
    var failing = false
    func setFailing(_ value: Bool) { failing = value }
    func record(_ record: RequestAuditRecord) async throws {
        if failing { throw CancellationError() }
        records.append(record)
    }
}

/// An in-memory registry for the /v1 routes.
actor MemoryRegistry: RegistryBackend {
    var aliases: [String: String] = ["production": "1"]
    var versions: [RegistryModelVersion] = [
        RegistryModelVersion(version: "1", created: Date(timeIntervalSince1970: 0), createdBy: "alice", files: [:])
    ]

    func listModels(principal: String) async throws -> [RegistryModelSummary] {
        [RegistryModelSummary(name: "iris", versions: versions.map(\.version), aliases: aliases)]
    }
    func showModel(named name: String) async throws -> RegistryModelDetail {
        guard name == "iris" else { throw RegistryError.notFound }
        return RegistryModelDetail(name: name, versions: versions, aliases: aliases)
    }
    func listDatasets(principal: String) async throws -> [RegistryDataset] {
        [RegistryDataset(name: "flowers", versions: ["1"])]
    }
    func showDataset(named name: String) async throws -> RegistryDataset {
        guard name == "flowers" else { throw RegistryError.notFound }
        return RegistryDataset(name: name, versions: ["1"])
    }
    func pushModelVersion(
        named name: String, _ request: PushModelRequest, principal: String
    ) async throws
        -> RegistryModelVersion
    {
        let version = RegistryModelVersion(
            version: String(versions.count + 1), created: Date(), createdBy: principal,
            files: request.files.mapValues { String($0.count) })
        versions.append(version)
        return version
    }
    func pullModelVersion(
        named name: String, version: String, recipient: String, principal: String
    ) async throws
        -> PulledModel
    {
        guard recipient.hasPrefix("age1") else { throw RegistryError.invalid }
        return PulledModel(
            name: name, version: version, files: ["model.safetensors.age": Data("age".utf8)], signature: nil)
    }
    func moveAlias(_ alias: String, ofModel name: String, to version: String, principal: String) async throws {
        guard versions.contains(where: { $0.version == version }) else { throw RegistryError.notFound }
        aliases[alias] = version
    }
    func exportAudit(csv: Bool, since: Date?) async throws -> Data { Data("{\"index\":0}\n".utf8) }
    func complianceReport(format: ReportFormat) async throws -> Data { Data("# report\n".utf8) }
}

/// A running server plus an HTTPS client that trusts its self-signed certificate.
struct LiveServer {
    let server: ModelServer
    let port: Int
    let client: HTTPClient
    let catalog: MutableCatalog
    let audit: RecordingAudit
    let group: ServiceGroup
    var baseURL: String { "https://127.0.0.1:\(port)" }

    /// Sends a request; returns status, headers and body.
    func send(
        _ method: HTTPMethod, _ path: String, token: String? = nil, headers: [(String, String)] = [],
        body: [UInt8]? = nil
    ) async throws -> (status: Int, headers: HTTPHeaders, body: [UInt8]) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .seconds(120))
        let collected = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), response.headers, Array(collected.readableBytesView))
    }

    func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }
}

/// A server on an ephemeral port over a mutable catalog and a recording audit sink: what the in-process
/// (`withServer`) and live (`withLiveServer`) harnesses share.
func makeTestServer(
    models: [CatalogEntry], configure: (inout VaultServerConfiguration) -> Void, authenticator: any Authenticator,
    registry: (any RegistryBackend)?
) throws -> (server: ModelServer, catalog: MutableCatalog, audit: RecordingAudit, logger: Logger) {
    var configuration = VaultServerConfiguration()
    configuration.port = 0
    configuration.catalogPollInterval = .milliseconds(100)
    configure(&configuration)
    let catalog = MutableCatalog(models)
    let audit = RecordingAudit()
    var logger = Logger(label: "test.server")
    logger.logLevel = .warning
    let server = try ModelServer(
        configuration: configuration, catalog: catalog, authenticator: authenticator, audit: audit,
        registry: registry, logger: logger)
    return (server, catalog, audit, logger)
}

/// Starts a server on an ephemeral loopback port with a self-signed certificate, runs `body`, then shuts
/// the server down gracefully.
@discardableResult
func withLiveServer<T>(
    models: [CatalogEntry] = [.verified(LinearModel.make())],
    configure: (inout VaultServerConfiguration) -> Void = { _ in },
    authenticator: any Authenticator = TableAuthenticator.standard,
    registry: (any RegistryBackend)? = MemoryRegistry(),
    clientTLS: ((inout TLSConfiguration) -> Void)? = nil,
    _ body: (LiveServer) async throws -> T
) async throws -> T {
    let (server, catalog, audit, logger) = try makeTestServer(
        models: models, configure: configure, authenticator: authenticator, registry: registry)
    let group = ServiceGroup(services: [server], logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let port = await server.boundPort()
        var tls = TLSConfiguration.makeClientConfiguration()
        if let pem = server.selfSignedCertificatePEM {
            tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem)])
        }
        clientTLS?(&tls)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        let live = LiveServer(server: server, port: port, client: client, catalog: catalog, audit: audit, group: group)
        do {
            let value = try await body(live)
            try await client.shutdown()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return value
        } catch {
            try? await client.shutdown()
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}
