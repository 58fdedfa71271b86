/// Why an ONNX model was refused or a request failed. Descriptions are fixed text naming the model part that
/// failed (node, operator, tensor name), never tensor values.
public enum ONNXError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file is not a well-formed ModelProto (with the decoder's or the parser's reason).
    case malformed(String)
    /// An operator the interpreter does not implement, named with its node.
    case unsupportedOperator(node: String, op: String, domain: String)
    /// An operator set the interpreter does not implement.
    case unsupportedOpset(domain: String, version: Int64)
    /// The graph breaks a structural rule (order, names defined once, declared types).
    case invalidGraph(String)
    /// A node's inputs or attributes do not fit its operator.
    case invalidNode(node: String, op: String, reason: String)
    /// External data that is absolute, escapes the model's directory, is a symlink, or cannot be read.
    case externalData(String)
    /// A request input is missing, unknown, or does not match the graph's declaration.
    case invalidInput(String)
    /// Running the request would allocate more than the request's cap.
    case allocationLimit(Int)
    /// Running the request took longer than its deadline.
    case deadlineExceeded

    public var description: String {
        switch self {
        case .malformed(let reason): "ONNX model is malformed: \(reason)"
        case .unsupportedOperator(let node, let op, let domain):
            "ONNX node '\(node)': operator \(domain.isEmpty ? "" : domain + ".")\(op) is not supported"
        case .unsupportedOpset(let domain, let version):
            "ONNX opset \(domain.isEmpty ? "ai.onnx" : domain) version \(version) is not supported"
        case .invalidGraph(let reason): "ONNX graph is invalid: \(reason)"
        case .invalidNode(let node, let op, let reason): "ONNX node '\(node)' (\(op)): \(reason)"
        case .externalData(let reason): "ONNX external data refused: \(reason)"
        case .invalidInput(let reason): "ONNX request input is invalid: \(reason)"
        case .allocationLimit(let bytes): "ONNX request exceeds its allocation cap of \(bytes) bytes"
        case .deadlineExceeded: "ONNX request exceeded its deadline"
        }
    }
}
