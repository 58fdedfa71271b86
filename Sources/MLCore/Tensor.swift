/// A dense, row-major array of `Float` values with a shape.
///
/// Value semantics (copy on write through the backing array) make a tensor `Sendable`; the hot paths
/// work on unsafe buffers of `scalars` directly.
public struct Tensor: Sendable, Equatable {
    /// The extent of each dimension, outermost first.
    public private(set) var shape: [Int]
    /// The values, row-major (the last dimension varies fastest).
    public var scalars: [Float]

    /// Creates a tensor from its shape and row-major values; the count must equal the product of the shape.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension")
        precondition(shape.reduce(1, *) == scalars.count, "shape does not match the number of scalars")
        self.shape = shape
        self.scalars = scalars
    }

    /// Creates a tensor of the given shape filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// Creates a tensor of zeros with the given shape.
    public init(zeros shape: [Int]) {
        self.init(repeating: 0, shape: shape)
    }

    /// Creates a tensor of uniform random values in `range`, drawn from `generator`.
    public init(randomUniform shape: [Int], in range: ClosedRange<Float>, using generator: inout SeededGenerator) {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for index in 0..<count {
            values[index] = Float.random(in: range, using: &generator)
        }
        self.init(shape: shape, scalars: values)
    }

    /// The number of values.
    public var count: Int { scalars.count }

    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// The same values viewed with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// Changes the shape in place; the element count must stay the same.
    public mutating func reshape(_ newShape: [Int]) {
        precondition(newShape.reduce(1, *) == scalars.count, "reshape changes the number of scalars")
        shape = newShape
    }

    /// The rows `range` of the outermost dimension, as a new tensor.
    public func rows(_ range: Range<Int>) -> Tensor {
        let stride = shape.dropFirst().reduce(1, *)
        var newShape = shape
        newShape[0] = range.count
        return Tensor(
            shape: newShape, scalars: Array(scalars[(range.lowerBound * stride)..<(range.upperBound * stride)]))
    }

    /// The rows at `indices` of the outermost dimension, gathered in order.
    public func gatherRows(_ indices: [Int]) -> Tensor {
        let stride = shape.dropFirst().reduce(1, *)
        var newShape = shape
        newShape[0] = indices.count
        var out = [Float](repeating: 0, count: indices.count * stride)
        scalars.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for (position, row) in indices.enumerated() {
                    let from = source.baseAddress! + row * stride
                    (target.baseAddress! + position * stride).update(from: from, count: stride)
                }
            }
        }
        return Tensor(shape: newShape, scalars: out)
    }
}
