extension Node {
    func int(_ name: String, _ fallback: Int64) -> Int64 {
        if case .int(let value) = attributes[name] { return value }
        return fallback
    }

    func float(_ name: String, _ fallback: Float) -> Float {
        if case .float(let value) = attributes[name] { return value }
        return fallback
    }

    func string(_ name: String, _ fallback: String) -> String {
        if case .string(let value) = attributes[name] { return value }
        return fallback
    }

    func ints(_ name: String) -> [Int64]? {
        if case .ints(let value) = attributes[name] { return value }
        return nil
    }

    func floats(_ name: String) -> [Float]? {
        if case .floats(let value) = attributes[name] { return value }
        if case .tensor(let tensor) = attributes[name] { return tensor.floats }
        return nil
    }

    func strings(_ name: String) -> [String]? {
        if case .strings(let value) = attributes[name] { return value }
        return nil
    }

    func tensor(_ name: String) -> Tensor? {
        if case .tensor(let value) = attributes[name] { return value }
        return nil
    }
}

/// Argument access for kernels.
extension [Tensor?] {
    /// The input at `index`, which the operator requires.
    func required(_ index: Int) throws -> Tensor {
        guard index < count, let tensor = self[index] else { throw KernelError("input \(index) is missing") }
        return tensor
    }

    /// The input at `index` when given.
    func optional(_ index: Int) -> Tensor? {
        index < count ? self[index] : nil
    }
}

extension Tensor {
    /// An axis in `-rank..<rank` normalised to `0..<rank`.
    func axis(_ value: Int64, rank: Int? = nil) throws -> Int {
        let rank = rank ?? shape.count
        let axis = value < 0 ? value + Int64(rank) : value
        guard axis >= 0, axis < Int64(rank) else { throw KernelError("axis \(value) is out of range") }
        return Int(axis)
    }

    /// The same values under a new shape with the same element count.
    func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(elementType, shape: newShape, storage: storage)
    }

    /// A tensor of this one's element type holding `values`.
    func with(shape: [Int], storage: Storage) -> Tensor {
        Tensor(elementType, shape: shape, storage: storage)
    }

    /// The values as `Int` (shape and index inputs), failing on strings.
    func integers() throws -> [Int] {
        guard let values = int64s else { throw KernelError("expected integer values") }
        return values.map { Int(clamping: $0) }
    }

    /// Row-major strides of `shape`.
    static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for index in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[index] = running
            running *= shape[index]
        }
        return strides
    }

    /// Picks the values at `indices` (offsets into storage) in order, keeping the element type.
    func gathering(_ indices: [Int], shape newShape: [Int]) -> Tensor {
        switch storage {
        case .float(let values): with(shape: newShape, storage: .float(indices.map { values[$0] }))
        case .double(let values): with(shape: newShape, storage: .double(indices.map { values[$0] }))
        case .int(let values): with(shape: newShape, storage: .int(indices.map { values[$0] }))
        case .bool(let values): with(shape: newShape, storage: .bool(indices.map { values[$0] }))
        case .string(let values): with(shape: newShape, storage: .string(indices.map { values[$0] }))
        }
    }
}
