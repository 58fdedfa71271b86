import Foundation
public import ProtobufWire

/// Small ONNX models written with the wire writer, for tests outside the ONNX module (push, serving).
public enum TestONNXModels {
    /// A two-class linear classifier over `[batch, 2]` floats: `probabilities = Softmax(input · W + b)` (FP32
    /// `[batch, 2]`) and `label = ArgMax(probabilities)` (INT64 `[batch]`), with W = [[1, -1], [2, 0.5]] and
    /// b = [0.25, -0.25].
    public static var linearClassifier: [UInt8] {
        model(
            nodes: [
                node("Gemm", ["input", "W", "b"], ["scores"], name: "gemm"),
                node("Softmax", ["scores"], ["probabilities"], name: "softmax", attributes: [int("axis", 1)]),
                node(
                    "ArgMax", ["probabilities"], ["label"], name: "argmax",
                    attributes: [int("axis", 1), int("keepdims", 0)]),
            ],
            initializers: [floats("W", [2, 2], [1, -1, 2, 0.5]), floats("b", [2], [0.25, -0.25])],
            inputs: [value("input", 1, [nil, 2])],
            outputs: [value("probabilities", 1, [nil, 2]), value("label", 7, [nil])])
    }

    /// The classifier's outputs for `rows` (each of 2 features), as the graph defines them.
    public static func linearClassifierOutputs(_ rows: [[Float]]) -> (probabilities: [[Float]], labels: [Int]) {
        var probabilities: [[Float]] = []
        for row in rows {
            let scores = [row[0] * 1 + row[1] * 2 + 0.25, row[0] * -1 + row[1] * 0.5 - 0.25]
            let top = scores.max()!
            let exps = scores.map { Float(exp(Double($0 - top))) }
            let sum = exps.reduce(0, +)
            probabilities.append(exps.map { $0 / sum })
        }
        return (probabilities, probabilities.map { $0[1] > $0[0] ? 1 : 0 })
    }

    /// The linear classifier with W (4 floats, 16 bytes) stored as external data: `location`, with `offset` and
    /// `length` entries when given. ``linearClassifierWeights`` is the file that holds W at offset 0.
    public static func linearClassifier(externalAt location: String, offset: Int? = nil, length: Int? = nil) -> [UInt8]
    {
        var weights = ProtobufWriter()
        for dimension: Int64 in [2, 2] { weights.int(1, dimension) }
        weights.int(2, 1)
        weights.string(8, "W")
        for (key, value) in [
            ("location", location), ("offset", offset.map(String.init)), ("length", length.map(String.init)),
        ] {
            guard let value else { continue }
            var entry = ProtobufWriter()
            entry.string(1, key)
            entry.string(2, value)
            weights.message(13, entry)
        }
        weights.int(14, 1)
        return model(
            nodes: [
                node("Gemm", ["input", "W", "b"], ["scores"], name: "gemm"),
                node("Softmax", ["scores"], ["probabilities"], name: "softmax", attributes: [int("axis", 1)]),
                node(
                    "ArgMax", ["probabilities"], ["label"], name: "argmax",
                    attributes: [int("axis", 1), int("keepdims", 0)]),
            ],
            initializers: [weights, floats("b", [2], [0.25, -0.25])],
            inputs: [value("input", 1, [nil, 2])],
            outputs: [value("probabilities", 1, [nil, 2]), value("label", 7, [nil])])
    }

    /// The classifier's W as little-endian FP32 bytes (16 bytes), the external data file's content.
    public static var linearClassifierWeights: [UInt8] {
        var data: [UInt8] = []
        for value: Float in [1, -1, 2, 0.5] {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
        }
        return data
    }

    /// `probabilities = Softmax(Relu(input · W + b))` with the classifier's W and b: not linear in its input.
    public static var reluClassifier: [UInt8] {
        model(
            nodes: [
                node("Gemm", ["input", "W", "b"], ["scores"], name: "gemm"),
                node("Relu", ["scores"], ["rectified"], name: "relu"),
                node("Softmax", ["rectified"], ["probabilities"], name: "softmax", attributes: [int("axis", 1)]),
            ],
            initializers: [floats("W", [2, 2], [1, -1, 2, 0.5]), floats("b", [2], [0.25, -0.25])],
            inputs: [value("input", 1, [nil, 2])],
            outputs: [value("probabilities", 1, [nil, 2])])
    }

    /// `y = ConstantOfShape(n)`: the request chooses how much the model allocates (INT64 `[1]` in, FP32 out).
    public static var requestSizedAllocation: [UInt8] {
        model(
            nodes: [node("ConstantOfShape", ["n"], ["y"], name: "fill")],
            initializers: [], inputs: [value("n", 7, [1])], outputs: [value("y", 1, [nil])])
    }

    /// A graph using an operator the interpreter does not implement (`Einsum`).
    public static var unsupportedOperator: [UInt8] {
        model(
            nodes: [node("Einsum", ["x"], ["y"], name: "contract", attributes: [string("equation", "ij->i")])],
            initializers: [], inputs: [value("x", 1, [nil, 2])], outputs: [value("y", 1, [nil])])
    }

    // MARK: Writing

    static func model(
        nodes: [ProtobufWriter], initializers: [ProtobufWriter], inputs: [ProtobufWriter],
        outputs: [ProtobufWriter]
    ) -> [UInt8] {
        var graph = ProtobufWriter()
        for node in nodes { graph.message(1, node) }
        graph.string(2, "test")
        for initializer in initializers { graph.message(5, initializer) }
        for input in inputs { graph.message(11, input) }
        for output in outputs { graph.message(12, output) }
        var model = ProtobufWriter()
        model.int(1, 8)
        model.string(2, "modelvault-tests")
        model.message(7, graph)
        var opset = ProtobufWriter()
        opset.string(1, "")
        opset.int(2, 17)
        model.message(8, opset)
        return model.bytes
    }

    static func node(
        _ op: String, _ inputs: [String], _ outputs: [String], name: String, attributes: [ProtobufWriter] = []
    ) -> ProtobufWriter {
        var writer = ProtobufWriter()
        for input in inputs { writer.string(1, input) }
        for output in outputs { writer.string(2, output) }
        writer.string(3, name)
        writer.string(4, op)
        for attribute in attributes { writer.message(5, attribute) }
        return writer
    }

    /// An integer attribute.
    public static func int(_ name: String, _ value: Int64) -> ProtobufWriter {
        var writer = ProtobufWriter()
        writer.string(1, name)
        writer.int(20, 2)
        writer.int(3, value)
        return writer
    }

    /// A string attribute.
    public static func string(_ name: String, _ value: String) -> ProtobufWriter {
        var writer = ProtobufWriter()
        writer.string(1, name)
        writer.int(20, 3)
        writer.string(4, value)
        return writer
    }

    /// A float attribute.
    public static func float(_ name: String, _ value: Float) -> ProtobufWriter {
        var writer = ProtobufWriter()
        writer.string(1, name)
        writer.int(20, 1)
        writer.float(2, value)
        return writer
    }

    static func floats(_ name: String, _ shape: [Int64], _ values: [Float]) -> ProtobufWriter {
        var writer = ProtobufWriter()
        for dimension in shape { writer.int(1, dimension) }
        writer.int(2, 1)
        writer.string(8, name)
        writer.packedFloats(4, values)
        return writer
    }

    static func value(_ name: String, _ elementType: Int64, _ shape: [Int64?]) -> ProtobufWriter {
        var dims = ProtobufWriter()
        for dimension in shape {
            var dim = ProtobufWriter()
            if let dimension { dim.int(1, dimension) } else { dim.string(2, "batch") }
            dims.message(1, dim)
        }
        var tensor = ProtobufWriter()
        tensor.int(1, elementType)
        tensor.message(2, dims)
        var type = ProtobufWriter()
        type.message(1, tensor)
        var info = ProtobufWriter()
        info.string(1, name)
        info.message(2, type)
        return info
    }
}
