import Foundation
import MLCore
import ONNX
import VaultServer

/// An ONNX model version, decrypted and verified, served in memory through the interpreter.
///
/// Metadata comes from the graph: input and output names, Open Inference Protocol datatypes and shapes (`-1`
/// for dynamic dimensions). ZipMap's sequence of maps is served as the FP32 `[N, classes]` probabilities
/// tensor. Every request runs under the interpreter's allocation cap and deadline; going over either, or an
/// input the graph refuses, is a 400 with the interpreter's fixed text.
struct ServedONNXModel: ServedModel {
    let name: String
    let version: String
    let model: ONNXModel
    let inputs: [TensorMetadata]
    let outputs: [TensorMetadata]
    let limits: ExecutionLimits

    /// Refuses, at load, a graph whose inputs or outputs have no Open Inference Protocol datatype the server
    /// exchanges (strings, float16).
    init(name: String, version: String, model: ONNXModel, limits: ExecutionLimits = ExecutionLimits()) throws {
        self.name = name
        self.version = version
        self.model = model
        self.limits = limits
        let signature = model.signature
        func metadata(_ value: ONNXSignature.Value) throws -> TensorMetadata {
            guard let datatype = TensorDataType(rawValue: value.datatype), datatype != .bytes, datatype != .fp16
            else { throw ServingError(description: "serving: ONNX value '\(value.name)' has a datatype not served") }
            return TensorMetadata(name: value.name, datatype: datatype, shape: value.shape)
        }
        inputs = try signature.inputs.map(metadata)
        outputs = try signature.outputs.map(metadata)
    }

    var platform: String { "onnx" }

    func infer(_ request: [String: VaultServer.Tensor]) throws -> [String: VaultServer.Tensor] {
        var feeds: [String: ONNX.Tensor] = [:]
        for input in inputs {
            guard let tensor = request[input.name] else { throw InferenceRejected("missing input '\(input.name)'") }
            feeds[input.name] = try Self.onnxTensor(tensor, as: input.datatype)
        }
        let results: [String: ONNX.Tensor]
        do {
            results = try model.run(feeds, limits: limits)
        } catch let error {
            switch error {
            case .invalidInput, .allocationLimit, .deadlineExceeded: throw InferenceRejected(error.description)
            default: throw error
            }
        }
        var served: [String: VaultServer.Tensor] = [:]
        for output in outputs {
            guard let tensor = results[output.name], let values = tensor.floats else { throw ServingError.badOutput }
            served[output.name] = VaultServer.Tensor(shape: tensor.shape, scalars: values, datatype: output.datatype)
        }
        return served
    }

    /// The request tensor in the graph's element type (the codec has checked shape and datatype already).
    static func onnxTensor(_ tensor: VaultServer.Tensor, as datatype: TensorDataType) throws -> ONNX.Tensor {
        switch datatype {
        case .fp32: return ONNX.Tensor(shape: tensor.shape, floats: tensor.scalars)
        case .fp64: return ONNX.Tensor(shape: tensor.shape, doubles: tensor.scalars.map(Double.init))
        case .bool: return ONNX.Tensor(shape: tensor.shape, bools: tensor.scalars.map { $0 != 0 })
        case .int64:
            return ONNX.Tensor(shape: tensor.shape, int64s: tensor.scalars.map(Self.integer))
        case .int8, .int16, .int32, .uint8, .uint16, .uint32:
            return ONNX.Tensor(
                shape: tensor.shape, integers: tensor.scalars.map(Self.integer), elementType: datatype.onnxElementType)
        case .uint64, .fp16, .bytes: throw InferenceRejected("datatype \(datatype.rawValue) is not served")
        }
    }
}

extension ServedONNXModel {
    /// A finite request value as a whole number, saturated at Int64's range (request values are untrusted).
    static func integer(_ value: Float) -> Int64 {
        if value >= 9.223_372e18 { return .max }
        if value <= -9.223_372e18 { return .min }
        return Int64(value.isNaN ? 0 : value)
    }
}

extension TensorDataType {
    /// The ONNX element type of an integer datatype.
    fileprivate var onnxElementType: ElementType {
        switch self {
        case .int8: .int8
        case .int16: .int16
        case .int32: .int32
        case .uint8: .uint8
        case .uint16: .uint16
        case .uint32: .uint32
        default: .int64
        }
    }
}

extension ServingError {
    /// The model produced an output that is not a numeric tensor.
    static let badOutput = ServingError(description: "serving: the model's output is not a numeric tensor")
}

extension VaultModelCatalog {
    /// The served form of a verified version's files: an ONNX model when exactly one file is ONNX by content
    /// (parsed and checked in full here, so nothing unsupported surfaces at request time), otherwise a model
    /// trained by `modelvault train`.
    static func servedModel(name: String, version: Int, files: [String: Data]) throws -> any ServedModel {
        let onnx = files.filter { ONNXModel.looksLikeModel([UInt8]($0.value)) }
        guard let path = onnx.first?.key else {
            return ServedTrainedModel(name: name, version: String(version), model: try TrainedModel(files: files))
        }
        guard onnx.count == 1 else { throw ServingError(description: "serving: the version holds several ONNX models") }
        // Decrypted files stay in memory: external data is read only from the version's own verified files.
        let model = try ONNXModel(file: path, in: files)
        return try ServedONNXModel(name: name, version: String(version), model: model)
    }
}
