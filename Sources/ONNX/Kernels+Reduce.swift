extension Kernels {
    static let reductions: [String: KernelBox] = [
        "ArgMax": KernelBox(argExtreme(max: true)),
        "ArgMin": KernelBox(argExtreme(max: false)),
        "ReduceSum": KernelBox(reduce(axesInputFrom: 13, initial: 0, combine: +, finish: { sum, _ in sum })),
        "ReduceMean": KernelBox(
            reduce(axesInputFrom: 18, initial: 0, combine: +, finish: { sum, count in sum / Double(count) })),
        "ReduceMax": KernelBox(
            reduce(
                axesInputFrom: 18, initial: -.infinity, combine: { Swift.max($0, $1) }, finish: { v, _ in v })),
        "ReduceMin": KernelBox(
            reduce(
                axesInputFrom: 18, initial: .infinity, combine: { Swift.min($0, $1) }, finish: { v, _ in v })),
    ]

    /// The input's shape split around the reduced axes: for each output element, the offsets it reduces over.
    private static func groups(shape: [Int], axes: Set<Int>) -> (outputShape: [Int], groups: [[Int]]) {
        let strides = Tensor.strides(shape)
        let kept = shape.indices.filter { !axes.contains($0) }
        let reduced = shape.indices.filter { axes.contains($0) }
        let keptShape = kept.map { shape[$0] }
        let reducedShape = reduced.map { shape[$0] }
        let keptCount = Tensor.elementCount(keptShape)
        let reducedCount = Tensor.elementCount(reducedShape)
        let keptStrides = Tensor.strides(keptShape)
        let reducedStrides = Tensor.strides(reducedShape)
        var groups: [[Int]] = []
        groups.reserveCapacity(keptCount)
        for outer in 0..<keptCount {
            var base = 0
            for (index, axis) in kept.enumerated() {
                base += (outer / keptStrides[index] % keptShape[index]) * strides[axis]
            }
            var group: [Int] = []
            group.reserveCapacity(reducedCount)
            for inner in 0..<reducedCount {
                var offset = base
                for (index, axis) in reduced.enumerated() {
                    offset += (inner / reducedStrides[index] % reducedShape[index]) * strides[axis]
                }
                group.append(offset)
            }
            groups.append(group)
        }
        return (keptShape, groups)
    }

    static func reduce(
        axesInputFrom opset: Int64, initial: Double, combine: @escaping @Sendable (Double, Double) -> Double,
        finish: @escaping @Sendable (Double, Int) -> Double
    ) -> Kernel {
        { node, arguments, context in
            let x = try arguments.required(0)
            guard let values = x.doubles, x.elementType != .bool else { throw KernelError("expects a numeric input") }
            let requested =
                context.opset >= opset ? try arguments.optional(1)?.integers().map(Int64.init) : node.ints("axes")
            let keepDims = node.int("keepdims", 1) != 0
            if (requested ?? []).isEmpty && node.int("noop_with_empty_axes", 0) != 0 { return [x] }
            let axes = Set(try (requested ?? []).map { try x.axis($0) })
            let all = axes.isEmpty ? Set(x.shape.indices) : axes
            let (keptShape, groups) = groups(shape: x.shape, axes: all)
            try context.reserve(groups.count)
            let out = groups.map { group in finish(group.reduce(initial) { combine($0, values[$1]) }, group.count) }
            let shape = keepDims ? x.shape.enumerated().map { all.contains($0.offset) ? 1 : $0.element } : keptShape
            switch x.storage {
            case .float: return [x.with(shape: shape, storage: .float(out.map { Float($0) }))]
            case .double: return [x.with(shape: shape, storage: .double(out))]
            default:
                return [x.with(shape: shape, storage: .int(out.map { x.elementType.wrap(Tensor.clampedInteger($0)) }))]
            }
        }
    }

    static func argExtreme(max: Bool) -> Kernel {
        { node, arguments, context in
            let x = try arguments.required(0)
            guard let values = x.doubles else { throw KernelError("expects a numeric input") }
            let axis = try x.axis(node.int("axis", 0))
            let keepDims = node.int("keepdims", 1) != 0
            let last = node.int("select_last_index", 0) != 0
            let (keptShape, groups) = groups(shape: x.shape, axes: [axis])
            try context.reserve(groups.count)
            let out = groups.map { group -> Int64 in
                var best = 0
                for (index, offset) in group.enumerated() {
                    let value = values[offset]
                    let current = values[group[best]]
                    let better = max ? value > current : value < current
                    if better || (last && value == current) { best = index }
                }
                return Int64(best)
            }
            var shape = keptShape
            if keepDims { shape.insert(1, at: axis) }
            return [Tensor(shape: shape, int64s: out)]
        }
    }
}
