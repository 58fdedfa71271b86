/// An ONNX tensor element type (`TensorProto.DataType`).
public enum ElementType: Int, Sendable, Hashable, CustomStringConvertible {
    case float = 1
    case uint8 = 2
    case int8 = 3
    case uint16 = 4
    case int16 = 5
    case int32 = 6
    case int64 = 7
    case string = 8
    case bool = 9
    case float16 = 10
    case double = 11
    case uint32 = 12
    case uint64 = 13
    case complex64 = 14
    case complex128 = 15
    case bfloat16 = 16

    /// The Open Inference Protocol v2 datatype name (`FP32`, `INT64`, `BYTES`...).
    public var oipName: String {
        switch self {
        case .float: "FP32"
        case .uint8: "UINT8"
        case .int8: "INT8"
        case .uint16: "UINT16"
        case .int16: "INT16"
        case .int32: "INT32"
        case .int64: "INT64"
        case .string: "BYTES"
        case .bool: "BOOL"
        case .float16: "FP16"
        case .double: "FP64"
        case .uint32: "UINT32"
        case .uint64: "UINT64"
        case .complex64: "COMPLEX64"
        case .complex128: "COMPLEX128"
        case .bfloat16: "BF16"
        }
    }

    /// Whether tensors of this type are held as `Tensor.Storage.int` (every integer type but uint64).
    var isInteger: Bool {
        switch self {
        case .uint8, .int8, .uint16, .int16, .int32, .int64, .uint32: true
        default: false
        }
    }

    /// Whether the interpreter can hold tensors of this type.
    var isSupported: Bool { isInteger || self == .float || self == .double || self == .bool || self == .string }

    /// Wraps an integer into this type's range, as a C cast to it would.
    func wrap(_ value: Int64) -> Int64 {
        switch self {
        case .uint8: Int64(UInt8(truncatingIfNeeded: value))
        case .int8: Int64(Int8(truncatingIfNeeded: value))
        case .uint16: Int64(UInt16(truncatingIfNeeded: value))
        case .int16: Int64(Int16(truncatingIfNeeded: value))
        case .int32: Int64(Int32(truncatingIfNeeded: value))
        case .uint32: Int64(UInt32(truncatingIfNeeded: value))
        default: value
        }
    }

    public var description: String {
        switch self {
        case .float: "float"
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .string: "string"
        case .bool: "bool"
        case .float16: "float16"
        case .double: "double"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .complex64: "complex64"
        case .complex128: "complex128"
        case .bfloat16: "bfloat16"
        }
    }
}
