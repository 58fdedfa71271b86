import ArgumentParser
import Foundation
import Logging
import Vault
import VaultServer
import VaultServing

/// `modelvault serve`: the TLS inference and registry server over an unlocked vault.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve verified models over TLS: Open Inference Protocol v2 and the /v1 registry API.",
        discussion: """
            Unlocks the vault (MODELVAULT_IDENTITY_FILE, else the passphrase), loads each served model version \
            after checking its signature and digests, decrypts it into memory only, and answers requests that \
            carry `Authorization: Bearer TOKEN` with the vault's tokens and role matrix. Every request is \
            recorded in the audit log. Alias moves are picked up within seconds. SIGTERM or SIGINT shuts down \
            gracefully. SIGHUP reloads --tls-cert and --tls-key for new connections (open ones keep theirs); \
            a certificate or key that cannot be read or does not match is refused and the old pair kept. \
            The key file must not be readable by others or writable by anyone but its owner (0400).
            """)

    @OptionGroup var options: VaultOptions

    @Option(help: "The address to bind; plain HTTP is only allowed on loopback.") var host = "127.0.0.1"
    @Option(help: "The port to bind (0 picks a free one).") var port = 8443
    @Option(name: .customLong("tls-cert"), help: "The certificate chain, PEM.") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "The certificate's private key, PEM.") var tlsKey: String?
    @Flag(
        name: .customLong("allow-unscanned"),
        help: "Also serve versions stored before the model scanner existed (each load is audited as unscanned).")
    var allowUnscanned = false
    @Flag(name: .customLong("self-signed"), help: "Generate a self-signed certificate (development).")
    var selfSigned = false
    @Option(name: .customLong("cert-out"), help: "With --self-signed: write its certificate here for clients.")
    var certOut: String?
    @Option(name: .customLong("client-ca"), help: "Require client certificates signed by this CA (mutual TLS).")
    var clientCA: String?
    @Flag(name: .customLong("insecure-http"), help: "Plain HTTP, loopback only (development).")
    var insecureHTTP = false
    @Option(name: .customLong("max-body"), help: "The largest request body in bytes (413 above).")
    var maxBody = 64 << 20
    @Option(name: .customLong("rate-limit"), help: "Requests per second per token (429 above).")
    var rateLimit: Double = 100
    @Option(help: "The burst a token may spend at once (default: twice the rate).") var burst: Int?
    @Option(
        name: .customLong("models"),
        help: "NAME[:ALIAS|@VERSION],... to serve (default: every model's production alias).")
    var models: String?
    @Flag(
        name: .customLong("serving-only"),
        help: "Answer only health, metadata, inference, private inference and metrics; every /v1 registry route is 404."
    )
    var servingOnly = false
    @Option(
        name: .customLong("max-inferences"), help: "Inferences run at once; more are refused with 503 and Retry-After.")
    var maxInferences = 64
    @Option(
        name: .customLong("header-timeout"),
        help: "Seconds from accepting a connection to a complete request head (the TLS handshake included).")
    var headerTimeout: Double = 10
    @Option(name: .customLong("body-timeout"), help: "Seconds a request body may take to arrive.")
    var bodyTimeout: Double = 60
    @Option(name: .customLong("idle-timeout"), help: "Seconds a kept-alive connection may wait between requests.")
    var idleTimeout: Double = 60
    @Option(
        name: .customLong("max-connections"),
        help: "Connections served at once; further ones stay unaccepted in the listen backlog until one closes.")
    var maxConnections = 512
    @Option(
        name: .customLong("log-level"),
        help:
            "trace, debug, info (a line per request), notice, warning, error or critical; the audit log is kept either way."
    )
    var logLevel = "info"

    func validate() throws {
        let transports = [selfSigned, insecureHTTP, tlsCert != nil || tlsKey != nil].filter { $0 }.count
        guard transports == 1 else {
            throw ValidationError("choose one of --tls-cert/--tls-key, --self-signed or --insecure-http")
        }
        if tlsCert != nil || tlsKey != nil, tlsCert == nil || tlsKey == nil {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        if certOut != nil && !selfSigned { throw ValidationError("--cert-out needs --self-signed") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level") }
        let timeouts = [headerTimeout, bodyTimeout, idleTimeout]
        guard rateLimit > 0, rateLimit.isFinite, (burst ?? 1) > 0, maxBody > 0, maxInferences > 0,
            maxConnections > 0, timeouts.allSatisfy({ $0 > 0 && $0 <= 86_400 })
        else {
            throw ValidationError("limits must be positive")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var configuration = VaultServerConfiguration()
        configuration.host = host
        configuration.port = port
        if let tlsCert, let tlsKey {
            configuration.transport = .tls(certificatePath: tlsCert, privateKeyPath: tlsKey)
        } else if insecureHTTP {
            configuration.transport = .insecureHTTP
        } else {
            configuration.transport = .selfSigned(certificateOutputPath: certOut)
        }
        configuration.clientCAPath = clientCA
        configuration.maxBodySize = maxBody
        configuration.rateLimit = .init(requestsPerSecond: rateLimit, burst: burst ?? max(1, Int(rateLimit * 2)))
        configuration.maxConcurrentInferences = maxInferences
        configuration.headerReadTimeout = .milliseconds(Int64(headerTimeout * 1000))
        configuration.bodyReadTimeout = .milliseconds(Int64(bodyTimeout * 1000))
        configuration.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
        configuration.maxConnections = maxConnections
        if servingOnly { configuration.routes = .servingOnly }
        // Refuse a bad configuration, or a port another process holds, before the passphrase is asked for.
        try configuration.validate()
        try PortCheck.requireFree(host: host, port: port)
        let selections = try models.map { list in
            try list.split(separator: ",").map { try ModelSelection(parsing: String($0)) }
        }

        progress("unlocking the vault...")
        let access = try await VaultAccess.open(
            try options.unlock(), checkpointInterval: 256, highWaterMark: .standard)
        let server = try ModelServer(
            configuration: configuration,
            catalog: VaultModelCatalog(access: access, selections: selections, allowUnscanned: allowUnscanned),
            authenticator: VaultTokenAuthenticator(access: access), audit: VaultRequestAuditor(access: access),
            registry: servingOnly ? nil : VaultRegistry(access: access))
        if let fingerprint = server.certificateFingerprint {
            FileHandle.standardOutput.write(Data("certificate SHA-256 fingerprint: \(fingerprint)\n".utf8))
        }
        let scheme = configuration.usesTLS ? "https" : "http"
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.runUntilSignalled() }
                group.addTask {
                    let bound = await server.boundPort()
                    guard bound != 0 else { return }
                    FileHandle.standardOutput.write(Data("listening on \(scheme)://\(host):\(bound)\n".utf8))
                }
                try await group.waitForAll()
            }
        } catch {
            try? await access.close()
            throw error
        }
        // Sign a final checkpoint over everything served.
        try await access.close()
    }
}
