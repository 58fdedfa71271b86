import Foundation
import ProtobufWire

/// Reads a `ModelProto` from the wire into `ONNXModel`, resolving external data.
struct ModelParser {
    let bytes: [UInt8]
    let source: ExternalDataSource
    let budget: LoadBudget

    func parse() throws(ONNXError) -> ONNXModel {
        do {
            return try parseModel()
        } catch let error as ONNXError {
            throw error
        } catch let error as ProtobufError {
            throw .malformed(error.description)
        } catch {
            throw .malformed("unreadable model")
        }
    }

    private func parseModel() throws -> ONNXModel {
        var reader = ProtobufReader(bytes)
        var model = ONNXModel(
            irVersion: 0, opsets: [:], producerName: "", producerVersion: "", metadata: [:],
            graph: Graph(name: "", nodes: [], initializers: [:], inputs: [], outputs: []))
        var sawGraph = false
        while let field = try reader.next() {
            switch field.number {
            case 1: model.irVersion = try field.int64()
            case 2: model.producerName = try reader.string(field)
            case 3: model.producerVersion = try reader.string(field)
            case 7:
                var graph = try reader.message(field)
                model.graph = try parseGraph(&graph)
                sawGraph = true
            case 8:
                var opset = try reader.message(field)
                var domain = ""
                var version: Int64 = 0
                while let part = try opset.next() {
                    if part.number == 1 { domain = try opset.string(part) }
                    if part.number == 2 { version = try part.int64() }
                }
                model.opsets[domain == "ai.onnx" ? "" : domain] = version
            case 14:
                let (key, value) = try parseEntry(try reader.message(field))
                model.metadata[key] = value
            default: break
            }
        }
        guard sawGraph else { throw ONNXError.malformed("the model has no graph") }
        // The IR requires opset_import; without it no operator's version is known.
        guard !model.opsets.isEmpty else { throw ONNXError.malformed("the model imports no operator set") }
        return model
    }

    private func parseEntry(_ message: ProtobufReader) throws -> (String, String) {
        var entry = message
        var key = ""
        var value = ""
        while let part = try entry.next() {
            if part.number == 1 { key = try entry.string(part) }
            if part.number == 2 { value = try entry.string(part) }
        }
        return (key, value)
    }

    private func parseGraph(_ reader: inout ProtobufReader) throws -> Graph {
        var graph = Graph(name: "", nodes: [], initializers: [:], inputs: [], outputs: [])
        var inputs: [ValueInfo] = []
        while let field = try reader.next() {
            switch field.number {
            case 1:
                var node = try reader.message(field)
                graph.nodes.append(try parseNode(&node))
            case 2: graph.name = try reader.string(field)
            case 5:
                var message = try reader.message(field)
                let proto = try TensorProto(reading: &message)
                guard !proto.name.isEmpty else { throw ONNXError.malformed("an initializer has no name") }
                guard graph.initializers[proto.name] == nil else {
                    throw ONNXError.invalidGraph("'\(proto.name)' is defined more than once")
                }
                graph.initializers[proto.name] = try resolve(proto)
            case 11:
                var info = try reader.message(field)
                inputs.append(try parseValueInfo(&info))
            case 12:
                var info = try reader.message(field)
                graph.outputs.append(try parseValueInfo(&info))
            case 15: throw ONNXError.malformed("sparse initializers are not supported")
            default: break
            }
        }
        // Older exporters list initializers among the inputs too; they are constants, not request inputs.
        graph.inputs = inputs.filter { graph.initializers[$0.name] == nil }
        return graph
    }

    private func parseNode(_ reader: inout ProtobufReader) throws -> Node {
        var node = Node(name: "", opType: "", domain: "", inputs: [], outputs: [], attributes: [:])
        while let field = try reader.next() {
            switch field.number {
            case 1: node.inputs.append(try reader.string(field))
            case 2: node.outputs.append(try reader.string(field))
            case 3: node.name = try reader.string(field)
            case 4: node.opType = try reader.string(field)
            case 7: node.domain = try reader.string(field)
            case 5:
                var attribute = try reader.message(field)
                let (name, value) = try parseAttribute(&attribute)
                node.attributes[name] = value
            default: break
            }
        }
        if node.domain == "ai.onnx" { node.domain = "" }
        if node.name.isEmpty { node.name = "\(node.opType) -> \(node.outputs.first ?? "")" }
        return node
    }

    private func parseAttribute(_ reader: inout ProtobufReader) throws -> (String, Attribute) {
        var name = ""
        var type = 0
        var float: Float = 0
        var int: Int64 = 0
        var string = ""
        var tensor: Tensor?
        var floats: [UInt32] = []
        var ints: [UInt64] = []
        var strings: [String] = []
        while let field = try reader.next() {
            switch field.number {
            case 1: name = try reader.string(field)
            case 20: type = Int(clamping: try field.int64())
            case 2: float = try field.float()
            case 3: int = try field.int64()
            case 4: string = String(decoding: try reader.bytes(field), as: UTF8.self)
            case 5:
                var message = try reader.message(field)
                tensor = try resolve(try TensorProto(reading: &message))
            case 7: try reader.appendFixed32(field, to: &floats)
            case 8: try reader.appendVarints(field, to: &ints)
            case 9: strings.append(String(decoding: try reader.bytes(field), as: UTF8.self))
            default: break
            }
        }
        let value: Attribute
        switch type {
        case 1: value = .float(float)
        case 2: value = .int(int)
        case 3: value = .string(string)
        case 4:
            guard let tensor else { throw ONNXError.malformed("attribute '\(name)' has no tensor") }
            value = .tensor(tensor)
        case 6: value = .floats(floats.map(Float.init(bitPattern:)))
        case 7: value = .ints(ints.map { Int64(bitPattern: $0) })
        case 8: value = .strings(strings)
        default: value = .unsupported
        }
        return (name, value)
    }

    private func parseValueInfo(_ reader: inout ProtobufReader) throws -> ValueInfo {
        var info = ValueInfo(name: "", type: nil)
        while let field = try reader.next() {
            switch field.number {
            case 1: info.name = try reader.string(field)
            case 2:
                var type = try reader.message(field)
                info.type = try parseType(&type)
            default: break
            }
        }
        return info
    }

    private func parseType(_ reader: inout ProtobufReader) throws -> ValueType {
        var result = ValueType.other
        while let field = try reader.next() {
            switch field.number {
            case 1:
                var tensor = try reader.message(field)
                var elementType = 0
                var shape: [Dimension]?
                while let part = try tensor.next() {
                    if part.number == 1 { elementType = Int(clamping: try part.int64()) }
                    if part.number == 2 {
                        var shapeReader = try tensor.message(part)
                        shape = try parseShape(&shapeReader)
                    }
                }
                guard let type = ElementType(rawValue: elementType) else {
                    throw ONNXError.malformed("a declared tensor type has unknown element type")
                }
                result = .tensor(elementType: type, shape: shape)
            case 4:
                var sequence = try reader.message(field)
                var element = ValueType.other
                while let part = try sequence.next() {
                    guard part.number == 1 else { continue }
                    var inner = try sequence.message(part)
                    element = try parseType(&inner)
                }
                result = .sequence(element)
            case 5:
                var map = try reader.message(field)
                var key = ElementType.string
                var value = ValueType.other
                while let part = try map.next() {
                    if part.number == 1 { key = ElementType(rawValue: Int(clamping: try part.int64())) ?? .string }
                    if part.number == 2 {
                        var inner = try map.message(part)
                        value = try parseType(&inner)
                    }
                }
                result = .map(key: key, value: value)
            default: break
            }
        }
        return result
    }

    private func parseShape(_ reader: inout ProtobufReader) throws -> [Dimension] {
        var dimensions: [Dimension] = []
        while let field = try reader.next() {
            guard field.number == 1 else { continue }
            var dimension = try reader.message(field)
            var value = Dimension.unknown
            while let part = try dimension.next() {
                if part.number == 1 {
                    let size = try part.int64()
                    guard size >= 0, size <= Int64(Int32.max) else {
                        throw ONNXError.malformed("a declared dimension is out of range")
                    }
                    value = .fixed(Int(size))
                }
                if part.number == 2 { value = .symbolic(try dimension.string(part)) }
            }
            dimensions.append(value)
        }
        return dimensions
    }

    /// The tensor, its size charged to the budget first; values come from external data only when
    /// `data_location` is EXTERNAL, never mixed with inline values (onnxruntime reads the same way).
    private func resolve(_ proto: TensorProto) throws -> Tensor {
        let cost = try proto.cost()
        switch proto.dataLocation {
        case 0:
            guard proto.externalData.isEmpty else {
                throw ONNXError.externalData(
                    "tensor '\(proto.name)' has external_data entries but data_location is not EXTERNAL")
            }
            try proto.checkInlineCount()
            try budget.charge(cost, tensor: proto.name)
            return try proto.tensor(raw: nil)
        case 1:
            guard !proto.hasInlineValues else {
                throw ONNXError.externalData("tensor '\(proto.name)' has inline values besides external data")
            }
            let data = try ExternalData.read(
                proto.externalData, tensor: proto.name, source: source, expected: cost, budget: budget)
            return try proto.tensor(raw: data[...])
        default:
            throw ONNXError.malformed("tensor '\(proto.name)' has an unknown data_location")
        }
    }
}
