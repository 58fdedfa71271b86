/// A dense, row-major tensor as the interpreter holds it.
///
/// Every integer type but uint64 is held as `Int64` values wrapped to the element type's range; float16 and
/// bfloat16 are not held (the parser refuses them with a clear error).
public struct Tensor: Sendable, Equatable {
    /// The values, by the kind of storage the element type uses.
    public enum Storage: Sendable, Equatable {
        case float([Float])
        case double([Double])
        case int([Int64])
        case bool([Bool])
        case string([String])

        /// Whether this kind of storage is the one `type` uses.
        func matches(_ type: ElementType) -> Bool {
            switch self {
            case .float: type == .float
            case .double: type == .double
            case .int: type.isInteger
            case .bool: type == .bool
            case .string: type == .string
            }
        }

        /// How many values are stored.
        public var count: Int {
            switch self {
            case .float(let values): values.count
            case .double(let values): values.count
            case .int(let values): values.count
            case .bool(let values): values.count
            case .string(let values): values.count
            }
        }
    }

    /// The ONNX element type.
    public var elementType: ElementType
    /// The dimensions; empty for a scalar.
    public var shape: [Int]
    /// The values in row-major order; `storage.count` is the product of `shape`.
    public var storage: Storage

    /// A tensor of `elementType` whose storage kind must match it; the caller guarantees the count.
    init(_ elementType: ElementType, shape: [Int], storage: Storage) {
        self.elementType = elementType
        self.shape = shape
        self.storage = storage
    }

    /// A float tensor; `values.count` must equal the product of `shape`.
    public init(shape: [Int], floats values: [Float]) {
        precondition(Self.elementCount(shape) == values.count, "Tensor: shape does not match value count")
        self.init(.float, shape: shape, storage: .float(values))
    }

    /// A double tensor; `values.count` must equal the product of `shape`.
    public init(shape: [Int], doubles values: [Double]) {
        precondition(Self.elementCount(shape) == values.count, "Tensor: shape does not match value count")
        self.init(.double, shape: shape, storage: .double(values))
    }

    /// An int64 tensor; `values.count` must equal the product of `shape`.
    public init(shape: [Int], int64s values: [Int64]) {
        precondition(Self.elementCount(shape) == values.count, "Tensor: shape does not match value count")
        self.init(.int64, shape: shape, storage: .int(values))
    }

    /// An integer tensor of `elementType` (any integer type but uint64), each value wrapped into its range as a
    /// C cast would; `values.count` must equal the product of `shape`.
    public init(shape: [Int], integers values: [Int64], elementType: ElementType) {
        precondition(Self.elementCount(shape) == values.count, "Tensor: shape does not match value count")
        precondition(elementType.isInteger, "Tensor: not an integer element type")
        self.init(elementType, shape: shape, storage: .int(values.map(elementType.wrap)))
    }

    /// A bool tensor; `values.count` must equal the product of `shape`.
    public init(shape: [Int], bools values: [Bool]) {
        precondition(Self.elementCount(shape) == values.count, "Tensor: shape does not match value count")
        self.init(.bool, shape: shape, storage: .bool(values))
    }

    /// How many elements the tensor holds.
    public var count: Int { storage.count }

    /// The values as floats (converting doubles, integers and bools); `nil` for strings.
    public var floats: [Float]? {
        switch storage {
        case .float(let values): values
        case .double(let values): values.map { Float($0) }
        case .int(let values): values.map { Float($0) }
        case .bool(let values): values.map { $0 ? 1 : 0 }
        case .string: nil
        }
    }

    /// The values as doubles (converting floats, integers and bools); `nil` for strings.
    public var doubles: [Double]? {
        switch storage {
        case .float(let values): values.map { Double($0) }
        case .double(let values): values
        case .int(let values): values.map { Double($0) }
        case .bool(let values): values.map { $0 ? 1 : 0 }
        case .string: nil
        }
    }

    /// The values as integers (floats truncated toward zero and clamped); `nil` for strings.
    public var int64s: [Int64]? {
        switch storage {
        case .float(let values): values.map { Self.clampedInteger(Double($0)) }
        case .double(let values): values.map(Self.clampedInteger)
        case .int(let values): values
        case .bool(let values): values.map { $0 ? 1 : 0 }
        case .string: nil
        }
    }

    /// The product of `shape`, or `nil` when a dimension is negative or the product overflows.
    ///
    /// The product of the non-zero dimensions must fit too: a shape like `[0, 2^40, 2^40]` holds no element, but
    /// kernels multiply its trailing dimensions, which would overflow.
    static func checkedCount(_ shape: [Int]) -> Int? {
        var nonZero = 1
        var hasZero = false
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            if dimension == 0 {
                hasZero = true
                continue
            }
            let (next, overflow) = nonZero.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            nonZero = next
        }
        return hasZero ? 0 : nonZero
    }

    static func elementCount(_ shape: [Int]) -> Int { checkedCount(shape) ?? -1 }

    /// A double truncated toward zero into `Int64`'s range (NaN is 0), never trapping.
    static func clampedInteger(_ value: Double) -> Int64 {
        if value.isNaN { return 0 }
        if value >= 9.223372036854775807e18 { return .max }
        if value <= -9.223372036854775808e18 { return .min }
        return Int64(value)
    }
}
