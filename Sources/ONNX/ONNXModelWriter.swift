public import ProtobufWire

/// Writes a `ModelProto` in the protobuf wire format: enough to export small feed-forward graphs (the built-in
/// engine's models) that onnxruntime, Triton and this module's own parser load.
///
/// Nodes must be added in topological order; initializers are written with `raw_data`.
public struct ONNXModelWriter: Sendable {
    /// The IR version written: 8 (ONNX 1.10+), which onnxruntime and ONNX 1.12 read.
    public static let irVersion: Int64 = 8

    private var nodes: [ProtobufWriter] = []
    /// Initializers (field 5), inputs (11) and outputs (12), written after the nodes.
    private var declarations: [(field: Int, bytes: [UInt8])] = []
    private var nodeCount = 0
    private let graphName: String
    private let opset: Int64
    private var metadata: [(String, String)] = []

    /// A writer for one graph in the standard domain at `opset`.
    public init(graphName: String, opset: Int64) {
        self.graphName = graphName
        self.opset = opset
    }

    /// Adds a node; its name is its operator and position (`Gemm_3`), and it returns the node's first output.
    @discardableResult
    public mutating func node(
        _ opType: String, inputs: [String], outputs: [String], attributes: [(String, Attribute)] = []
    ) -> String {
        var node = ProtobufWriter()
        for input in inputs { node.string(1, input) }
        for output in outputs { node.string(2, output) }
        node.string(3, "\(opType)_\(nodeCount)")
        node.string(4, opType)
        for (name, value) in attributes { node.message(5, Self.attribute(name, value)) }
        nodes.append(node)
        nodeCount += 1
        return outputs.first ?? ""
    }

    /// Adds a constant tensor (an initializer) called `name`.
    public mutating func initializer(_ name: String, _ tensor: Tensor) {
        declarations.append((5, tensor.protobuf(name: name)))
    }

    /// Declares a graph input (field 11); `nil` dimensions are symbolic, named `batch`.
    public mutating func input(_ name: String, _ type: ElementType, shape: [Int?]) {
        declarations.append((11, Self.valueInfo(name, type, shape).bytes))
    }

    /// Declares a graph output (field 12).
    public mutating func output(_ name: String, _ type: ElementType, shape: [Int?]) {
        declarations.append((12, Self.valueInfo(name, type, shape).bytes))
    }

    /// Adds one `metadata_props` entry (e.g. `feature_names`).
    public mutating func metadata(_ key: String, _ value: String) { metadata.append((key, value)) }

    /// The `ModelProto` bytes.
    public func bytes(producer: String, producerVersion: String) -> [UInt8] {
        var fullGraph = ProtobufWriter()
        for node in nodes { fullGraph.message(1, node) }
        fullGraph.string(2, graphName)
        for (field, bytes) in declarations { fullGraph.bytes(field, bytes) }
        var model = ProtobufWriter()
        model.int(1, Self.irVersion)
        model.string(2, producer)
        model.string(3, producerVersion)
        model.message(7, fullGraph)
        var opsetImport = ProtobufWriter()
        opsetImport.string(1, "")
        opsetImport.int(2, opset)
        model.message(8, opsetImport)
        for (key, value) in metadata {
            var entry = ProtobufWriter()
            entry.string(1, key)
            entry.string(2, value)
            model.message(14, entry)
        }
        return model.bytes
    }

    private static func attribute(_ name: String, _ value: Attribute) -> ProtobufWriter {
        var writer = ProtobufWriter()
        writer.string(1, name)
        switch value {
        case .float(let number):
            writer.float(2, number)
            writer.int(20, 1)
        case .int(let number):
            writer.int(3, number)
            writer.int(20, 2)
        case .string(let text):
            writer.string(4, text)
            writer.int(20, 3)
        case .tensor(let tensor):
            writer.bytes(5, tensor.protobuf())
            writer.int(20, 4)
        case .floats(let numbers):
            for number in numbers { writer.float(7, number) }
            writer.int(20, 6)
        case .ints(let numbers):
            for number in numbers { writer.int(8, number) }
            writer.int(20, 7)
        case .strings(let texts):
            for text in texts { writer.string(9, text) }
            writer.int(20, 8)
        case .unsupported:
            preconditionFailure("an unsupported attribute cannot be written")
        }
        return writer
    }

    private static func valueInfo(_ name: String, _ type: ElementType, _ shape: [Int?]) -> ProtobufWriter {
        var dims = ProtobufWriter()
        for dimension in shape {
            var dim = ProtobufWriter()
            if let dimension { dim.int(1, Int64(dimension)) } else { dim.string(2, "batch") }
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
}
