/// The value table `run` works in, laid out once at load: every value name (initializer, graph input, node
/// output) gets a slot, so a run indexes an array instead of hashing names for every node input and output.
struct ExecutionPlan: Sendable {
    /// How many slots a run's table has.
    var slotCount = 0
    /// The initializers at their slots (`nil` elsewhere); a run reads through to them and never writes them.
    var initializers: [Tensor?] = []
    /// Each graph input's slot, in `graph.inputs` order.
    var inputSlots: [Int] = []
    /// Each graph output's slot, in `graph.outputs` order.
    var outputSlots: [Int] = []
}

extension ONNXModel {
    /// Numbers every value name and records each node's input and output slots (see `ExecutionPlan`).
    mutating func planSlots() {
        var slots: [String: Int] = [:]
        func slot(_ name: String) -> Int {
            if name.isEmpty { return -1 }
            if let existing = slots[name] { return existing }
            slots[name] = slots.count
            return slots.count - 1
        }
        var initial: [(Int, Tensor)] = []
        for (name, tensor) in graph.initializers { initial.append((slot(name), tensor)) }
        plan.inputSlots = graph.inputs.map { slot($0.name) }
        for index in graph.nodes.indices {
            // Outputs first would not matter: names are defined once (GraphChecker).
            graph.nodes[index].inputSlots = graph.nodes[index].inputs.map(slot)
            graph.nodes[index].outputSlots = graph.nodes[index].outputs.map(slot)
        }
        plan.outputSlots = graph.outputs.map { slot($0.name) }
        plan.slotCount = slots.count
        plan.initializers = Array(repeating: nil, count: slots.count)
        for (position, tensor) in initial { plan.initializers[position] = tensor }
    }
}
