/// A bounded reader of the protobuf wire format over bytes it does not copy.
///
/// The reader never allocates beyond the input: length-delimited fields come back as ranges into the same
/// buffer, and every length, offset and varint is checked against the remaining input before use, so a truncated
/// or hostile message is a `ProtobufError`, never a trap or an oversized allocation. Nested messages are opened
/// with `message(_:)`, which counts depth against `maximumDepth`.
public struct ProtobufReader: Sendable {
    /// How deeply messages may nest before the input is refused (guards recursion on hostile input).
    public static let maximumDepth = 100

    /// The whole buffer; fields are ranges into it.
    public let buffer: [UInt8]
    /// Where the next field starts.
    public private(set) var position: Int
    /// One past the last byte of this message.
    public let end: Int
    /// How many messages enclose this one (0 for the top level).
    public let depth: Int

    /// A reader of the top-level message filling `bytes`.
    public init(_ bytes: [UInt8]) {
        self.buffer = bytes
        self.position = 0
        self.end = bytes.count
        self.depth = 0
    }

    private init(buffer: [UInt8], range: Range<Int>, depth: Int) {
        self.buffer = buffer
        self.position = range.lowerBound
        self.end = range.upperBound
        self.depth = depth
    }

    /// Whether every field of this message has been read.
    public var isAtEnd: Bool { position >= end }

    /// The next field, or `nil` at the end of the message.
    public mutating func next() throws(ProtobufError) -> ProtobufField? {
        guard position < end else { return nil }
        let key = try readVarint()
        let number = key >> 3
        guard number >= 1, number <= 0x1FFF_FFFF else { throw .invalidFieldNumber }
        let value: ProtobufField.Value
        switch key & 7 {
        case 0: value = .varint(try readVarint())
        case 1: value = .fixed64(try readFixed64())
        case 2:
            let length = try readVarint()
            guard length <= UInt64(end - position) else { throw .truncated }
            let start = position
            position += Int(length)
            value = .lengthDelimited(start..<position)
        case 5: value = .fixed32(try readFixed32())
        case 3, 4: throw .unsupportedWireType(Int(key & 7))
        default: throw .unsupportedWireType(Int(key & 7))
        }
        return ProtobufField(number: Int(number), value: value)
    }

    /// A reader of the embedded message in `field`, one level deeper.
    public func message(_ field: ProtobufField) throws(ProtobufError) -> ProtobufReader {
        guard case .lengthDelimited(let range) = field.value else { throw .wrongWireType(field: field.number) }
        guard depth < Self.maximumDepth else { throw .tooDeep }
        return ProtobufReader(buffer: buffer, range: range, depth: depth + 1)
    }

    /// The bytes of a length-delimited field, sharing the buffer.
    public func bytes(_ field: ProtobufField) throws(ProtobufError) -> ArraySlice<UInt8> {
        guard case .lengthDelimited(let range) = field.value else { throw .wrongWireType(field: field.number) }
        return buffer[range]
    }

    /// A length-delimited field as UTF-8 text; invalid UTF-8 is refused.
    public func string(_ field: ProtobufField) throws(ProtobufError) -> String {
        let slice = try bytes(field)
        guard let text = String(validating: slice, as: UTF8.self) else { throw .invalidUTF8(field: field.number) }
        return text
    }

    /// Appends a repeated varint field's values, packed or not.
    public func appendVarints(_ field: ProtobufField, to values: inout [UInt64]) throws(ProtobufError) {
        switch field.value {
        case .varint(let value): values.append(value)
        case .lengthDelimited(let range):
            var inner = ProtobufReader(buffer: buffer, range: range, depth: depth)
            while !inner.isAtEnd { values.append(try inner.readVarint()) }
        default: throw .wrongWireType(field: field.number)
        }
    }

    /// Appends a repeated 32-bit fixed field's values (float, fixed32, sfixed32), packed or not.
    public func appendFixed32(_ field: ProtobufField, to values: inout [UInt32]) throws(ProtobufError) {
        switch field.value {
        case .fixed32(let value): values.append(value)
        case .lengthDelimited(let range):
            guard range.count % 4 == 0 else { throw .truncated }
            values.reserveCapacity(values.count + range.count / 4)
            var inner = ProtobufReader(buffer: buffer, range: range, depth: depth)
            while !inner.isAtEnd { values.append(try inner.readFixed32()) }
        default: throw .wrongWireType(field: field.number)
        }
    }

    /// Appends a repeated 64-bit fixed field's values (double, fixed64, sfixed64), packed or not.
    public func appendFixed64(_ field: ProtobufField, to values: inout [UInt64]) throws(ProtobufError) {
        switch field.value {
        case .fixed64(let value): values.append(value)
        case .lengthDelimited(let range):
            guard range.count % 8 == 0 else { throw .truncated }
            values.reserveCapacity(values.count + range.count / 8)
            var inner = ProtobufReader(buffer: buffer, range: range, depth: depth)
            while !inner.isAtEnd { values.append(try inner.readFixed64()) }
        default: throw .wrongWireType(field: field.number)
        }
    }

    private mutating func readVarint() throws(ProtobufError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw .truncated }
            let byte = buffer[position]
            position += 1
            // The tenth byte may carry only the top bit of a 64-bit value.
            if shift == 63 && byte > 1 { throw .varintOverflow }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            guard shift <= 63 else { throw .varintOverflow }
        }
    }

    private mutating func readFixed32() throws(ProtobufError) -> UInt32 {
        guard end - position >= 4 else { throw .truncated }
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(buffer[position + index]) << (8 * index) }
        position += 4
        return value
    }

    private mutating func readFixed64() throws(ProtobufError) -> UInt64 {
        guard end - position >= 8 else { throw .truncated }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(buffer[position + index]) << (8 * index) }
        position += 8
        return value
    }
}
