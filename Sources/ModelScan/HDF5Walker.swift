/// A small, bounded reader of the HDF5 structures a legacy Keras `.h5` file keeps its model in: the superblock
/// (versions 0–3), object headers (versions 1 and 2, with continuation blocks) and the root group's attribute
/// messages (versions 1–3). It resolves what libhdf5 would resolve to read those attributes: committed (shared)
/// datatypes, dense attribute storage (the attribute-info message's fractal heap and its version 2 B-tree name
/// index), fixed-length strings inline and variable-length strings in a global heap.
///
/// It reads only what it needs, by offset, with checked arithmetic and budgets of messages, blocks, bytes and
/// B-tree nodes; it never follows anything else (no datasets, no libhdf5). Anything it cannot read is a `Failure`,
/// never a silently skipped attribute: the scanner treats a failure as a high finding (fail closed).
struct HDF5Walker {
    enum Failure: Error, Equatable {
        case malformed(String)
        case unsupported(String)
    }

    /// An attribute of the root group: its name and, when its type is a string, its first value (nil otherwise).
    struct StringAttribute: Equatable {
        var name: String
        var value: [UInt8]?
    }

    static let maxMessages = 4096
    static let maxBlocks = 256
    static let maxMessageBytes = 64 << 20
    static let maxAttributeValue = 64 << 20
    static let maxAttributes = 4096
    static let maxTreeNodes = 1024
    static let maxTreeDepth = 8

    let source: ByteSource
    /// Where the superblock is: 0, or past a user block (512, 1024, 2048, ... bytes), as libhdf5 looks for it.
    let superblockOffset: UInt64
    private var offsetSize = 8
    private var lengthSize = 8
    private var base: UInt64 = 0
    // Budgets spent across the whole walk (root header, committed datatypes, B-tree nodes).
    private var messageCount = 0
    private var blockCount = 0
    private var messageBytes = 0
    private var treeNodes = 0

    init(source: ByteSource, superblockOffset: UInt64 = 0) {
        self.source = source
        self.superblockOffset = superblockOffset
    }

    // MARK: - Reading

    private func bytes(_ offset: UInt64, _ count: Int) throws -> [UInt8] {
        guard count >= 0 else { throw Failure.malformed("a negative size") }
        let data = try source.read(at: offset, count: count)
        guard data.count == count else { throw Failure.malformed("a structure runs past the end of the file") }
        return data
    }

    private static func uint(_ bytes: [UInt8], _ at: Int, _ width: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<width { value |= UInt64(bytes[at + index]) << UInt64(8 * index) }
        return value
    }

    private static func add(_ a: UInt64, _ b: UInt64) throws -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { throw Failure.malformed("an address or size overflows") }
        return sum
    }

    private static func multiply(_ a: UInt64, _ b: UInt64) throws -> UInt64 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        guard !overflow else { throw Failure.malformed("a size overflows") }
        return product
    }

    /// `floor(log2(n))` for n > 0, as libhdf5's `H5VM_log2_gen`.
    private static func log2(_ n: UInt64) -> Int { n == 0 ? 0 : 63 - n.leadingZeroBitCount }

    private func isUndefined(_ address: UInt64) -> Bool {
        offsetSize == 8 ? address == UInt64.max : address == (UInt64(1) << UInt64(8 * offsetSize)) - 1
    }

    /// `base + address`, refusing the undefined address and overflow.
    private func absolute(_ address: UInt64) throws -> UInt64 {
        guard !isUndefined(address) else { throw Failure.malformed("an undefined address") }
        let (sum, overflow) = base.addingReportingOverflow(address)
        guard !overflow, sum < source.size else { throw Failure.malformed("an address outside the file") }
        return sum
    }

    // MARK: - Walking

    /// The root group's attributes (names and string values), compact ones in header order, then dense ones in
    /// name-index order.
    mutating func rootStringAttributes() throws -> [StringAttribute] {
        let root = try superblock()
        var result: [StringAttribute] = []
        var dense: [(heap: UInt64, names: UInt64)] = []
        for message in try headerMessages(at: root) {
            switch message.type {
            case 0x0C:  // attribute
                // A shared attribute message lives in the shared-message heap, which the walker does not read.
                guard message.flags & 0x02 == 0 else { throw Failure.unsupported("a shared attribute message") }
                result.append(try attribute(message.data))
            case 0x15:  // attribute info: a fractal heap address means dense attribute storage
                if let storage = try attributeInfo(message.data) { dense.append(storage) }
            default: break
            }
        }
        for storage in dense {
            result += try denseAttributes(heap: storage.heap, names: storage.names)
        }
        return result
    }

    private struct Message {
        var type: UInt64
        var flags: UInt8
        var data: [UInt8]
    }

    /// Every message of the object header at `address`, following continuation blocks.
    private mutating func headerMessages(at address: UInt64) throws -> [Message] {
        var result: [Message] = []
        var visited = Set<UInt64>()
        var blocks: [(start: UInt64, length: UInt64, version: Int)] = []
        let first = try bytes(address, 16)
        let isVersion2 = first.starts(with: Array("OHDR".utf8))
        if isVersion2 {
            guard first[4] == 2 else { throw Failure.unsupported("object header version \(first[4])") }
            let flags = first[5]
            var cursor = 6
            if flags & 0x20 != 0 { cursor += 16 }
            if flags & 0x10 != 0 { cursor += 4 }
            let width = 1 << Int(flags & 3)
            let head = try bytes(address, cursor + width)
            let size = Self.uint(head, cursor, width)
            // The chunk's size counts its messages; its checksum follows.
            blocks.append((try Self.add(address, UInt64(cursor + width)), size, 2))
        } else {
            guard first[0] == 1 else { throw Failure.unsupported("object header version \(first[0])") }
            blocks.append((try Self.add(address, 16), Self.uint(first, 8, 4), 1))
        }
        let creationOrder = isVersion2 && first[5] & 0x04 != 0

        var index = 0
        while index < blocks.count {
            let block = blocks[index]
            index += 1
            blockCount += 1
            guard visited.insert(block.start).inserted, blockCount <= Self.maxBlocks else {
                throw Failure.malformed("object header continuations loop or exceed the walker's bound")
            }
            var cursor: UInt64 = 0
            let headerSize: UInt64 = block.version == 1 ? 8 : (creationOrder ? 6 : 4)
            while try Self.add(cursor, headerSize) <= block.length {
                messageCount += 1
                guard messageCount <= Self.maxMessages else {
                    throw Failure.malformed("more header messages than the bound")
                }
                let head = try bytes(try Self.add(block.start, cursor), Int(headerSize))
                let type = block.version == 1 ? Self.uint(head, 0, 2) : UInt64(head[0])
                let size = block.version == 1 ? Self.uint(head, 2, 2) : Self.uint(head, 1, 2)
                let flags = block.version == 1 ? head[4] : head[3]
                let dataStart = try Self.add(try Self.add(block.start, cursor), headerSize)
                let next = try Self.add(try Self.add(cursor, headerSize), size)
                guard next <= block.length else { throw Failure.malformed("a header message runs past its block") }
                messageBytes += Int(size)
                guard messageBytes <= Self.maxMessageBytes else {
                    throw Failure.malformed("more header message bytes than the bound")
                }
                let data = try bytes(dataStart, Int(size))
                if type == 0x10 {  // continuation
                    guard data.count >= offsetSize + lengthSize else { throw Failure.malformed("a short continuation") }
                    let target = try absolute(Self.uint(data, 0, offsetSize))
                    let length = Self.uint(data, offsetSize, lengthSize)
                    if block.version == 1 {
                        blocks.append((target, length, 1))
                    } else {
                        guard try bytes(target, 4) == Array("OCHK".utf8), length >= 8 else {
                            throw Failure.malformed("a continuation block without its signature")
                        }
                        blocks.append((try Self.add(target, 4), length - 8, 2))
                    }
                } else {
                    result.append(Message(type: type, flags: flags, data: data))
                }
                cursor = next
            }
        }
        return result
    }

    /// The root group's object header address, from a version 0–3 superblock at `superblockOffset` (addresses are
    /// relative to its base address, which is the superblock's own offset in a file with a user block).
    private mutating func superblock() throws -> UInt64 {
        let head = try bytes(superblockOffset, 9)
        guard head.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw Failure.malformed("no HDF5 signature")
        }
        switch head[8] {
        case 0, 1:
            let fixed = try bytes(superblockOffset, 24)
            offsetSize = Int(fixed[13])
            lengthSize = Int(fixed[14])
            guard [2, 4, 8].contains(offsetSize), [2, 4, 8].contains(lengthSize) else {
                throw Failure.malformed("offset or length sizes the format does not allow")
            }
            var cursor = head[8] == 1 ? 28 : 24
            let addresses = try bytes(try Self.add(superblockOffset, UInt64(cursor)), 6 * offsetSize)
            base = Self.uint(addresses, 0, offsetSize)
            // Base, free-space, end-of-file and driver addresses, then the root entry: link name offset, header.
            cursor = 5 * offsetSize
            return try absolute(Self.uint(addresses, cursor, offsetSize))
        case 2, 3:
            let fixed = try bytes(superblockOffset, 12)
            offsetSize = Int(fixed[9])
            lengthSize = Int(fixed[10])
            guard [2, 4, 8].contains(offsetSize), [2, 4, 8].contains(lengthSize) else {
                throw Failure.malformed("offset or length sizes the format does not allow")
            }
            let addresses = try bytes(try Self.add(superblockOffset, 12), 4 * offsetSize)
            base = Self.uint(addresses, 0, offsetSize)
            return try absolute(Self.uint(addresses, 3 * offsetSize, offsetSize))
        default:
            throw Failure.unsupported("superblock version \(head[8])")
        }
    }

    // MARK: - Attributes

    /// An attribute message: its name and, for a string type (inline or committed), its first value.
    private mutating func attribute(_ data: [UInt8]) throws -> StringAttribute {
        guard data.count >= 8 else { throw Failure.malformed("a short attribute message") }
        let version = data[0]
        guard (1...3).contains(version) else { throw Failure.unsupported("attribute message version \(version)") }
        let flags = version >= 2 ? data[1] : 0
        guard flags & ~0x03 == 0 else { throw Failure.unsupported("attribute message flags \(flags)") }
        // A shared dataspace lives in the shared-message heap, which the walker does not read.
        guard flags & 0x02 == 0 else { throw Failure.unsupported("an attribute with a shared dataspace") }
        let nameSize = Int(Self.uint(data, 2, 2))
        let typeSize = Int(Self.uint(data, 4, 2))
        let spaceSize = Int(Self.uint(data, 6, 2))
        func padded(_ n: Int) -> Int { version == 1 ? (n + 7) & ~7 : n }
        let start = version == 3 ? 9 : 8
        // Each size is at most 65535: no overflow in Int.
        let nameEnd = start + padded(nameSize)
        let typeEnd = nameEnd + padded(typeSize)
        let spaceEnd = typeEnd + padded(spaceSize)
        guard nameSize >= 1, typeSize >= 2, spaceEnd <= data.count else {
            throw Failure.malformed("an attribute message's parts exceed it")
        }
        let nameBytes = data[start..<start + nameSize].prefix { $0 != 0 }
        let name = String(decoding: nameBytes, as: UTF8.self)
        var datatype = Array(data[nameEnd..<nameEnd + typeSize])
        if flags & 0x01 != 0 { datatype = try committedDatatype(datatype) }
        let value = Array(data[spaceEnd...])
        return StringAttribute(name: name, value: try stringValue(datatype: datatype, value: value, name: name))
    }

    /// The first string of an attribute value, nil for a datatype class that is not a string.
    private func stringValue(datatype: [UInt8], value: [UInt8], name: String) throws -> [UInt8]? {
        guard datatype.count >= 8 else { throw Failure.malformed("a short datatype") }
        let typeClass = datatype[0] & 0x0F
        let typeVersion = datatype[0] >> 4
        guard (1...5).contains(typeVersion) else { throw Failure.unsupported("datatype version \(typeVersion)") }
        let elementSize = Self.uint(datatype, 4, 4)
        switch typeClass {
        case 3:  // fixed-length string, inline
            guard elementSize <= UInt64(value.count) else { throw Failure.malformed("attribute \(name) is cut") }
            return Array(value.prefix(Int(elementSize)).prefix { $0 != 0 })
        case 9 where datatype[1] & 0x0F == 1:  // variable-length string: length, then a global heap id
            guard value.count >= 4 + offsetSize + 4 else { throw Failure.malformed("attribute \(name) is cut") }
            let length = Self.uint(value, 0, 4)
            if length == 0 { return [] }
            let collection = try absolute(Self.uint(value, 4, offsetSize))
            let object = Self.uint(value, 4 + offsetSize, 4)
            let bytes = try heapObject(collection: collection, index: object)
            guard UInt64(bytes.count) >= length else { throw Failure.malformed("attribute \(name) is cut") }
            return Array(bytes.prefix(Int(length)))
        case 0...11:
            // Numbers, time, bitfield, opaque, compound, reference, enum, sequence, array, complex: not a string.
            return nil
        default:
            throw Failure.unsupported("datatype class \(typeClass)")
        }
    }

    /// The datatype message of the committed datatype a shared-message encoding points at.
    private mutating func committedDatatype(_ shared: [UInt8]) throws -> [UInt8] {
        guard shared.count >= 2 else { throw Failure.malformed("a short shared datatype") }
        let at: Int
        switch shared[0] {
        case 1: at = 8
        case 2: at = 2
        case 3:
            // Type 2 points at an object header; type 1 at the shared-message heap, which the walker does not read.
            guard shared[1] == 2 else { throw Failure.unsupported("a datatype in the shared-message heap") }
            at = 2
        default: throw Failure.unsupported("shared message version \(shared[0])")
        }
        guard shared.count >= at + offsetSize else { throw Failure.malformed("a short shared datatype") }
        let address = try absolute(Self.uint(shared, at, offsetSize))
        for message in try headerMessages(at: address) where message.type == 0x03 {
            guard message.flags & 0x02 == 0 else { throw Failure.unsupported("a committed datatype that is shared") }
            return message.data
        }
        throw Failure.malformed("a committed datatype without a datatype message")
    }

    /// The fractal heap and name index of dense attribute storage; nil when the attributes are compact.
    private func attributeInfo(_ data: [UInt8]) throws -> (heap: UInt64, names: UInt64)? {
        guard data.count >= 2 else { throw Failure.malformed("a short attribute info message") }
        guard data[0] == 0 else { throw Failure.unsupported("attribute info version \(data[0])") }
        let at = data[1] & 0x01 != 0 ? 4 : 2
        guard data.count >= at + 2 * offsetSize else { throw Failure.malformed("a short attribute info message") }
        let heap = Self.uint(data, at, offsetSize)
        if isUndefined(heap) { return nil }
        return (try absolute(heap), try absolute(Self.uint(data, at + offsetSize, offsetSize)))
    }

    /// The attributes of dense storage: each record of the name index (a version 2 B-tree of type 8) holds the
    /// fractal heap id of one attribute message.
    private mutating func denseAttributes(heap: UInt64, names: UInt64) throws -> [StringAttribute] {
        let fractal = try FractalHeap(walker: self, address: heap)
        var result: [StringAttribute] = []
        for record in try treeRecords(at: names, type: 8) {
            guard record.count >= 9 else { throw Failure.malformed("a short attribute name record") }
            guard record[8] & 0x02 == 0 else { throw Failure.unsupported("a shared attribute message") }
            let message = try fractal.object(Array(record.prefix(8)), walker: self)
            result.append(try attribute(message))
        }
        return result
    }

    // MARK: - Fractal heap

    /// The parts of a fractal heap header needed to find a managed object by its heap id.
    private struct FractalHeap {
        var tableWidth: UInt64
        var startBlock: UInt64
        var maxDirect: UInt64
        var root: UInt64
        var rootRows: Int
        var heapOffsetBytes: Int
        var heapLengthBytes: Int

        init(walker: HDF5Walker, address: UInt64) throws {
            let o = walker.offsetSize
            let l = walker.lengthSize
            let size = 14 + 10 * l + 2 * o + 2 + 2 * l + 2 + 2 + o + 2
            let head = try walker.bytes(address, size)
            guard head.starts(with: Array("FRHP".utf8)) else {
                throw Failure.malformed("a fractal heap without its signature")
            }
            guard head[4] == 0 else { throw Failure.unsupported("fractal heap version \(head[4])") }
            guard HDF5Walker.uint(head, 7, 2) == 0 else { throw Failure.unsupported("a filtered fractal heap") }
            let maxManaged = HDF5Walker.uint(head, 10, 4)
            var cursor = 14 + 10 * l + 2 * o
            tableWidth = HDF5Walker.uint(head, cursor, 2)
            cursor += 2
            startBlock = HDF5Walker.uint(head, cursor, l)
            cursor += l
            maxDirect = HDF5Walker.uint(head, cursor, l)
            cursor += l
            let maxHeapBits = Int(HDF5Walker.uint(head, cursor, 2))
            cursor += 4  // and the starting row count
            let rootAddress = HDF5Walker.uint(head, cursor, o)
            cursor += o
            rootRows = Int(HDF5Walker.uint(head, cursor, 2))
            guard (1...4096).contains(tableWidth), tableWidth.nonzeroBitCount == 1,
                startBlock.nonzeroBitCount == 1, startBlock >= 64, maxDirect.nonzeroBitCount == 1,
                maxDirect >= startBlock, maxDirect <= 1 << 32, (1...64).contains(maxHeapBits), rootRows <= 64,
                maxManaged >= 1
            else { throw Failure.malformed("a fractal heap header with impossible sizes") }
            root = try walker.absolute(rootAddress)
            heapOffsetBytes = (maxHeapBits + 7) / 8
            // As libhdf5: the length field holds min(max direct block size, max managed object size).
            heapLengthBytes = min((HDF5Walker.log2(maxDirect) + 7) / 8, (HDF5Walker.log2(maxManaged) + 7) / 8)
            heapLengthBytes = max(heapLengthBytes, 1)
        }

        /// The bytes of the object with heap id `id` (managed or tiny; huge objects are refused).
        func object(_ id: [UInt8], walker: HDF5Walker) throws -> [UInt8] {
            guard let first = id.first, first >> 6 == 0 else { throw Failure.unsupported("a fractal heap id version") }
            switch (first >> 4) & 0x03 {
            case 0:
                guard id.count >= 1 + heapOffsetBytes + heapLengthBytes else {
                    throw Failure.unsupported("a fractal heap id longer than its record")
                }
                let offset = HDF5Walker.uint(id, 1, heapOffsetBytes)
                let length = HDF5Walker.uint(id, 1 + heapOffsetBytes, heapLengthBytes)
                guard length >= 1, length <= UInt64(HDF5Walker.maxAttributeValue) else {
                    throw Failure.malformed("a fractal heap object of impossible length")
                }
                let block = try directBlock(containing: offset, walker: walker)
                let within = offset - block.offset
                guard try HDF5Walker.add(within, length) <= block.size else {
                    throw Failure.malformed("a fractal heap object past its block")
                }
                return try walker.bytes(try HDF5Walker.add(block.address, within), Int(length))
            case 2:
                let length = Int(first & 0x0F) + 1
                guard id.count >= 1 + length else { throw Failure.malformed("a tiny heap object past its id") }
                return Array(id[1..<1 + length])
            default:
                throw Failure.unsupported("an attribute stored as a huge fractal heap object")
            }
        }

        /// The direct block holding heap offset `offset`: the root direct block, or a direct child of the root
        /// indirect block (nested indirect blocks are refused).
        private func directBlock(
            containing offset: UInt64, walker: HDF5Walker
        ) throws -> (
            address: UInt64, offset: UInt64, size: UInt64
        ) {
            let address: UInt64
            let blockOffset: UInt64
            let size: UInt64
            if rootRows == 0 {
                guard offset < startBlock else { throw Failure.malformed("a heap offset past the root block") }
                (address, blockOffset, size) = (root, 0, startBlock)
            } else {
                var rowStart: UInt64 = 0
                var found: (UInt64, UInt64, UInt64)?
                for row in 0..<rootRows {
                    let rowBlock = row <= 1 ? startBlock : try HDF5Walker.multiply(startBlock, UInt64(1) << (row - 1))
                    let rowBytes = try HDF5Walker.multiply(rowBlock, tableWidth)
                    if offset < (try HDF5Walker.add(rowStart, rowBytes)) {
                        guard rowBlock <= maxDirect else {
                            throw Failure.unsupported("a fractal heap object in a nested indirect block")
                        }
                        let column = (offset - rowStart) / rowBlock
                        let entry = UInt64(row) * tableWidth + column
                        let o = walker.offsetSize
                        let head = try walker.bytes(root, 5 + o + heapOffsetBytes)
                        guard head.starts(with: Array("FHIB".utf8)) else {
                            throw Failure.malformed("a fractal heap indirect block without its signature")
                        }
                        let at = try HDF5Walker.add(
                            UInt64(5 + o + heapOffsetBytes), try HDF5Walker.multiply(entry, UInt64(o)))
                        let pointer = try walker.bytes(try HDF5Walker.add(root, at), o)
                        let child = try walker.absolute(HDF5Walker.uint(pointer, 0, o))
                        found = (child, rowStart + column * rowBlock, rowBlock)
                        break
                    }
                    rowStart = try HDF5Walker.add(rowStart, rowBytes)
                }
                guard let found else { throw Failure.malformed("a heap offset past the root block") }
                (address, blockOffset, size) = found
            }
            let o = walker.offsetSize
            let head = try walker.bytes(address, 5 + o + heapOffsetBytes)
            guard head.starts(with: Array("FHDB".utf8)), HDF5Walker.uint(head, 5 + o, heapOffsetBytes) == blockOffset
            else {
                throw Failure.malformed("a fractal heap direct block without its signature or at another offset")
            }
            return (address, blockOffset, size)
        }
    }

    // MARK: - Version 2 B-tree

    /// Every record of the version 2 B-tree at `address`, whose record type must be `type`.
    private mutating func treeRecords(at address: UInt64, type: UInt8) throws -> [[UInt8]] {
        let o = offsetSize
        let head = try bytes(address, 18 + o + lengthSize)
        guard head.starts(with: Array("BTHD".utf8)), head[4] == 0 else {
            throw Failure.malformed("a B-tree header without its signature or of an unknown version")
        }
        guard head[5] == type else { throw Failure.unsupported("a B-tree of record type \(head[5])") }
        let nodeSize = Self.uint(head, 6, 4)
        let recordSize = Int(Self.uint(head, 10, 2))
        let depth = Int(Self.uint(head, 12, 2))
        let root = Self.uint(head, 16, o)
        let rootRecords = Int(Self.uint(head, 16 + o, 2))
        guard (64...(1 << 20)).contains(nodeSize), recordSize >= 9, depth <= Self.maxTreeDepth else {
            throw Failure.unsupported("a B-tree with sizes outside the walker's bounds")
        }
        if isUndefined(root) { return [] }
        // As libhdf5's H5B2__hdr_init: the widths of the child pointers' record counts at each depth.
        var maxRecords = [(Int(nodeSize) - 10) / recordSize]
        var cumulative = [UInt64(maxRecords[0])]
        var cumulativeBytes = [0]
        let countBytes = Self.log2(UInt64(max(maxRecords[0], 1))) / 8 + 1
        if depth > 0 {
            for level in 1...depth {
                let pointer = o + countBytes + (level > 1 ? cumulativeBytes[level - 1] : 0)
                let count = (Int(nodeSize) - (10 + pointer)) / (recordSize + pointer)
                guard count >= 1 else { throw Failure.malformed("a B-tree node too small for its records") }
                maxRecords.append(count)
                let total = try Self.add(
                    try Self.multiply(UInt64(count + 1), cumulative[level - 1]), UInt64(count))
                cumulative.append(total)
                cumulativeBytes.append(Self.log2(total) / 8 + 1)
            }
        }
        var records: [[UInt8]] = []
        var pending: [(address: UInt64, count: Int, depth: Int)] = [(try absolute(root), rootRecords, depth)]
        while let node = pending.popLast() {
            treeNodes += 1
            guard treeNodes <= Self.maxTreeNodes else { throw Failure.malformed("more B-tree nodes than the bound") }
            guard node.count <= maxRecords[node.depth] else {
                throw Failure.malformed("a B-tree node with more records than fit")
            }
            let pointerSize = o + countBytes + (node.depth > 1 ? cumulativeBytes[node.depth - 1] : 0)
            let pointers = node.depth > 0 ? node.count + 1 : 0
            let data = try bytes(node.address, 6 + node.count * recordSize + pointers * pointerSize)
            let signature = node.depth > 0 ? "BTIN" : "BTLF"
            guard data.starts(with: Array(signature.utf8)), data[4] == 0, data[5] == type else {
                throw Failure.malformed("a B-tree node without its signature")
            }
            for index in 0..<node.count {
                records.append(Array(data[6 + index * recordSize..<6 + (index + 1) * recordSize]))
                guard records.count <= Self.maxAttributes else {
                    throw Failure.malformed("more attributes than the bound")
                }
            }
            var cursor = 6 + node.count * recordSize
            for _ in 0..<pointers {
                let child = try absolute(Self.uint(data, cursor, o))
                let count = Self.uint(data, cursor + o, countBytes)
                guard count <= UInt64(maxRecords[node.depth - 1]) else {
                    throw Failure.malformed("a B-tree node with more records than fit")
                }
                pending.append((child, Int(count), node.depth - 1))
                cursor += pointerSize
            }
        }
        return records
    }

    // MARK: - Global heap

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
            guard try Self.add(cursor, UInt64(objectHead)) <= end else { break }
            let header = try bytes(cursor, objectHead)
            let id = Self.uint(header, 0, 2)
            let length = Self.uint(header, 8, lengthSize)
            if id == 0 { break }  // free space ends the objects
            if id == index {
                guard length <= UInt64(Self.maxAttributeValue),
                    try Self.add(cursor, UInt64(objectHead) + length) <= end
                else {
                    throw Failure.malformed("a global heap object too large or past its collection")
                }
                return try bytes(cursor + UInt64(objectHead), Int(length))
            }
            let padded = try Self.add(length, 7) & ~7
            cursor = try Self.add(cursor, try Self.add(UInt64(objectHead), padded))
        }
        throw Failure.malformed("a global heap object that does not exist")
    }
}
