public import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
public import VaultServer

/// A client of the ModelVault server's `/v1` API: it holds the caller's token, never a vault key.
///
/// Every request carries the token as a bearer credential over TLS (or plain HTTP to loopback only, see
/// `VaultClientConfiguration`). Redirects are not followed, so the token never travels to a host the caller did not
/// name. Answers held in memory are bounded by `maxResponseBytes`; downloads stream to disk.
public final class VaultClient: Sendable {
    /// The configuration in use.
    public let configuration: VaultClientConfiguration
    let http: HTTPClient

    /// Runs `body` with a client for `configuration`, shutting the client down afterwards.
    public static func with<T: Sendable>(
        _ configuration: VaultClientConfiguration, _ body: (VaultClient) async throws -> T
    ) async throws -> T {
        let client = try VaultClient(configuration)
        do {
            let result = try await body(client)
            try? await client.http.shutdown()
            return result
        } catch {
            try? await client.http.shutdown()
            throw error
        }
    }

    private init(_ configuration: VaultClientConfiguration) throws {
        self.configuration = configuration
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        // Closing waits this long for the server's close_notify (NIOSSL's default is 5 s): a stalled server must not
        // hold a serving pod's shutdown (review 4, F4).
        tls.shutdownTimeout = .seconds(1)
        if let pem = configuration.trustedCertificatesPEM {
            let certificates = (try? NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))) ?? []
            guard !certificates.isEmpty else {
                throw VaultClientError(.invalidInput, "the CA file holds no PEM certificate")
            }
            tls.trustRoots = .certificates(certificates)
        }
        var settings = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow)
        // A connection (TCP and TLS handshake) never waits longer than the whole request may take.
        let connect = min(30, max(1, configuration.timeout.components.seconds))
        settings.timeout = .init(connect: .seconds(connect), read: .seconds(300))
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: settings)
    }

    // MARK: Requests

    /// `/v1/...` with each segment percent-encoded, so a name can never change the path's shape.
    static func path(_ segments: String...) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#;")
        return segments.map { segment in segment.addingPercentEncoding(withAllowedCharacters: allowed) ?? "" }
            .joined(separator: "/")
    }

    /// Sends a request and returns the response when its status is 2xx; otherwise throws the server's error.
    func send(
        _ method: HTTPMethod, _ path: String, query: String? = nil, json body: Data? = nil
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(
            url: configuration.server.absoluteString + path + (query.map { "?" + $0 } ?? ""))
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.token)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return try await execute(request)
    }

    /// Executes a request the caller built (with the token), returning a 2xx response or throwing the server's
    /// error.
    func execute(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(configuration.timeout.components.seconds))
        } catch {
            throw VaultClientError(
                .failure, "cannot reach the server at \(configuration.server.host() ?? "?"): \(Self.describe(error))")
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            let body = (try? await response.body.collect(upTo: 64 << 10)) ?? ByteBuffer()
            throw VaultClientError.answer(status: Int(response.status.code), body: Data(buffer: body))
        }
        return response
    }

    /// The body of a successful answer, at most `maxResponseBytes`.
    func data(_ method: HTTPMethod, _ path: String, query: String? = nil, json body: Data? = nil) async throws -> Data {
        let response = try await send(method, path, query: query, json: body)
        do {
            return Data(buffer: try await response.body.collect(upTo: configuration.maxResponseBytes))
        } catch is NIOTooManyBytesError {
            throw VaultClientError(
                .failure, "the server's answer is larger than \(configuration.maxResponseBytes) bytes")
        } catch {
            throw VaultClientError(.failure, "the server's answer was cut off: \(Self.describe(error))")
        }
    }

    /// Decodes a successful JSON answer.
    func decode<T: Decodable>(
        _ type: T.Type, _ method: HTTPMethod, _ path: String, query: String? = nil, json body: Data? = nil
    ) async throws -> T {
        let data = try await data(method, path, query: query, json: body)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(type, from: data)
        } catch {
            throw VaultClientError(.failure, "the server's answer is not the expected JSON")
        }
    }

    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(value)
    }

    /// A transport error's type and text (AsyncHTTPClient's and NIOSSL's carry no request contents).
    static func describe(_ error: any Error) -> String {
        VaultClientError.printable(String(describing: error))
    }
}

extension VaultClient {
    // MARK: The registry

    /// `GET /v1/models`: the models the caller may see.
    public func listModels() async throws -> [RegistryModelSummary] {
        try await decode([RegistryModelSummary].self, .GET, Self.path("", "v1", "models"))
    }

    /// `GET /v1/models/{model}`: one model's versions and aliases.
    public func showModel(_ name: String) async throws -> RegistryModelDetail {
        try await decode(RegistryModelDetail.self, .GET, Self.path("", "v1", "models", name))
    }

    /// `POST /v1/models/{model}/versions`: stores the files as a new version (the server encrypts and signs).
    public func pushModel(
        _ name: String, files: [String: Data], alias: String? = nil
    ) async throws
        -> RegistryModelVersion
    {
        try await decode(
            RegistryModelVersion.self, .POST, Self.path("", "v1", "models", name, "versions"),
            json: try Self.encode(PushModelRequest(files: files, alias: alias)))
    }

    /// `POST /v1/models/{model}/versions/{version}/pull`: the version (a number or an alias) re-wrapped for
    /// `recipient`.
    /// `decryptedByCaller` tells the server the caller will decrypt the files (then it needs `model.pull`).
    public func pullModel(
        _ name: String, version: String, recipient: String, decryptedByCaller: Bool = false
    ) async throws -> PulledModel {
        try await decode(
            PulledModel.self, .POST, Self.path("", "v1", "models", name, "versions", version, "pull"),
            json: try Self.encode(PullModelRequest(recipient: recipient, decryptedByCaller: decryptedByCaller)))
    }

    /// `PUT /v1/models/{model}/aliases/{alias}`: points the alias at a version.
    public func moveAlias(_ alias: String, ofModel name: String, to version: Int) async throws {
        _ = try await data(
            .PUT, Self.path("", "v1", "models", name, "aliases", alias),
            json: try Self.encode(MoveAliasRequest(version: String(version))))
    }

    /// `GET /v1/models/{model}/versions/{version}`: one version's full record, as JSON (the vault's own
    /// record type); `version` is a number or an alias name.
    public func modelVersionRecord(_ name: String, version: String) async throws -> Data {
        try await data(.GET, Self.path("", "v1", "models", name, "versions", version))
    }

    /// `GET /v1/datasets/{dataset}/versions/{version}`: one dataset version's full record, as JSON.
    public func datasetVersionRecord(_ name: String, version: Int) async throws -> Data {
        try await data(.GET, Self.path("", "v1", "datasets", name, "versions", String(version)))
    }

    /// `POST /v1/models/{model}/versions/{version}/verify`: the server decrypts in memory and checks the signature
    /// and every digest; the version's record (JSON) when they hold. An integrity failure (HTTP 422) is `integrity`.
    public func verifyModel(_ name: String, version: String) async throws -> Data {
        do {
            return try await data(.POST, Self.path("", "v1", "models", name, "versions", version, "verify"))
        } catch let error as VaultClientError where error.httpStatus == 422 {
            throw VaultClientError(.integrity, error.message, httpStatus: 422)
        }
    }

    /// `GET /v1/keys`: the vault's key versions (JSON records).
    public func keyVersions() async throws -> Data {
        try await data(.GET, Self.path("", "v1", "keys"))
    }

    /// `GET /v1/audit/tail?count=N`: the last entries with their indices (JSON).
    public func auditTail(count: Int) async throws -> Data {
        try await data(.GET, Self.path("", "v1", "audit", "tail"), query: "count=\(count)")
    }

    /// `GET /v1/audit/tail?from=I&count=N&wait=S`: up to `count` entries from index `from` on (JSON, oldest first);
    /// the server waits up to `wait` seconds when none is new but the follower's own polls (`audit tail --follow`).
    public func auditTail(from start: UInt64, count: Int, wait: Int) async throws -> Data {
        try await data(
            .GET, Self.path("", "v1", "audit", "tail"), query: "from=\(start)&count=\(count)&wait=\(wait)")
    }

    /// `GET /v1/audit/checkpoint?trusted=SIZE...`: a checkpoint signed now, the key chain, consistency proofs from
    /// each size and the witnesses' cosignatures (JSON), for the client to check against its own trusted checkpoints.
    public func auditCheckpoint(trustedSizes: [UInt64]) async throws -> Data {
        try await data(
            .GET, Self.path("", "v1", "audit", "checkpoint"),
            query: trustedSizes.isEmpty ? nil : trustedSizes.map { "trusted=\($0)" }.joined(separator: "&"))
    }

    /// `GET /v1/datasets`: the datasets the caller may see.
    public func listDatasets() async throws -> [RegistryDataset] {
        try await decode([RegistryDataset].self, .GET, Self.path("", "v1", "datasets"))
    }

    /// `GET /v1/datasets/{dataset}`.
    public func showDataset(_ name: String) async throws -> RegistryDataset {
        try await decode(RegistryDataset.self, .GET, Self.path("", "v1", "datasets", name))
    }

    /// `GET /v1/audit?format=&since=`: the audit log as JSON lines or CSV, entries at or after `since` when given.
    public func exportAudit(csv: Bool = false, since: Date? = nil) async throws -> Data {
        var query = "format=" + (csv ? "csv" : "jsonl")
        if let since {
            let text = AuditExportQuery.text(since)
            query += "&since=" + (text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text)
        }
        return try await data(.GET, Self.path("", "v1", "audit"), query: query)
    }

    /// `DELETE /v1/models/{model}/aliases/{alias}`: removes an alias; the answer names the version it pointed at.
    public func removeAlias(_ alias: String, ofModel name: String) async throws -> Data {
        try await data(.DELETE, Self.path("", "v1", "models", name, "aliases", alias))
    }

    /// `GET /v1/keys/{version}/files`: the files still wrapped for a key version, as a JSON array of paths.
    public func filesWrapped(forKeyVersion version: Int) async throws -> Data {
        try await data(.GET, Self.path("", "v1", "keys", String(version), "files"))
    }

    /// `GET /v1/report?format=`: the compliance report in `format`.
    public func report(format: ReportFormat) async throws -> Data {
        try await data(.GET, Self.path("", "v1", "report"), query: "format=\(format.rawValue)")
    }
}
