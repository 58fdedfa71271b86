/// What a registry records about an ONNX model: its format version, operator sets, exporter and the input and
/// output signature, with Open Inference Protocol datatypes and `-1` for dynamic dimensions.
public struct ONNXSignature: Codable, Sendable, Equatable {
    /// One graph input or output.
    public struct Value: Codable, Sendable, Equatable {
        /// The name, as requests and responses use it.
        public var name: String
        /// The Open Inference Protocol datatype (`FP32`, `INT64`, ...).
        public var datatype: String
        /// The shape, `-1` for a dynamic dimension.
        public var shape: [Int]
        /// What the graph declares: a tensor, or ZipMap's sequence of maps served as a probabilities tensor.
        public var kind: String

        /// A value description.
        public init(name: String, datatype: String, shape: [Int], kind: String) {
            self.name = name
            self.datatype = datatype
            self.shape = shape
            self.kind = kind
        }
    }

    /// Always `onnx`.
    public var format: String
    /// The ONNX IR version.
    public var irVersion: Int64
    /// Operator set versions by domain (`ai.onnx` for the standard set).
    public var opsets: [String: Int64]
    /// The exporter and its version, such as `skl2onnx 1.17.0`.
    public var producer: String
    /// The graph inputs a request supplies.
    public var inputs: [Value]
    /// The graph outputs.
    public var outputs: [Value]
}

extension ONNXModel {
    /// The model's signature, as `model push` records it and the server reports it.
    public var signature: ONNXSignature {
        ONNXSignature(
            format: "onnx", irVersion: irVersion,
            opsets: Dictionary(uniqueKeysWithValues: opsets.map { ($0.key.isEmpty ? "ai.onnx" : $0.key, $0.value) }),
            producer: [producerName, producerVersion].filter { !$0.isEmpty }.joined(separator: " "),
            inputs: graph.inputs.map(Self.describe), outputs: graph.outputs.map(Self.describe))
    }

    /// A declared value as served: tensors as declared; ZipMap's sequence of maps as the FP32 `[N, classes]`
    /// probabilities tensor the interpreter produces for it.
    static func describe(_ value: ValueInfo) -> ONNXSignature.Value {
        switch value.type {
        case .tensor(let elementType, let shape):
            ONNXSignature.Value(
                name: value.name, datatype: elementType.oipName, shape: shape?.map(\.size) ?? [-1], kind: "tensor")
        case .sequence(.map):
            ONNXSignature.Value(name: value.name, datatype: "FP32", shape: [-1, -1], kind: "zipmap")
        default:
            ONNXSignature.Value(name: value.name, datatype: "BYTES", shape: [-1], kind: "other")
        }
    }

    /// The top-level field numbers of `ModelProto`.
    private static let modelFields: Set<UInt64> = [1, 2, 3, 4, 5, 6, 7, 8, 14, 20, 25]

    /// Whether a file whose first bytes are `prefix` (and whose size is `fileSize`) reads as an ONNX
    /// `ModelProto`: its top-level fields up to the graph are `ModelProto` fields with the right wire types, the
    /// IR version is plausible, and the graph's declared length fits in the file. Recognises ONNX by content,
    /// not by name, reading only a few kilobytes.
    public static func looksLikeModel(prefix: [UInt8], fileSize: Int) -> Bool {
        var position = 0
        func varint() -> UInt64? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while position < prefix.count, shift < 64 {
                let byte = prefix[position]
                position += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
            return nil
        }
        var sawIRVersion = false
        while position < prefix.count {
            guard let key = varint(), modelFields.contains(key >> 3) else { return false }
            let number = key >> 3
            switch key & 7 {
            case 0:
                guard number == 1 || number == 5, let value = varint() else { return false }
                if number == 1 { sawIRVersion = (1...64).contains(value) }
            case 2:
                guard number != 1, let length = varint(), position <= fileSize,
                    length <= UInt64(fileSize - position)
                else { return false }
                if number == 7 { return sawIRVersion }
                position += Int(length)
            default: return false
            }
        }
        return false
    }

    /// Whether `bytes` (a whole file) read as an ONNX `ModelProto`; see ``looksLikeModel(prefix:fileSize:)``.
    public static func looksLikeModel(_ bytes: [UInt8]) -> Bool {
        looksLikeModel(prefix: bytes, fileSize: bytes.count)
    }
}
