import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import Testing

@testable import VaultServer

/// The whole application driven in process through HummingbirdTesting: the same gateway, routes, limits, audit
/// and catalog poller as a live server, without a socket or TLS. Tests whose subject is not TLS use this.
struct InProcessServer: Sendable {
    let client: any TestClientProtocol
    let catalog: MutableCatalog
    let audit: RecordingAudit

    /// Sends a request; returns status, headers and body, like `LiveServer.send`.
    func send(
        _ method: NIOHTTP1.HTTPMethod, _ path: String, token: String? = nil, headers: [(String, String)] = [],
        body: [UInt8]? = nil
    ) async throws -> (status: Int, headers: HTTPHeaders, body: [UInt8]) {
        var fields = HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        for (name, value) in headers {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        let response = try await client.execute(
            uri: path, method: HTTPRequest.Method(rawValue: method.rawValue)!, headers: fields,
            body: body.map { ByteBuffer(bytes: $0) })
        var converted = HTTPHeaders()
        for field in response.headers { converted.add(name: field.name.rawName, value: field.value) }
        return (response.status.code, converted, Array(response.body.readableBytesView))
    }

    func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }
}

/// Builds the server's application with `ModelServer.makeApplication()` and runs `body` against it in process.
@discardableResult
func withServer<T: Sendable>(
    models: [CatalogEntry] = [.verified(LinearModel.make())],
    configure: (inout VaultServerConfiguration) -> Void = { _ in },
    authenticator: any Authenticator = TableAuthenticator.standard,
    registry: (any RegistryBackend)? = MemoryRegistry(),
    _ body: @Sendable (InProcessServer) async throws -> T
) async throws -> T {
    let (server, catalog, audit, _) = try makeTestServer(
        models: models, configure: configure, authenticator: authenticator, registry: registry)
    let application = try await server.makeApplication()
    return try await application.test(.router) { client in
        try await body(InProcessServer(client: client, catalog: catalog, audit: audit))
    }
}
