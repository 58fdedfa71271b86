import Foundation
import Testing

@testable import Homomorphic
@testable import VaultServer

/// A served model answering CKKS private inference with the Homomorphic endpoint, as the vault's served models do.
struct PrivateLinearModel: PrivatelyServedModel {
    let name = "scorer"
    let version = "1"
    let platform = "test_private"
    let endpoint: PrivateInferenceEndpoint
    var inputs: [TensorMetadata] { [TensorMetadata(name: "input", shape: [-1, 4])] }
    var outputs: [TensorMetadata] { [TensorMetadata(name: "score", shape: [-1])] }

    func infer(_ inputs: [String: VaultServer.Tensor]) throws -> [String: VaultServer.Tensor] { [:] }

    func privateInfer(_ request: [UInt8]) throws -> [UInt8] {
        do {
            return try endpoint.respond(to: request)
        } catch let error as HEError {
            throw PrivateInferenceRefused(error.description)
        }
    }

    static let weights = try! Homomorphic.LinearModel(weights: [[0.5, -1, 0.25, 2]], bias: [0.125])

    /// Only n8192-d2 allowed, so a request on n8192-d3 is refused.
    static func make() throws -> PrivateLinearModel {
        let policy = PrivateInferencePolicy(
            allowing: [try CKKSParameters.named("n8192-d2")!.parameters()], weightNormBound: 2.5)
        return PrivateLinearModel(endpoint: try PrivateInferenceEndpoint(model: .linear(weights), policy: policy))
    }
}

/// `POST /v1/models/{name}/private-infer`, in process: the same gateway, permission matrix and limits as the
/// other routes, the query checks of `PrivateInferencePolicy`, and its own rate limit.
@Suite struct ModelServerPrivateInferenceTests {
    static let d2 = try! CKKSContext(parameters: CKKSParameters.named("n8192-d2")!.parameters())
    static let admin = "admin-token-0123456789"

    static func request(
        rows: [[Double]], context: CKKSContext = d2, client: PrivateInferenceClient? = nil
    ) throws -> (PrivateInferenceClient, [UInt8]) {
        let client = client ?? PrivateInferenceClient(context: context)
        let query = try client.encrypt(rows: rows, packing: .coefficientRows)
        let request = PrivateInferenceRequest(
            context: context, keys: client.evaluationKeys(for: .coefficientRows), query: query)
        return (client, request.serialized())
    }

    @Test func scoresEncryptedRowsWithoutTheRegistryAndRefusesBadQueries() async throws {
        let model = try PrivateLinearModel.make()
        try await withServer(models: [.verified(model)], registry: nil) { (server: InProcessServer) in
            let rows: [[Double]] = [[1, 2, 3, 4], [-1, 0.5, 0, 2]]
            let (client, body) = try Self.request(rows: rows)
            let path = "/v1/models/scorer/private-infer"
            let answer = try await server.send(.POST, path, token: Self.admin, body: body)
            #expect(answer.status == 200)
            #expect(answer.headers.first(name: "content-type") == "application/octet-stream")
            let scores = try client.decrypt(Self.d2.deserializeResult(answer.body))
            let tolerance = model.endpoint.policy.linearScoreError + 1e-6
            for (row, x) in zip(scores, rows) {
                #expect(abs(row[0] - PrivateLinearModel.weights.scores(x)[0]) < tolerance)
            }
            // Serving only: the registry routes are absent, private inference is not.
            #expect(try await server.send(.GET, "/v1/models", token: Self.admin).status == 404)
            // No token, or a role without model.private-infer.
            #expect(try await server.send(.POST, path, body: body).status == 401)
            #expect(try await server.send(.POST, path, token: "engineer-token-0123456789", body: body).status == 403)
            // The crafted query of issue #19 (c0 = 0, c1 = a constant; unseeded on the wire).
            let honest = try client.encrypt(rows: [rows[0]], packing: .coefficientRows).ciphertexts[0]
            var crafted = honest
            crafted.polys[0] = RNSPoly(degree: 8192, count: honest.level + 1)
            crafted.polys[1] = RNSPoly(degree: 8192, count: honest.level + 1)
            for i in 0...honest.level {
                for k in 0..<8192 { crafted.polys[1].data[i * 8192 + k] = Self.d2.moduli[i].reduce(1 << 40) }
            }
            crafted.seed = nil
            let craftedRequest = PrivateInferenceRequest(
                context: Self.d2, keys: client.evaluationKeys(for: .coefficientRows),
                query: EncryptedQuery(packing: .coefficientRows, rowCount: 1, featureCount: 4, ciphertexts: [crafted]))
            let refused = try await server.send(.POST, path, token: Self.admin, body: craftedRequest.serialized())
            #expect(refused.status == 400)
            let message = try server.json(refused.body)["error"] as? String
            #expect(message == "private-inference query refused: not a fresh seeded ciphertext")
            // A parameter set the owner did not allow (n8192-d3 for this model).
            let d3 = try CKKSContext(parameters: CKKSParameters.named("n8192-d3")!.parameters())
            let (_, other) = try Self.request(rows: rows, context: d3)
            let wrong = try await server.send(.POST, path, token: Self.admin, body: other)
            #expect(wrong.status == 400)
            #expect(
                try server.json(wrong.body)["error"] as? String
                    == "the query's CKKS parameters are not allowed for this model")
            // Garbage and a model that does not exist.
            #expect(try await server.send(.POST, path, token: Self.admin, body: [1, 2, 3]).status == 400)
            #expect(
                try await server.send(.POST, "/v1/models/nope/private-infer", token: Self.admin, body: body).status
                    == 404)
        }
    }

    @Test func hasItsOwnRateLimit() async throws {
        let model = try PrivateLinearModel.make()
        try await withServer(
            models: [.verified(model)],
            configure: { $0.privateInferenceRateLimit = .init(requestsPerSecond: 0.01, burst: 2) }
        ) { (server: InProcessServer) in
            let (_, body) = try Self.request(rows: [[1, 2, 3, 4]])
            let path = "/v1/models/scorer/private-infer"
            #expect(try await server.send(.POST, path, token: Self.admin, body: body).status == 200)
            #expect(try await server.send(.POST, path, token: Self.admin, body: body).status == 200)
            let limited = try await server.send(.POST, path, token: Self.admin, body: body)
            #expect(limited.status == 429)
            #expect(limited.headers.first(name: "retry-after") != nil)
            // The general limit is untouched: other routes still answer.
            #expect(try await server.send(.GET, "/v2/health/ready").status == 200)
        }
    }

    /// Review 5 F4: an evaluation runs off the cooperative pool, at most `maxConcurrentPrivateInferences` at
    /// once. While one is running (blocked inside the model), a health probe answers and a second private
    /// inference is refused with 503 instead of taking another thread.
    @Test func concurrentPrivateInferencesAreCappedAndProbesStillAnswer() async throws {
        let model = BlockingPrivateModel()
        try await withServer(
            models: [.verified(model)], configure: { $0.maxConcurrentPrivateInferences = 1 }
        ) { (server: InProcessServer) in
            let path = "/v1/models/blocking/private-infer"
            let first = Task { try await server.send(.POST, path, token: Self.admin, body: [1, 2, 3]).status }
            while model.entered.wait(timeout: .now()) == .timedOut { try await Task.sleep(for: .milliseconds(10)) }
            #expect(try await server.send(.GET, "/v2/health/live").status == 200)
            let second = try await server.send(.POST, path, token: Self.admin, body: [1, 2, 3])
            #expect(second.status == 503)
            model.release.signal()
            #expect(try await first.value == 200)
        }
    }
}

/// A private model whose evaluation blocks until released, to hold an evaluation slot.
struct BlockingPrivateModel: PrivatelyServedModel {
    let name = "blocking"
    let version = "1"
    let platform = "test_private"
    let entered = DispatchSemaphore(value: 0)
    let release = DispatchSemaphore(value: 0)
    var inputs: [TensorMetadata] { [TensorMetadata(name: "input", shape: [-1, 4])] }
    var outputs: [TensorMetadata] { [TensorMetadata(name: "score", shape: [-1])] }

    func infer(_ inputs: [String: VaultServer.Tensor]) throws -> [String: VaultServer.Tensor] { [:] }

    func privateInfer(_ request: [UInt8]) throws -> [UInt8] {
        entered.signal()
        release.wait()
        return request
    }
}
