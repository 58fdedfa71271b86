/// One field of a protobuf message as it appears on the wire.
public struct ProtobufField: Sendable, Equatable {
    /// The field number from the message's schema.
    public var number: Int
    /// The payload, by wire type.
    public var value: Value

    /// A field's payload by wire type; length-delimited payloads are ranges into the reader's buffer.
    public enum Value: Sendable, Equatable {
        /// Wire type 0: int32, int64, uint32, uint64, sint32, sint64, bool, enum.
        case varint(UInt64)
        /// Wire type 1: fixed64, sfixed64, double.
        case fixed64(UInt64)
        /// Wire type 2: string, bytes, embedded message, packed repeated field.
        case lengthDelimited(Range<Int>)
        /// Wire type 5: fixed32, sfixed32, float.
        case fixed32(UInt32)
    }

    /// A varint as a signed 64-bit integer (two's complement, as protobuf encodes negative int64 and int32).
    public func int64() throws(ProtobufError) -> Int64 {
        guard case .varint(let raw) = value else { throw .wrongWireType(field: number) }
        return Int64(bitPattern: raw)
    }

    /// A varint as a non-negative `Int`, refused when it does not fit.
    public func count() throws(ProtobufError) -> Int {
        let signed = try int64()
        guard signed >= 0, signed <= Int64(Int.max) else { throw .valueOutOfRange(field: number) }
        return Int(signed)
    }

    /// A fixed32 field as a float.
    public func float() throws(ProtobufError) -> Float {
        guard case .fixed32(let raw) = value else { throw .wrongWireType(field: number) }
        return Float(bitPattern: raw)
    }

    /// A fixed64 field as a double.
    public func double() throws(ProtobufError) -> Double {
        guard case .fixed64(let raw) = value else { throw .wrongWireType(field: number) }
        return Double(bitPattern: raw)
    }
}
