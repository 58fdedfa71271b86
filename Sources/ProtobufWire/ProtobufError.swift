/// Why protobuf input was refused. Descriptions are fixed text naming what failed, never the input's bytes.
public enum ProtobufError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A field, length or fixed value runs past the end of its message.
    case truncated
    /// A varint is longer than ten bytes or does not fit in 64 bits.
    case varintOverflow
    /// A field number is 0 or above 2^29 - 1.
    case invalidFieldNumber
    /// Groups (wire types 3 and 4) or an undefined wire type.
    case unsupportedWireType(Int)
    /// A known field arrived with a wire type its schema does not allow.
    case wrongWireType(field: Int)
    /// A string field is not valid UTF-8.
    case invalidUTF8(field: Int)
    /// A number does not fit the range its field allows.
    case valueOutOfRange(field: Int)
    /// Messages nest more than `ProtobufReader.maximumDepth` deep.
    case tooDeep

    public var description: String {
        switch self {
        case .truncated: "protobuf: truncated message"
        case .varintOverflow: "protobuf: varint longer than 64 bits"
        case .invalidFieldNumber: "protobuf: invalid field number"
        case .unsupportedWireType(let type): "protobuf: unsupported wire type \(type)"
        case .wrongWireType(let field): "protobuf: field \(field) has the wrong wire type"
        case .invalidUTF8(let field): "protobuf: field \(field) is not valid UTF-8"
        case .valueOutOfRange(let field): "protobuf: field \(field) is out of range"
        case .tooDeep: "protobuf: messages nested more than \(ProtobufReader.maximumDepth) deep"
        }
    }
}
