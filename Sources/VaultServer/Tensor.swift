/// The element types of the Open Inference Protocol that the server reads or writes.
public enum TensorDataType: String, Sendable, Codable, CaseIterable {
    case bool = "BOOL"
    case uint8 = "UINT8"
    case uint16 = "UINT16"
    case uint32 = "UINT32"
    case uint64 = "UINT64"
    case int8 = "INT8"
    case int16 = "INT16"
    case int32 = "INT32"
    case int64 = "INT64"
    case fp16 = "FP16"
    case fp32 = "FP32"
    case fp64 = "FP64"
    case bytes = "BYTES"

    /// Bytes per element in the binary tensor encoding, or `nil` for variable-size `BYTES`.
    public var elementSize: Int? {
        switch self {
        case .bool, .uint8, .int8: 1
        case .uint16, .int16, .fp16: 2
        case .uint32, .int32, .fp32: 4
        case .uint64, .int64, .fp64: 8
        case .bytes: nil
        }
    }

    /// Whether values of this type are converted to FP32 losslessly enough to feed an FP32 input.
    ///
    /// Clients (numpy in particular) often send FP64 or integer arrays; the server accepts them for FP32
    /// inputs and converts, as a convenience. BOOL, FP16 and BYTES are refused.
    var convertsToFloat: Bool {
        switch self {
        case .fp32, .fp64, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: true
        case .bool, .fp16, .bytes: false
        }
    }
}

/// A dense tensor in row-major order: what served models consume and produce.
///
/// Values are held as `Float` whatever the wire datatype: integer and boolean tensors (class labels, masks) are
/// exact in it up to 2^24, which covers what served models exchange.
public struct Tensor: Sendable, Equatable {
    /// The dimensions, outermost first; every entry is non-negative.
    public var shape: [Int]
    /// The elements in row-major order; `scalars.count` equals the product of `shape`.
    public var scalars: [Float]
    /// The datatype on the wire: an input's declared datatype, the datatype an output is sent as.
    public var datatype: TensorDataType

    /// Creates a tensor. `scalars.count` should be the product of `shape`; the server checks model outputs
    /// and answers 500 rather than sending a malformed tensor.
    public init(shape: [Int], scalars: [Float], datatype: TensorDataType = .fp32) {
        self.shape = shape
        self.scalars = scalars
        self.datatype = datatype
    }

    /// Whether the element count matches the shape.
    var isWellFormed: Bool {
        // Checked: a model's output shape is not trusted to be small.
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard dimension >= 0, !overflow else { return false }
            count = product
        }
        return count == scalars.count
    }
}

/// The name, element type and shape of one model input or output, as reported in model metadata.
public struct TensorMetadata: Sendable, Equatable, Codable {
    /// The tensor's name, as used in inference requests and responses.
    public var name: String
    /// The element type; served models compute in FP32.
    public var datatype: TensorDataType
    /// The shape; `-1` marks a variable dimension (usually the batch).
    public var shape: [Int]

    /// Creates tensor metadata.
    public init(name: String, datatype: TensorDataType = .fp32, shape: [Int]) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
    }
}
