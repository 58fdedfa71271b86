public import Foundation
import ProtobufWire

extension Tensor {
    /// Decodes a serialized `TensorProto` (the format of the backend tests' `input_N.pb` files).
    ///
    /// External data is refused here; models resolve it through `ONNXModel`.
    public init(protobuf bytes: [UInt8]) throws(ONNXError) {
        var reader = ProtobufReader(bytes)
        let proto = try TensorProto(reading: &reader)
        guard proto.externalData.isEmpty, proto.dataLocation == 0 else {
            throw .externalData("a standalone tensor cannot use external data")
        }
        self = try proto.tensor(raw: nil)
    }
}

/// A `TensorProto` as read from the wire, before its values are checked against its type and shape.
struct TensorProto: Sendable {
    var name = ""
    var dims: [Int] = []
    var dataType = 0
    var floatData: [UInt32] = []
    var int32Data: [UInt64] = []
    var int64Data: [UInt64] = []
    var uint64Data: [UInt64] = []
    var doubleData: [UInt64] = []
    var stringData: [ArraySlice<UInt8>] = []
    var rawData: ArraySlice<UInt8>?
    var externalData: [String: String] = [:]
    /// `data_location`: 0 DEFAULT (inline values), 1 EXTERNAL (only then is `externalData` read, as the spec says).
    var dataLocation = 0

    init(reading reader: inout ProtobufReader) throws(ONNXError) {
        do {
            while let field = try reader.next() {
                switch field.number {
                case 1:
                    var values: [UInt64] = []
                    try reader.appendVarints(field, to: &values)
                    for value in values {
                        let dimension = Int64(bitPattern: value)
                        guard dimension >= 0, dimension <= Int64(Int32.max) else {
                            throw ONNXError.malformed("tensor dimension out of range")
                        }
                        dims.append(Int(dimension))
                    }
                case 2: dataType = Int(clamping: try field.int64())
                case 4: try reader.appendFixed32(field, to: &floatData)
                case 5: try reader.appendVarints(field, to: &int32Data)
                case 6: stringData.append(try reader.bytes(field))
                case 7: try reader.appendVarints(field, to: &int64Data)
                case 8: name = try reader.string(field)
                case 9: rawData = try reader.bytes(field)
                case 10: try reader.appendFixed64(field, to: &doubleData)
                case 11: try reader.appendVarints(field, to: &uint64Data)
                case 13:
                    var entry = try reader.message(field)
                    var key = ""
                    var value = ""
                    while let part = try entry.next() {
                        if part.number == 1 { key = try entry.string(part) }
                        if part.number == 2 { value = try entry.string(part) }
                    }
                    // One key twice would leave which value counts to the reader: refused.
                    guard externalData.updateValue(value, forKey: key) == nil else {
                        throw ONNXError.externalData("tensor's external_data names '\(key)' twice")
                    }
                case 14: dataLocation = Int(clamping: try field.int64())
                default: break
                }
            }
        } catch let error as ProtobufError {
            throw .malformed(error.description)
        } catch let error as ONNXError {
            throw error
        } catch {
            throw .malformed("tensor")
        }
    }

    /// Whether any inline values are present (`raw_data` or a typed field).
    var hasInlineValues: Bool {
        rawData != nil || !floatData.isEmpty || !int32Data.isEmpty || !int64Data.isEmpty || !uint64Data.isEmpty
            || !doubleData.isEmpty || !stringData.isEmpty
    }

    /// Refuses typed inline values whose count does not fit the shape, before the budget is charged.
    func checkInlineCount() throws(ONNXError) {
        guard rawData == nil, let type = ElementType(rawValue: dataType), let count = Tensor.checkedCount(dims) else {
            return
        }
        let available =
            switch type {
            case .float: floatData.count
            case .double: doubleData.count
            case .int64: int64Data.count
            case .uint32: uint64Data.count
            case .string: stringData.count
            default: int32Data.count
            }
        let label = name.isEmpty ? "tensor" : "tensor '\(name)'"
        guard available == count else { throw .malformed("\(label) has \(available) values for \(count) elements") }
    }

    /// The decoded and raw sizes of the values, from the type and shape alone (nothing is read).
    func cost() throws(ONNXError) -> LoadBudget.Cost {
        let label = name.isEmpty ? "tensor" : "tensor '\(name)'"
        guard let type = ElementType(rawValue: dataType), type.isSupported else {
            throw .malformed("\(label) has an unknown or unsupported data type")
        }
        guard let count = Tensor.checkedCount(dims) else { throw .malformed("\(label) has too many elements") }
        let width: Int =
            switch type {
            case .float: 4
            case .bool: 1
            case .string: 16
            default: 8
            }
        let strings = stringData.reduce(0) { $0 &+ $1.count }
        let (decoded, overflow) = count.multipliedReportingOverflow(by: width)
        let (raw, rawOverflow) = count.multipliedReportingOverflow(by: type.byteWidth)
        let (total, sumOverflow) = decoded.addingReportingOverflow(strings)
        guard !overflow, !rawOverflow, !sumOverflow else { throw .malformed("\(label) has too many elements") }
        return LoadBudget.Cost(decoded: total, raw: raw)
    }

    /// The tensor, with `raw` standing in for `raw_data` when the values were stored externally.
    func tensor(raw external: ArraySlice<UInt8>?) throws(ONNXError) -> Tensor {
        let label = name.isEmpty ? "tensor" : "tensor '\(name)'"
        guard let type = ElementType(rawValue: dataType) else { throw .malformed("\(label) has unknown data type") }
        guard type.isSupported else { throw .malformed("\(label) has unsupported element type \(type)") }
        guard let count = Tensor.checkedCount(dims) else { throw .malformed("\(label) has too many elements") }
        let raw = external ?? rawData
        func expect(_ available: Int) throws(ONNXError) {
            guard available == count else { throw .malformed("\(label) has \(available) values for \(count) elements") }
        }
        if let raw {
            // Strings have no raw form: a width of 0 would let empty raw_data stand for any count of them.
            guard type != .string else { throw .malformed("\(label) is a string tensor with raw_data") }
            let width = type.byteWidth
            let (bytes, overflow) = count.multipliedReportingOverflow(by: width)
            guard !overflow, raw.count == bytes else {
                throw .malformed("\(label) raw_data has \(raw.count) bytes, its shape needs more or fewer")
            }
            return Tensor(type, shape: dims, storage: Self.decodeRaw(raw, type: type, count: count))
        }
        switch type {
        case .float:
            try expect(floatData.count)
            return Tensor(type, shape: dims, storage: .float(floatData.map(Float.init(bitPattern:))))
        case .double:
            try expect(doubleData.count)
            return Tensor(type, shape: dims, storage: .double(doubleData.map(Double.init(bitPattern:))))
        case .int64:
            try expect(int64Data.count)
            return Tensor(type, shape: dims, storage: .int(int64Data.map { Int64(bitPattern: $0) }))
        case .uint32:
            try expect(uint64Data.count)
            return Tensor(type, shape: dims, storage: .int(uint64Data.map { type.wrap(Int64(bitPattern: $0)) }))
        case .bool:
            try expect(int32Data.count)
            return Tensor(type, shape: dims, storage: .bool(int32Data.map { $0 != 0 }))
        case .string:
            try expect(stringData.count)
            return Tensor(type, shape: dims, storage: .string(stringData.map { String(decoding: $0, as: UTF8.self) }))
        default:
            try expect(int32Data.count)
            return Tensor(type, shape: dims, storage: .int(int32Data.map { type.wrap(Int64(bitPattern: $0)) }))
        }
    }

    private static func decodeRaw(_ raw: ArraySlice<UInt8>, type: ElementType, count: Int) -> Tensor.Storage {
        let base = raw.startIndex
        func word(_ index: Int, _ width: Int) -> UInt64 {
            var value: UInt64 = 0
            let start = base + index * width
            for byte in 0..<width { value |= UInt64(raw[start + byte]) << (8 * UInt64(byte)) }
            return value
        }
        switch type {
        case .float: return .float((0..<count).map { Float(bitPattern: UInt32(word($0, 4))) })
        case .double: return .double((0..<count).map { Double(bitPattern: word($0, 8)) })
        case .bool: return .bool((0..<count).map { raw[base + $0] != 0 })
        case .uint8: return .int((0..<count).map { Int64(raw[base + $0]) })
        case .int8: return .int((0..<count).map { Int64(Int8(bitPattern: raw[base + $0])) })
        case .uint16: return .int((0..<count).map { Int64(UInt16(word($0, 2))) })
        case .int16: return .int((0..<count).map { Int64(Int16(bitPattern: UInt16(word($0, 2)))) })
        case .int32: return .int((0..<count).map { Int64(Int32(bitPattern: UInt32(word($0, 4)))) })
        case .uint32: return .int((0..<count).map { Int64(UInt32(word($0, 4))) })
        default: return .int((0..<count).map { Int64(bitPattern: word($0, 8)) })
        }
    }
}

extension ElementType {
    /// Bytes per element in `raw_data` (strings have no raw form: 0 refuses them).
    var byteWidth: Int {
        switch self {
        case .bool, .uint8, .int8: 1
        case .uint16, .int16, .float16, .bfloat16: 2
        case .float, .int32, .uint32: 4
        case .double, .int64, .uint64, .complex64: 8
        case .complex128: 16
        case .string: 0
        }
    }
}

extension Tensor {
    /// Encodes the tensor as a `TensorProto` with `raw_data` (strings as `string_data`).
    public func protobuf(name: String = "") -> [UInt8] {
        var writer = ProtobufWriter()
        for dimension in shape { writer.int(1, Int64(dimension)) }
        writer.int(2, Int64(elementType.rawValue))
        if !name.isEmpty { writer.string(8, name) }
        var raw: [UInt8] = []
        func put(_ value: UInt64, _ width: Int) {
            for byte in 0..<width { raw.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte)))) }
        }
        switch storage {
        case .float(let values): for value in values { put(UInt64(value.bitPattern), 4) }
        case .double(let values): for value in values { put(value.bitPattern, 8) }
        case .bool(let values): for value in values { put(value ? 1 : 0, 1) }
        case .int(let values): for value in values { put(UInt64(bitPattern: value), elementType.byteWidth) }
        case .string(let values):
            for value in values { writer.string(6, value) }
            return writer.bytes
        }
        writer.bytes(9, raw)
        return writer.bytes
    }
}
