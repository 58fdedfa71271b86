import ProtobufWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// ONNX `ModelProto` and TensorFlow `SavedModel` files, read with the project's protobuf decoder: ONNX external
/// data that leaves the model's directory and operators outside the standard domains; SavedModel operators that
/// run Python or touch files.
extension ContentScan {
    /// Protobuf models are decoded in memory up to this size; larger ones are a finding, never passed unscanned.
    static let maxProtobufSize: UInt64 = 512 << 20
    static let standardONNXDomains: Set<String> = ["", "ai.onnx", "ai.onnx.ml", "ai.onnx.preview.training"]
    static let pythonOps: Set<String> = ["PyFunc", "PyFuncStateless", "EagerPyFunc"]
    static let fileOps: Set<String> = ["ReadFile", "WriteFile", "MatchingFiles"]

    enum ProtobufModel {
        case onnx
        case savedModel
    }

    /// The protobuf models the whole file can be, by a structural parse in any field order, with default-valued
    /// fields omitted and unknown fields allowed (as protobuf parsers accept them):
    /// - ONNX `ModelProto`: a `graph` (field 7) that parses as a message;
    /// - TensorFlow `SavedModel`: `meta_graphs` (field 2), each parsing as a `MetaGraphDef` whose `graph_def`
    ///   (field 2) parses as a message, and `saved_model_schema_version` (field 1), when present, a varint.
    /// A file can be both (an unknown field 7 in a SavedModel): then it is scanned as both, so an unknown field
    /// never hides the other reading. Empty for anything else.
    static func protobufModels(_ bytes: [UInt8]) -> [ProtobufModel] {
        var reader = ProtobufReader(bytes)
        var graphs: [ProtobufField] = []
        var metaGraphs: [ProtobufField] = []
        var versionIsVarint = true
        do {
            while let field = try reader.next() {
                switch (field.number, field.value) {
                case (7, .lengthDelimited): graphs.append(field)
                case (2, .lengthDelimited): metaGraphs.append(field)
                case (1, .varint): break
                case (1, _): versionIsVarint = false
                default: break
                }
            }
        } catch { return [] }
        func parses(_ reader: ProtobufReader, _ field: ProtobufField, inner: Int? = nil) -> Bool {
            guard var message = try? reader.message(field) else { return false }
            do {
                while let part = try message.next() {
                    if let inner, part.number == inner {
                        guard case .lengthDelimited = part.value, parses(message, part) else { return false }
                    }
                }
            } catch { return false }
            return true
        }
        var kinds: [ProtobufModel] = []
        if graphs.contains(where: { parses(reader, $0) }) { kinds.append(.onnx) }
        if versionIsVarint, !metaGraphs.isEmpty, metaGraphs.allSatisfy({ parses(reader, $0, inner: 2) }) {
            kinds.append(.savedModel)
        }
        return kinds
    }

    /// Scans a protobuf model already recognised by `protobufModel`.
    func scanProtobufModel(_ bytes: [UInt8], kind: ProtobufModel) {
        do {
            switch kind {
            case .onnx:
                findings.recognised("onnx")
                var reader = ProtobufReader(bytes)
                while let field = try reader.next() {
                    switch field.number {
                    case 7:
                        var graph = try reader.message(field)
                        try onnxGraph(&graph)
                    case 8:
                        var opset = try reader.message(field)
                        while let part = try opset.next() {
                            guard part.number == 1 else { continue }
                            let domain = try opset.string(part)
                            checkDomain(domain, subject: "opset_import " + domain)
                        }
                    case 20:  // TrainingInfoProto: initialization (1) and algorithm (2) are graphs
                        var training = try reader.message(field)
                        while let part = try training.next() {
                            guard part.number == 1 || part.number == 2 else { continue }
                            var graph = try training.message(part)
                            try onnxGraph(&graph)
                        }
                    case 25:  // FunctionProto: nodes (7) and opset_import (9)
                        var function = try reader.message(field)
                        while let part = try function.next() {
                            switch part.number {
                            case 7:
                                var node = try function.message(part)
                                try onnxNode(&node)
                            case 9:
                                var opset = try function.message(part)
                                while let entry = try opset.next() {
                                    guard entry.number == 1 else { continue }
                                    let domain = try opset.string(entry)
                                    checkDomain(domain, subject: "opset_import " + domain)
                                }
                            default: break
                            }
                        }
                    default: break
                    }
                }
            case .savedModel:
                findings.recognised("tensorflow-savedmodel")
                var reader = ProtobufReader(bytes)
                while let field = try reader.next() {
                    guard field.number == 2 else { continue }
                    var metaGraph = try reader.message(field)
                    while let part = try metaGraph.next() {
                        guard part.number == 2 else { continue }
                        var graph = try metaGraph.message(part)
                        try tensorflowGraph(&graph)
                    }
                }
            }
        } catch {
            findings.add(
                "protobuf.malformed", .high, at: nil, subject: String(describing: error),
                "the model's protobuf could not be decoded to the end; the rest is not scanned")
        }
    }

    private func checkDomain(_ domain: String, subject: String) {
        guard !Self.standardONNXDomains.contains(domain) else { return }
        findings.add(
            "onnx.custom-domain", .medium, at: nil, subject: subject,
            "an operator domain outside the ONNX standard: a runtime loads custom (native) code for it")
    }

    private func onnxGraph(_ graph: inout ProtobufReader) throws {
        while let field = try graph.next() {
            switch field.number {
            case 1:
                var node = try graph.message(field)
                try onnxNode(&node)
            case 5:
                var tensor = try graph.message(field)
                try onnxTensor(&tensor)
            case 15:
                var sparse = try graph.message(field)
                try onnxSparseTensor(&sparse)
            default: break
            }
        }
    }

    /// SparseTensorProto: values (1) and indices (2) are tensors.
    private func onnxSparseTensor(_ sparse: inout ProtobufReader) throws {
        while let part = try sparse.next() {
            guard part.number == 1 || part.number == 2 else { continue }
            var tensor = try sparse.message(part)
            try onnxTensor(&tensor)
        }
    }

    private func onnxNode(_ node: inout ProtobufReader) throws {
        var opType = ""
        var domain = ""
        while let field = try node.next() {
            switch field.number {
            case 4: opType = try node.string(field)
            case 7: domain = try node.string(field)
            case 5:  // AttributeProto: t (5), g (6), tensors (10), graphs (11), sparse_tensor(s) (22, 23)
                var attribute = try node.message(field)
                while let part = try attribute.next() {
                    switch part.number {
                    case 5, 10:
                        var tensor = try attribute.message(part)
                        try onnxTensor(&tensor)
                    case 6, 11:
                        var graph = try attribute.message(part)
                        try onnxGraph(&graph)
                    case 22, 23:
                        var sparse = try attribute.message(part)
                        try onnxSparseTensor(&sparse)
                    default: break
                    }
                }
            default: break
            }
        }
        checkDomain(domain, subject: "\(domain):\(opType)")
    }

    private func onnxTensor(_ tensor: inout ProtobufReader) throws {
        var name = ""
        var location: String?
        while let field = try tensor.next() {
            switch field.number {
            case 8: name = try tensor.string(field)
            case 13:  // StringStringEntryProto
                var entry = try tensor.message(field)
                var key = ""
                var value = ""
                while let part = try entry.next() {
                    if part.number == 1 { key = try entry.string(part) }
                    if part.number == 2 { value = try entry.string(part) }
                }
                if key == "location" { location = value }
            default: break
            }
        }
        if let location { checkExternalLocation(location, tensor: name) }
    }

    /// External data must name a file inside the model's directory: not absolute, no `..`, no symbolic link on
    /// the way (checked when the model is a file on disk).
    private func checkExternalLocation(_ location: String, tensor: String) {
        let subject = "tensor \(tensor.prefix(100)): \(location.prefix(200))"
        let isAbsolute =
            location.hasPrefix("/") || location.hasPrefix("\\") || location.contains("\0")
            || (location.count >= 2 && location.dropFirst().first == ":")
        let components = location.split(whereSeparator: { $0 == "/" || $0 == "\\" }).map(String.init)
        if location.isEmpty || isAbsolute {
            findings.add(
                "onnx.external-data-absolute", .high, at: nil, subject: subject,
                "external data at an absolute path: loading the model reads any file the loader can")
        } else if components.contains("..") {
            findings.add(
                "onnx.external-data-escape", .high, at: nil, subject: subject,
                "external data outside the model's directory: loading the model reads any file the loader can")
        } else if let directory {
            var path = directory
            for component in components where component != "." {
                path += "/" + component
                var status = stat()
                guard lstat(path, &status) == 0 else { break }
                if (status.st_mode & S_IFMT) == S_IFLNK {
                    findings.add(
                        "onnx.external-data-symlink", .high, at: nil, subject: subject,
                        "external data reached through a symbolic link, which can point anywhere")
                    break
                }
            }
        }
    }

    private func tensorflowGraph(_ graph: inout ProtobufReader) throws {
        while let field = try graph.next() {
            switch field.number {
            case 1:
                var node = try graph.message(field)
                try tensorflowNode(&node)
            case 2:  // FunctionDefLibrary: functions (1), each with node_def (3)
                var library = try graph.message(field)
                while let part = try library.next() {
                    guard part.number == 1 else { continue }
                    var function = try library.message(part)
                    while let item = try function.next() {
                        guard item.number == 3 else { continue }
                        var node = try function.message(item)
                        try tensorflowNode(&node)
                    }
                }
            default: break
            }
        }
    }

    private func tensorflowNode(_ node: inout ProtobufReader) throws {
        var name = ""
        var op = ""
        while let field = try node.next() {
            if field.number == 1 { name = try node.string(field) }
            if field.number == 2 { op = try node.string(field) }
        }
        let subject = "\(op) (node \(name.prefix(100)))"
        if Self.pythonOps.contains(op) {
            findings.add(
                "savedmodel.python-op", .critical, at: nil, subject: subject,
                "an operator that calls back into Python: it runs code when the graph executes")
        } else if Self.fileOps.contains(op) {
            findings.add(
                "savedmodel.file-op", .high, at: nil, subject: subject,
                "an operator that reads, writes or lists files on the serving host")
        }
    }
}
