/// An operator implementation: the node (for attributes), its inputs (`nil` for omitted optional ones), and
/// the request's limits. Throws `KernelError` (or `ONNXError` for limits). The inputs are `inout` so a kernel
/// can take the storage of an input no later node reads (`ExecutionContext.takeFloats`) and work in place.
typealias Kernel = @Sendable (Node, inout [Tensor?], inout ExecutionContext) throws -> [Tensor]

/// The operators the interpreter implements, by `domain:opType`.
enum Kernels {
    /// Operator set versions the interpreter accepts, by domain.
    static let opsets: [String: ClosedRange<Int64>] = ["": 1...22, "ai.onnx.ml": 1...4]

    static let table: [String: Kernel] = {
        var table: [String: Kernel] = [:]
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
