/// A bytes payload the scanner passed over (a `BINBYTES`, a `BYTEARRAY8`, a joblib array's bytes): its length and
/// where it lies, so that the integers it holds, read as little-endian int32 or int64, can be visited later, only
/// for the few payloads that need it. Their range and order check a scipy sparse matrix's index arrays as scipy's
/// `check_format` does; every other payload is skipped unread, as before.
///
/// A class: a `PickleValue` holding it stays one pointer wide, and the integers are visited at most once.
final class ByteFacts {
    /// The payload's length in bytes.
    let length: UInt64
    private let source: ByteSource?
    private let offset: UInt64
    private var visited: (int32: IntegerRun?, int64: IntegerRun?)?
    /// Whether the pickle referenced the payload a second time (a memo read or `DUP` of a value holding it).
    var referencedAgain = false
    /// Whether an array over the payload is part of a sparse matrix whose state was checked.
    var checkedInSparseState = false

    /// Longest payload whose integers are visited: an index array past it (64 Mi int32 entries) is not checked, so a
    /// sparse matrix holding it is high.
    static let maxVisited: UInt64 = 256 << 20

    /// A payload of `length` bytes at `offset` in `source`.
    init(length: UInt64, source: ByteSource, offset: UInt64) {
        self.length = length
        self.source = source
        self.offset = offset
    }

    /// A payload whose integers were already visited.
    init(length: UInt64, int32: IntegerRun?, int64: IntegerRun?) {
        self.length = length
        source = nil
        offset = 0
        visited = (int32, int64)
    }

    /// The payload itself when it is at most `maximum` bytes long and can be read (a date's state), else nil.
    func contents(upTo maximum: Int) -> [UInt8]? {
        guard let source, length <= UInt64(maximum),
            let bytes = try? source.read(at: offset, count: Int(length)), bytes.count == Int(length)
        else { return nil }
        return bytes
    }

    /// The payload's integers read with `width` bytes each (4 or 8), or nil when its length is no multiple of
    /// `width`, it is longer than `maxVisited`, or it cannot be read.
    func run(width: UInt64) -> IntegerRun? {
        if visited == nil { visited = visit() }
        switch width {
        case 4: return visited?.int32
        case 8: return visited?.int64
        default: return nil
        }
    }

    private func visit() -> (IntegerRun?, IntegerRun?) {
        guard let source, length <= Self.maxVisited else { return (nil, nil) }
        var builder = ByteFactsBuilder(length: length)
        var done: UInt64 = 0
        while done < length {
            let count = Int(min(UInt64(ByteStream.chunkSize), length - done))
            guard let chunk = try? source.read(at: offset + done, count: count), chunk.count == count else {
                return (nil, nil)
            }
            chunk.withUnsafeBytes { builder.add($0) }
            done += UInt64(count)
        }
        let facts = builder.finish()
        return (facts.run(width: 4), facts.run(width: 8))
    }
}

/// The range and order of a sequence of integers.
struct IntegerRun: Equatable {
    var count: UInt64 = 0
    var minimum: Int64 = .max
    var maximum: Int64 = .min
    var first: Int64 = 0
    var last: Int64 = 0
    /// Whether every integer is at least the one before it.
    var nondecreasing = true

    mutating func add(_ value: Int64) {
        if count == 0 {
            first = value
        } else if value < last {
            nondecreasing = false
        }
        last = value
        minimum = Swift.min(minimum, value)
        maximum = Swift.max(maximum, value)
        count += 1
    }
}

/// Visits a payload's integers, handed over in chunks of any size.
struct ByteFactsBuilder {
    private let length: UInt64
    private var int32 = IntegerRun()
    private var int64 = IntegerRun()
    /// Bytes of an integer that the previous chunk ended inside, per width.
    private var carry32: [UInt8] = []
    private var carry64: [UInt8] = []

    /// A builder for a payload of `length` bytes.
    init(length: UInt64) {
        self.length = length
        carry32.reserveCapacity(4)
        carry64.reserveCapacity(8)
    }

    mutating func add(_ chunk: UnsafeRawBufferPointer) {
        Self.add(chunk, as: Int32.self, carry: &carry32, into: &int32)
        Self.add(chunk, as: Int64.self, carry: &carry64, into: &int64)
    }

    private static func add<T: FixedWidthInteger & SignedInteger>(
        _ chunk: UnsafeRawBufferPointer, as type: T.Type, carry: inout [UInt8], into run: inout IntegerRun
    ) {
        let width = MemoryLayout<T>.size
        var start = 0
        if !carry.isEmpty {
            let take = Swift.min(width - carry.count, chunk.count)
            carry.append(contentsOf: chunk[0..<take])
            start = take
            guard carry.count == width else { return }
            let value = carry.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(as: T.self)) }
            run.add(Int64(value))
            carry.removeAll(keepingCapacity: true)
        }
        var index = start
        while index + width <= chunk.count {
            run.add(Int64(T(littleEndian: chunk.loadUnaligned(fromByteOffset: index, as: T.self))))
            index += width
        }
        if index < chunk.count { carry.append(contentsOf: chunk[index...]) }
    }

    /// The facts: integer runs only for widths that divide the payload's length.
    func finish() -> ByteFacts {
        ByteFacts(
            length: length,
            int32: length % 4 == 0 && int32.count == length / 4 ? int32 : nil,
            int64: length % 8 == 0 && int64.count == length / 8 ? int64 : nil)
    }
}
