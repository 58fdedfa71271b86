import Foundation
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOCore
public import ServiceLifecycle
import UnixSignals

/// The ModelVault inference and registry server: Open Inference Protocol v2 over TLS, bearer-token
/// authorisation, audit, rate limits and Prometheus metrics. Run it as a ServiceLifecycle `Service`, or with
/// `ModelServer.run(...)`, which also shuts down gracefully on SIGTERM and SIGINT. Tests drive the same
/// application in process with `makeApplication()` and HummingbirdTesting.
///
/// ```swift
/// let server = try ModelServer(
///     configuration: configuration, catalog: catalog, authenticator: authenticator, audit: audit,
///     registry: registry)
/// if let fingerprint = server.certificateFingerprint { print("SHA-256 fingerprint: \(fingerprint)") }
/// try await server.runUntilSignalled()
/// ```
public struct ModelServer: Service {
    /// The configuration the server was created with.
    public let configuration: VaultServerConfiguration
    /// The SHA-256 fingerprint of the generated (served) leaf certificate (`nil` with a supplied certificate or
    /// plain HTTP).
    public var certificateFingerprint: String? { tls?.selfSigned?.fingerprint }
    /// The PEM of the generated certificate's throwaway CA, for clients to trust (its key was discarded).
    public var selfSignedCertificatePEM: String? { tls?.selfSigned?.trustAnchorPEM }

    let tls: ServerTLS?
    let catalog: any ModelCatalog
    let authenticator: any Authenticator
    let audit: any AuditSink
    let registry: (any RegistryBackend)?
    let logger: Logger
    let status = ServerStatus()

    /// Creates a server: validates the configuration and prepares TLS (reading the certificate and key, or
    /// generating a self-signed certificate and writing its PEM if asked). Nothing listens until `run()`.
    public init(
        configuration: VaultServerConfiguration, catalog: any ModelCatalog, authenticator: any Authenticator,
        audit: any AuditSink, registry: (any RegistryBackend)? = nil,
        logger: Logger = Logger(label: "modelvault.server")
    ) throws {
        try configuration.validate()
        self.configuration = configuration
        self.tls = try configuration.makeTLS()
        self.catalog = catalog
        self.authenticator = authenticator
        self.audit = audit
        self.registry = registry
        self.logger = logger
    }

    /// The port the server listens on, once it is listening (useful with port 0); 0 if the server stopped
    /// before it could listen.
    public func boundPort() async -> Int {
        await status.port()
    }

    /// Loads the models, then serves until cancelled or gracefully shut down (in-flight requests finish).
    public func run() async throws {
        do {
            try await serve()
        } catch {
            await status.stopped()
            throw error
        }
        await status.stopped()
    }

    private func serve() async throws {
        try await makeApplication().run()
    }

    /// Builds the whole application (gateway, routes, model catalog poller, TLS) without starting it: loads the
    /// selected models once, so a catalog that cannot be read fails here rather than at the first request.
    /// `run()` runs it; tests pass it to HummingbirdTesting's `test(.router)` to exercise every route in process,
    /// with the same middleware, limits and audit, and no socket.
    public func makeApplication() async throws -> some ApplicationProtocol {
        // Staging a killed server (SIGKILL) left behind may hold plaintext: removed before serving. Only that of
        // processes that no longer run, so servers sharing the directory keep theirs.
        StagingDirectory.sweepStale(in: configuration.stagingDirectory)
        let state = GatewayState(
            configuration: configuration, authenticator: authenticator, audit: audit,
            limiter: TokenBucketLimiter(
                requestsPerSecond: configuration.rateLimit.requestsPerSecond, burst: configuration.rateLimit.burst),
            openRoutes: TokenBucketLimiter(
                requestsPerSecond: configuration.openRouteRateLimit.requestsPerSecond,
                burst: configuration.openRouteRateLimit.burst),
            failureAudit: FailureAuditWindows(window: configuration.authFailureAuditWindow),
            metrics: ServerMetrics(), logger: logger)
        state.metrics.buildInfo(configuration.buildInfo)
        let table = ServedModelTable()
        let poller = CatalogPoller(
            catalog: catalog, table: table, interval: configuration.catalogPollInterval, metrics: state.metrics,
            logger: logger)
        do {
            try await poller.refresh()
        } catch {
            throw VaultServerError.catalogUnavailable
        }
        let router = Self.makeRouter(
            state: state, table: table, registry: registry,
            gate: InferenceGate(limit: configuration.maxConcurrentInferences))
        let http1 = Self.http1(configuration)
        var server = http1
        if let tls { server = try .tls(http1, tlsConfiguration: tls.configuration) }
        let status = self.status
        let port = configuration.port
        let logger = self.logger
        let scheme = tls == nil ? "http" : "https"
        let host = configuration.host
        return Application(
            router: router, server: server,
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port),
                availableConnectionsDelegate: .maximum(configuration.maxConnections, logger: logger)),
            services: [poller],
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.notice("listening", metadata: ["url": .string("\(scheme)://\(host):\(bound)")])
                await status.started(port: bound)
            },
            logger: logger)
    }

    /// HTTP/1.1 with the connection timeouts: header and body read deadlines, and the idle timeout.
    static func http1(_ configuration: VaultServerConfiguration) -> HTTPServerBuilder {
        let header = configuration.headerReadTimeout
        let body = configuration.bodyReadTimeout
        let (seconds, attoseconds) = configuration.idleTimeout.components
        let idle = TimeAmount.seconds(seconds) + .nanoseconds(attoseconds / 1_000_000_000)
        return .http1(
            configuration: .init(
                additionalChannelHandlers: [
                    ReadTimeoutHandler(headerTimeout: header, bodyTimeout: body), ClientDisconnectHandler(),
                ],
                idleTimeout: idle))
    }

    /// Reads the certificate and key files again and makes new handshakes use them; connections already open
    /// keep theirs. A certificate or key that cannot be read, or a pair that does not match, is refused and the
    /// previous pair stays in use. Does nothing for a self-signed certificate or plain HTTP.
    public func reloadCertificates() throws {
        guard let tls, case .tls(let certificatePath, let privateKeyPath) = configuration.transport else { return }
        let pair = try VaultServerConfiguration.loadKeyPair(
            certificatePath: certificatePath, privateKeyPath: privateKeyPath)
        tls.credentials.replace(with: pair)
    }

    /// Runs the server in a `ServiceGroup` that shuts down gracefully on SIGTERM or SIGINT, and reloads the TLS
    /// certificate and key on SIGHUP. Requests in flight get `shutdownDrainTimeout` to finish; then their
    /// connections are closed and this returns.
    public func runUntilSignalled() async throws {
        try await serviceGroup(gracefulShutdownSignals: [.sigterm, .sigint]).run()
    }

    /// The group `runUntilSignalled()` runs: graceful shutdown (on one of `signals`, or triggered) stops accepting
    /// connections and is escalated to cancellation after `shutdownDrainTimeout`, which closes the connections
    /// still open (review 5, F7: a trickled body used to hold the process until the request timeout).
    func serviceGroup(gracefulShutdownSignals signals: [UnixSignal]) -> ServiceGroup {
        var group = ServiceGroupConfiguration(
            services: [
                .init(service: self),
                .init(service: CertificateReloadOnHangup(server: self), successTerminationBehavior: .ignore),
            ],
            gracefulShutdownSignals: signals, logger: logger)
        group.maximumGracefulShutdownDuration = configuration.shutdownDrainTimeout
        return ServiceGroup(configuration: group)
    }

    /// Creates and runs a server until SIGTERM or SIGINT: the one call `modelvault serve` makes.
    /// `onReady` receives the server before it listens, e.g. to print the certificate fingerprint.
    public static func run(
        configuration: VaultServerConfiguration, catalog: any ModelCatalog, authenticator: any Authenticator,
        audit: any AuditSink, registry: (any RegistryBackend)? = nil,
        logger: Logger = Logger(label: "modelvault.server"), onReady: (ModelServer) -> Void = { _ in }
    ) async throws {
        let server = try ModelServer(
            configuration: configuration, catalog: catalog, authenticator: authenticator, audit: audit,
            registry: registry, logger: logger)
        onReady(server)
        try await server.runUntilSignalled()
    }

    /// Builds the router: the gateway middleware around every route.
    static func makeRouter(
        state: GatewayState, table: ServedModelTable, registry: (any RegistryBackend)?, gate: InferenceGate
    ) -> Router<VaultRequestContext> {
        let router = Router(context: VaultRequestContext.self)
        router.add(middleware: GatewayMiddleware(state: state))
        addRoutes(
            to: TimedRoutes(
                router: router, timeout: state.configuration.requestTimeout,
                enabled: ServerRoute.routes(for: state.configuration.routes)), table: table, gate: gate,
            state: state, registry: registry, openAPIDocument: openAPIDocument())
        return router
    }

    /// The committed OpenAPI document of the `/v1` API.
    static func openAPIDocument() -> ByteBuffer? {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json", subdirectory: "Resources"),
            let data = try? Data(contentsOf: url)
        else { return nil }
        return ByteBuffer(bytes: data)
    }
}

/// Reloads the server's TLS certificate and key on each SIGHUP until graceful shutdown; a failed reload is
/// logged with a fixed text and the previous certificate stays in use.
struct CertificateReloadOnHangup: Service {
    let server: ModelServer

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            do {
                try server.reloadCertificates()
                server.logger.notice("TLS certificate and key reloaded")
            } catch let error as VaultServerError {
                server.logger.error(
                    "TLS certificate reload failed; still serving the previous certificate",
                    metadata: ["reason": .string(error.description)])
            } catch {
                server.logger.error("TLS certificate reload failed; still serving the previous certificate")
            }
        }
    }
}

/// Records the bound port and wakes those waiting for it.
actor ServerStatus {
    private var bound: Int?
    private var waiters: [CheckedContinuation<Int, Never>] = []

    func started(port: Int) {
        bound = port
        for waiter in waiters { waiter.resume(returning: port) }
        waiters = []
    }

    /// Wakes the waiters with 0 if the server never listened.
    func stopped() {
        if bound == nil { started(port: 0) }
    }

    func port() async -> Int {
        if let bound { return bound }
        return await withCheckedContinuation { waiters.append($0) }
    }
}
