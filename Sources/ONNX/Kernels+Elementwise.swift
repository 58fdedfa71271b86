import Foundation

extension Kernels {
    /// A float or double math function applied element-wise (floats computed in double, then rounded).
    static func math(_ function: @escaping @Sendable (Double) -> Double) -> Kernel {
        { _, arguments, context in
            let shape = try arguments.required(0).shape
            if var values = floatsInPlace(&arguments, &context) {
                values.withUnsafeMutableBufferPointer { values in
                    for index in values.indices { values[index] = Float(function(Double(values[index]))) }
                }
                return [Tensor(.float, shape: shape, storage: .float(values))]
            }
            let x = try arguments.required(0)
            switch x.storage {
            case .double(let values): return [x.with(shape: x.shape, storage: .double(values.map(function)))]
            default: throw KernelError("expects float or double input, got \(x.elementType)")
            }
        }
    }

    /// A signed operation applied element-wise to floats, doubles and integers.
    /// Relu with a direct loop for floats (the hot case in MLPs and CNNs): no closure call per element.
    static let relu: Kernel = { node, arguments, context in
        // No binding of the input tensor is kept: a taken dead input must stay the only reference to its buffer.
        let shape = try arguments.required(0).shape
        guard var values = floatsInPlace(&arguments, &context) else {
            return try signed(float: { max($0, 0) }, double: { max($0, 0) }, int: { max($0, 0) })(
                node, &arguments, &context)
        }
        reluInPlace(&values)
        return [Tensor(.float, shape: shape, storage: .float(values))]
    }

    /// Negatives to zero; NaN and -0 are kept. Four at a time without branches (the signs of activations are
    /// unpredictable).
    static func reluInPlace(_ values: inout [Float]) {
        values.withUnsafeMutableBufferPointer { values in
            guard let base = values.baseAddress else { return }
            let raw = UnsafeMutableRawPointer(base)
            var index = 0
            while index + 4 <= values.count {
                var vector = raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD4<Float>.self)
                vector.replace(with: 0, where: vector .< 0)
                raw.storeBytes(of: vector, toByteOffset: index * 4, as: SIMD4<Float>.self)
                index += 4
            }
            while index < values.count {
                if values[index] < 0 { values[index] = 0 }
                index += 1
            }
        }
    }

    /// A Relu folded into its producer at load: the input, already rectified, passes through (taken out of
    /// `arguments` so the interpreter does not pool the buffer the output now holds).
    static let foldedRelu: Kernel = { _, arguments, _ in
        let value = try arguments.required(0)
        arguments[0] = nil
        return [value]
    }

    /// Input 0's floats to overwrite: its own buffer when no later node reads it (and the caller has dropped
    /// its reference), a copy otherwise; `nil` when input 0 is not float.
    static func floatsInPlace(_ arguments: inout [Tensor?], _ context: inout ExecutionContext) -> [Float]? {
        if let taken = context.takeFloats(0, from: &arguments) { return taken }
        guard case .float(let values) = arguments.optional(0)?.storage else { return nil }
        return values
    }

    static func signed(
        float: @escaping @Sendable (Float) -> Float, double: @escaping @Sendable (Double) -> Double,
        int: @escaping @Sendable (Int64) -> Int64
    ) -> Kernel {
        { _, arguments, context in
            let shape = try arguments.required(0).shape
            if var values = floatsInPlace(&arguments, &context) {
                values.withUnsafeMutableBufferPointer { values in
                    for index in values.indices { values[index] = float(values[index]) }
                }
                return [Tensor(.float, shape: shape, storage: .float(values))]
            }
            let x = try arguments.required(0)
            switch x.storage {
            case .double(let values): return [x.with(shape: x.shape, storage: .double(values.map(double)))]
            case .int(let values):
                return [x.with(shape: x.shape, storage: .int(values.map { x.elementType.wrap(int($0)) }))]
            default: throw KernelError("expects a numeric input, got \(x.elementType)")
            }
        }
    }

    /// An arithmetic operator over two broadcast inputs of one numeric type.
    static func arithmetic(
        float: @escaping @Sendable (Float, Float) -> Float, double: @escaping @Sendable (Double, Double) -> Double,
        int: @escaping @Sendable (Int64, Int64) throws -> Int64
    ) -> Kernel {
        { _, arguments, context in
            // A is not bound yet: a taken dead input must stay the only reference to its buffer.
            let shapeA = try arguments.required(0).shape
            let b = try arguments.required(1)
            let outputShape = try Broadcast.shape([shapeA, b.shape])
            try context.reserve(Tensor.elementCount(outputShape))
            if shapeA == outputShape, arguments[0]?.elementType == .float, case .float(let y) = b.storage,
                !y.isEmpty, Broadcast.repeatsAlongLeading(b.shape, onto: shapeA),
                let taken = context.takeFloats(0, from: &arguments)
            {
                // The output has A's shape and B repeats along it: written over A's dead buffer.
                var values = taken
                values.withUnsafeMutableBufferPointer { values in
                    y.withUnsafeBufferPointer { y in
                        var index = 0
                        while index < values.count {
                            for offset in 0..<y.count {
                                values[index + offset] = float(values[index + offset], y[offset])
                            }
                            index += y.count
                        }
                    }
                }
                return [Tensor(.float, shape: shapeA, storage: .float(values))]
            }
            let a = try arguments.required(0)
            switch (a.storage, b.storage) {
            case (.float(let x), .float(let y)):
                let (values, shape) = try Broadcast.zip(x, a.shape, y, b.shape, float)
                return [a.with(shape: shape, storage: .float(values))]
            case (.double(let x), .double(let y)):
                let (values, shape) = try Broadcast.zip(x, a.shape, y, b.shape, double)
                return [a.with(shape: shape, storage: .double(values))]
            case (.int(let x), .int(let y)):
                let type = a.elementType
                let (values, shape) = try Broadcast.zip(x, a.shape, y, b.shape) { type.wrap(try int($0, $1)) }
                return [a.with(shape: shape, storage: .int(values))]
            default:
                throw KernelError("expects two inputs of one numeric type, got \(a.elementType) and \(b.elementType)")
            }
        }
    }

    /// A comparison over two broadcast inputs of one type, giving bools.
    static func comparison(_ compare: @escaping @Sendable (Double, Double) -> Bool, strings: Bool = false) -> Kernel {
        { _, arguments, context in
            let a = try arguments.required(0)
            let b = try arguments.required(1)
            try context.reserve(Tensor.elementCount(try Broadcast.shape([a.shape, b.shape])))
            switch (a.storage, b.storage) {
            case (.int(let x), .int(let y)):
                // Integers compared exactly: doubles would merge values above 2^53.
                let (values, shape) = try Broadcast.zip(x, a.shape, y, b.shape) {
                    compare($0 < $1 ? -1 : ($0 == $1 ? 0 : 1), 0)
                }
                return [Tensor(.bool, shape: shape, storage: .bool(values))]
            case (.string(let x), .string(let y)) where strings:
                let (values, shape) = try Broadcast.zip(x, a.shape, y, b.shape) { compare($0 == $1 ? 0 : 1, 0) }
                return [Tensor(.bool, shape: shape, storage: .bool(values))]
            case (.string, _), (_, .string):
                throw KernelError("cannot compare strings")
            default:
                guard let x = a.doubles, let y = b.doubles else { throw KernelError("expects numeric inputs") }
                let (values, shape) = try Broadcast.zip(x, a.shape, y, b.shape, compare)
                return [Tensor(.bool, shape: shape, storage: .bool(values))]
            }
        }
    }

    /// A logical operator over two broadcast bool inputs.
    static func logical(_ operation: @escaping @Sendable (Bool, Bool) -> Bool) -> Kernel {
        { _, arguments, context in
            let a = try arguments.required(0)
            let b = try arguments.required(1)
            guard case .bool(let x) = a.storage, case .bool(let y) = b.storage else {
                throw KernelError("expects bool inputs")
            }
            try context.reserve(Tensor.elementCount(try Broadcast.shape([a.shape, b.shape])))
            let (values, shape) = try Broadcast.zip(x, a.shape, y, b.shape, operation)
            return [Tensor(.bool, shape: shape, storage: .bool(values))]
        }
    }

    static let elementwise: [String: KernelBox] = [
        "Add": KernelBox(arithmetic(float: +, double: +, int: { $0 &+ $1 })),
        "Sub": KernelBox(arithmetic(float: -, double: -, int: { $0 &- $1 })),
        "Mul": KernelBox(arithmetic(float: *, double: *, int: { $0 &* $1 })),
        "Div": KernelBox(
            arithmetic(
                float: /, double: /,
                int: { a, b in
                    guard b != 0 else { throw KernelError("integer division by zero") }
                    let (quotient, overflow) = a.dividedReportingOverflow(by: b)
                    return overflow ? a : quotient
                })),
        "Neg": KernelBox(signed(float: { -$0 }, double: { -$0 }, int: { 0 &- $0 })),
        "Abs": KernelBox(
            signed(float: { Swift.abs($0) }, double: { Swift.abs($0) }, int: { $0 == .min ? $0 : Swift.abs($0) })),
        "Relu": KernelBox(relu),
        "Sigmoid": KernelBox(
            math { $0 >= 0 ? 1 / (1 + Foundation.exp(-$0)) : Foundation.exp($0) / (1 + Foundation.exp($0)) }),
        "Tanh": KernelBox(math(Foundation.tanh)),
        "Exp": KernelBox(math(Foundation.exp)),
        "Log": KernelBox(math(Foundation.log)),
        "Sqrt": KernelBox(math(Foundation.sqrt)),
        "Floor": KernelBox(math(Foundation.floor)),
        "Ceil": KernelBox(math(Foundation.ceil)),
        "Reciprocal": KernelBox(math { 1 / $0 }),
        "Erf": KernelBox(math(Foundation.erf)),
        "Sin": KernelBox(math(Foundation.sin)),
        "Cos": KernelBox(math(Foundation.cos)),
        "LeakyRelu": KernelBox(leakyRelu),
        "Pow": KernelBox(pow),
        "Clip": KernelBox(clip),
        "Equal": KernelBox(comparison({ $0 == $1 }, strings: true)),
        "Less": KernelBox(comparison(<)),
        "LessOrEqual": KernelBox(comparison(<=)),
        "Greater": KernelBox(comparison(>)),
        "GreaterOrEqual": KernelBox(comparison(>=)),
        "And": KernelBox(logical { $0 && $1 }),
        "Or": KernelBox(logical { $0 || $1 }),
        "Xor": KernelBox(logical { $0 != $1 }),
        "Not": KernelBox(not),
        "Where": KernelBox(whereKernel),
    ]

    static let leakyRelu: Kernel = { node, arguments, context in
        let alpha = Double(node.float("alpha", 0.01))
        return try math { $0 >= 0 ? $0 : $0 * alpha }(node, &arguments, &context)
    }

    static let not: Kernel = { _, arguments, _ in
        let x = try arguments.required(0)
        guard case .bool(let values) = x.storage else { throw KernelError("expects a bool input") }
        return [x.with(shape: x.shape, storage: .bool(values.map { !$0 }))]
    }

    static let pow: Kernel = { _, arguments, context in
        let base = try arguments.required(0)
        let exponent = try arguments.required(1)
        guard let x = base.doubles, let y = exponent.doubles else { throw KernelError("expects numeric inputs") }
        try context.reserve(Tensor.elementCount(try Broadcast.shape([base.shape, exponent.shape])))
        let (values, shape) = try Broadcast.zip(x, base.shape, y, exponent.shape) { Foundation.pow($0, $1) }
        switch base.storage {
        case .float: return [base.with(shape: shape, storage: .float(values.map { Float($0) }))]
        case .double: return [base.with(shape: shape, storage: .double(values))]
        case .int:
            return [
                base.with(shape: shape, storage: .int(values.map { base.elementType.wrap(Tensor.clampedInteger($0)) }))
            ]
        default: throw KernelError("expects a numeric base")
        }
    }

    static let clip: Kernel = { node, arguments, _ in
        let x = try arguments.required(0)
        var low: Double = -.infinity
        var high: Double = .infinity
        if let bound = arguments.optional(1) {
            guard bound.count == 1, let value = bound.doubles?.first else { throw KernelError("min must be a scalar") }
            low = value
        } else if case .float(let value) = node.attributes["min"] {
            low = Double(value)
        }
        if let bound = arguments.optional(2) {
            guard bound.count == 1, let value = bound.doubles?.first else { throw KernelError("max must be a scalar") }
            high = value
        } else if case .float(let value) = node.attributes["max"] {
            high = Double(value)
        }
        switch x.storage {
        case .float(let values):
            let (lo, hi) = (Float(low), Float(high))
            return [x.with(shape: x.shape, storage: .float(values.map { Swift.min(Swift.max($0, lo), hi) }))]
        case .double(let values):
            return [x.with(shape: x.shape, storage: .double(values.map { Swift.min(Swift.max($0, low), high) }))]
        case .int(let values):
            let lo = low.isInfinite ? Int64.min : Tensor.clampedInteger(low)
            let hi = high.isInfinite ? Int64.max : Tensor.clampedInteger(high)
            return [x.with(shape: x.shape, storage: .int(values.map { Swift.min(Swift.max($0, lo), hi) }))]
        default: throw KernelError("expects a numeric input")
        }
    }

    static let whereKernel: Kernel = { _, arguments, context in
        let condition = try arguments.required(0)
        let a = try arguments.required(1)
        let b = try arguments.required(2)
        guard case .bool(let mask) = condition.storage else { throw KernelError("condition must be bool") }
        guard a.elementType == b.elementType else { throw KernelError("both branches must have one type") }
        let shape = try Broadcast.shape([condition.shape, a.shape, b.shape])
        let count = Tensor.elementCount(shape)
        try context.reserve(count)
        let mapC = Broadcast.offsets(from: condition.shape, to: shape)
        let mapA = Broadcast.offsets(from: a.shape, to: shape)
        let mapB = Broadcast.offsets(from: b.shape, to: shape)
        var picks = [Int](repeating: 0, count: count)
        var fromA = [Bool](repeating: false, count: count)
        for index in 0..<count {
            fromA[index] = mask[mapC?[index] ?? index]
            picks[index] = fromA[index] ? (mapA?[index] ?? index) : (mapB?[index] ?? index)
        }
        let left = a.gathering(picks.enumerated().map { fromA[$0.offset] ? $0.element : 0 }, shape: shape)
        let right = b.gathering(picks.enumerated().map { fromA[$0.offset] ? 0 : $0.element }, shape: shape)
        func merge<T>(_ x: [T], _ y: [T]) -> [T] { (0..<count).map { fromA[$0] ? x[$0] : y[$0] } }
        switch (left.storage, right.storage) {
        case (.float(let x), .float(let y)): return [a.with(shape: shape, storage: .float(merge(x, y)))]
        case (.double(let x), .double(let y)): return [a.with(shape: shape, storage: .double(merge(x, y)))]
        case (.int(let x), .int(let y)): return [a.with(shape: shape, storage: .int(merge(x, y)))]
        case (.bool(let x), .bool(let y)): return [a.with(shape: shape, storage: .bool(merge(x, y)))]
        case (.string(let x), .string(let y)): return [a.with(shape: shape, storage: .string(merge(x, y)))]
        default: throw KernelError("both branches must have one type")
        }
    }
}
