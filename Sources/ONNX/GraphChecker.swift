/// Load-time checks: supported opsets and operators, topological order, names defined once, declared types.
struct GraphChecker {
    let model: ONNXModel

    func check() throws(ONNXError) {
        for (domain, version) in model.opsets {
            guard let range = Kernels.opsets[domain] else { throw .unsupportedOpset(domain: domain, version: version) }
            guard range.contains(version) else { throw .unsupportedOpset(domain: domain, version: version) }
        }
        let graph = model.graph
        var defined = Set(graph.initializers.keys)
        // Operators first: an unsupported operator is the error to report even when other checks would fail.
        for node in graph.nodes {
            guard Kernels.table["\(node.domain):\(node.opType)"] != nil else {
                throw .unsupportedOperator(node: node.name, op: node.opType, domain: node.domain)
            }
        }
        for input in graph.inputs {
            guard defined.insert(input.name).inserted else {
                throw .invalidGraph("'\(input.name)' is defined more than once")
            }
            try checkDeclared(input, role: "input")
        }
        for node in graph.nodes {
            let domain = node.domain
            guard model.opsets[domain] != nil else {
                throw .invalidGraph("node '\(node.name)' uses domain '\(domain)' the model does not import")
            }
            for input in node.inputs where !input.isEmpty {
                guard defined.contains(input) else {
                    throw .invalidGraph(
                        "node '\(node.name)' reads '\(input)' before it is defined (cycle or undefined name)")
                }
            }
            for output in node.outputs where !output.isEmpty {
                guard defined.insert(output).inserted else {
                    throw .invalidGraph("'\(output)' is defined more than once")
                }
            }
        }
        guard !graph.outputs.isEmpty else { throw .invalidGraph("the graph has no outputs") }
        for output in graph.outputs {
            guard defined.contains(output.name) else { throw .invalidGraph("output '\(output.name)' is never defined") }
            try checkDeclared(output, role: "output")
        }
    }

    private func checkDeclared(_ info: ValueInfo, role: String) throws(ONNXError) {
        switch info.type {
        case .tensor(let elementType, _):
            guard elementType.isSupported else {
                throw .invalidGraph("\(role) '\(info.name)' has unsupported element type \(elementType)")
            }
        case .sequence(.map):
            // ZipMap's sequence of maps, served as a probabilities tensor.
            guard role == "output" else { throw .invalidGraph("input '\(info.name)' has an unsupported type") }
        default:
            throw .invalidGraph("\(role) '\(info.name)' has no declared tensor type")
        }
    }
}
