import Foundation
import ONNX
import TestSupport
import Testing

/// Models exported by skl2onnx and torch.onnx, run by onnxruntime and by the interpreter on the same inputs:
/// labels equal, every other output within rtol 1e-5 + atol 1e-6.
@Suite(.serialized) struct OnnxRuntimeComparisonTests {
    static let modules = ["onnxruntime", "skl2onnx", "sklearn", "torch", "onnx", "onnxscript"]

    /// Exports the models into `sys.argv[1]/<name>/`: `model.onnx`, `input.pb`, `output_<i>.pb` (onnxruntime's
    /// outputs in graph order; ZipMap's list of maps as a probabilities matrix in label order).
    static let script = #"""
        import os, sys, warnings
        warnings.filterwarnings("ignore")
        import numpy as np, onnx, onnxruntime as ort
        from onnx import numpy_helper
        from sklearn.datasets import load_breast_cancer, load_digits
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.linear_model import LogisticRegression
        from sklearn.neural_network import MLPClassifier
        from sklearn.ensemble import RandomForestClassifier, GradientBoostingClassifier
        from skl2onnx import to_onnx
        import torch

        root = sys.argv[1]
        cancer_x, cancer_y = load_breast_cancer(return_X_y=True)
        cancer_x = cancer_x.astype(np.float32)
        digits_x, digits_y = load_digits(return_X_y=True)
        digits_x = (digits_x / 16.0).astype(np.float32)

        def save(name, model_bytes, x):
            folder = os.path.join(root, name)
            os.makedirs(folder)
            with open(os.path.join(folder, "model.onnx"), "wb") as f:
                f.write(model_bytes)
            with open(os.path.join(folder, "input.pb"), "wb") as f:
                f.write(numpy_helper.from_array(x).SerializeToString())
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
            outputs = session.run(None, {session.get_inputs()[0].name: x})
            for index, value in enumerate(outputs):
                if isinstance(value, list):
                    keys = list(value[0].keys())
                    value = np.array([[row[k] for k in keys] for row in value], dtype=np.float32)
                with open(os.path.join(folder, "output_%d.pb" % index), "wb") as f:
                    f.write(numpy_helper.from_array(np.asarray(value)).SerializeToString())

        def sklearn_model(name, model, x, y):
            model.fit(x[:400], y[:400])
            save(name, to_onnx(model, x[:1]).SerializeToString(), x[400:])

        sklearn_model("scaler_logistic", make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)), cancer_x, cancer_y)
        sklearn_model("scaler_logistic_digits", make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)), digits_x, digits_y)
        sklearn_model("mlp", make_pipeline(StandardScaler(), MLPClassifier((16,), max_iter=500, random_state=0)), cancer_x, cancer_y)
        sklearn_model("random_forest", RandomForestClassifier(n_estimators=20, max_depth=8, random_state=0), cancer_x, cancer_y)
        sklearn_model("random_forest_digits", RandomForestClassifier(n_estimators=10, max_depth=8, random_state=0), digits_x, digits_y)
        sklearn_model("gradient_boosting", GradientBoostingClassifier(n_estimators=20, random_state=0), cancer_x, cancer_y)
        sklearn_model("gradient_boosting_digits", GradientBoostingClassifier(n_estimators=5, random_state=0), digits_x, digits_y)

        from sklearn.linear_model import Ridge
        from sklearn.ensemble import RandomForestRegressor
        from sklearn.preprocessing import Normalizer, Binarizer
        from sklearn.compose import ColumnTransformer
        def regressor(name, model, x, y):
            model.fit(x[:400], y[:400].astype(np.float32))
            save(name, to_onnx(model, x[:1]).SerializeToString(), x[400:])
        regressor("linear_regression", make_pipeline(Normalizer("l2"), Ridge(alpha=1.0)), cancer_x, cancer_y)
        regressor("forest_regressor", RandomForestRegressor(n_estimators=10, max_depth=6, random_state=0), cancer_x, cancer_y)
        sklearn_model("columns_binarizer_logistic", make_pipeline(
            ColumnTransformer([("pick", Binarizer(threshold=0.5), [0, 3, 5, 7])]), LogisticRegression()), digits_x, digits_y)

        torch.manual_seed(0)
        def torch_model(name, model, x):
            model.eval()
            path = os.path.join(root, name + ".onnx")
            batch = torch.export.Dim("batch", min=1, max=4096)
            torch.onnx.export(model, (torch.from_numpy(x[:2]),), path, input_names=["input"], output_names=["logits"],
                              dynamic_shapes={"x": {0: batch}}, dynamo=True, verbose=False)
            model_bytes = onnx.load(path, load_external_data=True).SerializeToString()
            save(name, model_bytes, x)

        class MLP(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16),
                                               torch.nn.Tanh(), torch.nn.Linear(16, 10), torch.nn.LogSoftmax(dim=1))
            def forward(self, x):
                return self.net(x)

        class CNN(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.features = torch.nn.Sequential(
                    torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                    torch.nn.Conv2d(8, 16, 3, padding=1, stride=1, groups=2), torch.nn.ReLU(),
                    torch.nn.AvgPool2d(2), torch.nn.Flatten(), torch.nn.Linear(64, 10))
            def forward(self, x):
                return torch.softmax(self.features(x), dim=1)

        torch_model("torch_mlp", MLP(), digits_x[:64])
        cnn = CNN()
        with torch.no_grad():
            cnn.features[1].running_mean.uniform_(-0.5, 0.5)
            cnn.features[1].running_var.uniform_(0.5, 1.5)
        torch_model("torch_cnn", cnn, digits_x[:64].reshape(-1, 1, 8, 8))
        """#

    static let names = [
        "scaler_logistic", "scaler_logistic_digits", "mlp", "random_forest", "random_forest_digits",
        "gradient_boosting", "gradient_boosting_digits", "linear_regression", "forest_regressor",
        "columns_binarizer_logistic", "torch_mlp", "torch_cnn",
    ]

    @Test func interpreterMatchesOnnxRuntime() throws {
        guard Interop.pythonCanImport(Self.modules.joined(separator: ", ")) else {
            try Interop.skipOrFail("python3 with " + Self.modules.joined(separator: ", "))
        }
        let directory = try TemporaryDirectory()
        let result = try ChildProcess.python(Self.script, arguments: [directory.url.path]).run()
        try #require(result.status == 0, "model export failed: \(result.stderr.suffix(2000))")
        var operators: Set<String> = []
        for name in Self.names {
            let folder = directory.url.appendingPathComponent(name)
            let model = try ONNXModel(contentsOf: folder.appendingPathComponent("model.onnx"))
            for node in model.graph.nodes {
                operators.insert(node.domain.isEmpty ? node.opType : "\(node.domain).\(node.opType)")
            }
            let input = try Tensor(protobuf: [UInt8](try Data(contentsOf: folder.appendingPathComponent("input.pb"))))
            let outputs = try model.run([model.graph.inputs[0].name: input])
            for (index, output) in model.graph.outputs.enumerated() {
                let file = folder.appendingPathComponent("output_\(index).pb")
                let expected = try Tensor(protobuf: [UInt8](try Data(contentsOf: file)))
                let actual = try #require(outputs[output.name])
                #expect(actual.shape == expected.shape, "\(name) \(output.name): shape")
                if case .string(let labels) = expected.storage {
                    #expect(actual.storage == .string(labels), "\(name) \(output.name): labels differ")
                } else if expected.elementType == .int64 {
                    #expect(actual.int64s == expected.int64s, "\(name) \(output.name): labels differ")
                } else {
                    let a = try #require(actual.doubles)
                    let b = try #require(expected.doubles)
                    let worst = zip(a, b).map { abs($0 - $1) - 1e-5 * abs($1) }.max() ?? 0
                    #expect(a.count == b.count && worst <= 1e-6, "\(name) \(output.name): off by \(worst)")
                }
            }
        }
        let summary = "onnxruntime comparison: \(Self.names.count) models, operators \(operators.sorted())\n"
        FileHandle.standardError.write(Data(summary.utf8))
    }
}
