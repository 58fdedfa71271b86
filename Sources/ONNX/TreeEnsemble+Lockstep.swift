/// A tree ensemble laid out for walking many rows through one tree at once, when every branch is
/// `BRANCH_LEQ` without missing-value tracking (scikit-learn's trees, as skl2onnx writes them).
///
/// Leaves point at themselves, so every row takes exactly the tree's depth in steps and the walk has no exit
/// test; the branch becomes a select rather than a jump (which way a row goes is unpredictable, so a jump
/// mispredicts about half the time), and a block of rows gives the processor independent walks to overlap.
struct LockstepForest: Sendable {
    /// One node: a leaf has both children equal to itself and reads feature 0.
    struct Step {
        var threshold: Double
        var feature: Int32
        var yes: Int32
        var no: Int32
    }

    /// Rows walked together through one tree.
    static let block = 16
    /// Deeper trees keep the general walk (a lockstep walk costs the deepest path for every row).
    static let maximumDepth = 256

    let steps: [Step]
    /// Per root (in `TreeEnsemble.roots` order), the longest path from it to a leaf.
    let depths: [Int]

    /// The lockstep layout of `trees`, or `nil` when a branch is not `BRANCH_LEQ`, tracks missing values, or
    /// a tree has a cycle or is deeper than `maximumDepth` (the general walk then reports or handles it).
    init?(_ trees: TreeEnsemble) {
        let count = trees.packed.count
        var steps: [Step] = []
        steps.reserveCapacity(count)
        for (index, node) in trees.packed.enumerated() {
            if node.mode == .leaf {
                steps.append(Step(threshold: 0, feature: 0, yes: Int32(index), no: Int32(index)))
                continue
            }
            guard node.mode == .lessOrEqual, !node.missingTrue else { return nil }
            steps.append(
                Step(threshold: node.threshold, feature: node.feature, yes: node.trueChild, no: node.falseChild))
        }
        // Longest path to a leaf from every node, by an explicit stack (a hostile file may nest deeply); a node
        // met again while on the stack is a cycle.
        var depth = [Int](repeating: -1, count: count)
        var onStack = [Bool](repeating: false, count: count)
        for root in trees.roots {
            var stack = [root]
            while let node = stack.last {
                if depth[node] >= 0 {
                    stack.removeLast()
                    continue
                }
                let step = steps[node]
                let (yes, no) = (Int(step.yes), Int(step.no))
                // A leaf by its mode: a branch whose true child is itself is a cycle (caught below, as the general
                // walk reports it), not a leaf (an ONNX review found lockstep answering with its weight).
                if trees.packed[node].mode == .leaf {
                    depth[node] = 0
                    stack.removeLast()
                    continue
                }
                onStack[node] = true
                var pending = false
                for child in [yes, no] where depth[child] < 0 {
                    if onStack[child] { return nil }
                    stack.append(child)
                    pending = true
                }
                if pending { continue }
                onStack[node] = false
                depth[node] = 1 + max(depth[yes], depth[no])
                guard depth[node] <= Self.maximumDepth else { return nil }
                stack.removeLast()
            }
        }
        self.steps = steps
        depths = trees.roots.map { depth[$0] }
    }

    /// Adds every tree's leaf weights to `scores` (`[n, targets]`, row-major) for the `n` rows of `x` (`[n, f]`),
    /// tree by tree in `roots` order and, within a leaf, in the file's order: the sums of the general walk.
    /// Every branch's feature must be below `f` (checked by the caller), and `f` at least 1.
    func accumulate(
        _ trees: TreeEnsemble, x: UnsafePointer<Double>, n: Int, f: Int, scores: UnsafeMutablePointer<Double>,
        targets: Int
    ) {
        steps.withUnsafeBufferPointer { steps in
            trees.leafStart.withUnsafeBufferPointer { leafStart in
                trees.leafTargets.withUnsafeBufferPointer { leafTargets in
                    trees.leafWeights.withUnsafeBufferPointer { leafWeights in
                        withUnsafeTemporaryAllocation(of: Int32.self, capacity: Self.block) { current in
                            var first = 0
                            while first < n {
                                let count = min(Self.block, n - first)
                                for (tree, root) in trees.roots.enumerated() {
                                    for row in 0..<count { current[row] = Int32(truncatingIfNeeded: root) }
                                    for _ in 0..<depths[tree] {
                                        for row in 0..<count {
                                            let step = steps[Int(current[row])]
                                            let value = x[(first + row) * f + Int(step.feature)]
                                            current[row] = value <= step.threshold ? step.yes : step.no
                                        }
                                    }
                                    for row in 0..<count {
                                        let leaf = Int(current[row])
                                        let sums = scores + (first + row) * targets
                                        for position in leafStart[leaf]..<leafStart[leaf + 1] {
                                            sums[leafTargets[position]] += leafWeights[position]
                                        }
                                    }
                                }
                                first += count
                            }
                        }
                    }
                }
            }
        }
    }
}
