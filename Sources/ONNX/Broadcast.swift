/// NumPy-style broadcasting for element-wise operators.
enum Broadcast {
    /// The shape `shapes` broadcast to, or an error when two dimensions differ and neither is 1.
    static func shape(_ shapes: [[Int]]) throws -> [Int] {
        let rank = shapes.map(\.count).max() ?? 0
        var result = [Int](repeating: 1, count: rank)
        for shape in shapes {
            for (offset, size) in shape.enumerated() {
                let index = rank - shape.count + offset
                if result[index] == 1 {
                    result[index] = size
                } else if size != 1 && size != result[index] {
                    throw KernelError("shapes \(shapes) cannot be broadcast together")
                }
            }
        }
        return result
    }

    /// For each element of `output`, the offset of the element of a tensor of `shape` it reads; `nil` when the
    /// shapes are equal (the offset is the index).
    static func offsets(from shape: [Int], to output: [Int]) -> [Int]? {
        if shape == output { return nil }
        let count = Tensor.elementCount(output)
        let rank = output.count
        var strides = [Int](repeating: 0, count: rank)
        var running = 1
        for index in stride(from: shape.count - 1, through: 0, by: -1) {
            let outputIndex = rank - shape.count + index
            strides[outputIndex] = shape[index] == 1 ? 0 : running
            running *= shape[index]
        }
        var result = [Int](repeating: 0, count: count)
        var counter = [Int](repeating: 0, count: rank)
        var offset = 0
        for position in 0..<count {
            result[position] = offset
            var axis = rank - 1
            while axis >= 0 {
                counter[axis] += 1
                offset += strides[axis]
                if counter[axis] < output[axis] { break }
                offset -= strides[axis] * counter[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
        return result
    }

    /// Whether a tensor of `shape` broadcast onto `output` repeats whole along `output`'s leading dimensions
    /// (equal shapes, a scalar, a bias row, per-channel constants): element `i` of the result reads `i % count`.
    static func repeatsAlongLeading(_ shape: [Int], onto output: [Int]) -> Bool {
        let trailing = Array(shape.drop(while: { $0 == 1 }))
        return trailing.count <= output.count && Array(output.suffix(trailing.count)) == trailing
    }

    /// `operation` over `a` and `b` broadcast together.
    static func zip<T, R>(
        _ a: [T], _ shapeA: [Int], _ b: [T], _ shapeB: [Int], _ operation: (T, T) throws -> R
    ) throws -> ([R], [Int]) {
        let output = try shape([shapeA, shapeB])
        if shapeA == shapeB { return (try Swift.zip(a, b).map(operation), output) }
        if b.count == 1, shapeA == output {
            let scalar = b[0]
            return (try a.map { try operation($0, scalar) }, output)
        }
        if a.count == 1, shapeB == output {
            let scalar = a[0]
            return (try b.map { try operation(scalar, $0) }, output)
        }
        // B repeating along A's leading dimensions (a bias row, per-channel constants): no offset maps.
        let trailing = Array(shapeB.drop(while: { $0 == 1 }))
        if shapeA == output, !b.isEmpty, trailing.count <= shapeA.count,
            Array(shapeA.suffix(trailing.count)) == trailing
        {
            var result: [R] = []
            result.reserveCapacity(a.count)
            var start = 0
            while start < a.count {
                for index in 0..<b.count { result.append(try operation(a[start + index], b[index])) }
                start += b.count
            }
            return (result, output)
        }
        let mapA = offsets(from: shapeA, to: output)
        let mapB = offsets(from: shapeB, to: output)
        let count = Tensor.elementCount(output)
        var result: [R] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            result.append(try operation(a[mapA?[index] ?? index], b[mapB?[index] ?? index]))
        }
        return (result, output)
    }
}
