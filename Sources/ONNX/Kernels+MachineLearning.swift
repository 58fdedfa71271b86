import Foundation

extension Kernels {
    static let machineLearning: [String: KernelBox] = [
        "LinearClassifier": KernelBox(linearClassifier),
        "LinearRegressor": KernelBox(linearRegressor),
        "Normalizer": KernelBox(normalizer),
        "Scaler": KernelBox(scaler),
        "ZipMap": KernelBox(zipMap),
        "ArrayFeatureExtractor": KernelBox(arrayFeatureExtractor),
        "TreeEnsembleClassifier": KernelBox(treeEnsemble(classifier: true)),
        "TreeEnsembleRegressor": KernelBox(treeEnsemble(classifier: false)),
        "Binarizer": KernelBox(binarizer),
    ]

    /// `X` as rows of features: `[N, F]`, or one row for a 1-D input.
    static func rows(_ x: Tensor) throws -> (values: [Double], n: Int, f: Int) {
        guard let values = x.doubles else { throw KernelError("X must be numeric") }
        switch x.shape.count {
        case 1: return (values, 1, x.shape[0])
        case 2: return (values, x.shape[0], x.shape[1])
        default: throw KernelError("X must be [N, F]")
        }
    }

    /// The ai.onnx.ml post transforms, applied to one row of scores.
    static func postTransform(_ name: String, _ scores: inout [Double]) throws {
        switch name {
        case "NONE": break
        case "LOGISTIC": for index in scores.indices { scores[index] = logistic(scores[index]) }
        case "SOFTMAX", "SOFTMAX_ZERO":
            let zero = name == "SOFTMAX_ZERO"
            let largest = scores.max() ?? 0
            var sum = 0.0
            var out = scores.map { value -> Double in
                if zero && value == 0 { return 0 }
                let e = Foundation.exp(value - largest)
                sum += e
                return e
            }
            if sum > 0 { for index in out.indices { out[index] /= sum } }
            scores = out
        case "PROBIT": for index in scores.indices { scores[index] = probit(scores[index]) }
        default: throw KernelError("unknown post_transform \(name)")
        }
    }

    static func logistic(_ value: Double) -> Double {
        value >= 0 ? 1 / (1 + Foundation.exp(-value)) : Foundation.exp(value) / (1 + Foundation.exp(value))
    }

    /// The inverse of the standard normal CDF, by bisection on `erfc` (accurate to double rounding).
    static func probit(_ p: Double) -> Double {
        guard p > 0, p < 1 else { return p <= 0 ? -.infinity : .infinity }
        var low = -40.0
        var high = 40.0
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if 0.5 * Foundation.erfc(-middle / 2.0.squareRoot()) < p { low = middle } else { high = middle }
        }
        return (low + high) / 2
    }

    /// One binary score expanded to two columns as onnxruntime does (`add_second_class`).
    static func secondClass(_ score: Double, mode: Int, transform: String) throws -> [Double] {
        if transform == "PROBIT" { return [probit(score)] }
        switch mode {
        case 0, 1: return [1 - score, score]
        default:
            if transform == "LOGISTIC" { return [logistic(-score), logistic(score)] }
            return [-score, score]
        }
    }

    /// Labels from `classlabels_ints` or `classlabels_strings`.
    enum Labels {
        case ints([Int64])
        case strings([String])

        init(_ node: Node) throws {
            if let strings = node.strings("classlabels_strings") {
                self = .strings(strings)
            } else if let ints = node.ints("classlabels_ints") ?? node.ints("classlabels_int64s") {
                // LinearClassifier names them classlabels_ints, the tree ensembles classlabels_int64s.
                self = .ints(ints)
            } else {
                throw KernelError("class labels (ints or strings) are required")
            }
        }

        var count: Int {
            switch self {
            case .ints(let values): values.count
            case .strings(let values): values.count
            }
        }

        func tensor(_ picks: [Int]) -> Tensor {
            switch self {
            case .ints(let values): Tensor(shape: [picks.count], int64s: picks.map { values[$0] })
            case .strings(let values):
                Tensor(.string, shape: [picks.count], storage: .string(picks.map { values[$0] }))
            }
        }
    }

    static func argmax(_ scores: [Double]) -> Int {
        var best = 0
        for index in scores.indices where scores[index] > scores[best] { best = index }
        return best
    }

    static let linearClassifier: Kernel = { node, arguments, context in
        let input = try arguments.required(0)
        // Float X is read directly (no Double copy); other types through `rows`, as before.
        var floats: [Float]?
        let (x, n, f): ([Double], Int, Int)
        if case .float(let values) = input.storage, input.shape.count == 1 || input.shape.count == 2 {
            floats = values
            (x, n, f) = ([], input.shape.count == 1 ? 1 : input.shape[0], input.shape[input.shape.count - 1])
        } else {
            (x, n, f) = try rows(input)
        }
        let labels = try Labels(node.node)
        guard labels.count > 0 else { throw KernelError("no class labels") }
        let coefficients = (node.floats("coefficients") ?? []).map(Double.init)
        let intercepts = (node.floats("intercepts") ?? []).map(Double.init)
        guard f > 0, coefficients.count % f == 0, !coefficients.isEmpty else {
            throw KernelError("coefficients do not fit \(f) features")
        }
        let classes = coefficients.count / f
        guard intercepts.isEmpty || intercepts.count == classes else { throw KernelError("intercepts do not fit") }
        guard classes == labels.count || (classes == 1 && labels.count <= 2) else {
            throw KernelError("\(classes) coefficient rows for \(labels.count) labels")
        }
        let transform = node.string("post_transform", "NONE")
        try context.reserve(product: [n, max(classes, 2), 2])
        var picks: [Int] = []
        var out: [Float] = []
        picks.reserveCapacity(n)
        out.reserveCapacity(n * max(classes, 2))
        var sums = [Double](repeating: 0, count: classes)
        for row in 0..<n {
            // Each class's sum from its intercept, feature by feature in order.
            for c in 0..<classes {
                var sum = intercepts.isEmpty ? 0 : intercepts[c]
                if let floats {
                    for j in 0..<f { sum = sum + Double(floats[row * f + j]) * coefficients[c * f + j] }
                } else {
                    for j in 0..<f { sum = sum + x[row * f + j] * coefficients[c * f + j] }
                }
                sums[c] = sum
            }
            if classes > 1 {
                picks.append(argmax(sums))
                try postTransform(transform, &sums)
                for score in sums { out.append(Float(score)) }
                continue
            }
            // One coefficient row: the binary single-score form.
            let positive = sums[0] > 0
            picks.append(labels.count == 2 ? (positive ? 1 : 0) : 0)
            var scores = try secondClass(sums[0], mode: positive ? 2 : 3, transform: transform)
            if labels.count != 2 { scores = [scores.last ?? 0] }
            if transform == "LOGISTIC" && labels.count != 2 { scores = [logistic(scores[0])] }
            for score in scores { out.append(Float(score)) }
        }
        var labelTensor = labels.tensor(picks)
        if labels.count < 2, case .ints = labels, classes == 1 {
            // No second label: onnxruntime answers 1 or 0.
            labelTensor = Tensor(shape: [n], int64s: picks.map { Int64($0) })
        }
        return [labelTensor, Tensor(shape: [n, out.count / max(n, 1)], floats: out)]
    }

    static let linearRegressor: Kernel = { node, arguments, context in
        let (x, n, f) = try rows(try arguments.required(0))
        let coefficients = (node.floats("coefficients") ?? []).map(Double.init)
        let targets = Int(clamping: node.int("targets", 1))
        let (weights, overflow) = targets.multipliedReportingOverflow(by: f)
        guard targets > 0, !overflow, coefficients.count == weights else {
            throw KernelError("coefficients do not fit")
        }
        let intercepts = (node.floats("intercepts") ?? []).map(Double.init)
        guard intercepts.isEmpty || intercepts.count == targets else { throw KernelError("intercepts do not fit") }
        let transform = node.string("post_transform", "NONE")
        try context.reserve(product: [n, targets])
        var out: [Float] = []
        for row in 0..<n {
            var scores = (0..<targets).map { t in
                (0..<f).reduce(intercepts.isEmpty ? 0 : intercepts[t]) {
                    $0 + x[row * f + $1] * coefficients[t * f + $1]
                }
            }
            try postTransform(transform, &scores)
            out.append(contentsOf: scores.map { Float($0) })
        }
        return [Tensor(shape: [n, targets], floats: out)]
    }

    static let normalizer: Kernel = { node, arguments, _ in
        let input = try arguments.required(0)
        let (x, n, f) = try rows(input)
        let norm = node.string("norm", "MAX")
        var out = [Float](repeating: 0, count: x.count)
        for row in 0..<n {
            let values = x[(row * f)..<((row + 1) * f)]
            let scale: Double
            switch norm {
            case "MAX": scale = values.max() ?? 0
            case "L1": scale = values.reduce(0) { $0 + Swift.abs($1) }
            case "L2": scale = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
            default: throw KernelError("unknown norm \(norm)")
            }
            for (index, value) in values.enumerated() {
                out[row * f + index] = Float(scale == 0 ? value : value / scale)
            }
        }
        return [Tensor(shape: input.shape, floats: out)]
    }

    static let scaler: Kernel = { node, arguments, _ in
        let input = try arguments.required(0)
        let x: [Double]
        if case .float = input.storage {
            x = []
        } else {
            guard let values = input.doubles else { throw KernelError("X must be numeric") }
            x = values
        }
        let offsets = (node.floats("offset") ?? [0]).map(Double.init)
        let scales = (node.floats("scale") ?? [1]).map(Double.init)
        let f = input.shape.last ?? 1
        guard offsets.count == 1 || offsets.count == f, scales.count == 1 || scales.count == f else {
            throw KernelError("offset and scale must hold 1 or \(f) values")
        }
        // Row by row without a division per value; float input is read directly (no Double copy of X).
        let floats: [Float]?
        if case .float(let values) = input.storage { floats = values } else { floats = nil }
        let count = floats?.count ?? x.count
        var out = [Float](repeating: 0, count: count)
        let step = max(f, 1)
        out.withUnsafeMutableBufferPointer { out in
            var index = 0
            while index < count {
                for feature in 0..<min(step, count - index) {
                    let value = floats.map { Double($0[index]) } ?? x[index]
                    out[index] = Float(
                        (value - offsets[offsets.count == 1 ? 0 : feature]) * scales[scales.count == 1 ? 0 : feature])
                    index += 1
                }
            }
        }
        return [Tensor(shape: input.shape, floats: out)]
    }

    /// ZipMap's sequence of maps is served as the probabilities tensor itself (columns in label order).
    static let zipMap: Kernel = { _, arguments, _ in
        let x = try arguments.required(0)
        guard x.elementType == .float else { throw KernelError("expects float probabilities") }
        return [x]
    }

    static let arrayFeatureExtractor: Kernel = { _, arguments, context in
        let x = try arguments.required(0)
        let indices = try arguments.required(1).integers()
        guard let last = x.shape.last else { throw KernelError("X must not be a scalar") }
        for index in indices where index < 0 || index >= last { throw KernelError("index \(index) is out of range") }
        let outer = x.count / max(last, 1)
        try context.reserve(product: [outer, indices.count])
        let offsets = (0..<outer).flatMap { row in indices.map { row * last + $0 } }
        let shape = x.shape.count == 1 ? [1, indices.count] : Array(x.shape.dropLast()) + [indices.count]
        return [x.gathering(offsets, shape: shape)]
    }

    static let binarizer: Kernel = { node, arguments, _ in
        let x = try arguments.required(0)
        let threshold = Double(node.float("threshold", 0))
        guard let values = x.doubles else { throw KernelError("X must be numeric") }
        let out = values.map { $0 > threshold ? 1.0 : 0.0 }
        return [try Tensor(shape: x.shape, doubles: out).cast(to: x.elementType)]
    }
}
