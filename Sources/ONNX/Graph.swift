/// An ONNX graph: its nodes in file order, initializers, and declared inputs and outputs.
public struct Graph: Sendable {
    /// The graph's name.
    public var name: String
    /// The nodes, in the order the file lists them (checked to be topological).
    public var nodes: [Node]
    /// Constant tensors by name.
    public var initializers: [String: Tensor]
    /// The inputs a request supplies (initializers listed as inputs by older exporters are left out).
    public var inputs: [ValueInfo]
    /// The outputs a request returns.
    public var outputs: [ValueInfo]
}

/// One operator application.
public struct Node: Sendable {
    /// The node's name (may be empty in the file; a stand-in naming its first output is used then).
    public var name: String
    /// The operator, such as `Gemm` or `TreeEnsembleClassifier`.
    public var opType: String
    /// The operator's domain: empty (or `ai.onnx`) for the standard set, `ai.onnx.ml` for classical ML.
    public var domain: String
    /// Input value names; an empty name is an omitted optional input.
    public var inputs: [String]
    /// Output value names; an empty name is an omitted optional output.
    public var outputs: [String]
    /// Attributes by name.
    public var attributes: [String: Attribute]
    /// Work done once at load for this node (decoded trees, pre-transposed weights).
    var prepared: Prepared?
    /// The operator's kernel, looked up once at load instead of by name on every request.
    var kernel: KernelBox?
    /// Positions in `inputs` (the first of each name) of values no later node reads: after this node runs, the
    /// interpreter drops them and keeps their buffers for reuse. Never a graph input, output or initializer.
    var releasedInputs: [Int] = []
    /// Bit `i` set when input `i` is released here and named once in `inputs`: the kernel may write over it.
    var consumableInputs: UInt64 = 0
    /// Conv's and the pools' window attributes, read once at load.
    var window: WindowAttributes?
    /// Each input's slot in the run's value table (`ExecutionPlan`), -1 for an omitted optional input.
    var inputSlots: [Int] = []
    /// Each output's slot in the run's value table, -1 for an omitted optional output.
    var outputSlots: [Int] = []

    init(
        name: String, opType: String, domain: String, inputs: [String], outputs: [String],
        attributes: [String: Attribute]
    ) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }
}

/// What a node computes once at load instead of on every request.
enum Prepared: Sendable {
    /// A tree ensemble decoded from its attributes (and checked: errors surface at load).
    case trees(TreeEnsemble)
    /// Gemm's constant B laid out `[K, N]` with padded rows (and whether a following Relu was folded in).
    case gemm(PackedGemm)
    /// Conv's constant W packed for the direct kernel (and whether a following Relu was folded in).
    case conv(PackedConv)
    /// A Relu whose producer applies it (a packed Conv or Gemm): the node passes its input through.
    case foldedRelu
}

/// A node attribute's value.
public enum Attribute: Sendable {
    case float(Float)
    case int(Int64)
    case string(String)
    case tensor(Tensor)
    case floats([Float])
    case ints([Int64])
    case strings([String])
    /// A subgraph or another kind the interpreter does not use.
    case unsupported
}

/// A declared graph input or output.
public struct ValueInfo: Sendable, Equatable {
    /// The value's name.
    public var name: String
    /// Its declared type, or `nil` when the file declares none.
    public var type: ValueType?
}

/// A declared value type.
public indirect enum ValueType: Sendable, Equatable {
    /// A tensor of `elementType`; `shape` is `nil` when the rank is unknown.
    case tensor(elementType: ElementType, shape: [Dimension]?)
    /// A sequence (ZipMap's output is a sequence of maps).
    case sequence(ValueType)
    /// A map from `key` to `value`.
    case map(key: ElementType, value: ValueType)
    /// A type the interpreter does not model (optional, sparse).
    case other
}

/// One dimension of a declared shape.
public enum Dimension: Sendable, Equatable, CustomStringConvertible {
    /// A fixed size.
    case fixed(Int)
    /// A named dynamic size, such as `batch`.
    case symbolic(String)
    /// A dynamic size with no name.
    case unknown

    /// The size, or -1 when dynamic (as Open Inference Protocol metadata writes it).
    public var size: Int {
        if case .fixed(let size) = self { return size }
        return -1
    }

    public var description: String {
        switch self {
        case .fixed(let size): "\(size)"
        case .symbolic(let name): name
        case .unknown: "?"
        }
    }
}
