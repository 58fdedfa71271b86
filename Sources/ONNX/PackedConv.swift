/// Conv weights packed once at load for the direct kernel (`Kernels.directConv`): per group, blocks of four
/// output channels, and per tap (input channel, kernel row, kernel column) the block's four weights each
/// broadcast to a `SIMD4<Float>`. Baseline x86-64 has no broadcast load, so broadcasting at load saves a shuffle
/// per weight per image; the kernel then reads weights with plain aligned vector loads.
struct PackedConv: Sendable {
    /// Output channels per block: four rows of two accumulators each fit the sixteen SSE registers with room.
    static let rows = 4
    /// Most bytes one node's packed weights may take (bigger convolutions keep the im2col path).
    static let maximumBytes = 64 << 20

    /// The weight shape this was packed from; the kernel checks the run's W against it.
    let weightShape: [Int]
    let groups: Int
    let perGroupOut: Int
    /// Taps per output channel: input channels per group times kernel elements.
    let depth: Int
    /// Blocks of `rows` output channels per group (the last one padded with zero weights).
    let blocks: Int
    /// `[group][block][tap][row]`, each weight broadcast.
    let weights: [SIMD4<Float>]
    /// Whether a Relu that alone reads this node's output was folded into it (see `ONNXModel.foldActivations`).
    var relu = false

    /// Packs float `weight` (`[M, C/group, kH(, kW)]`) for `group` groups, or `nil` when the shape does not
    /// fit, blocks of four would waste more than half the work (fewer than two outputs per group), the packing
    /// is past `maximumBytes`, or `budget` refuses its bytes: the node then keeps the general path.
    init?(weight: Tensor, group: Int, budget: LoadBudget) {
        guard case .float(let values) = weight.storage, weight.shape.count == 3 || weight.shape.count == 4,
            group > 0, weight.shape[0] % group == 0, Tensor.checkedCount(weight.shape) == values.count
        else { return nil }
        let perGroupOut = weight.shape[0] / group
        let depth = weight.shape.dropFirst().reduce(1, *)
        guard perGroupOut >= 2, depth > 0 else { return nil }
        let blocks = (perGroupOut + Self.rows - 1) / Self.rows
        // Bounded by 4 × the weight count (blocks × rows < 2 × perGroupOut), which parsing already bounded.
        let count = group * blocks * depth * Self.rows
        let bytes = count * MemoryLayout<SIMD4<Float>>.stride
        guard bytes <= Self.maximumBytes, budget.admitPacked(bytes: bytes) else { return nil }
        var packed = [SIMD4<Float>](repeating: SIMD4(), count: count)
        for g in 0..<group {
            for block in 0..<blocks {
                for row in 0..<Self.rows where block * Self.rows + row < perGroupOut {
                    let channel = g * perGroupOut + block * Self.rows + row
                    let target = (g * blocks + block) * depth * Self.rows + row
                    for tap in 0..<depth {
                        packed[target + tap * Self.rows] = SIMD4(repeating: values[channel * depth + tap])
                    }
                }
            }
        }
        weightShape = weight.shape
        groups = group
        self.perGroupOut = perGroupOut
        self.depth = depth
        self.blocks = blocks
        weights = packed
    }
}
