/// A small, bounded reader of the HDF5 structures a legacy Keras `.h5` file keeps its model in: the superblock
/// (versions 0–3), the root group's object header (versions 1 and 2, with continuation blocks) and its attribute
/// messages (versions 1–3), with fixed-length strings stored inline and variable-length strings in a global heap.
/// It reads only what it needs, by offset, with checked arithmetic and a budget of messages and blocks; it never
/// follows anything else (no B-trees, no datasets, no libhdf5).
struct HDF5Walker {
    enum Failure: Error, Equatable {
        case malformed(String)
        case unsupported(String)
    }

    /// An attribute of the root group whose value is a string.
    struct StringAttribute: Equatable {
        var name: String
        var value: [UInt8]
    }

    static let maxMessages = 4096
    static let maxBlocks = 256
    static let maxAttributeValue = 64 << 20
    static let undefined = UInt64.max

    let source: ByteSource
    private var offsetSize = 8
    private var lengthSize = 8
    private var base: UInt64 = 0
    /// Set when the root group keeps attributes in dense storage (a fractal heap), which the walker does not read.
    private(set) var hasDenseAttributes = false

    init(source: ByteSource) {
        self.source = source
    }

    // MARK: - Reading

    private func bytes(_ offset: UInt64, _ count: Int) throws -> [UInt8] {
        let data = try source.read(at: offset, count: count)
        guard data.count == count else { throw Failure.malformed("a structure runs past the end of the file") }
        return data
    }

    private static func uint(_ bytes: [UInt8], _ at: Int, _ width: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<width { value |= UInt64(bytes[at + index]) << UInt64(8 * index) }
        return value
    }

    /// `base + address`, refusing the undefined address and overflow.
    private func absolute(_ address: UInt64) throws -> UInt64 {
        let width = UInt64(offsetSize * 8)
        let undefined = width == 64 ? UInt64.max : (UInt64(1) << width) - 1
        guard address != undefined else { throw Failure.malformed("an undefined address") }
        let (sum, overflow) = base.addingReportingOverflow(address)
        guard !overflow, sum < source.size else { throw Failure.malformed("an address outside the file") }
        return sum
    }

    // MARK: - Walking

    /// The root group's string attributes (names and raw values), in header order.
    mutating func rootStringAttributes() throws -> [StringAttribute] {
        let root = try superblock()
        var result: [StringAttribute] = []
        var visited = Set<UInt64>()
        var blocks: [(start: UInt64, length: UInt64, version: Int)] = []
        var messages = 0

        let first = try bytes(root, 16)
        if first.starts(with: Array("OHDR".utf8)) {
            guard first[4] == 2 else { throw Failure.unsupported("object header version \(first[4])") }
            let flags = first[5]
            var cursor = 6
            if flags & 0x20 != 0 { cursor += 16 }
            if flags & 0x10 != 0 { cursor += 4 }
            let width = 1 << Int(flags & 3)
            let head = try bytes(root, cursor + width)
            let size = Self.uint(head, cursor, width)
            let (start, o1) = root.addingReportingOverflow(UInt64(cursor + width))
            guard !o1 else { throw Failure.malformed("an object header address overflows") }
            // The chunk's size counts its messages; its checksum follows.
            blocks.append((start, size, 2))
        } else {
            guard first[0] == 1 else { throw Failure.unsupported("object header version \(first[0])") }
            let size = Self.uint(first, 8, 4)
            blocks.append((root + 16, size, 1))
        }
        let creationOrder = first.starts(with: Array("OHDR".utf8)) && first[5] & 0x04 != 0

        var index = 0
        while index < blocks.count {
            let block = blocks[index]
            index += 1
            guard visited.insert(block.start).inserted, blocks.count <= Self.maxBlocks else {
                throw Failure.malformed("object header continuations loop or exceed the walker's bound")
            }
            var cursor: UInt64 = 0
            let headerSize: UInt64 = block.version == 1 ? 8 : (creationOrder ? 6 : 4)
            while cursor + headerSize <= block.length {
                messages += 1
                guard messages <= Self.maxMessages else {
                    throw Failure.malformed("more header messages than the bound")
                }
                let head = try bytes(block.start + cursor, Int(headerSize))
                let type = block.version == 1 ? Self.uint(head, 0, 2) : UInt64(head[0])
                let size = block.version == 1 ? Self.uint(head, 2, 2) : Self.uint(head, 1, 2)
                let flags = block.version == 1 ? head[4] : head[3]
                let dataStart = block.start + cursor + headerSize
                guard cursor + headerSize + size <= block.length else {
                    throw Failure.malformed("a header message runs past its block")
                }
                let data = try bytes(dataStart, Int(size))
                switch type {
                case 0x0C where flags & 0x02 == 0:  // attribute, not shared
                    if let attribute = try attribute(data) { result.append(attribute) }
                case 0x10:  // continuation
                    guard data.count >= offsetSize + lengthSize else { throw Failure.malformed("a short continuation") }
                    let target = try absolute(Self.uint(data, 0, offsetSize))
                    let length = Self.uint(data, offsetSize, lengthSize)
                    if block.version == 1 {
                        blocks.append((target, length, 1))
                    } else {
                        guard try bytes(target, 4) == Array("OCHK".utf8), length >= 8 else {
                            throw Failure.malformed("a continuation block without its signature")
                        }
                        blocks.append((target + 4, length - 8, 2))
                    }
                case 0x15:  // attribute info: a fractal heap address means dense attribute storage
                    if data.count >= 2 {
                        let at = data[1] & 0x01 != 0 ? 4 : 2
                        if data.count >= at + offsetSize,
                            Self.uint(data, at, offsetSize)
                                != (offsetSize == 8 ? UInt64.max : (1 << (8 * offsetSize)) - 1)
                        {
                            hasDenseAttributes = true
                        }
                    }
                default: break
                }
                let (next, overflow) = cursor.addingReportingOverflow(headerSize + size)
                guard !overflow else { throw Failure.malformed("a header message size overflows") }
                cursor = next
            }
        }
        return result
    }

    /// The root group's object header address, from a version 0–3 superblock at offset 0.
    private mutating func superblock() throws -> UInt64 {
        let head = try bytes(0, 9)
        guard head.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw Failure.malformed("no HDF5 signature")
        }
        switch head[8] {
        case 0, 1:
            let fixed = try bytes(0, 24)
            offsetSize = Int(fixed[13])
            lengthSize = Int(fixed[14])
            guard [2, 4, 8].contains(offsetSize), [2, 4, 8].contains(lengthSize) else {
                throw Failure.malformed("offset or length sizes the format does not allow")
            }
            var cursor = head[8] == 1 ? 28 : 24
            let addresses = try bytes(UInt64(cursor), 4 * offsetSize + 2 * offsetSize)
            base = Self.uint(addresses, 0, offsetSize)
            // Base, free-space, end-of-file and driver addresses, then the root entry: link name offset, header.
            cursor = 5 * offsetSize
            return try absolute(Self.uint(addresses, cursor, offsetSize))
        case 2, 3:
            let fixed = try bytes(0, 12)
            offsetSize = Int(fixed[9])
            lengthSize = Int(fixed[10])
            guard [2, 4, 8].contains(offsetSize), [2, 4, 8].contains(lengthSize) else {
                throw Failure.malformed("offset or length sizes the format does not allow")
            }
            let addresses = try bytes(12, 4 * offsetSize)
            base = Self.uint(addresses, 0, offsetSize)
            return try absolute(Self.uint(addresses, 3 * offsetSize, offsetSize))
        default:
            throw Failure.unsupported("superblock version \(head[8])")
        }
    }

    /// A string attribute's name and first value; nil for attributes of other types.
    private func attribute(_ data: [UInt8]) throws -> StringAttribute? {
        guard data.count >= 8 else { throw Failure.malformed("a short attribute message") }
        let version = data[0]
        guard (1...3).contains(version) else { throw Failure.unsupported("attribute message version \(version)") }
        if version >= 2, data[1] & 0x03 != 0 { return nil }  // a shared datatype or dataspace: not a plain string
        let nameSize = Int(Self.uint(data, 2, 2))
        let typeSize = Int(Self.uint(data, 4, 2))
        let spaceSize = Int(Self.uint(data, 6, 2))
        func padded(_ n: Int) -> Int { version == 1 ? (n + 7) & ~7 : n }
        var cursor = version == 3 ? 9 : 8
        let nameEnd = cursor + padded(nameSize)
        let typeEnd = nameEnd + padded(typeSize)
        let spaceEnd = typeEnd + padded(spaceSize)
        guard nameSize >= 1, typeSize >= 8, spaceEnd <= data.count else {
            throw Failure.malformed("an attribute message's parts exceed it")
        }
        let nameBytes = data[cursor..<cursor + nameSize].prefix { $0 != 0 }
        let name = String(decoding: nameBytes, as: UTF8.self)
        cursor = nameEnd
        let typeClass = data[cursor] & 0x0F
        let elementSize = Int(Self.uint(data, cursor + 4, 4))
        let value = Array(data[spaceEnd...])
        switch typeClass {
        case 3:  // fixed-length string, inline
            guard elementSize <= value.count else { throw Failure.malformed("attribute \(name) is cut") }
            return StringAttribute(name: name, value: Array(value.prefix(elementSize).prefix { $0 != 0 }))
        case 9 where data[cursor + 1] & 0x0F == 1:  // variable-length string: length, then a global heap id
            guard value.count >= 4 + offsetSize + 4 else { throw Failure.malformed("attribute \(name) is cut") }
            let length = Self.uint(value, 0, 4)
            let collection = try absolute(Self.uint(value, 4, offsetSize))
            let object = Self.uint(value, 4 + offsetSize, 4)
            let bytes = try heapObject(collection: collection, index: object)
            guard UInt64(bytes.count) >= length else { throw Failure.malformed("attribute \(name) is cut") }
            return StringAttribute(name: name, value: Array(bytes.prefix(Int(length))))
        default:
            return nil
        }
    }

    /// Object `index` of the global heap collection at `collection`.
    private func heapObject(collection: UInt64, index: UInt64) throws -> [UInt8] {
        let head = try bytes(collection, 8 + lengthSize)
        guard head.starts(with: Array("GCOL".utf8)) else {
            throw Failure.malformed("a global heap without its signature")
        }
        let size = Self.uint(head, 8, lengthSize)
        let (end, overflow) = collection.addingReportingOverflow(size)
        guard !overflow, end <= source.size else { throw Failure.malformed("a global heap runs past the file") }
        var cursor = collection + UInt64(8 + lengthSize)
        let objectHead = 8 + lengthSize
        for _ in 0..<Self.maxMessages {
            guard cursor + UInt64(objectHead) <= end else { break }
            let header = try bytes(cursor, objectHead)
            let id = Self.uint(header, 0, 2)
            let length = Self.uint(header, 8, lengthSize)
            if id == 0 { break }  // free space ends the objects
            if id == index {
                guard length <= UInt64(Self.maxAttributeValue), cursor + UInt64(objectHead) + length <= end else {
                    throw Failure.malformed("a global heap object too large or past its collection")
                }
                return try bytes(cursor + UInt64(objectHead), Int(length))
            }
            let (padded, o1) = length.addingReportingOverflow(7)
            guard !o1 else { throw Failure.malformed("a global heap object size overflows") }
            let (next, o2) = cursor.addingReportingOverflow(UInt64(objectHead) + (padded & ~7))
            guard !o2 else { throw Failure.malformed("a global heap object size overflows") }
            cursor = next
        }
        throw Failure.malformed("a global heap object that does not exist")
    }
}
