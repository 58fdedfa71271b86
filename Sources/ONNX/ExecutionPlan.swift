/// The value table `run` works in, laid out once at load: every value name (initializer, graph input, node
/// output) gets a slot, so a run indexes an array instead of hashing names for every node input and output.
struct ExecutionPlan: Sendable {
    /// How many slots a run's table has.
    var slotCount = 0
    /// The initializers at their slots (`nil` elsewhere); a run reads through to them and never writes them.
    var initializers: [Tensor?] = []
    /// Every value's slot by name: a run finds the graph's inputs and outputs here, by name as before.
    var slots: [String: Int] = [:]
    /// The nodes as loaded (with their kernels, prepared work and slots), each behind a reference whose `node`
    /// is a `let`: passing it to a kernel borrows it, where a node read from an array or through a pointer was
    /// copied for the call (every field retained and released, for every node of every run).
    var nodes: [NodeHandle] = []
}

/// One loaded node, immutable, shared by every run; kernels receive it (its properties and attribute readers
/// forward to the node), so a call passes one reference instead of copying the node.
@dynamicMemberLookup
final class NodeHandle: Sendable {
    let node: Node
    init(_ node: Node) { self.node = node }

    subscript<Value>(dynamicMember keyPath: KeyPath<Node, Value>) -> Value { node[keyPath: keyPath] }

    func int(_ name: String, _ fallback: Int64) -> Int64 { node.int(name, fallback) }
    func float(_ name: String, _ fallback: Float) -> Float { node.float(name, fallback) }
    func string(_ name: String, _ fallback: String) -> String { node.string(name, fallback) }
    func ints(_ name: String) -> [Int64]? { node.ints(name) }
    func floats(_ name: String) -> [Float]? { node.floats(name) }
    func strings(_ name: String) -> [String]? { node.strings(name) }
    func tensor(_ name: String) -> Tensor? { node.tensor(name) }
    func doubles(_ name: String) -> [Double]? { node.doubles(name) }
}

extension ONNXModel {
    /// Numbers every value name and records each node's input and output slots (see `ExecutionPlan`); last
    /// step of loading, after every other change to the nodes.
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
        for input in graph.inputs { _ = slot(input.name) }
        for index in graph.nodes.indices {
            graph.nodes[index].inputSlots = graph.nodes[index].inputs.map(slot)
            graph.nodes[index].outputSlots = graph.nodes[index].outputs.map(slot)
        }
        for output in graph.outputs { _ = slot(output.name) }
        plan.slotCount = slots.count
        plan.initializers = Array(repeating: nil, count: slots.count)
        for (position, tensor) in initial { plan.initializers[position] = tensor }
        plan.slots = slots
        plan.nodes = graph.nodes.map(NodeHandle.init)
    }
}
