import Foundation
import TestSupport
import Testing
import Vault
import VaultServer
import VaultServing

/// skl2onnx exports pushed to a vault and served, queried by NVIDIA's `tritonclient.http` unchanged (binary and
/// JSON tensors, TLS, bearer token): labels equal onnxruntime's and probabilities (ZipMap's maps, served as a
/// tensor) agree within rtol 1e-5 + atol 1e-6.
@Suite(.serialized) struct VaultServingONNXTritonClientTests {
    static let modules = "tritonclient.http, numpy, onnxruntime, skl2onnx, sklearn"

    /// `export DIR`: writes `<name>.onnx`, `rows.json` and `<name>.expected.json` (onnxruntime's outputs).
    /// `query PORT CAFILE TOKEN MODEL DIR`: runs the rows through tritonclient, binary and JSON, and prints them.
    static let script = #"""
        import json, os, sys, warnings
        warnings.filterwarnings("ignore")
        import numpy as np

        if sys.argv[1] == "export":
            import onnxruntime as ort
            from sklearn.datasets import load_breast_cancer
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler
            from sklearn.linear_model import LogisticRegression
            from sklearn.ensemble import RandomForestClassifier
            from skl2onnx import to_onnx
            folder = sys.argv[2]
            x, y = load_breast_cancer(return_X_y=True)
            x = x.astype(np.float32)
            rows = x[400:432]
            json.dump(rows.tolist(), open(os.path.join(folder, "rows.json"), "w"))
            models = {"logistic": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
                      "forest": RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0)}
            for name, model in models.items():
                model.fit(x[:400], y[:400])
                data = to_onnx(model, x[:1]).SerializeToString()
                open(os.path.join(folder, name + ".onnx"), "wb").write(data)
                options = ort.SessionOptions()
                options.intra_op_num_threads = 1
                session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
                label, probabilities = session.run(None, {session.get_inputs()[0].name: rows})
                keys = list(probabilities[0].keys())
                matrix = [[float(row[k]) for k in keys] for row in probabilities]
                json.dump({"input": session.get_inputs()[0].name,
                           "outputs": [o.name for o in session.get_outputs()],
                           "label": label.tolist(), "probabilities": matrix},
                          open(os.path.join(folder, name + ".expected.json"), "w"))
        else:
            import tritonclient.http as httpclient
            port, cafile, token, model, folder = sys.argv[2:7]
            rows = np.array(json.load(open(os.path.join(folder, "rows.json"))), dtype=np.float32)
            auth = {"Authorization": "Bearer " + token}
            client = httpclient.InferenceServerClient(url="127.0.0.1:" + port, ssl=True, ssl_options={"ca_certs": cafile})
            metadata = client.get_model_metadata(model, headers=auth)
            out = {"ready": client.is_model_ready(model, headers=auth), "metadata": metadata}
            name = metadata["inputs"][0]["name"]
            outputs = [o["name"] for o in metadata["outputs"]]
            for mode, binary in (("binary", True), ("json", False)):
                tensor = httpclient.InferInput(name, list(rows.shape), "FP32")
                tensor.set_data_from_numpy(rows, binary_data=binary)
                requested = [httpclient.InferRequestedOutput(o, binary_data=binary) for o in outputs]
                result = client.infer(model, [tensor], outputs=requested, headers=auth)
                out[mode] = {o: result.as_numpy(o).tolist() for o in outputs}
                out[mode + "_datatypes"] = {o["name"]: o["datatype"] for o in result.get_response()["outputs"]}
            print(json.dumps(out))
        """#

    @Test func tritonClientGetsOnnxRuntimesOutputsFromServedSklearnExports() async throws {
        guard Interop.pythonCanImport(Self.modules) else { try Interop.skipOrFail("python3 with " + Self.modules) }
        let directory = try TemporaryDirectory()
        let folder = directory.url
        let scriptPath = folder.appending(path: "peer.py").path
        try Self.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let exported = try await ChildProcess.tool("python3", [scriptPath, "export", folder.path], mergesErrors: true)
            .runAsync()
        try #require(exported.status == 0, "export failed: \(exported.stdout)")

        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let session = try await fixture.adminSession()
        let names = ["logistic", "forest"]
        for name in names {
            let bytes = try Data(contentsOf: folder.appending(path: "\(name).onnx"))
            let info = try await session.pushModel(name, from: .files(["model.onnx": bytes]))
            try await session.setAlias("production", to: ModelReference(name: name, selector: .version(info.version)))
        }
        try await withVaultServer(fixture) { live in
            let caPath = folder.appending(path: "server.pem").path
            try #require(live.server.selfSignedCertificatePEM).write(toFile: caPath, atomically: true, encoding: .utf8)
            for name in names {
                let expected = try #require(
                    try JSONSerialization.jsonObject(
                        with: Data(contentsOf: folder.appending(path: "\(name).expected.json"))) as? [String: Any])
                let peer = try await ChildProcess.tool(
                    "python3",
                    [scriptPath, "query", String(live.port), caPath, fixture.tokens[.mlEngineer]!, name, folder.path],
                    mergesErrors: true
                ).runAsync()
                try #require(peer.status == 0, "tritonclient failed for \(name): \(peer.stdout)")
                let line = try #require(peer.stdout.split(separator: "\n").last)
                let result = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                #expect(result["ready"] as? Bool == true)
                let metadata = try #require(result["metadata"] as? [String: Any])
                #expect(metadata["platform"] as? String == "onnx")
                let inputs = try #require(metadata["inputs"] as? [[String: Any]])
                #expect(inputs.first?["name"] as? String == expected["input"] as? String)
                #expect(inputs.first?["shape"] as? [Int] == [-1, 30])
                let outputs = try #require(metadata["outputs"] as? [[String: Any]])
                #expect(outputs.map { $0["name"] as? String } == (expected["outputs"] as? [String]) ?? [])
                let labelName = try #require((expected["outputs"] as? [String])?.first)
                let probabilityName = try #require((expected["outputs"] as? [String])?.last)
                let wantLabels = try #require(expected["label"] as? [Int])
                let wantProbabilities = try #require(expected["probabilities"] as? [[Double]])
                for mode in ["binary", "json"] {
                    let served = try #require(result[mode] as? [String: Any], "\(name) \(mode)")
                    #expect(served[labelName] as? [Int] == wantLabels, "\(name) \(mode) labels")
                    let datatypes = result[mode + "_datatypes"] as? [String: String]
                    #expect(datatypes?[labelName] == "INT64", "\(name) \(mode)")
                    let probabilities = try #require(served[probabilityName] as? [[Double]], "\(name) \(mode)")
                    #expect(probabilities.count == wantProbabilities.count)
                    for (got, want) in zip(probabilities.joined(), wantProbabilities.joined()) {
                        #expect(abs(got - want) <= 1e-6 + 1e-5 * abs(want), "\(name) \(mode) \(got) vs \(want)")
                    }
                }
            }
        }
    }
}
