extension ONNXModel {
    /// Folds a Relu into the packed Conv or Gemm that produces its input when nothing else reads that output:
    /// the producer rectifies as it stores (no second pass over the activations) and the Relu node passes its input
    /// through. The nodes stay in the graph as the file lists them. A graph with an attribute the interpreter
    /// does not model (a subgraph could read the value) is left as it is.
    mutating func foldActivations() {
        for node in graph.nodes {
            for attribute in node.attributes.values { if case .unsupported = attribute { return } }
        }
        var readers: [String: Int] = [:]
        for node in graph.nodes {
            for name in node.inputs where !name.isEmpty { readers[name, default: 0] += 1 }
        }
        let outputs = Set(graph.outputs.map(\.name))
        var producers: [String: Int] = [:]
        for (index, node) in graph.nodes.enumerated() {
            guard node.outputs.count == 1 else { continue }
            switch node.prepared {
            case .conv, .gemm: producers[node.outputs[0]] = index
            default: continue
            }
        }
        for index in graph.nodes.indices {
            let node = graph.nodes[index]
            guard node.domain.isEmpty, node.opType == "Relu", node.inputs.count == 1, node.outputs.count == 1,
                let producer = producers[node.inputs[0]], producer < index, readers[node.inputs[0]] == 1,
                !outputs.contains(node.inputs[0])
            else { continue }
            switch graph.nodes[producer].prepared {
            case .conv(var packed):
                packed.relu = true
                graph.nodes[producer].prepared = .conv(packed)
            case .gemm(var packed):
                packed.relu = true
                graph.nodes[producer].prepared = .gemm(packed)
            default: continue
            }
            graph.nodes[index].prepared = .foldedRelu
            graph.nodes[index].kernel = KernelBox(Kernels.foldedRelu)
        }
    }
}
