/// A minimal protobuf wire-format writer: enough to build test inputs and small messages (ONNX export).
public struct ProtobufWriter: Sendable {
    /// The encoded message so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty message.
    public init() {}

    /// Appends a varint field (int32, int64, uint64, bool, enum).
    public mutating func varint(_ number: Int, _ value: UInt64) {
        key(number, 0)
        appendVarint(value)
    }

    /// Appends a signed integer as a varint field (two's complement, as protobuf's int64).
    public mutating func int(_ number: Int, _ value: Int64) { varint(number, UInt64(bitPattern: value)) }

    /// Appends a float as a fixed32 field.
    public mutating func float(_ number: Int, _ value: Float) {
        key(number, 5)
        appendFixed(UInt64(value.bitPattern), width: 4)
    }

    /// Appends a double as a fixed64 field.
    public mutating func double(_ number: Int, _ value: Double) {
        key(number, 1)
        appendFixed(value.bitPattern, width: 8)
    }

    /// Appends a length-delimited field holding `payload`.
    public mutating func bytes(_ number: Int, _ payload: some Collection<UInt8>) {
        key(number, 2)
        appendVarint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }

    /// Appends a string field.
    public mutating func string(_ number: Int, _ text: String) { bytes(number, Array(text.utf8)) }

    /// Appends an embedded message.
    public mutating func message(_ number: Int, _ message: ProtobufWriter) { bytes(number, message.bytes) }

    /// Appends a packed repeated varint field.
    public mutating func packedInts(_ number: Int, _ values: [Int64]) {
        var inner = ProtobufWriter()
        for value in values { inner.appendVarint(UInt64(bitPattern: value)) }
        bytes(number, inner.bytes)
    }

    /// Appends a packed repeated float field.
    public mutating func packedFloats(_ number: Int, _ values: [Float]) {
        var inner = ProtobufWriter()
        for value in values { inner.appendFixed(UInt64(value.bitPattern), width: 4) }
        bytes(number, inner.bytes)
    }

    private mutating func key(_ number: Int, _ wireType: UInt64) {
        appendVarint(UInt64(number) << 3 | wireType)
    }

    private mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    private mutating func appendFixed(_ value: UInt64, width: Int) {
        for index in 0..<width { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
    }
}
