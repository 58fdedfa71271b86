import ONNX
import ProtobufWire

/// Builds small `ModelProto` files for the tests with the wire writer.
struct ModelBuilder {
    struct NodeSpec {
        var op: String
        var inputs: [String]
        var outputs: [String]
        var name = ""
        var domain = ""
        var attributes: [ProtobufWriter] = []
    }

    var nodes: [NodeSpec] = []
    var inputs: [(String, ElementType, [Int64?])] = []
    var outputs: [(String, ElementType, [Int64?])] = []
    var initializers: [ProtobufWriter] = []
    var opsets: [(String, Int64)] = [("", 17)]

    static func intsAttribute(_ name: String, _ values: [Int64]) -> ProtobufWriter {
        var writer = ProtobufWriter()
        writer.string(1, name)
        writer.int(20, 7)
        writer.packedInts(8, values)
        return writer
    }

    static func floatTensor(_ name: String, shape: [Int64], values: [Float]) -> ProtobufWriter {
        var writer = ProtobufWriter()
        for dimension in shape { writer.int(1, dimension) }
        writer.int(2, 1)
        writer.string(8, name)
        writer.packedFloats(4, values)
        return writer
    }

    /// An initializer whose values live in `location` (relative to the model's directory).
    static func externalTensor(_ name: String, count: Int64, location: String) -> ProtobufWriter {
        var writer = ProtobufWriter()
        writer.int(1, count)
        writer.int(2, 1)
        writer.string(8, name)
        var entry = ProtobufWriter()
        entry.string(1, "location")
        entry.string(2, location)
        writer.message(13, entry)
        writer.int(14, 1)
        return writer
    }

    private static func valueInfo(_ name: String, _ type: ElementType, _ shape: [Int64?]) -> ProtobufWriter {
        var dims = ProtobufWriter()
        for dimension in shape {
            var dim = ProtobufWriter()
            if let dimension { dim.int(1, dimension) } else { dim.string(2, "batch") }
            dims.message(1, dim)
        }
        var tensor = ProtobufWriter()
        tensor.int(1, Int64(type.rawValue))
        tensor.message(2, dims)
        var typeProto = ProtobufWriter()
        typeProto.message(1, tensor)
        var info = ProtobufWriter()
        info.string(1, name)
        info.message(2, typeProto)
        return info
    }

    var bytes: [UInt8] {
        var graph = ProtobufWriter()
        for node in nodes {
            var writer = ProtobufWriter()
            for input in node.inputs { writer.string(1, input) }
            for output in node.outputs { writer.string(2, output) }
            if !node.name.isEmpty { writer.string(3, node.name) }
            writer.string(4, node.op)
            if !node.domain.isEmpty { writer.string(7, node.domain) }
            for attribute in node.attributes { writer.message(5, attribute) }
            graph.message(1, writer)
        }
        graph.string(2, "test")
        for initializer in initializers { graph.message(5, initializer) }
        for (name, type, shape) in inputs { graph.message(11, Self.valueInfo(name, type, shape)) }
        for (name, type, shape) in outputs { graph.message(12, Self.valueInfo(name, type, shape)) }
        var model = ProtobufWriter()
        model.int(1, 8)
        model.string(2, "tests")
        model.message(7, graph)
        for (domain, version) in opsets {
            var opset = ProtobufWriter()
            opset.string(1, domain)
            opset.int(2, version)
            model.message(8, opset)
        }
        return model.bytes
    }

    /// `y = Relu(x + bias)` over `[batch, 3]` floats.
    static var addRelu: ModelBuilder {
        var builder = ModelBuilder()
        builder.inputs = [("x", .float, [nil, 3])]
        builder.outputs = [("y", .float, [nil, 3])]
        builder.initializers = [floatTensor("bias", shape: [3], values: [1, -1, 0.5])]
        builder.nodes = [
            NodeSpec(op: "Add", inputs: ["x", "bias"], outputs: ["sum"], name: "add"),
            NodeSpec(op: "Relu", inputs: ["sum"], outputs: ["y"], name: "relu"),
        ]
        return builder
    }
}
