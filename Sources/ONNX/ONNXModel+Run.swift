extension ONNXModel {
    /// Runs the graph on `inputs` (by graph input name) and returns every graph output by name.
    ///
    /// Inputs are checked against the declared element types, ranks and fixed dimensions first. The whole run
    /// is bounded by `limits`: going over the byte cap or the deadline throws, never traps.
    public func run(
        _ inputs: [String: Tensor], limits: ExecutionLimits = ExecutionLimits()
    ) throws(ONNXError)
        -> [String: Tensor]
    {
        // Values by slot (see `ExecutionPlan`); initializers are read through from the plan, never copied.
        var values = [Tensor?](repeating: nil, count: plan.slotCount)
        for declared in graph.inputs {
            guard let tensor = inputs[declared.name] else { throw .invalidInput("'\(declared.name)' is missing") }
            try Self.validate(tensor, against: declared)
            if let slot = plan.slots[declared.name] { values[slot] = tensor }
        }
        for name in inputs.keys where !graph.inputs.contains(where: { $0.name == name }) {
            throw .invalidInput("'\(name)' is not an input of the graph")
        }
        var context = ExecutionContext(limits: limits, opset: standardOpset)
        for handle in plan.nodes {
            try context.checkDeadline()
            guard let kernel = handle.node.kernel ?? Kernels.table["\(handle.node.domain):\(handle.node.opType)"]
            else {
                throw .unsupportedOperator(
                    node: handle.node.name, op: handle.node.opType, domain: handle.node.domain)
            }
            var arguments = handle.node.inputSlots.map { $0 < 0 ? nil : values[$0] ?? plan.initializers[$0] }
            // Values last read here leave the table first, so `arguments` holds their only reference.
            for position in handle.node.releasedInputs { values[handle.node.inputSlots[position]] = nil }
            context.consumable = handle.node.consumableInputs
            let results: [Tensor]
            do {
                results = try kernel.run(handle, &arguments, &context)
            } catch let error as ONNXError {
                throw error
            } catch let error as KernelError {
                throw .invalidNode(node: handle.node.name, op: handle.node.opType, reason: error.reason)
            } catch {
                throw .invalidNode(node: handle.node.name, op: handle.node.opType, reason: "failed")
            }
            for (index, slot) in handle.node.outputSlots.enumerated() where slot >= 0 {
                guard index < results.count else {
                    throw .invalidNode(
                        node: handle.node.name, op: handle.node.opType, reason: "output \(index) is not produced")
                }
                try context.reserve(results[index].count, width: max(results[index].elementType.byteWidth, 8))
                values[slot] = results[index]
            }
            context.consumable = 0
            for position in handle.node.releasedInputs {
                guard let dead = arguments[position] else { continue }
                arguments[position] = nil
                context.release(dead)
            }
        }
        var outputs: [String: Tensor] = [:]
        for output in graph.outputs {
            guard let slot = plan.slots[output.name] else { continue }
            outputs[output.name] = values[slot] ?? plan.initializers[slot]
        }
        return outputs
    }

    /// Checks a request tensor against its declared type: element type, rank and every fixed dimension.
    static func validate(_ tensor: Tensor, against declared: ValueInfo) throws(ONNXError) {
        guard Tensor.checkedCount(tensor.shape) == tensor.count, tensor.storage.matches(tensor.elementType) else {
            throw .invalidInput("'\(declared.name)' has a shape or storage that does not match its values")
        }
        guard case .tensor(let elementType, let shape) = declared.type else {
            throw .invalidInput("'\(declared.name)' has no declared tensor type")
        }
        guard tensor.elementType == elementType else {
            throw .invalidInput("'\(declared.name)' must be \(elementType), got \(tensor.elementType)")
        }
        guard let shape else { return }
        guard shape.count == tensor.shape.count else {
            throw .invalidInput("'\(declared.name)' must have rank \(shape.count), got \(tensor.shape.count)")
        }
        for (dimension, size) in zip(shape, tensor.shape) {
            if case .fixed(let expected) = dimension, expected != size {
                throw .invalidInput(
                    "'\(declared.name)' has shape \(tensor.shape), declared [\(shape.map(\.description).joined(separator: ", "))]"
                )
            }
        }
    }
}

/// A kernel's reason for refusing its inputs; the interpreter names the node and operator around it.
struct KernelError: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
