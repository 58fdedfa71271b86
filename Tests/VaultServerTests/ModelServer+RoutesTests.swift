import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

@testable import VaultServer

/// One request per protected route, with the action it needs.
struct RouteCase: CustomTestStringConvertible, Sendable {
    var method: HTTPMethod
    var path: String
    var body: String?
    var action: ServerAction
    var success: Int
    var testDescription: String { "\(method.rawValue) \(path)" }

    static let inferBody = #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}"#

    static let all: [RouteCase] = [
        RouteCase(method: .GET, path: "/v2", action: .readServerMetadata, success: 200),
        RouteCase(method: .GET, path: "/v2/models/iris", action: .readModelMetadata, success: 200),
        RouteCase(method: .GET, path: "/v2/models/iris/versions/1", action: .readModelMetadata, success: 200),
        RouteCase(method: .GET, path: "/v2/models/iris/ready", action: .readModelMetadata, success: 200),
        RouteCase(method: .GET, path: "/v2/models/iris/versions/1/ready", action: .readModelMetadata, success: 200),
        RouteCase(method: .POST, path: "/v2/models/iris/infer", body: inferBody, action: .infer, success: 200),
        RouteCase(
            method: .POST, path: "/v2/models/iris/versions/1/infer", body: inferBody, action: .infer, success: 200),
        RouteCase(method: .GET, path: "/metrics", action: .readMetrics, success: 200),
        RouteCase(method: .GET, path: "/v1/models", action: .listModels, success: 200),
        RouteCase(method: .GET, path: "/v1/models/iris", action: .showModel, success: 200),
        RouteCase(
            method: .POST, path: "/v1/models/iris/versions", body: #"{"files":{"model.safetensors":"AAEC"}}"#,
            action: .pushModel, success: 201),
        RouteCase(
            method: .POST, path: "/v1/models/iris/versions/1/pull", body: #"{"recipient":"age1example"}"#,
            action: .pullModel, success: 200),
        RouteCase(
            method: .PUT, path: "/v1/models/iris/aliases/staging", body: #"{"version":"1"}"#, action: .moveAlias,
            success: 200),
        RouteCase(method: .GET, path: "/v1/datasets", action: .listDatasets, success: 200),
        RouteCase(method: .GET, path: "/v1/datasets/flowers", action: .showDataset, success: 200),
        RouteCase(method: .GET, path: "/v1/audit", action: .exportAudit, success: 200),
        RouteCase(method: .GET, path: "/v1/report?format=md", action: .readReport, success: 200),
    ]
}

/// Every route through the in-process application (HummingbirdTesting): authorisation, audit, limits, codecs.
@Suite struct ModelServerRoutesTests {
    static let admin = "admin-token-0123456789"
    static let engineer = "engineer-token-0123456789"
    static let auditor = "auditor-token-0123456789"

    @Test(arguments: RouteCase.all)
    func routeRefusesMissingAndWrongTokensAndMissingPermission(_ route: RouteCase) async throws {
        let none = TableAuthenticator(grants: ["limited-token-0123456789": ("dave", [])])
        let only = TableAuthenticator(grants: ["limited-token-0123456789": ("dave", [route.action])])
        let body = route.body.map { Array($0.utf8) }
        try await withServer(authenticator: none) { live in
            let missing = try await live.send(route.method, route.path, body: body)
            #expect(missing.status == 401)
            #expect(missing.headers.first(name: "WWW-Authenticate")?.hasPrefix("Bearer") == true)
            #expect(try live.json(missing.body)["error"] as? String == "missing or invalid bearer token")
            let wrong = try await live.send(route.method, route.path, token: "not-a-token", body: body)
            #expect(wrong.status == 401)
            let forbidden = try await live.send(route.method, route.path, token: "limited-token-0123456789", body: body)
            #expect(forbidden.status == 403)
            #expect(try live.json(forbidden.body)["error"] as? String == "permission denied")
            let records = await live.audit.records
            // The two failed authentications come from one client in one window: one durable entry.
            #expect(records.map(\.status) == [401, 403])
            #expect(records.last?.principal == "dave")
            #expect(records.allSatisfy { $0.action == route.action })
        }
        try await withServer(authenticator: only) { live in
            let allowed = try await live.send(route.method, route.path, token: "limited-token-0123456789", body: body)
            #expect(allowed.status == route.success)
            let requestID = try #require(allowed.headers.first(name: "X-Request-ID"))
            let record = try #require(await live.audit.records.last)
            #expect(record.requestID == requestID)
            #expect(record.principal == "dave")
            #expect(record.status == route.success)
        }
    }

    @Test func healthRoutesAreOpenAndResponsesCarrySecurityHeaders() async throws {
        try await withServer { live in
            for path in ["/v2/health/live", "/v2/health/ready", "/v1/openapi.json"] {
                let response = try await live.send(.GET, path)
                #expect(response.status == 200, "\(path)")
                #expect(response.headers.first(name: "Strict-Transport-Security")?.contains("max-age=") == true)
                #expect(response.headers.first(name: "X-Content-Type-Options") == "nosniff")
                #expect(response.headers.first(name: "Cache-Control") == "no-store")
                #expect(response.headers.first(name: "X-Request-ID")?.count == 36)
            }
            let unknown = try await live.send(.GET, "/v2/nothing/here", token: Self.admin)
            #expect(unknown.status == 404)
            #expect(try live.json(unknown.body)["error"] != nil)
            let wrongMethod = try await live.send(.DELETE, "/v2/models/iris", token: Self.admin)
            #expect(wrongMethod.status == 405)
        }
    }

    @Test func serverAndModelMetadataDescribeTheModel() async throws {
        try await withServer { live in
            let server = try live.json(try await live.send(.GET, "/v2", token: Self.engineer).body)
            #expect(server["name"] as? String == "modelvault")
            #expect((server["extensions"] as? [String])?.contains("binary_tensor_data") == true)
            // Issue #19: the build information rides along.
            let build = try #require(server["build"] as? [String: Any])
            #expect(build["version"] as? String == BuildInfo.currentVersion)
            #expect((build["toolchain"] as? String)?.hasPrefix("Swift") == true)
            #expect(build["commit"] is String && build["buildDate"] is String && build["dependencies"] is [String: Any])
            let metrics = String(decoding: try await live.send(.GET, "/metrics", token: Self.admin).body, as: UTF8.self)
            #expect(metrics.contains("modelvault_build_info{"), "\(metrics.prefix(200))")
            let metadata = try live.json(try await live.send(.GET, "/v2/models/iris", token: Self.engineer).body)
            #expect(metadata["name"] as? String == "iris")
            #expect(metadata["versions"] as? [String] == ["1"])
            let inputs = try #require(metadata["inputs"] as? [[String: Any]])
            #expect(inputs.first?["name"] as? String == "input")
            #expect(inputs.first?["datatype"] as? String == "FP32")
            #expect(inputs.first?["shape"] as? [Int] == [-1, 4])
            let outputs = try #require(metadata["outputs"] as? [[String: Any]])
            #expect(outputs.map { $0["name"] as? String } == ["scores", "label"])
        }
    }

    @Test func jsonAndBinaryInferenceMatchTheModel() async throws {
        let model = LinearModel.make()
        let rows: [Float] = [1, 2, 3, 4, -1, 0.5, 0, 2]
        let expected = try model.infer(["input": Tensor(shape: [2, 4], scalars: rows)])
        try await withServer { live in
            let json =
                #"{"id":"a","inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[1,2,3,4,-1,0.5,0,2]}]}"#
            let response = try await live.send(
                .POST, "/v2/models/iris/infer", token: Self.engineer, body: Array(json.utf8))
            #expect(response.status == 200)
            #expect(response.headers.first(name: "Content-Type") == "application/json")
            let outputs = try #require(try live.json(response.body)["outputs"] as? [[String: Any]])
            let scores = try #require(outputs.first { $0["name"] as? String == "scores" })
            #expect((scores["data"] as? [Double])?.map { Float($0) } == expected["scores"]?.scalars)
            #expect(scores["shape"] as? [Int] == [2, 3])

            let header =
                #"{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","parameters":{"binary_data_size":32}}],"outputs":[{"name":"scores","parameters":{"binary_data":true}}]}"#
            let binary = InferenceCodecTests.littleEndian(rows)
            let binaryResponse = try await live.send(
                .POST, "/v2/models/iris/infer", token: Self.engineer,
                headers: [
                    ("Inference-Header-Content-Length", String(header.utf8.count)),
                    ("Content-Type", "application/octet-stream"),
                ],
                body: Array(header.utf8) + binary)
            #expect(binaryResponse.status == 200)
            let length = try #require(
                binaryResponse.headers.first(name: "Inference-Header-Content-Length").flatMap { Int($0) })
            let responseHeader = try live.json(Array(binaryResponse.body[..<length]))
            #expect((responseHeader["outputs"] as? [[String: Any]])?.count == 1)
            #expect(
                Array(binaryResponse.body[length...]) == InferenceCodecTests.littleEndian(expected["scores"]!.scalars))
        }
    }

    @Test func wrongDatatypeOrShapeIsA400WithAnErrorBody() async throws {
        try await withServer { live in
            for body in [
                #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"BYTES","data":[1,2,3,4]}]}"#,
                #"{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}"#,
                #"{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[1,2,3,4]}]}"#,
            ] {
                let response = try await live.send(
                    .POST, "/v2/models/iris/infer", token: Self.engineer, body: Array(body.utf8))
                #expect(response.status == 400)
                let message = try #require(try live.json(response.body)["error"] as? String)
                #expect(message.contains("input 'input'"))
            }
            let inferences = await live.audit.records.filter { $0.route == "/v2/models/{model}/infer" }
            #expect(inferences.map(\.outcome) == ["rejected", "rejected", "rejected"])
        }
    }

    @Test func oversizedBodyIsA413() async throws {
        try await withServer(configure: { $0.maxBodySize = 4096 }) { live in
            let big = Array(repeating: UInt8(ascii: " "), count: 8192)
            let response = try await live.send(.POST, "/v2/models/iris/infer", token: Self.engineer, body: big)
            #expect(response.status == 413)
            #expect(try live.json(response.body)["error"] as? String == "request body too large")
        }
    }

    @Test func burstOverTheRateLimitIsA429WithRetryAfter() async throws {
        try await withServer(configure: { $0.rateLimit = .init(requestsPerSecond: 0.001, burst: 3) }) { live in
            for _ in 0..<3 { #expect(try await live.send(.GET, "/v2", token: Self.engineer).status == 200) }
            let limited = try await live.send(.GET, "/v2", token: Self.engineer)
            #expect(limited.status == 429)
            #expect(limited.headers.first(name: "Retry-After").flatMap { Int($0) } ?? 0 >= 1)
            // Another token has its own bucket.
            #expect(try await live.send(.GET, "/v2", token: Self.admin).status == 200)
            let metrics = try await live.send(.GET, "/metrics", token: Self.admin)
            #expect(String(decoding: metrics.body, as: UTF8.self).contains("modelvault_rate_limited_total 1"))
        }
    }

    @Test func unverifiedModelVersionIsNotServed() async throws {
        let models: [CatalogEntry] = [
            .unverified(name: "tampered", version: "1"), .verified(LinearModel.make()),
        ]
        try await withServer(models: models) { live in
            for path in ["/v2/models/tampered", "/v2/models/tampered/ready", "/v2/models/tampered/versions/1"] {
                #expect(try await live.send(.GET, path, token: Self.admin).status == 404)
            }
            let infer = try await live.send(
                .POST, "/v2/models/tampered/infer", token: Self.admin, body: Array(RouteCase.inferBody.utf8))
            #expect(infer.status == 404)
            #expect(try await live.send(.GET, "/v2/models/iris/ready", token: Self.admin).status == 200)
        }
    }

    @Test func aliasMoveIsServedWithoutRestart() async throws {
        let first = LinearModel.make(version: "1")
        let second = LinearModel.make(version: "2", scale: -3)
        try await withServer(models: [.verified(first)]) { live in
            let body = Array(RouteCase.inferBody.utf8)
            let before = try live.json(
                try await live.send(.POST, "/v2/models/iris/infer", token: Self.engineer, body: body).body)
            #expect(before["model_version"] as? String == "1")
            await live.catalog.set([.verified(second), .verified(first)])
            var version: String?
            for _ in 0..<50 {
                let metadata = try live.json(try await live.send(.GET, "/v2/models/iris", token: Self.engineer).body)
                version = (metadata["versions"] as? [String])?.first
                if version == "2" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(version == "2")
            let after = try live.json(
                try await live.send(.POST, "/v2/models/iris/infer", token: Self.engineer, body: body).body)
            #expect(after["model_version"] as? String == "2")
            let expected = try second.infer(["input": Tensor(shape: [1, 4], scalars: [1, 2, 3, 4])])["scores"]!.scalars
            let scores = (after["outputs"] as? [[String: Any]])?.first { $0["name"] as? String == "scores" }
            #expect((scores?["data"] as? [Double])?.map { Float($0) } == expected)
            // The previous version stays reachable by number while the catalog lists it.
            #expect(try await live.send(.GET, "/v2/models/iris/versions/1/ready", token: Self.engineer).status == 200)
        }
    }

    @Test func auditFailureFailsClosed() async throws {
        try await withServer { live in
            await live.audit.setFailing(true)
            let response = try await live.send(.GET, "/v2", token: Self.engineer)
            #expect(response.status == 503)
            #expect(try live.json(response.body)["error"] as? String == "audit log unavailable")
        }
    }

    @Test func metricsCountRequestsInferencesAndAuthFailures() async throws {
        try await withServer { live in
            _ = try await live.send(
                .POST, "/v2/models/iris/infer", token: Self.engineer, body: Array(RouteCase.inferBody.utf8))
            _ = try await live.send(.GET, "/v2")
            _ = try await live.send(.GET, "/metrics", token: Self.engineer)
            let text = String(decoding: try await live.send(.GET, "/metrics", token: Self.admin).body, as: UTF8.self)
            #expect(text.contains(#"modelvault_inferences_total{model="iris",version="1"} 1"#))
            #expect(text.contains(#"modelvault_auth_failures_total{kind="unauthenticated"} 1"#))
            #expect(text.contains(#"modelvault_auth_failures_total{kind="forbidden"} 1"#))
            #expect(text.contains(#"route="/v2/models/{model}/infer""#))
            #expect(text.contains("modelvault_http_request_duration_seconds_bucket"))
            #expect(!text.contains("engineer-token"))
        }
    }

    @Test func errorsDoNotLeakTokensOrPaths() async throws {
        try await withServer { live in
            let response = try await live.send(.GET, "/v1/models/unknown", token: Self.admin)
            #expect(response.status == 404)
            let text = String(decoding: response.body, as: UTF8.self)
            #expect(!text.contains(Self.admin) && !text.contains("/"))
        }
    }
}
