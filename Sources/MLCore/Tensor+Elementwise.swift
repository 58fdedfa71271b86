extension Tensor {
    /// Applies `transform` to every value (the loop over a contiguous buffer vectorises when inlined).
    @inlinable
    public func map(_ transform: (Float) -> Float) -> Tensor {
        var out = self
        out.scalars.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices {
                buffer[index] = transform(buffer[index])
            }
        }
        return out
    }

    /// Combines two tensors of the same shape value by value.
    @inlinable
    public func zipMap(_ other: Tensor, _ combine: (Float, Float) -> Float) -> Tensor {
        precondition(shape == other.shape, "element-wise operands differ in shape")
        var out = self
        out.scalars.withUnsafeMutableBufferPointer { target in
            other.scalars.withUnsafeBufferPointer { source in
                for index in target.indices {
                    target[index] = combine(target[index], source[index])
                }
            }
        }
        return out
    }

    /// Element-wise sum.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.zipMap(rhs, +) }
    /// Element-wise difference.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.zipMap(rhs, -) }
    /// Element-wise (Hadamard) product.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.zipMap(rhs, *) }
    /// Every value scaled by `scalar`.
    public static func * (lhs: Tensor, scalar: Float) -> Tensor { lhs.map { $0 * scalar } }

    /// Adds `scale · other` into this tensor in place (axpy).
    public mutating func add(_ other: Tensor, scaledBy scale: Float = 1) {
        precondition(count == other.count, "axpy operands differ in size")
        scalars.withUnsafeMutableBufferPointer { target in
            other.scalars.withUnsafeBufferPointer { source in
                for index in target.indices {
                    target[index] += scale * source[index]
                }
            }
        }
    }

    /// Adds a vector to every row of a rank-2 tensor (bias broadcast).
    public func addingToEachRow(_ vector: Tensor) -> Tensor {
        let columns = shape[shape.count - 1]
        precondition(vector.count == columns, "row vector length differs from the row width")
        var out = self
        out.scalars.withUnsafeMutableBufferPointer { target in
            vector.scalars.withUnsafeBufferPointer { bias in
                var offset = 0
                while offset < target.count {
                    for column in 0..<columns {
                        target[offset + column] += bias[column]
                    }
                    offset += columns
                }
            }
        }
        return out
    }

    /// The sum over rows of a rank-2 (or higher, flattened to rows × last dimension) tensor: one value per column.
    public func sumOverRows() -> Tensor {
        let columns = shape[shape.count - 1]
        var out = [Float](repeating: 0, count: columns)
        scalars.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                var offset = 0
                while offset < source.count {
                    for column in 0..<columns {
                        target[column] += source[offset + column]
                    }
                    offset += columns
                }
            }
        }
        return Tensor(shape: [columns], scalars: out)
    }

    /// The sum of all values, accumulated in double precision.
    public func sum() -> Double {
        scalars.withUnsafeBufferPointer { buffer in
            var total = 0.0
            for value in buffer { total += Double(value) }
            return total
        }
    }

    /// The index of the largest value in each row of a rank-2 tensor.
    public func argmaxPerRow() -> [Int] {
        let columns = shape[1]
        return (0..<shape[0]).map { row in
            var best = 0
            var bestValue = -Float.infinity
            for column in 0..<columns where scalars[row * columns + column] > bestValue {
                bestValue = scalars[row * columns + column]
                best = column
            }
            return best
        }
    }
}
