import Foundation
import MLCore
import SampleData
import TestSupport
import Testing
import Vault
import VaultServer
import VaultServing

/// NVIDIA's `tritonclient.http` (PyPI `tritonclient[http]`), unchanged, against models served from a vault:
/// readiness, metadata and inference with binary and JSON tensors over TLS with a bearer token, for the
/// logistic model and the CNN; the outputs must equal `modelvault predict`'s.
@Suite(.serialized) struct VaultServingTritonClientTests {
    static let script = #"""
        import json, sys
        import numpy as np
        import tritonclient.http as httpclient

        port, cafile, token, model = sys.argv[1:5]
        rows = np.array(json.loads(sys.stdin.read()), dtype=np.float32)
        auth = {"Authorization": "Bearer " + token}
        client = httpclient.InferenceServerClient(url="127.0.0.1:" + port, ssl=True, ssl_options={"ca_certs": cafile})
        out = {"live": client.is_server_live(), "ready": client.is_server_ready(),
               "model_ready": client.is_model_ready(model, headers=auth),
               "metadata": client.get_model_metadata(model, headers=auth)}
        for mode, binary in (("binary", True), ("json", False)):
            tensor = httpclient.InferInput("input", list(rows.shape), "FP32")
            tensor.set_data_from_numpy(rows, binary_data=binary)
            outputs = [httpclient.InferRequestedOutput(name, binary_data=binary) for name in ("probabilities", "class")]
            result = client.infer(model, [tensor], outputs=outputs, headers=auth)
            out[mode] = {name: result.as_numpy(name).tolist() for name in ("probabilities", "class")}
        print(json.dumps(out))
        """#

    @Test func tritonClientMatchesPredictForLogisticAndCNN() async throws {
        let probe = try await ChildProcess.python("import tritonclient.http, numpy", mergesErrors: true).runAsync()
        guard probe.status == 0 else {
            try Interop.skipOrFail("python3 tritonclient[http]")
        }
        let fixture = try await ServingFixture.make()
        defer { Task { await fixture.remove() } }
        let logistic = try await fixture.push("bc")
        let cnn = try await fixture.push(
            "digits", kind: .cnn, data: SampleData.digitsCSV, label: "digit", epochs: 2)
        let directory = FileManager.default.temporaryDirectory.appending(path: "triton-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let scriptPath = directory.appending(path: "client.py").path
        try Self.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)

        try await withVaultServer(fixture) { live in
            let caPath = directory.appending(path: "server.pem").path
            try #require(live.server.selfSignedCertificatePEM).write(toFile: caPath, atomically: true, encoding: .utf8)
            for (name, trained) in [("bc", logistic), ("digits", cnn)] {
                let sample = rows(of: trained.dataset, 0..<16)
                let expected = try trained.model.predict(rows: sample)
                let peer = try await ChildProcess.tool(
                    "python3", [scriptPath, String(live.port), caPath, fixture.tokens[.mlEngineer]!, name],
                    input: try JSONEncoder().encode(sample), mergesErrors: true
                ).runAsync()
                try #require(peer.status == 0, "tritonclient failed for \(name): \(peer.stdout)")
                let line = try #require(peer.stdout.split(separator: "\n").last)
                let result = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                #expect(result["live"] as? Bool == true)
                #expect(result["ready"] as? Bool == true)
                #expect(result["model_ready"] as? Bool == true)
                let metadata = try #require(result["metadata"] as? [String: Any])
                #expect(metadata["versions"] as? [String] == [String(trained.info.version)])
                let inputs = try #require(metadata["inputs"] as? [[String: Any]])
                #expect(inputs.first?["shape"] as? [Int] == [-1, trained.model.config.featureNames.count])
                for mode in ["binary", "json"] {
                    let outputs = try #require(result[mode] as? [String: Any], "\(name) \(mode)")
                    let classes = (outputs["class"] as? [Double])?.map { Int($0) }
                    #expect(classes == expected.map(\.classIndex), "\(name) \(mode) classes")
                    let probabilities = (outputs["probabilities"] as? [[Double]])?.map { $0.map { Float($0) } }
                    #expect(probabilities == expected.map(\.probabilities), "\(name) \(mode) probabilities")
                }
            }
        }
    }
}
