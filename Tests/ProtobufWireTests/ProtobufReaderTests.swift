import ProtobufWire
import Testing

@Suite struct ProtobufReaderTests {
    @Test func readsEveryWireTypeWrittenByTheWriter() throws {
        var inner = ProtobufWriter()
        inner.string(1, "node")
        var writer = ProtobufWriter()
        writer.int(1, -7)
        writer.float(2, 1.5)
        writer.double(3, -2.25)
        writer.message(4, inner)
        writer.packedInts(5, [1, 300, -1])
        writer.packedFloats(6, [0.5, 2])
        var reader = ProtobufReader(writer.bytes)
        var ints: [UInt64] = []
        var floats: [UInt32] = []
        var seen: [Int] = []
        while let field = try reader.next() {
            seen.append(field.number)
            switch field.number {
            case 1: #expect(try field.int64() == -7)
            case 2: #expect(try field.float() == 1.5)
            case 3: #expect(try field.double() == -2.25)
            case 4:
                var message = try reader.message(field)
                let name = try #require(try message.next())
                #expect(try message.string(name) == "node")
                #expect(message.depth == 1)
            case 5: try reader.appendVarints(field, to: &ints)
            case 6: try reader.appendFixed32(field, to: &floats)
            default: Issue.record("unexpected field \(field.number)")
            }
        }
        #expect(seen == [1, 2, 3, 4, 5, 6])
        #expect(ints.map { Int64(bitPattern: $0) } == [1, 300, -1])
        #expect(floats.map { Float(bitPattern: $0) } == [0.5, 2])
    }

    @Test func unpackedRepeatedFieldsAppendOneByOne() throws {
        var writer = ProtobufWriter()
        writer.int(1, 4)
        writer.int(1, 5)
        var reader = ProtobufReader(writer.bytes)
        var values: [UInt64] = []
        while let field = try reader.next() { try reader.appendVarints(field, to: &values) }
        #expect(values == [4, 5])
    }

    @Test func truncatedInputIsAnErrorAtEveryCut() throws {
        var writer = ProtobufWriter()
        writer.string(1, "hello")
        writer.double(2, 1)
        writer.float(3, 1)
        writer.int(4, 1 << 40)
        let bytes = writer.bytes
        // Cuts at a field boundary leave a valid shorter message; every other cut must be refused.
        let boundaries: Set<Int> = [7, 16, 21]
        for cut in 1..<bytes.count where !boundaries.contains(cut) {
            var reader = ProtobufReader(Array(bytes[0..<cut]))
            #expect(throws: ProtobufError.self) {
                while try reader.next() != nil {}
            }
        }
    }

    @Test func hugeDeclaredLengthIsTruncatedNotAnAllocation() {
        // Field 1, length-delimited, declared length 2^62: must fail before touching memory.
        var reader = ProtobufReader([0x0A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x00])
        #expect(throws: ProtobufError.truncated) { try reader.next() }
    }

    @Test func overlongVarintIsRefused() {
        var reader = ProtobufReader([0x08] + Array(repeating: 0xFF, count: 10) + [0x01])
        #expect(throws: ProtobufError.varintOverflow) { try reader.next() }
    }

    @Test func groupsAndFieldZeroAreRefused() {
        var group = ProtobufReader([0x0B])
        #expect(throws: ProtobufError.unsupportedWireType(3)) { try group.next() }
        var zero = ProtobufReader([0x00, 0x01])
        #expect(throws: ProtobufError.invalidFieldNumber) { try zero.next() }
    }

    @Test func nestingBeyondTheLimitIsRefused() throws {
        var message = ProtobufWriter()
        for _ in 0...ProtobufReader.maximumDepth {
            var outer = ProtobufWriter()
            outer.message(1, message)
            message = outer
        }
        var reader = ProtobufReader(message.bytes)
        #expect(throws: ProtobufError.tooDeep) {
            while let field = try reader.next() {
                reader = try reader.message(field)
            }
        }
    }

    @Test func wrongWireTypeAndInvalidUTF8AreErrors() throws {
        var writer = ProtobufWriter()
        writer.bytes(1, [0xFF, 0xFE])
        var reader = ProtobufReader(writer.bytes)
        let field = try #require(try reader.next())
        #expect(throws: ProtobufError.invalidUTF8(field: 1)) { try reader.string(field) }
        #expect(throws: ProtobufError.wrongWireType(field: 1)) { try field.int64() }
        var packed = ProtobufWriter()
        packed.bytes(2, [1, 2, 3])
        var packedReader = ProtobufReader(packed.bytes)
        let packedField = try #require(try packedReader.next())
        var floats: [UInt32] = []
        #expect(throws: ProtobufError.truncated) { try packedReader.appendFixed32(packedField, to: &floats) }
    }

    @Test func garbageNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0..<64, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            var reader = ProtobufReader(bytes)
            do {
                while let field = try reader.next() {
                    if case .lengthDelimited = field.value { _ = try? reader.message(field) }
                }
            } catch {}
        }
    }
}
