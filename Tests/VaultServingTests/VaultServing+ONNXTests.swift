import Foundation
import TestSupport
import Testing
import Vault
import VaultServer
import VaultServing

/// ONNX versions served over the Open Inference Protocol: metadata from the graph, inputs validated against
/// it, outputs named and typed as in the graph, request-sized work bounded, unsupported graphs never served.
@Suite(.serialized) struct VaultServingONNXTests {
    static func push(_ fixture: ServingFixture, _ name: String, _ bytes: [UInt8]) async throws {
        let session = try await fixture.adminSession()
        let info = try await session.pushModel(name, from: .files(["model.onnx": Data(bytes)]))
        try await session.setAlias("production", to: ModelReference(name: name, selector: .version(info.version)))
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func metadataComesFromTheGraphAndOutputsKeepTheirNamesAndDatatypes() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await Self.push(fixture, "linear", TestONNXModels.linearClassifier)
        let token = fixture.tokens[.mlEngineer]!
        try await withVaultApplication(fixture) { server in
            #expect(
                try await eventually {
                    try await server.send(.GET, "/v2/models/linear/ready", token: token).status == 200
                })
            let metadata = try Self.json(try await server.send(.GET, "/v2/models/linear", token: token).body)
            #expect(metadata["platform"] as? String == "onnx")
            let inputs = try #require(metadata["inputs"] as? [[String: Any]])
            #expect(inputs.map { $0["name"] as? String } == ["input"])
            #expect(inputs.first?["datatype"] as? String == "FP32")
            #expect(inputs.first?["shape"] as? [Int] == [-1, 2])
            let outputs = try #require(metadata["outputs"] as? [[String: Any]])
            #expect(outputs.map { $0["name"] as? String } == ["probabilities", "label"])
            #expect(outputs.map { $0["datatype"] as? String } == ["FP32", "INT64"])
            #expect(outputs.map { $0["shape"] as? [Int] } == [[-1, 2], [-1]])

            let rows: [[Float]] = [[1, 2], [3, -4], [-0.5, 0.25]]
            let response = try await server.send(
                .POST, "/v2/models/linear/infer", token: token, body: inferenceBody(rows: rows))
            #expect(response.status == 200, "\(response.body)")
            let result = try Self.json(response.body)
            let served = try #require(result["outputs"] as? [[String: Any]])
            let expected = TestONNXModels.linearClassifierOutputs(rows)
            let label = try #require(served.first { $0["name"] as? String == "label" })
            #expect(label["datatype"] as? String == "INT64")
            #expect((label["data"] as? [Int]) == expected.labels)
            let probabilities = try #require(served.first { $0["name"] as? String == "probabilities" })
            #expect(probabilities["shape"] as? [Int] == [3, 2])
            let values = try #require(probabilities["data"] as? [Double])
            for (got, want) in zip(values, expected.probabilities.flatMap { $0 }) {
                #expect(abs(got - Double(want)) <= 1e-6)
            }

            // Inputs are checked against the graph's metadata before the model runs.
            let wrongShape = try await server.send(
                .POST, "/v2/models/linear/infer", token: token,
                body: #"{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3],"data":[1,2,3]}]}"#)
            #expect(wrongShape.status == 400)
            let wrongType = try await server.send(
                .POST, "/v2/models/linear/infer", token: token,
                body: #"{"inputs":[{"name":"input","datatype":"BOOL","shape":[1,2],"data":[true,false]}]}"#)
            #expect(wrongType.status == 400)
        }
    }

    /// Attack: a request that makes the graph allocate without bound (a shape taken from request data) is a
    /// clear 400 naming the allocation cap, not a crash or an out-of-memory kill.
    @Test func aRequestSizedAllocationOverTheCapIsAClientError() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await Self.push(fixture, "fill", TestONNXModels.requestSizedAllocation)
        let token = fixture.tokens[.mlEngineer]!
        try await withVaultApplication(fixture) { server in
            #expect(
                try await eventually {
                    try await server.send(.GET, "/v2/models/fill/ready", token: token).status == 200
                })
            let small = try await server.send(
                .POST, "/v2/models/fill/infer", token: token,
                body: #"{"inputs":[{"name":"n","datatype":"INT64","shape":[1],"data":[3]}]}"#)
            #expect(small.status == 200, "\(small.body)")
            #expect(small.body.contains(#""shape":[3]"#))
            let huge = try await server.send(
                .POST, "/v2/models/fill/infer", token: token,
                body: #"{"inputs":[{"name":"n","datatype":"INT64","shape":[1],"data":[4000000000000]}]}"#)
            #expect(huge.status == 400)
            #expect(huge.body.contains("allocation cap"), "\(huge.body)")
        }
    }

    /// A version whose graph uses an unsupported operator (pushed past the CLI's check through the API) is
    /// refused when the server loads it and never answers requests.
    @Test func anUnsupportedGraphIsRefusedAtLoadNotAtRequestTime() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        try await Self.push(fixture, "einsum", TestONNXModels.unsupportedOperator)
        try await Self.push(fixture, "linear", TestONNXModels.linearClassifier)
        let token = fixture.tokens[.mlEngineer]!
        try await withVaultApplication(fixture) { server in
            #expect(
                try await eventually {
                    try await server.send(.GET, "/v2/models/linear/ready", token: token).status == 200
                })
            #expect(try await server.send(.GET, "/v2/models/einsum/ready", token: token).status != 200)
            let response = try await server.send(
                .POST, "/v2/models/einsum/infer", token: token,
                body: #"{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1,2]}]}"#)
            #expect(response.status != 200)
        }
    }
}
