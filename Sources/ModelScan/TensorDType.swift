/// A tensor element type that both PyTorch checkpoints and safetensors name.
public enum TensorDType: String, Sendable, CaseIterable {
    case bool = "BOOL"
    case uint8 = "U8"
    case int8 = "I8"
    case float8E5M2 = "F8_E5M2"
    case float8E4M3 = "F8_E4M3"
    case int16 = "I16"
    case uint16 = "U16"
    case float16 = "F16"
    case bfloat16 = "BF16"
    case int32 = "I32"
    case uint32 = "U32"
    case float32 = "F32"
    case complex64 = "C64"
    case float64 = "F64"
    case int64 = "I64"
    case uint64 = "U64"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .bool, .uint8, .int8, .float8E5M2, .float8E4M3: 1
        case .int16, .uint16, .float16, .bfloat16: 2
        case .int32, .uint32, .float32: 4
        case .complex64, .float64, .int64, .uint64: 8
        }
    }

    /// The safetensors library lays tensors out by this rank, highest first (its `Dtype` declaration order),
    /// then by name; matching it makes the output byte-identical to `safetensors.torch.save_file`.
    var layoutRank: Int { Self.allCases.firstIndex(of: self)! }

    /// The dtype of a typed storage class such as `torch.FloatStorage`.
    init?(storageType: String) {
        let name = storageType.split(separator: ".").last.map(String.init) ?? ""
        guard storageType == "torch." + name || storageType == "torch.storage." + name else { return nil }
        switch name {
        case "BoolStorage": self = .bool
        case "ByteStorage": self = .uint8
        case "CharStorage": self = .int8
        case "ShortStorage": self = .int16
        case "HalfStorage": self = .float16
        case "BFloat16Storage": self = .bfloat16
        case "IntStorage": self = .int32
        case "FloatStorage": self = .float32
        case "ComplexFloatStorage": self = .complex64
        case "DoubleStorage": self = .float64
        case "LongStorage": self = .int64
        default: return nil
        }
    }

    /// The dtype of `torch.NAME` (as `_rebuild_tensor_v3` names it).
    init?(torchName: String) {
        switch torchName {
        case "bool": self = .bool
        case "uint8": self = .uint8
        case "int8": self = .int8
        case "float8_e5m2": self = .float8E5M2
        case "float8_e4m3fn": self = .float8E4M3
        case "int16": self = .int16
        case "uint16": self = .uint16
        case "float16": self = .float16
        case "bfloat16": self = .bfloat16
        case "int32": self = .int32
        case "uint32": self = .uint32
        case "float32": self = .float32
        case "complex64": self = .complex64
        case "float64": self = .float64
        case "int64": self = .int64
        case "uint64": self = .uint64
        default: return nil
        }
    }
}
