extension Node {
    /// A float list attribute, or its `_as_tensor` double variant (ai.onnx.ml 3), as doubles.
    func doubles(_ name: String) -> [Double]? {
        if let tensor = self.tensor(name + "_as_tensor") { return tensor.doubles }
        return floats(name)?.map(Double.init)
    }
}

/// A tree ensemble flattened into arrays, as TreeEnsembleClassifier/Regressor declare it.
struct TreeEnsemble {
    enum Mode { case leaf, lessOrEqual, less, greaterOrEqual, greater, equal, notEqual }

    var features: [Int] = []
    var thresholds: [Double] = []
    var modes: [Mode] = []
    var trueChild: [Int] = []
    var falseChild: [Int] = []
    var missingTrue: [Bool] = []
    var roots: [Int] = []
    /// Per node, the (target or class, weight) pairs of a leaf.
    var leaves: [[(Int, Double)]] = []

    /// Whether the ensemble classifies (labels, class weights) or regresses (targets).
    var classifier = false
    /// How many classes or targets the scores have.
    var targets = 0

    /// Decodes and checks a TreeEnsembleClassifier or TreeEnsembleRegressor node.
    init(node: Node) throws {
        let classifier = node.opType == "TreeEnsembleClassifier"
        let targets = classifier ? try Kernels.Labels(node).count : Int(clamping: node.int("n_targets", 1))
        guard targets > 0 else { throw KernelError("no classes or targets") }
        try self.init(node: node, weightPrefix: classifier ? "class" : "target", targets: targets)
        self.classifier = classifier
        self.targets = targets
        classIDs = Set(leaves.flatMap { $0.map(\.0) })
        allPositive = leaves.allSatisfy { $0.allSatisfy { $0.1 >= 0 } }
        maximumFeature = zip(features, modes).filter { $0.1 != .leaf }.map(\.0).max() ?? -1
        guard modes.count < Int(Int32.max) else { throw KernelError("the ensemble has too many nodes") }
        packed = modes.indices.map { position in
            Packed(
                threshold: thresholds[position], feature: Int32(clamping: features[position]),
                trueChild: Int32(trueChild[position]), falseChild: Int32(falseChild[position]), mode: modes[position],
                missingTrue: missingTrue[position])
        }
        var start = 0
        for leaf in leaves {
            leafStart.append(start)
            for (target, weight) in leaf {
                leafTargets.append(target)
                leafWeights.append(weight)
            }
            start += leaf.count
        }
        leafStart.append(start)
        lockstep = LockstepForest(self)
    }

    /// The lockstep layout, when the ensemble suits it (see `LockstepForest`).
    var lockstep: LockstepForest?

    /// One node's fields side by side, so a walk touches one cache line per node rather than six arrays.
    struct Packed {
        var threshold: Double
        var feature: Int32
        var trueChild: Int32
        var falseChild: Int32
        var mode: Mode
        var missingTrue: Bool
    }

    /// The nodes, packed.
    var packed: [Packed] = []
    /// Leaf `i`'s weights are `leafTargets[leafStart[i]..<leafStart[i + 1]]` with `leafWeights` at the same places.
    var leafStart: [Int] = []
    var leafTargets: [Int] = []
    var leafWeights: [Double] = []

    /// The distinct classes that leaves carry weights for (one means the binary single-score form).
    var classIDs: Set<Int> = []
    /// Whether every leaf weight is non-negative (probabilities), which sets the binary threshold at 0.5.
    var allPositive = true

    private init(node: Node, weightPrefix prefix: String, targets: Int) throws {
        guard let treeIDs = node.ints("nodes_treeids"), let nodeIDs = node.ints("nodes_nodeids"),
            let featureIDs = node.ints("nodes_featureids"), let modeNames = node.strings("nodes_modes"),
            let trueIDs = node.ints("nodes_truenodeids"), let falseIDs = node.ints("nodes_falsenodeids"),
            let values = node.doubles("nodes_values")
        else { throw KernelError("the tree attributes are incomplete") }
        let count = treeIDs.count
        guard
            [nodeIDs.count, featureIDs.count, modeNames.count, trueIDs.count, falseIDs.count, values.count]
                .allSatisfy({ $0 == count })
        else { throw KernelError("the tree attributes differ in length") }
        var index: [Int64: [Int64: Int]] = [:]
        for position in 0..<count {
            if index[treeIDs[position]] == nil { roots.append(position) }
            guard index[treeIDs[position], default: [:]].updateValue(position, forKey: nodeIDs[position]) == nil else {
                throw KernelError("node \(nodeIDs[position]) of tree \(treeIDs[position]) is defined twice")
            }
        }
        let tracks = node.ints("nodes_missing_value_tracks_true") ?? []
        for position in 0..<count {
            let mode: Mode
            switch modeNames[position] {
            case "LEAF": mode = .leaf
            case "BRANCH_LEQ": mode = .lessOrEqual
            case "BRANCH_LT": mode = .less
            case "BRANCH_GTE": mode = .greaterOrEqual
            case "BRANCH_GT": mode = .greater
            case "BRANCH_EQ": mode = .equal
            case "BRANCH_NEQ": mode = .notEqual
            default: throw KernelError("unknown node mode \(modeNames[position])")
            }
            modes.append(mode)
            features.append(Int(clamping: featureIDs[position]))
            thresholds.append(values[position])
            missingTrue.append(position < tracks.count && tracks[position] != 0)
            if mode == .leaf {
                trueChild.append(-1)
                falseChild.append(-1)
            } else {
                guard features[position] >= 0, let yes = index[treeIDs[position]]?[trueIDs[position]],
                    let no = index[treeIDs[position]]?[falseIDs[position]]
                else { throw KernelError("a branch points at a node its tree does not have") }
                // Children must come later in the walk than their parent, or a hostile file could loop.
                trueChild.append(yes)
                falseChild.append(no)
            }
        }
        leaves = Array(repeating: [], count: count)
        guard let weightTrees = node.ints(prefix + "_treeids"), let weightNodes = node.ints(prefix + "_nodeids"),
            let weightIDs = node.ints(prefix + "_ids"), let weights = node.doubles(prefix + "_weights"),
            weightTrees.count == weightNodes.count, weightIDs.count == weightNodes.count,
            weights.count == weightNodes.count
        else { throw KernelError("the leaf weights are incomplete") }
        for position in weightTrees.indices {
            guard let leaf = index[weightTrees[position]]?[weightNodes[position]] else {
                throw KernelError("a weight points at a node that does not exist")
            }
            let target = Int(clamping: weightIDs[position])
            guard target >= 0, target < targets else { throw KernelError("a weight's target is out of range") }
            leaves[leaf].append((target, weights[position]))
        }
    }

    /// The largest feature index a branch reads (computed once: it was a scan of every node per request).
    var maximumFeature = -1

    /// The leaf the tree starting at `root` reaches for `row`; walks at most one step per node, so a cycle in
    /// a hostile file ends as an error instead of a hang.
    func leaf(from root: Int, _ row: UnsafeBufferPointer<Double>) throws -> Int {
        try packed.withUnsafeBufferPointer { nodes in
            var current = root
            for _ in 0...nodes.count {
                let node = nodes[current]
                if node.mode == .leaf { return current }
                let value = row[Int(node.feature)]
                let threshold = node.threshold
                let goesTrue: Bool
                if value.isNaN && node.missingTrue {
                    goesTrue = true
                } else {
                    switch node.mode {
                    case .lessOrEqual: goesTrue = value <= threshold
                    case .less: goesTrue = value < threshold
                    case .greaterOrEqual: goesTrue = value >= threshold
                    case .greater: goesTrue = value > threshold
                    case .equal: goesTrue = value == threshold
                    case .notEqual: goesTrue = value != threshold
                    case .leaf: goesTrue = false
                    }
                }
                current = Int(goesTrue ? node.trueChild : node.falseChild)
            }
            throw KernelError("a tree contains a cycle")
        }
    }
}

extension Kernels {
    static func treeEnsemble(classifier: Bool) -> Kernel {
        { node, arguments, context in
            let (x, n, f) = try rows(try arguments.required(0))
            let labels = classifier ? try Labels(node.node) : nil
            let trees: TreeEnsemble
            if case .trees(let prepared) = node.prepared {
                trees = prepared
            } else {
                trees = try TreeEnsemble(node: node.node)
            }
            let targets = trees.targets
            guard trees.maximumFeature < f else {
                throw KernelError("a branch reads feature \(trees.maximumFeature) of \(f)")
            }
            let base = node.doubles("base_values") ?? []
            let transform = node.string("post_transform", "NONE")
            // Decided once: comparing the attribute's string for every leaf visited dominated small batches.
            let aggregate = node.string("aggregate_function", "SUM")
            let (isMin, isMax) = (aggregate == "MIN", aggregate == "MAX")
            let classIDs = trees.classIDs
            let allPositive = trees.allPositive
            let binary = classifier && targets == 2 && classIDs.count == 1
            try context.reserve(product: [n, targets, 2])
            // Sums of every row at once, tree by tree over blocks of rows, when the ensemble has the layout.
            var sums: [Double] = []
            // A few rows walk faster alone: lockstep takes every tree's deepest path and overlaps nothing.
            let lockstep = isMin || isMax || f == 0 || n < 8 ? nil : trees.lockstep
            if let lockstep {
                try context.reserve(product: [n, targets])
                sums = [Double](repeating: 0, count: n * targets)
                try x.withUnsafeBufferPointer { x in
                    try sums.withUnsafeMutableBufferPointer { sums in
                        guard let values = x.baseAddress, let scores = sums.baseAddress, x.count >= n * f else {
                            return
                        }
                        var first = 0
                        while first < n {
                            try context.checkDeadline()
                            let count = min(256, n - first)
                            lockstep.accumulate(
                                trees, x: values + first * f, n: count, f: f, scores: scores + first * targets,
                                targets: targets)
                            first += count
                        }
                    }
                }
            }
            var picks: [Int] = []
            var out: [Float] = []
            out.reserveCapacity(n * (binary ? 2 : targets))
            var scores = [Double](repeating: 0, count: targets)
            var seen = [Bool](repeating: false, count: targets)
            for row in 0..<n {
                if row % 64 == 0 { try context.checkDeadline() }
                if lockstep != nil {
                    for target in 0..<targets { scores[target] = sums[row * targets + target] }
                } else {
                    for target in 0..<targets {
                        scores[target] = isMin ? .infinity : (isMax ? -.infinity : 0)
                        seen[target] = false
                    }
                }
                for root in trees.roots where lockstep == nil {
                    // The row's features (checked above: every branch reads an index below f).
                    let leaf = try x.withUnsafeBufferPointer { values in
                        try trees.leaf(from: root, UnsafeBufferPointer(rebasing: values[(row * f)..<((row + 1) * f)]))
                    }
                    for position in trees.leafStart[leaf]..<trees.leafStart[leaf + 1] {
                        let (target, weight) = (trees.leafTargets[position], trees.leafWeights[position])
                        seen[target] = true
                        if isMin {
                            scores[target] = min(scores[target], weight)
                        } else if isMax {
                            scores[target] = max(scores[target], weight)
                        } else {
                            scores[target] += weight
                        }
                    }
                }
                for target in 0..<targets where !seen[target] && (isMin || isMax) {
                    scores[target] = 0
                }
                if aggregate == "AVERAGE" {
                    for target in 0..<targets { scores[target] /= Double(max(trees.roots.count, 1)) }
                }
                if binary, let classID = classIDs.first {
                    let positive =
                        scores[classID] + (base.count == 1 ? base[0] : (classID < base.count ? base[classID] : 0))
                    let isPositive = allPositive ? positive > 0.5 : positive > 0
                    picks.append(isPositive ? 1 : 0)
                    let mode = allPositive ? (isPositive ? 0 : 1) : (isPositive ? 2 : 3)
                    out.append(
                        contentsOf: try secondClass(positive, mode: mode, transform: transform).map { Float($0) })
                    continue
                }
                if !base.isEmpty {
                    guard base.count == targets else { throw KernelError("base_values must hold \(targets) values") }
                    for target in 0..<targets { scores[target] += base[target] }
                }
                if classifier { picks.append(argmax(scores)) }
                try postTransform(transform, &scores)
                for score in scores { out.append(Float(score)) }
            }
            let columns = n == 0 ? targets : out.count / n
            let probabilities = Tensor(shape: [n, columns], floats: out)
            guard let labels else { return [probabilities] }
            return [labels.tensor(picks), probabilities]
        }
    }
}
