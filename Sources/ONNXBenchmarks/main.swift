// ONNX interpreter vs onnxruntime (Python InferenceSession, one thread): batch-1 latency and batch-256
// throughput for an MLP, a CNN, a scaler+logistic pipeline and a random forest, measured in the same run.
//
//     swift run -c release ONNXBenchmarks
import Foundation
import ONNX

let script = #"""
    import os, sys, time, json, warnings
    warnings.filterwarnings("ignore")
    import numpy as np, onnx, onnxruntime as ort, torch
    from onnx import numpy_helper
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.linear_model import LogisticRegression
    from sklearn.ensemble import RandomForestClassifier
    from skl2onnx import to_onnx
    root = sys.argv[1]
    cx, cy = load_breast_cancer(return_X_y=True); cx = cx.astype(np.float32)
    dx, dy = load_digits(return_X_y=True); dx = (dx / 16.0).astype(np.float32)
    def batch(x, n): return np.resize(x, (n,) + x.shape[1:]).astype(np.float32)
    results = {}
    def measure(name, model_bytes, x):
        folder = os.path.join(root, name); os.makedirs(folder)
        open(os.path.join(folder, "model.onnx"), "wb").write(model_bytes)
        options = ort.SessionOptions(); options.intra_op_num_threads = 1; options.inter_op_num_threads = 1
        session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
        feed = session.get_inputs()[0].name
        for n in (1, 256):
            data = batch(x, n)
            open(os.path.join(folder, "input_%d.pb" % n), "wb").write(numpy_helper.from_array(data).SerializeToString())
            for _ in range(20): session.run(None, {feed: data})
            runs, start = 0, time.perf_counter()
            while time.perf_counter() - start < 1.0:
                session.run(None, {feed: data}); runs += 1
            results["%s/%d" % (name, n)] = (time.perf_counter() - start) / runs
    m = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(cx, cy)
    measure("logistic", to_onnx(m, cx[:1]).SerializeToString(), cx)
    m = RandomForestClassifier(n_estimators=100, max_depth=10, random_state=0).fit(cx, cy)
    measure("forest", to_onnx(m, cx[:1]).SerializeToString(), cx)
    torch.manual_seed(0)
    def export(name, model, x):
        path = os.path.join(root, name + ".onnx")
        torch.onnx.export(model.eval(), (torch.from_numpy(x[:2]),), path, input_names=["input"],
                          dynamic_shapes={"input": {0: torch.export.Dim("batch", min=1, max=4096)}}, dynamo=True)
        measure(name, onnx.load(path).SerializeToString(), x)
    export("mlp", torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64),
        torch.nn.ReLU(), torch.nn.Linear(64, 10)), dx)
    export("cnn", torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(256, 10)),
        dx.reshape(-1, 1, 8, 8))
    print(json.dumps(results))
    """#

let root = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: root) }
let process = Process()
process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
process.arguments = ["python3", "-c", script, root.path]
let pipe = Pipe()
process.standardOutput = pipe
try process.run()
let output = pipe.fileHandleForReading.readDataToEndOfFile()
process.waitUntilExit()
guard process.terminationStatus == 0,
    let line = String(decoding: output, as: UTF8.self).split(separator: "\n").last,
    let peer = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double]
else {
    print("onnxruntime side failed (needs onnxruntime, skl2onnx, scikit-learn, torch, onnxscript)")
    exit(1)
}

func load(_ url: URL) throws -> Tensor { try Tensor(protobuf: [UInt8](try Data(contentsOf: url))) }

print("model     batch   ours          onnxruntime   ratio (ours/ort speed)")
for name in ["logistic", "forest", "mlp", "cnn"] {
    let folder = root.appendingPathComponent(name)
    let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent("model.onnx")))
    let parseStart = ContinuousClock.now
    let model = try ONNXModel(bytes: bytes)
    let parse = ContinuousClock.now - parseStart
    let input = model.graph.inputs[0].name
    for n in [1, 256] {
        let data = try load(folder.appendingPathComponent("input_\(n).pb"))
        for _ in 0..<20 { _ = try model.run([input: data]) }
        var runs = 0
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(1) {
            _ = try model.run([input: data])
            runs += 1
        }
        let elapsed = ContinuousClock.now - start
        let ours = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let mine = ours / Double(runs)
        let theirs = peer["\(name)/\(n)"] ?? .nan
        let label = n == 1 ? "latency" : "rows/s"
        let (a, b) = n == 1 ? (mine * 1e6, theirs * 1e6) : (256 / mine, 256 / theirs)
        print(
            name.padding(toLength: 10, withPad: " ", startingAt: 0)
                + "\(n)".padding(toLength: 8, withPad: " ", startingAt: 0)
                + String(
                    format: "%10.1f %@  %10.1f %@  %.2fx", a, n == 1 ? "us" : label, b, n == 1 ? "us" : label,
                    theirs / mine))
    }
    print("  parse \(bytes.count) bytes in \(parse)")
}
