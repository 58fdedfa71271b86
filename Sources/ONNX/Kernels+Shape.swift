import Foundation

extension Kernels {
    static let shapes: [String: KernelBox] = [
        "Identity": KernelBox({ _, arguments, _ in [try arguments.required(0)] }),
        "Dropout": KernelBox(dropout),
        "Flatten": KernelBox(flatten),
        "Reshape": KernelBox(reshape),
        "Transpose": KernelBox(transpose),
        "Squeeze": KernelBox(squeeze),
        "Unsqueeze": KernelBox(unsqueeze),
        "Concat": KernelBox(concat),
        "Gather": KernelBox(gather),
        "Slice": KernelBox(slice),
        "Shape": KernelBox(shape),
        "Size": KernelBox({ _, arguments, _ in [Tensor(shape: [], int64s: [Int64(try arguments.required(0).count)])] }),
        "Constant": KernelBox(constant),
        "ConstantOfShape": KernelBox(constantOfShape),
        "Cast": KernelBox(cast),
        "Expand": KernelBox(expand),
        "Tile": KernelBox(tile),
        "Range": KernelBox(range),
    ]

    /// Inference-mode Dropout: the input unchanged, and an all-true mask when asked for.
    static let dropout: Kernel = { _, arguments, _ in
        let x = try arguments.required(0)
        let ratio = arguments.optional(1)?.doubles?.first ?? 0.5
        if let training = arguments.optional(2), training.int64s?.first ?? 0 != 0, ratio > 0 {
            throw KernelError("training mode is not supported (inference only)")
        }
        return [x, Tensor(.bool, shape: x.shape, storage: .bool([Bool](repeating: true, count: x.count)))]
    }

    static let flatten: Kernel = { node, arguments, _ in
        let x = try arguments.required(0)
        // Flatten's axis may equal the rank (everything in the outer dimension); negatives count from the rank.
        let requested = node.int("axis", 1)
        let axis = try x.axis(requested < 0 ? requested + Int64(x.shape.count) : requested, rank: x.shape.count + 1)
        return [x.reshaped([x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *)])]
    }

    static let reshape: Kernel = { node, arguments, _ in
        let x = try arguments.required(0)
        var target: [Int]
        if let shape = arguments.optional(1) {
            target = try shape.integers()
        } else if let shape = node.ints("shape") {
            target = shape.map { Int(clamping: $0) }
        } else {
            throw KernelError("no target shape")
        }
        let allowZero = node.int("allowzero", 0) != 0
        var inferred: Int?
        for (index, size) in target.enumerated() {
            if size == 0 && !allowZero {
                guard index < x.shape.count else { throw KernelError("0 copies a dimension the input lacks") }
                target[index] = x.shape[index]
            } else if size == -1 {
                guard inferred == nil else { throw KernelError("more than one -1 in the target shape") }
                inferred = index
            } else if size < 0 {
                throw KernelError("negative dimension in the target shape")
            }
        }
        if let inferred {
            var known = target
            known[inferred] = 1
            guard let product = Tensor.checkedCount(known), product > 0, x.count % product == 0 else {
                throw KernelError("cannot infer the -1 dimension for \(x.count) elements")
            }
            target[inferred] = x.count / product
        }
        guard Tensor.checkedCount(target) == x.count else {
            throw KernelError("cannot reshape \(x.shape) to \(target)")
        }
        return [x.reshaped(target)]
    }

    static let transpose: Kernel = { node, arguments, context in
        let x = try arguments.required(0)
        let rank = x.shape.count
        let permutation = node.ints("perm").map { $0.map { Int(clamping: $0) } } ?? Array((0..<rank).reversed())
        guard permutation.count == rank, Set(permutation) == Set(0..<rank) else {
            throw KernelError("perm is not a permutation of the input's axes")
        }
        let shape = permutation.map { x.shape[$0] }
        let strides = Tensor.strides(x.shape)
        let permuted = permutation.map { strides[$0] }
        try context.reserve(x.count)
        var indices = [Int](repeating: 0, count: x.count)
        var counter = [Int](repeating: 0, count: rank)
        var offset = 0
        for position in 0..<x.count {
            indices[position] = offset
            var axis = rank - 1
            while axis >= 0 {
                counter[axis] += 1
                offset += permuted[axis]
                if counter[axis] < shape[axis] { break }
                offset -= permuted[axis] * counter[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
        return [x.gathering(indices, shape: shape)]
    }

    /// Axes from input 1 (opset 13 on) or the `axes` attribute.
    static func axes(_ node: Node, _ arguments: [Tensor?], input: Int = 1) throws -> [Int64]? {
        if let tensor = arguments.optional(input) { return try tensor.integers().map(Int64.init) }
        return node.ints("axes")
    }

    static let squeeze: Kernel = { node, arguments, _ in
        let x = try arguments.required(0)
        let axes = try Set((axes(node.node, arguments) ?? []).map { try x.axis($0) })
        for axis in axes where x.shape[axis] != 1 {
            throw KernelError("cannot squeeze axis \(axis) of size \(x.shape[axis])")
        }
        let shape = x.shape.enumerated().filter { axes.isEmpty ? $0.element != 1 : !axes.contains($0.offset) }.map(
            \.element)
        return [x.reshaped(shape)]
    }

    static let unsqueeze: Kernel = { node, arguments, _ in
        let x = try arguments.required(0)
        let requested = try axes(node.node, arguments) ?? []
        let rank = x.shape.count + requested.count
        let axes = try Set(requested.map { try x.axis($0, rank: rank) })
        guard axes.count == requested.count else { throw KernelError("repeated axis") }
        var shape: [Int] = []
        var rest = x.shape.makeIterator()
        for index in 0..<rank { shape.append(axes.contains(index) ? 1 : rest.next() ?? 1) }
        return [x.reshaped(shape)]
    }

    static let concat: Kernel = { node, arguments, context in
        let inputs = arguments.compactMap { $0 }
        guard let first = inputs.first else { throw KernelError("no inputs") }
        let axis = try first.axis(node.int("axis", 0))
        var shape = first.shape
        shape[axis] = 0
        for input in inputs {
            guard input.shape.count == first.shape.count, input.elementType == first.elementType else {
                throw KernelError("inputs differ in rank or type")
            }
            for index in input.shape.indices where index != axis && input.shape[index] != first.shape[index] {
                throw KernelError("inputs differ outside the concatenation axis")
            }
            shape[axis] += input.shape[axis]
        }
        try context.reserve(Tensor.elementCount(shape))
        let outer = first.shape[..<axis].reduce(1, *)
        let inner = first.shape[(axis + 1)...].reduce(1, *)
        func join<T>(_ parts: [[T]]) -> [T] {
            var out: [T] = []
            out.reserveCapacity(Tensor.elementCount(shape))
            for o in 0..<outer {
                for (part, input) in zip(parts, inputs) {
                    let block = input.shape[axis] * inner
                    out.append(contentsOf: part[(o * block)..<((o + 1) * block)])
                }
            }
            return out
        }
        let storage: Tensor.Storage
        switch first.storage {
        case .float: storage = .float(join(inputs.map { if case .float(let v) = $0.storage { v } else { [] } }))
        case .double: storage = .double(join(inputs.map { if case .double(let v) = $0.storage { v } else { [] } }))
        case .int: storage = .int(join(inputs.map { if case .int(let v) = $0.storage { v } else { [] } }))
        case .bool: storage = .bool(join(inputs.map { if case .bool(let v) = $0.storage { v } else { [] } }))
        case .string: storage = .string(join(inputs.map { if case .string(let v) = $0.storage { v } else { [] } }))
        }
        return [first.with(shape: shape, storage: storage)]
    }

    static let gather: Kernel = { node, arguments, context in
        let data = try arguments.required(0)
        let indices = try arguments.required(1)
        guard !data.shape.isEmpty else { throw KernelError("data must not be a scalar") }
        let axis = try data.axis(node.int("axis", 0))
        let size = data.shape[axis]
        let picks = try indices.integers().map { index in
            let resolved = index < 0 ? index + size : index
            guard resolved >= 0, resolved < size else { throw KernelError("index \(index) is out of range") }
            return resolved
        }
        let outer = data.shape[..<axis].reduce(1, *)
        let inner = data.shape[(axis + 1)...].reduce(1, *)
        let shape = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
        try context.reserve(Tensor.elementCount(shape))
        var offsets: [Int] = []
        offsets.reserveCapacity(Tensor.elementCount(shape))
        for o in 0..<outer {
            for pick in picks {
                let base = (o * size + pick) * inner
                for i in 0..<inner { offsets.append(base + i) }
            }
        }
        return [data.gathering(offsets, shape: shape)]
    }

    static let slice: Kernel = { node, arguments, context in
        let x = try arguments.required(0)
        let rank = x.shape.count
        let starts: [Int64]
        let ends: [Int64]
        var axes: [Int64]
        var steps: [Int64]
        if context.opset < 10 || arguments.count < 3 {
            starts = node.ints("starts") ?? []
            ends = node.ints("ends") ?? []
            axes = node.ints("axes") ?? Array(0..<Int64(starts.count))
            steps = Array(repeating: 1, count: starts.count)
        } else {
            starts = try arguments.required(1).int64s ?? []
            ends = try arguments.required(2).int64s ?? []
            axes = try arguments.optional(3)?.int64s ?? Array(0..<Int64(starts.count))
            steps = try arguments.optional(4)?.int64s ?? Array(repeating: 1, count: starts.count)
        }
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else {
            throw KernelError("starts, ends, axes and steps differ in length")
        }
        var begin = [Int](repeating: 0, count: rank)
        var step = [Int](repeating: 1, count: rank)
        var shape = x.shape
        for index in starts.indices {
            let axis = try x.axis(axes[index])
            let size = Int64(x.shape[axis])
            guard steps[index] != 0 else { throw KernelError("step must not be 0") }
            let stride = steps[index]
            func clamp(_ value: Int64, _ low: Int64, _ high: Int64) -> Int64 {
                let resolved = value < 0 ? value &+ size : value
                return min(max(resolved, low), high)
            }
            let first = stride > 0 ? clamp(starts[index], 0, size) : clamp(starts[index], 0, size - 1)
            let last = stride > 0 ? clamp(ends[index], 0, size) : clamp(ends[index], -1, size - 1)
            let span = stride > 0 ? last - first : first - last
            let magnitude = stride == .min ? Int64.max : Swift.abs(stride)
            let count = span <= 0 ? 0 : (span - 1) / magnitude + 1
            begin[axis] = Int(first)
            step[axis] = Int(clamping: stride)
            shape[axis] = Int(count)
        }
        let count = Tensor.elementCount(shape)
        try context.reserve(count)
        let strides = Tensor.strides(x.shape)
        var offsets = [Int](repeating: 0, count: count)
        var counter = [Int](repeating: 0, count: rank)
        for position in 0..<count {
            var offset = 0
            for axis in 0..<rank { offset += (begin[axis] + counter[axis] * step[axis]) * strides[axis] }
            offsets[position] = offset
            var axis = rank - 1
            while axis >= 0 {
                counter[axis] += 1
                if counter[axis] < shape[axis] { break }
                counter[axis] = 0
                axis -= 1
            }
        }
        return [x.gathering(offsets, shape: shape)]
    }

    static let shape: Kernel = { node, arguments, _ in
        let x = try arguments.required(0)
        let rank = Int64(x.shape.count)
        func clamp(_ value: Int64) -> Int { Int(min(max(value < 0 ? value + rank : value, 0), rank)) }
        let start = clamp(node.int("start", 0))
        let end = clamp(node.int("end", rank))
        let dims = start < end ? x.shape[start..<end].map(Int64.init) : []
        return [Tensor(shape: [dims.count], int64s: dims)]
    }

    static let constant: Kernel = { node, _, _ in
        if let tensor = node.tensor("value") { return [tensor] }
        if case .float(let value) = node.attributes["value_float"] { return [Tensor(shape: [], floats: [value])] }
        if case .floats(let values) = node.attributes["value_floats"] {
            return [Tensor(shape: [values.count], floats: values)]
        }
        if case .int(let value) = node.attributes["value_int"] { return [Tensor(shape: [], int64s: [value])] }
        if case .ints(let values) = node.attributes["value_ints"] {
            return [Tensor(shape: [values.count], int64s: values)]
        }
        throw KernelError("no supported value attribute")
    }

    static let constantOfShape: Kernel = { node, arguments, context in
        let shape = try arguments.required(0).integers()
        guard let count = Tensor.checkedCount(shape) else { throw KernelError("invalid shape") }
        try context.reserve(count)
        let value = node.tensor("value") ?? Tensor(shape: [1], floats: [0])
        guard value.count == 1 else { throw KernelError("value must hold one element") }
        return [value.gathering([Int](repeating: 0, count: count), shape: shape)]
    }

    static let cast: Kernel = { node, arguments, _ in
        let x = try arguments.required(0)
        guard let target = ElementType(rawValue: Int(node.int("to", 0))), target.isSupported else {
            throw KernelError("unsupported target type")
        }
        return [try x.cast(to: target)]
    }

    static let expand: Kernel = { _, arguments, context in
        let x = try arguments.required(0)
        let requested = try arguments.required(1).integers()
        let shape = try Broadcast.shape([x.shape, requested])
        guard let count = Tensor.checkedCount(shape) else { throw KernelError("invalid shape") }
        try context.reserve(count)
        let offsets = Broadcast.offsets(from: x.shape, to: shape) ?? Array(0..<count)
        return [x.gathering(offsets, shape: shape)]
    }

    static let tile: Kernel = { _, arguments, context in
        let x = try arguments.required(0)
        let repeats = try arguments.required(1).integers()
        guard repeats.count == x.shape.count, repeats.allSatisfy({ $0 >= 0 }) else {
            throw KernelError("repeats must give one non-negative count per axis")
        }
        var shape: [Int] = []
        for (size, times) in zip(x.shape, repeats) {
            let (product, overflow) = size.multipliedReportingOverflow(by: times)
            guard !overflow else { throw ONNXError.allocationLimit(context.limits.maximumBytes) }
            shape.append(product)
        }
        guard let count = Tensor.checkedCount(shape) else {
            throw ONNXError.allocationLimit(context.limits.maximumBytes)
        }
        try context.reserve(count)
        let strides = Tensor.strides(x.shape)
        let outputStrides = Tensor.strides(shape)
        let offsets = (0..<count).map { position in
            var offset = 0
            for axis in shape.indices {
                offset += (position / outputStrides[axis] % shape[axis] % x.shape[axis]) * strides[axis]
            }
            return offset
        }
        return [x.gathering(offsets, shape: shape)]
    }

    static let range: Kernel = { _, arguments, context in
        let start = try arguments.required(0)
        guard let first = start.doubles?.first, let limit = try arguments.required(1).doubles?.first,
            let delta = try arguments.required(2).doubles?.first, delta != 0
        else { throw KernelError("start, limit and delta must be numeric scalars, delta not 0") }
        let span = ((limit - first) / delta).rounded(.up)
        guard span.isFinite else { throw KernelError("range is not finite") }
        let count = max(Int(clamping: Tensor.clampedInteger(span)), 0)
        try context.reserve(count)
        let values = (0..<count).map { first + Double($0) * delta }
        return [try Tensor(shape: [count], doubles: values).cast(to: start.elementType)]
    }
}

extension Tensor {
    /// The tensor converted to `target` (float to integer truncates toward zero and saturates).
    func cast(to target: ElementType) throws -> Tensor {
        if target == elementType { return self }
        let storage: Storage
        switch target {
        case .float:
            if case .string(let values) = self.storage {
                storage = .float(values.map { Float($0) ?? .nan })
            } else {
                storage = .float(floats ?? [])
            }
        case .double:
            if case .string(let values) = self.storage {
                storage = .double(values.map { Double($0) ?? .nan })
            } else {
                storage = .double(doubles ?? [])
            }
        case .bool:
            guard let values = doubles else { throw KernelError("cannot cast strings to bool") }
            storage = .bool(values.map { $0 != 0 })
        case .string:
            switch self.storage {
            case .float(let values): storage = .string(values.map { "\($0)" })
            case .double(let values): storage = .string(values.map { "\($0)" })
            case .int(let values): storage = .string(values.map { "\($0)" })
            case .bool(let values): storage = .string(values.map { $0 ? "1" : "0" })
            case .string(let values): storage = .string(values)
            }
        default:
            if case .string(let values) = self.storage {
                storage = .int(values.map { target.wrap(Int64($0) ?? 0) })
            } else {
                storage = .int((int64s ?? []).map(target.wrap))
            }
        }
        return Tensor(target, shape: shape, storage: storage)
    }
}
