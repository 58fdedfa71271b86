import Foundation
import TestSupport
import Testing
import Vault
import VaultServer
import VaultServing

/// ONNX versions whose initializers use external data: the data files are part of the signed version and the
/// server reads them only from the version's own verified files in memory, never from disk or outside the
/// model's folder.
@Suite(.serialized) struct VaultServingONNXExternalDataTests {
    static func push(
        _ fixture: ServingFixture, _ name: String, _ files: [String: Data], accept: [String] = []
    ) async throws {
        let session = try await fixture.adminSession()
        let info = try await session.pushModel(name, from: .files(files), scan: ModelScanOptions(accept: accept))
        try await session.setAlias("production", to: ModelReference(name: name, selector: .version(info.version)))
    }

    /// Attack: versions pushed through the API (past the CLI's check, the scanner's escape finding accepted by an
    /// admin) whose external data escapes the model's folder or reads past its file's end are refused at load;
    /// the honest version beside them is served.
    @Test func externalDataIsServedFromTheVersionsOwnFilesOnly() async throws {
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let weights = Data(TestONNXModels.linearClassifierWeights)
        try await Self.push(
            fixture, "external",
            ["model.onnx": Data(TestONNXModels.linearClassifier(externalAt: "weights.bin")), "weights.bin": weights])
        try await Self.push(
            fixture, "escape",
            [
                "model.onnx": Data(TestONNXModels.linearClassifier(externalAt: "../external/1/weights.bin")),
                "weights.bin": weights,
            ], accept: ["model.onnx#onnx.external-data-escape@-"])
        try await Self.push(
            fixture, "pastend",
            [
                "model.onnx": Data(TestONNXModels.linearClassifier(externalAt: "weights.bin", offset: 8, length: 16)),
                "weights.bin": weights,
            ])
        let token = fixture.tokens[.mlEngineer]!
        try await withVaultApplication(fixture) { server in
            #expect(
                try await eventually {
                    try await server.send(.GET, "/v2/models/external/ready", token: token).status == 200
                })
            let rows: [[Float]] = [[1, 2], [3, -4]]
            let response = try await server.send(
                .POST, "/v2/models/external/infer", token: token, body: inferenceBody(rows: rows))
            #expect(response.status == 200, "\(response.body)")
            let expected = TestONNXModels.linearClassifierOutputs(rows)
            let body = try #require(
                try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
            let outputs = try #require(body["outputs"] as? [[String: Any]])
            #expect(outputs.first { $0["name"] as? String == "label" }?["data"] as? [Int] == expected.labels)
            for name in ["escape", "pastend"] {
                #expect(try await server.send(.GET, "/v2/models/\(name)/ready", token: token).status != 200)
                let refused = try await server.send(
                    .POST, "/v2/models/\(name)/infer", token: token, body: inferenceBody(rows: rows))
                #expect(refused.status != 200)
            }
        }
    }

    static let modules = "onnx, onnxruntime, numpy"

    /// `DIR`: an MLP built with onnx.helper and saved with `save_as_external_data=True` (every initializer in
    /// `DIR/model/weights.bin`), `DIR/rows.json`, and onnxruntime's outputs on them in `DIR/expected.json`.
    static let script = #"""
        import json, os, sys
        import numpy as np, onnx, onnxruntime as ort
        from onnx import helper, numpy_helper, TensorProto
        folder = sys.argv[1]
        rng = np.random.default_rng(0)
        w1 = rng.normal(size=(8, 16)).astype(np.float32)
        b1 = rng.normal(size=(16,)).astype(np.float32)
        w2 = rng.normal(size=(16, 3)).astype(np.float32)
        b2 = rng.normal(size=(3,)).astype(np.float32)
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["input", "w1"], ["h"]), helper.make_node("Add", ["h", "b1"], ["hb"]),
             helper.make_node("Relu", ["hb"], ["r"]), helper.make_node("Gemm", ["r", "w2", "b2"], ["s"]),
             helper.make_node("Softmax", ["s"], ["probabilities"], axis=1)],
            "external_mlp",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 8])],
            [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 3])],
            [numpy_helper.from_array(v, n) for n, v in (("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2))])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        os.makedirs(os.path.join(folder, "model"))
        path = os.path.join(folder, "model", "model.onnx")
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="weights.bin", size_threshold=0)
        assert all(t.data_location == TensorProto.EXTERNAL for t in onnx.load(path, load_external_data=False).graph.initializer)
        rows = rng.normal(size=(5, 8)).astype(np.float32)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        (probabilities,) = session.run(None, {"input": rows})
        json.dump({"rows": rows.tolist(), "probabilities": probabilities.tolist()},
                  open(os.path.join(folder, "expected.json"), "w"))
        """#

    /// A model saved by python onnx with external data, pushed as its directory and served: the outputs agree
    /// with onnxruntime's within rtol 1e-5 + atol 1e-6.
    @Test func aModelSavedWithExternalDataServesOnnxRuntimesOutputs() async throws {
        guard Interop.pythonCanImport(Self.modules) else { try Interop.skipOrFail("python3 with " + Self.modules) }
        let directory = try TemporaryDirectory()
        let result = try ChildProcess.python(Self.script, arguments: [directory.url.path]).run()
        try #require(result.status == 0, "model export failed: \(result.stderr.suffix(2000))")
        let expected = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: directory.url.appending(path: "expected.json")))
                as? [String: Any])
        let rows = try #require(expected["rows"] as? [[Double]]).map { $0.map(Float.init) }
        let probabilities = try #require(expected["probabilities"] as? [[Double]]).flatMap { $0 }

        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let session = try await fixture.adminSession()
        let info = try await session.pushModel("mlp", from: .path(directory.url.appending(path: "model")))
        try await session.setAlias("production", to: ModelReference(name: "mlp", selector: .version(info.version)))
        let token = fixture.tokens[.mlEngineer]!
        try await withVaultApplication(fixture) { server in
            #expect(
                try await eventually { try await server.send(.GET, "/v2/models/mlp/ready", token: token).status == 200 }
            )
            let response = try await server.send(
                .POST, "/v2/models/mlp/infer", token: token, body: inferenceBody(rows: rows))
            #expect(response.status == 200, "\(response.body)")
            let body = try #require(
                try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
            let outputs = try #require(body["outputs"] as? [[String: Any]])
            let served = try #require(outputs.first?["data"] as? [Double])
            #expect(served.count == probabilities.count)
            let worst = zip(served, probabilities).map { abs($0 - $1) - 1e-5 * abs($1) }.max() ?? 0
            #expect(worst <= 1e-6, "off by \(worst)")
        }
    }
}
