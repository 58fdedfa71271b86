import ArgumentParser
import Foundation
import Logging
import Vault
import VaultClient
import VaultCrypto
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

            With --bundle (what `modelvault deploy` sets up), the server runs from a serving bundle instead of the \
            vault: it needs only the per-deployment identity (--deployment-identity), never the vault passphrase, \
            master identity or signing key. It checks the bundle's signature against --signer-fingerprint, the \
            identity, each version's signed manifest and every decrypted file's digest before serving; only \
            health, metadata, inference, private inference and metrics are answered (every /v1 registry route is \
            404), and requests are audited in the log at --audit-log.
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
    @Option(help: "Serve from this serving bundle (written by `modelvault deploy`) instead of the vault; read-only.")
    var bundle: String?
    @Option(
        name: .customLong("deployment-identity"),
        help: "With --bundle: the per-deployment age identity file the bundle was made for (0400 or 0600).")
    var deploymentIdentity: String?
    @Option(
        name: .customLong("signer-fingerprint"),
        help: "With --bundle: the SHA-256 fingerprint of the vault signing key the bundle must be signed with.")
    var signerFingerprint: String?
    @Option(
        name: .customLong("audit-log"),
        help: "With --bundle: the writable directory of the pod's own append-only audit log.")
    var auditLog: String?
    @Option(
        name: .customLong("min-bundle-serial"),
        help: "With --bundle: refuse a bundle whose serial is older (superseded, or made for a revoked identity).")
    var minBundleSerial = 0
    @Option(
        name: .customLong("audit-server"),
        help: """
            With --bundle: also forward every audit entry to this vault server's log (POST /v1/audit/entries), \
            trusting --ca-file; entries wait in bounded memory and are retried with backoff.
            """)
    var auditServer: String?
    @Option(
        name: .customLong("audit-token-file"),
        help: "With --audit-server: the file (0400 or 0600) holding the pod's token, whose role is audit-writer.")
    var auditTokenFile: String?
    @Option(
        name: .customLong("audit-buffer"),
        help: "With --audit-server: entries held while the vault is unreachable; further ones are dropped (counted).")
    var auditBuffer = 10_000
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
        let bundleOptions = [deploymentIdentity, signerFingerprint, auditLog]
        if bundle != nil {
            guard bundleOptions.allSatisfy({ $0 != nil }) else {
                throw ValidationError("--bundle needs --deployment-identity, --signer-fingerprint and --audit-log")
            }
            guard models == nil else { throw ValidationError("--bundle serves the bundle's models; drop --models") }
        } else if bundleOptions.contains(where: { $0 != nil }) {
            throw ValidationError("--deployment-identity, --signer-fingerprint and --audit-log go with --bundle")
        }
        if (auditServer == nil) != (auditTokenFile == nil) {
            throw ValidationError("--audit-server and --audit-token-file go together")
        }
        if auditServer != nil, bundle == nil { throw ValidationError("--audit-server goes with --bundle") }
        guard auditBuffer > 0 else { throw ValidationError("--audit-buffer must be positive") }
        if minBundleSerial != 0, bundle == nil { throw ValidationError("--min-bundle-serial goes with --bundle") }
        guard minBundleSerial >= 0 else { throw ValidationError("--min-bundle-serial must not be negative") }
        let timeouts = [headerTimeout, bodyTimeout, idleTimeout]
        guard rateLimit > 0, rateLimit.isFinite, (burst ?? 1) > 0, maxBody > 0, maxInferences > 0,
            maxConnections > 0, timeouts.allSatisfy({ $0 > 0 && $0 <= 86_400 })
        else {
            throw ValidationError("limits must be positive")
        }
    }

    func run() async throws {
        // A server reuses its transfer buffers (the process-wide heap choice is the executable's, not a library's).
        HeapTuning.reuseTransferBuffers()
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
        if servingOnly || bundle != nil { configuration.routes = .servingOnly }
        // Refuse a bad configuration, or a port another process holds, before the passphrase is asked for.
        try configuration.validate()
        try PortCheck.requireFree(host: host, port: port)
        if let bundle {
            try await serveBundle(at: bundle, configuration: configuration)
            return
        }
        let selections = try models.map { list in
            try list.split(separator: ",").map { try ModelSelection(parsing: String($0)) }
        }

        progress("unlocking the vault...")
        let secret = try options.unlockSecret()
        let access = try await VaultAccess.open(
            try Vault.open(at: options.root, unlockingWith: secret), checkpointInterval: 256,
            highWaterMark: .standard, witnessConnector: HTTPSWitnessTransport.connector, cosignEvery: .seconds(10))
        // Kept in memory (never in the environment) so `POST /v1/keys/rotate` needs no passphrase from a client.
        let rotationPassphrase: String? =
            switch secret {
            case .passphrase(let passphrase): passphrase
            case .passphrases(let list): list.first
            case .identities: nil
            }
        let server = try ModelServer(
            configuration: configuration,
            catalog: VaultModelCatalog(access: access, selections: selections, allowUnscanned: allowUnscanned),
            authenticator: VaultTokenAuthenticator(access: access), audit: VaultRequestAuditor(access: access),
            registry: servingOnly ? nil : VaultRegistry(access: access, rotationPassphrase: rotationPassphrase))
        if let fingerprint = server.certificateFingerprint {
            FileHandle.standardOutput.write(Data("certificate SHA-256 fingerprint: \(fingerprint)\n".utf8))
        }
        do {
            try await run(server, configuration: configuration)
        } catch {
            try? await access.close()
            throw error
        }
        // Sign a final checkpoint over everything served.
        try await access.close()
    }

    /// Runs `server` until a signal, printing where it listens.
    private func run(_ server: ModelServer, configuration: VaultServerConfiguration) async throws {
        let scheme = configuration.usesTLS ? "https" : "http"
        let host = host
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.runUntilSignalled() }
            group.addTask {
                let bound = await server.boundPort()
                guard bound != 0 else { return }
                FileHandle.standardOutput.write(Data("listening on \(scheme)://\(host):\(bound)\n".utf8))
            }
            try await group.waitForAll()
        }
    }

    /// Serving-only from a bundle: no vault, no passphrase, no registry.
    private func serveBundle(at path: String, configuration: VaultServerConfiguration) async throws {
        guard let deploymentIdentity, let signerFingerprint, let auditLog else { return }
        do {
            try SecretFile.checkPermissions(deploymentIdentity)
        } catch {
            guard error == .secretFilePermissions else {
                throw CLIError("serve: cannot read the deployment identity file", status: .notFound)
            }
            throw CLIError(
                "serve: the deployment identity file must not be readable by others (chmod 400)", status: .denied)
        }
        guard let identity = try? String(contentsOf: URL(fileURLWithPath: deploymentIdentity), encoding: .utf8) else {
            throw CLIError("serve: cannot read the deployment identity file", status: .notFound)
        }
        progress("checking the serving bundle...")
        let opened: ServingBundle
        do {
            opened = try ServingBundle.open(
                at: URL(fileURLWithPath: path), identity: identity, expectedSigner: signerFingerprint,
                minimumSerial: minBundleSerial)
        } catch let error as VaultError {
            throw CLIError("serve: the bundle was refused: \(error)", status: .integrity)
        }
        var audit = try BundleAuditLog(
            directory: URL(fileURLWithPath: auditLog), deployment: opened.deployment, identity: identity)
        // With --audit-server the local log stays the durable, fail-closed copy and every entry is also queued for
        // the vault's log, which the pod cannot rewrite.
        let forwarding = try auditForwarding()
        if let forwarding {
            let forwarder = forwarding.forwarder
            audit.forward = { entry in await forwarder.enqueue(BundleAuditLog.appendRequest(for: entry)) }
            audit.metrics = { await forwarder.metricLines() }
        }
        let catalog = BundleModelCatalog(bundle: opened, allowUnscanned: allowUnscanned)
        for model in opened.models {
            let served = try await catalog.currentModels().contains {
                if case .verified(let m) = $0 { m.name == model.name } else { false }
            }
            try await audit.recordLoad(of: model, served: served)
        }
        let server = try ModelServer(
            configuration: configuration, catalog: catalog, authenticator: BundleTokenAuthenticator(bundle: opened),
            audit: audit, registry: nil)
        if let fingerprint = server.certificateFingerprint {
            FileHandle.standardOutput.write(Data("certificate SHA-256 fingerprint: \(fingerprint)\n".utf8))
        }
        do {
            if let forwarding {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await VaultClient.with(forwarding.client) { client in
                            await forwarding.forwarder.run(client: client)
                        }
                    }
                    try await run(server, configuration: configuration)
                    await forwarding.forwarder.stop()
                    try await group.waitForAll()
                }
            } else {
                try await run(server, configuration: configuration)
            }
        } catch {
            try? await audit.log.close()
            throw error
        }
        try await audit.log.close()
    }

    /// The forwarder to the vault's audit log and its client settings, with --audit-server.
    private func auditForwarding() throws -> (forwarder: AuditForwarder, client: VaultClientConfiguration)? {
        guard let auditServer, let auditTokenFile else { return nil }
        do {
            try SecretFile.checkPermissions(auditTokenFile)
        } catch {
            guard error == .secretFilePermissions else {
                throw CLIError("serve: cannot read the audit token file", status: .notFound)
            }
            throw CLIError("serve: the audit token file must not be readable by others (chmod 400)", status: .denied)
        }
        let token = String(decoding: try CLIFiles.read(auditTokenFile, what: "audit token file"), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var pem: String?
        if let path = options.remote.caPath {
            pem = String(decoding: try CLIFiles.read(path, what: "CA file"), as: UTF8.self)
        }
        do {
            var client = try VaultClientConfiguration(server: auditServer, trustedCertificatesPEM: pem, token: token)
            // An append is small: a vault that does not answer within seconds is retried later, and a stalled one
            // never holds the pod past its 30 s grace period: the drain ends 5 s after SIGTERM, and the client's
            // connect timeout follows this 5 s (SIGTERM to exit measured at 6.0 s against a TLS tarpit, 7.6 s
            // against a TCP one).
            client.timeout = .seconds(5)
            return (AuditForwarder(capacity: auditBuffer, attemptTimeout: .seconds(5)), client)
        } catch let error as VaultClientError {
            throw CLIError("serve: --audit-server: \(error.message)", status: .usage)
        }
    }
}
