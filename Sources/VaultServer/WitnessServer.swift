public import Foundation
import HTTPTypes
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOCore
public import ServiceLifecycle

/// The HTTP face of a C2SP tlog-witness (`modelvault witness serve`): one route, `POST /add-checkpoint`, over TLS
/// with the same transport, timeouts and connection limit as the model server. The witness logic (checking the
/// consistency proof against the latest cosigned head, persisting it, cosigning) is the `handler`'s; this type only
/// frames HTTP, so it does not depend on the audit log module.
public struct WitnessServer: Service {
    /// What the handler answers: status, `Content-Type` and body.
    public struct Reply: Sendable {
        /// The HTTP status code.
        public var status: Int
        /// The `Content-Type` (`text/x.tlog.size` for a 409, as the spec requires).
        public var contentType: String
        /// The body.
        public var body: Data

        /// Creates a reply.
        public init(status: Int, contentType: String, body: Data) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    /// The largest request body: a checkpoint note and at most 63 proof lines fit in a few KiB.
    public static let maxBodySize = 64 << 10

    let configuration: VaultServerConfiguration
    let tls: ServerTLS?
    let handler: @Sendable (Data) async -> Reply
    let logger: Logger
    let status = ServerStatus()

    /// The SHA-256 fingerprint of the self-signed certificate, when one was generated.
    public var certificateFingerprint: String? { tls?.selfSigned?.fingerprint }

    /// A witness server on `configuration`'s host, port and transport (TLS unless plain HTTP on loopback).
    public init(
        configuration: VaultServerConfiguration, logger: Logger = Logger(label: "modelvault.witness"),
        handler: @escaping @Sendable (Data) async -> Reply
    ) throws {
        try configuration.validate()
        self.configuration = configuration
        self.tls = try configuration.makeTLS()
        self.handler = handler
        self.logger = logger
    }

    /// The port listened on, once listening (0 if the server stopped before).
    public func boundPort() async -> Int { await status.port() }

    /// Serves until cancelled or gracefully shut down.
    public func run() async throws {
        do {
            try await makeApplication().run()
        } catch {
            await status.stopped()
            throw error
        }
        await status.stopped()
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully.
    public func runUntilSignalled() async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: self)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The application (router and transport), not started.
    public func makeApplication() throws -> some ApplicationProtocol {
        let router = Router()
        let handler = self.handler
        router.post("add-checkpoint") { request, _ -> Response in
            guard let body = try? await request.body.collect(upTo: Self.maxBodySize) else {
                return Self.response(Reply(status: 413, contentType: "text/plain", body: Data("body too large\n".utf8)))
            }
            return Self.response(await handler(Data(buffer: body)))
        }
        let http1 = ModelServer.http1(configuration)
        var server = http1
        if let tls { server = try .tls(http1, tlsConfiguration: tls.configuration) }
        let status = self.status
        let port = configuration.port
        return Application(
            router: router, server: server,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: port),
                availableConnectionsDelegate: .maximum(configuration.maxConnections, logger: logger)),
            onServerRunning: { channel in await status.started(port: channel.localAddress?.port ?? port) },
            logger: logger)
    }

    static func response(_ reply: Reply) -> Response {
        Response(
            status: HTTPResponse.Status(code: reply.status),
            headers: [.contentType: reply.contentType],
            body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
    }

    /// A self-signed certificate kept in `directory` across restarts (so clients that pinned its CA keep working):
    /// `tls-cert.pem`, `tls-key.pem` (0600) and `tls-ca.pem` (what clients trust), made on first use for `host` and
    /// valid for a year. Returns the three paths.
    public static func persistentSelfSignedCertificate(
        in directory: URL, host: String
    ) throws -> (certificate: String, privateKey: String, authority: String) {
        let certificate = directory.appending(path: "tls-cert.pem").path(percentEncoded: false)
        let key = directory.appending(path: "tls-key.pem").path(percentEncoded: false)
        let authority = directory.appending(path: "tls-ca.pem").path(percentEncoded: false)
        let files = FileManager.default
        if files.fileExists(atPath: certificate), files.fileExists(atPath: key), files.fileExists(atPath: authority) {
            return (certificate, key, authority)
        }
        let generated = try SelfSignedCertificate.generate(host: host, validity: .seconds(365 * 86_400))
        guard
            files.createFile(
                atPath: key, contents: Data(generated.privateKeyPEM.utf8), attributes: [.posixPermissions: 0o600]),
            files.createFile(
                atPath: certificate, contents: Data(generated.certificatePEM.utf8),
                attributes: [.posixPermissions: 0o644])
        else { throw VaultServerError.certificateGenerationFailed }
        try generated.writeCertificate(to: authority)
        return (certificate, key, authority)
    }
}
