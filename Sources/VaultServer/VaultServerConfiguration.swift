public import Foundation

/// Everything `modelvault serve` can set; defaults are the defaults.
public struct VaultServerConfiguration: Sendable {
    /// How the listening socket is secured.
    public enum Transport: Sendable, Equatable {
        /// TLS with a certificate chain and private key read from PEM files.
        case tls(certificatePath: String, privateKeyPath: String)
        /// TLS with a fresh self-signed P-256 certificate; its PEM is written to `certificateOutputPath`
        /// if given, so clients can trust it.
        case selfSigned(certificateOutputPath: String? = nil)
        /// Plain HTTP; refused unless `host` is a loopback address.
        case insecureHTTP
    }

    /// A token-bucket rate limit: per client address before authentication (charged for each failed
    /// authentication), per principal after it.
    public struct RateLimit: Sendable, Equatable {
        /// Sustained requests per second.
        public var requestsPerSecond: Double
        /// Bucket capacity: the largest burst allowed after a quiet period.
        public var burst: Int

        /// Creates a limit; `burst` defaults to one second's worth of requests (at least 1).
        public init(requestsPerSecond: Double, burst: Int? = nil) {
            self.requestsPerSecond = requestsPerSecond
            self.burst = burst ?? max(1, Int(requestsPerSecond.rounded(.up)))
        }
    }

    /// Which routes the server answers.
    public enum Routes: Sendable, Equatable {
        /// Inference, health, metrics and the `/v1` registry API.
        case all
        /// Only what a serving pod needs: health, server and model metadata, inference (plain and private) and
        /// metrics. Every `/v1` registry route (push, pull, alias moves, datasets, audit export, reports, the OpenAPI
        /// document) answers 404, whatever the token, so a compromised pod cannot sign, push or promote through it.
        case servingOnly
    }

    /// Which routes the server answers; `.servingOnly` for a deployment that only serves models.
    public var routes: Routes = .all
    /// The address to bind; default loopback.
    public var host: String = "127.0.0.1"
    /// The port to bind; 0 picks an ephemeral port (see `VaultServer.boundPort()`).
    public var port: Int = 8443
    /// TLS or plain HTTP.
    public var transport: Transport = .selfSigned()
    /// PEM file of CA certificates; when set, clients must present a certificate issued by one (mutual TLS).
    public var clientCAPath: String?
    /// The largest request body accepted (413 beyond); default 64 MiB.
    public var maxBodySize: Int = 64 << 20
    /// The most bytes one file-stream upload (`/v1/.../upload`) may carry, headers included: 1 TiB unless
    /// `MODELVAULT_MAX_STAGED_BYTES` (a positive byte count) sets it, the same cap as the vault's staging.
    public var maxStreamBytes: Int64 = VaultServerConfiguration.streamLimit(
        ProcessInfo.processInfo.environment["MODELVAULT_MAX_STAGED_BYTES"])
    /// Where uploads and downloads are staged (private `0700` directories, removed after the request);
    /// `nil` for the system temporary directory.
    public var stagingDirectory: URL?
    /// The most server-side ML jobs (train, evaluate, predict) one principal may run at once; more answer 429.
    public var maxJobsPerPrincipal: Int = 2
    /// The request rate limit (429 beyond): per principal once authenticated; per client address for requests
    /// that fail authentication, checked before a token is looked at.
    public var rateLimit = RateLimit(requestsPerSecond: 100, burst: 200)
    /// One bucket shared by all clients for open and unknown routes (health probes, the OpenAPI document,
    /// 404s), on top of each client address's `rateLimit`: addresses are cheap to vary (a whole IPv6 /64 is
    /// keyed as one, but there are many /64s).
    public var openRouteRateLimit = RateLimit(requestsPerSecond: 1000, burst: 2000)
    /// Failed authentications are audited once per client address and window of this length (the rest are
    /// counted in metrics), so a flood costs one durable entry per window, not one per request.
    public var authFailureAuditWindow: Duration = .seconds(60)
    /// The per-token rate limit of `POST /v1/models/{name}/private-infer`, on top of `rateLimit`: every answer
    /// reveals scores of chosen rows (scores of F + 1 rows determine a linear model), so it is much lower.
    public var privateInferenceRateLimit = RateLimit(requestsPerSecond: 1, burst: 10)
    /// How long one request may take before the server answers 503.
    public var requestTimeout: Duration = .seconds(30)
    /// How long requests in flight may still run after SIGTERM or SIGINT (the server accepts no new connection
    /// meanwhile); then their connections are closed. Well under Kubernetes' 30 s termination grace period, so a
    /// trickled request body cannot hold the pod past it until the request timeout (review 5, F7).
    public var shutdownDrainTimeout: Duration = .seconds(5)
    /// How many inferences may run at once; more are refused with 503 and `Retry-After`.
    public var maxConcurrentInferences: Int = 64
    /// How many private (CKKS) inferences may run at once, each on its own thread off Swift's cooperative pool; more
    /// are refused with 503 and `Retry-After`. One can take seconds of CPU, so the default leaves a core free.
    public var maxConcurrentPrivateInferences: Int = max(1, ProcessInfo.processInfo.activeProcessorCount - 1)
    /// How long a connection may take from being accepted to a complete first request head (this covers the TLS
    /// handshake): a client that connects and sends nothing, or trickles its headers, is cut off.
    public var headerReadTimeout: Duration = .seconds(10)
    /// How long a request body may take to arrive once its head is read: a trickled body is cut off.
    public var bodyReadTimeout: Duration = .seconds(60)
    /// How long a kept-alive connection may wait between requests. Bytes that do not complete a request head do
    /// not count as activity.
    public var idleTimeout: Duration = .seconds(60)
    /// The most connections served at once; further connections wait in the listen backlog, unaccepted, until
    /// one closes.
    public var maxConnections: Int = 512
    /// How often the model catalog is polled for alias moves and new versions.
    public var catalogPollInterval: Duration = .seconds(2)
    /// The server name reported by `GET /v2`.
    public var serverName: String = "modelvault"
    /// The server version reported by `GET /v2`.
    public var serverVersion: String = BuildInfo.currentVersion
    /// What the server was built from, reported by `GET /v2` (`build`) and the `modelvault_build_info` metric.
    public var buildInfo: BuildInfo = .current

    /// Creates the default configuration.
    public init() {}

    /// Whether `host` names a loopback address (127.0.0.0/8, ::1 or localhost).
    public var hostIsLoopback: Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { UInt8($0) != nil }
    }

    /// Whether the server speaks TLS.
    public var usesTLS: Bool { transport != .insecureHTTP }

    /// Checks the settings that do not need files: loopback-only plain HTTP and positive limits.
    public func validate() throws {
        if transport == .insecureHTTP && !hostIsLoopback { throw VaultServerError.insecureHTTPNotOnLoopback }
        if transport == .insecureHTTP && clientCAPath != nil { throw VaultServerError.invalidConfiguration }
        guard (0...65535).contains(port), maxBodySize > 0, rateLimit.requestsPerSecond > 0, rateLimit.burst > 0,
            openRouteRateLimit.requestsPerSecond > 0, openRouteRateLimit.burst > 0,
            requestTimeout > .zero, shutdownDrainTimeout > .zero, maxConcurrentInferences > 0,
            maxConcurrentPrivateInferences > 0,
            catalogPollInterval > .zero,
            headerReadTimeout > .zero, bodyReadTimeout > .zero, idleTimeout > .zero, maxConnections > 0
        else { throw VaultServerError.invalidConfiguration }
    }
}
