import Foundation
import ProtobufWire
import Testing

@testable import ONNX

/// Scaler and LinearClassifier read float X directly (no Double copy) and other types through the Double
/// path: both must give the same answers, since every float is exact as a Double.
@Suite struct ONNXModelClassicalFloatPathTests {
    typealias Random = ONNXModelFastKernelTests.Random

    static func pipeline(
        type: ElementType, features: Int, classes: Int, transform: String, _ random: inout Random
    ) -> ModelBuilder {
        let rows = classes == 2 && random.int(0...1) == 1 ? 1 : classes
        var builder = ModelBuilder()
        builder.opsets = [("", 17), ("ai.onnx.ml", 3)]
        builder.inputs = [("x", type, [nil, Int64(features)])]
        builder.outputs = [("label", .int64, [nil]), ("probabilities", .float, [nil, Int64(classes)])]
        builder.nodes = [
            .init(
                op: "Scaler", inputs: ["x"], outputs: ["scaled"], name: "scaler", domain: "ai.onnx.ml",
                attributes: [
                    ONNXModelLockstepForestTests.attribute("offset", floats: random.floats(features)),
                    ONNXModelLockstepForestTests.attribute("scale", floats: random.floats(features)),
                ]),
            .init(
                op: "LinearClassifier", inputs: ["scaled"], outputs: ["label", "probabilities"], name: "linear",
                domain: "ai.onnx.ml",
                attributes: [
                    ModelBuilder.intsAttribute("classlabels_ints", (0..<classes).map(Int64.init)),
                    ONNXModelLockstepForestTests.attribute("coefficients", floats: random.floats(rows * features)),
                    ONNXModelLockstepForestTests.attribute("intercepts", floats: random.floats(rows)),
                    ONNXModelFastKernelTests.stringAttribute("post_transform", transform),
                ]),
        ]
        return builder
    }

    @Test func floatAndDoubleInputsAgree() throws {
        for index in 0..<16 {
            let features = 1 + index % 7
            let classes = index % 3 == 0 ? 2 : 3
            let transform = ["NONE", "LOGISTIC", "SOFTMAX"][index % 3]
            var first = Random(state: UInt64(index))
            var second = first
            let floatModel = try ONNXModel(
                bytes: Self.pipeline(type: .float, features: features, classes: classes, transform: transform, &first)
                    .bytes)
            let doubleModel = try ONNXModel(
                bytes: Self.pipeline(type: .double, features: features, classes: classes, transform: transform, &second)
                    .bytes)
            let n = 1 + index * 3
            let values = first.floats(n * features)
            let fromFloats = try floatModel.run(["x": Tensor(shape: [n, features], floats: values)])
            let fromDoubles = try doubleModel.run(["x": Tensor(shape: [n, features], doubles: values.map(Double.init))])
            #expect(fromFloats["label"] == fromDoubles["label"], "case \(index)")
            #expect(fromFloats["probabilities"] == fromDoubles["probabilities"], "case \(index)")
            #expect(fromFloats["probabilities"]?.shape == [n, classes])
        }
    }
}
