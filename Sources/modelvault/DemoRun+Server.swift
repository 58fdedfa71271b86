import AsyncHTTPClient
import Foundation
import Logging
import MLCore
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle
import Vault
import VaultServer
import VaultServing

/// The demo's serving step: the real server in-process on loopback with TLS, driven over HTTPS.
extension DemoRun {
    func serveAndInfer(_ state: inout DemoState) async throws {
        let access = try state.requireAccess()
        guard let (logistic, bcTest) = state.logistic, let (cnn, digitsTest) = state.cnn else {
            throw DemoFailure("the trained models are missing")
        }
        var configuration = VaultServerConfiguration()
        configuration.port = 0
        configuration.transport = .selfSigned()
        configuration.catalogPollInterval = .milliseconds(500)
        var logger = Logger(label: "modelvault.demo.server")
        logger.logLevel = .error
        let server = try ModelServer(
            configuration: configuration, catalog: VaultModelCatalog(access: access, logger: logger),
            authenticator: VaultTokenAuthenticator(access: access), audit: VaultRequestAuditor(access: access),
            registry: VaultRegistry(access: access), logger: logger)
        let group = ServiceGroup(services: [server], logger: logger)
        let tokens = state.tokens
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let port = await server.boundPort()
                guard port != 0, let pem = server.selfSignedCertificatePEM else {
                    throw DemoFailure("the server did not start")
                }
                say("  listening on https://127.0.0.1:\(port) (TLS 1.2+, self-signed P-256 certificate)")
                say("  certificate SHA-256 fingerprint \(server.certificateFingerprint?.prefix(23) ?? "?")…")
                say("  models verified (signature + digests) and decrypted into memory only")
                var tls = TLSConfiguration.makeClientConfiguration()
                tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem)])
                let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
                do {
                    let https = DemoHTTPS(client: client, base: "https://127.0.0.1:\(port)")
                    try await inferOverHTTPS(
                        https, tokens: tokens, logistic: (logistic, bcTest), cnn: (cnn, digitsTest))
                    try await client.shutdown()
                } catch {
                    try? await client.shutdown()
                    throw error
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                say("  server shut down gracefully")
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    private func inferOverHTTPS(
        _ https: DemoHTTPS, tokens: [String: String], logistic: (TrainedModel, Dataset), cnn: (TrainedModel, Dataset)
    ) async throws {
        let mel = tokens["mel"]
        guard try await https.eventuallyReady("breast-cancer-logistic", token: mel),
            try await https.eventuallyReady("digits-cnn", token: mel)
        else { throw DemoFailure("the production models did not become ready") }
        for (name, (model, test)) in [("breast-cancer-logistic", logistic), ("digits-cnn", cnn)] {
            let count = min(test.count, 100)
            let width = test.featureNames.count
            let rows = (0..<count).map { Array(test.features.scalars[($0 * width)..<(($0 + 1) * width)]) }
            let response = try await https.infer(name, rows: rows, token: mel)
            guard response.status == 200 else { throw DemoFailure("mel's inference got HTTP \(response.status)") }
            let classes = try DemoHTTPS.classes(in: response.body)
            let expected = try model.predict(rows: rows).map(\.classIndex)
            guard classes == expected else { throw DemoFailure("served classes differ from local predictions") }
            let correct = zip(classes, test.labels.prefix(count)).filter { $0 == $1 }.count
            say(
                "  mel (ML engineer) → POST /v2/models/\(name)/infer, \(count) rows: HTTP 200, "
                    + "\(correct)/\(count) correct, identical to local predict (request \(response.requestID.prefix(8))…)"
            )
        }
        let row = [Array(logistic.1.features.scalars[0..<logistic.1.featureNames.count])]
        let anonymous = try await https.infer("breast-cancer-logistic", rows: row, token: nil)
        guard anonymous.status == 401 else { throw DemoFailure("no token got HTTP \(anonymous.status), not 401") }
        say("  no token → HTTP 401 \(DemoHTTPS.error(in: anonymous.body))")
        let forbidden = try await https.infer("breast-cancer-logistic", rows: row, token: tokens["cora"])
        guard forbidden.status == 403 else { throw DemoFailure("cora got HTTP \(forbidden.status), not 403") }
        say("  cora (compliance officer) → HTTP 403 \(DemoHTTPS.error(in: forbidden.body))")
        let oversized = try await https.infer(
            "breast-cancer-logistic", rows: Array(repeating: row[0], count: 3), token: mel, shapeOverride: [3, 29])
        guard oversized.status == 400 else { throw DemoFailure("a malformed tensor got HTTP \(oversized.status)") }
        say("  a tensor of the wrong shape → HTTP 400 \(DemoHTTPS.error(in: oversized.body))")
        say("  every request above is in the audit log with principal, route, outcome, address and request id")
    }
}

/// A tiny HTTPS client for the demo's requests.
struct DemoHTTPS {
    let client: HTTPClient
    let base: String

    struct Response {
        var status: Int
        var body: String
        var requestID: String
    }

    func send(_ method: HTTPMethod, _ path: String, token: String?, body: String? = nil) async throws -> Response {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Response(
            status: Int(response.status.code), body: String(buffer: bytes),
            requestID: response.headers.first(name: "X-Request-ID") ?? "")
    }

    func infer(_ model: String, rows: [[Float]], token: String?, shapeOverride: [Int]? = nil) async throws -> Response {
        let shape = shapeOverride ?? [rows.count, rows.first?.count ?? 0]
        let data = rows.flatMap { $0 }.map { "\($0)" }.joined(separator: ",")
        let body =
            #"{"inputs":[{"name":"input","datatype":"FP32","shape":[\#(shape.map(String.init).joined(separator: ","))],"data":[\#(data)]}]}"#
        return try await send(.POST, "/v2/models/\(model)/infer", token: token, body: body)
    }

    func eventuallyReady(_ model: String, token: String?) async throws -> Bool {
        for _ in 0..<100 {
            if try await send(.GET, "/v2/models/\(model)/ready", token: token).status == 200 { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    static func classes(in body: String) throws -> [Int] {
        guard let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let outputs = json["outputs"] as? [[String: Any]],
            let output = outputs.first(where: { $0["name"] as? String == "class" }),
            let data = output["data"] as? [NSNumber]
        else { throw DemoFailure("the inference response has no class output") }
        return data.map { $0.intValue }
    }

    static func error(in body: String) -> String {
        guard let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let message = json["error"] as? String
        else { return "" }
        return "(\"\(message)\")"
    }
}
