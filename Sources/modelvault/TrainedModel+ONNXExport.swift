import MLCore
import ONNX

/// `model export --format onnx`: a built-in model as a standard-domain ONNX graph (opset 13), so onnxruntime,
/// Triton and this project's own interpreter run it with the same outputs as `predict`.
///
/// The graph takes raw features `input` `[batch, F]` (FP32, in `feature_names` order, which the metadata names)
/// and answers `probabilities` `[batch, C]` (in `class_names` order) and `label` `[batch]` (INT64, the index of
/// the most probable class). The training-time standardisation is the graph's first two nodes.
extension TrainedModel {
    /// The opset the export targets: every operator it writes exists unchanged since 13, which ONNX 1.12
    /// (opsets up to 17) and current onnxruntime accept.
    static let onnxExportOpset: Int64 = 13

    /// The ONNX `ModelProto` bytes of this model.
    func onnxExport(modelName: String) throws -> [UInt8] {
        var writer = ONNXModelWriter(graphName: modelName, opset: Self.onnxExportOpset)
        let features = config.featureNames.count
        let classes = config.labelNames.count
        writer.input("input", .float, shape: [nil, features])
        writer.initializer("mean", ONNX.Tensor(shape: [features], floats: config.standardization.mean))
        writer.initializer("std", ONNX.Tensor(shape: [features], floats: config.standardization.std))
        writer.node("Sub", inputs: ["input", "mean"], outputs: ["centred"])
        var current = writer.node("Div", inputs: ["centred", "std"], outputs: ["standardized"])

        // Images: the engine works in NHWC, ONNX's Conv and MaxPool in NCHW. The rows are reshaped to NHWC, turned
        // to NCHW for the convolutions and back to NHWC before Flatten, so Dense weights keep the engine's order.
        var channelsFirst = false
        if config.inputShape.count == 3 {
            writer.initializer(
                "image_shape", ONNX.Tensor(shape: [4], int64s: [-1] + config.inputShape.map { Int64($0) }))
            current = writer.node("Reshape", inputs: [current, "image_shape"], outputs: ["nhwc"])
            current = writer.node(
                "Transpose", inputs: [current], outputs: ["nchw"], attributes: [("perm", .ints([0, 3, 1, 2]))])
            channelsFirst = true
        }
        for (index, layer) in network.layers.enumerated() {
            let out = "layer\(index)"
            switch layer {
            case let dense as Dense:
                writer.initializer("layers.\(index).weight", Self.onnxTensor(dense.weight))
                writer.initializer("layers.\(index).bias", Self.onnxTensor(dense.bias))
                current = writer.node(
                    "Gemm", inputs: [current, "layers.\(index).weight", "layers.\(index).bias"], outputs: [out])
            case let conv as Conv2D:
                // [kh, kw, in, out] → ONNX's [out, in, kh, kw].
                let shape = conv.weight.shape
                let (kh, kw, cin, cout) = (shape[0], shape[1], shape[2], shape[3])
                var kernel = [Float](repeating: 0, count: conv.weight.count)
                for o in 0..<cout {
                    for i in 0..<cin {
                        for y in 0..<kh {
                            for x in 0..<kw {
                                kernel[((o * cin + i) * kh + y) * kw + x] =
                                    conv.weight.scalars[((y * kw + x) * cin + i) * cout + o]
                            }
                        }
                    }
                }
                writer.initializer("layers.\(index).weight", ONNX.Tensor(shape: [cout, cin, kh, kw], floats: kernel))
                writer.initializer("layers.\(index).bias", Self.onnxTensor(conv.bias))
                let pad = Int64(conv.padding)
                current = writer.node(
                    "Conv", inputs: [current, "layers.\(index).weight", "layers.\(index).bias"], outputs: [out],
                    attributes: [
                        ("kernel_shape", .ints([Int64(kh), Int64(kw)])),
                        ("strides", .ints([Int64(conv.stride), Int64(conv.stride)])),
                        ("pads", .ints([pad, pad, pad, pad])),
                    ])
            case let pool as MaxPool2D:
                current = writer.node(
                    "MaxPool", inputs: [current], outputs: [out],
                    attributes: [
                        ("kernel_shape", .ints([Int64(pool.size), Int64(pool.size)])),
                        ("strides", .ints([Int64(pool.stride), Int64(pool.stride)])),
                    ])
            case is Flatten:
                if channelsFirst {
                    current = writer.node(
                        "Transpose", inputs: [current], outputs: ["\(out)_nhwc"],
                        attributes: [("perm", .ints([0, 2, 3, 1]))])
                    channelsFirst = false
                }
                current = writer.node("Flatten", inputs: [current], outputs: [out], attributes: [("axis", .int(1))])
            case is ReLU:
                current = writer.node("Relu", inputs: [current], outputs: [out])
            case is Sigmoid:
                current = writer.node("Sigmoid", inputs: [current], outputs: [out])
            case is Softmax:
                current = writer.node("Softmax", inputs: [current], outputs: [out], attributes: [("axis", .int(-1))])
            case is Square:
                current = writer.node("Mul", inputs: [current, current], outputs: [out])
            default:
                throw CLIError("layer \(index) (\(layer.spec.type.rawValue)) has no ONNX export", status: .invalidInput)
            }
        }
        guard !channelsFirst else {
            throw CLIError("the model ends in an image layer, which has no class scores", status: .invalidInput)
        }
        // One sigmoid output is P(class 1): the probabilities are [1 − p, p], as `predict` prints them.
        if network.layers.compactMap({ $0 as? Dense }).last?.weight.shape[1] == 1 {
            writer.initializer("one", ONNX.Tensor(shape: [1], floats: [1]))
            writer.node("Sub", inputs: ["one", current], outputs: ["complement"])
            writer.node(
                "Concat", inputs: ["complement", current], outputs: ["probabilities"], attributes: [("axis", .int(1))])
        } else {
            writer.node("Identity", inputs: [current], outputs: ["probabilities"])
        }
        writer.node(
            "ArgMax", inputs: ["probabilities"], outputs: ["label"],
            attributes: [("axis", .int(1)), ("keepdims", .int(0))])
        writer.output("probabilities", .float, shape: [nil, classes])
        writer.output("label", .int64, shape: [nil])
        // Comma-separated lists (what `predict` reads back); a name holding a comma is left out of the metadata.
        if !config.featureNames.contains(where: { $0.contains(",") }) {
            writer.metadata("feature_names", config.featureNames.joined(separator: ","))
        }
        if !config.labelNames.contains(where: { $0.contains(",") }) {
            writer.metadata("class_names", config.labelNames.joined(separator: ","))
        }
        writer.metadata("label_column", config.labelColumn)
        writer.metadata("modelvault_kind", config.kind.rawValue)
        return writer.bytes(producer: "modelvault", producerVersion: "1")
    }

    private static func onnxTensor(_ tensor: MLCore.Tensor) -> ONNX.Tensor {
        ONNX.Tensor(shape: tensor.shape, floats: tensor.scalars)
    }
}
