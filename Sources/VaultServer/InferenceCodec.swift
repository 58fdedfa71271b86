import Foundation
import HTTPTypes
import Hummingbird

/// A request parameter value of the Open Inference Protocol (bool, integer, double or string).
enum ParameterValue: Decodable, Sendable, Equatable {
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var intValue: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }
}

/// Tensor `data` in JSON: a flat or nested array of numbers (or booleans), flattened in row-major order.
struct FlatNumbers: Decodable {
    var values: [Double] = []

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        if let count = container.count { values.reserveCapacity(count) }
        try Self.flatten(&container, into: &values)
    }

    /// Elements of one array are nearly always alike (all numbers or all rows), so the kind that matched last
    /// is tried first: a failed attempt costs a thrown DecodingError.
    private static func flatten(_ container: inout any UnkeyedDecodingContainer, into values: inout [Double]) throws {
        var lastWasArray = false
        while !container.isAtEnd {
            if lastWasArray, var nested = try? container.nestedUnkeyedContainer() {
                try flatten(&nested, into: &values)
            } else if let value = try? container.decode(Double.self) {
                values.append(value)
                lastWasArray = false
            } else if let value = try? container.decode(Bool.self) {
                values.append(value ? 1 : 0)
                lastWasArray = false
            } else {
                var nested = try container.nestedUnkeyedContainer()
                try flatten(&nested, into: &values)
                lastWasArray = true
            }
        }
    }
}

/// The JSON part of an inference request (`$inference_request`).
struct InferenceRequestHeader: Decodable {
    struct Input: Decodable {
        var name: String
        var shape: [Int]
        var datatype: String
        var parameters: [String: ParameterValue]?
        var data: FlatNumbers?
    }

    struct Output: Decodable {
        var name: String
        var parameters: [String: ParameterValue]?
    }

    var id: String?
    var parameters: [String: ParameterValue]?
    var inputs: [Input]
    var outputs: [Output]?
}

/// A validated inference request, ready for the model.
struct DecodedInference: Sendable {
    var id: String?
    var inputs: [String: Tensor]
    /// The outputs to return, in order, and whether each goes as binary data.
    var outputs: [(name: String, binary: Bool)]
}

/// Reads and writes Open Inference Protocol v2 REST bodies, including the binary tensor data extension.
enum InferenceCodec {
    /// The header naming the length of the JSON part when binary tensor data follows it.
    static let headerLengthField = HTTPField.Name("Inference-Header-Content-Length")!

    /// Parses and validates `body` against `model`'s metadata before any work is done.
    ///
    /// `headerLength` is the `Inference-Header-Content-Length` value, if any. When the body does not read as a
    /// request with that split but reads as one complete JSON request that claims no binary data, it is taken
    /// as that: `tritonclient.http` stores the header in the caller's `headers` dictionary, so a dictionary
    /// reused for a later JSON-only call carries a stale length. Both readings are fully validated.
    static func decode(body: ByteBuffer, headerLength: Int?, for model: any ServedModel) throws -> DecodedInference {
        let total = body.readableBytes
        do {
            return try decode(body: body, jsonLength: headerLength ?? total, for: model)
        } catch let error where headerLength != nil && headerLength != total {
            guard let jsonOnly = try? decode(body: body, jsonLength: total, for: model) else { throw error }
            return jsonOnly
        }
    }

    /// Parses `body` as `jsonLength` bytes of JSON followed by the binary data its inputs claim.
    private static func decode(
        body: ByteBuffer, jsonLength: Int, for model: any ServedModel
    ) throws
        -> DecodedInference
    {
        let total = body.readableBytes
        guard jsonLength > 0, jsonLength <= total else {
            throw APIError.badRequest("Inference-Header-Content-Length is out of range")
        }
        let header: InferenceRequestHeader
        do {
            header = try JSONDecoder().decode(
                InferenceRequestHeader.self, from: Data(body.readableBytesView.prefix(jsonLength)))
        } catch {
            throw APIError.badRequest("malformed inference request JSON")
        }
        var binaryOffset = body.readerIndex + jsonLength
        let binaryEnd = body.readerIndex + total

        var tensors: [String: Tensor] = [:]
        for input in header.inputs {
            let name = Self.clip(input.name)
            guard let expected = model.inputs.first(where: { $0.name == input.name }) else {
                throw APIError.badRequest("unexpected inference input '\(name)' for model '\(model.name)'")
            }
            guard tensors[input.name] == nil else { throw APIError.badRequest("input '\(name)' given twice") }
            guard let datatype = TensorDataType(rawValue: input.datatype) else {
                throw APIError.badRequest("input '\(name)' has an unknown datatype")
            }
            guard datatype == expected.datatype || (expected.datatype == .fp32 && datatype.convertsToFloat) else {
                throw APIError.badRequest(
                    "input '\(name)' has datatype \(datatype.rawValue), expected \(expected.datatype.rawValue)")
            }
            let count = try Self.elementCount(of: input.shape, matching: expected.shape, input: name)
            let binarySize = input.parameters?["binary_data_size"]
            let scalars: [Float]
            if let binarySize {
                guard input.data == nil, let size = binarySize.intValue, size >= 0,
                    let elementSize = datatype.elementSize
                else { throw APIError.badRequest("input '\(name)' has an invalid binary_data_size") }
                guard size == Int64(count * elementSize) else {
                    throw APIError.badRequest("input '\(name)' binary size does not match its shape and datatype")
                }
                guard binaryEnd - binaryOffset >= Int(size) else {
                    throw APIError.badRequest("input '\(name)' binary data is truncated")
                }
                scalars = Self.readScalars(body, at: binaryOffset, count: count, datatype: datatype)
                binaryOffset += Int(size)
            } else {
                guard let data = input.data else { throw APIError.badRequest("input '\(name)' has no data") }
                guard data.values.count == count else {
                    throw APIError.badRequest("input '\(name)' has \(data.values.count) elements, shape needs \(count)")
                }
                scalars = data.values.map { Float($0) }
            }
            // NaN and infinities (binary FP32/FP64, or JSON numbers beyond Float's range) are a client error for
            // every model, not an inference failure.
            guard scalars.allSatisfy(\.isFinite) else {
                throw APIError.badRequest("input '\(name)' has a value that is not finite (NaN or infinity)")
            }
            tensors[input.name] = Tensor(shape: input.shape, scalars: scalars, datatype: expected.datatype)
        }
        guard binaryOffset == binaryEnd else {
            throw APIError.badRequest("request body has binary data that no input claims")
        }
        for expected in model.inputs where tensors[expected.name] == nil {
            throw APIError.badRequest("missing inference input '\(expected.name)'")
        }

        let binaryByDefault = header.parameters?["binary_data_output"]?.boolValue ?? false
        var outputs: [(name: String, binary: Bool)] = []
        if let requested = header.outputs, !requested.isEmpty {
            for output in requested {
                guard model.outputs.contains(where: { $0.name == output.name }) else {
                    throw APIError.badRequest(
                        "unexpected inference output '\(Self.clip(output.name))' for model '\(model.name)'")
                }
                guard !outputs.contains(where: { $0.name == output.name }) else {
                    throw APIError.badRequest("output '\(Self.clip(output.name))' requested twice")
                }
                if output.parameters?["classification"] != nil {
                    throw APIError.badRequest("the classification extension is not supported")
                }
                let binary = output.parameters?["binary_data"]?.boolValue ?? binaryByDefault
                outputs.append((output.name, binary))
            }
        } else {
            outputs = model.outputs.map { ($0.name, binaryByDefault) }
        }
        return DecodedInference(id: header.id, inputs: tensors, outputs: outputs)
    }

    /// Encodes the response; returns the body and, when binary data follows the JSON, the JSON's length.
    static func encode(
        _ results: [String: Tensor], for request: DecodedInference, model: any ServedModel
    ) throws -> (body: ByteBuffer, headerLength: Int?) {
        var json = #"{"model_name":"# + APIError.jsonString(model.name)
        json += #","model_version":"# + APIError.jsonString(model.version)
        if let id = request.id { json += #","id":"# + APIError.jsonString(id) }
        json += #","outputs":["#
        var binary: [Tensor] = []
        for (index, output) in request.outputs.enumerated() {
            guard let tensor = results[output.name], tensor.isWellFormed,
                let elementSize = tensor.datatype.elementSize, tensor.datatype != .fp16
            else { throw APIError.inferenceFailed }
            if index > 0 { json += "," }
            json += #"{"name":"# + APIError.jsonString(output.name) + #","datatype":""#
            json += tensor.datatype.rawValue + #"","shape":["#
            json += tensor.shape.map(String.init).joined(separator: ",") + "]"
            if output.binary {
                json += #","parameters":{"binary_data_size":"# + String(tensor.scalars.count * elementSize) + "}}"
                binary.append(tensor)
            } else {
                json += #","data":["#
                json += tensor.scalars.map { Self.jsonValue($0, tensor.datatype) }.joined(separator: ",") + "]}"
            }
        }
        json += "]}"
        let jsonBytes = Array(json.utf8)
        let binaryBytes = binary.reduce(0) { $0 + $1.scalars.count * ($1.datatype.elementSize ?? 0) }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(jsonBytes.count + binaryBytes)
        buffer.writeBytes(jsonBytes)
        for tensor in binary { Self.writeBinary(tensor, to: &buffer) }
        return (buffer, binary.isEmpty ? nil : jsonBytes.count)
    }

    /// Writes `tensor`'s values little-endian in its datatype (integers are whole numbers in `scalars`).
    private static func writeBinary(_ tensor: Tensor, to buffer: inout ByteBuffer) {
        for value in tensor.scalars {
            switch tensor.datatype {
            case .fp32: buffer.writeInteger(value.bitPattern, endianness: .little)
            case .fp64: buffer.writeInteger(Double(value).bitPattern, endianness: .little)
            case .bool: buffer.writeInteger(UInt8(value != 0 ? 1 : 0))
            case .int8: buffer.writeInteger(Int8(clamping: Self.integer(value)))
            case .uint8: buffer.writeInteger(UInt8(clamping: Self.integer(value)))
            case .int16: buffer.writeInteger(Int16(clamping: Self.integer(value)), endianness: .little)
            case .uint16: buffer.writeInteger(UInt16(clamping: Self.integer(value)), endianness: .little)
            case .int32: buffer.writeInteger(Int32(clamping: Self.integer(value)), endianness: .little)
            case .uint32: buffer.writeInteger(UInt32(clamping: Self.integer(value)), endianness: .little)
            case .int64: buffer.writeInteger(Self.integer(value), endianness: .little)
            case .uint64: buffer.writeInteger(UInt64(clamping: Self.integer(value)), endianness: .little)
            case .fp16, .bytes: break  // refused before encoding
            }
        }
    }

    /// `value` as a whole number, saturated at Int64's range (a model's output is not trusted to be small).
    private static func integer(_ value: Float) -> Int64 {
        if value >= 9.223_372e18 { return .max }
        if value <= -9.223_372e18 { return .min }
        return Int64(value.isNaN ? 0 : value)
    }

    /// A JSON value for `value` in `datatype`: integers as integers, booleans as `true`/`false`; non-finite
    /// values (which JSON lacks) become null.
    private static func jsonValue(_ value: Float, _ datatype: TensorDataType) -> String {
        guard value.isFinite else { return "null" }
        switch datatype {
        case .fp32, .fp64, .fp16, .bytes: return "\(value)"
        case .bool: return value != 0 ? "true" : "false"
        default: return String(Self.integer(value))
        }
    }

    /// Checks `shape` against the metadata shape (`-1` = any size) and returns the element count.
    private static func elementCount(of shape: [Int], matching expected: [Int], input name: String) throws -> Int {
        guard shape.count == expected.count else {
            throw APIError.badRequest("input '\(name)' has \(shape.count) dimensions, expected \(expected.count)")
        }
        var count = 1
        for (dimension, wanted) in zip(shape, expected) {
            guard dimension >= 0, wanted < 0 || dimension == wanted else {
                throw APIError.badRequest(
                    "input '\(name)' has shape \(shape), expected \(expected) (-1 is any size)")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= 1 << 32 else { throw APIError.badRequest("input '\(name)' is too large") }
            count = product
        }
        return count
    }

    /// Reads `count` little-endian elements of `datatype` at `offset` and converts them to Float.
    private static func readScalars(
        _ buffer: ByteBuffer, at offset: Int, count: Int, datatype: TensorDataType
    )
        -> [Float]
    {
        let start = offset - buffer.readerIndex
        return buffer.withUnsafeReadableBytes { raw in
            [Float](unsafeUninitializedCapacity: count) { out, initialized in
                for index in 0..<count {
                    out[index] = Self.element(raw, start, index, datatype)
                }
                initialized = count
            }
        }
    }

    @inline(__always)
    private static func element(
        _ raw: UnsafeRawBufferPointer, _ start: Int, _ index: Int, _ type: TensorDataType
    )
        -> Float
    {
        switch type {
        case .fp32:
            Float(
                bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + index * 4, as: UInt32.self)))
        case .fp64:
            Float(
                Double(
                    bitPattern: UInt64(
                        littleEndian: raw.loadUnaligned(fromByteOffset: start + index * 8, as: UInt64.self))))
        case .int8: Float(Int8(bitPattern: raw[start + index]))
        case .uint8: Float(raw[start + index])
        case .int16:
            Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: start + index * 2, as: Int16.self)))
        case .uint16:
            Float(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: start + index * 2, as: UInt16.self)))
        case .int32:
            Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: start + index * 4, as: Int32.self)))
        case .uint32:
            Float(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + index * 4, as: UInt32.self)))
        case .int64:
            Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: start + index * 8, as: Int64.self)))
        case .uint64:
            Float(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start + index * 8, as: UInt64.self)))
        case .bool: raw[start + index] != 0 ? 1 : 0
        case .fp16, .bytes: 0  // refused during validation
        }
    }

    /// Shortens a client-supplied name before echoing it in an error.
    static func clip(_ text: String) -> String {
        text.count <= 64 ? text : String(text.prefix(64)) + "…"
    }
}
