public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A parsed and checked ONNX model, ready to run.
///
/// Loading refuses, with an `ONNXError` naming the node and operator, any model the interpreter cannot run in
/// full: unsupported operators or opsets, graphs out of topological order, names defined twice, undeclared
/// input or output types. Nothing unsupported can surface at request time.
public struct ONNXModel: Sendable {
    /// The ONNX IR version.
    public var irVersion: Int64
    /// Operator set versions by domain (`""` is the standard `ai.onnx` set).
    public var opsets: [String: Int64]
    /// The exporter's name, such as `skl2onnx` or `pytorch`.
    public var producerName: String
    /// The exporter's version.
    public var producerVersion: String
    /// `metadata_props` from the file.
    public var metadata: [String: String]
    /// The graph.
    public var graph: Graph
    /// Where `run` keeps each value, laid out at load.
    var plan = ExecutionPlan()

    init(
        irVersion: Int64, opsets: [String: Int64], producerName: String, producerVersion: String,
        metadata: [String: String], graph: Graph
    ) {
        self.irVersion = irVersion
        self.opsets = opsets
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.metadata = metadata
        self.graph = graph
    }

    /// Reads and checks the model at `url`; external data may live only inside the file's directory.
    public init(contentsOf url: URL) throws(ONNXError) {
        try self.init(contentsOf: url, decodedByteLimit: LoadBudget.defaultLimit)
    }

    /// Reads the model at `url` with at most `decodedByteLimit` bytes of decoded initializers (tests use a low one).
    init(contentsOf url: URL, decodedByteLimit: Int) throws(ONNXError) {
        // Opened like an external data file: a symbolic link, FIFO or device is refused, and nothing blocks.
        let bytes: [UInt8]
        do {
            let file = try RegularFile(at: AT_FDCWD, url.path(percentEncoded: false))
            bytes = try file.read(offset: 0, count: file.size)
        } catch {
            throw .malformed("the model file \(error.reason)")
        }
        try self.init(bytes: bytes, source: .directory(url.deletingLastPathComponent()), limit: decodedByteLimit)
    }

    /// Parses and checks a serialized `ModelProto`; `directory` is where external data may be read, and `nil`
    /// refuses external data.
    public init(bytes: [UInt8], directory: URL? = nil) throws(ONNXError) {
        try self.init(bytes: bytes, source: directory.map { .directory($0) } ?? .none)
    }

    /// Parses and checks the model stored as `files[path]`, among a version's verified files (keyed by
    /// `/`-separated relative path): external data is read only from the other entries of `files`, relative to
    /// the model's folder, and never from disk.
    public init(file path: String, in files: [String: Data]) throws(ONNXError) {
        guard let data = files[path] else { throw .malformed("the model file is not among the files") }
        let folder = path.split(separator: "/").dropLast().map { $0 + "/" }.joined()
        try self.init(bytes: [UInt8](data), source: .files(files, folder: folder))
    }

    private init(bytes: [UInt8], source: ExternalDataSource, limit: Int = LoadBudget.defaultLimit) throws(ONNXError) {
        let budget = LoadBudget(modelBytes: bytes.count, limit: limit)
        self = try ModelParser(bytes: bytes, source: source, budget: budget).parse()
        try GraphChecker(model: self).check()
        try prepare(budget: budget)
        foldActivations()
        planBufferReuse()
        planSlots()
    }

    /// Value liveness, once at load: the last node reading each intermediate value releases it (see
    /// `Node.releasedInputs`). Graph inputs, outputs and initializers are never released. A graph with an
    /// attribute the interpreter does not model (a subgraph could read outer values) gets no plan.
    private mutating func planBufferReuse() {
        for node in graph.nodes {
            for attribute in node.attributes.values { if case .unsupported = attribute { return } }
        }
        var kept = Set(graph.initializers.keys)
        kept.formUnion(graph.inputs.map(\.name))
        kept.formUnion(graph.outputs.map(\.name))
        var lastUse: [String: Int] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for name in node.inputs where !name.isEmpty { lastUse[name] = index }
        }
        for index in graph.nodes.indices {
            let inputs = graph.nodes[index].inputs
            var released: [Int] = []
            var consumable: UInt64 = 0
            for (position, name) in inputs.enumerated()
            where !name.isEmpty && !kept.contains(name) && lastUse[name] == index {
                let first = inputs.firstIndex(of: name) ?? position
                if first == position { released.append(position) }
                if position < 64, inputs.lazy.filter({ $0 == name }).count == 1 {
                    consumable |= 1 << UInt64(position)
                }
            }
            graph.nodes[index].releasedInputs = released
            graph.nodes[index].consumableInputs = consumable
        }
    }

    /// Decodes tree ensembles and lays out constant Gemm and Conv weights once, so requests only compute.
    private mutating func prepare(budget: LoadBudget) throws(ONNXError) {
        for index in graph.nodes.indices {
            let node = graph.nodes[index]
            graph.nodes[index].kernel = Kernels.table["\(node.domain):\(node.opType)"]
            if node.domain.isEmpty, ["Conv", "MaxPool", "AveragePool"].contains(node.opType) {
                graph.nodes[index].window = WindowAttributes(node: node)
            }
            do {
                switch (node.domain, node.opType) {
                case ("ai.onnx.ml", "TreeEnsembleClassifier"), ("ai.onnx.ml", "TreeEnsembleRegressor"):
                    graph.nodes[index].prepared = .trees(try TreeEnsemble(node: node))
                case ("", "Gemm"):
                    guard node.inputs.count > 1, let weights = graph.initializers[node.inputs[1]],
                        let packed = PackedGemm(node: node, weight: weights, budget: budget)
                    else { continue }
                    graph.nodes[index].prepared = .gemm(packed)
                case ("", "Conv"):
                    // Constant float W only; anything else (or a packing the budget refuses) keeps im2col.
                    guard node.inputs.count > 1, let weights = graph.initializers[node.inputs[1]],
                        let packed = PackedConv(
                            weight: weights, group: WindowAttributes(node: node).group, budget: budget)
                    else { continue }
                    graph.nodes[index].prepared = .conv(packed)
                default: continue
                }
            } catch let error as KernelError {
                throw .invalidNode(node: node.name, op: node.opType, reason: error.reason)
            } catch {
                throw .invalidNode(node: node.name, op: node.opType, reason: "failed")
            }
        }
    }

    /// The standard-domain opset version the graph was exported with.
    var standardOpset: Int64 { opsets[""] ?? opsets["ai.onnx"] ?? 1 }
}
