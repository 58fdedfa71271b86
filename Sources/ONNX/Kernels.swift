/// An operator implementation: the node (for attributes), its inputs (`nil` for omitted optional ones), and
/// the request's limits. Throws `KernelError` (or `ONNXError` for limits). The inputs are `inout` so a kernel
/// can take the storage of an input no later node reads (`ExecutionContext.takeFloats`) and work in place.
typealias Kernel = @Sendable (NodeHandle, inout [Tensor?], inout ExecutionContext) throws -> [Tensor]

/// A kernel held in a struct: a closure stored directly in a generic container (the operator tables) is
/// re-abstracted, and every call then went through two thunks that copied the whole `Node` (retaining each of
/// its fields), a large share of a small model's per-node time. The struct keeps the closure's own form.
struct KernelBox: Sendable {
    let run: Kernel
    init(_ run: @escaping Kernel) { self.run = run }
}

/// The operators the interpreter implements, by `domain:opType`.
enum Kernels {
    /// Operator set versions the interpreter accepts, by domain.
    static let opsets: [String: ClosedRange<Int64>] = ["": 1...22, "ai.onnx.ml": 1...4]

    static let table: [String: KernelBox] = {
        var table: [String: KernelBox] = [:]
        for group in [elementwise, linear, shapes, reductions, spatial] {
            for (name, kernel) in group { table[":" + name] = kernel }
        }
        for (name, kernel) in machineLearning { table["ai.onnx.ml:" + name] = kernel }
        return table
    }()

    /// The supported operators, `ai.onnx.ml.` prefixed for that domain, sorted (for documentation and errors).
    static var supportedOperators: [String] {
        table.keys.map { $0.hasPrefix(":") ? String($0.dropFirst()) : $0.replacingOccurrences(of: ":", with: ".") }
            .sorted()
    }
}

extension ONNXModel {
    /// Every operator the interpreter implements (`ai.onnx.ml.`-prefixed for the classical ML domain).
    public static var supportedOperators: [String] { Kernels.supportedOperators }
}
