import AccessControl
import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import MLCore
import NIOCore
import NIOHTTP1
import NIOSSL
import SampleData
import ServiceLifecycle
import Testing
import Vault
import VaultServer
import VaultServing

/// A fresh vault with one principal per persona, each with a token, plus helpers to train and push models.
struct ServingFixture {
    let root: URL
    let access: VaultAccess
    /// Role → a token of a principal holding that role globally.
    let tokens: [Role: String]

    /// The vault's passphrase (a server unlocked with it may rotate keys for a remote admin).
    static let passphrase = "correct horse battery staple"

    static func make() async throws -> ServingFixture {
        let root = FileManager.default.temporaryDirectory.appending(path: "serving-\(UUID().uuidString)")
        let vault = try Vault.create(at: root, passphrase: passphrase)
        let access = try await VaultAccess.open(vault, checkpointInterval: 64)
        let admin = try await access.bootstrap(admin: "admin")
        let session = try await access.authenticate(token: admin.token)
        var tokens: [Role: String] = [.admin: admin.token]
        for role in Role.allCases where role != .admin {
            let name = "user-\(role.rawValue)"
            try await session.addPrincipal(name, binding: RoleBinding(role: role))
            tokens[role] = try await session.createToken(for: name).token
        }
        return ServingFixture(root: root, access: access, tokens: tokens)
    }

    func adminSession() async throws -> VaultSession {
        try await access.authenticate(token: tokens[.admin]!)
    }

    /// Trains on a shipped data set and pushes the model, pointing `alias` at it.
    @discardableResult
    func push(
        _ name: String, kind: ModelKind = .logistic, data: URL = SampleData.breastCancerCSV, label: String = "benign",
        epochs: Int = 40, seed: UInt64 = 7, alias: String? = "production"
    ) async throws -> (model: TrainedModel, info: ModelVersionInfo, dataset: Dataset) {
        let dataset = try Dataset.csv(Data(contentsOf: data), label: label)
        var options = TrainingOptions(kind: kind)
        options.epochs = epochs
        options.seed = seed
        if kind == .cnn { options.imageShape = ImageShape(height: 8, width: 8, channels: 1) }
        let trained = try Trainer.train(dataset, options: options).model
        let session = try await adminSession()
        let info = try await session.pushModel(name, from: .files(try trained.files()))
        if let alias {
            try await session.setAlias(alias, to: ModelReference(name: name, selector: .version(info.version)))
        }
        return (trained, info, dataset)
    }

    func remove() async {
        try? await access.close()
        try? FileManager.default.removeItem(at: root)
    }
}

/// A running server over the fixture's vault, with an HTTPS client that trusts its self-signed certificate.
struct LiveModelServer {
    let server: ModelServer
    let port: Int
    let client: HTTPClient

    var base: String { "https://127.0.0.1:\(port)" }

    /// Sends a request; returns status, headers and body text.
    func send(
        _ method: HTTPMethod, _ path: String, token: String?, body: String? = nil
    ) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(120))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), response.headers, String(buffer: bytes))
    }
}

extension ServingFixture {
    /// `ModelServer` over this vault: its catalog, token authenticator, request auditor and registry.
    func makeServer(
        selections: [ModelSelection]?, configure: (inout VaultServerConfiguration) -> Void = { _ in }
    ) throws -> (server: ModelServer, logger: Logger) {
        var configuration = VaultServerConfiguration()
        configuration.port = 0
        configuration.catalogPollInterval = .milliseconds(200)
        configure(&configuration)
        var logger = Logger(label: "test.serving")
        logger.logLevel = .critical
        let server = try ModelServer(
            configuration: configuration,
            catalog: VaultModelCatalog(access: access, selections: selections, logger: logger),
            authenticator: VaultTokenAuthenticator(access: access, cacheLifetime: .milliseconds(200)),
            audit: VaultRequestAuditor(access: access), registry: VaultRegistry(access: access), logger: logger)
        return (server, logger)
    }
}

/// Starts `ModelServer` with the vault-backed catalog, authenticator, auditor and registry on an ephemeral port.
///
/// `configure` adjusts the server's configuration (e.g. a client CA); `clientTLS` the client's TLS (e.g. its
/// certificate), after it was made to trust the server's.
func withVaultServer<T>(
    _ fixture: ServingFixture, selections: [ModelSelection]? = nil,
    configure: (inout VaultServerConfiguration) -> Void = { _ in },
    clientTLS: (inout TLSConfiguration) throws -> Void = { _ in },
    _ body: (LiveModelServer) async throws -> T
) async throws -> T {
    let (server, logger) = try fixture.makeServer(selections: selections, configure: configure)
    let group = ServiceGroup(services: [server], logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let port = await server.boundPort()
        try #require(port != 0, "the server did not start")
        var tls = TLSConfiguration.makeClientConfiguration()
        let pem = try #require(server.selfSignedCertificatePEM)
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem)])
        try clientTLS(&tls)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        let live = LiveModelServer(server: server, port: port, client: client)
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

/// Waits up to `seconds` for `condition`.
func eventually(seconds: Double = 10, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return try await condition()
}

/// The JSON body of an OIP v2 inference request with one FP32 input.
func inferenceBody(rows: [[Float]]) -> String {
    let data = rows.flatMap { $0 }.map { String($0) }.joined(separator: ",")
    return
        #"{"inputs":[{"name":"input","datatype":"FP32","shape":[\#(rows.count),\#(rows.first?.count ?? 0)],"data":[\#(data)]}]}"#
}

/// Rows of a dataset's raw features.
func rows(of dataset: Dataset, _ range: Range<Int>) -> [[Float]] {
    let width = dataset.featureNames.count
    return range.map { row in Array(dataset.features.scalars[(row * width)..<((row + 1) * width)]) }
}

/// The server's application over the fixture's vault, driven in process (HummingbirdTesting): the same gateway,
/// authenticator, auditor, catalog and registry as `withVaultServer`, without a socket or TLS.
struct InProcessModelServer: Sendable {
    let client: any TestClientProtocol

    /// Sends a request; returns status, headers and body text, like `LiveModelServer.send`.
    func send(
        _ method: HTTPMethod, _ path: String, token: String?, body: String? = nil
    ) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
        var fields = HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        if body != nil { fields[.contentType] = "application/json" }
        let response = try await client.execute(
            uri: path, method: HTTPRequest.Method(rawValue: method.rawValue)!, headers: fields,
            body: body.map { ByteBuffer(string: $0) })
        var headers = HTTPHeaders()
        for field in response.headers { headers.add(name: field.name.rawName, value: field.value) }
        return (response.status.code, headers, String(buffer: response.body))
    }
}

/// Builds `ModelServer`'s application over the fixture's vault and runs `body` against it in process.
func withVaultApplication<T: Sendable>(
    _ fixture: ServingFixture, selections: [ModelSelection]? = nil,
    _ body: @Sendable (InProcessModelServer) async throws -> T
) async throws -> T {
    let (server, _) = try fixture.makeServer(selections: selections)
    return try await server.makeApplication().test(.router) { client in
        try await body(InProcessModelServer(client: client))
    }
}
