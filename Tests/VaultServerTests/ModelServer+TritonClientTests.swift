import Foundation
import TestSupport
import Testing

@testable import VaultServer

/// Drives the server with NVIDIA's `tritonclient.http` (PyPI `tritonclient[http]`), unchanged, over TLS with
/// a bearer token: the Open Inference Protocol v2 interop check.
@Suite(.serialized) struct VaultServerTritonClientTests {
    static let script = #"""
        import json, sys
        import numpy as np
        import tritonclient.http as httpclient
        from tritonclient.utils import InferenceServerException

        port, cafile, token = sys.argv[1], sys.argv[2], sys.argv[3]
        rows = np.array(json.loads(sys.argv[4]), dtype=np.float32)
        # Reused on purpose, as users do: tritonclient stores Inference-Header-Content-Length in this dict,
        # so the JSON-only call below arrives with a stale length the server must cope with.
        auth = {"Authorization": "Bearer " + token}
        client = httpclient.InferenceServerClient(
            url="127.0.0.1:" + port, ssl=True, ssl_options={"ca_certs": cafile})
        out = {}
        out["live"] = client.is_server_live()
        out["ready"] = client.is_server_ready()
        out["model_ready"] = client.is_model_ready("iris", headers=auth)
        out["server"] = client.get_server_metadata(headers=auth)
        out["metadata"] = client.get_model_metadata("iris", headers=auth)
        try:
            client.get_model_metadata("iris")
            out["unauthenticated"] = "accepted"
        except InferenceServerException as error:
            out["unauthenticated"] = error.message()

        def run(binary_input, outputs, version=""):
            tensor = httpclient.InferInput("input", list(rows.shape), "FP32")
            tensor.set_data_from_numpy(rows, binary_data=binary_input)
            result = client.infer("iris", [tensor], model_version=version, outputs=outputs, headers=auth)
            return {name: result.as_numpy(name).tolist() for name in ("scores", "label")
                    if result.get_output(name) is not None}

        out["binary"] = run(True, None)
        try:
            out["json"] = run(False, [httpclient.InferRequestedOutput("scores", binary_data=False),
                                      httpclient.InferRequestedOutput("label", binary_data=False)])
        except InferenceServerException as error:
            out["json"] = error.message()
        out["mixed"] = run(True, [httpclient.InferRequestedOutput("scores", binary_data=True),
                                  httpclient.InferRequestedOutput("label", binary_data=False)], version="1")
        try:
            bad = httpclient.InferInput("input", [1, 3], "FP32")
            bad.set_data_from_numpy(np.zeros((1, 3), dtype=np.float32))
            client.infer("iris", [bad], headers=auth)
            out["bad_shape"] = "accepted"
        except InferenceServerException as error:
            out["bad_shape"] = error.message()
        print(json.dumps(out))
        """#

    @Test func tritonClientReadsMetadataAndInfersWithBinaryAndJSONTensors() async throws {
        let probe = try await ChildProcess.python("import tritonclient.http, numpy", mergesErrors: true).runAsync()
        guard probe.status == 0 else {
            try Interop.skipOrFail("python3 tritonclient[http]")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let scriptPath = directory.appendingPathComponent("client.py").path
        try Self.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let rows: [[Float]] = [[1, 2, 3, 4], [-1, 0.5, 0, 2], [0.25, -3, 1.5, 0.75]]
        let model = LinearModel.make()
        let expected = try model.infer(["input": Tensor(shape: [3, 4], scalars: rows.flatMap { $0 })])

        try await withLiveServer { live in
            let caPath = directory.appendingPathComponent("server.pem").path
            try #require(live.server.selfSignedCertificatePEM).write(toFile: caPath, atomically: true, encoding: .utf8)
            let rowsJSON = String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
            let peer = try await ChildProcess.tool(
                "python3", [scriptPath, String(live.port), caPath, "engineer-token-0123456789", rowsJSON],
                mergesErrors: true
            ).runAsync()
            try #require(peer.status == 0, "tritonclient script failed: \(peer.stdout)")
            let line = try #require(peer.stdout.split(separator: "\n").last)
            let result = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(result["live"] as? Bool == true)
            #expect(result["ready"] as? Bool == true)
            #expect(result["model_ready"] as? Bool == true)
            #expect((result["server"] as? [String: Any])?["extensions"] as? [String] == ["binary_tensor_data"])
            let metadata = try #require(result["metadata"] as? [String: Any])
            #expect((metadata["inputs"] as? [[String: Any]])?.first?["shape"] as? [Int] == [-1, 4])
            #expect((result["unauthenticated"] as? String)?.contains("bearer token") == true)
            #expect((result["bad_shape"] as? String)?.contains("shape") == true)
            for mode in ["binary", "json", "mixed"] {
                let outputs = try #require(result[mode] as? [String: Any], "\(mode)")
                let scores = (outputs["scores"] as? [[Double]])?.flatMap { $0 }.map { Float($0) }
                let labels = (outputs["label"] as? [[Double]])?.flatMap { $0 }.map { Float($0) }
                #expect(scores == expected["scores"]?.scalars, "\(mode) scores")
                #expect(labels == expected["label"]?.scalars, "\(mode) labels")
            }
        }
    }
}
